"""The whole pipeline, as a user runs it: `dvc repro` on a small synthetic log.

Runs in a temporary copy of the project (dvc init --no-scm), with small model settings so
that it takes about a minute. Checks that the outputs agree with each other and with the
rules, that a second `dvc repro` does nothing, and that a cluster param change reruns only
the cluster stage and what depends on it.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import yaml
from tests.conftest import ROOT

from clv_engine.io import restore_cells
from clv_engine.ranking import tier_labels
from clv_engine.segments import SEGMENT_RULES
from clv_engine.synth import SynthConfig, generate_transactions

pytestmark = pytest.mark.slow

SMALL = {
    "ingest": {"columns": {"order_id": "order_id", "quantity": "quantity"}, "duplicates": "quarantine"},
    "windows": {"lookback_months": [6, 12], "horizon_months": 3, "search_iterations": 30},
    "training": {"n_cutoffs": 3, "spacing_months": 2},
    "model": {"iterations": 150, "learning_rate": 0.1, "early_stopping_rounds": 20},
    "cluster": {"k_max": 4},
    "evaluate": {"origins": 3},
}


def _merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        out[key] = _merge(base.get(key, {}), value) if isinstance(value, dict) else value
    return out


def dvc(project: Path, *args: str) -> subprocess.CompletedProcess:
    env = os.environ | {
        "DVC_NO_ANALYTICS": "1",
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "dvc", *args], cwd=project, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def copy_champion_folder(root: Path) -> None:
    """models/champion/ as shipped: its README only (no champion promoted)."""
    (root / "models" / "champion").mkdir(parents=True)
    shutil.copy(ROOT / "models" / "champion" / "README.md", root / "models" / "champion" / "README.md")


def make_project(root: Path, log: pl.DataFrame, overrides: dict, git: list[str] | None = None) -> Path:
    """A temporary copy of the project on ``log`` (data/raw/log.csv), params merged with ``overrides``.

    ``git``: the git command to make it a git repository with (else DVC runs without SCM).
    """
    if git is not None:
        subprocess.run([*git, "init", "-q", str(root)], check=True)
    for name in ("src", "stages"):
        shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copy(ROOT / "dvc.yaml", root / "dvc.yaml")
    copy_champion_folder(root)
    (root / "data" / "raw").mkdir(parents=True)
    log.write_csv(root / "data" / "raw" / "log.csv")
    params = _merge(yaml.safe_load((ROOT / "params.yaml").read_text()), overrides)
    params["ingest"]["path"] = "data/raw/log.csv"
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    dvc(root, "init", "-q", *(["--no-scm"] if git is None else []))
    dvc(root, "config", "core.analytics", "false")
    return root


# Customer ids a spreadsheet would run as formulas (OWASP's examples): every CSV meant for
# people must neutralise them, and the pipeline must treat them as ordinary ids.
HOSTILE_IDS = ['=HYPERLINK("http://x","y")', "+SUM(A1:A2)", "@cmd", '=cmd|"/c calc"!A1', "-42", "'quoted"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _with_hostile_ids(log: pl.DataFrame) -> pl.DataFrame:
    ids = log["customer_id"].drop_nulls().unique().sort().head(len(HOSTILE_IDS)).to_list()
    return log.with_columns(pl.col("customer_id").replace(dict(zip(ids, HOSTILE_IDS, strict=True))))


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    log = _with_hostile_ids(generate_transactions(SynthConfig(n_transactions=20_000, seed=21)))
    root = make_project(tmp_path_factory.mktemp("project"), log, SMALL)
    dvc(root, "repro")
    return root


def test_outputs_agree_with_each_other(project):
    out = project / "data" / "outputs"
    predictions = restore_cells(pl.read_csv(out / "clv_predictions.csv", infer_schema=False)).with_columns(
        pl.col("predicted_clv", "clv_lower", "clv_upper").cast(pl.Float64), pl.col("clv_rank").cast(pl.Int64)
    )
    scoring = pl.read_parquet(project / "data" / "features" / "scoring.parquet")
    segments = restore_cells(pl.read_csv(out / "business_segments.csv", infer_schema=False))
    n = scoring.height
    for frame in (predictions, segments):
        assert frame.height == n and frame["customer_id"].n_unique() == n
        assert set(frame["customer_id"]) == set(scoring["customer_id"])
    assert predictions["clv_rank"].to_list() == list(range(1, n + 1))
    assert (predictions["clv_lower"] <= predictions["predicted_clv"]).all()
    assert (predictions["predicted_clv"] <= predictions["clv_upper"]).all()
    assert (predictions["clv_lower"] >= 0).all()
    assert set(predictions["source"]) == {"model"}
    # several horizons (issue 17): never decreasing; the pinned one (3 months) is predicted_clv
    horizons = predictions.select(
        [pl.col(c).cast(pl.Float64) for c in ("clv_1m", "clv_3m", "clv_6m", "clv_12m", "clv_12m_discounted")]
    )
    for shorter, longer in (("clv_1m", "clv_3m"), ("clv_3m", "clv_6m"), ("clv_6m", "clv_12m")):
        assert (horizons[shorter] <= horizons[longer]).all()
    assert horizons["clv_3m"].to_list() == predictions["predicted_clv"].to_list()
    assert (horizons["clv_12m_discounted"] <= horizons["clv_12m"]).all()
    assert (horizons["clv_12m_discounted"] < horizons["clv_12m"]).any()
    # each horizon's band and p_active: around clv_<h>m, p_active never decreasing with h,
    # the pinned horizon's are clv_lower, clv_upper and p_active themselves
    metadata = json.loads((project / "reports" / "model_metadata.json").read_text())
    bands = predictions.select(pl.col("^(clv|p_active).*$").exclude("clv_segment").cast(pl.Float64))
    for h in (1, 3, 6, 12):
        low, high, chance = bands[f"clv_lower_{h}m"], bands[f"clv_upper_{h}m"], bands[f"p_active_{h}m"]
        assert chance.null_count() == low.null_count() == high.null_count() == 0
        assert chance.is_between(0, 1).all() and (low >= 0).all()
        assert (low <= bands[f"clv_{h}m"]).all() and (bands[f"clv_{h}m"] <= high).all()
        if h != 3:
            assert metadata["horizon_intervals"][f"{h}m"].startswith(("calibrated on", "not calibrated"))
    assert bands["clv_lower_3m"].to_list() == bands["clv_lower"].to_list()
    assert bands["clv_upper_3m"].to_list() == bands["clv_upper"].to_list()
    assert bands["p_active_3m"].to_list() == bands["p_active"].to_list()
    for shorter, longer in ((1, 3), (3, 6), (6, 12)):
        assert (bands[f"p_active_{shorter}m"] <= bands[f"p_active_{longer}m"]).all()
    assert "calibrated on" in metadata["horizon_intervals"]["1m"]
    assert (bands["clv_upper_1m"] < bands["clv_upper"]).mean() > 0.9
    # the headline total and its range (reports/forecast.json)
    forecast = json.loads((project / "reports" / "forecast.json").read_text())
    assert forecast["customers"] == n
    assert forecast["total"] == pytest.approx(predictions["predicted_clv"].sum(), rel=1e-4)
    assert forecast["total_lower"] < forecast["total"] < forecast["total_upper"]
    # the rolling backtest: every origin in the table and in metrics.json
    origins = pl.read_csv(project / "reports" / "plots" / "origins.csv")
    metrics = json.loads((project / "reports" / "metrics.json").read_text())
    assert origins.height == metrics["origins"]["count"] == 3
    # each horizon the backtest origin realises, the model beside BG/NBD + GG
    horizons = metrics["horizons"]
    assert horizons["3m"]["model"]["mae"] == pytest.approx(metrics["model"]["mae"], rel=1e-6)
    assert horizons["1m"]["cutoff"] == horizons["3m"]["cutoff"] == metrics["backtest"]["cutoff"]
    assert {"model", "btyd", "interval_coverage", "cutoff", "customers_sampled"} == set(horizons["1m"])
    assert 0.5 < horizons["1m"]["interval_coverage"] <= 1.0
    assert "coverage_1m" in origins.columns
    # 6 months ends after as_of at the newest origin: an older one realises it, or none does.
    for h in (6, 12):
        assert (f"{h}m" in horizons) != (h in metrics["horizons_not_realised"])
        if f"{h}m" in horizons:
            assert horizons[f"{h}m"]["cutoff"] < metrics["backtest"]["cutoff"]
    # the DVC plot of importance: the top 15 features, largest first
    top = pl.read_csv(project / "reports" / "plots" / "importance_top.csv")
    assert top.height == 15 and top["rank"].to_list() == list(range(1, 16))
    assert top["mean_abs_shap"].is_sorted(descending=True)
    assert metrics["origins"]["coverage"]["min"] <= metrics["interval"]["coverage"]
    # same segments in both files
    joined = predictions.join(segments, on="customer_id", suffix="_seg")
    assert (joined["business_segment"] == joined["business_segment_seg"]).all()
    # tiers recomputed from the rule
    shares = yaml.safe_load((project / "params.yaml").read_text())["score"]["tier_shares"]
    labels = tier_labels(tuple(shares))
    for rank, segment in predictions.select("clv_rank", "clv_segment").iter_rows():
        expected = next(
            (lab for s, lab in zip(shares, labels, strict=False) if rank <= math.ceil(s * n)), labels[-1]
        )
        assert segment == expected
    assert set(segments["business_segment"]) <= {rule.name for rule in SEGMENT_RULES}
    # the segment summary adds up to the predictions
    summary = pl.read_csv(out / "segment_summary.csv")
    assert summary["customers"].sum() == n
    assert summary["predicted_revenue"].sum() == pytest.approx(predictions["predicted_clv"].sum(), rel=1e-3)
    clusters = pl.read_csv(out / "cluster_summary.csv")
    assert clusters["customers"].sum() == n
    for name in ("clv_cluster_rankings.csv", "segment_metrics.csv"):
        assert (out / name).stat().st_size > 0
    for picture in ("cluster_profiles.png", "segments.png"):
        assert (project / "reports" / "figures" / picture).read_bytes()[:4] == b"\x89PNG"


def test_every_csv_for_people_is_safe_in_a_spreadsheet(project):
    scored = set(pl.read_parquet(project / "data" / "features" / "scoring.parquet")["customer_id"])
    assert set(HOSTILE_IDS) <= scored  # the hostile ids went through as ordinary customers
    out = project / "data" / "outputs"
    people = (
        "clv_predictions",
        "business_segments",
        "segment_summary",
        "cluster_summary",
        "clv_cluster_rankings",
    )
    files = [*(out / f"{name}.csv" for name in people), project / "data" / "ingest" / "quarantine.csv"]
    for path in files:
        assert path.read_bytes().startswith(b"\xef\xbb\xbf"), path  # a BOM: Excel reads UTF-8
        frame = pl.read_csv(path, infer_schema=False)
        for column in frame.columns:
            for cell in frame[column].drop_nulls():
                if cell.startswith(FORMULA_START):
                    float(cell)  # only a number may start with "-" or "+": a formula fails here
    ids = restore_cells(pl.read_csv(project / "data" / "outputs" / "clv_predictions.csv", infer_schema=False))
    assert set(HOSTILE_IDS) <= set(ids["customer_id"])


def test_stage_commands_run_from_a_fresh_shell_without_an_activated_venv(project):
    """`.venv/bin/dvc ...` as the README shows it: PATH has no venv, stages/py finds it."""
    venv = project / ".venv"
    if not venv.exists():
        venv.symlink_to(Path(sys.executable).parent.parent)
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp"), "DVC_NO_ANALYTICS": "1"}
    for command in (".venv/bin/dvc repro --force --single-item cluster", ".venv/bin/dvc metrics show"):
        proc = subprocess.run(["sh", "-c", command], cwd=project, env=env, capture_output=True, text=True)
        assert proc.returncode == 0, command + "\n" + proc.stdout + proc.stderr
    assert "model.normalized_gini" in proc.stdout and "total_upper" in proc.stdout


def _readme_commands(heading: str) -> list[str]:
    """The commands of the README's shell block under ``heading``, one per line."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(re.escape(heading) + r".*?```bash\n(.*?)```", text, re.S)
    assert block is not None, f"README.md has no bash block under {heading!r}"
    return [line for line in block.group(1).splitlines() if line.strip() and not line.startswith("#")]


