"""DVC stage features: stacked training rows at past cutoffs and scoring rows at as_of."""

import argparse

import joblib
import polars as pl

from clv_engine.dataset import training_set
from clv_engine.io import atomic_path, read_json, write_json, write_parquet
from clv_engine.level import level_history
from clv_engine.params import load_params
from clv_engine.scoring import build_scoring
from clv_engine.stage import progress, run_stage
from clv_engine.timeline import DataRangeError, horizon_days, resolve_as_of_for, training_cutoffs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--orders", required=True)
    parser.add_argument("--selected", required=True, help="output of the windows stage")
    parser.add_argument("--training", required=True, help="stacked training rows (Parquet)")
    parser.add_argument("--scoring", required=True, help="customer table at as_of (Parquet)")
    parser.add_argument(
        "--context", required=True, help="what the scoring rows read from the whole base (joblib)"
    )
    parser.add_argument("--report", required=True)
    parser.add_argument(
        "--level-history", required=True, help="the level's monthly origins (Parquet; train and evaluate)"
    )


def main(args: argparse.Namespace) -> str:
    params = load_params(args.params)
    orders = pl.read_parquet(args.orders)
    as_of = resolve_as_of_for(orders, params.as_of)
    chosen = read_json(args.selected)
    lookback, horizon = chosen["lookback_months"], chosen["horizon_months"]
    if chosen["as_of"] != as_of.isoformat():
        raise DataRangeError(
            f"{args.selected} was made for as_of {chosen['as_of']}, not {as_of}: rerun dvc repro"
        )
    scoring, context = build_scoring(orders, as_of, lookback, horizon, params)
    if chosen.get("trainable", True):
        train = training_set(orders, as_of, lookback, horizon, params)
        plan, sample, training = train.plan, train.sample, train.rows
        progress(f"{len(plan.cutoffs)} training cutoffs: {', '.join(map(str, sorted(plan.cutoffs)))}")
        if sample is not None:
            progress(f"training on a seeded sample of {sample.len():,} customers (training.max_customers)")
    else:
        # Too short a log to train on: no training rows (the train stage falls back).
        progress(chosen["note"])
        plan, sample = training_cutoffs(as_of, horizon, lookback, 0, 1, as_of), None
        training = scoring.head(0).with_columns(
            pl.lit(0.0).alias("label_revenue"),
            pl.lit(False).alias("label_bought"),
            pl.lit(0, dtype=pl.Int64).alias("horizon_days"),
        )
    rows = dict(training.group_by("cutoff").len().sort("cutoff").iter_rows())
    report = {
        "as_of": as_of.isoformat(),
        "lookback_months": lookback,
        "horizon_months": horizon,
        "horizon_days": horizon_days(as_of, horizon),
        "btyd_at_as_of": context.fits.as_dict(),
        "training_cutoffs": [c.isoformat() for c in sorted(plan.cutoffs)],
        "cutoffs_outside_history": [c.isoformat() for c in sorted(plan.skipped)],
        "training_rows_per_cutoff": {c.isoformat(): n for c, n in rows.items()},
        "training_rows": training.height,
        "training_customers_sampled": sample.len() if sample is not None else None,
        "training_label_buyers_share": round(float(training["label_bought"].mean()), 6)
        if training.height
        else None,
        "trainable": chosen.get("trainable", True),
        "untrainable_note": chosen.get("note", ""),
        "scoring_customers": scoring.height,
    }
    progress("level history: BG/NBD + GG against what was spent, at every monthly origin")
    history = level_history(orders, as_of, horizon, params.lifecycle, seed=params.seed)
    write_parquet(history, args.level_history)
    write_parquet(training, args.training)
    write_parquet(scoring, args.scoring)
    with atomic_path(args.context) as tmp:
        joblib.dump(context, tmp)
    write_json(report, args.report)
    n_cutoffs = len(plan.cutoffs)
    return (
        f"{training.height:,} training rows over {n_cutoffs} cutoffs, {scoring.height:,} customers at {as_of}"
    )


if __name__ == "__main__":
    run_stage("features", add_arguments, main)
