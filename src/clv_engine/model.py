"""The CLV model: features at a cutoff -> revenue over the horizon, p_active and an interval.

Estimator conventions follow scikit-learn: ``__init__`` stores parameters, ``fit`` learns
and returns ``self``, learned state ends in ``_``; frames go in (polars), numpy arrays come
out. Predictions are never negative.

Objectives (``model.objective``): how the revenue part is fitted, predicted and explained,
one class each in :mod:`clv_engine.objectives`; the CatBoost fits themselves are
:mod:`clv_engine.boosting`'s.

The BTYD forecast is the boosting's starting point (``model.baseline``) and a set of
features; the trees ship alone. (A stacked ensemble, ``w1 x CatBoost + w2 x BTYD``, lost
on every backtest and was removed: experiments/RESULTS.md.)

Level (``model.level``, :meth:`CLVModel.anchor_level`): the trees learn the level of the
calendar windows their training horizons covered, another season's on most logs. The
total comes from :mod:`clv_engine.level` (the season and trend of the log's own past);
the model is scaled to it, and p_active's log-odds are shifted so that its mean is
BG/NBD's mean P(a purchase) (experiments/RESULTS.md).

Update (``model.update``, :func:`clv_engine.evaluation.warm_start`): ``full`` fits every
model from scratch; ``warm`` continues a promoted champion's trees: each CatBoost fit starts
from the champion's predictions and adds trees (:func:`fit_catboost`), with the same folds,
early stopping and intervals as a full fit.

How many trees, and how wrong the model is out of sample, come from out-of-sample
predictions: with two or more cutoffs, the model trained on the older ones predicts the
newest (time-based validation); with one cutoff, customers are split into grouped folds.
The final model is refitted on every row with the chosen number of trees.

Intervals (``model.interval_level``): split-conformal on those out-of-sample predictions,
Mondrian by bins of the prediction: in each bin, the finite-sample-corrected quantiles of
actual / predicted give a multiplicative band, so intervals widen where values are large.
Where the lower tail is the point mass at zero (customers who buy nothing), the lower end
is 0 and the whole miscoverage goes to the upper end: an equal-tailed band would cover
all the zeros and over-cover (about 95% for a 90% level). A sure buyer, whose p_active
leaves less than the lower tail ((1 - level) / 2) to buying nothing, gets the band of
"nothing with 1 - p_active, else the bin's calibrated spend" instead: a positive lower end
(issue 20). The band always contains the prediction. The other horizons of
``score.horizons_months`` get calibrators of their own, fitted the same way on the same
out-of-sample rows with their labels over that horizon (:func:`clv_engine.horizons.fit_horizon_bands`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import polars as pl
from catboost import Pool
from scipy.optimize import brentq

from .baselines import BTYD_P_PURCHASE
from .boosting import fit_catboost, make_pool
from .errors import UserError
from .objectives import Fold, Objective, objective
from .params import ModelParams
from .scalars import as_float

if TYPE_CHECKING:  # horizons builds on this module
    from .horizons import HorizonBands

__all__ = [
    "CLVModel",
    "IntervalCalibrator",
    "log_odds_shift_to_mean",
    "shift_log_odds",
]

_MIN_TREES = 50
#: Out-of-sample customers an interval bin needs at least (IntervalCalibrator).
MIN_BIN_CUSTOMERS = 200
#: The spend ratios of sure buyers are kept at these quantile levels (IntervalCalibrator).
SPEND_STEPS = 1000
SPEND_GRID = np.linspace(0.0, 1.0, SPEND_STEPS + 1)


def _with_level_errors(ratios: np.ndarray, errors: np.ndarray) -> np.ndarray:
    """Every ratio under every past level error (actual / shipped = ratio x exp(-error))."""
    return cast(np.ndarray, (ratios[:, None] * np.exp(-errors)[None, :]).ravel())


@dataclass
class IntervalCalibrator:
    """Mondrian split-conformal band on the ratio actual / predicted, by prediction bins."""

    level: float
    n_bins: int

    def fit(
        self,
        predicted: np.ndarray,
        actual: np.ndarray,
        level_log_errors: np.ndarray | None = None,
        p_buy: np.ndarray | None = None,
        bought: np.ndarray | None = None,
        level_ratio: float | None = None,
    ) -> IntervalCalibrator:
        """Calibrate on out-of-sample (predicted, actual) pairs.

        ``level_log_errors``: errors log(forecast total / realised total) of the level at
        past origins (:func:`clv_engine.level.level_errors`). The ratios are then taken at
        the realised level (the out-of-sample total matched to the actual) and combined with
        every level error (actual / shipped = ratio x exp(-error)), so the band holds in a
        season where the total is missed as it was missed before.

        ``p_buy`` and ``bought`` (the out-of-sample P(a purchase) and whether there was one)
        calibrate the band of sure buyers (:meth:`interval`): in each bin, the quantiles of
        actual / (predicted / p_buy) among those who bought, the spend given a purchase
        relative to its forecast.

        ``level_ratio``: the factor that takes the out-of-sample forecast to the realised
        level before the level errors are applied (default: this forecast's total over the
        actual's). Another horizon's band removes the pinned horizon's out-of-sample level
        error only, whose errors it then applies, and keeps its own curve's error.
        """
        predicted = np.maximum(np.asarray(predicted, dtype=float), 1e-9)
        actual = np.asarray(actual, dtype=float)
        # A bin's quantile from a few dozen customers swings from one season to the next:
        # at least MIN_BIN_CUSTOMERS per bin (fewer bins on a small log).
        bins_wanted = max(1, min(self.n_bins, predicted.size // MIN_BIN_CUSTOMERS))
        self.edges_ = np.unique(np.quantile(predicted, np.linspace(0, 1, bins_wanted + 1)[1:-1]))
        self.reference_mean_ = float(predicted.mean())
        self.scale_ = 1.0
        bins = np.searchsorted(self.edges_, predicted, side="right")
        ratio = actual / predicted
        errors = None if level_log_errors is None else np.asarray(level_log_errors, dtype=float)
        if level_ratio is None:
            level_ratio = float(predicted.sum() / max(actual.sum(), 1e-12))
        if errors is not None and errors.size:
            # Remove the out-of-sample level error (it is one season's draw), apply them all.
            ratio = ratio * level_ratio
            self.level_errors_ = errors
        else:
            errors = None
        alpha = 1 - self.level
        lower, upper = [], []
        for b in range(self.edges_.size + 1):
            r = ratio[bins == b]
            if errors is not None and r.size:
                r = _with_level_errors(r, errors)
            r = np.sort(r)
            n = r.size
            if n == 0:
                lower.append(0.0)
                upper.append(float(np.max(ratio)))
                continue
            # Finite-sample conformal ranks: the ceil((n + 1)(1 - alpha / 2))-th smallest for
            # the upper end, the floor((n + 1) alpha / 2)-th for the lower end (0 if below 1).
            k_hi = min(n, int(np.ceil((n + 1) * (1 - alpha / 2))))
            k_lo = int(np.floor((n + 1) * alpha / 2))
            low = float(r[k_lo - 1]) if k_lo >= 1 else 0.0
            if low <= 0.0 and r[0] >= 0.0:
                # The lower tail is the point mass at zero (no purchase): a lower end of 0
                # covers all of it, so the whole miscoverage goes to the upper tail.
                k_hi = min(n, int(np.ceil((n + 1) * self.level)))
                low = 0.0
            upper.append(float(r[k_hi - 1]))
            lower.append(low)
        self.lower_ratio_ = np.asarray(lower)
        self.upper_ratio_ = np.asarray(upper)
        self.spend_quantiles_ = None
        if p_buy is not None and bought is not None:
            self.spend_quantiles_ = self._spend_quantiles(
                predicted,
                actual,
                np.asarray(p_buy, dtype=float),
                np.asarray(bought, dtype=bool),
                bins,
                errors,
                level_ratio,
            )
        return self

    def _spend_quantiles(
        self,
        predicted: np.ndarray,
        actual: np.ndarray,
        p_buy: np.ndarray,
        bought: np.ndarray,
        bins: np.ndarray,
        errors: np.ndarray | None,
        level_ratio: float,
    ) -> np.ndarray:
        """Per bin, the ratio actual / (predicted / p_buy) of buyers at SPEND_GRID levels."""
        ratio = actual * np.clip(p_buy, 1e-9, 1.0) / predicted
        if errors is not None:
            ratio = ratio * level_ratio
        every = ratio[bought]
        if errors is not None:
            every = _with_level_errors(every, errors)
        table = []
        for b in range(self.edges_.size + 1):
            r = ratio[bought & (bins == b)]
            if errors is not None:
                r = _with_level_errors(r, errors)
            # A bin with too few buyers takes every bin's buyers (a wider spread, not none).
            r = r if r.size >= MIN_BIN_CUSTOMERS else every
            table.append(
                np.quantile(r, SPEND_GRID, method="inverted_cdf") if r.size else np.zeros(SPEND_GRID.size)
            )
        return np.asarray(table)

    def follow_level(self, predicted: np.ndarray) -> IntervalCalibrator:
        """Place the bins at the level of ``predicted`` (the customers about to be scored).

        The bins were cut on out-of-sample forecasts at their own level; once the level is
        set (a peak, growth) every forecast moves, and without this a customer would be
        read against another bin's customers: at a peak most of the base fell in the top
        bin, whose ratios are the narrowest (synthetic two-year log, 2023-08-31: 25% of its
        three top deciles above the upper end). The edges are scaled by the ratio of the
        mean forecasts, so a customer keeps their place in the distribution.
        """
        mean = float(np.mean(predicted)) if np.size(predicted) else 0.0
        scale = mean / self.reference_mean_ if mean > 0 and self.reference_mean_ > 0 else 1.0
        self.scale_ = float(f"{scale:.6g}")  # last-bit differences must not move an edge
        return self

    def _bins(self, predicted: np.ndarray) -> np.ndarray:
        edges = self.edges_ * getattr(self, "scale_", 1.0)
        return cast(np.ndarray, np.searchsorted(edges, np.maximum(predicted, 1e-9), side="right"))

    def sure_buyers(self, p_buy: np.ndarray) -> np.ndarray:
        """Who gets the mixture band: a chance of buying nothing below the lower tail."""
        return (1 - np.asarray(p_buy, dtype=float)) < (1 - self.level) / 2

    def interval(
        self, predicted: np.ndarray, p_buy: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(lower, upper), with lower <= predicted <= upper and lower >= 0.

        With ``p_buy`` (each customer's P(a purchase)), a sure buyer, one whose chance of
        buying nothing 1 - p is below the lower tail (1 - level) / 2, gets the band of the
        mixture "nothing with 1 - p, else spend S": P(Y <= lower) = (1 - level) / 2 gives
        F_S(lower) = ((1 - level) / 2 - (1 - p)) / p, and F_S(upper) = 1 - (1 - level) / (2p),
        with F_S the calibrated spend ratios of the bin. Their lower end is then positive.
        Any other customer in a bin whose upper ratio is at most 1 (in the calibration
        season too few of the bin bought to reach its upper tail) gets at least the same
        mixture's upper end, F_S(upper) = 1 - (1 - level) / p: at a peak, when their own p
        is higher than the bin's share of buyers then was (synthetic two-year log,
        2023-07-31: 84.5% -> 89.5% covered; experiments/RESULTS.md).
        """
        predicted = np.asarray(predicted, dtype=float)
        bins = self._bins(predicted)
        lower = np.minimum(predicted * self.lower_ratio_[bins], predicted)
        upper = np.maximum(predicted * self.upper_ratio_[bins], predicted)
        quantiles = getattr(self, "spend_quantiles_", None)
        if p_buy is not None and quantiles is not None:
            p = np.clip(np.asarray(p_buy, dtype=float), 1e-9, 1.0)
            tail = (1 - self.level) / 2
            sure = self.sure_buyers(p)
            if np.any(sure):
                s, b = np.flatnonzero(sure), bins[sure]
                spend = predicted[s] / p[s]
                low_at = (tail - (1 - p[s])) / p[s]
                high_at = 1 - tail / p[s]
                lower[s] = np.minimum(_spend_end(quantiles, b, spend, low_at, upper=False), predicted[s])
                upper[s] = np.maximum(_spend_end(quantiles, b, spend, high_at, upper=True), predicted[s])
            # A bin whose calibration season put no buyer in its upper tail (upper ratio <= 1:
            # fewer than 1 - level of it bought) says nothing about how high a buyer goes; in a
            # season where the customer's own chance of buying is higher, the mixture does.
            flat = np.flatnonzero(~sure & (self.upper_ratio_[bins] <= 1.0))
            if flat.size:
                high_at = 1 - (1 - self.level) / p[flat]
                end = _spend_end(quantiles, bins[flat], predicted[flat] / p[flat], high_at, upper=True)
                upper[flat] = np.maximum(upper[flat], np.where(high_at > 0, end, 0.0))
        return np.maximum(lower, 0.0), upper


def _spend_end(
    quantiles: np.ndarray, bins: np.ndarray, spend: np.ndarray, at: np.ndarray, upper: bool
) -> np.ndarray:
    """``spend`` x its bin's calibrated spend ratio at quantile level ``at`` (a row of
    ``quantiles`` per bin, on SPEND_GRID): the grid point at or above ``at`` for an upper
    end, at or below it for a lower one."""
    steps = np.ceil(at * SPEND_STEPS) if upper else np.floor(at * SPEND_STEPS)
    return cast(np.ndarray, spend * quantiles[bins, np.clip(steps.astype(int), 0, SPEND_STEPS)])


def shift_log_odds(p: np.ndarray, shift: float) -> np.ndarray:
    """Probabilities with ``shift`` added to their log-odds (0 and 1 stay where they are)."""
    if shift == 0.0:
        return p
    with np.errstate(divide="ignore", over="ignore"):
        odds = np.log(p) - np.log1p(-p)
        return cast(np.ndarray, 1.0 / (1.0 + np.exp(-(odds + shift))))


def log_odds_shift_to_mean(p: np.ndarray, target: float) -> float | None:
    """The shift of ``p``'s log-odds that makes their mean ``target`` (None: no shift does)."""

    def gap(shift: float) -> float:
        return float(shift_log_odds(p, shift).mean()) - target

    if not (0 < target < 1 and gap(-50.0) < 0 < gap(50.0)):
        return None
    return float(brentq(gap, -50.0, 50.0, xtol=1e-12))


class CLVModel:
    """Revenue over the horizon, P(at least one purchase), and a prediction interval."""

    #: Set by the forecast path (:func:`clv_engine.evaluation.fit_forecast`) once the level is
    #: known: the total's range as factors of the total, what it rests on, and the other
    #: horizons' bands.
    total_band_: tuple[float, float]
    total_band_note_: str
    total_band_origins_: int
    horizon_bands_: HorizonBands

    def __init__(self, features: list[str], categorical: list[str], params: ModelParams, seed: int) -> None:
        self.features = features
        self.categorical = categorical
        self.params = params
        self.seed = seed

    def __setstate__(self, state: dict[str, Any]) -> None:
        """A bundle saved by an older version: refused when it shipped a stacked forecast
        (``model.ensemble: stack``, removed), which this version would score differently."""
        if state.get("stack_") is not None:
            raise UserError(
                "this model bundle was trained with model.ensemble: stack, which was removed (it lost "
                "on every backtest): retrain it with this version (dvc repro) and promote the new one"
            )
        state.pop("stack_", None)
        self.__dict__.update(state)

    # -- fitting -------------------------------------------------------------------------

    def fit(
        self,
        dataset: pl.DataFrame,
        progress: Callable[[str], None] | None = None,
        start: CLVModel | None = None,
    ) -> CLVModel:
        """Learn from stacked training rows (features, label_revenue, label_bought, cutoff).

        ``progress`` receives a line per model fitted and CatBoost's loss every 200 trees.
        ``start`` (``model.update: warm``): a fitted model with the same features and loss
        whose trees every CatBoost fit continues (:func:`fit_catboost`); the folds, the
        early stopping and the intervals are as in a full fit, and ``trees_`` and
        ``trees_buy_`` count only the trees added (``start_trees_``: the ones continued).
        """
        self._progress = progress
        self._start = start
        try:
            return self._fit(dataset)
        finally:
            # Transient: neither the callback, the step name nor the start belongs in the bundle.
            for name in ("_progress", "_stage", "_start"):
                self.__dict__.pop(name, None)

    def _fit(self, dataset: pl.DataFrame) -> CLVModel:
        y = dataset["label_revenue"].to_numpy().astype(float)
        bought = dataset["label_bought"].to_numpy().astype(int)

        oos_value = np.full(dataset.height, np.nan)
        oos_buy = np.full(dataset.height, np.nan)
        trees_value, trees_buy = [], []
        folds = self._folds(dataset)
        for k, (train_idx, test_idx) in enumerate(folds, start=1):
            self._stage = f"fold {k} of {len(folds)}"
            test = dataset[test_idx]
            value = self._objective.fit(self, Fold(dataset, y, bought, train_idx, test_idx))
            oos_value[test_idx] = self._predict_value(value, test)
            trees_value.append(self._objective.trees(value) - self._start_trees("value"))
            clf = self.fit_part("classifier", "Logloss", dataset, bought, train_idx, test_idx, part="buy")
            oos_buy[test_idx] = self.p_buy(clf, test)
            trees_buy.append(clf.tree_count_ - self._start_trees("buy"))
        self.trees_ = max(_MIN_TREES, int(np.median(trees_value)))
        self.trees_buy_ = max(_MIN_TREES, int(np.median(trees_buy)))
        self.start_trees_ = {"revenue": self._start_trees("value"), "p_active": self._start_trees("buy")}

        scored = ~np.isnan(oos_value)
        self.scale_ = 1.0
        if self._objective.rescaled:
            total = oos_value[scored].sum()
            self.scale_ = float(y[scored].sum() / total) if total > 0 else 1.0
        oos_value = oos_value * self.scale_
        self.oos_ = {
            "rows": np.flatnonzero(scored),  # which training rows (other horizons' bands)
            "predicted": oos_value[scored],
            "actual": y[scored],
            "p_active": oos_buy[scored],
            "bought": bought[scored],
        }
        self.intervals_ = self._calibrate_intervals()
        self.cutoffs_ = sorted(set(dataset["cutoff"].to_list()))
        self.level_ = 1.0
        self.buy_shift_ = 0.0
        self.level_note_ = "the trees' level (not anchored)"

        every = np.arange(dataset.height)
        self._stage = "final, all rows"
        self.value_model_ = self._objective.fit(self, Fold(dataset, y, bought, every, None, self.trees_))
        self.buy_model_ = self.fit_part(
            "classifier", "Logloss", dataset, bought, every, None, self.trees_buy_, "buy"
        )
        return self

    def _begin(self, part: str) -> Any:
        """The start's model that a fit of ``part`` continues (None: a fit from scratch).

        ``part``: value (the revenue regressor, or two_part's pair), buy (p_active), and
        two_part's halves clf and spend.
        """
        start = getattr(self, "_start", None)
        if start is None:
            return None
        if part == "buy":
            return start.buy_model_
        value = start.value_model_
        return value if part == "value" else self._objective.part(value, part)

    def _start_trees(self, part: str) -> int:
        """Trees of the start's ``part`` (0 without a start)."""
        begin = self._begin(part)
        if begin is None:
            return 0
        return self._objective.trees(begin) if part == "value" else int(begin.tree_count_)

    @property
    def _objective(self) -> Objective:
        """How the revenue part is fitted, predicted and explained (``model.objective``)."""
        return objective(self.params.objective)

    def _calibrate_intervals(
        self, level_log_errors: np.ndarray | None = None, level_ratio: float | None = None
    ) -> IntervalCalibrator:
        oos = self.oos_
        return IntervalCalibrator(self.params.interval_level, self.params.interval_bins).fit(
            oos["predicted"],
            oos["actual"],
            level_log_errors,
            oos["p_active"],
            oos["bought"] == 1,
            level_ratio,
        )

    def _folds(self, dataset: pl.DataFrame) -> list[tuple[np.ndarray, np.ndarray]]:
        cutoffs = dataset["cutoff"].to_numpy()
        newest = cutoffs.max()
        older = len(np.unique(cutoffs)) - 1
        if older >= self.params.time_validation_min_cutoffs:  # params: at least 1
            self.validation_ = f"time-based: trained on cutoffs before {newest}, validated on {newest}"
            return [(np.flatnonzero(cutoffs < newest), np.flatnonzero(cutoffs == newest))]
        k = self.params.cv_folds
        ids = dataset["customer_id"].unique().sort()
        shuffled = ids.gather(np.random.default_rng(self.seed).permutation(ids.len()))
        folds = pl.DataFrame({"customer_id": shuffled, "fold": np.arange(ids.len()) % k})
        fold = dataset.select("customer_id").join(folds, on="customer_id", how="left", maintain_order="left")
        fold_of = fold["fold"].to_numpy()
        self.validation_ = (
            f"one cutoff ({newest}): {k} folds grouped by customer"
            if older == 0
            else f"{older + 1} cutoffs, too few for time-based validation: {k} folds grouped by customer"
        )
        return [(np.flatnonzero(fold_of != f), np.flatnonzero(fold_of == f)) for f in range(k)]

    def _offset(self, frame: pl.DataFrame, part: str) -> np.ndarray | None:
        """Log-scale start of the boosting: the BTYD forecast (model.baseline = btyd)."""
        if self.params.baseline != "btyd" or part in ("buy", "clf"):
            return None
        return self._objective.offset(frame, part)

    def fit_part(
        self,
        kind: str,
        loss: str,
        dataset: pl.DataFrame,
        target: np.ndarray,
        train_idx: np.ndarray,
        test_idx: np.ndarray | None,
        trees: int | None = None,
        part: str = "value",
    ) -> Any:
        """One CatBoost fit of ``part`` (see :meth:`_begin`), continuing the start's when given (an
        objective fits its revenue part with it, :mod:`clv_engine.objectives`)."""

        def pool(idx: np.ndarray) -> Pool:
            rows = dataset[idx]
            return make_pool(rows, self.features, self.categorical, target[idx], self._offset(rows, part))

        valid = None if test_idx is None else pool(test_idx)
        progress = getattr(self, "_progress", None)
        label = f"{getattr(self, '_stage', 'fit')}, {kind} {loss.split(':')[0]}"
        if progress is not None:
            rows = f"{label} on {train_idx.size:,} rows"
            progress(
                rows + (f", validated on {test_idx.size:,}" if test_idx is not None else f", {trees} trees")
            )
        return fit_catboost(
            kind,
            loss,
            pool(train_idx),
            self.params,
            self.seed,
            trees or self.params.iterations,
            valid,
            progress,
            label,
            self._begin(part),
        )

    # -- predicting ----------------------------------------------------------------------

    def value_offset(self, frame: pl.DataFrame) -> np.ndarray | None:
        """The log-scale start of the revenue model for these rows (None without a baseline)."""
        return self._offset(frame, "value")

    def value_pool(self, frame: pl.DataFrame) -> Pool:
        """The CatBoost pool the revenue model predicts from (features and BTYD offset)."""
        return make_pool(frame, self.features, self.categorical, offset=self.value_offset(frame))

    def buy_pool(self, frame: pl.DataFrame) -> Pool:
        """The pool the purchase classifiers predict from (no offset)."""
        return make_pool(frame, self.features, self.categorical)

    def spend_offset(self, frame: pl.DataFrame) -> np.ndarray | None:
        """The log-scale start of two_part's spend model (None without a baseline)."""
        return self._offset(frame, "spend")

    def spend_pool(self, frame: pl.DataFrame) -> Pool:
        """The pool two_part's spend model predicts from (features and BTYD spend offset)."""
        return make_pool(frame, self.features, self.categorical, offset=self.spend_offset(frame))

    def p_buy(self, classifier: Any, frame: pl.DataFrame) -> np.ndarray:
        """P(buy) of ``frame``'s rows by ``classifier`` (the purchase model, or two_part's)."""
        return cast(np.ndarray, classifier.predict_proba(self.buy_pool(frame))[:, 1])

    def _predict_value(self, model: Any, frame: pl.DataFrame) -> np.ndarray:
        raw = self._objective.predict(self, model, frame)
        return cast(np.ndarray, np.clip(np.asarray(raw, dtype=float), 0.0, None))

    def predict(self, frame: pl.DataFrame) -> np.ndarray:
        """Expected revenue over the horizon (currency), never negative."""
        return self.shipped(self._predict_value(self.value_model_, frame) * self.scale_)

    def anchor_level(
        self,
        rows: pl.DataFrame,
        target_total: float | None,
        note: str,
        level_log_errors: np.ndarray | None = None,
        p_active_mean: float | None = None,
        p_active_note: str = "BG/NBD's mean P(a purchase)",
        keep_oos_level_error: bool = False,
    ) -> CLVModel:
        """Set the level for ``rows``, every customer about to be scored at their cutoff.

        ``target_total``: what the level model (:mod:`clv_engine.level`) says these
        customers will spend in total; the forecast is scaled to it (the trees keep the
        shares), and p_active's log-odds are shifted so that its mean is ``p_active_mean``
        (:class:`clv_engine.level.LevelPlan`: the expected share of buyers in the horizon,
        ``p_active_note`` says whose; default BG/NBD's mean P(a purchase)). None
        (``model.level = trees``, or no BTYD forecast) keeps the trees' level. The intervals
        are recalibrated with ``level_log_errors``, the level's errors at past origins, and
        their bins follow the level (:meth:`IntervalCalibrator.follow_level`); with
        ``keep_oos_level_error`` the out-of-sample ratios keep their own level error (a young
        log's one measured miss of its total) under those errors. Sets
        ``level_`` (a factor of every forecast), ``buy_shift_`` and ``level_note_`` (why),
        and returns the model.
        """
        self.level_, self.buy_shift_ = 1.0, 0.0
        if level_log_errors is not None and np.size(level_log_errors):
            self.intervals_ = self._calibrate_intervals(
                level_log_errors, 1.0 if keep_oos_level_error else None
            )
        trees = self.predict(rows)  # at level 1: every forecast is this times level_
        forecast = float(trees.sum())
        if target_total is None or target_total <= 0 or forecast <= 0:
            self.level_note_ = f"the trees' level ({note})"
        else:
            self.level_ = target_total / forecast
            buy = self._anchor_p_active(rows, p_active_mean, p_active_note)
            self.level_note_ = f"scaled x {self.level_:.4f} to {note}, over {rows.height:,} customers{buy}"
        self.intervals_.follow_level(trees * self.level_)
        return self

    def _anchor_p_active(self, rows: pl.DataFrame, target: float | None, source: str) -> str:
        """Shift p_active's log-odds so that its mean over the customers BG/NBD scores is
        ``target`` (default: their mean BG/NBD P(a purchase)); says how."""
        chance = rows[BTYD_P_PURCHASE].fill_nan(None)
        if chance.null_count() == chance.len():
            return "; p_active as the classifier gives it (no BG/NBD P(a purchase))"
        known = chance.is_not_null().to_numpy()
        if target is None:
            target, source = as_float(chance.drop_nulls().mean()), "BG/NBD's mean P(a purchase)"
        shift = log_odds_shift_to_mean(self.p_buy(self.buy_model_, rows)[known], target)
        if shift is None:
            return "; p_active as the classifier gives it (no shift reaches that mean)"
        self.buy_shift_ = shift
        return f", p_active's log-odds shifted by {self.buy_shift_:+.4f} to {source}, {target:.4f}"

    def shipped(self, catboost: np.ndarray) -> np.ndarray:
        """The shipped forecast from CatBoost's: times the level factor (``model.level``)."""
        return catboost * self.level_

    def predict_p_active(self, frame: pl.DataFrame) -> np.ndarray:
        """P(at least one purchase order in the horizon)."""
        return shift_log_odds(self.p_buy(self.buy_model_, frame), self.buy_shift_)

    def predict_interval(
        self, predicted: np.ndarray, frame: pl.DataFrame | None = None, p_active: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The calibrated band around ``predicted``.

        With ``frame`` (the rows predicted) or their ``p_active``, sure buyers get a positive
        lower end (:meth:`IntervalCalibrator.interval`); with neither, the bins' band.
        """
        if p_active is None and frame is not None:
            p_active = self.predict_p_active(frame)
        return self.intervals_.interval(predicted, p_active)

    def predict_horizon_interval(
        self, months: int, predicted: np.ndarray, frame: pl.DataFrame, p_active: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The band over another horizon (``predicted``: clv_<h>m, ``p_active``: over h), from
        its own calibration (:func:`clv_engine.horizons.fit_horizon_bands`); where the log
        could not calibrate one, the pinned horizon's ratios (``horizon_bands_.missing`` says so)."""
        bands = getattr(self, "horizon_bands_", None)
        band = None if bands is None else bands.interval(months, predicted, p_active)
        return band if band is not None else self.intervals_.interval(predicted, p_active)

    def source(self, frame: pl.DataFrame) -> np.ndarray:
        """Which method made each forecast: the CLV model, for every customer."""
        return np.full(frame.height, "model")
