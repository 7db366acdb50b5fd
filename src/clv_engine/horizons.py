"""Several horizons from one forecast: 1, 3, 6 and 12 months, and a discounted 12-month value.

The CLV model forecasts one horizon H (``windows.horizon_months``). The spend over another
horizon h is that forecast times the customer's BG/NBD curve: the purchases BG/NBD expects
over h, divided by those over H (``clv_h = predicted x E[X(h)] / E[X(H)]``), each horizon measured in the
season's operational time where the log has a season (:mod:`clv_engine.season`), so a
month of the peak holds more of the spend than a month of the trough. BG/NBD's
E[X(t)] grows with t, so a customer's values never decrease with the horizon, and
``clv_H`` is ``predicted_clv`` itself. A customer without a BG/NBD curve (no fit, or E[X(H)]
= 0) gets the forecast spread evenly over time (``clv_h = predicted x days(h) / days(H)``).

``clv_12m_discounted``: each of the next 12 months' expected spend (the increments of the
monthly curve) discounted to ``as_of`` at the effective annual rate
``value.annual_discount_rate``, from the middle of the month: ``(1 + rate) ** -((m - 0.5) / 12)``.
It is at most ``clv_12m``.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import polars as pl

from .baselines import btyd_clock
from .btyd import BetaGeoFit
from .model import MIN_BIN_CUSTOMERS, IntervalCalibrator
from .season import SeasonFit
from .timeline import horizon_days

__all__ = [
    "DISCOUNT_MONTHS",
    "HorizonBands",
    "buy_columns",
    "curve_columns",
    "curve_months",
    "discounted_value",
    "fit_horizon_bands",
    "horizon_label_columns",
    "horizon_p_active",
    "horizon_values",
    "purchase_curve",
]

#: The months of the discounted value (clv_12m_discounted).
DISCOUNT_MONTHS = 12
_WEEK = 7.0


def curve_months(horizons: Sequence[int], pinned: int) -> list[int]:
    """The months a customer table carries the curve for: every month to 12, each horizon, H."""
    return sorted({*range(1, DISCOUNT_MONTHS + 1), *horizons, pinned})


def curve_columns(months: Sequence[int]) -> list[str]:
    """Names of the BG/NBD curve's columns in a customer table (btyd_purchases_<m>m)."""
    return [f"btyd_purchases_{m}m" for m in months]


def horizon_label_columns(months: int) -> tuple[str, str]:
    """The training rows' label over ``months``: (label_revenue_<h>m, label_bought_<h>m)."""
    return f"label_revenue_{months}m", f"label_bought_{months}m"


def buy_columns(months: Sequence[int]) -> list[str]:
    """Names of BG/NBD's P(a purchase within m months | still active) (btyd_buy_if_alive_<m>m)."""
    return [f"btyd_buy_if_alive_{m}m" for m in months]


def purchase_curve(
    table: pl.DataFrame,
    fit: BetaGeoFit | None,
    cutoff: dt.date,
    months: Sequence[int],
    season: SeasonFit | None = None,
    buy_months: Sequence[int] = (),
) -> pl.DataFrame:
    """``table`` with BG/NBD's expected purchases over each of ``months`` after ``cutoff``.

    The customer's history in calendar weeks, as the table's own BTYD columns; each horizon
    in the ``season``'s operational weeks where the log has a season (a month of the peak
    counts for more than a month of the trough), else in calendar weeks. Null without a fit.
    ``buy_months``: also the chance of a purchase within each of them for a customer who is
    still active, ``1 - ((alpha + T) / (alpha + T + t))^(r + x)``
    (:meth:`BetaGeoFit.log_no_purchase_if_alive`; :meth:`BetaGeoFit.p_purchase` without
    P(alive)), the shape :func:`horizon_p_active` gives p_active over a horizon.
    """
    x = table["frequency"].to_numpy().astype(np.float64)
    t_x, big_t, _ = btyd_clock(table, 0, None)
    every = sorted({*months, *buy_months})
    days = {m: horizon_days(cutoff, m) for m in every}
    length = {m: d / _WEEK for m, d in days.items()}
    if season is not None and season.seasonal and days:
        clock = season.clock(cutoff, cutoff + dt.timedelta(days=max(days.values())))
        length = {m: float(clock[d]) / _WEEK for m, d in days.items()}
    columns = []
    for m, name in zip(months, curve_columns(months), strict=True):
        values = np.full(x.size, np.nan) if fit is None else fit.expected_purchases(x, t_x, big_t, length[m])
        columns.append(pl.Series(name, values, dtype=pl.Float64, nan_to_null=True))
    for m, name in zip(buy_months, buy_columns(buy_months), strict=True):
        values = np.full(x.size, np.nan)
        if fit is not None:
            values = -np.expm1(fit.log_no_purchase_if_alive(x, big_t, length[m]))
        columns.append(pl.Series(name, values, dtype=pl.Float64, nan_to_null=True))
    return table.with_columns(columns)


