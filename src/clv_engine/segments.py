"""Business segments: lifecycle stage x status x behaviour -> a named segment and a strategy.

The lifecycle labels come from :mod:`clv_engine.lifecycle` (thresholds in params
``lifecycle``). The first rule that matches a customer names its segment (docs/DESIGN.md
"Lifecycle rules"); "low" and "high" average order value are the ``segments``
quantiles of the scored base unless absolute amounts are given.

| segment | rule | strategy |
|---|---|---|
| New & active | New and Active | Fast-track onboarding |
| Growing, lagging | Growing and Lagging | Nurture with relevant content |
| Loyal, dormant | Loyal and Dormant | Personalised win-back |
| Repeat, low basket | 2+ orders and AOV <= low | Upsell bundles or a premium offer |
| One-timer, big basket | 1 order and AOV >= high | Incentivise a second purchase |
| Loyal, active | Loyal, Established or Existing, and Active | Reward and retain (loyalty perks) |
| Slipping away | Churn-risk | Low-cost reactivation; stop paid retention if it fails |
| Cooling down | Dormant | Time-limited win-back offer |
| Needs a nudge | Lagging | Reminder with recommendations |
| Engaged | everyone else (Active) | Keep engaged; cross-sell |
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from .aggregate import group_sums_means
from .params import ParamsError, SegmentParams

__all__ = ["SEGMENT_RULES", "AovThresholds", "aov_thresholds", "assign_segments", "segment_summary"]

# (segment, strategy) in rule order; the predicate for each is in _rule_predicates.
SEGMENT_RULES: tuple[tuple[str, str], ...] = (
    ("New & active", "Fast-track onboarding"),
    ("Growing, lagging", "Nurture with relevant content"),
    ("Loyal, dormant", "Personalised win-back"),
    ("Repeat, low basket", "Upsell bundles or a premium offer"),
    ("One-timer, big basket", "Incentivise a second purchase"),
    ("Loyal, active", "Reward and retain (loyalty perks)"),
    ("Slipping away", "Low-cost reactivation; stop paid retention if it fails"),
    ("Cooling down", "Time-limited win-back offer"),
    ("Needs a nudge", "Reminder with recommendations"),
    ("Engaged", "Keep engaged; cross-sell"),
)


@dataclass(frozen=True)
class AovThresholds:
    low: float
    high: float


def aov_thresholds(scored: pl.DataFrame, params: SegmentParams) -> AovThresholds:
    """Low/high average order value: absolute params, else quantiles of the scored base."""
    aov = scored["avg_order_value"].drop_nulls()
    low = (
        params.low_aov if params.low_aov is not None else float(aov.quantile(params.low_aov_quantile) or 0.0)
    )
    high = (
        params.high_aov
        if params.high_aov is not None
        else float(aov.quantile(params.high_aov_quantile) or 0.0)
    )
    return AovThresholds(low=low, high=high)


def _rule_predicates(t: AovThresholds) -> list[pl.Expr]:
    stage, status = pl.col("customer_stage"), pl.col("status_segment")
    n, aov = pl.col("n_orders"), pl.col("avg_order_value")
    return [
        (stage == "New") & (status == "Active"),
        (stage == "Growing") & (status == "Lagging"),
        (stage == "Loyal") & (status == "Dormant"),
        (n >= 2) & (aov <= t.low),
        (n == 1) & (aov >= t.high),
        stage.is_in(["Loyal", "Established", "Existing"]) & (status == "Active"),
        status == "Churn-risk",
        status == "Dormant",
        status == "Lagging",
        pl.lit(True),
    ]


def assign_segments(scored: pl.DataFrame, thresholds: AovThresholds) -> pl.DataFrame:
    """customer_id, customer_stage, status_segment, behaviour, business_segment, strategy.

    ``scored`` needs customer_id, customer_stage, status_segment, behaviour, n_orders and
    avg_order_value (null for customers with no purchase, who never match the AOV rules).
    """
    segment: pl.Expr | None = None
    strategy: pl.Expr | None = None
    for predicate, (name, action) in zip(_rule_predicates(thresholds), SEGMENT_RULES, strict=True):
        cond = predicate.fill_null(False)
        if segment is None:
            segment, strategy = pl.when(cond).then(pl.lit(name)), pl.when(cond).then(pl.lit(action))
        else:
            segment, strategy = (
                segment.when(cond).then(pl.lit(name)),
                strategy.when(cond).then(pl.lit(action)),
            )
    assert segment is not None and strategy is not None
    return scored.select(
        "customer_id",
        "customer_stage",
        "status_segment",
        "behaviour",
        segment.otherwise(None).alias("business_segment"),
        strategy.otherwise(None).alias("strategy"),
    )


def segment_summary(segments: pl.DataFrame, scores: pl.DataFrame, rank_by: str = "revenue") -> pl.DataFrame:
    """Per business segment: customers, share, total and median predicted CLV, share of revenue
    (and of margin where scores have predicted_margin), ranked by ``rank_by`` (1 = the most).

    ``rank_by = "margin"`` without a predicted_margin is a :class:`ParamsError` that says what
    to set."""
    margin = "predicted_margin" in scores.columns
    if rank_by == "margin" and not margin:
        raise ParamsError(
            "segments.rank_by is margin, but there is no predicted margin: map the profit column "
            "(ingest.columns.margin) or set value.margin_rate, or set segments.rank_by: revenue"
        )
    values = ["predicted_clv", *(["predicted_margin"] if margin else [])]
    joined = segments.join(scores.select("customer_id", *values), on="customer_id")
    total_customers, total_value = joined.height, float(joined["predicted_clv"].sum()) or 1.0
    order = {name: i for i, (name, _) in enumerate(SEGMENT_RULES)}
    sums = group_sums_means(joined, "business_segment", values).rename(
        {"sum_predicted_clv": "predicted_revenue", "mean_predicted_clv": "mean_predicted_clv"}
    )
    extra: list[pl.Expr] = []
    if margin:
        total_margin = float(joined["predicted_margin"].sum()) or 1.0
        extra = [(pl.col("sum_predicted_margin") / total_margin).alias("margin_share")]
    ranked = "sum_predicted_margin" if rank_by == "margin" else "predicted_revenue"
    return (
        joined.group_by("business_segment", "strategy")
        .agg(
            pl.len().alias("customers"),
            pl.col("predicted_clv").median().alias("median_predicted_clv"),
        )
        .join(sums, on="business_segment")
        .with_columns(
            (pl.col("customers") / total_customers).alias("customer_share"),
            (pl.col("predicted_revenue") / total_value).alias("revenue_share"),
            pl.col("business_segment").replace_strict(order, return_dtype=pl.Int64).alias("_order"),
            *extra,
        )
        .sort([ranked, "_order"], descending=[True, False])
        .with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(f"rank_by_{rank_by}"))
        .select(
            "business_segment",
            "strategy",
            "customers",
            "predicted_revenue",
            "median_predicted_clv",
            "mean_predicted_clv",
            "customer_share",
            "revenue_share",
            *([pl.col("sum_predicted_margin").alias("predicted_margin"), "margin_share"] if margin else []),
            f"rank_by_{rank_by}",
        )
    )
