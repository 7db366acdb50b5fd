"""Lifecycle rules: customer_stage, status_segment and behaviour, as polars expressions.

The thresholds are :class:`~clv_engine.params.LifecycleParams` (params.yaml ``lifecycle``);
this module is the only place that turns them into labels, so the features, the business
segments and the tests all agree.
"""

from __future__ import annotations

import polars as pl

from .params import LifecycleParams

__all__ = ["BEHAVIOURS", "STAGES", "STATUSES", "behaviour_expr", "stage_expr", "status_expr"]

STAGES = ("New", "Growing", "Established", "Loyal")
STATUSES = ("Active", "Lagging", "Dormant", "Churn-risk")
BEHAVIOURS = ("regular", "irregular", "long-cycle", "one-time", "new")


def stage_expr(rules: LifecycleParams, tenure_days: str = "tenure_days") -> pl.Expr:
    """customer_stage from days since the first order."""
    t = pl.col(tenure_days)
    return (
        pl.when(t <= rules.new_max_tenure_days)
        .then(pl.lit("New"))
        .when(t <= rules.growing_max_tenure_days)
        .then(pl.lit("Growing"))
        .when(t <= rules.established_max_tenure_days)
        .then(pl.lit("Established"))
        .otherwise(pl.lit("Loyal"))
    )


def status_expr(rules: LifecycleParams, recency_days: str = "recency_days") -> pl.Expr:
    """status_segment from days since the last purchase."""
    r = pl.col(recency_days)
    return (
        pl.when(r <= rules.active_max_recency_days)
        .then(pl.lit("Active"))
        .when(r <= rules.lagging_max_recency_days)
        .then(pl.lit("Lagging"))
        .when(r <= rules.dormant_max_recency_days)
        .then(pl.lit("Dormant"))
        .otherwise(pl.lit("Churn-risk"))
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
        .then(pl.lit("one-time"))
        .when(n < rules.min_orders_for_cadence)
        .then(pl.lit("new"))
        .when((g > rules.long_cycle_mean_gap_days) | (c > rules.irregular_max_cv))
        .then(pl.lit("long-cycle"))
        .when(c < rules.regular_max_cv)
        .then(pl.lit("regular"))
        .otherwise(pl.lit("irregular"))
    )
