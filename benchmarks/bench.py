"""The benchmark: `make bench` (or `python benchmarks/bench.py --sizes 100000 1000000`).

For each size it generates a seeded synthetic log (about 10 lines per customer) and
measures, each step in its own process: ingest of the CSV, orders + customer table
(polars, the engine's code), a plain-pandas implementation of the same table in the
same run, with the ratio, and scoring throughput (customers per second, with a small
model trained off the clock). Prints a table and writes bench-results/bench.json. Timings
are for reading, never asserted by tests: these machines are shared and noisy, so
compare ratios measured in one run.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

from common import parse_args, write_figures

HERE = Path(__file__).resolve().parent


def run_step(step: str, work: Path, *args: int) -> dict:
    cmd = [sys.executable, str(HERE / "steps.py"), step, str(work), *map(str, args)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark step {step} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    args = parse_args(__doc__.split("\n\n")[0], "bench.json")
    results = []
    for n in args.sizes:
        with tempfile.TemporaryDirectory(prefix="clv-bench-") as tmp:
            work = Path(tmp)
            print(f"== {n:,} transactions", flush=True)
            gen = run_step("generate", work, n)
            print(
                f"   generated {gen['rows']:,} rows, {gen['customers']:,} customers in {gen['seconds']:.1f} s"
            )
            ing = run_step("ingest", work)
            print(
                f"   ingest CSV        {ing['seconds']:7.1f} s  {ing['peak_mb']:8.0f} MB  "
                f"{n / ing['seconds']:>12,.0f} rows/s"
            )
            feat = run_step("features", work)
            print(
                f"   orders + table    {feat['seconds']:7.1f} s  {feat['peak_mb']:8.0f} MB  "
                f"{n / feat['seconds']:>12,.0f} rows/s  (table alone {feat['table_seconds']:.1f} s)"
            )
            ref = run_step("features_pandas", work)
            ratio = ref["table_seconds"] / feat["table_seconds"]
            print(
                f"   pandas reference  {ref['seconds']:7.1f} s  {ref['peak_mb']:8.0f} MB  "
                f"(table alone {ref['table_seconds']:.1f} s): polars is {ratio:.1f}x faster on the table"
            )
            sc = run_step("score", work)
            rate = sc["customers"] / sc["score_seconds"]
            print(
                f"   scoring           {sc['score_seconds']:7.1f} s  {sc['peak_mb']:8.0f} MB  "
                f"{rate:>12,.0f} customers/s  ({sc['customers']:,} customers, {sc['trees']} trees)"
            )
            results.append(
                {
                    "transactions": n,
                    "generate": gen,
                    "ingest": ing,
                    "features": feat,
                    "features_pandas": ref,
                    "table_speedup_vs_pandas": round(ratio, 2),
                    "score": sc,
                    "score_customers_per_second": round(rate),
                }
            )
    meta = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": __import__("os").cpu_count(),
    }
    write_figures({"machine": meta, "results": results}, args.out)


if __name__ == "__main__":
    main()
