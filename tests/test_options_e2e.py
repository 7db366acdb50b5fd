"""Every model, label, cluster and lifecycle option in params.yaml runs end to end (`dvc repro`).

Two variant runs on a small seeded synthetic log cover every non-default value of the
options that reach past ingest (ingest's own options are tested at the ingest stage, whose
output is the same table whatever they were). A test checks that the variants cover every
value the params accept, so an option added later without an end-to-end run fails here.
"""

from __future__ import annotations

import json
import typing
from dataclasses import fields
from pathlib import Path

import polars as pl
import pytest
from tests.test_pipeline_e2e import SMALL, _merge, dvc, make_project

from clv_engine import params as params_module
from clv_engine.synth import SynthConfig, generate_transactions

pytestmark = pytest.mark.slow

VARIANTS = {
    "two_part": {
        # update: warm without a champion falls back to a full fit (the warm path itself runs
        # in tests/test_governance_e2e.py, after a promotion)
        "model": {"objective": "two_part", "level": "trees", "update": "warm"},
        "cluster": {"method": "kmeans"},
        "labels": {"floor_at_zero": False},
        "lifecycle": {"log_start": "complete"},
    },
    "log_rmse": {
        "model": {"objective": "log_rmse", "baseline": "none", "use_btyd_features": False, "level": "btyd"},
        "segments": {"low_aov": 20.0, "high_aov": 80.0},
        "lifecycle": {"log_start": "censored"},
    },
}
SECTIONS = {
    "model": "ModelParams",
    "cluster": "ClusterParams",
    "labels": "LabelParams",
    "lifecycle": "LifecycleParams",
}


def _choices(cls) -> dict[str, set]:
    out = {}
    for f in fields(cls):
        kind = typing.get_type_hints(cls)[f.name]
        if typing.get_origin(kind) is typing.Literal:
            out[f.name] = set(typing.get_args(kind))
        elif kind is bool:
            out[f.name] = {True, False}
    return out


def test_the_variants_cover_every_choice_of_every_option():
    for section, name in SECTIONS.items():
        cls = getattr(params_module, name)
        defaults = {f.name: f.default for f in fields(cls)}
        for option, values in _choices(cls).items():
            seen = {defaults[option]} | {
                v.get(section, {}).get(option, defaults[option]) for v in VARIANTS.values()
            }
            assert seen >= values, (
                f"{section}.{option}: no end-to-end run with {sorted(map(str, values - seen))}"
            )


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_variant_runs_end_to_end(tmp_path_factory, variant):
    log = generate_transactions(SynthConfig(n_transactions=12_000, seed=21))
    overrides = _merge(SMALL, VARIANTS[variant]) | {"explain": {"interaction_sample": 50, "plot_sample": 500}}
    root: Path = make_project(tmp_path_factory.mktemp(variant), log, overrides)
    dvc(root, "repro")
    forecast = json.loads((root / "reports" / "forecast.json").read_text())
    predictions = pl.read_csv(root / "data" / "outputs" / "clv_predictions.csv", infer_schema_length=None)
    assert forecast["customers"] == predictions.height > 0
    assert forecast["total_lower"] <= forecast["total"] <= forecast["total_upper"]
    assert (predictions["clv_lower"] <= predictions["predicted_clv"]).all()
    assert set(predictions["source"]) == {"model"}
    importance = pl.read_csv(root / "reports" / "explain" / "importance.csv")
    assert importance["mean_abs_shap"].sum() > 0  # explained, not skipped
    assert pl.read_csv(root / "data" / "outputs" / "interactions.csv").height > 0
    summary = json.loads((root / "reports" / "monitoring" / "monitoring_summary.json").read_text())
    assert summary["shap"], "SHAP drift computed"
    metadata = json.loads((root / "reports" / "model_metadata.json").read_text())
    assert metadata["params"]["model"]["objective"] == VARIANTS[variant]["model"]["objective"]
    expected = {
        "full": "full: fitted from scratch (model.update: full)",
        "warm": "full: model.update is warm but no champion was promoted yet",
    }
    assert metadata["update"]["note"] == expected[VARIANTS[variant]["model"].get("update", "full")]
    assert "<html" in (root / "reports" / "report.html").read_text()
    scoring = pl.read_parquet(root / "data" / "features" / "scoring.parquet")
    censored_start = VARIANTS[variant]["lifecycle"]["log_start"] == "censored"
    assert bool(scoring["tenure_censored"].any()) == censored_start
