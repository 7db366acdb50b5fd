"""CatBoost models: pools, seeded fits (continued from a champion's trees), SHAP values.

Everything here is about one boosted model; what the models mean (the revenue objective,
the purchase classifier, the level) is :mod:`clv_engine.objectives` and
:class:`clv_engine.model.CLVModel`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, cast

import numpy as np
import polars as pl
from catboost import CatBoostClassifier, CatBoostRegressor, Pool, sum_models

from .params import ModelParams

__all__ = [
    "ConstantModel",
    "fit_catboost",
    "make_pool",
    "predict_catboost",
    "shap_values",
    "share_among",
    "tweedie_regressor",
]

_LOG_EVERY = 200  # CatBoost iterations between progress lines


class _LineLog:
    """A file-like sink for CatBoost's log that hands each complete line to ``progress``."""

    def __init__(self, progress: Callable[[str], None], prefix: str) -> None:
        self.progress = progress
        self.prefix = prefix
        self.pending = ""

    def write(self, text: str) -> None:
        self.pending += text
        while "\n" in self.pending:
            line, self.pending = self.pending.split("\n", 1)
            if line.strip():
                self.progress(f"{self.prefix}{' '.join(line.split())}")

    def flush(self) -> None:
        pass


#: A pool to predict from (no label) of up to this many rows is built from Python lists (under
#: 1 ms for one customer, where going through pandas takes about 4 ms); others through pandas,
#: which is faster in bulk (and keeps a training label's bits: lists would round it to float32).
LIST_POOL_ROWS = 256


def make_pool(
    frame: pl.DataFrame,
    features: list[str],
    categorical: list[str],
    label: np.ndarray | None = None,
    offset: np.ndarray | None = None,
) -> Pool:
    """``frame``'s ``features`` as a CatBoost pool: numbers as floats (null as NaN), the
    ``categorical`` columns as text; the same values whichever way it is built."""
    data = frame.select(features)
    if label is None and 0 < data.height <= LIST_POOL_ROWS:
        text = [name in categorical for name in features]
        return Pool(
            [
                [
                    str(v) if is_text else math.nan if v is None else float(v)
                    for v, is_text in zip(row, text, strict=True)
                ]
                for row in data.rows()
            ],
            cat_features=[features.index(name) for name in categorical],
            baseline=offset,
            feature_names=list(features),
        )
    table = data.to_pandas()
    for name in categorical:
        table[name] = table[name].astype(str)
    return Pool(table, label=label, cat_features=categorical, baseline=offset)


class ConstantModel:
    """Stands in for CatBoost when there is nothing to learn: every target is the same.

    It predicts that constant on CatBoost's own prediction scale (the revenue for Tweedie,
    the transformed target for RMSE, the class for a classifier), whatever the features.
    """

    tree_count_ = 0

    def __init__(self, kind: str, value: float) -> None:
        self.kind = kind
        self.value = value

    def predict(self, pool: Pool) -> np.ndarray:
        return np.full(pool.num_row(), self.value)

    def predict_proba(self, pool: Pool) -> np.ndarray:
        p = np.full(pool.num_row(), self.value)
        return np.column_stack([1 - p, p])


