"""The forecast when the log is too short to train on: the textbook models, said as such.

A training row needs a cutoff whose horizon the log has realised and whose lookback lies
inside the log. A young log has none, and the CLV model cannot be fitted; the forecast
still ships. :class:`BaselineForecaster` gives every customer the BG/NBD + Gamma-Gamma
forecast fitted at ``as_of`` or, where BG/NBD could not be fitted (no repeat buyer yet),
the naive spend rate (lifetime net revenue per day of tenure x horizon days). Its
``source`` column says which (seed 002: "use the ML prediction if available, else fall
back to the simple estimate").

Intervals are model-based, not calibrated (no realised horizon exists to calibrate on):
the number of purchases is taken as Poisson with the forecast's mean, times the
customer's expected spend; the band always contains the forecast. The report says they
are unchecked.

The class has the prediction interface of :class:`clv_engine.model.CLVModel` (``predict``,
``predict_p_active``, ``predict_interval``, ``predict_horizon_interval``, ``source``) so
that the score, explain and monitor stages take either.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl

from .baselines import BTYD_P_PURCHASE
from .boosting import ConstantModel
from .level import prior_level_error, range_note, total_range
from .params import ModelParams
from .season import SeasonFit

__all__ = ["BaselineForecaster"]


class BaselineForecaster:
    """BG/NBD + Gamma-Gamma per customer, the naive rate where BG/NBD has no forecast."""

    def __init__(self, features: list[str], params: ModelParams, horizon_days: int, reason: str) -> None:
        self.features = features
        self.categorical: list[str] = []
        self.params = params
        self.horizon_days = horizon_days
        self.reason = reason
        # What the stages read from a fitted model: nothing was learned.
        self.trees_ = self.trees_buy_ = 0
        self.validation_ = f"none: {reason}"
        self.level_, self.buy_shift_, self.scale_ = 1.0, 0.0, 1.0
        self.cutoffs_: list[dt.date] = []
        self.level_note_ = f"the BG/NBD + Gamma-Gamma forecast itself ({reason})"
        self.value_model_ = ConstantModel("regressor", 0.0)  # no SHAP values: no trees
        self.oos_ = {k: np.array([]) for k in ("predicted", "actual", "p_active", "bought")}
        self.total_band_ = (1.0, 1.0)
        self.total_band_origins_ = 0  # no earlier forecast date: the typical level error assumed
        self.total_band_note_ = (
            "the log is too short to measure how wrong its total can be: the range assumes the typical "
            "error of a BG/NBD + Gamma-Gamma total plus the Poisson noise of the customers' purchases"
        )

    def set_total_band(self, rows: pl.DataFrame, season: SeasonFit | None = None) -> BaselineForecaster:
        """The range of the total: the typical level error (:func:`clv_engine.level.prior_level_error`:
        larger where ``season``, fitted at the cutoff, says the log is under a year old) and the
        Poisson noise of the customers' purchases."""
        predicted = self.predict(rows)
        spend, _ = self._spend_and_count(rows)
        total = float(predicted.sum())
        if total > 0:
            # Var(purchases x spend) = spend^2 x mean purchases = spend x forecast (Poisson).
            cv = math.sqrt(float(np.sum(spend * predicted))) / total
            prior = prior_level_error(season)
            low, high = total_range(total, np.array([]), self.params.interval_level, cv, prior)
            self.total_band_note_ = f"the log is too short to train on: {range_note(0, season)}"
            self.total_band_ = (low / total, high / total)
        return self

    def _naive(self, frame: pl.DataFrame) -> np.ndarray:
        revenue = frame["revenue_sum"].clip(lower_bound=0.0).to_numpy()
        return revenue / (frame["tenure_days"].to_numpy() + 1.0) * self.horizon_days

    def _btyd(self, frame: pl.DataFrame) -> np.ndarray:
        return frame["btyd_expected_revenue"].fill_nan(None).to_numpy().astype(float)

    def source(self, frame: pl.DataFrame) -> np.ndarray:
        """Per customer: "btyd" where BG/NBD + GG gave a forecast, else "naive"."""
        return np.where(np.isfinite(self._btyd(frame)), "btyd", "naive")

    def predict(self, frame: pl.DataFrame) -> np.ndarray:
        btyd = self._btyd(frame)
        return np.clip(np.where(np.isfinite(btyd), btyd, self._naive(frame)), 0.0, None)

    def predict_p_active(self, frame: pl.DataFrame) -> np.ndarray:
        chance = frame[BTYD_P_PURCHASE].fill_nan(None).to_numpy().astype(float)
        _, count = self._spend_and_count(frame)
        return np.where(np.isfinite(chance), chance, 1.0 - np.exp(-count))

    def _spend_and_count(
        self, frame: pl.DataFrame, predicted: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Expected spend per purchase and expected purchases behind ``predicted`` (default:
        the forecast over the horizon)."""
        spend = frame["btyd_expected_spend"].fill_nan(None).to_numpy().astype(float)
        aov = frame["avg_order_value"].fill_nan(None).fill_null(0.0).to_numpy().astype(float)
        spend = np.where(np.isfinite(spend) & (spend > 0), spend, aov)
        predicted = self.predict(frame) if predicted is None else np.asarray(predicted, dtype=float)
        count = np.where(spend > 0, predicted / np.maximum(spend, 1e-12), 0.0)
        return spend, count

    def predict_interval(
        self, predicted: np.ndarray, frame: pl.DataFrame | None = None, p_active: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Poisson purchases x expected spend (module docstring); contains ``predicted``
        (``p_active`` is not needed: the count of purchases comes from the forecast)."""
        predicted = np.asarray(predicted, dtype=float)
        if frame is None:
            return np.zeros_like(predicted), predicted.copy()
        return self._poisson_band(predicted, *self._spend_and_count(frame))

    def predict_horizon_interval(
        self, months: int, predicted: np.ndarray, frame: pl.DataFrame, p_active: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The band over another horizon: the same Poisson band around ``predicted`` (clv_<h>m),
        its purchases counted from it (``months`` and ``p_active`` are not needed)."""
        predicted = np.asarray(predicted, dtype=float)
        return self._poisson_band(predicted, *self._spend_and_count(frame, predicted))

    def _poisson_band(
        self, predicted: np.ndarray, spend: np.ndarray, count: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        from scipy import stats  # imported on use (metrics._spearman_both says why)

        alpha = 1 - self.params.interval_level
        low = spend * stats.poisson.ppf(alpha / 2, np.maximum(count, 1e-12))
        high = spend * stats.poisson.ppf(1 - alpha / 2, np.maximum(count, 1e-12))
        return np.minimum(np.maximum(low, 0.0), predicted), np.maximum(high, predicted)
