"""The CatBoost spend model: features at a cutoff -> expected revenue over the horizon.

Estimator conventions follow scikit-learn: ``__init__`` stores parameters, ``fit``
learns and returns ``self``, learned state ends in ``_``. Frames go in (polars), numpy
arrays come out. Predictions are never negative.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from catboost import CatBoostRegressor, Pool

__all__ = ["CatBoostSpendModel", "ModelConfig"]


@dataclass(frozen=True)
class ModelConfig:
    """CatBoost knobs; ``loss`` is any CatBoost regression loss string."""

    loss: str = "Tweedie:variance_power=1.5"
    iterations: int = 1000
    learning_rate: float = 0.05
    depth: int = 6
    l2_leaf_reg: float = 3.0
    early_stopping_rounds: int = 100
    thread_count: int = 2
    seed: int = 42


class CatBoostSpendModel:
    """Gradient-boosted trees on the customer table, label = revenue in the horizon."""

    def __init__(self, features: list[str], categorical: list[str], config: ModelConfig) -> None:
        self.features = features
        self.categorical = categorical
        self.config = config

    def _pool(self, frame: pl.DataFrame, label: str | None = None) -> Pool:
        data = frame.select(self.features).to_pandas()
        for name in self.categorical:
            data[name] = data[name].astype(str)
        y = frame[label].to_numpy() if label is not None else None
        return Pool(data, label=y, cat_features=self.categorical)

    def fit(self, train: pl.DataFrame, valid: pl.DataFrame | None = None, label: str = "label_revenue"):
        c = self.config
        self.model_ = CatBoostRegressor(
            loss_function=c.loss,
            iterations=c.iterations,
            learning_rate=c.learning_rate,
            depth=c.depth,
            l2_leaf_reg=c.l2_leaf_reg,
            random_seed=c.seed,
            thread_count=c.thread_count,
            allow_writing_files=False,
            verbose=False,
        )
        eval_set = self._pool(valid, label) if valid is not None else None
        self.model_.fit(
            self._pool(train, label),
            eval_set=eval_set,
            early_stopping_rounds=c.early_stopping_rounds if eval_set is not None else None,
            use_best_model=eval_set is not None,
        )
        return self

    def predict(self, frame: pl.DataFrame) -> np.ndarray:
        # For Tweedie/Poisson CatBoost already returns the mean on the revenue scale.
        raw = self.model_.predict(self._pool(frame))
        return np.clip(np.asarray(raw, dtype=np.float64), 0.0, None)
