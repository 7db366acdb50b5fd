"""Business segments: lifecycle stage x status x behaviour -> a named segment and a strategy.

The lifecycle labels come from :mod:`clv_engine.lifecycle` (thresholds in params
``lifecycle``). The first rule of :data:`SEGMENT_RULES` that matches a customer names their
segment (docs/DESIGN.md "Lifecycle rules"); each rule is one record: its name, the rule in
words, the strategy and the predicate (:func:`rules_table` prints them). "low" and "high"
average order value are the ``segments`` quantiles of the scored base unless absolute
amounts are given. A new rule is one more record, in the place of its priority.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from .aggregate import group_sums_means
from .lifecycle import ACTIVE, CHURN_RISK, DORMANT, ESTABLISHED, EXISTING, GROWING, LAGGING, LOYAL, NEW
from .params import ParamsError, SegmentParams

__all__ = [
    "SEGMENT_RULES",
    "AovThresholds",
    "SegmentRule",
    "aov_thresholds",
    "assign_segments",
    "rules_table",
    "segment_summary",
]


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


@dataclass(frozen=True)
class SegmentRule:
    """A business segment: who is in it (``matches``, given the AOV thresholds) and what to do."""

    name: str
    rule: str  # the predicate in words
    strategy: str
    matches: Callable[[AovThresholds], pl.Expr]


_stage, _status = pl.col("customer_stage"), pl.col("status_segment")
_n, _aov = pl.col("n_orders"), pl.col("avg_order_value")

#: The rules in priority order: a customer is in the first segment whose rule matches.
SEGMENT_RULES: tuple[SegmentRule, ...] = (
    SegmentRule(
        "New & active",
        "New and Active",
        "Fast-track onboarding",
        lambda t: (_stage == NEW) & (_status == ACTIVE),
    ),
    SegmentRule(
        "Growing, lagging",
        "Growing and Lagging",
        "Nurture with relevant content",
        lambda t: (_stage == GROWING) & (_status == LAGGING),
    ),
    SegmentRule(
        "Loyal, dormant",
        "Loyal and Dormant",
        "Personalised win-back",
        lambda t: (_stage == LOYAL) & (_status == DORMANT),
    ),
    SegmentRule(
        "Repeat, low basket",
        "2+ orders and AOV <= low",
        "Upsell bundles or a premium offer",
        lambda t: (_n >= 2) & (_aov <= t.low),
    ),
    SegmentRule(
        "One-timer, big basket",
        "1 order and AOV >= high",
        "Incentivise a second purchase",
        lambda t: (_n == 1) & (_aov >= t.high),
    ),
    SegmentRule(
        "Loyal, active",
        "Loyal, Established or Existing, and Active",
        "Reward and retain (loyalty perks)",
        lambda t: _stage.is_in([LOYAL, ESTABLISHED, EXISTING]) & (_status == ACTIVE),
    ),
    SegmentRule(
        "Slipping away",
        "Churn-risk",
        "Low-cost reactivation; stop paid retention if it fails",
        lambda t: _status == CHURN_RISK,
    ),
    SegmentRule("Cooling down", "Dormant", "Time-limited win-back offer", lambda t: _status == DORMANT),
    SegmentRule("Needs a nudge", "Lagging", "Reminder with recommendations", lambda t: _status == LAGGING),
    SegmentRule("Engaged", "everyone else (Active)", "Keep engaged; cross-sell", lambda t: pl.lit(True)),
)


def rules_table() -> str:
    """The rules as a markdown table (segment, rule, strategy), in priority order."""
    rows = [f"| {r.name} | {r.rule} | {r.strategy} |" for r in SEGMENT_RULES]
    return "\n".join(["| segment | rule | strategy |", "|---|---|---|", *rows])


def assign_segments(scored: pl.DataFrame, thresholds: AovThresholds) -> pl.DataFrame:
    """customer_id, customer_stage, status_segment, behaviour, business_segment, strategy.

    ``scored`` needs customer_id, customer_stage, status_segment, behaviour, n_orders and
    avg_order_value (null for customers with no purchase, who never match the AOV rules).
    """
    matched = [(rule, rule.matches(thresholds).fill_null(False)) for rule in SEGMENT_RULES]
    # The first rule that matches: each rule's value where it matches, the first non-null.
    segment = pl.coalesce([pl.when(m).then(pl.lit(rule.name)) for rule, m in matched])
    strategy = pl.coalesce([pl.when(m).then(pl.lit(rule.strategy)) for rule, m in matched])
    return scored.select(
        "customer_id",
        "customer_stage",
        "status_segment",
        "behaviour",
        segment.alias("business_segment"),
        strategy.alias("strategy"),
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
    order = {rule.name: i for i, rule in enumerate(SEGMENT_RULES)}
    sums = group_sums_means(joined, "business_segment", values).rename(
        {"sum_predicted_clv": "predicted_revenue", "mean_predicted_clv": "mean_predicted_clv"}
    )
    extra: list[pl.Expr] = []
    if margin:
        total_margin = float(joined["predicted_margin"].sum()) or 1.0
        extra = [(pl.col("sum_predicted_margin") / total_margin).alias("margin_share")]
    ranked = "sum_predicted_margin" if rank_by == "margin" else "predicted_revenue"
    margin_columns: list[pl.Expr | str] = (
        [pl.col("sum_predicted_margin").alias("predicted_margin"), "margin_share"] if margin else []
    )
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
            *margin_columns,
            f"rank_by_{rank_by}",
        )
    )
