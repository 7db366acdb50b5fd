"""Lifecycle rules: customer_stage, status_segment and behaviour, as polars expressions.

The thresholds are :class:`~clv_engine.params.LifecycleParams` (params.yaml ``lifecycle``);
this module is the only place that turns them into labels, so the features, the business
segments and the tests all agree.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from .params import LifecycleParams
from .scalars import as_date

__all__ = [
    "BEHAVIOURS",
    "STAGES",
    "STATUSES",
    "behaviour_expr",
    "censored_before",
    "stage_expr",
    "status_expr",
]

# Every label, named once: the expressions below and the segment rules read these.
NEW, GROWING, ESTABLISHED, LOYAL, EXISTING = "New", "Growing", "Established", "Loyal", "Existing"
STAGES = (NEW, GROWING, ESTABLISHED, LOYAL, EXISTING)
# "Existing": first seen in the first weeks of a log that starts in the middle of customers'
# lives (lifecycle.log_start); tenure is at least tenure_days, the stage is unknown until
# that lower bound passes established_max_tenure_days (then Loyal).

# The detection of a censored start (censored_before): first sightings in window 0 at
# least _DECAY x window 1's and _SURPLUS x the steady level (the median of windows 3 on,
# over at least _MIN_WINDOWS full windows); the censored part ends at the first window
# back within _STEADY x the steady level.
_DECAY, _SURPLUS, _STEADY, _MIN_WINDOWS = 1.3, 3.0, 1.5, 6
ACTIVE, LAGGING, DORMANT, CHURN_RISK = "Active", "Lagging", "Dormant", "Churn-risk"
STATUSES = (ACTIVE, LAGGING, DORMANT, CHURN_RISK)
REGULAR, IRREGULAR, LONG_CYCLE, ONE_TIME, NEW_CADENCE = (
    "regular",
    "irregular",
    "long-cycle",
    "one-time",
    "new",
)
BEHAVIOURS = (REGULAR, IRREGULAR, LONG_CYCLE, ONE_TIME, NEW_CADENCE)


def censored_before(first_orders: pl.Series, cutoff: dt.date, rules: LifecycleParams) -> dt.date | None:
    """The date before which a customer's first order in the log may not be their first.

    ``first_orders``: each customer's first order date, all on or before ``cutoff`` (only
    what is known at the cutoff is used). None when the log holds first orders
    (``rules.log_start`` complete, or auto without the censored signature: first
    sightings that start high and decay to a steady level, see the constants above).
    ``censored`` without the signature still marks the first window.
    """
    if rules.log_start == "complete" or first_orders.len() == 0:
        return None
    start, width = as_date(first_orders.min()), rules.censoring_window_days
    full = (cutoff - start).days // width
    index = (first_orders - start).dt.total_days().to_numpy() // width
    counts = np.bincount(index[index < full], minlength=full)
    end, detected = 1, False
    if full >= _MIN_WINDOWS:
        steady = max(float(np.median(counts[3:])), 1.0)
        detected = counts[0] >= _DECAY * counts[1] and counts[0] >= _SURPLUS * steady
        back = np.flatnonzero(counts[1:] <= _STEADY * steady)
        end = int(back[0]) + 1 if back.size else full
    if detected or rules.log_start == "censored":
        return start + dt.timedelta(days=end * width)
    return None


def stage_expr(
    rules: LifecycleParams, tenure_days: str = "tenure_days", censored: str | None = None
) -> pl.Expr:
    """customer_stage from days since the first order (``censored``: a boolean column, tenure
    only a lower bound: "Existing" until it passes established_max_tenure_days)."""
    t = pl.col(tenure_days)
    unknown = pl.lit(False) if censored is None else pl.col(censored)
    return (
        pl.when(unknown & (t <= rules.established_max_tenure_days))
        .then(pl.lit(EXISTING))
        .when(t <= rules.new_max_tenure_days)
        .then(pl.lit(NEW))
        .when(t <= rules.growing_max_tenure_days)
        .then(pl.lit(GROWING))
        .when(t <= rules.established_max_tenure_days)
        .then(pl.lit(ESTABLISHED))
        .otherwise(pl.lit(LOYAL))
    )


def status_expr(rules: LifecycleParams, recency_days: str = "recency_days") -> pl.Expr:
    """status_segment from days since the last purchase."""
    r = pl.col(recency_days)
    return (
        pl.when(r <= rules.active_max_recency_days)
        .then(pl.lit(ACTIVE))
        .when(r <= rules.lagging_max_recency_days)
        .then(pl.lit(LAGGING))
        .when(r <= rules.dormant_max_recency_days)
        .then(pl.lit(DORMANT))
        .otherwise(pl.lit(CHURN_RISK))
    )


def behaviour_expr(
    rules: LifecycleParams,
    n_orders: str = "n_orders",
    cv: str = "gap_cv",
    mean_gap_days: str = "gap_mean_days",
) -> pl.Expr:
    """behaviour from the purchase cadence (rules in :class:`LifecycleParams`)."""
    n, c, g = pl.col(n_orders), pl.col(cv), pl.col(mean_gap_days)
    return (
        pl.when(n <= 1)
        .then(pl.lit(ONE_TIME))
        .when(n < rules.min_orders_for_cadence)
        .then(pl.lit(NEW_CADENCE))
        .when((g > rules.long_cycle_mean_gap_days) | (c > rules.irregular_max_cv))
        .then(pl.lit(LONG_CYCLE))
        .when(c < rules.regular_max_cv)
        .then(pl.lit(REGULAR))
        .otherwise(pl.lit(IRREGULAR))
    )
