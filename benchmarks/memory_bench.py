"""Memory benchmark: the stages that touch every row (ingest, orders, windows, features),
each in its own process, on seeded synthetic logs up to tens of millions of rows.

    .venv/bin/python benchmarks/memory_bench.py --sizes 10000000 60000000

For each size: the log is written by ``clv-synth`` (seed 1) in its own process, so that the
generator's memory is gone before the stages run; then each stage script runs under
``stages/py`` with the repository's params (the ingest mapping and ``duplicates:
quarantine`` as in pipeline_bench.py), and its time and peak memory come from its closing
line. Issue 18's bar: every stage at most 12 GB on the 60M-row log. The log and the stages'
outputs go to a temporary directory (``TMPDIR``; about 5 GB of disk per 10M rows).
Figures are printed and written to bench-results/memory.json.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from common import ROOT, parse_args, write_figures

#: Each stage's outputs, by argument; every stage reads params.yaml.
STAGES: dict[str, list[str]] = {
    "ingest": ["--transactions", "tx.parquet", "--quarantine", "quarantine.csv", "--report", "ingest.json"],
    "orders": ["--transactions", "tx.parquet", "--orders", "orders.parquet", "--report", "orders.json"],
    "windows": ["--orders", "orders.parquet", "--selected", "selected.json", "--grid", "grid.csv"],
    "features": [
        "--orders",
        "orders.parquet",
        "--selected",
        "selected.json",
        "--training",
        "training.parquet",
        "--scoring",
        "scoring.parquet",
        "--report",
        "features.json",
        "--level-history",
        "level_history.parquet",
        "--context",
        "context.joblib",
    ],
}

#: A stage's closing line: "[stage] done in 12.3 s, peak 4,567 MB: ...".
_DONE = re.compile(r"\[(\w+)\] done in ([0-9.]+) s, peak ([0-9,]+) MB")


def run(n: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="clv-memory-") as tmp:
        work = Path(tmp)
        start = time.perf_counter()
        synth = [sys.executable, "-m", "clv_engine.synth", "--transactions", str(n), "--seed", "1"]
        subprocess.run([*synth, "--out", str(work / "log.csv")], check=True)
        generated = time.perf_counter() - start
        params = yaml.safe_load((ROOT / "params.yaml").read_text())
        params["ingest"] |= {"path": str(work / "log.csv"), "duplicates": "quarantine"}
        params["ingest"]["columns"] |= {"order_id": "order_id", "quantity": "quantity"}
        (work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        stages = {}
        for stage, outputs in STAGES.items():
            args = [a if a.startswith("--") else str(work / a) for a in outputs]
            script = ["sh", str(ROOT / "stages" / "py"), str(ROOT / "stages" / f"{stage}.py")]
            done = subprocess.run(
                [*script, "--params", str(work / "params.yaml"), *args],
                check=True,
                capture_output=True,
                text=True,
            )
            found = _DONE.search(done.stderr)
            if found is None:
                raise RuntimeError(f"{stage}: no closing line in its output:\n{done.stderr[-2000:]}")
            stages[stage] = {"seconds": float(found[2]), "peak_mb": int(found[3].replace(",", ""))}
            print(f"   {n:>11,} rows  {stage:<9} {found[2]:>7} s  peak {found[3]:>7} MB", flush=True)
        ingest = yaml.safe_load((work / "ingest.json").read_text())
        return {
            "transactions": n,
            "customers": ingest["customers"],
            "generate_seconds": round(generated, 1),
            "stages": stages,
            "largest_peak_mb": max(s["peak_mb"] for s in stages.values()),
        }


def main() -> None:
    args = parse_args(__doc__.split("\n\n")[0], "memory.json")
    results = [run(n) for n in args.sizes]
    print("\nthe stages that touch every row, each alone (time, peak memory):")
    for r in results:
        size = f"{r['transactions']:,} rows, {r['customers']:,} customers"
        print(f"   {size}: largest peak {r['largest_peak_mb']:,} MB")
    if len(results) > 1:
        first, last = results[0], results[-1]
        for stage in STAGES:
            growth = last["stages"][stage]["peak_mb"] / max(first["stages"][stage]["peak_mb"], 1)
            sizes = f"from {first['transactions']:,} to {last['transactions']:,} rows"
            print(f"   {stage:<9} memory x{growth:.1f} {sizes}")
    write_figures(results, args.out)


if __name__ == "__main__":
    main()