def _days_ratio(rows: pl.DataFrame, cutoff: dt.date | None, months: Sequence[int], pinned: int) -> np.ndarray:
    """(customers, months): days(h) / days(H) after ``cutoff``, or after each row's own
    ``cutoff`` column when None (stacked training rows)."""

    def ratios(c: dt.date) -> list[float]:
        return [horizon_days(c, m) / horizon_days(c, pinned) for m in months]

    if cutoff is not None:
        return np.tile(ratios(cutoff), (rows.height, 1))
    cuts = rows["cutoff"]
    unique = cuts.unique().sort().to_list()
    table = np.array([ratios(c) for c in unique], dtype=float).reshape(len(unique), len(months))
    index = cuts.replace_strict(unique, list(range(len(unique))), return_dtype=pl.Int64).to_numpy()
    return cast(np.ndarray, table[index])


def _relative(
    rows: pl.DataFrame, names: list[str], months: Sequence[int], pinned: int
) -> tuple[np.ndarray, np.ndarray]:
    """(known, ratio): the columns ``names`` (one per sorted {months, pinned}) relative to the
    pinned one, for each of ``months``, and where that ratio is defined (all finite, pinned > 0)."""
    every = sorted({*months, pinned})
    table = rows.select(names).to_numpy().astype(np.float64)
    at = dict(zip(every, range(len(names)), strict=True))
    base = table[:, at[pinned]]
    known = np.isfinite(base) & (base > 0) & np.all(np.isfinite(table), axis=1)
    ratio = np.ones((rows.height, len(months)))
    ratio[known] = table[known][:, [at[m] for m in months]] / base[known, None]
    return known, ratio


def _curve(rows: pl.DataFrame, cutoff: dt.date | None, months: Sequence[int], pinned: int) -> np.ndarray:
    """(customers, months) curve relative to the pinned horizon; linear in days where unknown."""
    known, ratio = _relative(rows, curve_columns(sorted({*months, pinned})), months, pinned)
    out = _days_ratio(rows, cutoff, months, pinned)
    out[known] = ratio[known]
    # The same horizon is the forecast itself (no rounding through the ratio).
    for j, m in enumerate(months):
        if m == pinned:
            out[:, j] = 1.0
    return out


def _non_decreasing(values: np.ndarray, months: Sequence[int]) -> dict[int, np.ndarray]:
    """Columns of ``values`` by month, made non-decreasing with the horizon (last bits)."""
    order = np.argsort(months)
    values[:, order] = np.maximum.accumulate(values[:, order], axis=1)
    return {m: values[:, j] for j, m in enumerate(months)}


