"""DVC stage segments: lifecycle stage x status x behaviour -> business segment and strategy."""

import argparse

import polars as pl

from clv_engine.io import write_csv
from clv_engine.outputs import round_for_people
from clv_engine.params import load_params
from clv_engine.plots import segments_png
from clv_engine.segments import aov_thresholds, assign_segments, segment_summary
from clv_engine.stage import progress, run_stage


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scores", required=True)
    parser.add_argument("--segments", required=True, help="business_segments.csv")
    parser.add_argument("--summary", required=True, help="segment_summary.csv")
    parser.add_argument("--figure", required=True)


def main(args: argparse.Namespace) -> str:
    params = load_params(args.params)
    scored = pl.read_parquet(args.scores)
    thresholds = aov_thresholds(scored, params.segments)
    progress(f"average order value: low <= {thresholds.low:.2f}, high >= {thresholds.high:.2f}")
    segments = assign_segments(scored, thresholds).sort("customer_id")
    summary = segment_summary(segments, scored, params.segments.rank_by)
    write_csv(segments, args.segments, for_people=True)
    write_csv(round_for_people(summary), args.summary, for_people=True)
    segments_png(summary, args.figure)
    return f"{summary.height} business segments over {segments.height:,} customers"


if __name__ == "__main__":
    run_stage("segments", add_arguments, main)
