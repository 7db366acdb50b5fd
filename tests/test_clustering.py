from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from sklearn.datasets import make_blobs

from clv_engine.clustering import cluster_customers, select_k, value_tiers
from clv_engine.params import ClusterParams


@pytest.mark.parametrize("method", ["gmm", "kmeans"])
@pytest.mark.parametrize("true_k", [3, 5])
def test_k_selection_recovers_true_k_on_blobs(method, true_k):
    x, _ = make_blobs(n_samples=1500, centers=true_k, cluster_std=0.6, random_state=true_k, n_features=4)
    k, scores = select_k(x, ClusterParams(method=method, k_min=2, k_max=8), seed=0)
    assert k == true_k
    assert set(scores) == set(range(2, 9))


def _scored(n: int, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 3, n)
    return pl.DataFrame(
        {
            "customer_id": [f"c{i:05d}" for i in range(n)],
            "recency_days": np.where(group == 0, rng.integers(0, 30, n), rng.integers(100, 400, n)),
            "tenure_days": rng.integers(200, 500, n),
            "n_orders": np.where(group == 2, rng.integers(5, 20, n), rng.integers(1, 3, n)),
            "avg_order_value": rng.gamma(2.0, 20.0, n),
            "gap_mean_days": [
                float(v) if g == 2 else None for v, g in zip(rng.uniform(10, 30, n), group, strict=True)
            ],
            "return_share": np.zeros(n),
            "predicted_clv": rng.gamma(1.0, 30.0, n) * (1 + 3 * (group == 2)),
        }
    )


def test_clusters_are_deterministic_cover_everyone_and_are_ranked_by_value():
    scored = _scored(3000)
    params = ClusterParams(k_min=2, k_max=6)
    a = cluster_customers(scored, params, seed=7)
    b = cluster_customers(
        scored.sample(fraction=1.0, shuffle=True, seed=3).sort("customer_id"), params, seed=7
    )
    assert a.assignments.equals(b.assignments)
    assert a.assignments["customer_id"].to_list() == scored["customer_id"].to_list()
    assert a.assignments["cluster_probability"].is_between(0, 1).all()
    medians = (
        scored.join(a.assignments, on="customer_id")
        .group_by("cluster_id")
        .agg(pl.col("predicted_clv").median())
        .sort("cluster_id")["predicted_clv"]
        .to_numpy()
    )
    assert np.all(np.diff(medians) <= 0)  # cluster 1 has the highest median predicted CLV


def test_degenerate_clusters_lower_k():
    scored = _scored(2000)
    result = cluster_customers(scored, ClusterParams(k_min=2, k_max=8, min_cluster_share=0.3), seed=1)
    shares = result.assignments["cluster_id"].value_counts()["count"].to_numpy() / scored.height
    assert shares.min() >= 0.3 or result.k == 2
    assert any("refitted with K=" in note for note in result.notes) or result.k <= 3


def test_value_tiers_ranked_by_median():
    scored = _scored(2000)
    tiers = value_tiers(scored, 4, seed=0)
    medians = (
        scored.join(tiers, on="customer_id")
        .group_by("value_tier")
        .agg(pl.col("predicted_clv").median())
        .sort("value_tier")
    )
    assert medians["value_tier"].to_list() == [1, 2, 3, 4]
    assert np.all(np.diff(medians["predicted_clv"].to_numpy()) < 0)
