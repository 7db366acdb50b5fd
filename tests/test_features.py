"""Hand-computed fixtures for every feature family (cutoff 2020-12-31, lookback 12 months).

The lookback window is (2019-12-31, 2020-12-31], 366 days (2020 is a leap year).
"""

from __future__ import annotations

import datetime as dt
import math

import pytest
from tests.helpers import orders_of

from clv_engine.features import FEATURES, customer_table, feature_names
from clv_engine.params import FeatureParams, LifecycleParams

CUTOFF = dt.date(2020, 12, 31)

ROWS = [
    # A: one order before the window, three purchases and a return inside it
    ("A", "2019-06-01", 200),
    ("A", "2020-01-01", 100),
    ("A", "2020-03-01", 50),
    ("A", "2020-03-01", 10),  # same day: the same order (60)
    ("A", "2020-12-01", 40),
    ("A", "2020-12-15", -20),  # a return order
    ("A", "2021-01-05", 999),  # after the cutoff: invisible
    # B: one purchase on the cutoff day
    ("B", "2020-12-31", 30),
    # C: first seen after the cutoff: absent
    ("C", "2021-01-02", 5),
    # D: only a return
    ("D", "2020-06-01", -15),
    # E: a purchase every 10 days
    ("E", "2020-12-01", 10),
    ("E", "2020-12-11", 10),
    ("E", "2020-12-21", 10),
]


@pytest.fixture(scope="module")
def table():
    out = customer_table(orders_of(ROWS), CUTOFF, 12, 6, FeatureParams(), LifecycleParams())
    return {r["customer_id"]: r for r in out.iter_rows(named=True)}


def test_population_is_customers_known_at_cutoff(table):
    assert sorted(table) == ["A", "B", "D", "E"]


def test_anchors_and_lifecycle(table):
    a = table["A"]
    assert a["tenure_days"] == 579 and a["recency_days"] == 30
    assert (a["customer_stage"], a["status_segment"], a["behaviour"]) == ("Loyal", "Active", "long-cycle")
    assert a["last_purchase_month_sin"] == pytest.approx(-0.5)
    assert a["last_purchase_month_cos"] == pytest.approx(math.sqrt(3) / 2)
    b = table["B"]
    assert (b["tenure_days"], b["recency_days"], b["customer_stage"], b["behaviour"]) == (
        0,
        0,
        "New",
        "one-time",
    )
    assert b["active_last_30d"] is True and a["active_last_30d"] is False  # A's order is 30 days old
    d = table["D"]
    assert d["recency_days"] == d["tenure_days"] == 213 and d["n_orders"] == 0


def test_lifetime_rfm(table):
    a = table["A"]  # purchases 200 (before the window), 100, 60, 40; a return of 20
    assert a["n_orders"] == 4 and a["revenue_sum"] == pytest.approx(380)
    assert a["avg_order_value"] == pytest.approx(100) and a["max_order_value"] == 200
    assert a["log_revenue_sum"] == pytest.approx(math.log1p(380))
    assert a["returns_count"] == 1 and a["return_share"] == pytest.approx(0.05)
    assert a["is_repeat_buyer"] is True and table["B"]["is_repeat_buyer"] is False
    d = table["D"]
    assert d["revenue_sum"] == -15 and d["log_revenue_sum"] == 0 and d["avg_order_value"] is None
    assert d["return_share"] == 0.0


def test_cadence(table):
    a = table["A"]  # gaps 214, 60 and 275 days
    std = math.sqrt(((214 - 183) ** 2 + (60 - 183) ** 2 + (275 - 183) ** 2) / 2)
    assert a["gap_mean_days"] == pytest.approx(183) and a["gap_median_days"] == pytest.approx(214)
    assert a["gap_std_days"] == pytest.approx(std)
    assert (a["gap_min_days"], a["gap_max_days"]) == (60, 275)
    assert a["gap_cv"] == pytest.approx(std / 183)
    assert a["regularity_index"] == pytest.approx(1 / (1 + a["gap_cv"]))
    e = table["E"]
    assert e["gap_cv"] == 0 and e["regularity_index"] == 1 and e["behaviour"] == "regular"
    assert table["B"]["gap_mean_days"] is None and table["B"]["gap_cv"] is None


def test_lookback_window_and_rates(table):
    a = table["A"]  # inside the window: 100, 60, 40 and the return of 20
    assert (a["lookback_orders"], a["lookback_revenue"]) == (3, 180)
    assert a["observed_days"] == 367  # min(579, 366) + 1
    assert a["spend_per_day"] == pytest.approx(180 / 367)
    assert a["orders_per_month"] == pytest.approx(3 / (367 / (365.25 / 12)))
    assert a["recency_over_gap"] == pytest.approx(30 / 183)
    assert table["B"]["observed_days"] == 1 and table["B"]["spend_per_day"] == 30


def test_recent_activity(table):
    a = table["A"]
    assert (a["revenue_last_30d"], a["orders_last_30d"]) == (-20, 0)  # the 30-day-old order is out
    assert (a["revenue_last_90d"], a["orders_last_90d"]) == (20, 1)
    assert (a["revenue_last_365d"], a["orders_last_365d"]) == (80, 2)  # 2020-01-01 is 365 days old
    assert a["trend_90d"] == 1.0  # 40 in the last 90 days, nothing in the 90 before
    assert table["D"]["trend_90d"] == 0.0


def test_btyd_statistics(table):
    a = table["A"]  # purchase days 2019-06-01, 2020-01-01, 2020-03-01, 2020-12-01
    assert (a["frequency"], a["recency_tx_days"], a["age_T_days"]) == (3, 549, 579)
    assert a["mean_repeat_spend"] == pytest.approx(200 / 3)
    b = table["B"]
    assert (b["frequency"], b["recency_tx_days"], b["age_T_days"], b["mean_repeat_spend"]) == (0, 0, 0, None)