def test_readme_experiment_commands_work_in_a_git_project_from_a_fresh_shell(tmp_path):
    """`dvc exp run -S ...` and the readable `dvc exp show`, exactly as README.md shows them."""
    log = generate_transactions(SynthConfig(n_transactions=6_000, seed=5))
    git = ["git", "-c", "user.name=ci", "-c", "user.email=ci@example.invalid"]
    root = make_project(tmp_path / "exp", log, SMALL | {"evaluate": {"origins": 1}}, git)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DVC_NO_ANALYTICS": "1"}
    (root / ".venv").symlink_to(Path(sys.executable).parent.parent)
    (root / ".gitignore").write_text("/.venv\n")
    for command in (".venv/bin/dvc repro -q", "git add -A", f"{' '.join(git)} commit -qm base"):
        proc = subprocess.run(["sh", "-c", command], cwd=root, env=env, capture_output=True, text=True)
        assert proc.returncode == 0, command + "\n" + proc.stdout + proc.stderr
    commands = _readme_commands("### Experiments")
    assert any("dvc exp run" in c for c in commands) and any("dvc exp show" in c for c in commands)
    shown = ""
    for command in commands:
        proc = subprocess.run(["sh", "-c", command], cwd=root, env=env, capture_output=True, text=True)
        assert proc.returncode == 0, command + "\n" + proc.stdout + proc.stderr
        shown = proc.stdout if "exp show" in command else shown
    lines = shown.strip().splitlines()
    # A table a reviewer can read: the experiment, the model against the textbook, the param.
    assert len(lines) >= 3 and "kmeans" in shown and "model.normalized_gini" in lines[0]
    assert max(len(line) for line in lines) < 320 and lines[0].count("|") <= 16


