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

import datetime as dt
from collections.abc import Sequence

import numpy as np
import polars as pl

from .baselines import btyd_clock
from .btyd import BetaGeoFit
from .season import SeasonFit
from .timeline import horizon_days

__all__ = [
    "DISCOUNT_MONTHS",
    "curve_columns",
    "curve_months",
    "discounted_value",
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


def purchase_curve(
    table: pl.DataFrame,
    fit: BetaGeoFit | None,
    cutoff: dt.date,
    months: Sequence[int],
    season: SeasonFit | None = None,
) -> pl.DataFrame:
    """``table`` with BG/NBD's expected purchases over each of ``months`` after ``cutoff``.

    The customer's history in calendar weeks, as the table's own BTYD columns; each horizon
    in the ``season``'s operational weeks where the log has a season (a month of the peak
    counts for more than a month of the trough), else in calendar weeks. Null without a fit.
    """
    x = table["frequency"].to_numpy().astype(np.float64)
    t_x, big_t, _ = btyd_clock(table, 0, None)
    days = {m: horizon_days(cutoff, m) for m in months}
    length = {m: d / _WEEK for m, d in days.items()}
    if season is not None and season.seasonal and days:
        clock = season.clock(cutoff, cutoff + dt.timedelta(days=max(days.values())))
        length = {m: float(clock[d]) / _WEEK for m, d in days.items()}
    columns = []
    for m, name in zip(months, curve_columns(months), strict=True):
        values = np.full(x.size, np.nan) if fit is None else fit.expected_purchases(x, t_x, big_t, length[m])
        columns.append(pl.Series(name, values, dtype=pl.Float64, nan_to_null=True))
    return table.with_columns(columns)


def _curve(rows: pl.DataFrame, cutoff: dt.date, months: Sequence[int], pinned: int) -> np.ndarray:
    """(customers, months) curve relative to the pinned horizon; linear in days where unknown."""
    names = curve_columns(sorted({*months, pinned}))
    table = rows.select(names).to_numpy().astype(np.float64)
    at = dict(zip(sorted({*months, pinned}), range(len(names)), strict=True))
    base = table[:, at[pinned]]
    known = np.isfinite(base) & (base > 0) & np.all(np.isfinite(table), axis=1)
    linear = np.array([horizon_days(cutoff, m) / horizon_days(cutoff, pinned) for m in months])
    out = np.tile(linear, (rows.height, 1))
    out[known] = table[known][:, [at[m] for m in months]] / base[known, None]
    # The same horizon is the forecast itself (no rounding through the ratio).
    for j, m in enumerate(months):
        if m == pinned:
            out[:, j] = 1.0
    return out


def horizon_values(
    predicted: np.ndarray, rows: pl.DataFrame, cutoff: dt.date, months: Sequence[int], pinned: int
) -> dict[int, np.ndarray]:
    """The forecast over each horizon in ``months``: ``predicted`` times the curve ratio."""
    ratio = _curve(rows, cutoff, months, pinned)
    predicted = np.asarray(predicted, dtype=float)
    values = predicted[:, None] * ratio
    # Never decreasing with the horizon, also where the curve's last bits say otherwise.
    order = np.argsort(months)
    values[:, order] = np.maximum.accumulate(values[:, order], axis=1)
    return {m: values[:, j] for j, m in enumerate(months)}


def discounted_value(
    predicted: np.ndarray, rows: pl.DataFrame, cutoff: dt.date, pinned: int, annual_rate: float
) -> np.ndarray:
    """Expected spend over the next DISCOUNT_MONTHS months, each month discounted to ``cutoff``."""
    months = list(range(1, DISCOUNT_MONTHS + 1))
    cumulative = np.column_stack(list(horizon_values(predicted, rows, cutoff, months, pinned).values()))
    monthly = np.diff(cumulative, axis=1, prepend=0.0)
    factor = (1.0 + annual_rate) ** -((np.arange(1, DISCOUNT_MONTHS + 1) - 0.5) / 12.0)
    return monthly @ factor
