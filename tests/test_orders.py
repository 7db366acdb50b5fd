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
