"""The features stage's tables: the stacked training rows at past cutoffs, the scoring rows
at ``as_of`` with what they read from the whole base, the level's monthly origins, and the
report that says how they were made (``reports/features.json``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl

from .dataset import training_set
from .level import level_history
from .params import Params
from .scalars import as_float
from .scoring import ScoringContext, build_scoring
from .timeline import DataRangeError, horizon_days, training_cutoffs

__all__ = ["FeatureTables", "feature_tables"]


@dataclass(frozen=True)
class FeatureTables:
    training: pl.DataFrame  # one row per customer and training cutoff, with the labels
    scoring: pl.DataFrame  # one row per customer at as_of
    context: ScoringContext  # what the scoring rows read from the whole base
    level_history: pl.DataFrame  # :func:`clv_engine.level.level_history` up to as_of
    report: dict[str, Any]


def feature_tables(
    orders: pl.DataFrame,
    as_of: dt.date,
    selected: dict[str, Any],
    params: Params,
    progress: Callable[[str], None] = lambda _msg: None,
    selected_name: str = "the windows stage's choice",
) -> FeatureTables:
    """The tables at ``as_of`` for the lookback and horizon of ``selected`` (the windows
    stage's JSON). A log too short to train on (``selected["trainable"]`` false) gets no
    training rows, with the same columns, and the train stage falls back."""
    lookback, horizon = selected["lookback_months"], selected["horizon_months"]
    if selected["as_of"] != as_of.isoformat():
        raise DataRangeError(
            f"{selected_name} was made for as_of {selected['as_of']}, not {as_of}: rerun dvc repro"
        )
    scoring, context = build_scoring(orders, as_of, lookback, horizon, params)
    trainable = selected.get("trainable", True)
    if trainable:
        train = training_set(orders, as_of, lookback, horizon, params)
        plan, sample, training = train.plan, train.sample, train.rows
        progress(f"{len(plan.cutoffs)} training cutoffs: {', '.join(map(str, sorted(plan.cutoffs)))}")
        if sample is not None:
            progress(f"training on a seeded sample of {sample.len():,} customers (training.max_customers)")
    else:
        progress(selected["note"])
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
        "training_label_buyers_share": round(as_float(training["label_bought"].mean()), 6)
        if training.height
        else None,
        "trainable": trainable,
        "untrainable_note": selected.get("note", ""),
        "scoring_customers": scoring.height,
    }
    progress("level history: BG/NBD + GG against what was spent, at every monthly origin")
    history = level_history(orders, as_of, horizon, params.lifecycle, seed=params.seed)
    return FeatureTables(training, scoring, context, history, report)
