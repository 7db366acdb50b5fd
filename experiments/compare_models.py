"""Compare model configurations on a backtest (evidence for the choices in params.yaml).

    python experiments/compare_models.py --as-of 1997-12-31 --horizon 3 \
        --set model.objective=two_part --set model.baseline=none ...

Each --config is a comma-separated list of key=value overrides; the baseline rows are
printed once. Uses the evaluate stage's backtest (src/clv_engine/evaluation.py), so the
numbers are the ones the pipeline would report.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from pathlib import Path

import polars as pl
import yaml

from clv_engine.evaluation import backtest
from clv_engine.ingest import ingest
from clv_engine.orders import build_orders
from clv_engine.params import ColumnMapping, load_params, parse_params
from clv_engine.synth import SynthConfig, generate_transactions


def with_overrides(raw: dict, overrides: str) -> dict:
    raw = json.loads(json.dumps(raw))
    for item in filter(None, overrides.split(",")):
        key, value = item.split("=", 1)
        node = raw
        *path, last = key.split(".")
        for part in path:
            node = node.setdefault(part, {})
        node[last] = yaml.safe_load(value)
    return raw


def load_orders(params_path: str, log: str | None) -> pl.DataFrame:
    """The orders of params' ingest.path, or of a synthetic log (with order_id) when given."""
    ingest_params = load_params(params_path).ingest
    if log:
        ingest_params = type(ingest_params)(
            path=log,
            columns=ColumnMapping(order_id="order_id", quantity="quantity"),
            duplicates="quarantine",
        )
    return build_orders(ingest(ingest_params).transactions)


def synthetic_orders(params_path: str, seed: int, n_transactions: int = 300_000) -> pl.DataFrame:
    """The orders of ``clv-synth --transactions n --seed seed``, through the same ingest."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"synth{seed}.csv"
        generate_transactions(SynthConfig(n_transactions=n_transactions, seed=seed)).write_csv(path)
        return load_orders(params_path, str(path))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--log", help="a synthetic log (with order_id) instead of params' ingest.path")
    parser.add_argument("--as-of", required=True, type=dt.date.fromisoformat)
    parser.add_argument("--horizon", type=int, required=True)
    parser.add_argument(
        "--config", action="append", default=None, help="key=value,... overrides (repeatable)"
    )
    args = parser.parse_args()
    with open(args.params) as fh:
        raw = yaml.safe_load(fh)
    orders = load_orders(args.params, args.log)
    orders = orders.filter(pl.col("order_date") <= args.as_of)
    shown_baselines = False
    for config in args.config or [""]:
        params = parse_params(with_overrides(raw, config))
        start = time.perf_counter()
        result = backtest(orders, args.as_of, params, args.horizon)
        m = result.metrics
        names = ["model"] if shown_baselines else ["btyd", "naive_spend_rate", "last_period", "model"]
        for name in names:
            r = m[name]
            label = f"model[{config or 'params.yaml'}]" if name == "model" else name
            extra = (
                f" cov {m['interval']['coverage']:.3f} trees {r['trees']} L{result.lookback_months} "
                f"{time.perf_counter() - start:.0f}s"
                if name == "model"
                else ""
            )
            print(
                f"{label:60s} gini {r['normalized_gini']:.3f} sp {r['spearman']:.3f} mae {r['mae']:.2f} "
                f"rmse {r['rmse']:.1f} bias {r['bias']:+.3f} dmape {r['decile_mape']:.3f}{extra}",
                flush=True,
            )
        shown_baselines = True


if __name__ == "__main__":
    main()