def test_season(table):
    a = table["A"]
    # horizon 181 days; last year's window (2020-01-01, 2020-06-30] held 60 of A's 100
    assert a["season_share_customer"] == pytest.approx(0.6)
    # base: purchases after 2020-01-01: A 60 + 40, B 30, E 30 -> 60 / 160
    assert a["season_share_base"] == pytest.approx(60 / 160)
    assert a["cutoff_month_sin"] == pytest.approx(math.sin(2 * math.pi * 365 / 365.25))
    assert table["D"]["season_share_customer"] is None


def test_season_share_of_nothing_is_null_not_nan():
    # F's only purchase of the past year is free (revenue 0): 0 / 0 is "no share", not NaN.
    rows = [("F", "2020-03-01", 0), ("G", "2020-02-01", 20), ("H", "2019-06-01", 5)]
    out = customer_table(orders_of(rows), CUTOFF, 12, 6, FeatureParams(), LifecycleParams())
    f = out.filter(out["customer_id"] == "F")
    assert f["season_share_customer"].to_list() == [None]
    assert f["season_share_base"].to_list() == [pytest.approx(1.0)]  # G's 20 fell in the window


def test_season_shares_are_null_when_the_log_does_not_cover_last_year():
    # The log starts 2020-03-01, after c - 365 days = 2020-01-01: last year's window
    # (2020-01-01, 2020-06-30] is only partly in the log, so there is no share to give.
    rows = [("A", "2020-03-01", 50), ("A", "2020-11-01", 50), ("B", "2020-04-01", 10)]
    out = customer_table(orders_of(rows), CUTOFF, 12, 6, FeatureParams(), LifecycleParams())
    assert out["season_share_customer"].to_list() == [None, None]
    assert out["season_share_base"].to_list() == [None, None]
    # An order on 2020-01-01 = c - 365 days: the log covers the whole window (C's order
    # itself is outside it, so the base share is A's 50 + B's 10 of 110).
    out = customer_table(
        orders_of([*rows, ("C", "2020-01-01", 40)]), CUTOFF, 12, 6, FeatureParams(), LifecycleParams()
    )
    a = out.filter(out["customer_id"] == "A")
    assert a["season_share_customer"].to_list() == [pytest.approx(0.5)]
    assert a["season_share_base"].to_list() == [pytest.approx(60 / 110)]


def test_every_feature_is_documented_and_present():
    out = customer_table(orders_of(ROWS), CUTOFF, 12, 6, FeatureParams(), LifecycleParams())
    assert out.columns == ["customer_id", "cutoff", *[f.name for f in FEATURES]]
    assert all(f.definition and f.unit for f in FEATURES)
    assert "customer_id" not in feature_names(FeatureParams())


@pytest.fixture(scope="module")
def synth_orders():
    """The orders of a small synthetic log (cohorts, returns, a December peak)."""
    import polars as pl

    from clv_engine.orders import build_orders
    from clv_engine.synth import SynthConfig, generate_transactions

    log = generate_transactions(SynthConfig(n_transactions=8_000, seed=5))
    return build_orders(log.with_columns(pl.col("order_id").cast(pl.String)))


def test_the_btyd_families_alone_give_the_same_columns_as_the_whole_table(synth_orders):
    """The level's history builds only what BG/NBD + Gamma-Gamma read (BTYD_FAMILIES): those
    columns must equal the whole table's, bit for bit."""
    from polars.testing import assert_frame_equal

    from clv_engine.baselines import add_btyd_columns
    from clv_engine.features import BTYD_FAMILIES

    orders = synth_orders
    cutoff = orders["order_date"].max() - dt.timedelta(days=30)
    full = customer_table(orders, cutoff, 1, 6, FeatureParams(), LifecycleParams())
    lite = customer_table(orders, cutoff, 1, 6, FeatureParams(), LifecycleParams(), families=BTYD_FAMILIES)
    assert 0 < len(lite.columns) < len(full.columns)
    assert_frame_equal(lite, full.select(lite.columns))
    with_full, _ = add_btyd_columns(full, 182)
    with_lite, _ = add_btyd_columns(lite, 182)
    assert_frame_equal(with_lite, with_full.select(with_lite.columns))


def test_a_few_customers_rebuilt_with_the_base_context_equal_their_rows_in_the_whole_log(synth_orders):
    """What a row reads from the whole base (log start, censoring, the base's season share)
    comes from base_context, so a subset scored with it equals the full table (Forecaster)."""
    import polars as pl
    from polars.testing import assert_frame_equal

    from clv_engine.features import base_context

    orders = synth_orders
    cutoff = orders["order_date"].max() - dt.timedelta(days=30)
    fp, rules = FeatureParams(), LifecycleParams(log_start="censored")
    full = customer_table(orders, cutoff, 12, 6, fp, rules)
    base = base_context(orders, cutoff, 6, rules)
    assert base.season_share_base is not None and base.censored_before is not None
    few = full["customer_id"].sample(25, seed=1)
    subset = orders.filter(pl.col("customer_id").is_in(few.implode()))
    rebuilt = customer_table(subset, cutoff, 12, 6, fp, rules, base)
    assert_frame_equal(rebuilt, full.filter(pl.col("customer_id").is_in(few.implode())))
    # without the context a subset describes itself, not the base
    alone = customer_table(subset, cutoff, 12, 6, fp, rules)
    assert alone["season_share_base"][0] != full["season_share_base"][0]
