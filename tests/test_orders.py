from __future__ import annotations

from tests.helpers import lines

from clv_engine.orders import build_orders, orders_report


def test_lines_of_a_day_form_one_order_without_ids():
    tx = lines(
        [("A", "2020-01-01", 10), ("A", "2020-01-01", 5), ("A", "2020-01-02", -3), ("B", "2020-01-01", 1)]
    )
    orders = build_orders(tx)
    assert orders.select("customer_id", "revenue", "n_lines", "is_return").rows() == [
        ("A", 15.0, 2, False),
        ("A", -3.0, 1, True),
        ("B", 1.0, 1, False),
    ]
    report = orders_report(tx, orders)
    assert report["lines"] == report["orders"] + report["lines_merged"] == 4
    assert report["return_orders"] == 1


def test_order_ids_group_lines_and_keep_same_day_orders_apart():
    tx = lines(
        [
            ("A", "2020-01-01", 10, "o1"),
            ("A", "2020-01-01", 5, "o2"),
            ("A", "2020-01-03", 2, "o1"),
            ("A", "2020-01-05", -4, "r1"),
        ],
        order_ids=True,
    )
    orders = build_orders(tx)
    # o1 spans two days: one order dated at its first line, revenue netted
    assert orders.select("order_key", "order_date", "revenue", "is_return").rows()[0][0] == "id:o1"
    assert sorted(orders["revenue"].to_list()) == [-4.0, 5.0, 12.0]
    assert orders.height == 3


def test_day_grouping_nets_a_same_day_return():
    orders = build_orders(lines([("A", "2020-01-01", 10), ("A", "2020-01-01", -10)]))
    assert orders.select("revenue", "is_return").rows() == [(0.0, False)]


def test_orders_built_in_customer_ranges_are_the_whole_log_s_orders():
    import polars as pl

    from clv_engine.orders import _customer_ranges

    tx = lines(
        [
            ("B", "2020-01-02", 1.25, "o9"),
            ("A", "2020-01-01", 10, "o1"),
            ("C", "2020-01-01", 3, None),
            ("A", "2020-01-01", 5, "o2"),
            ("B", "2020-01-02", 2.5, "o9"),
            ("AA", "2020-01-03", 2, "o1"),
            ("C", "2020-01-01", -4, None),
            ("A", "2020-01-03", 0.1, "o1"),
        ],
        order_ids=True,
    ).with_columns(pl.Series("margin", [0.5, 1.0, 0.3, -1.0, 0.25, 0.2, -0.4, 0.01]))
    # Ranges of about 3 lines: [A, AA) with 3 lines, [AA, C) with 3, [C, end) with 2.
    assert _customer_ranges(tx["customer_id"], 3) == [("A", "AA"), ("AA", "C"), ("C", None)]
    whole = build_orders(tx)
    by_customer = tx.sort("customer_id", maintain_order=True)  # as ingest writes them: cut, not filtered
    for part_lines in (1, 2, 3, 5, 100):
        assert build_orders(tx, part_lines=part_lines).equals(whole)
        assert build_orders(by_customer, part_lines=part_lines).equals(whole)
    assert whole["customer_id"].to_list() == ["A", "A", "AA", "B", "C"]
    assert whole["revenue"].to_list() == [10.1, 5.0, 2.0, 3.75, -1.0]


def test_cdnow_orders_in_parts_are_the_whole_log_s_orders():
    import dataclasses

    from tests.conftest import BUNDLED_LOG, ROOT

    from clv_engine.ingest import ingest
    from clv_engine.params import load_params

    params = dataclasses.replace(load_params(ROOT / "params.yaml").ingest, path=str(BUNDLED_LOG))
    tx = ingest(params).transactions
    whole = build_orders(tx)
    assert build_orders(tx, part_lines=7_000).equals(whole)


def test_an_order_s_lines_are_added_left_to_right_in_sorted_order():
    # (0.1 + 0.2) + 0.3 = 0.6000000000000001, 0.1 + (0.2 + 0.3) = 0.6: the sum is the first.
    tx = lines([("A", "2020-01-01", 0.3), ("A", "2020-01-01", 0.1), ("A", "2020-01-01", 0.2)])
    assert build_orders(tx)["revenue"].to_list() == [(0.1 + 0.2) + 0.3]
    assert (0.1 + 0.2) + 0.3 != 0.1 + (0.2 + 0.3)