def horizon_p_active(
    p_active: np.ndarray, rows: pl.DataFrame, cutoff: dt.date | None, months: Sequence[int], pinned: int
) -> dict[int, np.ndarray]:
    """P(at least one purchase) over each horizon in ``months`` from the pinned horizon's.

    BG/NBD splits P(a purchase within t) into P(still active) x P(a purchase within t |
    active); the model's p_active over H keeps its own odds of being active and takes the
    second factor's shape from BG/NBD: ``p_h = min(1, p_H x buy_if_alive(h) /
    buy_if_alive(H))``. Without that curve, a constant hazard: ``1 - (1 - p_H)^(days(h) /
    days(H))``. ``cutoff`` None: each row's own (stacked training rows). Never decreasing
    with the horizon; the pinned one is ``p_active`` itself.
    """
    p = np.clip(np.asarray(p_active, dtype=float), 0.0, 1.0)
    known, ratio = _relative(rows, buy_columns(sorted({*months, pinned})), months, pinned)
    out = 1.0 - (1.0 - p)[:, None] ** _days_ratio(rows, cutoff, months, pinned)
    out[known] = np.minimum(1.0, p[known, None] * ratio[known])
    for j, m in enumerate(months):
        if m == pinned:
            out[:, j] = p
    return _non_decreasing(out, months)


def horizon_values(
    predicted: np.ndarray, rows: pl.DataFrame, cutoff: dt.date | None, months: Sequence[int], pinned: int
) -> dict[int, np.ndarray]:
    """The forecast over each horizon in ``months``: ``predicted`` times the curve ratio
    (``cutoff`` None: each row's own, for stacked training rows)."""
    ratio = _curve(rows, cutoff, months, pinned)
    predicted = np.asarray(predicted, dtype=float)
    # Never decreasing with the horizon, also where the curve's last bits say otherwise.
    return _non_decreasing(predicted[:, None] * ratio, months)


def discounted_value(
    predicted: np.ndarray, rows: pl.DataFrame, cutoff: dt.date, pinned: int, annual_rate: float
) -> np.ndarray:
    """Expected spend over the next DISCOUNT_MONTHS months, each month discounted to ``cutoff``."""
    months = list(range(1, DISCOUNT_MONTHS + 1))
    cumulative = np.column_stack(list(horizon_values(predicted, rows, cutoff, months, pinned).values()))
    monthly = np.diff(cumulative, axis=1, prepend=0.0)
    factor = (1.0 + annual_rate) ** -((np.arange(1, DISCOUNT_MONTHS + 1) - 0.5) / 12.0)
    return cast(np.ndarray, monthly @ factor)


