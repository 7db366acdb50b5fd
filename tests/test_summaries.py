"""Cluster profiles name what sets each cluster apart from the base (issue 20)."""

import polars as pl

from clv_engine.summaries import cluster_traits


def _base() -> tuple[pl.DataFrame, pl.DataFrame]:
    # 300 customers in three clusters: frequent recent buyers, lapsed one-timers with big
    # baskets, and a middle group like the base. Everyone has the same tenure.
    rows = []
    for i in range(300):
        cluster = i % 3
        rows.append(
            {
                "customer_id": f"c{i:03d}",
                "recency_days": [20, 400, 150][cluster] + i % 7,
                "tenure_days": 500,
                "n_orders": [12, 1, 3][cluster],
                "avg_order_value": [30.0, 120.0, 45.0][cluster] + i % 5,
                "gap_mean_days": [25.0, None, 90.0][cluster],
                "cluster_id": cluster + 1,
            }
        )
    data = pl.DataFrame(rows)
    return data.drop("cluster_id"), data.select("customer_id", "cluster_id")


def test_traits_say_what_distinguishes_each_cluster_from_the_base():
    scored, assignments = _base()
    features = ("recency_days", "tenure_days", "n_orders", "avg_order_value", "gap_mean_days")
    traits = dict(cluster_traits(scored.join(assignments, on="customer_id"), scored, features).iter_rows())
    frequent, lapsed = traits[1], traits[2]
    assert "more orders (12 vs 3)" in frequent and "bought more recently" in frequent
    assert "bigger baskets" in lapsed and "longer since the last order" in lapsed
    # What every cluster shares (tenure) sets none apart; nothing is said for missing gaps.
    assert all("tenure" not in t and "customers for" not in t for t in traits.values())
    assert "nan" not in " ".join(traits.values())
    assert traits[3] != frequent and traits[3] != lapsed
