from __future__ import annotations

import numpy as np
import polars as pl

from clv_engine.aggregate import group_sums_means


def test_sums_and_means_skip_nulls_and_match_polars():
    f = pl.DataFrame(
        {"g": ["b", "a", "b", "a"], "customer_id": ["1", "2", "3", "4"], "x": [1.0, 2.0, None, 4.0]}
    )
    out = group_sums_means(f, "g", ["x"])
    assert out.rows() == [("a", 6.0, 3.0), ("b", 1.0, 1.0)]


def test_same_bits_whatever_the_row_order():
    rng = np.random.default_rng(0)
    n = 50_000
    f = pl.DataFrame(
        {
            "g": rng.choice(["x", "y"], n),
            "customer_id": [f"c{i:06d}" for i in range(n)],
            "v": rng.gamma(0.5, 30.0, n),
        }
    )
    a = group_sums_means(f, "g", ["v"])
    b = group_sums_means(f.sample(fraction=1.0, shuffle=True, seed=3), "g", ["v"])
    assert a.equals(b)
    expected = f.group_by("g").agg(pl.col("v").mean()).sort("g")["v"].to_numpy()
    np.testing.assert_allclose(a["mean_v"].to_numpy(), expected, rtol=1e-12)