def fit_catboost(
    kind: str,
    loss: str,
    train: Pool,
    params: ModelParams,
    seed: int,
    iterations: int,
    valid: Pool | None = None,
    progress: Callable[[str], None] | None = None,
    label: str = "",
    start: CatBoostRegressor | CatBoostClassifier | ConstantModel | None = None,
) -> CatBoostRegressor | CatBoostClassifier | ConstantModel:
    """One seeded CatBoost model; early stopping when ``valid`` is given.

    With ``progress``, CatBoost's loss every 200 iterations goes there, prefixed by ``label``.

    When every training target is equal (nobody bought in any training horizon) there is
    nothing to learn and a :class:`ConstantModel` is returned instead of CatBoost's error.

    ``start`` (``model.update: warm``): a fitted model of the same kind and loss to continue.
    The new trees learn from its predictions (each pool's baseline becomes ``start``'s raw
    prediction, offset included) and the result is ``start``'s trees followed by them, one
    model (:func:`_continued`). CatBoost's own ``init_model`` refuses a pool with a
    baseline, which the BTYD offset needs.
    """
    target = np.asarray(train.get_label(), dtype=float)
    if target.size == 0 or np.ptp(target) == 0:
        return ConstantModel(kind, float(target[0]) if target.size else 0.0)
    if isinstance(start, ConstantModel):
        start = None  # nothing to continue: a constant has no trees
    if start is not None:
        for pool in (train, valid):
            if pool is not None:
                pool.set_baseline(start.predict(pool, prediction_type="RawFormulaVal"))
    cls = CatBoostClassifier if kind == "classifier" else CatBoostRegressor
    model = cls(
        loss_function=loss,
        iterations=iterations,
        learning_rate=params.buy_learning_rate if kind == "classifier" else params.learning_rate,
        depth=params.depth,
        l2_leaf_reg=params.l2_leaf_reg,
        one_hot_max_size=params.one_hot_max_size,
        random_seed=seed,
        thread_count=params.thread_count,
        allow_writing_files=False,
        verbose=False,
    )
    model.fit(
        train,
        eval_set=valid,
        early_stopping_rounds=params.early_stopping_rounds if valid is not None else None,
        use_best_model=valid is not None,
        # CatBoost keeps its log settings in the saved model: always the same settings, so
        # that the bytes do not depend on whether anyone is watching.
        verbose=_LOG_EVERY,
        log_cout=_LineLog(progress or (lambda _line: None), f"{label}: " if label else ""),
    )
    _drop_stamps(model.get_metadata())
    return model if start is None else _continued(start, model, cls)


#: What CatBoost stamps a model with that the data and seed do not decide.
_STAMPS = ("model_guid", "train_finish_time")


def _drop_stamps(metadata: Any) -> None:
    """Drop the random guid and the training time, so that the same data and seed give the same bytes."""
    for key in _STAMPS:
        if key in metadata:
            del metadata[key]


def _continued(start: Any, added: Any, cls: type[Any]) -> Any:
    """One model of class ``cls``: ``start``'s trees, then ``added``'s (fitted on its predictions).

    ``catboost.sum_models`` adds the raw predictions; its result is a bare model whose
    metadata keeps each part's under ``model0:`` and ``model1:``. The merged model keeps
    ``added``'s training settings (the loss, which decides what ``predict`` returns) and
    no stamp (:func:`_drop_stamps`).
    """
    summed = sum_models([start, added])
    metadata = summed.get_metadata()
    for key in list(metadata.keys()):
        part, _, name = key.partition(":")
        if name:  # a part's entry: added's settings become the model's own
            if part == "model1":
                metadata[name] = metadata[key]
            del metadata[key]
    _drop_stamps(metadata)
    return cls(**added.get_params()).load_model(blob=summed._serialize_model())


def tweedie_regressor(
    train: pl.DataFrame,
    features: list[str],
    categorical: list[str],
    params: ModelParams,
    seed: int,
    iterations: int,
) -> Any:
    """A plain Tweedie regressor on label_revenue (the window search's small model)."""
    train_pool = make_pool(train, features, categorical, train["label_revenue"].to_numpy())
    loss = f"Tweedie:variance_power={params.tweedie_variance_power}"
    return fit_catboost("regressor", loss, train_pool, params, seed, iterations)


def predict_catboost(
    model: Any, frame: pl.DataFrame, features: list[str], categorical: list[str]
) -> np.ndarray:
    """Predictions of a regressor on the revenue scale, never negative."""
    return cast(
        np.ndarray,
        np.clip(np.asarray(model.predict(make_pool(frame, features, categorical)), dtype=float), 0.0, None),
    )


def shap_values(model: Any, data: Pool) -> np.ndarray:
    """TreeSHAP values of ``model`` on ``data``: a column per feature, then the expected value.

    Rounded to 12 decimals (log scale): far below any visible effect. CatBoost's SHAP values
    were measured bit-identical run to run; run-to-run differences came from grouped sums,
    which clv_engine.aggregate now makes deterministic.
    """
    return cast(np.ndarray, np.round(model.get_feature_importance(data, type="ShapValues"), 12))


def share_among(contributions: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """``amount`` (per row) shared among the columns in proportion to ``contributions``."""
    total = contributions.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        weights = np.where(np.abs(total)[:, None] > 1e-12, contributions / total[:, None], 0.0)
    return cast(np.ndarray, weights * amount[:, None])
