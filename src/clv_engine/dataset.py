"""Training rows: the customer table at several past cutoffs, each with its label.

For each cutoff ``c`` the features are :func:`clv_engine.features.customer_table` at ``c``
and the label is :func:`clv_engine.timeline.labels` over ``(c, c + horizon]``; customers
first seen after ``c`` are absent from that cutoff's rows. The stacked frame is sorted
by (cutoff, customer_id). :func:`training_set` is the whole recipe the features stage and
the backtest share: cutoffs from params, a seeded customer sample, the stacked rows.

With ``horizons`` (``score.horizons_months``) each cutoff's rows also carry what the other
horizons' intervals are calibrated on (:func:`clv_engine.horizons.fit_horizon_bands`): the
BG/NBD curve columns of :func:`clv_engine.horizons.purchase_curve` (fitted at the cutoff, in
the operational time of the season learned up to the cutoff) and the label over each
horizon h, ``label_revenue_<h>m`` and ``label_bought_<h>m``, null where ``c + h`` ends after
``end``: nothing after ``end`` is read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from .baselines import BtydFits, add_btyd_columns
from .features import customer_table
from .horizons import horizon_label_columns, purchase_curve
from .params import FeatureParams, LabelParams, LifecycleParams, Params
from .scalars import as_date
from .season import fit_season
from .timeline import CutoffPlan, DataRangeError, add_months, horizon_days, labels, training_cutoffs

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
    horizons: Sequence[int] = (),
    end: dt.date | None = None,
) -> pl.DataFrame:
    """Stacked (features at c, label in (c, c + H]) rows for every cutoff.

    ``customers`` restricts the rows to those ids (a sample for a fast search);
    ``horizons`` and ``end``: the other horizons' curve and labels (module docstring).
    """
    if customers is not None:
        orders = orders.filter(pl.col("customer_id").is_in(customers.implode()))
    others = [m for m in horizons if m != horizon_months]
    parts = []
    for cutoff in sorted(cutoffs):
        days = horizon_days(cutoff, horizon_months)
        table, fits = customer_rows(orders, cutoff, lookback_months, horizon_months, features, rules)
        lab = labels(orders, cutoff, days, label_params.floor_at_zero)
        part = table.join(lab, on="customer_id", how="left").with_columns(pl.lit(days).alias("horizon_days"))
        if others:
            every = sorted({*others, horizon_months})
            season = fit_season(orders, cutoff)
            part = purchase_curve(part, fits.beta_geo, cutoff, every, season, buy_months=every)
            part = part.with_columns(_horizon_labels(orders, part, cutoff, others, end, label_params))
        parts.append(part)
    return pl.concat(parts).sort("cutoff", "customer_id")


def _horizon_labels(
    orders: pl.DataFrame,
    rows: pl.DataFrame,
    cutoff: dt.date,
    months: Sequence[int],
    end: dt.date | None,
    label_params: LabelParams,
) -> list[pl.Series]:
    """Each horizon's label columns in the order of ``rows``; null after ``end``."""
    columns = []
    for m in months:
        revenue, bought = horizon_label_columns(m)
        if end is None or add_months(cutoff, m) > end:
            columns += [
                pl.repeat(None, rows.height, dtype=pl.Float64, eager=True).alias(revenue),
                pl.repeat(None, rows.height, dtype=pl.Boolean, eager=True).alias(bought),
            ]
            continue
        lab = labels(orders, cutoff, horizon_days(cutoff, m), label_params.floor_at_zero)
        joined = rows.select("customer_id").join(lab, on="customer_id", how="left", maintain_order="left")
        columns += [
            joined["label_revenue"].fill_null(0.0).alias(revenue),
            joined["label_bought"].fill_null(False).alias(bought),
        ]
    return columns


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
    first = as_date(orders["order_date"].min())
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
        params.score.horizons_months,
        end,
    )
    return TrainingSet(rows, plan, sample)
