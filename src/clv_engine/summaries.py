"""Business-facing summaries of clusters and value tiers.

The plain-words profile of a cluster ("Loyal, frequent, low AOV, lagging") is its most
common lifecycle stage, its median number of orders (one-time = 1, frequent = at or above
the base's 75th percentile, occasional between), its median average order value against
the segment thresholds (low / mid / high) and its most common status. Its suggested
action is the strategy that the business-segment rules (:mod:`clv_engine.segments`) give
to a customer with the cluster's typical values, so clusters and segments never
contradict each other.
"""

from __future__ import annotations

import polars as pl

from .aggregate import group_sums_means
from .segments import AovThresholds, assign_segments

__all__ = ["cluster_summary", "tier_rankings"]


def cluster_summary(
    scored: pl.DataFrame,
    assignments: pl.DataFrame,
    tiers: pl.DataFrame,
    thresholds: AovThresholds,
    features: tuple[str, ...],
) -> pl.DataFrame:
    """One row per cluster: size, value, feature means, profile and suggested action."""
    data = scored.join(assignments, on="customer_id").join(tiers, on="customer_id")
    n, total = data.height, float(data["predicted_clv"].sum()) or 1.0
    # Sums and means come from group_sums_means (same bits on every run); the rest from polars.
    sums = group_sums_means(data, "cluster_id", ["predicted_clv", *features]).rename(
        {"sum_predicted_clv": "predicted_revenue"}
    )
    summary = (
        data.sort("customer_id")
        .group_by("cluster_id")
        .agg(
            pl.len().alias("customers"),
            pl.col("predicted_clv").median().alias("median_predicted_clv"),
            pl.col("value_tier").median().round(0).cast(pl.Int64).alias("value_tier"),
            pl.col("n_orders").median().round(0).cast(pl.Int64).alias("_n_orders"),
            pl.col("avg_order_value").median().alias("_aov"),
            pl.col("customer_stage").sort().mode().first().alias("customer_stage"),
            pl.col("status_segment").sort().mode().first().alias("status_segment"),
            pl.col("behaviour").sort().mode().first().alias("behaviour"),
        )
        .join(sums, on="cluster_id")
        .select(
            "cluster_id",
            "customers",
            "median_predicted_clv",
            "mean_predicted_clv",
            "predicted_revenue",
            "value_tier",
            *[f"mean_{f}" for f in features],
            "_n_orders",
            "_aov",
            "customer_stage",
            "status_segment",
            "behaviour",
        )
        .with_columns(
            (pl.col("customers") / n).alias("customer_share"),
            (pl.col("predicted_revenue") / total).alias("revenue_share"),
        )
        .sort("cluster_id")
    )
    frequent = max(2.0, float(scored["n_orders"].quantile(0.75) or 2.0))
    orders = pl.col("_n_orders")
    frequency = (
        pl.when(orders <= 1)
        .then(pl.lit("one-time"))
        .when(orders >= frequent)
        .then(pl.lit("frequent"))
        .otherwise(pl.lit("occasional"))
    )
    aov = pl.col("_aov")
    aov_level = (
        pl.when(aov <= thresholds.low)
        .then(pl.lit("low"))
        .when(aov >= thresholds.high)
        .then(pl.lit("high"))
        .otherwise(pl.lit("mid"))
    )
    summary = summary.with_columns(
        pl.format(
            "{}, {}, {} AOV, {}",
            "customer_stage",
            frequency,
            aov_level,
            pl.col("status_segment").str.to_lowercase(),
        ).alias("profile"),
        pl.format("Tier {}", "value_tier").alias("clv_tier"),
    )
    typical = summary.select(
        pl.col("cluster_id").cast(pl.String).alias("customer_id"),
        "customer_stage",
        "status_segment",
        "behaviour",
        pl.col("_n_orders").alias("n_orders"),
        pl.col("_aov").alias("avg_order_value"),
    )
    actions = assign_segments(typical, thresholds).select(
        pl.col("customer_id").cast(pl.Int64).alias("cluster_id"),
        pl.col("business_segment").alias("typical_segment"),
        pl.col("strategy").alias("suggested_action"),
    )
    leading = [
        "cluster_id",
        "clv_tier",
        "profile",
        "suggested_action",
        "typical_segment",
        "customers",
        "customer_share",
        "median_predicted_clv",
        "mean_predicted_clv",
        "predicted_revenue",
        "revenue_share",
    ]
    out = summary.join(actions, on="cluster_id").drop("_n_orders", "_aov", "value_tier")
    return out.select(leading + [c for c in out.columns if c not in leading])


def tier_rankings(scored: pl.DataFrame, tiers: pl.DataFrame) -> pl.DataFrame:
    """Value tiers ranked by median predicted CLV (clv_cluster_rankings.csv)."""
    data = scored.select("customer_id", "predicted_clv").join(tiers, on="customer_id")
    n, total = data.height, float(data["predicted_clv"].sum()) or 1.0
    sums = group_sums_means(data, "value_tier", ["predicted_clv"]).rename(
        {"sum_predicted_clv": "predicted_revenue"}
    )
    return (
        data.group_by("value_tier")
        .agg(
            pl.len().alias("customers"),
            pl.col("predicted_clv").min().alias("min_predicted_clv"),
            pl.col("predicted_clv").median().alias("median_predicted_clv"),
            pl.col("predicted_clv").max().alias("max_predicted_clv"),
        )
        .join(sums, on="value_tier")
        .select(
            "value_tier",
            "customers",
            "min_predicted_clv",
            "median_predicted_clv",
            "mean_predicted_clv",
            "max_predicted_clv",
            "predicted_revenue",
        )
        .with_columns(
            (pl.col("customers") / n).alias("customer_share"),
            (pl.col("predicted_revenue") / total).alias("revenue_share"),
            pl.col("value_tier").alias("rank_by_median_clv"),
        )
        .sort("value_tier")
    )
