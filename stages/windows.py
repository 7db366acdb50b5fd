"""DVC stage windows: choose (lookback, horizon) by a backtest; write the whole grid."""

import argparse
from dataclasses import asdict

import polars as pl

from clv_engine.io import write_csv, write_json
from clv_engine.params import load_params
from clv_engine.stage import progress, run_stage
from clv_engine.timeline import resolve_as_of_for
from clv_engine.windows import select_windows


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--orders", required=True)
    parser.add_argument("--selected", required=True, help="the chosen pair (JSON)")
    parser.add_argument("--grid", required=True, help="every pair with its score or skip reason (CSV)")


def main(args: argparse.Namespace) -> str:
    params = load_params(args.params)
    orders = pl.read_parquet(args.orders)
    as_of = resolve_as_of_for(orders, params.as_of)
    progress(f"as_of {as_of}; {orders['customer_id'].n_unique():,} customers in the log")
    choice, grid = select_windows(orders, as_of, params, progress)
    write_csv(grid, args.grid)
    write_json(asdict(choice), args.selected)
    lookback, horizon = choice.lookback_months, choice.horizon_months
    return f"lookback {lookback} months, horizon {horizon} months ({choice.horizon_days} days)"


if __name__ == "__main__":
    run_stage("windows", add_arguments, main)
