"""A three-year extract of a steady, seasonal shop with guest checkouts, through `dvc repro`.

The shop was trading for three years before the extract starts, so the log begins in the
middle of its customers' lives (a left-censored start); its demand has a November peak
and guests place 15% of the lines, but nothing else changes over time. The engine must
see the censored start (tenure_censored, stage "Existing"), compare the scored customers
with the same calendar window a year earlier, and raise no drift alarm: nothing drifted.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from tests.test_pipeline_e2e import _merge, dvc, make_project
from tests.test_short_logs_e2e import SMALL

from clv_engine.synth import SynthConfig, generate_transactions

pytestmark = pytest.mark.slow

# The young-log settings, with a longer grid and more training cutoffs for three years.
SETTINGS = _merge(
    SMALL,
    {
        "windows": {"lookback_months": [6, 12]},
        "training": {"n_cutoffs": 4, "spacing_months": 3},
        "model": {"iterations": 150},
    },
)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    config = SynthConfig(
        n_transactions=60_000,
        seed=8,
        start=dt.date(2017, 1, 1),
        end=dt.date(2022, 12, 31),
        acquisition_growth_per_year=0.0,
        acquisition_share=1.0,
        season_peak_day=320,
        season_amplitude=0.5,
        guest_share=0.15,
    )
    log = generate_transactions(config).filter(pl.col("order_date") >= dt.date(2020, 1, 1))
    root = make_project(tmp_path_factory.mktemp("censored"), log, SETTINGS)
    dvc(root, "repro")
    return root


def test_the_censored_start_is_seen_in_features_and_segments(project):
    scoring = pl.read_parquet(project / "data" / "features" / "scoring.parquet")
    censored = scoring["tenure_censored"]
    assert 0.05 < censored.mean() < 0.9
    stages = scoring.filter(censored)["customer_stage"]
    # three years on, the lower bound of their tenure has passed Established: Loyal
    assert set(stages) == {"Loyal"}
    segments = pl.read_csv(project / "data" / "outputs" / "business_segments.csv", infer_schema=False)
    assert segments.height == scoring.height


def test_a_stationary_seasonal_shop_raises_no_drift_alarm(project):
    summary = json.loads((project / "reports" / "monitoring" / "monitoring_summary.json").read_text())
    assert "a year earlier" in summary["reference"]
    assert summary["retrain_recommended"] is False, summary["reasons"]
    assert summary["reasons"] == []
    report = (project / "reports" / "report.html").read_text()
    assert "No drift alert." in report