def test_second_repro_does_nothing_and_cluster_change_reruns_only_downstream(project):
    assert "Data and pipelines are up to date" in dvc(project, "repro").stdout
    params_path = project / "params.yaml"
    original = params_path.read_text()
    params = yaml.safe_load(original)
    params["cluster"]["k_max"] = 3
    params_path.write_text(yaml.safe_dump(params, sort_keys=False))
    try:
        ran = dvc(project, "repro").stdout
    finally:
        params_path.write_text(original)
        dvc(project, "repro")
    assert "Running stage 'cluster'" in ran
    for stage in ("ingest", "orders", "windows", "features", "train", "score", "evaluate", "segments"):
        assert f"Running stage '{stage}'" not in ran


def _output_hashes(project: Path) -> dict[str, str]:
    lock = yaml.safe_load((project / "dvc.lock").read_text())
    return {out["path"]: out["md5"] for stage in lock["stages"].values() for out in stage.get("outs", [])}


def test_forced_rerun_gives_the_same_bytes(project):
    before = _output_hashes(project)
    dvc(project, "repro", "--force")
    after = _output_hashes(project)
    assert before == after, {k: (before[k], after.get(k)) for k in before if before[k] != after.get(k)}
    assert "data/model/model_bundle.joblib" in after and "reports/figures/cluster_profiles.png" in after


