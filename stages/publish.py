"""DVC stage publish: data/outputs/clv_predictions.csv, one row per customer, sorted by rank."""

import argparse

import polars as pl

from clv_engine.io import read_csv_for_people, write_csv
from clv_engine.outputs import predictions_table
from clv_engine.stage import run_stage


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scores", required=True)
    parser.add_argument("--assignments", required=True)
    parser.add_argument("--segments", required=True)
    parser.add_argument("--drivers", required=True)
    parser.add_argument("--predictions", required=True)


def main(args: argparse.Namespace) -> str:
    table = predictions_table(
        pl.read_parquet(args.scores),
        pl.read_parquet(args.assignments),
        read_csv_for_people(args.segments, infer_schema=False),
        pl.read_parquet(args.drivers),
    )
    write_csv(table, args.predictions, for_people=True)
    return f"{table.height:,} customers in {args.predictions}"


if __name__ == "__main__":
    run_stage("publish", add_arguments, main)
