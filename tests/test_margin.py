"""Margin (issue 17): ingest keeps it, orders sum it, rates are shrunk towards the base."""

import datetime as dt

import numpy as np
import polars as pl
import pytest

from clv_engine.ingest import validate_log
from clv_engine.margin import margin_rates
from clv_engine.orders import build_orders
from clv_engine.params import ColumnMapping, IngestParams


def _raw(rows):
    frame = pl.DataFrame(rows, schema=["customer_id", "order_date", "revenue", "profit"], orient="row")
    return frame.with_row_index("row_number", offset=1).with_columns(pl.col("row_number").cast(pl.Int64))


def test_margin_is_parsed_counted_and_summed_per_order():
    raw = _raw(
        [
            ("A", "2023-01-01", "100", "30"),
            ("A", "2023-01-01", "50", "-5"),  # same day: one order, margin 25
            ("B", "2023-01-02", "10", ""),  # missing margin
            ("B", "2023-01-03", "10", "x"),  # not a number
            ("B", "2023-01-04", "40", "8"),
        ]
    )
    params = IngestParams(columns=ColumnMapping(margin="profit"), max_reject_share=1.0)
    result = validate_log(raw, params)
    reasons = {k: v for k, v in result.report["quarantine_reasons"].items() if v}
    assert reasons == {"missing_margin": 1, "invalid_margin": 1}
    assert sorted(result.transactions["margin"].to_list()) == [-5.0, 8.0, 30.0]
    orders = build_orders(result.transactions)
    assert orders.filter(pl.col("customer_id") == "A")["margin"].to_list() == [25.0]
    # Without a mapping there is no margin column at all.
    plain = validate_log(raw.drop("profit"), IngestParams(max_reject_share=1.0))
    assert (
        "margin" not in plain.transactions.columns
        and "margin" not in build_orders(plain.transactions).columns
    )


def test_rates_are_shrunk_towards_the_base_by_one_average_customer():
    orders = pl.DataFrame(
        {
            "customer_id": ["A", "B", "B"],
            "order_key": ["1", "2", "3"],
            "order_date": [dt.date(2023, 1, 1), dt.date(2023, 1, 2), dt.date(2024, 1, 1)],
            "revenue": [100.0, 300.0, 999.0],
            "margin": [50.0, 30.0, 999.0],  # B's 2024 order is after the cutoff
        }
    )
    rates, base = margin_rates(orders, dt.date(2023, 12, 31), pl.Series(["A", "B", "C"]))
    assert base == pytest.approx(80 / 400)
    k = 200.0  # mean |revenue| per customer
    assert rates[0] == pytest.approx((50 + k * 0.2) / (100 + k))
    assert rates[1] == pytest.approx((30 + k * 0.2) / (300 + k))
    assert rates[2] == pytest.approx(0.2)  # unknown customer: the base's rate
    assert np.all(np.isfinite(rates))


def test_predicted_margin_uses_the_column_else_the_fixed_rate_else_nothing():
    from clv_engine.margin import predicted_margin

    orders = pl.DataFrame(
        {
            "customer_id": ["A"],
            "order_key": ["1"],
            "order_date": [dt.date(2023, 1, 1)],
            "revenue": [100.0],
            "margin": [25.0],
        }
    )
    ids, cutoff, predicted = pl.Series(["A"]), dt.date(2023, 12, 31), np.array([40.0])
    assert predicted_margin(predicted, orders, cutoff, ids, 0.5)[0] == pytest.approx(40.0 * 0.25)
    plain = orders.drop("margin")
    assert predicted_margin(predicted, plain, cutoff, ids, 0.3)[0] == pytest.approx(12.0)
    assert predicted_margin(predicted, plain, cutoff, ids, None) is None


def test_segments_rank_by_revenue_or_margin():
    from clv_engine.params import ParamsError
    from clv_engine.segments import segment_summary

    segments = pl.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "business_segment": ["Loyal, dormant", "New & active", "New & active"],
            "strategy": ["win back", "onboard", "onboard"],
        }
    )
    scores = pl.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "predicted_clv": [100.0, 30.0, 30.0],
            "predicted_margin": [5.0, 9.0, 9.0],
        }
    )
    by_revenue = segment_summary(segments, scores, "revenue")
    assert by_revenue["business_segment"].to_list() == ["Loyal, dormant", "New & active"]
    assert by_revenue["rank_by_revenue"].to_list() == [1, 2]
    by_margin = segment_summary(segments, scores, "margin")
    assert by_margin["business_segment"].to_list() == ["New & active", "Loyal, dormant"]
    assert by_margin["predicted_margin"].to_list() == [18.0, 5.0]
    assert by_margin["margin_share"].to_list() == pytest.approx([18 / 23, 5 / 23])
    with pytest.raises(ParamsError, match=r"ingest\.columns\.margin"):
        segment_summary(segments, scores.drop("predicted_margin"), "margin")
