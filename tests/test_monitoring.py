from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from clv_engine.explain import shap_means
from clv_engine.monitoring import monitor, no_reference, psi
from clv_engine.params import MonitorParams

PARAMS = MonitorParams()
NUMERIC = ["recency_days", "avg_order_value", "n_orders"]
CATEGORICAL = ["customer_stage", "status_segment"]


def population(
    seed: int, n: int = 5000, aov_scale: float = 20.0, stage_p=(0.25, 0.25, 0.25, 0.25)
) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {
            "recency_days": rng.exponential(90, n),
            "avg_order_value": rng.gamma(2.0, aov_scale, n),
            "n_orders": rng.poisson(3, n) + 1,
            "customer_stage": rng.choice(["New", "Growing", "Established", "Loyal"], n, p=stage_p),
            "status_segment": rng.choice(["Active", "Lagging", "Dormant", "Churn-risk"], n),
        }
    )


def predictions(seed: int, n: int = 5000, scale: float = 30.0) -> np.ndarray:
    return np.random.default_rng(seed).gamma(0.7, scale, n)


def run(reference, current, ref_pred, cur_pred, **kw):
    return monitor(reference, current, ref_pred, cur_pred, NUMERIC, CATEGORICAL, PARAMS, **kw)


def test_psi_zero_for_identical_and_large_for_shifted():
    x = np.random.default_rng(0).normal(size=10_000)
    assert psi(x, x) == pytest.approx(0.0)
    assert psi(x, x + 2) > 1.0


def test_no_alert_for_the_same_generator():
    result = run(
        population(1), population(2), predictions(1), predictions(2), validation_gini=0.7, backtest_gini=0.68
    )
    assert result.summary["retrain_recommended"] is False, result.summary["reasons"]
    assert result.summary["reasons"] == []


def test_alert_for_a_shift_in_one_feature_names_it():
    result = run(population(1), population(2, aov_scale=40.0), predictions(1), predictions(2))
    reasons = result.summary["reasons"]
    assert result.summary["retrain_recommended"] is True
    assert len(reasons) == 1 and reasons[0].startswith("feature drift in avg_order_value")
    assert result.verdict == "1 of 5 features drifted; drift alert (a person decides)"


def test_without_a_trained_model_the_monitor_says_why_and_alerts_nothing():
    result = no_reference("too short a log: 2 months of history")
    assert result.summary["retrain_recommended"] is False and result.summary["reasons"] == []
    assert result.feature_drift.height == 0 and result.shap_drift is not None
    assert result.verdict == result.summary["no_reference"]
    assert "no training population" in result.verdict and "2 months of history" in result.verdict


def test_alert_for_a_shift_in_predictions():
    result = run(population(1), population(2), predictions(1), predictions(2, scale=60.0))
    reasons = result.summary["reasons"]
    assert (
        len(reasons) == 1 and "distribution of predicted CLV moved" in reasons[0] and "mean +" in reasons[0]
    )


def test_alert_for_a_shift_in_the_status_mix_not_the_stage_mix():
    shifted = population(2, stage_p=(0.55, 0.25, 0.1, 0.1)).with_columns(
        pl.when(pl.col("status_segment") == "Active")
        .then(pl.lit("Dormant"))
        .otherwise(pl.col("status_segment"))
        .alias("status_segment")
    )
    result = run(population(1), shifted, predictions(1), predictions(2))
    reasons = result.summary["reasons"]
    assert any(r.startswith("the status_segment mix shifted") for r in reasons)
    # customer_stage is tenure in bands: it ages with the customers, reported, not alerted
    stage = result.summary["segment_mix"]["customer_stage"]
    assert stage["psi"] > PARAMS.mix_psi_alert and "not alerted" in stage["note"]
    assert not any("customer_stage" in r for r in reasons)


def _shap(rows: pl.DataFrame, weights: dict[str, float]) -> np.ndarray:
    """SHAP-like contributions: weight x the feature's standardised value (log scale)."""
    return np.column_stack([weights.get(n, 0.0) * (rows[n].to_numpy() - 60.0) / 60.0 for n in NUMERIC])


