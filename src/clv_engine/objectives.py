"""The revenue objectives (``model.objective``): how the revenue over the horizon is learnt,
predicted and explained. One class each, over :class:`Objective`; the backtest decides which
ships (experiments/RESULTS.md).

- ``tweedie``: one CatBoost regressor with a Tweedie loss (log link; a point mass at zero
  and a skewed positive part, the shape of customer revenue);
- ``two_part``: P(buy) from a CatBoost classifier x E[revenue | buy] from a CatBoost
  regressor on log1p(revenue) of buyers with Duan's smearing factor;
- ``log_rmse``: CatBoost RMSE on log1p(revenue), back-transformed and rescaled so the
  out-of-sample total matches.

An objective fits the model's revenue part through :meth:`CLVModel.fit_part` (the folds,
the warm start, the BTYD offset and the progress lines are the model's), and says on which
scale its boosting starts from the BTYD forecast and how its SHAP values become log-scale
contributions and a starting forecast (:mod:`clv_engine.explain`). A new objective is one
class here, registered in :data:`OBJECTIVES` and named in params (``model.objective``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import polars as pl
from catboost import Pool
from scipy import special

from .baselines import btyd_forecast
from .boosting import shap_values, share_among

if TYPE_CHECKING:  # the model dispatches to this module
    from .model import CLVModel

__all__ = ["OBJECTIVES", "Fold", "Objective", "objective"]

_OFFSET_FLOOR = 0.01  # currency: the smallest BTYD forecast the Tweedie log offset takes
_TINY = 1e-9  # a spend below this is no spend (its log would be -inf)


@dataclass(frozen=True)
class Fold:
    """The rows a revenue part learns from: ``train`` (and, to stop early on, ``test``) of
    ``data``, with the revenue ``y`` and whether each row ``bought``; ``trees``: how many
    (None: early stopping on ``test`` decides)."""

    data: pl.DataFrame
    y: np.ndarray
    bought: np.ndarray
    train: np.ndarray
    test: np.ndarray | None
    trees: int | None = None


class Objective(ABC):
    """The revenue part of a :class:`CLVModel`."""

    name = ""
    #: Whether the out-of-sample total is rescaled to the actual one (``CLVModel.scale_``).
    rescaled = False

    @abstractmethod
    def fit(self, model: CLVModel, fold: Fold) -> Any:
        """The fitted revenue part (what ``CLVModel.value_model_`` holds)."""

    @abstractmethod
    def predict(self, model: CLVModel, value_model: Any, frame: pl.DataFrame) -> np.ndarray:
        """Expected revenue of ``frame``'s rows (before the model's clip, scale and level)."""

    @abstractmethod
    def contributions(self, model: CLVModel, rows: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Per customer, the features' contributions on the log scale of the forecast, and the
        forecast with every contribution at 0 (currency, before the scale and level)."""

    def offset(self, frame: pl.DataFrame, part: str) -> np.ndarray:
        """The BTYD forecast of ``frame``'s rows on the scale ``part``'s boosting starts from
        (``model.baseline``): here the revenue regressor's."""
        return self.log_start(btyd_forecast(frame))

    def log_start(self, btyd: np.ndarray) -> np.ndarray:
        """A BTYD amount on the log scale a regressor boosts from: log(1 + amount)."""
        return cast(np.ndarray, np.log1p(np.maximum(btyd, 0.0)))

    def trees(self, value_model: Any) -> int:
        """How many trees the revenue part has."""
        return int(value_model.tree_count_)

    def boosted(self, value_model: Any) -> bool:
        """Whether the revenue part is made of trees (the fallback's is a constant: no SHAP)."""
        return hasattr(value_model, "get_feature_importance")

    def part(self, value_model: Any, name: str) -> Any:
        """A named part of a composite revenue model (two_part's ``clf`` and ``spend``)."""
        raise ValueError(f"the {self.name} objective has no part {name!r}")

    def boosters(self, model: CLVModel, rows: pl.DataFrame) -> list[tuple[Any, Pool, str]]:
        """Each boosted model of the revenue part, the pool it predicts ``rows`` from, and a
        note that names it (SHAP interactions)."""
        return [(model.value_model_, model.value_pool(rows), "")]


