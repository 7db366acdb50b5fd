from __future__ import annotations

import math

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from clv_engine.ranking import rank_customers, tier_labels

SHARES = (0.01, 0.05, 0.10, 0.25, 0.50)


def test_tier_labels():
    assert tier_labels(SHARES) == ["Top 1%", "Top 5%", "Top 10%", "Top 25%", "Top 50%", "Bottom 50%"]


def test_ties_broken_by_customer_id_and_tiers_by_rule():
    scores = pl.DataFrame({"customer_id": ["b", "a", "c", "d"], "predicted_clv": [5.0, 5.0, 9.0, 0.0]})
    out = rank_customers(scores, SHARES)
    assert out.select("customer_id", "clv_rank").rows() == [("c", 1), ("a", 2), ("b", 3), ("d", 4)]
    assert out["clv_percentile"].to_list() == [100.0, 75.0, 50.0, 25.0]
    # n = 4: ceil(0.01 * 4) = 1 -> only rank 1 is Top 1%; ceil(0.5 * 4) = 2 -> rank 2 is Top 50%
    assert out["clv_segment"].to_list() == ["Top 1%", "Top 50%", "Bottom 50%", "Bottom 50%"]


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.floats(min_value=0, max_value=1e12, allow_nan=False), min_size=1, max_size=300))
def test_ranks_are_a_permutation_and_tiers_follow_the_rule(values):
    n = len(values)
    scores = pl.DataFrame({"customer_id": [f"c{i:04d}" for i in range(n)], "predicted_clv": values})
    out = rank_customers(scores, SHARES)
    assert sorted(out["clv_rank"].to_list()) == list(range(1, n + 1))
    assert np.all(np.diff(out["predicted_clv"].to_numpy()) <= 0)
    labels = tier_labels(SHARES)
    for rank, segment in out.select("clv_rank", "clv_segment").iter_rows():
        expected = next(
            (lab for s, lab in zip(SHARES, labels, strict=False) if rank <= math.ceil(s * n)), labels[-1]
        )
        assert segment == expected
