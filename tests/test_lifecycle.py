"""Lifecycle labels (src/clv_engine/lifecycle.py): every threshold at its boundary, by hand."""

from __future__ import annotations

import polars as pl

from clv_engine.lifecycle import BEHAVIOURS, STAGES, STATUSES, behaviour_expr, stage_expr, status_expr
from clv_engine.params import LifecycleParams

RULES = LifecycleParams()  # New <= 90 < Growing <= 180 < Established <= 365 < Loyal


def _labels(frame: pl.DataFrame, expr: pl.Expr) -> list[str]:
    return frame.select(expr.alias("label"))["label"].to_list()


def test_stage_boundaries_belong_to_the_younger_stage():
    tenure = pl.DataFrame({"tenure_days": [0, 90, 91, 180, 181, 365, 366, 4000]})
    assert _labels(tenure, stage_expr(RULES)) == [
        "New",
        "New",
        "Growing",
        "Growing",
        "Established",
        "Established",
        "Loyal",
        "Loyal",
    ]


def test_a_censored_tenure_is_existing_until_it_passes_established():
    # tenure is only a lower bound: 40 days seen may be years of life, so not "New"
    frame = pl.DataFrame({"tenure_days": [40, 365, 366, 40], "censored": [True, True, True, False]})
    assert _labels(frame, stage_expr(RULES, censored="censored")) == ["Existing", "Existing", "Loyal", "New"]


def test_status_boundaries_follow_the_recency_thresholds():
    recency = pl.DataFrame({"recency_days": [0, 30, 31, 90, 91, 180, 181]})
    assert _labels(recency, status_expr(RULES)) == [
        "Active",
        "Active",
        "Lagging",
        "Lagging",
        "Dormant",
        "Dormant",
        "Churn-risk",
    ]


def test_behaviour_reads_orders_first_then_gap_then_regularity():
    frame = pl.DataFrame(
        {
            "n_orders": [1, 2, 3, 3, 3, 3, 3, 3],
            "gap_cv": [None, 0.1, 0.1, 0.5, 1.0, 1.01, 0.1, 0.49],
            "gap_mean_days": [None, 20.0, 20.0, 20.0, 20.0, 20.0, 91.0, 90.0],
        }
    )
    assert _labels(frame, behaviour_expr(RULES)) == [
        "one-time",  # a single order: no cadence at all
        "new",  # fewer than min_orders_for_cadence (3)
        "regular",  # cv < 0.5
        "irregular",  # 0.5 <= cv <= 1.0
        "irregular",
        "long-cycle",  # cv > 1.0
        "long-cycle",  # mean gap > 90 days, however regular
        "regular",  # a mean gap of exactly 90 is not long
    ]


def test_thresholds_come_from_the_params_and_labels_from_the_declared_sets():
    rules = LifecycleParams(new_max_tenure_days=10, active_max_recency_days=5)
    frame = pl.DataFrame(
        {
            "tenure_days": [10, 11],
            "recency_days": [5, 6],
            "n_orders": [4, 4],
            "gap_cv": [0.2, 2.0],
            "gap_mean_days": [10.0, 10.0],
        }
    )
    stages, statuses = _labels(frame, stage_expr(rules)), _labels(frame, status_expr(rules))
    behaviours = _labels(frame, behaviour_expr(rules))
    assert stages == ["New", "Growing"] and statuses == ["Active", "Lagging"]
    assert (
        set(stages) <= set(STAGES) and set(statuses) <= set(STATUSES) and set(behaviours) <= set(BEHAVIOURS)
    )
