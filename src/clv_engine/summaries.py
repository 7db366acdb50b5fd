"""Business-facing summaries of clusters and value tiers.

The plain-words profile of a cluster ("many orders (11 vs 2), bought recently (45 vs 260
days ago); mostly active") says what sets it apart from the whole scored base: for each
clustering feature whose median in the cluster differs from the base's, where the
cluster's median falls in the base's distribution (its mid-rank percentile); the feature
furthest from the base's middle is named, and the next ones (at most MAX_TRAITS in all)
where they are at least TRAIT_DISTANCE away, each with the cluster's median against the
base's. Then its most common status, and its lifecycle stage
where the clusters' stages differ. Its suggested action is the strategy that the
business-segment rules (:mod:`clv_engine.segments`) give to a customer with the cluster's
typical values, so clusters and segments never contradict each other, followed by how to
apply it to this cluster, from the trait that sets it apart most (:data:`_FOCUS`: bigger
baskets -> lead with the premium range; shorter gaps -> act within weeks); where two clusters
would still read the same, their second trait is added too.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from .aggregate import group_sums_means
from .segments import AovThresholds, assign_segments

__all__ = ["cluster_summary", "cluster_traits", "tier_rankings"]

#: At most this many traits per profile, each at least TRAIT_DISTANCE from the base's median
#: (in percentile: 0.15 = the cluster's median is beyond the base's 35th-65th percentiles).
MAX_TRAITS = 3
TRAIT_DISTANCE = 0.15

#: Words for a cluster below / above the base on a feature, and how to show its value.
_TRAIT_WORDS: dict[str, tuple[str, str, str]] = {
    "recency_days": ("bought more recently", "longer since the last order", "{:,.0f} vs {:,.0f} days ago"),
    "tenure_days": ("newer customers", "customers for longer", "{:,.0f} vs {:,.0f} days"),
    "n_orders": ("fewer orders", "more orders", "{:,.3g} vs {:,.3g}"),
    "avg_order_value": ("smaller baskets", "bigger baskets", "{:,.2f} vs {:,.2f} per order"),
    "gap_mean_days": ("shorter gaps between orders", "longer gaps between orders", "{:,.0f} vs {:,.0f} days"),
    "return_share": ("fewer returns", "more returns", "{:.0%} vs {:.0%} of spend"),
}


#: How to apply a strategy to a cluster that stands out on a feature (below / above the base).
_FOCUS: dict[str, tuple[str, str]] = {
    "recency_days": (
        "reach them first: their last order is more recent than most",
        "one last offer, then stop",
    ),
    "tenure_days": ("a welcome series towards the next order", "thank them for their years with you"),
    "n_orders": ("give them a reason for one more order", "recognise their many orders (early access)"),
    "avg_order_value": ("cheap channels only (small baskets)", "lead with the premium range (big baskets)"),
    "gap_mean_days": ("they buy often: act within weeks", "time contacts to their long buying cycle"),
    "return_share": ("they keep what they buy: promote freely", "find out why they return goods first"),
}


def _mid_rank(values: np.ndarray, at: float) -> float:
    """Share of ``values`` below ``at``, counting ties as half (values without NaN)."""
    return float((np.sum(values < at) + 0.5 * np.sum(values == at)) / values.size)


def cluster_traits(data: pl.DataFrame, base: pl.DataFrame, features: tuple[str, ...]) -> pl.DataFrame:
    """cluster_id, traits: what sets each cluster of ``data`` apart from ``base`` (module doc)."""
    medians = data.group_by("cluster_id").agg([pl.col(f).median() for f in features]).sort("cluster_id")
    columns = {f: base[f].cast(pl.Float64).drop_nulls().drop_nans().to_numpy() for f in features}
    out = []
    for row in medians.iter_rows(named=True):
        found = []
        for f in features:
            values, median = columns[f], row[f]
            if median is None or values.size == 0 or np.isnan(median):
                continue
            base_median = float(np.median(values))
            distance = _mid_rank(values, median) - 0.5
            if median == base_median or distance == 0:
                continue
            label = f.replace("_", " ")
            low, high, shown = _TRAIT_WORDS.get(
                f, (f"lower {label}", f"higher {label}", "{:,.3g} vs {:,.3g}")
            )
            words = high if distance > 0 else low
            text = f"{words} ({shown.format(median, base_median)})"
            found.append((-abs(distance), f, text, _FOCUS.get(f, ("", ""))[int(distance > 0)]))
        found.sort()
        kept = [
            (text, focus) for k, (d, _, text, focus) in enumerate(found) if k == 0 or -d >= TRAIT_DISTANCE
        ]
        traits = ", ".join(text for text, _ in kept[:MAX_TRAITS])
        out.append(
            {
                "cluster_id": row["cluster_id"],
                "traits": traits or "close to the base on every measure",
                "focus": [focus for _, focus in kept[:MAX_TRAITS] if focus],
            }
        )
    schema = {"cluster_id": data["cluster_id"].dtype, "traits": pl.String(), "focus": pl.List(pl.String)}
    return pl.DataFrame(out, schema=schema)


def _actions(strategy: list[str], focus: list[list[str]]) -> list[str]:
    """Each cluster's strategy with its first focus; the second too where two would read the same."""
    first = [f"{s}; {f[0]}" if f else s for s, f in zip(strategy, focus, strict=True)]
    return [
        f"{a}; {f[1]}" if first.count(a) > 1 and len(f) > 1 else a for a, f in zip(first, focus, strict=True)
    ]


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
    # The stage is named only where clusters differ in it (on a one-cohort log all are Loyal).
    stage = (
        pl.format("{} customers, ", pl.col("customer_stage").str.to_lowercase())
        if summary["customer_stage"].n_unique() > 1
        else pl.lit("")
    )
    summary = summary.join(
        cluster_traits(data, scored, features), on="cluster_id", how="left", maintain_order="left"
    ).with_columns(
        pl.format("{}{}; mostly {}", stage, "traits", pl.col("status_segment").str.to_lowercase()).alias(
            "profile"
        ),
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
        "strategy",
    )
    actions = actions.join(summary.select("cluster_id", "focus"), on="cluster_id", maintain_order="left")
    actions = actions.with_columns(
        pl.Series("suggested_action", _actions(actions["strategy"].to_list(), actions["focus"].to_list()))
    ).drop("strategy", "focus")
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
    out = summary.join(actions, on="cluster_id").drop("_n_orders", "_aov", "value_tier", "traits", "focus")
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