def test_row_order_of_the_input_does_not_change_the_results(project):
    before = _output_hashes(project)
    raw = project / "data" / "raw" / "log.csv"
    original = raw.read_bytes()
    pl.read_csv(raw, infer_schema=False).sample(fraction=1.0, shuffle=True, seed=5).write_csv(raw)
    try:
        dvc(project, "repro")
        after = _output_hashes(project)
    finally:
        raw.write_bytes(original)
        dvc(project, "repro")
    # The quarantine lists rows by their position in the file, so it may differ; nothing else.
    changed = {k for k in before if before[k] != after.get(k)} - {"data/ingest/quarantine.csv"}
    assert not changed, changed


def _what_people_read(project: Path) -> dict[str, str]:
    """Every CSV, JSON and HTML file a person opens (data/outputs, reports), as text, with
    the sha256 of the model file taken out: a model fitted on other bits is another file."""
    files = sorted((project / "data" / "outputs").glob("*.csv")) + sorted(
        p for p in (project / "reports").rglob("*") if p.suffix in (".csv", ".json", ".html")
    )
    out = {}
    for path in files:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".json":
            text = re.sub(r'"sha256": "[0-9a-f]{64}"', '"sha256": "..."', text)
        if path.suffix == ".html":
            text = re.sub(r"\b[0-9a-f]{12}\b", "...", text)
        out[str(path.relative_to(project))] = text
    return out


