"""DVC stage train: stacked training rows -> the model bundle and its metadata."""

import argparse
import dataclasses
from pathlib import Path

import joblib
import numpy as np
import polars as pl

from clv_engine import metrics
from clv_engine.evaluation import fit_forecast, model_features, warm_start
from clv_engine.fallback import BaselineForecaster
from clv_engine.governance import champion_files
from clv_engine.io import atomic_path, read_json, write_json
from clv_engine.params import load_params
from clv_engine.provenance import fingerprint, versions
from clv_engine.stage import progress, run_stage

_WINDOW_KEYS = ("as_of", "lookback_months", "horizon_months", "horizon_days", "btyd_at_as_of")


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
    orders = pl.read_parquet(args.orders)
    scoring = pl.read_parquet(args.scoring)
    names, categorical = model_features(params)
    if training.height == 0:
        return _fallback(args, params, features_report, scoring, names)
    progress(f"fitting the CLV model ({params.model.objective}) on {training.height:,} rows")
    history = pl.read_parquet(args.level_history)
    context = joblib.load(args.context)  # the scoring context: its season is the level's too
    start, update = warm_start(_champion(args.champion, params.model.update), training, params)
    progress(f"update: {update}")
    forecast = fit_forecast(
        training,
        scoring,
        orders,
        features_report["horizon_months"],
        params,
        progress,
        history,
        context.season,
        start,
    )
    model = forecast.model
    progress(f"{model.validation_}; {model.trees_} trees (revenue), {model.trees_buy_} (p_active)")
    oos = model.oos_
    validation = metrics.rounded(metrics.regression_metrics(oos["actual"], oos["predicted"]))
    lower, upper = model.predict_interval(oos["predicted"], p_active=oos["p_active"])
    validation["interval_coverage_in_sample"] = round(
        metrics.interval_coverage(oos["actual"], lower, upper), 6
    )
    model_params = dataclasses.asdict(params.model)
    # What the features stage decided (the forecast date, windows, BTYD fits): in both files.
    window = {key: features_report[key] for key in _WINDOW_KEYS}
    bundle = {
        "model": model,
        "features": names,
        "categorical": categorical,
        **window,
        "params": model_params,
        # What Forecaster.predict needs to rebuild a customer's row (clv_engine.scoring).
        "scoring": context,
        # The context file's sha256: the score stage uses the features stage's rows when it matches.
        "scoring_sha256": fingerprint(args.context),
        "update": update,
        "versions": versions(),
    }
    with atomic_path(args.bundle) as tmp:
        joblib.dump(bundle, tmp, compress=3)
    metadata = {
        **window,
        "interval_level": params.model.interval_level,
        "params": {
            "model": model_params,
            "training": dataclasses.asdict(params.training),
            "seed": params.seed,
        },
        "training_data": {
            "rows": training.height,
            "cutoffs": sorted({c.isoformat() for c in training["cutoff"].to_list()}),
            "sha256": fingerprint(args.training),
        },
        "validation": {"method": model.validation_, "out_of_sample": validation},
        "trees": {"revenue": model.trees_, "p_active": model.trees_buy_},
        # model.update: how the trees were made (warm: the champion's, continued by the trees above).
        "update": {
            "method": "full" if start is None else "warm",
            "note": update,
            "continued_trees": model.start_trees_,
        },
        # model.level: the factor of every forecast, the shift of p_active's log-odds, and why
        # (1 and 0: the trees' level).
        "level": {
            "factor": round(float(model.level_), 6),
            "method": forecast.level.method,
            "p_active_log_odds_shift": round(float(model.buy_shift_), 6),
            "set_by": model.level_note_,
            "season": forecast.level.season_note,
            # The level rule replayed at past origins: log(forecast / realised) each.
            "past_origins": [
                {"cutoff": r["cutoff"].isoformat(), "log_error": round(r["log_error"], 6)}
                for r in forecast.level.origins.iter_rows(named=True)
            ],
            "total_band": [round(b, 6) for b in model.total_band_],
            "total_band_covers": model.total_band_note_,
            "sampling_cv": round(forecast.sampling_cv, 6),
        },
        # The band and p_active over each other horizon (clv_lower_<h>m ...): what calibrates it.
        "horizon_intervals": model.horizon_bands_.describe(),
        # model.ensemble = stack: the weights of CatBoost and BTYD in the shipped forecast.
        "stack_weights": None
        if model.stack_ is None
        else {"catboost": model.stack_[0], "btyd": model.stack_[1]},
        "features": names,
        "versions": versions(),
    }
    write_json(metadata, args.metadata)
    gini = validation["normalized_gini"]
    return f"model bundle with {len(names)} features; out-of-sample normalized Gini {gini:.3f}"


def _champion(folder: str, update: str):
    """The promoted champion's model when ``model.update`` is warm and one was promoted, else None."""
    files = champion_files(Path(folder)) if update == "warm" else None
    return None if files is None else joblib.load(files[0])["model"]


def _fallback(args, params, features_report, scoring, names) -> str:
    """No training row (too short a log): the BG/NBD + Gamma-Gamma forecaster, said as such."""
    reason = features_report["untrainable_note"] or "no training row"
    progress(reason)
    model = BaselineForecaster(names, params.model, features_report["horizon_days"], reason)
    model.set_total_band(scoring)
    model_params = dataclasses.asdict(params.model)
    window = {key: features_report[key] for key in _WINDOW_KEYS}
    with atomic_path(args.bundle) as tmp:
        joblib.dump(
            {
                "model": model,
                "features": names,
                "categorical": [],
                **window,
                "params": model_params,
                "scoring": joblib.load(args.context),
                "scoring_sha256": fingerprint(args.context),
                "versions": versions(),
            },
            tmp,
            compress=3,
        )
    sources = dict(zip(*np.unique(model.source(scoring), return_counts=True), strict=True))
    write_json(
        {
            **window,
            "interval_level": params.model.interval_level,
            "params": {
                "model": model_params,
                "training": dataclasses.asdict(params.training),
                "seed": params.seed,
            },
            "training_data": {"rows": 0, "cutoffs": [], "sha256": fingerprint(args.training)},
            "validation": {"method": model.validation_, "out_of_sample": None},
            "trees": {"revenue": 0, "p_active": 0},
            "update": {
                "method": "none",
                "note": "no trees: the BG/NBD + Gamma-Gamma fallback",
                "continued_trees": {"revenue": 0, "p_active": 0},
            },
            "level": {
                "factor": 1.0,
                "method": "fallback",
                "p_active_log_odds_shift": 0.0,
                "set_by": model.level_note_,
                "season": "",
                "past_origins": [],
                "total_band": [round(b, 6) for b in model.total_band_],
                "total_band_covers": model.total_band_note_,
                "sampling_cv": None,
            },
            "horizon_intervals": {
                f"{m}m": "Poisson purchases x expected spend (not calibrated: no training row)"
                for m in params.score.horizons_months
                if m != features_report["horizon_months"]
            },
            "fallback": {"reason": reason, "customers_by_source": {k: int(v) for k, v in sources.items()}},
            "stack_weights": None,
            "features": names,
            "versions": versions(),
        },
        args.metadata,
    )
    return (
        f"no model could be trained: BG/NBD + Gamma-Gamma for {sources.get('btyd', 0):,} customers, "
        f"the naive rate for {sources.get('naive', 0):,}"
    )


if __name__ == "__main__":
    run_stage("train", add_arguments, main)
