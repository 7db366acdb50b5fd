from __future__ import annotations

import copy
import datetime as dt

import numpy as np
import pytest

from clv_engine.dataset import build_dataset, customer_rows
from clv_engine.evaluation import fit_clv
from clv_engine.explain import (
    customer_drivers,
    explain,
    global_importance,
    interactions,
    plain_label,
    segment_importance,
)
from clv_engine.features import FEATURES
from clv_engine.orders import build_orders
from clv_engine.params import parse_params
from clv_engine.synth import SynthConfig, generate_transactions
from clv_engine.timeline import training_cutoffs


def _fit(objective: str):
    log = generate_transactions(
        SynthConfig(n_transactions=8_000, seed=3, start=dt.date(2021, 1, 1), end=dt.date(2022, 12, 31))
    )
    orders = build_orders(log)
    as_of = dt.date(2022, 12, 31)
    params = parse_params(
        {
            "model": {
                "objective": objective,
                "iterations": 80,
                "learning_rate": 0.1,
                "early_stopping_rounds": 20,
            }
        }
    )
    plan = training_cutoffs(as_of, 3, 6, 3, 2, orders["order_date"].min())
    model = fit_clv(
        build_dataset(orders, plan.cutoffs, 6, 3, params.features, params.lifecycle, params.labels), params
    )
    rows, _ = customer_rows(orders, as_of, 6, 3, params.features, params.lifecycle)
    return model, rows


@pytest.fixture(scope="module")
def fitted():
    return _fit("tweedie")


@pytest.fixture(scope="module", params=["two_part", "log_rmse"])
def other_objective(request):
    return _fit(request.param)


def test_currency_contributions_add_up_to_the_prediction(fitted):
    model, rows = fitted
    e = explain(model, rows)
    prediction = model.predict(rows)
    assert np.allclose(e.start + e.currency.sum(axis=1), prediction, rtol=1e-9, atol=1e-6)
    assert e.shap.shape == (rows.height, len(model.features))


@pytest.mark.parametrize("level", [1.0, 0.7])
def test_contributions_add_up_with_a_rescaled_forecast(fitted, level):
    model, rows = fitted
    scaled = copy.copy(model)
    scaled.level_ = level  # model.level: a factor of every forecast, set by anchor_level
    e = explain(scaled, rows)
    assert np.allclose(e.start + e.currency.sum(axis=1), scaled.predict(rows), rtol=1e-9, atol=1e-6)
    assert np.allclose(scaled.predict(rows), level * model.predict(rows))


def test_tables_and_narratives(fitted):
    model, rows = fitted
    e = explain(model, rows)
    importance = global_importance(e)
    assert importance["rank"].to_list() == list(range(1, len(model.features) + 1))
    assert np.all(np.diff(importance["mean_abs_shap"].to_numpy()) <= 0)
    drivers = customer_drivers(e, rows["customer_id"])
    assert drivers.height == rows.height and drivers["customer_id"].equals(rows["customer_id"])
    assert drivers["explanation"].str.contains("expected, from a starting point of").all()
    pairs = interactions(model, rows, sample=50, seed=1, top=5)
    assert pairs.height == 5 and pairs["reading"].str.starts_with("how much").all()
    seg = segment_importance(e, rows["customer_stage"])
    assert set(seg["customer_stage"]) == set(rows["customer_stage"])


def test_every_feature_has_a_plain_label():
    assert all(plain_label(f.name) and "_" not in plain_label(f.name) for f in FEATURES)


def test_every_objective_is_explained_and_adds_up(other_objective):
    model, rows = other_objective
    e = explain(model, rows)
    assert np.allclose(e.start + e.currency.sum(axis=1), model.predict(rows), rtol=1e-9, atol=1e-6)
    assert np.abs(e.shap).sum() > 0 and np.isfinite(e.shap).all() and (e.start >= 0).all()
    pairs = interactions(model, rows, sample=50, seed=1, top=6)
    assert pairs.height == 6 and pairs["reading"].str.starts_with("how much").all()
    if model.params.objective == "two_part":
        # the log-scale contributions add up to the log of the forecast over its start
        buyers = e.prediction > 0
        assert np.allclose(
            e.shap[buyers].sum(axis=1), np.log(e.prediction[buyers] / e.start[buyers]), atol=1e-6
        )


def test_interactions_are_bounded_by_trees_and_say_so(fitted):
    model, rows = fitted
    trees = model.value_model_.tree_count_
    cut = interactions(model, rows, sample=50, seed=1, top=3, max_trees=10)
    assert set(cut["trees"]) == {f"10 of {trees}"}
    whole = interactions(model, rows, sample=50, seed=1, top=3, max_trees=trees)
    assert set(whole["trees"]) == {f"{trees} of {trees}"}
