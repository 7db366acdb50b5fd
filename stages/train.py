"""DVC stage train: stacked training rows -> the model bundle and its metadata."""

import argparse
from pathlib import Path

import joblib
import polars as pl

from clv_engine.bundle import fallback_card, make_bundle, model_card
from clv_engine.evaluation import fit_forecast, model_features, warm_start
from clv_engine.fallback import BaselineForecaster
from clv_engine.governance import champion_files
from clv_engine.io import atomic_path, read_json, write_json
from clv_engine.params import load_params
from clv_engine.provenance import fingerprint
from clv_engine.stage import progress, run_stage


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--training", required=True)
    parser.add_argument("--orders", required=True, help="the log's orders: the level learns the calendar")
    parser.add_argument("--level-history", required=True, help="features stage: the level's past origins")
    parser.add_argument("--scoring", required=True, help="customers at as_of: the level is set on them")
    parser.add_argument("--features-report", required=True)
    parser.add_argument("--context", required=True, help="features stage: the scoring context (joblib)")
    parser.add_argument("--bundle", required=True, help="the model bundle (joblib, one file)")
    parser.add_argument("--metadata", required=True, help="model_metadata.json")
    parser.add_argument(
        "--champion", required=True, help="the champion's folder: model.update warm continues it"
    )


def main(args: argparse.Namespace) -> str:
    params = load_params(args.params)
    training = pl.read_parquet(args.training)
    features_report = read_json(args.features_report)
    scoring = pl.read_parquet(args.scoring)
    context = joblib.load(args.context)  # the scoring context: its season is the level's too
    names, categorical = model_features(params)
    if training.height == 0:  # too short a log: the BG/NBD + Gamma-Gamma forecaster, said as such
        reason = features_report["untrainable_note"] or "no training row"
        progress(reason)
        fallback = BaselineForecaster(names, params.model, features_report["horizon_days"], reason)
        fallback.set_total_band(scoring, context.season)
        bundle = make_bundle(
            fallback, names, [], features_report, params, context, fingerprint(args.context), None
        )
        card = fallback_card(
            fallback, reason, names, features_report, params, scoring, fingerprint(args.training)
        )
        _write(bundle, card, args)
        sources = card["fallback"]["customers_by_source"]
        return (
            f"no model could be trained: BG/NBD + Gamma-Gamma for {sources.get('btyd', 0):,} customers, "
            f"the naive rate for {sources.get('naive', 0):,}"
        )
    progress(f"fitting the CLV model ({params.model.objective}) on {training.height:,} rows")
    start, update = warm_start(_champion(args.champion, params.model.update), training, params)
    progress(f"update: {update}")
    forecast = fit_forecast(
        training,
        scoring,
        pl.read_parquet(args.orders),
        features_report["horizon_months"],
        params,
        progress,
        pl.read_parquet(args.level_history),
        context.season,
        start,
    )
    model = forecast.model
    progress(f"{model.validation_}; {model.trees_} trees (revenue), {model.trees_buy_} (p_active)")
    bundle = make_bundle(
        model, names, categorical, features_report, params, context, fingerprint(args.context), update
    )
    card = model_card(
        forecast,
        start is not None,
        update,
        names,
        features_report,
        params,
        training,
        fingerprint(args.training),
    )
    _write(bundle, card, args)
    gini = card["validation"]["out_of_sample"]["normalized_gini"]
    return f"model bundle with {len(names)} features; out-of-sample normalized Gini {gini:.3f}"


def _write(bundle: dict, card: dict, args: argparse.Namespace) -> None:
    with atomic_path(args.bundle) as tmp:
        joblib.dump(bundle, tmp, compress=3)
    write_json(card, args.metadata)


def _champion(folder: str, update: str):
    """The promoted champion's model when ``model.update`` is warm and one was promoted, else None."""
    files = champion_files(Path(folder)) if update == "warm" else None
    return None if files is None else joblib.load(files[0])["model"]


if __name__ == "__main__":
    run_stage("train", add_arguments, main)
