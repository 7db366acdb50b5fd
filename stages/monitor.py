"""DVC stage monitor: drift of features, predictions, segment mix and accuracy; never retrains."""

import argparse

import joblib
import polars as pl

from clv_engine.io import read_json, write_csv, write_json
from clv_engine.monitoring import monitor_model, no_reference
from clv_engine.params import load_params
from clv_engine.stage import progress, run_stage


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--training", required=True)
    parser.add_argument("--scores", required=True)
    parser.add_argument("--metrics", required=True, help="reports/metrics.json")
    parser.add_argument("--metadata", required=True, help="reports/model_metadata.json")
    parser.add_argument("--bundle", required=True, help="the model bundle (for SHAP drift)")
    parser.add_argument(
        "--shap-means", required=True, help="the scored customers' SHAP means (explain stage)"
    )
    parser.add_argument("--out-dir", required=True)


def main(args: argparse.Namespace) -> str:
    params = load_params(args.params)
    training = pl.read_parquet(args.training)
    metadata = read_json(args.metadata)
    if training.height == 0:
        result = no_reference(metadata["validation"]["method"])
    else:
        result = monitor_model(
            joblib.load(args.bundle)["model"],
            training,
            pl.read_parquet(args.scores),
            pl.read_parquet(args.shap_means),
            params,
            read_json(args.metrics),
            metadata,
            progress,
        )
    write_csv(result.feature_drift, f"{args.out_dir}/feature_drift.csv")
    write_json(result.prediction_drift, f"{args.out_dir}/prediction_drift.json")
    write_json(result.summary, f"{args.out_dir}/monitoring_summary.json")
    if result.shap_drift is not None:
        write_csv(result.shap_drift, f"{args.out_dir}/shap_drift.csv")
    for reason in result.summary["reasons"]:
        progress(f"alert: {reason}")
    return result.verdict


if __name__ == "__main__":
    run_stage("monitor", add_arguments, main)
