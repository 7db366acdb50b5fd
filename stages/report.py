"""DVC stage report: reports/report.html, self-contained, for stakeholders."""

import argparse
from pathlib import Path

import polars as pl

from clv_engine.io import read_csv_for_people, read_json, write_text
from clv_engine.params import load_params
from clv_engine.report import ReportInputs, gain_and_calibration_png, message_png, render_report
from clv_engine.stage import run_stage


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--outputs", required=True, help="data/outputs")
    parser.add_argument("--reports", required=True, help="reports/")
    parser.add_argument("--report", required=True)
    parser.add_argument("--in-use-metadata", required=True, help="model_metadata.json of the model in use")


def main(args: argparse.Namespace) -> str:
    params = load_params(args.params)
    out, rep = Path(args.outputs), Path(args.reports)
    predictions = read_csv_for_people(
        out / "clv_predictions.csv", infer_schema_length=None, schema_overrides={"customer_id": pl.String}
    )
    forecast = read_json(rep / "forecast.json")
    # The model in use (the champion's, when one was promoted: data/in_use/), with the date and
    # horizon of this run's forecast (a champion trained earlier scores at today's as_of).
    metadata = read_json(args.in_use_metadata) | {
        key: forecast[key] for key in ("as_of", "horizon_days", "horizon_months")
    }
    low, high = forecast["total_lower"], forecast["total_upper"]
    gain_png = rep / "figures" / "backtest.png"
    gain = pl.read_csv(rep / "plots" / "gain.csv")
    if gain.height:
        gain_and_calibration_png(gain, pl.read_csv(rep / "plots" / "deciles.csv"), gain_png)
    else:  # no backtest on this log: the picture says so
        message_png("No backtest: the log is too short at this horizon (see the report).", gain_png)
    inputs = ReportInputs(
        predictions=predictions,
        metadata=metadata,
        metrics=read_json(rep / "metrics.json"),
        monitoring=read_json(rep / "monitoring" / "monitoring_summary.json"),
        segment_summary=read_csv_for_people(out / "segment_summary.csv"),
        cluster_summary=read_csv_for_people(out / "cluster_summary.csv"),
        tier_rankings=read_csv_for_people(out / "clv_cluster_rankings.csv"),
        interactions=pl.read_csv(out / "interactions.csv"),
        total_low=low,
        total_high=high,
        origins=pl.read_csv(rep / "plots" / "origins.csv"),
        ingest=read_json(rep / "ingest.json"),
        range_covers=metadata["level"]["total_band_covers"],
        currency=params.report.currency,
        governance=read_json(rep / "governance.json"),
        pictures={
            "gain": gain_png,
            "segments": rep / "figures" / "segments.png",
            "clusters": rep / "figures" / "cluster_profiles.png",
            "shap": rep / "feature_importances.png",
        },
    )
    write_text(render_report(inputs), args.report)
    return f"{args.report}: total {predictions['predicted_clv'].sum():,.0f}, range {low:,.0f} to {high:,.0f}"


if __name__ == "__main__":
    run_stage("report", add_arguments, main)