class _Regressor(Objective):
    """One regressor on a transformed revenue: its SHAP values are the contributions."""

    @abstractmethod
    def from_log(self, log_value: np.ndarray) -> np.ndarray:
        """A revenue from the regressor's raw scale."""

    def contributions(self, model: CLVModel, rows: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        values = shap_values(model.value_model_, model.value_pool(rows))
        offset = model.value_offset(rows)
        base_log = values[:, -1] + (offset if offset is not None else 0.0)
        return values[:, :-1], self.from_log(base_log)


class Tweedie(_Regressor):
    name = "tweedie"

    def fit(self, model: CLVModel, fold: Fold) -> Any:
        loss = f"Tweedie:variance_power={model.params.tweedie_variance_power}"
        return model.fit_part("regressor", loss, fold.data, fold.y, fold.train, fold.test, fold.trees)

    def predict(self, model: CLVModel, value_model: Any, frame: pl.DataFrame) -> np.ndarray:
        return np.asarray(value_model.predict(model.value_pool(frame)))

    def log_start(self, btyd: np.ndarray) -> np.ndarray:
        return cast(np.ndarray, np.log(np.maximum(btyd, _OFFSET_FLOOR)))

    def from_log(self, log_value: np.ndarray) -> np.ndarray:
        return cast(np.ndarray, np.exp(log_value))


class LogRmse(_Regressor):
    name = "log_rmse"
    rescaled = True

    def fit(self, model: CLVModel, fold: Fold) -> Any:
        return model.fit_part(
            "regressor", "RMSE", fold.data, np.log1p(fold.y), fold.train, fold.test, fold.trees
        )

    def predict(self, model: CLVModel, value_model: Any, frame: pl.DataFrame) -> np.ndarray:
        return np.asarray(np.expm1(value_model.predict(model.value_pool(frame))))

    def from_log(self, log_value: np.ndarray) -> np.ndarray:
        # log(1 + revenue), clipped at 0 like the forecast itself.
        return cast(np.ndarray, np.maximum(np.expm1(log_value), 0.0))


class TwoPart(Objective):
    """(classifier, spend regressor, smearing factor): P(buy) x E[revenue | buy]."""

    name = "two_part"

    def fit(self, model: CLVModel, fold: Fold) -> Any:
        bought = fold.bought
        buyers_train = fold.train[bought[fold.train] == 1]
        buyers_test = None if fold.test is None else fold.test[bought[fold.test] == 1]
        target = np.log1p(fold.y)
        spend = model.fit_part(
            "regressor", "RMSE", fold.data, target, buyers_train, buyers_test, fold.trees, part="spend"
        )
        fitted = spend.predict(model.spend_pool(fold.data[buyers_train]))
        # Duan's smearing: E[1 + y | buy] = exp(f) * mean(exp(residual)).
        smear = float(np.mean(np.exp(target[buyers_train] - fitted)))
        clf = model.fit_part(
            "classifier", "Logloss", fold.data, bought, fold.train, fold.test, fold.trees, part="clf"
        )
        return (clf, spend, smear)

    def predict(self, model: CLVModel, value_model: Any, frame: pl.DataFrame) -> np.ndarray:
        clf, spend, smear = value_model
        given_buy = np.clip(np.exp(spend.predict(model.spend_pool(frame))) * smear - 1.0, 0.0, None)
        return cast(np.ndarray, model.p_buy(clf, frame) * given_buy)

    def offset(self, frame: pl.DataFrame, part: str) -> np.ndarray:
        if part == "spend":  # the spend regressor's start: BTYD's expected spend
            return self.log_start(btyd_forecast(frame, "btyd_expected_spend"))
        return super().offset(frame, part)

    def trees(self, value_model: Any) -> int:
        return int(value_model[1].tree_count_)

    def boosted(self, value_model: Any) -> bool:
        parts = value_model[:2] if isinstance(value_model, tuple) else (value_model,)
        boosted = super().boosted
        return all(boosted(part) for part in parts)

    def part(self, value_model: Any, name: str) -> Any:
        if name not in ("clf", "spend"):
            return super().part(value_model, name)
        return value_model[0 if name == "clf" else 1]

    def boosters(self, model: CLVModel, rows: pl.DataFrame) -> list[tuple[Any, Pool, str]]:
        classifier, spend, _ = model.value_model_
        return [
            (classifier, model.buy_pool(rows), " (purchase model)"),
            (spend, model.spend_pool(rows), " (spend model)"),
        ]

    def contributions(self, model: CLVModel, rows: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Log-scale contributions to P(buy) x E[revenue | buy].

        Each part's exact TreeSHAP values live on its own scale (log-odds for the classifier,
        log(1 + spend) for the spend model). Each part's change on the log scale of the
        forecast, log p - log p0 and log s - log s0 (0 = every contribution at 0), is shared
        among the features in proportion to that part's SHAP values; the two shares add up.
        """
        classifier, spend, smear = model.value_model_
        buy = shap_values(classifier, model.buy_pool(rows))
        base_logit = buy[:, -1]
        p, p0 = special.expit(base_logit + buy[:, :-1].sum(axis=1)), special.expit(base_logit)
        values = shap_values(spend, model.spend_pool(rows))
        offset = model.spend_offset(rows)
        base = values[:, -1] + (offset if offset is not None else 0.0)
        s = np.maximum(np.exp(base + values[:, :-1].sum(axis=1)) * smear - 1.0, _TINY)
        s0 = np.maximum(np.exp(base) * smear - 1.0, _TINY)
        shap = share_among(buy[:, :-1], np.log(p) - np.log(p0)) + share_among(
            values[:, :-1], np.log(s) - np.log(s0)
        )
        return np.round(shap, 12), p0 * np.where(s0 > _TINY, s0, 0.0)


#: Every objective by its name in params (``model.objective``).
OBJECTIVES: dict[str, Objective] = {o.name: o for o in (Tweedie(), TwoPart(), LogRmse())}


def objective(name: str) -> Objective:
    """The objective ``model.objective`` names."""
    return OBJECTIVES[name]
