from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from clv_engine.evaluation import backtest
from clv_engine.lifecycle import STAGES
from clv_engine.metrics import APPROACHES
from clv_engine.orders import build_orders
from clv_engine.params import parse_params
from clv_engine.synth import SynthConfig, generate_transactions


@pytest.fixture(scope="module")
def result():
    log = generate_transactions(
        SynthConfig(n_transactions=8_000, seed=4, start=dt.date(2021, 1, 1), end=dt.date(2022, 12, 31))
    )
    params = parse_params(
        {
            "model": {"iterations": 60, "learning_rate": 0.1, "early_stopping_rounds": 10},
            "windows": {"lookback_months": [3, 6], "horizon_months": 3, "search_iterations": 20},
            "training": {"n_cutoffs": 2, "spacing_months": 3},
        }
    )
    return backtest(build_orders(log), dt.date(2022, 12, 31), params, 3)


def test_backtest_reports_every_approach_with_stable_keys(result):
    assert result.cutoff == dt.date(2022, 9, 30) and result.horizon_days == 92
    keys = {"normalized_gini", "spearman", "top_decile_lift", "mae", "rmse", "r2", "bias", "decile_mape"}
    for name in APPROACHES:
        assert keys <= set(result.metrics[name])
    assert 0 <= result.metrics["interval"]["coverage"] <= 1
    assert len(result.metrics["interval"]["coverage_by_decile"]) == 10


def test_plots_tables(result):
    gain = result.gain
    assert gain["customer_share"][0] == 0 and gain["customer_share"][-1] == 1
    for name in (*APPROACHES, "perfect"):
        curve = gain[name].to_numpy()
        assert curve[0] == 0 and curve[-1] == pytest.approx(1) and np.all(np.diff(curve) >= -1e-12)
    assert result.deciles.height == 10 and result.deciles["customers"].sum() == result.predictions.height
    assert set(result.segments["customer_stage"]) <= set(STAGES)
    assert result.segments["customers"].sum() == result.predictions.height


def test_backtest_population_and_no_future(result):
    p = result.predictions
    assert p["customer_id"].is_unique().all()
    assert (p["model"] >= 0).all() and (p["lower"] <= p["model"]).all() and (p["model"] <= p["upper"]).all()


def test_rolling_backtest_reports_every_origin():
    from clv_engine.evaluation import rolling_backtest

    log = generate_transactions(
        SynthConfig(n_transactions=8_000, seed=4, start=dt.date(2021, 1, 1), end=dt.date(2022, 12, 31))
    )
    params = parse_params(
        {
            "model": {"iterations": 40, "learning_rate": 0.1, "early_stopping_rounds": 10},
            "windows": {"lookback_months": 3, "horizon_months": 3},
            "training": {"n_cutoffs": 2, "spacing_months": 3},
        }
    )
    rolling = rolling_backtest(build_orders(log), dt.date(2022, 12, 31), params, 3, 3)
    table = rolling.origins
    assert table["cutoff"].to_list() == [dt.date(2022, 7, 31), dt.date(2022, 8, 31), dt.date(2022, 9, 30)]
    assert (table["total_lower"] <= table["total"]).all() and (table["total"] <= table["total_upper"]).all()
    assert rolling.summary["count"] == 3 and 0 <= rolling.summary["total_inside_range_share"] <= 1
    for name in APPROACHES:
        assert rolling.summary[name]["worst_abs_bias"] >= rolling.summary[name]["mean_abs_bias"]
    # Each origin's actual is what its customers spent in its own horizon.
    assert rolling.newest.cutoff == dt.date(2022, 9, 30)
    assert table.filter(table["cutoff"] == dt.date(2022, 9, 30))["actual_total"][0] == pytest.approx(
        float(rolling.newest.predictions["actual"].sum()), abs=0.01
    )


def test_older_origins_in_worker_processes_give_the_same_results_as_one_after_the_other():
    from clv_engine.evaluation import rolling_backtest

    # A log that starts late enough that the oldest origin has no history to backtest on.
    log = generate_transactions(
        SynthConfig(n_transactions=6_000, seed=9, start=dt.date(2021, 11, 1), end=dt.date(2022, 12, 31))
    )
    raw = {
        "model": {"iterations": 40, "learning_rate": 0.1, "early_stopping_rounds": 10},
        "windows": {"lookback_months": 3, "horizon_months": 3},
        "training": {"n_cutoffs": 2, "spacing_months": 1},
        "evaluate": {"older_max_customers": 300},
    }
    orders = build_orders(log)
    runs = {
        jobs: rolling_backtest(
            orders,
            dt.date(2022, 12, 31),
            parse_params(raw | {"evaluate": {**raw["evaluate"], "jobs": jobs}}),
            3,
            8,
        )
        for jobs in (1, 2)
    }
    one, two = runs[1], runs[2]
    assert one.origins.height >= 3 and one.skipped, "the log should realise some origins and not all"
    assert one.origins.equals(two.origins)
    assert one.skipped == two.skipped and one.summary == two.summary and one.horizons == two.horizons
