"""Training rows: the customer table at several past cutoffs, each with its label.

For each cutoff ``c`` the features are :func:`clv_engine.features.customer_table` at ``c``
and the label is :func:`clv_engine.timeline.labels` over ``(c, c + horizon]``; customers
first seen after ``c`` are absent from that cutoff's rows. The stacked frame is sorted
by (cutoff, customer_id). The time-based validation split is the newest cutoff.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from .baselines import BtydFits, add_btyd_columns
from .features import customer_table
from .params import FeatureParams, LabelParams, LifecycleParams
from .timeline import horizon_days, labels

__all__ = ["LABEL_COLUMNS", "build_dataset", "customer_rows", "sample_customers", "split_by_time"]

LABEL_COLUMNS = ("horizon_days", "label_revenue", "label_bought")


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


def split_by_time(dataset: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """(train, validation): validation is the newest cutoff, or None with one cutoff."""
    newest = dataset["cutoff"].max()
    if dataset["cutoff"].n_unique() < 2:
        return dataset, None
    return dataset.filter(pl.col("cutoff") < newest), dataset.filter(pl.col("cutoff") == newest)
