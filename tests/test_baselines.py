"""The baselines every backtest reports, on hand-computed fixtures; and BTYD columns that read
each customer's own row and the fits alone."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from clv_engine.baselines import (
    BTYD_COLUMNS,
    BTYD_P_PURCHASE,
    BtydFits,
    apply_btyd,
    last_period_revenue,
    mean_order_value,
    naive_spend_rate,
)
from clv_engine.btyd import BetaGeoFit, GammaGammaFit

D = dt.date
ORDERS = pl.DataFrame(
    {
        "customer_id": ["a", "a", "a", "b", "c"],
        "order_date": [D(2024, 1, 1), D(2024, 3, 1), D(2024, 3, 20), D(2024, 3, 30), D(2024, 4, 2)],
        "revenue": [100.0, 50.0, -30.0, 10.0, 99.0],
    }
)
CUTOFF = D(2024, 3, 31)


def test_naive_spend_rate_is_lifetime_net_revenue_per_day_of_tenure():
    out = naive_spend_rate(ORDERS, CUTOFF, 30)
    # a: 120 over 91 days (Jan 1 .. Mar 31 inclusive); b: 10 over 2 days; c bought after the cutoff.
    assert out["customer_id"].to_list() == ["a", "b"]
    assert out["prediction"].to_list() == pytest.approx([120 / 91 * 30, 10 / 2 * 30])


def test_last_period_is_the_net_revenue_of_the_window_before_the_cutoff_floored_at_zero():
    out = last_period_revenue(ORDERS, CUTOFF, 30)  # (Mar 1, Mar 31]
    assert out["customer_id"].to_list() == ["a", "b"]
    assert out["prediction"].to_list() == [0.0, 10.0]  # a: -30 in the window (Mar 1 is outside)
    assert last_period_revenue(ORDERS, CUTOFF, 31)["prediction"].to_list() == [20.0, 10.0]


def test_nothing_after_the_cutoff_is_read():
    later = ORDERS.vstack(
        pl.DataFrame({"customer_id": ["a"], "order_date": [D(2024, 4, 1)], "revenue": [1e6]})
    )
    for baseline in (naive_spend_rate, last_period_revenue):
        assert baseline(later, CUTOFF, 30).equals(baseline(ORDERS, CUTOFF, 30))


def _table() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": ["x", "y", "z"],
            "frequency": [0.0, 2.0, 5.0],
            "recency_tx_days": [0.0, 70.0, 140.0],
            "age_T_days": [14.0, 140.0, 210.0],
            "mean_repeat_spend": [None, 20.0, 40.0],
            "avg_order_value": [12.0, None, 35.0],
        },
        schema_overrides={"mean_repeat_spend": pl.Float64, "avg_order_value": pl.Float64},
    )


def test_mean_order_value_skips_customers_without_one():
    assert mean_order_value(_table()) == pytest.approx((12.0 + 35.0) / 2)
    assert mean_order_value(_table().with_columns(pl.lit(None, pl.Float64).alias("avg_order_value"))) == 0.0


def test_btyd_columns_are_the_fits_expectations_in_weeks():
    bg = BetaGeoFit(r=0.5, alpha=4.0, a=0.8, b=2.5, log_likelihood=0.0, n_customers=3)
    gg = GammaGammaFit(p=6.0, q=4.0, gamma=15.0, log_likelihood=0.0, n_customers=2)
    table = _table()
    out = apply_btyd(table, 28, BtydFits(bg, gg, ""))
    x = table["frequency"].to_numpy()
    t_x, big_t = table["recency_tx_days"].to_numpy() / 7, table["age_T_days"].to_numpy() / 7
    purchases = bg.expected_purchases(x, t_x, big_t, 4.0)
    spend = gg.expected_spend(x, table["mean_repeat_spend"].to_numpy())
    assert out["btyd_expected_purchases"].to_numpy() == pytest.approx(purchases)
    assert out["btyd_expected_spend"].to_numpy() == pytest.approx(spend)
    assert out["btyd_expected_revenue"].to_numpy() == pytest.approx(purchases * spend)
    assert out["btyd_p_alive"].to_numpy() == pytest.approx(bg.p_alive(x, t_x, big_t))
    assert out[BTYD_P_PURCHASE].to_numpy() == pytest.approx(bg.p_purchase(x, t_x, big_t, 4.0))
    # One customer alone gets the row they get in the whole table.
    alone = apply_btyd(table.slice(1, 1), 28, BtydFits(bg, gg, ""))
    assert alone.select(*BTYD_COLUMNS).row(0) == out.select(*BTYD_COLUMNS).row(1)


def test_without_fits_the_spend_is_the_customers_own_then_the_bases():
    out = apply_btyd(_table(), 28, BtydFits(None, None, "none"), base_order_value=50.0)
    assert out["btyd_p_alive"].to_list() == [1.0, 1.0, 1.0]
    assert out[BTYD_P_PURCHASE].null_count() == 3
    assert out["btyd_expected_spend"].to_list() == [12.0, 50.0, 35.0]
    assert np.isnan(out["btyd_expected_revenue"].to_numpy()).all()
