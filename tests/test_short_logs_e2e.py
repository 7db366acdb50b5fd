"""Logs a user brings on day one run end to end: young logs, guest checkouts, cancellations.

A seeded synthetic log (growing, a November peak, 20% guest checkouts, cancellations,
line items with order ids) through `dvc repro`, first at an as_of too young for any
training cutoff (the textbook fallback), then at one with training cutoffs but too short a
history for a backtest. Each run must write the forecast, the report and every output.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import polars as pl
import pytest
import yaml
from tests.test_pipeline_e2e import dvc, make_project

from clv_engine.synth import SynthConfig, generate_transactions

pytestmark = pytest.mark.slow

SMALL = {
    "ingest": {"columns": {"order_id": "order_id", "quantity": "quantity"}, "duplicates": "quarantine"},
    "windows": {"lookback_months": [3, 6], "horizon_months": 3, "search_iterations": 20},
    "training": {"n_cutoffs": 2, "spacing_months": 2},
    "model": {"iterations": 80, "learning_rate": 0.1, "early_stopping_rounds": 20},
    "evaluate": {"origins": 2},
    "cluster": {"k_max": 3},
    "explain": {"interaction_sample": 50, "plot_sample": 500},
}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    config = SynthConfig(
        n_transactions=12_000,
        seed=17,
        start=dt.date(2022, 1, 1),
        end=dt.date(2022, 12, 31),
        acquisition_growth_per_year=0.5,
        acquisition_share=1.0,
        season_peak_day=320,
        guest_share=0.2,
        cancellation_rate=0.03,
    )
    return make_project(tmp_path_factory.mktemp("young"), generate_transactions(config), SMALL)


def _run(project: Path, as_of: str) -> dict:
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["as_of"] = as_of
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    dvc(project, "repro")
    reports = project / "reports"
    out = {
        name: json.loads((reports / name).read_text())
        for name in ("forecast.json", "metrics.json", "ingest.json", "model_metadata.json")
    }
    out["predictions"] = pl.read_csv(
        project / "data" / "outputs" / "clv_predictions.csv", schema_overrides={"customer_id": pl.String}
    )
    out["report"] = (reports / "report.html").read_text()
    return out


def _forecast_ships(run: dict) -> None:
    f, p = run["forecast.json"], run["predictions"]
    assert f["customers"] == p.height > 0
    assert f["total_lower"] <= f["total"] <= f["total_upper"]
    assert f["total"] == pytest.approx(p["predicted_clv"].sum(), rel=1e-4)
    assert (p["clv_lower"] <= p["predicted_clv"]).all() and (p["predicted_clv"] <= p["clv_upper"]).all()


def test_guest_checkouts_are_counted_not_rejected(project):
    run = _run(project, "2022-03-31")
    ing = run["ingest.json"]
    assert 0.1 < ing["rows_without_customer"] / ing["rows_read"] < 0.3
    assert 0 < ing["revenue_share_without_customer"] < 0.4
    assert "had no customer id (guest checkouts" in run["report"]


def test_a_log_too_young_to_train_on_falls_back_to_the_textbook_models(project):
    run = _run(project, "2022-03-31")
    _forecast_ships(run)
    assert set(run["predictions"]["source"]) <= {"btyd", "naive"}
    assert run["metrics.json"]["backtest"] is None and "no backtest" in run["metrics.json"]["no_backtest"]
    covers = run["model_metadata.json"]["level"]["total_band_covers"]
    assert (
        "assumes the typical error of a BG/NBD" in covers
        and "50% on the log scale on logs under a year" in covers
    )
    assert run["forecast.json"]["range_origins"] == 0
    # Under a year of log the prior level error is 0.5: a 90% range of x/÷ exp(1.645 x 0.5 x 1.5^0.5) or more
    f = run["forecast.json"]
    assert f["total_upper"] / f["total"] > math.exp(1.6448 * 0.5 * math.sqrt(1.5)) > 2.7
    assert 'id="no-backtest"' in run["report"]


def test_a_log_too_short_to_backtest_trains_and_says_so(project):
    run = _run(project, "2022-08-31")
    _forecast_ships(run)
    assert set(run["predictions"]["source"]) == {"model"}
    assert run["metrics.json"]["backtest"] is None
    assert "needs history from" in run["metrics.json"]["no_backtest"]
    assert 'id="no-backtest"' in run["report"]