def test_a_drift_alerts_only_when_it_moves_the_forecast_and_reasons_rank_by_effect():
    reference = population(1)
    current = population(2, aov_scale=40.0).with_columns(pl.col("recency_days") * 2)
    # the model barely uses avg_order_value, and leans on recency_days
    weights = {"recency_days": -0.5, "avg_order_value": 0.01}
    shap = (shap_means(_shap(reference, weights), NUMERIC), shap_means(_shap(current, weights), NUMERIC))
    result = run(reference, current, predictions(1), predictions(2), shap=shap)
    table = result.feature_drift
    aov = table.filter(pl.col("feature") == "avg_order_value").row(0, named=True)
    assert aov["drift"] is False and "not alerted" in aov["note"] and abs(aov["forecast_effect"]) < 0.05
    recency = table.filter(pl.col("feature") == "recency_days").row(0, named=True)
    assert recency["drift"] is True and recency["forecast_effect"] < -0.05
    assert result.summary["reasons"][0].startswith("feature drift in recency_days")
    assert "effect on the forecast -" in result.summary["reasons"][0]


def test_the_reference_is_the_same_calendar_window_a_year_earlier_when_there_is_one():
    from clv_engine.monitoring import reference_cutoff

    as_of = dt.date(2022, 12, 31)
    cutoffs = [dt.date(2021, 9, 30), dt.date(2021, 12, 31), dt.date(2022, 3, 31), dt.date(2022, 6, 30)]
    chosen, why = reference_cutoff(cutoffs, as_of)
    assert chosen == dt.date(2021, 12, 31) and "a year earlier" in why
    chosen, why = reference_cutoff(cutoffs[2:], as_of)
    assert chosen == dt.date(2022, 6, 30) and "newest training cutoff" in why


def test_accuracy_drop_alerts_above_the_threshold():
    ok = run(
        population(1), population(2), predictions(1), predictions(2), validation_gini=0.70, backtest_gini=0.60
    )
    bad = run(
        population(1), population(2), predictions(1), predictions(2), validation_gini=0.70, backtest_gini=0.50
    )
    assert ok.summary["reasons"] == []
    assert bad.summary["reasons"][0].startswith("accuracy dropped")


def test_ignored_features_never_alert():
    params = MonitorParams(ignore_features=("avg_order_value",))
    result = monitor(
        population(1),
        population(2, aov_scale=40.0),
        predictions(1),
        predictions(2),
        NUMERIC,
        CATEGORICAL,
        params,
    )
    assert result.summary["reasons"] == []
    row = result.feature_drift.filter(pl.col("feature") == "avg_order_value").row(0, named=True)
    assert row["drift"] is False and "not alerted" in row["note"]


def test_shap_drift_alerts_when_what_drives_the_model_changes():
    from clv_engine.monitoring import shap_drift

    rng = np.random.default_rng(0)
    reference = rng.normal(size=(2000, 6)) * np.array([1.0, 0.8, 0.6, 0.4, 0.2, 0.1])
    same = rng.normal(size=(2000, 6)) * np.array([1.0, 0.8, 0.6, 0.4, 0.2, 0.1])
    flipped = rng.normal(size=(2000, 6)) * np.array([0.1, 0.2, 0.4, 0.6, 0.8, 1.0])
    names = [f"f{i}" for i in range(6)]
    reference, same, flipped = (shap_means(x, names) for x in (reference, same, flipped))
    _, summary, reasons = shap_drift(reference, same, PARAMS)
    assert reasons == [] and summary["importance_rank_correlation"] > 0.9
    table, summary, reasons = shap_drift(reference, flipped, PARAMS)
    assert reasons and reasons[0].startswith("what drives the model changed")
    assert summary["left_top5"] == ["f0"] and summary["entered_top5"] == ["f5"]
    assert table["rank_reference"].to_list() == [1, 2, 3, 4, 5, 6]


def test_shap_means_are_per_feature_and_the_populations_must_match():
    from clv_engine.monitoring import shap_drift

    shap = np.array([[0.5, -1.0], [-0.5, 3.0]])
    means = shap_means(shap, ["a", "b"])
    assert means.to_dicts() == [
        {"feature": "a", "mean_shap": 0.0, "mean_abs_shap": 0.5},
        {"feature": "b", "mean_shap": 1.0, "mean_abs_shap": 2.0},
    ]
    with pytest.raises(ValueError, match="same features in the same order"):
        shap_drift(means, means.reverse(), PARAMS)
