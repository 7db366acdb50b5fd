"""The final per-customer file, data/outputs/clv_predictions.csv (docs/DESIGN.md names its columns).

One row per customer known at as_of, sorted by clv_rank. Money columns are rounded to
cents, probabilities to 6 decimals. After p_active come ``clv_<h>m`` for each of
``score.horizons_months``, ``clv_12m_discounted`` (:mod:`clv_engine.horizons`), where a
margin is known ``predicted_margin`` (:mod:`clv_engine.margin`), then each horizon's band
and p_active, ``clv_lower_<h>m``, ``clv_upper_<h>m``, ``p_active_<h>m`` (reports/model_metadata.json
``horizon_intervals`` says how each band was calibrated). The
horizon (days) and the interval level are in reports/model_metadata.json and the README.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import polars as pl

from .metrics import AMOUNT_DIGITS

__all__ = [
    "PREDICTION_COLUMNS",
    "band_columns",
    "clv_column",
    "clv_columns",
    "predictions_table",
    "round_for_people",
]

PREDICTION_COLUMNS = (
    "customer_id",
    "predicted_clv",
    "clv_lower",
    "clv_upper",
    "p_active",
    "source",
    "clv_rank",
    "clv_percentile",
    "clv_segment",
    "customer_stage",
    "status_segment",
    "behaviour",
    "cluster_id",
    "cluster_probability",
    "value_tier",
    "business_segment",
    "strategy",
    "revenue_sum",
    "n_orders",
    "recency_days",
    "tenure_days",
    "avg_order_value",
    "driver_1",
    "driver_1_value",
    "driver_2",
    "driver_2_value",
    "driver_3",
    "driver_3_value",
    "explanation",
)


def clv_column(months: int) -> str:
    """The column of the forecast over ``months`` (clv_<h>m, :mod:`clv_engine.horizons`)."""
    return f"clv_{months}m"


def band_columns(months: int) -> tuple[str, str, str]:
    """The band and p_active over ``months``: (clv_lower_<h>m, clv_upper_<h>m, p_active_<h>m)."""
    return f"clv_lower_{months}m", f"clv_upper_{months}m", f"p_active_{months}m"


def clv_columns(columns: Sequence[str]) -> list[str]:
    """The clv_<h>m columns among ``columns``, shortest horizon first."""
    found = [c for c in columns if re.fullmatch(r"clv_\d+m", c)]
    return sorted(found, key=lambda c: int(c[4:-1]))


def predictions_table(
    scores: pl.DataFrame, assignments: pl.DataFrame, segments: pl.DataFrame, drivers: pl.DataFrame
) -> pl.DataFrame:
    """Join scores, clusters, segments and SHAP drivers; check one row per customer."""
    seg = segments.select("customer_id", "business_segment", "strategy")
    table = (
        scores.join(assignments, on="customer_id", how="left")
        .join(seg, on="customer_id", how="left")
        .join(drivers, on="customer_id", how="left")
    )
    for name, frame, column in (
        ("cluster assignments", assignments, "cluster_id"),
        ("business segments", segments, "business_segment"),
        ("explanations", drivers, "explanation"),
    ):
        if frame.height != scores.height or table[column].null_count():
            raise ValueError(f"the {name} do not cover the scored customers one for one: rerun dvc repro")
    # clv_<h>m for each of score.horizons_months, then the discounted 12 months (issue 17).
    horizons = clv_columns(scores.columns)
    extra = [c for c in ("clv_12m_discounted", "predicted_margin") if c in scores.columns]
    # Then each horizon's band and p_active (clv_lower_<h>m, clv_upper_<h>m, p_active_<h>m).
    bands = [c for h in horizons for c in band_columns(int(h[4:-1])) if c in scores.columns]
    at = PREDICTION_COLUMNS.index("source")
    columns = [*PREDICTION_COLUMNS[:at], *horizons, *extra, *bands, *PREDICTION_COLUMNS[at:]]
    return round_for_people(table).select(columns).sort("clv_rank")


def round_for_people(frame: pl.DataFrame) -> pl.DataFrame:
    """Money columns to cents (clv_* amounts and any *predicted_* column: predicted_clv,
    a summary's mean_predicted_clv or predicted_revenue; revenue_sum, avg_order_value),
    probabilities (p_active, p_active_<h>m) and a summary's customer_share and revenue_share
    to 6 decimals, clv_percentile to 4.

    Written at 10 significant digits instead, a tier's predicted revenue of 1860.5917175
    read 1860.591717 or 1860.591718 after every revenue was scaled by 1 + 1e-12."""
    chances = [
        c
        for c in frame.columns
        if c == "p_active" or c.startswith("p_active_") or c in ("customer_share", "revenue_share")
    ]
    money = [
        c
        for c, dtype in frame.schema.items()
        if dtype.is_float()
        and (c.startswith("clv_") or "predicted_" in c or c in ("revenue_sum", "avg_order_value"))
        and c != "clv_percentile"
    ]
    percentile = ["clv_percentile"] if "clv_percentile" in frame.columns else []
    return frame.with_columns(
        [_steady_round(c, 2) for c in money]
        + [_steady_round(c, 6) for c in chances]
        + [_steady_round(c, 4) for c in percentile]
    )


def _steady_round(column: str, decimals: int) -> pl.Expr:
    """``column`` to ``decimals`` places, ties decided on the value to 10 significant digits
    (the amount :func:`clv_engine.metrics.same_amounts` compares):
    an average order value of 11.885 is 11.88 whether its float is 11.884999999999998 or
    11.885000000011885 (the same orders with a last-bit difference), not one or the other."""
    return pl.col(column).round_sig_figs(AMOUNT_DIGITS).round(decimals)
