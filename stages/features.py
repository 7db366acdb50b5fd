"""DVC stage features: stacked training rows at past cutoffs and scoring rows at as_of."""

import argparse

import joblib
import polars as pl

from clv_engine.io import atomic_path, read_json, write_json, write_parquet
from clv_engine.params import load_params
from clv_engine.stage import progress, run_stage
from clv_engine.tables import feature_tables
from clv_engine.timeline import resolve_as_of_for


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--orders", required=True)
    parser.add_argument("--selected", required=True, help="output of the windows stage")
    parser.add_argument("--training", required=True, help="stacked training rows (Parquet)")
    parser.add_argument("--scoring", required=True, help="customer table at as_of (Parquet)")
    parser.add_argument(
        "--context", required=True, help="what the scoring rows read from the whole base (joblib)"
    )
    parser.add_argument("--report", required=True)
    parser.add_argument(
        "--level-history", required=True, help="the level's monthly origins (Parquet; train and evaluate)"
    )


def main(args: argparse.Namespace) -> str:
    params = load_params(args.params)
    orders = pl.read_parquet(args.orders)
    as_of = resolve_as_of_for(orders, params.as_of)
    tables = feature_tables(orders, as_of, read_json(args.selected), params, progress, args.selected)
    write_parquet(tables.level_history, args.level_history)
    write_parquet(tables.training, args.training)
    write_parquet(tables.scoring, args.scoring)
    with atomic_path(args.context) as tmp:
        joblib.dump(tables.context, tmp)
    write_json(tables.report, args.report)
    training, cutoffs = tables.training.height, len(tables.report["training_cutoffs"])
    return (
        f"{training:,} training rows over {cutoffs} cutoffs, {tables.scoring.height:,} customers at {as_of}"
    )


if __name__ == "__main__":
    run_stage("features", add_arguments, main)