def test_a_last_bit_change_of_the_revenue_changes_nothing_a_person_reads(project, tmp_path):
    """Another machine's arithmetic differs in the last bits; the results must not. Every
    revenue is scaled by 1 + 1e-12 (about 500 times the last bit of a typical amount) and
    the whole pipeline rerun: every number in every output a person reads stays the same.
    Before the fits settled on their stationary point and amounts that agree to 10 digits
    counted as equal, such a change moved the Gamma-Gamma fit by 2e-5, the rank metrics in
    the 6th digit and 150 numbers in the CDNOW outputs."""
    before = _what_people_read(project)
    perturbed = shutil.copytree(project, tmp_path / "perturbed", symlinks=True)
    raw = perturbed / "data" / "raw" / "log.csv"
    log = pl.read_csv(raw, infer_schema=False)
    revenue = log["revenue"].cast(pl.Float64)
    scaled = [repr(v * (1 + 1e-12)) if v is not None else None for v in revenue.to_list()]
    assert sum(a != b for a, b in zip(scaled, revenue.cast(pl.String).to_list(), strict=True)) > 1000
    log.with_columns(revenue=pl.Series(scaled, dtype=pl.String)).write_csv(raw)
    dvc(perturbed, "repro")
    after = _what_people_read(perturbed)
    assert before.keys() == after.keys()
    changed = {
        name: [
            line for line in difflib.unified_diff(before[name].splitlines(), after[name].splitlines(), n=0)
        ][:6]
        for name in before
        if before[name] != after[name]
    }
    assert not changed, changed


def test_as_of_on_the_full_log_equals_the_log_truncated_at_as_of(project):
    """The time contract end to end: every stage, nothing after as_of influences predictions."""
    as_of = "2023-03-31"
    params_path, raw = project / "params.yaml", project / "data" / "raw" / "log.csv"
    original_params, original_log = params_path.read_text(), raw.read_bytes()
    params = yaml.safe_load(original_params)
    params["as_of"] = as_of
    predictions = project / "data" / "outputs" / "clv_predictions.csv"
    try:
        params_path.write_text(yaml.safe_dump(params, sort_keys=False))
        dvc(project, "repro")
        on_full_log = predictions.read_bytes()
        log = pl.read_csv(raw, infer_schema=False)
        log.filter(pl.col("order_date") <= as_of).write_csv(raw)
        assert pl.read_csv(raw).height < log.height
        dvc(project, "repro")
        on_truncated_log = predictions.read_bytes()
    finally:
        params_path.write_text(original_params)
        raw.write_bytes(original_log)
        dvc(project, "repro")
    assert on_full_log == on_truncated_log
    assert len(on_full_log.splitlines()) > 100


