"""Unusual logs through the whole pipeline with default params (only the column mapping set).

    cd experiments && ../.venv/bin/python unusual_logs.py [NAME ...] [--out DIR]

Each case is a seeded synthetic log and an ``as_of``. The project is a temporary copy
(tests/test_pipeline_e2e.make_project) and `dvc repro` runs as a user would. A case whose
log goes on after ``as_of`` is also scored against what its customers then spent: the
total's error, whether the realised total is inside the stated range, and the share of
customers inside their 90% band. A failed run prints the end of its error.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.test_pipeline_e2e import _merge, make_project  # noqa: E402

from clv_engine.synth import SynthConfig, generate_transactions  # noqa: E402

D = dt.date
MAPPING = {
    "ingest": {"columns": {"order_id": "order_id", "quantity": "quantity"}, "duplicates": "quarantine"}
}
# A strong late-November peak and a base doubling every year, 13 months before as_of.
PEAK = SynthConfig(
    45_000,
    8,
    D(2022, 12, 1),
    D(2024, 6, 30),
    acquisition_growth_per_year=1.0,
    season_amplitude=0.9,
    season_peak_day=330,
)
CASES: dict[str, tuple[SynthConfig, str | None]] = {
    "grocery-1y": (
        SynthConfig(
            60_000, 3, D(2023, 1, 1), D(2023, 12, 31), acquisition_share=0.3, r=2.0, alpha=8.0, a=0.5, b=8.0
        ),
        None,
    ),
    "young-guests-7m": (
        SynthConfig(
            15_000,
            4,
            D(2023, 6, 1),
            D(2023, 12, 31),
            acquisition_share=1.0,
            guest_share=0.3,
            cancellation_rate=0.05,
        ),
        None,
    ),
    "decline-3y": (SynthConfig(40_000, 5, acquisition_growth_per_year=-0.6, return_rate=0.1), None),
    "wholesale-heavy": (SynthConfig(30_000, 6, wholesale_share=0.05, wholesale_multiplier=100.0), None),
    "tiny-2y": (SynthConfig(400, 7, D(2022, 1, 1), D(2023, 12, 31)), None),
    "one-timers": (SynthConfig(20_000, 9, a=5.0, b=1.0), None),
    "peak-13m": (PEAK, "2023-12-31"),
    # The same process, forecast in June of the log's first year, into the peak.
    "peak-13m-june": (dataclasses.replace(PEAK, start=D(2022, 6, 1), end=D(2023, 12, 31)), "2023-06-30"),
    "flat-13m": (
        SynthConfig(
            40_000, 10, D(2022, 12, 1), D(2024, 6, 30), acquisition_growth_per_year=0.3, season_amplitude=0.0
        ),
        "2023-12-31",
    ),
}


def _realised(project: Path, log: pl.DataFrame, as_of: str, forecast: dict) -> str:
    start = D.fromisoformat(as_of)
    end = start + dt.timedelta(days=forecast["horizon_days"])
    after = log.filter((pl.col("order_date") > start) & (pl.col("order_date") <= end))  # dates (synth)
    spent = after.group_by("customer_id").agg(pl.col("revenue").sum().alias("spent"))
    scores = pl.read_parquet(project / "data" / "score" / "scores.parquet")
    scored = scores.join(spent, on="customer_id", how="left").with_columns(pl.col("spent").fill_null(0.0))
    total = float(scored["spent"].sum())
    inside = forecast["total_lower"] <= total <= forecast["total_upper"]
    covered = ((scored["spent"] >= scored["clv_lower"]) & (scored["spent"] <= scored["clv_upper"])).mean()
    return (
        f"; realised {total:,.0f}: error {forecast['total'] / total - 1:+.1%}, inside the range: {inside}, "
        f"customers inside their band {covered:.1%}"
    )


def run(name: str, where: Path) -> str:
    config, as_of = CASES[name]
    project = where / name
    shutil.rmtree(project, ignore_errors=True)
    log = generate_transactions(config)
    make_project(project, log, _merge(MAPPING, {"as_of": as_of}))
    env = os.environ | {
        "DVC_NO_ANALYTICS": "1",
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "dvc", "repro"], cwd=project, env=env, capture_output=True, text=True
    )
    took = time.perf_counter() - start
    (project / "repro.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode:
        return f"{name}: FAILED after {took:.0f} s: {proc.stderr.strip()[-400:]}"
    forecast = json.loads((project / "reports" / "forecast.json").read_text())
    line = (
        f"{name}: {took:.0f} s, {forecast['customers']:,} customers, total {forecast['total']:,.0f} "
        f"(range {forecast['total_lower']:,.0f} to {forecast['total_upper']:,.0f})"
    )
    return line + (_realised(project, log, as_of, forecast) if as_of else "")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("names", nargs="*", help=f"cases (default: all): {', '.join(CASES)}")
    parser.add_argument("--out", type=Path, default=None, help="keep the projects here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        where = args.out or Path(tmp)
        for name in args.names or list(CASES):
            print(run(name, where), flush=True)


if __name__ == "__main__":
    main()
