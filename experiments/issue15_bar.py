"""Issue 15's bar, at the bundled params: a full `dvc repro` on three logs a new user brings.

    .venv/bin/python experiments/issue15_bar.py cdnow12    # CDNOW, as_of 1997-12-31, horizon 6
    .venv/bin/python experiments/issue15_bar.py cdnow03    # CDNOW, as_of 1997-03-31, horizon 3
    .venv/bin/python experiments/issue15_bar.py retail     # a gzipped line-item export (below)

retail: a seeded two-year synthetic retailer written as an Online-Retail-style export
(InvoiceNo, StockCode, Description, Quantity, InvoiceDate with times, UnitPrice, CustomerID
as float, Country) with 22% guest lines, C-prefixed cancellations, and 10% of lines
repeated under another StockCode (two products at one price in one invoice: not
duplicates), mapped with `duplicates: quarantine`. Each run prints whether the outputs
exist, ingest.json, the forecast, the backtest and the monitor's verdict. Projects are
made under /tmp/bar/<name>.
"""

import datetime as dt
import gzip
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.test_pipeline_e2e import dvc, make_project

from clv_engine.synth import SynthConfig, generate_transactions

which = sys.argv[1]
root = Path(f"/tmp/bar/{which}")
shutil.rmtree(root, ignore_errors=True)
root.mkdir(parents=True)
if which.startswith("cdnow"):
    log = pl.read_csv(
        str(Path(__file__).resolve().parents[2] / "shared" / "data" / "cdnow" / "cdnow_master.csv"),
        schema_overrides={"customer_id": pl.String},
    )
    as_of, h = {"cdnow12": ("1997-12-31", 6), "cdnow03": ("1997-03-31", 3)}[which]
    proj = make_project(root, log, {"as_of": as_of, "windows": {"horizon_months": h}})
else:
    cfg = SynthConfig(
        n_transactions=200_000,
        seed=5,
        start=dt.date(2009, 12, 1),
        end=dt.date(2011, 12, 9),
        acquisition_growth_per_year=0.4,
        acquisition_share=1.0,
        season_peak_day=300,
        season_amplitude=0.6,
        guest_share=0.22,
        cancellation_rate=0.03,
        wholesale_share=0.02,
    )
    s = generate_transactions(cfg)
    rng = np.random.default_rng(3)
    n = s.height
    # Two products at the same price in one invoice: duplicate some lines with another stock code.
    s = s.with_columns(StockCode=pl.Series([f"{x:05d}" for x in rng.integers(10000, 99999, n)]))
    dup = s.filter(pl.Series(rng.random(n) < 0.1) & (pl.col("quantity") > 0)).with_columns(
        StockCode=pl.col("StockCode") + "B"
    )
    s = pl.concat([s, dup]).sort("order_date", "order_id")
    secs = pl.Series(rng.integers(8 * 3600, 20 * 3600, s.height))
    retail = s.select(
        InvoiceNo=pl.col("order_id"),
        StockCode=pl.col("StockCode"),
        Description=pl.lit("ITEM ") + pl.col("StockCode"),
        Quantity=pl.col("quantity").cast(pl.Int64),
        InvoiceDate=(pl.col("order_date").cast(pl.Datetime) + pl.duration(seconds=secs)).dt.strftime(
            "%Y-%m-%d %H:%M:%S"
        ),
        UnitPrice=(pl.col("revenue") / pl.col("quantity")).round(2),
        CustomerID=pl.col("customer_id").str.slice(1).cast(pl.Int64).cast(pl.Float64),
        Country=pl.lit("United Kingdom"),
    )
    proj = make_project(
        root,
        retail,
        {
            "ingest": {
                "columns": {
                    "customer_id": "CustomerID",
                    "order_date": "InvoiceDate",
                    "revenue": None,
                    "quantity": "Quantity",
                    "order_id": "InvoiceNo",
                    "unit_price": "UnitPrice",
                },
                "duplicates": "quarantine",
            },
            "windows": {"horizon_months": 6},
        },
    )
    raw = proj / "data/raw/log.csv"
    with open(raw, "rb") as f, gzip.open(proj / "data/raw/log.csv.gz", "wb") as g:
        g.write(f.read())
    raw.unlink()
    p = yaml.safe_load((proj / "params.yaml").read_text())
    p["ingest"]["path"] = "data/raw/log.csv.gz"
    (proj / "params.yaml").write_text(yaml.safe_dump(p, sort_keys=False))
t = time.time()
try:
    dvc(proj, "repro")
except AssertionError as e:
    print("FAILED", str(e)[-3000:])
    sys.exit(1)
print(which, "repro ok", round(time.time() - t), "s")
for f in ("reports/report.html", "reports/forecast.json", "data/outputs/clv_predictions.csv"):
    print(f, (proj / f).exists())
ing = json.loads((proj / "reports/ingest.json").read_text())
print(json.dumps({k: ing[k] for k in ing if k not in ("columns",)}, default=str)[:2500])
fc = json.loads((proj / "reports/forecast.json").read_text())
print({k: fc[k] for k in list(fc)[:12]})
m = json.loads((proj / "reports/metrics.json").read_text())
print("backtest", bool(m.get("backtest")), m.get("no_backtest"))
ms = json.loads((proj / "reports/monitoring/monitoring_summary.json").read_text())
print("monitor", ms.get("retrain_recommended"), ms.get("reasons"), ms.get("reference"))
