"""Issue 17's bar: a full `dvc repro` on Superstore with its Profit column as the margin.

    .venv/bin/python experiments/issue17_bar.py

Checks what the issue asks of the run: clv_1m .. clv_12m exist and never decrease,
predicted_clv equals the pinned horizon's column, clv_12m_discounted <= clv_12m,
predicted_margin for every customer, each horizon's band around its forecast and p_active
never decreasing with the horizon, and metrics.json's horizons (with each band's backtest
coverage) and margin; prints them.
The project is made under /tmp/bar/superstore-margin.
"""

import itertools
import json
import shutil
import sys
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.test_pipeline_e2e import dvc, make_project

from clv_engine.io import read_csv_for_people

root = Path("/tmp/bar/superstore-margin")
shutil.rmtree(root, ignore_errors=True)
root.mkdir(parents=True)
log = pl.read_csv(
    str(Path(__file__).resolve().parents[2] / "shared" / "data" / "superstore" / "superstore.csv"),
    infer_schema=False,
)
columns = {
    "customer_id": "Customer ID",
    "order_date": "Order Date",
    "revenue": "Sales",
    "order_id": "Order ID",
    "quantity": "Quantity",
    "margin": "Profit",
}
proj = make_project(root, log, {"ingest": {"columns": columns}})
t = time.time()
dvc(proj, "repro")
print(f"dvc repro: {time.time() - t:.0f} s")
p = read_csv_for_people(
    proj / "data/outputs/clv_predictions.csv", schema_overrides={"customer_id": pl.String}
)
h = json.loads((proj / "reports/forecast.json").read_text())["horizon_months"]
names = ["clv_1m", "clv_3m", "clv_6m", "clv_12m"]
print("pinned horizon", h, "months; customers", p.height)
print("never decreasing:", all((p[a] <= p[b]).all() for a, b in itertools.pairwise(names)))
print(f"predicted_clv == clv_{h}m:", (p["predicted_clv"] == p[f"clv_{h}m"]).all())
print("clv_12m_discounted <= clv_12m:", (p["clv_12m_discounted"] <= p["clv_12m"]).all())
print("predicted_margin for every customer:", p["predicted_margin"].null_count() == 0)
print(
    "each band holds its forecast:",
    all(((p[f"clv_lower_{n[4:]}"] <= p[n]) & (p[n] <= p[f"clv_upper_{n[4:]}"])).all() for n in names),
)
chances = [f"p_active_{n[4:]}" for n in names]
print("p_active never decreasing:", all((p[a] <= p[b]).all() for a, b in itertools.pairwise(chances)))
print(p.select([*names, "clv_12m_discounted", "predicted_clv", "predicted_margin"]).sum())
print(json.loads((proj / "reports/model_metadata.json").read_text())["horizon_intervals"])
m = json.loads((proj / "reports/metrics.json").read_text())
keys = ("normalized_gini", "bias", "mae")
for name, block in (*m["horizons"].items(), ("margin", m["margin"])):
    shown = {k: {x: block[k][x] for x in keys} for k in ("model", "btyd")}
    print(name, block.get("cutoff", ""), shown, "coverage", block.get("interval_coverage"))
print("not realised:", m["horizons_not_realised"])
