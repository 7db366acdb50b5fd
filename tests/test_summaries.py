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
    found = cluster_traits(scored.join(assignments, on="customer_id"), scored, features)
    traits = dict(found.select("cluster_id", "traits").iter_rows())
    frequent, lapsed = traits[1], traits[2]
    assert "more orders (12 vs 3)" in frequent and "bought more recently" in frequent
    assert "bigger baskets" in lapsed and "longer since the last order" in lapsed
    # What every cluster shares (tenure) sets none apart; nothing is said for missing gaps.
    assert all("tenure" not in t and "customers for" not in t for t in traits.values())
    assert "nan" not in " ".join(traits.values())
    assert traits[3] != frequent and traits[3] != lapsed


def test_each_cluster_gets_its_own_action_from_what_sets_it_apart():
    from clv_engine.summaries import _actions

    scored, assignments = _base()
    features = ("recency_days", "tenure_days", "n_orders", "avg_order_value", "gap_mean_days")
    traits = cluster_traits(scored.join(assignments, on="customer_id"), scored, features)
    focus = dict(zip(traits["cluster_id"], traits["focus"].to_list(), strict=True))
    assert "recognise their many orders (early access)" in focus[1]
    assert "lead with the premium range (big baskets)" in focus[2]
    # The same strategy reads differently where the clusters differ ...
    actions = _actions(["Win back"] * 3, [focus[1], focus[2], focus[3]])
    assert len(set(actions)) == 3 and all(a.startswith("Win back; ") for a in actions)
    # ... and a second trait tells apart two clusters whose first one is the same.
    same = _actions(["Win back"] * 2, [["a", "b"], ["a", "c"]])
    assert same == ["Win back; a; b", "Win back; a; c"]
    assert _actions(["Keep"], [[]]) == ["Keep"]  # close to the base on every measure
