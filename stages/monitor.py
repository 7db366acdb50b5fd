"""DVC stage monitor: drift of features, predictions, segment mix and accuracy; never retrains."""

import argparse

import joblib
import polars as pl

from clv_engine.evaluation import model_features
from clv_engine.explain import explain, shap_means
from clv_engine.io import read_json, write_csv, write_json
from clv_engine.monitoring import monitor, reference_cutoff
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
    if training.height == 0:
        return _no_reference(args, read_json(args.metadata))
    current = pl.read_parquet(args.scores)
    chosen, why = reference_cutoff(sorted(set(training["cutoff"].to_list())), current["cutoff"].max())
    reference = training.filter(pl.col("cutoff") == chosen)
    metrics = read_json(args.metrics)
    backtest_gini = metrics["model"]["normalized_gini"] if metrics.get("backtest") else None
    validation_gini = read_json(args.metadata)["validation"]["out_of_sample"]["normalized_gini"]
    names, categorical = model_features(params)
    numeric = [n for n in names if n not in categorical]
    progress(f"reference: {reference.height:,} customers, {why}; current: {current.height:,}")
    model = joblib.load(args.bundle)["model"]
    # The predictions' reference: the model's own on the reference population. The scored
    # customers' SHAP values were computed once, by the explain stage.
    before = explain(model, reference)
    shap = (shap_means(before.shap, before.features), pl.read_parquet(args.shap_means))
    result = monitor(
        reference,
        current,
        before.prediction,
        current["predicted_clv"].to_numpy(),
        numeric,
        categorical,
        params.monitor,
        validation_gini=validation_gini,
        backtest_gini=backtest_gini,
        shap=shap,
    )
    write_csv(result.feature_drift, f"{args.out_dir}/feature_drift.csv")
    write_json(result.prediction_drift, f"{args.out_dir}/prediction_drift.json")
    summary = (
        result.summary
        | {"reference": why}
        | ({"no_backtest": metrics["no_backtest"]} if not metrics.get("backtest") else {})
    )
    write_json(summary, f"{args.out_dir}/monitoring_summary.json")
    if result.shap_drift is not None:
        write_csv(result.shap_drift, f"{args.out_dir}/shap_drift.csv")
    for reason in result.summary["reasons"]:
        progress(f"alert: {reason}")
    verdict = (
        "retraining recommended (a person decides)" if result.summary["retrain_recommended"] else "no alert"
    )
    drifted, checked = result.summary["features_drifted"], result.summary["features_checked"]
    return f"{drifted} of {checked} features drifted; {verdict}"


def _no_reference(args: argparse.Namespace, metadata: dict) -> str:
    """No model was trained (too short a log): there is no training population to compare with."""
    reason = (
        "no drift check: no model was trained, so there is no training population to compare the "
        f"customers with ({metadata['validation']['method']})"
    )
    progress(reason)
    write_csv(
        pl.DataFrame(schema={"feature": pl.String, "drift": pl.Boolean}), f"{args.out_dir}/feature_drift.csv"
    )
    write_csv(pl.DataFrame(schema={"feature": pl.String}), f"{args.out_dir}/shap_drift.csv")
    write_json({}, f"{args.out_dir}/prediction_drift.json")
    summary = {
        "retrain_recommended": False,
        "reasons": [],
        "decision": "a person decides whether to retrain; this stage never retrains",
        "features_drifted": 0,
        "features_checked": 0,
        "no_reference": reason,
    }
    write_json(summary, f"{args.out_dir}/monitoring_summary.json")
    return reason


if __name__ == "__main__":
    run_stage("monitor", add_arguments, main)
