"""DVC stage score: every customer known at as_of -> predicted CLV, interval, p_active, rank."""

import argparse

import joblib
import polars as pl

from clv_engine.io import write_json, write_parquet
from clv_engine.margin import predicted_margin
from clv_engine.params import load_params
from clv_engine.provenance import fingerprint
from clv_engine.ranking import rank_customers
from clv_engine.scoring import score_frame, scoring_rows
from clv_engine.stage import progress, run_stage
from clv_engine.timeline import horizon_days


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
    model = bundle["model"]
    context = joblib.load(args.context)  # this run's: its as_of is the forecast date
    as_of = context.as_of
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
    days = horizon_days(as_of, bundle["horizon_months"])
    progress(f"scoring {rows.height:,} customers at {as_of} over {days} days")
    scores = score_frame(
        model,
        rows,
        as_of,
        bundle["horizon_months"],
        params.score.horizons_months,
        params.value.annual_discount_rate,
    )
    predicted = scores["predicted_clv"].to_numpy()
    margin = predicted_margin(predicted, orders, as_of, rows["customer_id"], params.value.margin_rate)
    if margin is not None:
        scores = scores.with_columns(predicted_margin=margin)
    ranked = rank_customers(scores, params.score.tier_shares)
    out = ranked.join(rows, on="customer_id", how="left", maintain_order="left")
    write_parquet(out, args.scores)
    total = float(predicted.sum())
    low, high = model.total_band_
    write_json(
        {
            "as_of": as_of.isoformat(),
            "horizon_days": days,
            "horizon_months": bundle["horizon_months"],
            "customers": rows.height,
            "total": round(total, 2),
            "total_lower": round(total * low, 2),
            "total_upper": round(total * high, 2),
            "interval_level": model.params.interval_level,
            # How many earlier forecast dates the range rests on (0: customer noise alone);
            # what it covers, in words, is in model_metadata.json (level.total_band_covers).
            "range_origins": model.total_band_origins_,
        },
        args.forecast,
    )
    return f"{rows.height:,} customers scored; total predicted revenue {total:,.0f} over {days} days"


if __name__ == "__main__":
    run_stage("score", add_arguments, main)
