"""DVC stage score: every customer known at as_of -> predicted CLV, interval, p_active, rank."""

import argparse

import joblib
import polars as pl

from clv_engine.io import write_json, write_parquet
from clv_engine.params import load_params
from clv_engine.provenance import fingerprint
from clv_engine.scoring import score_base, scoring_rows
from clv_engine.stage import progress, run_stage


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bundle", required=True)
    parser.add_argument("--scoring", required=True, help="customer table at as_of (features stage)")
    parser.add_argument("--scores", required=True, help="scored customers (Parquet)")
    parser.add_argument("--forecast", required=True, help="reports/forecast.json: the headline total")
    parser.add_argument("--orders", required=True, help="orders (their margin, when mapped)")
    parser.add_argument("--context", required=True, help="features stage: this run's scoring context")


def main(args: argparse.Namespace) -> str:
    params = load_params(args.params)
    bundle = joblib.load(args.bundle)
    as_of = joblib.load(args.context).as_of  # this run's context: its as_of is the forecast date
    orders = pl.read_parquet(args.orders)
    if bundle.get("scoring_sha256") == fingerprint(args.context):
        rows = pl.read_parquet(args.scoring)  # the features stage built them with this model's context
    else:
        # A champion trained on an earlier log: each customer's row rebuilt with its own context
        # (windows, feature rules, BTYD fits, season), as Forecaster does.
        progress(
            f"the model in use was trained as of {bundle['as_of']}: rebuilding the rows with its context"
        )
        rows = scoring_rows(orders, bundle["scoring"], as_of)
    progress(f"scoring {rows.height:,} customers at {as_of}")
    scored, forecast = score_base(bundle, rows, orders, as_of, params)
    write_parquet(scored, args.scores)
    write_json(forecast, args.forecast)
    total, days = forecast["total"], forecast["horizon_days"]
    return f"{rows.height:,} customers scored; total predicted revenue {total:,.0f} over {days} days"


if __name__ == "__main__":
    run_stage("score", add_arguments, main)
