"""DVC stage govern: champion vs challenger on the same backtest origins -> reports/governance.json."""

import argparse

import polars as pl

from clv_engine.governance import champion_comparison, governance_report, recommend
from clv_engine.io import read_json, write_json
from clv_engine.params import load_params
from clv_engine.scoring import Forecaster
from clv_engine.stage import progress, run_stage
from clv_engine.timeline import resolve_as_of_for


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--in-use", required=True, help="reports/model_in_use.json (the in_use stage)")
    parser.add_argument("--bundle", required=True, help="the bundle in use (the champion, when promoted)")
    parser.add_argument("--orders", required=True)
    parser.add_argument("--selected", required=True, help="the backtest's horizon")
    parser.add_argument(
        "--origins", required=True, help="reports/plots/origins.csv (the challenger's recipe)"
    )
    parser.add_argument("--metrics", required=True, help="reports/metrics.json")
    parser.add_argument("--monitoring", required=True, help="monitoring_summary.json (drift)")
    parser.add_argument("--governance", required=True, help="reports/governance.json")


def main(args: argparse.Namespace) -> str:
    params = load_params(args.params)
    in_use = read_json(args.in_use)
    scored_with, champion, latest = in_use["scored_with"], in_use["champion"], in_use["latest"]
    horizon = read_json(args.selected)["horizon_months"]
    comparison, note = None, ""
    if champion is not None:

        def load() -> tuple[Forecaster, pl.DataFrame]:
            orders = pl.read_parquet(args.orders)
            as_of = resolve_as_of_for(orders, params.as_of)
            return Forecaster.load(args.bundle), orders.filter(pl.col("order_date") <= as_of)

        origins = pl.read_csv(args.origins, try_parse_dates=True)
        comparison, note = champion_comparison(champion, horizon, origins, load, params, progress)
    recommended, reasons, means = recommend(
        scored_with,
        champion is not None and champion["sha256"] == latest["sha256"],
        comparison,
        note,
        read_json(args.monitoring),
        read_json(args.metrics).get("origins"),
        params.governance,
    )
    write_json(governance_report(in_use, comparison, note, means, recommended, reasons), args.governance)
    for reason in reasons:
        progress(reason)
    return f"scored with the {scored_with} model; promote recommended: {'yes' if recommended else 'no'}"


if __name__ == "__main__":
    run_stage("govern", add_arguments, main)
