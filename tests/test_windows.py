from __future__ import annotations

import datetime as dt
import re

import polars as pl
import pytest
from tests.helpers import orders_of

from clv_engine.orders import build_orders
from clv_engine.params import parse_params
from clv_engine.synth import SynthConfig, generate_transactions
from clv_engine.windows import composite_score, select_windows


@pytest.fixture(scope="module")
def orders() -> pl.DataFrame:
    config = SynthConfig(n_transactions=8_000, seed=5, start=dt.date(2021, 1, 1), end=dt.date(2022, 12, 31))
    return build_orders(generate_transactions(config))


def params(**windows):
    base = {"search_iterations": 30, "search_max_customers": 2000}
    return parse_params({"training": {"n_cutoffs": 2, "spacing_months": 3}, "windows": base | windows})


def test_composite_score():
    assert composite_score(0.8, 0.5, 0.2) == pytest.approx((0.8 + 0.5 + 0.8) / 3)
    assert composite_score(0.8, 0.5, 3.0) == pytest.approx((0.8 + 0.5 + 0.0) / 3)
    assert composite_score(0.8, 0.5, float("nan")) == pytest.approx(1.3 / 3)


def test_grid_scores_skips_with_reasons_and_is_deterministic(orders):
    as_of = dt.date(2022, 12, 31)
    p = params(lookback_months=[3, 12, 18], horizon_months=[3, 12])
    choice, grid = select_windows(orders, as_of, p)
    assert grid.height == 6
    status = {(r["lookback_months"], r["horizon_months"]): r for r in grid.iter_rows(named=True)}
    # 18 months of lookback + 12 of horizon does not fit two years of history
    assert status[(18, 12)]["status"] == "skipped"
    assert (
        "needs history from" in status[(18, 12)]["reason"] and "the log starts" in status[(18, 12)]["reason"]
    )
    assert status[(3, 3)]["status"] == "scored" and status[(3, 3)]["score"] is not None
    scored = grid.filter(pl.col("status") == "scored")
    best = scored.sort("score", descending=True).row(0, named=True)
    assert (choice.lookback_months, choice.horizon_months) == (
        best["lookback_months"],
        best["horizon_months"],
    )
    assert choice.searched
    again, grid2 = select_windows(orders, as_of, p)
    assert again == choice and grid.equals(grid2)


def test_single_values_pin_and_skip_the_search(orders):
    choice, grid = select_windows(orders, dt.date(2022, 12, 31), params(lookback_months=6, horizon_months=3))
    assert (choice.lookback_months, choice.horizon_months, choice.searched) == (6, 3, False)
    assert grid["status"].to_list() == ["pinned"] and choice.horizon_days == 90


def test_pinned_pair_that_does_not_fit_falls_back_and_says_why(orders):
    choice, _ = select_windows(orders, dt.date(2021, 6, 30), params(lookback_months=6, horizon_months=12))
    assert not choice.trainable and (choice.lookback_months, choice.horizon_months) == (6, 12)
    assert re.search(r"no \(lookback, horizon\) pair has a training cutoff.*needs history from", choice.note)
    assert "BG/NBD + Gamma-Gamma forecast" in choice.note


def test_min_customers_and_share_make_pairs_ineligible():
    # 10 customers known since January, 10 more first seen in November: at the pair's cutoff
    # (as_of - 3 months = 2020-09-30) 10 of the 20 customers at as_of are known.
    rows = [(f"old{i}", "2020-01-01", 10) for i in range(10)] + [
        (f"new{i}", "2020-11-01", 10) for i in range(10)
    ]
    orders = orders_of(rows)
    as_of = dt.date(2020, 12, 31)
    p = params(lookback_months=3, horizon_months=3, min_customers=11, min_share=0.6)
    choice, _ = select_windows(orders, as_of, p)
    assert not choice.trainable
    assert re.search(r"10 customers at 2020-09-30: fewer than windows\.min_customers \(11\)", choice.note)
    for eligible in ({"min_customers": 10, "min_share": 0.6}, {"min_customers": 11, "min_share": 0.5}):
        _, grid = select_windows(orders, as_of, params(lookback_months=3, horizon_months=3, **eligible))
        assert grid.select("status", "customers", "share_of_base").row(0) == ("pinned", 10, 0.5)


def test_pairs_are_scored_out_of_time_on_the_newest_cutoff(orders, monkeypatch):
    # The search model learns on the pair's older cutoffs only and scores the newest one:
    # the time contract of production, inside the search.
    import clv_engine.windows as windows

    seen = []
    real = windows.tweedie_regressor

    def spy(train, *args, **kwargs):
        seen.append(sorted(set(train["cutoff"].to_list())))
        return real(train, *args, **kwargs)

    monkeypatch.setattr(windows, "tweedie_regressor", spy)
    as_of = dt.date(2022, 12, 31)
    # 3 m: cutoffs 2022-06-30 and 2022-09-30; 20 m: only 2022-09-30 fits two years of log.
    choice, grid = select_windows(orders, as_of, params(lookback_months=[3, 20], horizon_months=3))
    rows = {r["lookback_months"]: r for r in grid.iter_rows(named=True)}
    assert rows[3]["status"] == "scored" and rows[3]["test_cutoff"] == "2022-09-30"
    assert seen == [[dt.date(2022, 6, 30)]]
    assert rows[20]["status"] == "ineligible"
    assert "single training cutoff (2022-09-30): nothing older to learn from" in rows[20]["reason"]
    assert choice.lookback_months == 3 and choice.method.startswith("out-of-time backtest")


def test_grouped_holdout_when_no_pair_has_two_cutoffs(orders):
    p = parse_params(
        {
            "training": {"n_cutoffs": 1},
            "windows": {"search_iterations": 30, "search_max_customers": 2000, "lookback_months": [3, 6]}
            | {"horizon_months": 3},
        }
    )
    choice, grid = select_windows(orders, dt.date(2022, 12, 31), p)
    assert grid["status"].to_list() == ["scored", "scored"]
    assert choice.method.startswith("grouped holdout (no pair has two training cutoffs")
