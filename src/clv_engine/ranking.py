"""Ranks, percentiles and value tiers of predicted CLV.

clv_rank: 1 = highest predicted_clv; ties broken by customer_id (ascending), so the
ranking is a permutation of 1..n that never depends on row order.
clv_percentile: 100 * (n - clv_rank + 1) / n: the top customer is 100, the last 100/n.
clv_segment: "Top 1%" when clv_rank <= ceil(0.01 n), and so on for each share in
``score.tier_shares``; the rest is "Bottom 50%" (named after the last share).
"""

from __future__ import annotations

import math

import polars as pl

__all__ = ["rank_customers", "tier_labels"]


def tier_labels(shares: tuple[float, ...]) -> list[str]:
    """["Top 1%", ..., "Top 50%", "Bottom 50%"] for the default shares."""
    return [f"Top {s * 100:g}%" for s in shares] + [f"Bottom {(1 - shares[-1]) * 100:g}%"]


def rank_customers(scores: pl.DataFrame, shares: tuple[float, ...]) -> pl.DataFrame:
    """Add clv_rank, clv_percentile, clv_segment to (customer_id, predicted_clv); sorted by rank."""
    n = scores.height
    ranked = scores.sort(["predicted_clv", "customer_id"], descending=[True, False]).with_columns(
        pl.int_range(1, n + 1, dtype=pl.Int64).alias("clv_rank")
    )
    labels = tier_labels(shares)
    segment = pl.lit(labels[-1])
    for share, label in reversed(list(zip(shares, labels, strict=False))):
        segment = pl.when(pl.col("clv_rank") <= math.ceil(share * n)).then(pl.lit(label)).otherwise(segment)
    return ranked.with_columns(
        (100.0 * (n - pl.col("clv_rank") + 1) / n).alias("clv_percentile"),
        segment.alias("clv_segment"),
    )
