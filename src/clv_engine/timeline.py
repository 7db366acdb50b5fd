"""The time contract: cutoffs, horizons, lookbacks and labels. Nothing else decides dates.

Definitions (docs/DESIGN.md, "The time contract"):

- ``as_of`` is when the forecast is made; ``None`` in params means the last order date.
- A horizon of ``P`` days after a cutoff ``c`` is the window ``(c, c + P]``; a horizon of
  ``H`` months ends ``H`` calendar months after ``c`` (:func:`add_months`).
- The features at ``c`` see orders with ``order_date <= c`` and nothing later; their
  aggregates see the lookback window ``(c - L months, c]``.
- Training cutoffs step back from ``as_of``: ``c_k = as_of - H - k * spacing`` months, so
  every label window ``(c_k, c_k + H]`` ends on or before ``as_of``.
- A cutoff *fits the history* when its lookback window starts on or after the day before
  the first order in the log: the features then see a whole window, as they will at
  scoring time.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

import polars as pl

from .errors import UserError
from .orders import canonical
from .scalars import as_date

__all__ = [
    "DataRangeError",
    "add_months",
    "cutoff_before",
    "fits_history",
    "horizon_days",
    "labels",
    "resolve_as_of",
    "resolve_as_of_for",
    "same_season_cutoff",
    "training_cutoffs",
]


class DataRangeError(UserError, ValueError):
    """The dates asked for do not fit the data (as_of outside the log, too short a log)."""


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by whole calendar months; a month end stays a month end.

    1997-12-31 + 6 -> 1998-06-30; 1997-06-30 + 6 -> 1997-12-31; 1997-01-15 - 3 -> 1996-10-15;
    1998-03-31 - 1 -> 1998-02-28.
    """
    total = day.year * 12 + (day.month - 1) + months
    year, month = divmod(total, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    is_month_end = day.day == calendar.monthrange(day.year, day.month)[1]
    return dt.date(year, month, last if is_month_end else min(day.day, last))


def cutoff_before(end: dt.date, horizon_months: int) -> dt.date:
    """The latest cutoff whose horizon ends on or before ``end``.

    Usually ``end - H months``; but calendar months do not invert exactly (2023-05-30 - 3
    months is 2023-02-28, a month end, and 2023-02-28 + 3 months is 2023-05-31), so the
    cutoff steps back a day at a time until its horizon fits: a label never sees past end.
    """
    cutoff = add_months(end, -horizon_months)
    while add_months(cutoff, horizon_months) > end:
        cutoff -= dt.timedelta(days=1)
    return cutoff


def same_season_cutoff(cutoff: dt.date, horizon_months: int) -> dt.date:
    """The cutoff whose horizon is ``cutoff``'s horizon a year earlier (the same season).

    The training cutoff :func:`training_cutoffs` gives for ``k * spacing = 12 - H``.
    """
    return cutoff_before(add_months(cutoff, horizon_months - 12), horizon_months)


def horizon_days(cutoff: dt.date, horizon_months: int) -> int:
    """Length in days of the horizon ``(cutoff, cutoff + horizon_months]``."""
    return (add_months(cutoff, horizon_months) - cutoff).days


def resolve_as_of(as_of: dt.date | None, first_order: dt.date, last_order: dt.date) -> dt.date:
    """The forecast date: the param, or the last order date when it is ``None``.

    Raises :class:`DataRangeError` when ``as_of`` lies outside the log.
    """
    if as_of is None:
        return last_order
    if as_of < first_order:
        raise DataRangeError(
            f"as_of {as_of} is before the first order in the log ({first_order}); "
            f"set as_of in params.yaml between {first_order} and {last_order}, or null for the last date"
        )
    if as_of > last_order:
        raise DataRangeError(
            f"as_of {as_of} is after the last order in the log ({last_order}): the log would not "
            f"show who bought up to as_of. Set as_of between {first_order} and {last_order}, or null"
        )
    return as_of


def resolve_as_of_for(orders: pl.DataFrame, as_of: dt.date | None) -> dt.date:
    """:func:`resolve_as_of` against the dates of an orders (or transactions) frame."""
    if orders.height == 0:
        raise DataRangeError("the log has no orders")
    return resolve_as_of(as_of, as_date(orders["order_date"].min()), as_date(orders["order_date"].max()))


def fits_history(cutoff: dt.date, lookback_months: int, first_order: dt.date) -> bool:
    """Whether the lookback window ``(cutoff - L, cutoff]`` lies inside the log."""
    return add_months(cutoff, -lookback_months) >= first_order - dt.timedelta(days=1)


@dataclass(frozen=True)
class CutoffPlan:
    """Training cutoffs for one (lookback, horizon) pair, newest first."""

    cutoffs: tuple[dt.date, ...]
    skipped: tuple[dt.date, ...]  # cutoffs wanted but outside the history


def training_cutoffs(
    end: dt.date,
    horizon_months: int,
    lookback_months: int,
    n_cutoffs: int,
    spacing_months: int,
    first_order: dt.date,
) -> CutoffPlan:
    """Cutoffs ``c_k = end - H - k * spacing`` (k = 0..n-1) whose lookback fits the history.

    ``end`` is the last day a label may see (``as_of`` in production, the backtest cutoff in
    a backtest); each ``c_k`` is :func:`cutoff_before` its label end, so no label passes ``end``.
    """
    wanted = [cutoff_before(add_months(end, -k * spacing_months), horizon_months) for k in range(n_cutoffs)]
    kept = tuple(c for c in wanted if fits_history(c, lookback_months, first_order))
    skipped = tuple(c for c in wanted if c not in kept)
    return CutoffPlan(cutoffs=kept, skipped=skipped)


def labels(orders: pl.DataFrame, cutoff: dt.date, horizon_days_: int, floor_at_zero: bool) -> pl.DataFrame:
    """Per customer known at ``cutoff``: what happened in ``(cutoff, cutoff + horizon]``.

    ``orders`` has customer_id, order_date, revenue, is_return (see :mod:`clv_engine.orders`).
    Returns customer_id, label_revenue (net revenue, floored at 0 when ``floor_at_zero``)
    and label_bought (at least one purchase order in the window), sorted by customer_id.
    Customers first seen after ``cutoff`` are absent.
    """
    end = cutoff + dt.timedelta(days=horizon_days_)
    known = orders.filter(pl.col("order_date") <= cutoff).select("customer_id").unique()
    # Only the window's orders are put in canonical order (the sums follow it), not the log.
    window = canonical(orders.filter((pl.col("order_date") > cutoff) & (pl.col("order_date") <= end)))
    agg = (
        window.collect()
        .group_by("customer_id", maintain_order=True)
        .agg(
            pl.col("revenue").sum().alias("label_revenue"),
            (~pl.col("is_return")).any().alias("label_bought"),
        )
    )
    out = known.join(agg, on="customer_id", how="left").with_columns(
        pl.col("label_revenue").fill_null(0.0),
        pl.col("label_bought").fill_null(False),
    )
    if floor_at_zero:
        out = out.with_columns(pl.col("label_revenue").clip(lower_bound=0.0))
    return out.sort("customer_id")
