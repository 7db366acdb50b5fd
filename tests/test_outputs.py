"""The final per-customer table: column names, order, rounding and the one-for-one check."""

from __future__ import annotations

import polars as pl
import pytest

from clv_engine.outputs import (
    PREDICTION_COLUMNS,
    band_columns,
    clv_column,
    clv_columns,
    predictions_table,
    round_for_people,
)


def test_horizon_column_names():
    assert clv_column(3) == "clv_3m"
    assert band_columns(12) == ("clv_lower_12m", "clv_upper_12m", "p_active_12m")
    # Shortest horizon first, by number not by text; other clv_ columns are not horizons.
    found = clv_columns(["clv_12m", "clv_lower", "clv_3m", "clv_12m_discounted", "clv_1m", "clv_rank"])
    assert found == ["clv_1m", "clv_3m", "clv_12m"]


def test_rounding_for_people_is_by_kind_of_column():
    frame = pl.DataFrame(
        {
            "predicted_clv": [10.126],
            "clv_3m": [1.004],
            "revenue_sum": [2.675],  # 2.67499999... as a float: rounded on its 10-digit value
            "p_active": [0.1234567],
            "p_active_3m": [0.9876543],
            "clv_percentile": [0.123456],
            "recency_days": [3.14159],  # not money, not a chance: left alone
            "clv_rank": [1],
        }
    )
    out = round_for_people(frame).row(0, named=True)
    assert out["predicted_clv"] == 10.13
    assert out["clv_3m"] == 1.0
    assert out["revenue_sum"] == 2.68
    assert (out["p_active"], out["p_active_3m"]) == (0.123457, 0.987654)
    assert out["clv_percentile"] == 0.1235
    assert out["recency_days"] == 3.14159
    assert out["clv_rank"] == 1


def test_a_last_bit_difference_does_not_change_the_cents():
    frame = pl.DataFrame({"avg_order_value": [11.884999999999998, 11.885000000011885]})
    assert round_for_people(frame)["avg_order_value"].to_list() == [11.88, 11.88]  # half to even


def test_a_summary_is_rounded_like_the_predictions():
    """A value tier's predicted revenue of 1860.5917175 once read 1860.591717 or 1860.591718
    at 10 significant digits, depending on the last bits of the revenue (the pipeline's
    last-bit test); to the cent it is 1860.59 either way."""
    frame = pl.DataFrame(
        {
            "predicted_revenue": [1860.5917174999999, 1860.5917175000001],
            "mean_predicted_clv": [2.4289709115, 2.4289709115],
            "revenue_share": [0.044041998205, 0.044041998215],
            "customer_share": [0.38473129085, 0.38473129085],
            "mean_recency_days": [39.2776139, 39.2776139],  # a feature's mean: left alone
        }
    )
    out = round_for_people(frame)
    assert out["predicted_revenue"].to_list() == [1860.59, 1860.59]
    assert out["mean_predicted_clv"].to_list() == [2.43, 2.43]
    assert out["revenue_share"].to_list() == [0.044042, 0.044042]
    assert out["customer_share"].to_list() == [0.384731, 0.384731]
    assert out["mean_recency_days"].to_list() == [39.2776139, 39.2776139]


def _parts(n: int = 3) -> tuple[pl.DataFrame, ...]:
    ids = [f"c{i}" for i in range(n)]
    scores = pl.DataFrame(
        {
            "customer_id": ids,
            "predicted_clv": [5.0, 30.0, 12.5],
            "clv_lower": [0.0, 10.0, 1.0],
            "clv_upper": [9.0, 60.0, 25.0],
            "p_active": [0.2, 0.9, 0.5],
            "source": ["model"] * n,
            "clv_rank": [3, 1, 2],
            "clv_percentile": [0.0, 1.0, 0.5],
            "clv_segment": ["low", "high", "mid"],
            "customer_stage": ["New"] * n,
            "status_segment": ["Active"] * n,
            "behaviour": ["new"] * n,
            "value_tier": ["C", "A", "B"],
            "revenue_sum": [5.0, 50.0, 20.0],
            "n_orders": [1, 5, 2],
            "recency_days": [1, 2, 3],
            "tenure_days": [10, 20, 30],
            "avg_order_value": [5.0, 10.0, 10.0],
            "clv_3m": [2.0, 12.0, 5.0],
            "clv_12m": [5.0, 30.0, 12.5],
            "clv_12m_discounted": [4.9, 29.0, 12.0],
            "clv_lower_3m": [0.0, 4.0, 0.0],
            "clv_upper_3m": [4.0, 25.0, 10.0],
            "p_active_3m": [0.1, 0.8, 0.3],
        }
    )
    assignments = pl.DataFrame(
        {"customer_id": ids, "cluster_id": [0, 1, 0], "cluster_probability": [1.0] * n}
    )
    segments = pl.DataFrame(
        {"customer_id": ids, "business_segment": ["Engaged"] * n, "strategy": ["Keep engaged"] * n}
    )
    drivers = pl.DataFrame(
        {
            "customer_id": ids,
            **{f"driver_{k}": ["n_orders"] * n for k in (1, 2, 3)},
            **{f"driver_{k}_value": [1.0] * n for k in (1, 2, 3)},
            "explanation": ["because"] * n,
        }
    )
    return scores, assignments, segments, drivers


def test_the_table_has_the_design_columns_in_order_sorted_by_rank():
    table = predictions_table(*_parts())
    at = PREDICTION_COLUMNS.index("source")
    horizons = ["clv_3m", "clv_12m", "clv_12m_discounted", "clv_lower_3m", "clv_upper_3m", "p_active_3m"]
    assert table.columns == [*PREDICTION_COLUMNS[:at], *horizons, *PREDICTION_COLUMNS[at:]]
    assert table["customer_id"].to_list() == ["c1", "c2", "c0"]


@pytest.mark.parametrize("which", [1, 2, 3])
def test_a_part_that_misses_a_scored_customer_is_refused(which):
    parts = list(_parts())
    parts[which] = parts[which].head(2)
    with pytest.raises(ValueError, match="do not cover the scored customers one for one"):
        predictions_table(*parts)
