"""Does a last-bit change of the input change any output a person reads?

    .venv/bin/python experiments/last_bit.py superstore
    .venv/bin/python experiments/last_bit.py cdnow

Two temporary projects (under /tmp/last-bit/<log>) on the same log, one with every revenue
(and margin) multiplied by 1 + 1e-12, a full `dvc repro` in each, then every CSV, JSON and
HTML output compared (the model file's sha256 taken out), as
tests/test_pipeline_e2e.py::test_a_last_bit_change_of_the_revenue_changes_nothing_a_person_reads
does on its synthetic log. Prints the files that differ and their first differing lines.
"""

from __future__ import annotations

import difflib
import shutil
import sys
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.test_pipeline_e2e import _what_people_read, dvc, make_project

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
LOGS = {
    "cdnow": (
        SHARED / "cdnow" / "cdnow_master.csv",
        {"customer_id": "customer_id", "order_date": "order_date", "revenue": "revenue"},
        {"ingest": {"duplicates": "keep"}},
    ),
    "superstore": (
        SHARED / "superstore" / "superstore.csv",
        {
            "customer_id": "Customer ID",
            "order_date": "Order Date",
            "revenue": "Sales",
            "order_id": "Order ID",
            "quantity": "Quantity",
            "margin": "Profit",
        },
        {},
    ),
}


def scaled(log: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    def one(name: str) -> pl.Series:
        values = log[name].cast(pl.Float64, strict=False).to_list()
        return pl.Series(name, [repr(v * (1 + 1e-12)) if v is not None else None for v in values])

    return log.with_columns([one(c) for c in columns])


def main() -> None:
    name = sys.argv[1]
    path, columns, extra = LOGS[name]
    log = pl.read_csv(path, infer_schema=False)
    overrides = {**extra, "ingest": {**extra.get("ingest", {}), "columns": columns}}
    root = Path("/tmp/last-bit") / name
    shutil.rmtree(root, ignore_errors=True)
    read = {}
    money = [columns["revenue"], *([columns["margin"]] if "margin" in columns else [])]
    for kind, frame in (("original", log), ("scaled", scaled(log, money))):
        project = make_project(root / kind, frame, overrides)
        start = time.time()
        dvc(project, "repro")
        print(f"{kind}: dvc repro {time.time() - start:.0f} s")
        read[kind] = _what_people_read(project)
    before, after = read["original"], read["scaled"]
    changed = [f for f in before if before[f] != after.get(f)]
    print(f"{len(before)} files compared, {len(changed)} differ")
    for f in changed:
        diff = list(difflib.unified_diff(before[f].splitlines(), after[f].splitlines(), n=0, lineterm=""))
        print(f"== {f}: {sum(1 for d in diff if d.startswith('-') and not d.startswith('---'))} lines")
        for line in diff[2:8]:
            print("   ", line[:220])


if __name__ == "__main__":
    main()
