from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from clv_engine.evaluation import APPROACHES, backtest
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
    assert set(result.segments["customer_stage"]) <= {"New", "Growing", "Established", "Loyal"}
    assert result.segments["customers"].sum() == result.predictions.height


def test_backtest_population_and_no_future(result):
    p = result.predictions
    assert p["customer_id"].is_unique().all()
    assert (p["model"] >= 0).all() and (p["lower"] <= p["model"]).all() and (p["model"] <= p["upper"]).all()