def _chromium() -> str | None:
    return next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser")) if p), None)


def test_forecaster_scores_raw_transactions_as_the_batch_does(project, tmp_path):
    """``from clv_engine import Forecaster``: the bundle rebuilds 200 sampled customers' rows
    from their raw transactions alone and gives the batch pipeline's numbers (issue 16)."""
    import datetime as dt

    import numpy as np
    import pandas as pd

    from clv_engine import Forecaster

    forecaster = Forecaster.load(project / "data" / "model" / "model_bundle.joblib")
    raw = pl.read_csv(project / "data" / "raw" / "log.csv", infer_schema=False)
    batch = pl.read_parquet(project / "data" / "score" / "scores.parquet")
    ids = batch["customer_id"].sample(200, seed=3)
    scores = forecaster.predict(raw.filter(pl.col("customer_id").is_in(ids.implode())))
    assert sorted(scores["customer_id"]) == sorted(ids)
    assert forecaster.last_report["customers"] == 200
    joined = batch.join(scores, on="customer_id", suffix="_api")
    numbers = [c for c in scores.columns if c not in ("customer_id", "source")]
    assert {"predicted_clv", "clv_lower", "clv_upper", "p_active", "clv_1m", "p_active_12m"} <= set(numbers)
    for c in numbers:
        np.testing.assert_allclose(joined[f"{c}_api"], joined[c], rtol=1e-9, atol=1e-12, err_msg=c)
    assert joined["source_api"].to_list() == joined["source"].to_list()
    # pandas in, pandas out; a customer first seen after as_of is not scored
    as_of = forecaster.as_of
    one = raw.filter(pl.col("customer_id") == ids[0])
    later = one.with_columns(
        pl.lit("new-customer").alias("customer_id"),
        pl.lit((as_of + dt.timedelta(days=3)).isoformat()).alias("order_date"),
    )
    out = forecaster.predict(pl.concat([one, later]).to_pandas())
    assert isinstance(out, pd.DataFrame) and out["customer_id"].tolist() == [ids[0]]
    nobody = forecaster.predict(later)
    assert nobody.height == 0 and nobody.columns == scores.columns
    # clv-score: the same scores for a whole log, in a CSV safe to open in a spreadsheet
    target = tmp_path / "scores.csv"
    cli = Path(sys.executable).parent / "clv-score"
    proc = subprocess.run(
        [
            str(cli),
            "--bundle",
            str(project / "data" / "model" / "model_bundle.joblib"),
            "--log",
            str(project / "data" / "raw" / "log.csv"),
            "--as-of",
            as_of.isoformat(),
            "--out",
            str(target),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"scored {batch.height:,} of {batch.height:,} customers" in proc.stderr
    written = restore_cells(pl.read_csv(target, infer_schema=False))
    assert written.height == batch.height
    mine = written.join(batch.select("customer_id", "predicted_clv"), on="customer_id", suffix="_batch")
    # in cents, as clv_predictions.csv
    np.testing.assert_allclose(
        mine["predicted_clv"].cast(pl.Float64), mine["predicted_clv_batch"], atol=0.005
    )
    bad = subprocess.run(
        [str(cli), "--bundle", str(tmp_path / "missing.joblib"), "--log", "x.csv", "--out", "y"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "no such model bundle" in bad.stderr
    bad = subprocess.run(
        [
            str(cli),
            "--bundle",
            str(tmp_path / "missing.joblib"),
            "--log",
            "x.csv",
            "--out",
            "y",
            "--as-of",
            "30/06/98",
        ],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr


def test_report_renders_in_a_real_browser(project, tmp_path):
    """Open reports/report.html in headless Chromium; key numbers and charts are there."""
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed: .ci/run installs it (apt-get install chromium)")
        pytest.skip("Chromium not installed (apt-get install chromium); CI runs this test")
    report = project / "reports" / "report.html"
    text = report.read_text(encoding="utf-8")
    assert "<script" not in text and 'src="http' not in text and 'href="http' not in text  # nothing fetched
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1280,6000",
    ]
    dom = subprocess.run(
        [browser, *flags, "--dump-dom", report.as_uri()], capture_output=True, text=True, timeout=120
    ).stdout
    predictions = pl.read_csv(project / "data" / "outputs" / "clv_predictions.csv", infer_schema=False)
    total = predictions["predicted_clv"].cast(pl.Float64).sum()
    currency = yaml.safe_load((project / "params.yaml").read_text())["report"]["currency"]
    assert currency and total >= 1_000  # the checks below need a currency and a separator
    assert f'id="total">{currency}{total:,.0f}<' in dom
    # The headline range, in the currency with thousands separators, holds its own point.
    shown = re.search(r'id="total-range">(\d+)% range: ([^\s<]+) to\s+([^\s<]+)<', dom)
    assert shown is not None, dom[:2000]
    low, high = (float(v.removeprefix(currency).replace(",", "")) for v in shown.group(2, 3))
    assert all(v.startswith(currency) and "," in v for v in shown.group(2, 3))
    assert low <= round(total) <= high
    assert 'id="glossary"' in dom and "normalized Gini" in dom
    assert f'id="customers">{predictions.height:,}<' in dom
    assert dom.count('src="data:image/png;base64,') == 4  # backtest, segments, clusters, SHAP
    for table in ("backtest", "tiers", "segments", "clusters", "interactions", "top", "horizons"):
        assert f'<table id="{table}">' in dom
    # each period's expected buyers, and how its ranges held at an earlier date
    periods = dom[dom.index('<table id="horizons">') :].split("</table>")[0]
    buyers = predictions["p_active_1m"].cast(pl.Float64).sum()
    assert "expected buyers" in periods and f"<td>{buyers:,.0f}</td>" in periods
    assert "customers inside their 90% range" in periods
    assert "BG/NBD + Gamma-Gamma" in dom
    # No champion here: drift is shown as where the model just trained extrapolates.
    assert "Retraining recommended" not in dom
    assert ("differ from the ones the model learned from" in dom) or ("No drift alert" in dom)
    level = json.loads((project / "reports" / "model_metadata.json").read_text())["level"]
    assert 'id="level"' in dom and (level["factor"] == 1.0 or f"x {level['factor']:.4f}" in dom)
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    shot = artifacts / "report_screenshot.png"
    subprocess.run(
        [browser, *flags, f"--screenshot={shot}", report.as_uri()], capture_output=True, timeout=120
    )
    assert shot.read_bytes()[:4] == b"\x89PNG" and shot.stat().st_size > 50_000


def test_a_killed_repro_leaves_no_partial_outputs_and_the_next_repro_completes(project):
    """SIGKILL `dvc repro --force` while the train stage runs; `dvc repro` then finishes it."""
    import signal
    import time

    before = _output_hashes(project)
    env = os.environ | {
        "DVC_NO_ANALYTICS": "1",
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "dvc", "repro", "--force"],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    seen = ""
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        seen += line
        if "Running stage 'train'" in line or not line:
            break
    assert "Running stage 'train'" in seen, seen
    time.sleep(1.0)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    bundle = project / "data" / "model" / "model_bundle.joblib"
    # DVC removed the output before running the stage and the stage never renamed a new
    # one into place: either no bundle or a complete one, never a truncated file.
    if bundle.exists():
        import joblib

        joblib.load(bundle)
    dvc(project, "repro")
    assert _output_hashes(project) == before
    assert not list(project.rglob(".*.tmp"))
