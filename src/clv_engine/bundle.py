"""The model bundle and its card: what the train stage writes, for a fitted model or the fallback.

The bundle (data/model/model_bundle.joblib) is what scores: the model, its features, the
windows the features stage chose, the model params and the scoring context
(:class:`clv_engine.scoring.ScoringContext`, what :class:`clv_engine.scoring.Forecaster` needs
to rebuild a customer's row). The card (reports/model_metadata.json) says how the model was
made, for a person and for ``dvc metrics diff``: its training data, validation, trees, the
level and what sets it, and how each horizon's band is calibrated.

Both are plain dicts built here from what the train stage read; the stage only writes them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import polars as pl

from . import metrics
from .evaluation import Forecast
from .fallback import BaselineForecaster
from .params import Params
from .provenance import versions
from .scoring import ScoringContext

__all__ = ["WINDOW_KEYS", "fallback_card", "make_bundle", "model_card"]

#: What the features stage decided (the forecast date, windows, BTYD fits): in both files.
WINDOW_KEYS = ("as_of", "lookback_months", "horizon_months", "horizon_days", "btyd_at_as_of")


def _window(features_report: dict[str, Any]) -> dict[str, Any]:
    return {key: features_report[key] for key in WINDOW_KEYS}


def make_bundle(
    model: Any,
    names: list[str],
    categorical: list[str],
    features_report: dict[str, Any],
    params: Params,
    context: ScoringContext,
    context_sha256: str,
    update: str | None,
) -> dict[str, Any]:
    """The bundle of ``model`` (a fitted :class:`clv_engine.model.CLVModel` with its ``update``
    note, or the :class:`BaselineForecaster`, whose ``update`` is None)."""
    bundle = {
        "model": model,
        "features": names,
        "categorical": categorical,
        **_window(features_report),
        "params": dataclasses.asdict(params.model),
        # What Forecaster.predict needs to rebuild a customer's row (clv_engine.scoring).
        "scoring": context,
        # The context file's sha256: the score stage uses the features stage's rows when it matches.
        "scoring_sha256": context_sha256,
    }
    if update is not None:
        bundle["update"] = update
    return bundle | {"versions": versions()}


def _card_head(features_report: dict[str, Any], params: Params) -> dict[str, Any]:
    return {
        **_window(features_report),
        "interval_level": params.model.interval_level,
        "params": {
            "model": dataclasses.asdict(params.model),
            "training": dataclasses.asdict(params.training),
            "seed": params.seed,
        },
    }


def model_card(
    forecast: Forecast,
    warm: bool,
    update: str,
    names: list[str],
    features_report: dict[str, Any],
    params: Params,
    training: pl.DataFrame,
    training_sha256: str,
) -> dict[str, Any]:
    """reports/model_metadata.json for a fitted model (``warm``: it continued the champion's trees)."""
    model = forecast.model
    oos = model.oos_
    validation = metrics.rounded(metrics.regression_metrics(oos["actual"], oos["predicted"]))
    lower, upper = model.predict_interval(oos["predicted"], p_active=oos["p_active"])
    validation["interval_coverage_in_sample"] = round(
        metrics.interval_coverage(oos["actual"], lower, upper), 6
    )
    return {
        **_card_head(features_report, params),
        "training_data": {
            "rows": training.height,
            "cutoffs": sorted({c.isoformat() for c in training["cutoff"].to_list()}),
            "sha256": training_sha256,
        },
        "validation": {"method": model.validation_, "out_of_sample": validation},
        "trees": {"revenue": model.trees_, "p_active": model.trees_buy_},
        # model.update: how the trees were made (warm: the champion's, continued by the trees above).
        "update": {
            "method": "warm" if warm else "full",
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
        "features": names,
        "versions": versions(),
    }


def fallback_card(
    model: BaselineForecaster,
    reason: str,
    names: list[str],
    features_report: dict[str, Any],
    params: Params,
    scoring: pl.DataFrame,
    training_sha256: str,
) -> dict[str, Any]:
    """reports/model_metadata.json when no model could be trained (``reason``): the fallback's."""
    sources = dict(zip(*np.unique(model.source(scoring), return_counts=True), strict=True))
    return {
        **_card_head(features_report, params),
        "training_data": {"rows": 0, "cutoffs": [], "sha256": training_sha256},
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
        "features": names,
        "versions": versions(),
    }
