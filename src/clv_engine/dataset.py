"""Training rows: the customer table at several past cutoffs, each with its label.

For each cutoff ``c`` the features are :func:`clv_engine.features.customer_table` at ``c``
and the label is :func:`clv_engine.timeline.labels` over ``(c, c + horizon]``; customers
first seen after ``c`` are absent from that cutoff's rows. The stacked frame is sorted
by (cutoff, customer_id). :func:`training_set` is the whole recipe the features stage and
the backtest share: cutoffs from params, a seeded customer sample, the stacked rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from .baselines import BtydFits, add_btyd_columns
from .features import customer_table
from .params import FeatureParams, LabelParams, LifecycleParams, Params
from .timeline import CutoffPlan, DataRangeError, horizon_days, labels, training_cutoffs

__all__ = ["TrainingSet", "build_dataset", "customer_rows", "sample_customers", "training_set"]


def sample_customers(orders: pl.DataFrame, cutoff: dt.date, limit: int, seed: int) -> pl.Series | None:
    """A seeded sample of ``limit`` customers known at ``cutoff``, or None when all fit."""
    known = orders.filter(pl.col("order_date") <= cutoff)["customer_id"].unique().sort()
    if known.len() <= limit:
        return None
    return known.sample(limit, seed=seed).sort()


def customer_rows(
    orders: pl.DataFrame,
    cutoff: dt.date,
    lookback_months: int,
    horizon_months: int,
    features: FeatureParams,
    rules: LifecycleParams,
) -> tuple[pl.DataFrame, BtydFits]:
    """The customer table at ``cutoff`` plus the BTYD columns fitted on it (no labels)."""
    table = customer_table(orders, cutoff, lookback_months, horizon_months, features, rules)
    return add_btyd_columns(table, horizon_days(cutoff, horizon_months))


def build_dataset(
    orders: pl.DataFrame,
    cutoffs: Sequence[dt.date],
    lookback_months: int,
    horizon_months: int,
    features: FeatureParams,
    rules: LifecycleParams,
    label_params: LabelParams,
    customers: pl.Series | None = None,
) -> pl.DataFrame:
    """Stacked (features at c, label in (c, c + H]) rows for every cutoff.

    ``customers`` restricts the rows to those ids (a sample for a fast search).
    """
    if customers is not None:
        orders = orders.filter(pl.col("customer_id").is_in(customers.implode()))
    parts = []
    for cutoff in sorted(cutoffs):
        days = horizon_days(cutoff, horizon_months)
        table, _ = customer_rows(orders, cutoff, lookback_months, horizon_months, features, rules)
        lab = labels(orders, cutoff, days, label_params.floor_at_zero)
        parts.append(
            table.join(lab, on="customer_id", how="left").with_columns(pl.lit(days).alias("horizon_days"))
        )
    return pl.concat(parts).sort("cutoff", "customer_id")


@dataclass(frozen=True)
class TrainingSet:
    rows: pl.DataFrame
    plan: CutoffPlan
    sample: pl.Series | None  # the customers sampled (training.max_customers), None = all


def training_set(
    orders: pl.DataFrame, end: dt.date, lookback_months: int, horizon_months: int, params: Params
) -> TrainingSet:
    """Stacked training rows whose labels end on or before ``end`` (params ``training``)."""
    t = params.training
    first = orders["order_date"].min()
    plan = training_cutoffs(end, horizon_months, lookback_months, t.n_cutoffs, t.spacing_months, first)
    if not plan.cutoffs:
        raise DataRangeError(
            f"no training cutoff fits lookback {lookback_months} m + horizon {horizon_months} m before {end}"
        )
    sample = sample_customers(orders, max(plan.cutoffs), t.max_customers, params.seed)
    rows = build_dataset(
        orders,
        plan.cutoffs,
        lookback_months,
        horizon_months,
        params.features,
        params.lifecycle,
        params.labels,
        sample,
    )
    return TrainingSet(rows, plan, sample)