@dataclass
class HorizonBands:
    """The calibrated band of each horizon other than the pinned one (:func:`fit_horizon_bands`).

    ``calibrators``: horizon (months) -> its :class:`clv_engine.model.IntervalCalibrator`;
    ``rows``: horizon -> the out-of-sample rows it was calibrated on; ``missing``: horizon ->
    why it has none (too few out-of-sample rows realise it before as_of: with time-based
    validation those rows are the newest cutoff's, which realises the pinned horizon and the
    shorter ones only) and what stands in for it; ``borrowed``: horizon -> the pinned
    horizon's calibrator placed at that horizon's level (:meth:`follow_level`), for the
    missing ones.
    """

    calibrators: dict[int, IntervalCalibrator]
    rows: dict[int, int]
    missing: dict[int, str]
    borrowed: dict[int, IntervalCalibrator] = field(default_factory=dict)

    def describe(self) -> dict[str, str]:
        """Per horizon (``"<h>m"``), in words: what its band was calibrated on, or why it has none."""
        out = {f"{m}m": f"calibrated on {n:,} out-of-sample training rows" for m, n in self.rows.items()}
        out.update({f"{m}m": why for m, why in self.missing.items()})
        return dict(sorted(out.items(), key=lambda kv: int(kv[0][:-1])))

    def follow_level(
        self, values: dict[int, np.ndarray], pinned: IntervalCalibrator | None = None
    ) -> HorizonBands:
        """Place each band's bins at the level of ``values`` (horizon -> clv_<h>m of the
        customers about to be scored; :meth:`clv_engine.model.IntervalCalibrator.follow_level`).

        A horizon without a band of its own borrows ``pinned`` (the pinned horizon's
        calibrator), placed at its own level: its ratios, read at the place each customer's
        clv_<h>m holds among clv_<h>m, not against the pinned forecasts' bins.
        """
        for months, calibrator in self.calibrators.items():
            if months in values:
                calibrator.follow_level(values[months])
        if pinned is not None:
            for months in self.missing:
                if months in values:
                    self.borrowed[months] = copy.copy(pinned).follow_level(values[months])
        return self

    def interval(
        self, months: int, predicted: np.ndarray, p_active: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """(lower, upper) over ``months`` around ``predicted`` (clv_<h>m) with its p_active; None
        for a horizon without a band."""
        # getattr: a bundle saved before bands were borrowed has none (a promoted champion).
        calibrator = self.calibrators.get(months) or getattr(self, "borrowed", {}).get(months)
        return None if calibrator is None else calibrator.interval(predicted, p_active)


def fit_horizon_bands(
    train_rows: pl.DataFrame,
    oos: dict[str, np.ndarray],
    months: Sequence[int],
    pinned: int,
    level: float,
    n_bins: int,
    level_log_errors: np.ndarray | None = None,
) -> HorizonBands:
    """Each other horizon's band, calibrated as the pinned one is, on the same out-of-sample rows.

    ``oos``: :attr:`CLVModel.oos_` (the out-of-sample forecast over the pinned horizon and
    p_active, with their training ``rows``); ``train_rows``: the stacked training rows with
    their curve and labels over each horizon (:func:`clv_engine.dataset.build_dataset`).
    Over h, the forecast and p_active are those of :func:`horizon_values` and
    :func:`horizon_p_active` at each row's cutoff, the actual the label over h; the rows whose
    cutoff + h ends after as_of (older cutoffs only, for h above the pinned horizon) are left
    out. With ``level_log_errors`` (the level's errors over the pinned horizon, which sets
    every horizon's total) the pinned horizon's out-of-sample level error is removed and its
    past errors applied, so each band keeps its own curve's error on top of the level's.
    """
    rows = train_rows[oos["rows"]]
    others = [m for m in months if m != pinned]
    calibrators: dict[int, IntervalCalibrator] = {}
    counts: dict[int, int] = {}
    missing: dict[int, str] = {}
    if not others:
        return HorizonBands(calibrators, counts, missing)
    realised = {}
    for m in others:
        revenue = horizon_label_columns(m)[0]
        done = (
            rows[revenue].is_not_null().to_numpy() if revenue in rows.columns else np.zeros(rows.height, bool)
        )
        if done.sum() >= MIN_BIN_CUSTOMERS:
            realised[m] = done
        else:
            missing[m] = (
                f"not calibrated: fewer than {MIN_BIN_CUSTOMERS} out-of-sample training rows have "
                f"{m} months of log after their cutoff; the {pinned}-month band's ratios are applied "
                f"to clv_{m}m instead, not checked on this log and likely too narrow (they leave out how "
                f"wrong the curve is over {m} months)"
            )
    if not realised:
        return HorizonBands(calibrators, counts, missing)
    values = horizon_values(oos["predicted"], rows, None, list(realised), pinned)
    chances = horizon_p_active(oos["p_active"], rows, None, list(realised), pinned)
    for m, done in realised.items():
        revenue, bought = horizon_label_columns(m)
        pinned_level = float(oos["predicted"][done].sum() / max(oos["actual"][done].sum(), 1e-12))
        calibrators[m] = IntervalCalibrator(level, n_bins).fit(
            values[m][done],
            rows[revenue].to_numpy()[done].astype(float),
            level_log_errors,
            chances[m][done],
            rows[bought].to_numpy()[done].astype(bool),
            level_ratio=pinned_level,
        )
        counts[m] = int(done.sum())
    return HorizonBands(calibrators, counts, missing)
