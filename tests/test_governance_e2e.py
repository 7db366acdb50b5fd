"""Champion and challenger through dvc repro and make promote (issue 16), on a small synthetic log.

A model trained as of 2023-09-29 is promoted; the log then runs to 2023-12-30, where the
newest backtest origin is 2023-09-29 (3 months before it). The champion must score the new
customers exactly as ``Forecaster`` does, the monitor must compare them with the champion's
training population, and governance.json must put the frozen champion beside the
challenger's recipe at the origins on or after the champion's date: at 2023-09-29 the two
are the same model (the backtest replays the production path), so they must agree exactly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml
from tests.test_pipeline_e2e import SMALL, _merge, dvc, make_project

from clv_engine.provenance import fingerprint
from clv_engine.scoring import Forecaster
from clv_engine.synth import SynthConfig, generate_transactions

pytestmark = pytest.mark.slow

CHAMPION_DATE = "2023-09-29"


def _promote(project: Path) -> subprocess.CompletedProcess:
    env = os.environ | {"CLV_PROMOTED_BY": "a reviewer", "DVC_NO_ANALYTICS": "1"}
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    return subprocess.run(
        [sys.executable, "-m", "clv_engine.promote"], cwd=project, env=env, capture_output=True, text=True
    )


def _read(project: Path, name: str) -> dict:
    return json.loads((project / "reports" / name).read_text())


def _set_params(project: Path, changes: dict) -> None:
    params = yaml.safe_load((project / "params.yaml").read_text())
    (project / "params.yaml").write_text(yaml.safe_dump(_merge(params, changes), sort_keys=False))


def test_promote_then_score_new_data_with_the_champion(tmp_path):
    log = generate_transactions(SynthConfig(n_transactions=20_000, seed=21))
    project = make_project(tmp_path / "p", log, _merge(SMALL, {"as_of": CHAMPION_DATE}))
    dvc(project, "repro")
    governance = _read(project, "governance.json")
    latest = project / "data" / "model" / "model_bundle.joblib"
    assert governance["scored_with"] == "latest" and governance["champion"] is None
    assert governance["challenger"] == {
        "sha256": fingerprint(latest),
        "trained_as_of": CHAMPION_DATE,
        "update": "full: fitted from scratch (model.update: full)",
    }
    assert "no model has been promoted" in governance["reasons"][0]
    before = (project / "data" / "outputs" / "clv_predictions.csv").read_bytes()

    promoted = _promote(project)
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    sha = fingerprint(latest)
    assert f"champion now: {sha}" in promoted.stdout and "champion was: none" in promoted.stdout
    champion = project / "models" / "champion"
    assert (champion / "bundle.joblib.dvc").is_file() and (champion / "training.parquet.dvc").is_file()
    metadata = json.loads((champion / "metadata.json").read_text())  # for git: a reviewer reads it
    assert metadata == _read(project, "model_metadata.json")
    card = json.loads((project / "models" / "champion_card.json").read_text())
    assert card["sha256"] == sha and card["trained_as_of"] == CHAMPION_DATE
    assert card["promoted_by"] == "a reviewer" and card["previous_champion_sha256"] is None
    assert card["backtest"]["origins"]["count"] == SMALL["evaluate"]["origins"]

    # The champion is the latest model on the same data: the same forecast, nothing to promote.
    dvc(project, "repro")
    governance = _read(project, "governance.json")
    assert governance["scored_with"] == "champion" and governance["champion"]["sha256"] == sha
    assert not governance["promote_recommended"]
    assert (project / "data" / "outputs" / "clv_predictions.csv").read_bytes() == before

    # Six more months of orders: the champion scores them; a challenger is fitted beside it.
    _set_params(project, {"as_of": None})
    dvc(project, "repro")
    in_use = _read(project, "model_in_use.json")
    assert in_use["scored_with"] == "champion" and in_use["champion"]["trained_as_of"] == CHAMPION_DATE
    assert in_use["latest"]["trained_as_of"] == "2023-12-30" and in_use["latest"]["sha256"] != sha
    assert _read(project, "forecast.json")["as_of"] == "2023-12-30"
    scores = pl.read_parquet(project / "data" / "score" / "scores.parquet").sort("customer_id")
    orders = pl.read_parquet(project / "data" / "orders" / "orders.parquet")
    api = Forecaster.load(champion / "bundle.joblib").predict_orders(orders, "2023-12-30")
    assert api["customer_id"].to_list() == scores["customer_id"].to_list()
    for column in ("predicted_clv", "clv_lower", "clv_upper", "p_active", "clv_12m"):
        np.testing.assert_allclose(api[column], scores[column], rtol=1e-9, atol=1e-12, err_msg=column)
    # The monitor's reference: the champion's training customers, not the challenger's.
    reference = _read(project, "monitoring/monitoring_summary.json")["reference"]
    champion_cutoffs = pl.read_parquet(champion / "training.parquet")["cutoff"].unique()
    assert any(str(c) in reference for c in champion_cutoffs.to_list())

    governance = _read(project, "governance.json")
    assert governance["challenger"]["sha256"] == in_use["latest"]["sha256"]
    comparison = governance["comparison"]
    cutoffs = [row["cutoff"] for row in comparison["origins"]]
    assert cutoffs == [CHAMPION_DATE]  # the older origins come before the champion's date
    origins = pl.read_csv(project / "reports" / "plots" / "origins.csv", try_parse_dates=True)
    same = origins.filter(pl.col("cutoff").cast(pl.String) == CHAMPION_DATE).row(0, named=True)
    (row,) = comparison["origins"]
    assert row["customers"] == same["customers"]
    for metric, column in (("gini", "gini_model"), ("bias", "bias_model"), ("coverage", "coverage")):
        assert row[f"{metric}_challenger"] == pytest.approx(same[column], abs=1e-6)
        assert row[f"{metric}_champion"] == pytest.approx(row[f"{metric}_challenger"], abs=1e-6), metric
    assert isinstance(governance["promote_recommended"], bool) and governance["reasons"]
    report = (project / "reports" / "report.html").read_text()
    assert 'id="governance"' in report and "Model in use: the champion" in report
    # The headline is today's forecast, with the champion's own level and range notes.
    assert "Forecast made on 2023-12-30" in report
    assert metadata["level"]["set_by"].split(" (")[0] in report

    # model.update: warm: the challenger continues the champion's trees on the new rows.
    _set_params(project, {"model": {"update": "warm"}})
    dvc(project, "repro")
    warm = _read(project, "model_metadata.json")
    assert warm["update"]["method"] == "warm" and warm["update"]["continued_trees"] == metadata["trees"]
    assert warm["update"]["note"].startswith("warm: the champion's trees (newest training cutoff")
    governance = _read(project, "governance.json")
    assert governance["challenger"]["update"] == warm["update"]["note"]
    assert "replayed here as a full fit" in governance["comparison"]["note"]
    in_use = _read(project, "model_in_use.json")
    assert in_use["champion"]["sha256"] == sha  # the champion still scores
    assert in_use["latest"]["sha256"] == governance["challenger"]["sha256"] != sha

    # Promoting needs an up-to-date pipeline; then the challenger replaces the champion.
    _set_params(project, {"governance": {"min_gini_gain": 0.02}})  # governance.json is stale
    refused = _promote(project)
    assert refused.returncode == 2 and "not up to date" in refused.stderr
    dvc(project, "repro")
    again = _promote(project)
    assert again.returncode == 0, again.stdout + again.stderr
    card = json.loads((project / "models" / "champion_card.json").read_text())
    assert card["previous_champion_sha256"] == sha and card["sha256"] == in_use["latest"]["sha256"]

    # A champion known only by its .dvc file (a fresh clone without `dvc pull`): DVC itself stops
    # with the missing file's name (the in_use stage's own message is tested in test_governance).
    (champion / "bundle.joblib").unlink()
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    failed = subprocess.run(
        [sys.executable, "-m", "dvc", "repro"], cwd=project, env=env, capture_output=True, text=True
    )
    assert failed.returncode != 0 and "missing data 'source': models/champion/bundle.joblib" in failed.stderr
    dvc(project, "checkout", "models/champion/bundle.joblib.dvc")
    dvc(project, "repro")
    assert _read(project, "governance.json")["champion"]["sha256"] == card["sha256"]
