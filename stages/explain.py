"""DVC stage explain: SHAP importance, interactions, per-segment and per-customer drivers."""

import argparse

import joblib
import polars as pl

from clv_engine.explain import (
    customer_drivers,
    explain,
    global_importance,
    interactions,
    plain_label,
    segment_importance,
    shap_means,
)
from clv_engine.io import write_csv, write_parquet
from clv_engine.params import load_params
from clv_engine.plots import shap_summary_png
from clv_engine.stage import progress, run_stage

TOP_FEATURES = 15  # in the SHAP summary and the importance plot


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bundle", required=True)
    parser.add_argument("--scores", required=True, help="the scored customers with their rows (score stage)")
    parser.add_argument("--importance", required=True, help="global importance of every feature (CSV)")
    parser.add_argument("--importance-top", required=True, help=f"the top {TOP_FEATURES} (CSV, a DVC plot)")
    parser.add_argument("--figure", required=True, help="SHAP summary plot (PNG)")
    parser.add_argument("--interactions", required=True)
    parser.add_argument("--segment-shap", required=True)
    parser.add_argument("--drivers", required=True, help="top 3 drivers per customer (Parquet)")
    parser.add_argument(
        "--shap-means", required=True, help="mean SHAP and mean |SHAP| per feature (Parquet, for the monitor)"
    )


def main(args: argparse.Namespace) -> str:
    params = load_params(args.params)
    model = joblib.load(args.bundle)["model"]
    # The rows the model in use scored (the champion's own, when one was promoted), by customer.
    rows = pl.read_parquet(args.scores).sort("customer_id")
    progress(f"SHAP values for {rows.height:,} customers")
    explanation = explain(model, rows)
    importance = global_importance(explanation)
    write_parquet(shap_means(explanation.shap, explanation.features), args.shap_means)
    write_csv(importance, args.importance)
    write_csv(importance.head(TOP_FEATURES), args.importance_top)
    sample = rows.sample(min(rows.height, params.explain.plot_sample), seed=params.seed).sort("customer_id")
    index = rows.with_row_index("i").join(sample.select("customer_id"), on="customer_id")["i"].to_numpy()
    shap_summary_png(
        explanation.shap[index],
        rows[index].select(explanation.features),
        [plain_label(f) for f in explanation.features],
        args.figure,
        params.seed,
        TOP_FEATURES,
    )
    e = params.explain
    progress(
        f"SHAP interaction values on a seeded sample of {e.interaction_sample} customers, "
        f"at most {e.interaction_max_trees} trees per model"
    )
    pairs = interactions(
        model, rows, e.interaction_sample, params.seed, e.top_interactions, e.interaction_max_trees
    )
    write_csv(pairs, args.interactions)
    write_csv(segment_importance(explanation, rows["customer_stage"]), args.segment_shap)
    drivers = customer_drivers(explanation, rows["customer_id"])
    write_parquet(drivers, args.drivers)
    if not explanation.shap.any():
        return "no SHAP values: the forecast comes from no boosted model (a constant or the textbook models)"
    top = ", ".join(importance["label"].head(3).to_list())
    return f"top drivers overall: {top}"


if __name__ == "__main__":
    run_stage("explain", add_arguments, main)
