"""Business segments recomputed from the rules in docs/DESIGN.md equal the module's."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from clv_engine.params import SegmentParams
from clv_engine.segments import SEGMENT_RULES, AovThresholds, aov_thresholds, assign_segments, rules_table

T = AovThresholds(low=20.0, high=80.0)


def by_hand(stage: str, status: str, n: int, aov: float | None) -> str:
    if stage == "New" and status == "Active":
        return "New & active"
    if stage == "Growing" and status == "Lagging":
        return "Growing, lagging"
    if stage == "Loyal" and status == "Dormant":
        return "Loyal, dormant"
    if aov is not None and n >= 2 and aov <= T.low:
        return "Repeat, low basket"
    if aov is not None and n == 1 and aov >= T.high:
        return "One-timer, big basket"
    if stage in ("Loyal", "Established", "Existing") and status == "Active":
        return "Loyal, active"
    return {"Churn-risk": "Slipping away", "Dormant": "Cooling down", "Lagging": "Needs a nudge"}.get(
        status, "Engaged"
    )


rows = st.lists(
    st.tuples(
        st.sampled_from(["New", "Growing", "Established", "Loyal", "Existing"]),
        st.sampled_from(["Active", "Lagging", "Dormant", "Churn-risk"]),
        st.integers(0, 5),
        st.one_of(st.none(), st.floats(0, 200)),
    ),
    min_size=1,
    max_size=80,
)


@settings(max_examples=100, deadline=None)
@given(rows=rows)
def test_rules_match_a_hand_written_version(rows):
    frame = pl.DataFrame(
        {
            "customer_id": [str(i) for i in range(len(rows))],
            "customer_stage": [r[0] for r in rows],
            "status_segment": [r[1] for r in rows],
            "behaviour": ["irregular"] * len(rows),
            "n_orders": [r[2] for r in rows],
            "avg_order_value": [r[3] for r in rows],
        },
        schema_overrides={"avg_order_value": pl.Float64},
    )
    out = assign_segments(frame, T)
    assert out["business_segment"].to_list() == [by_hand(*r) for r in rows]
    strategies = {rule.name: rule.strategy for rule in SEGMENT_RULES}
    assert all(strategies[s] == a for s, a in out.select("business_segment", "strategy").iter_rows())


def test_aov_thresholds_from_quantiles_or_amounts():
    scored = pl.DataFrame({"avg_order_value": [10.0, 20.0, 30.0, 40.0, 50.0, None]})
    t = aov_thresholds(scored, SegmentParams(low_aov_quantile=0.25, high_aov_quantile=0.75))
    assert (t.low, t.high) == (20.0, 40.0)
    t = aov_thresholds(scored, SegmentParams(low_aov=5.0, high_aov=500.0))
    assert (t.low, t.high) == (5.0, 500.0)


def test_every_rule_is_one_record_with_a_unique_name_and_the_table_lists_them_in_order():
    names = [rule.name for rule in SEGMENT_RULES]
    assert len(set(names)) == len(names)
    lines = rules_table().splitlines()
    assert lines[:2] == ["| segment | rule | strategy |", "|---|---|---|"]
    assert [line.split(" | ")[0].removeprefix("| ") for line in lines[2:]] == names
    assert lines[2] == "| New & active | New and Active | Fast-track onboarding |"
