"""One benchmark step per process, so that its peak memory is its own.

``python benchmarks/steps.py STEP WORKDIR [ARGS]`` prints one JSON line:
{"step": ..., "seconds": ..., "peak_mb": ..., ...}. Called by benchmarks/bench.py.
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(work: Path, n: int) -> dict:
    from clv_engine.io import write_csv
    from clv_engine.synth import SynthConfig, generate_transactions

    log = generate_transactions(SynthConfig(n_transactions=n, seed=1))
    write_csv(log, work / "log.csv")
    return {"rows": log.height, "customers": log["customer_id"].n_unique()}


def ingest(work: Path) -> dict:
    from clv_engine.ingest import ingest as run
    from clv_engine.io import write_parquet
    from clv_engine.params import ColumnMapping, IngestParams

    cols = ColumnMapping(order_id="order_id", quantity="quantity")
    result = run(IngestParams(path=str(work / "log.csv"), columns=cols))
    write_parquet(result.transactions, work / "transactions.parquet")
    return {"rows": result.report["rows_read"]}


def _cutoff(work: Path) -> dt.date:
    return dt.date(2023, 6, 30)


def features(work: Path) -> dict:
    from clv_engine.features import customer_table
    from clv_engine.orders import build_orders
    from clv_engine.params import FeatureParams, LifecycleParams

    tx = pl.read_parquet(work / "transactions.parquet")
    orders = build_orders(tx)
    orders.write_parquet(work / "orders.parquet")
    start = time.perf_counter()
    table = customer_table(orders, _cutoff(work), 12, 6, FeatureParams(), LifecycleParams())
    return {"rows": tx.height, "customers": table.height, "table_seconds": time.perf_counter() - start}


def features_pandas(work: Path) -> dict:
    import pandas as pd
    from pandas_reference import customer_table_pandas

    tx = pd.read_parquet(work / "transactions.parquet")
    start_all = time.perf_counter()
    key = tx["order_id"].where(tx["order_id"].notna(), "day:" + tx["order_date"].astype(str))
    tx = tx.assign(order_key=key, order_date=pd.to_datetime(tx["order_date"]))
    orders = tx.groupby(["customer_id", "order_key"], as_index=False).agg(
        order_date=("order_date", "min"), revenue=("revenue", "sum")
    )
    orders["is_return"] = orders["revenue"] < 0
    start = time.perf_counter()
    table = customer_table_pandas(orders, _cutoff(work), 12, 6)
    end = time.perf_counter()
    return {"customers": len(table), "table_seconds": end - start, "orders_seconds": start - start_all}


def score(work: Path) -> dict:
    """Scoring throughput: predicted CLV, interval, p_active and ranks for every customer.

    A small model is trained first on a sample (not timed); the clock covers what the
    score stage does with a bundle: predict, interval, p_active, rank.
    """
    from clv_engine.dataset import build_dataset, customer_rows, sample_customers
    from clv_engine.evaluation import fit_clv
    from clv_engine.params import parse_params
    from clv_engine.ranking import rank_customers

    orders = pl.read_parquet(work / "orders.parquet")
    params = parse_params({"model": {"iterations": 300, "learning_rate": 0.1, "early_stopping_rounds": 30}})
    cutoff = _cutoff(work)
    train_cutoffs = [dt.date(2022, 6, 30), dt.date(2022, 12, 31)]
    sample = sample_customers(orders, train_cutoffs[-1], 20_000, 0)
    data = build_dataset(
        orders, train_cutoffs, 12, 6, params.features, params.lifecycle, params.labels, sample
    )
    model = fit_clv(data, params)
    # Refit both final models with exactly 300 trees, whatever early stopping picked: a
    # model as large as production ones, so the throughput is not flattered by a tiny one.
    every = np.arange(data.height)
    y, bought = data["label_revenue"].to_numpy(), data["label_bought"].to_numpy().astype(int)
    model.value_model_ = model._fit_value(data, y, bought, every, None, trees=300)
    model.buy_model_ = model._fit_one("classifier", "Logloss", data, bought, every, None, 300, "buy")
    model.trees_ = model.value_model_.tree_count_
    rows, _ = customer_rows(orders, cutoff, 12, 6, params.features, params.lifecycle)
    start = time.perf_counter()
    predicted = model.predict(rows)
    lower, upper = model.predict_interval(predicted)
    scores = rows.select("customer_id").with_columns(
        predicted_clv=predicted, clv_lower=lower, clv_upper=upper, p_active=model.predict_p_active(rows)
    )
    rank_customers(scores, params.score.tier_shares)
    seconds = time.perf_counter() - start
    return {"customers": rows.height, "score_seconds": seconds, "trees": model.trees_}


STEPS = {
    "generate": generate,
    "ingest": ingest,
    "features": features,
    "features_pandas": features_pandas,
    "score": score,
}

if __name__ == "__main__":
    step, work = sys.argv[1], Path(sys.argv[2])
    extra = [int(a) for a in sys.argv[3:]]
    t0 = time.perf_counter()
    out = STEPS[step](work, *extra)
    out |= {"step": step, "seconds": round(time.perf_counter() - t0, 3), "peak_mb": round(_peak_mb(), 1)}
    print(json.dumps(out))
