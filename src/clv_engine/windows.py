"""Automatic choice of the (lookback, horizon) pair by a backtest inside the data.

For each pair of the grid (``windows.lookback_months`` x ``windows.horizon_months``):

1. the training cutoffs are the production ones (:func:`timeline.training_cutoffs` from
   ``as_of``), so every label ends on or before ``as_of``; a pair none of whose cutoffs
   fits the history is *skipped* with the reason;
2. a pair is *eligible* when the customers known at its newest cutoff number at least
   ``min_customers`` or ``min_share`` of the customers known at ``as_of``;
3. an eligible pair is scored by an out-of-time backtest: a small CatBoost
   (``search_iterations`` trees, at most ``search_max_customers`` customers, said in the
   output) learns on the pair's older cutoffs and scores the customers known at its newest
   cutoff on the newest horizon ``(as_of - H, as_of]``:
   ``score = mean(normalized Gini, Spearman, 1 - min(decile MAPE, 1))``.
   This is what production does (train on the past, score later), so the score also
   charges a long lookback for the cutoffs it leaves out. A pair with a single cutoff has
   nothing older to learn from: it is ineligible when another pair can be scored out of
   time. When no pair can, every pair is scored on a grouped holdout instead: a seeded
   ``holdout_share`` of the customers known at the newest cutoff is set aside (from every
   cutoff) and the model learns on the rest. The two scores are never mixed in one grid.

The best score wins; ties go to the shorter horizon, then the shorter lookback. A
single value in params pins that dimension; when both are pinned nothing is searched.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial

import numpy as np
import polars as pl

from . import metrics
from .boosting import predict_catboost, tweedie_regressor
from .dataset import build_dataset
from .features import feature_names
from .params import ModelParams, Params
from .scalars import as_date
from .timeline import DataRangeError, add_months, cutoff_before, horizon_days, training_cutoffs

__all__ = ["MIN_CUSTOMERS", "PairResult", "WindowChoice", "composite_score", "select_windows"]

#: Below this many customers known at as_of there is nothing a model can learn from.
MIN_CUSTOMERS = 20


@dataclass(frozen=True)
class PairResult:
    lookback_months: int
    horizon_months: int
    status: str  # scored | skipped | ineligible | pinned
    reason: str
    test_cutoff: str | None = None
    train_cutoffs: str = ""
    customers: int = 0
    share_of_base: float = 0.0
    normalized_gini: float | None = None
    spearman: float | None = None
    decile_mape: float | None = None
    score: float | None = None


@dataclass(frozen=True)
class WindowChoice:
    lookback_months: int
    horizon_months: int
    horizon_days: int  # from as_of
    as_of: str
    searched: bool
    score: float | None
    method: str
    # False when no pair has a training cutoff in the log: the forecast falls back to the
    # textbook models (src/clv_engine/fallback.py); ``note`` says why.
    trainable: bool = True
    note: str = ""


def composite_score(gini: float, rho: float, decile_mape: float) -> float:
    """mean(normalized Gini, Spearman, 1 - min(decile MAPE, 1)); a nan MAPE counts as 1."""
    calibration = 1.0 - min(decile_mape, 1.0) if np.isfinite(decile_mape) else 0.0
    return float(np.mean([gini, rho, calibration]))


def select_windows(
    orders: pl.DataFrame,
    as_of: dt.date,
    params: Params,
    progress: Callable[[str], None] = lambda _msg: None,
) -> tuple[WindowChoice, pl.DataFrame]:
    """The chosen pair and the whole grid (one row per pair, see :class:`PairResult`)."""
    w = params.windows
    lookbacks, horizons = w.grid("lookback_months"), w.grid("horizon_months")
    history = orders.filter(pl.col("order_date") <= as_of)
    base = history["customer_id"].n_unique()
    if base < MIN_CUSTOMERS:
        raise DataRangeError(
            f"the log has {base} customer(s) up to {as_of}, fewer than windows.min_customers "
            f"allows and below the {MIN_CUSTOMERS} the engine needs to learn anything: "
            "forecasting needs a customer base, not a single account"
        )
    first_order = as_date(history["order_date"].min())
    if not (~history["is_return"]).any():
        raise DataRangeError(
            f"the log has no purchase up to {as_of}: every order is a return (negative net revenue). "
            "Check the sign of the revenue column (ingest.columns.revenue)"
        )
    pairs = [(lb, h) for h in sorted(horizons) for lb in sorted(lookbacks)]
    pinned = len(pairs) == 1
    model = (
        f"a small CatBoost ({w.search_iterations} trees, at most {w.search_max_customers:,} "
        f"customers, seed {params.seed})"
    )
    results: list[PairResult] = []
    for out_of_time in (True, False):
        method = (
            "pinned by params"
            if pinned
            else f"out-of-time backtest: {model} learns on each pair's older cutoffs and scores "
            "the customers at its newest"
            if out_of_time
            else f"grouped holdout (no pair has two training cutoffs to backtest out of time): "
            f"{model} learns on {1 - w.holdout_share:.0%} of the customers and scores the rest "
            "at the newest cutoff"
        )
        progress(method)
        results = []
        for k, (lookback, horizon) in enumerate(pairs, start=1):
            result = _evaluate_pair(
                history, as_of, lookback, horizon, first_order, base, params, pinned, out_of_time
            )
            results.append(result)
            shown = f"score {result.score:.3f}" if result.score is not None else result.status
            progress(f"window pair {k} of {len(pairs)}: lookback {lookback} m, horizon {horizon} m: {shown}")
        if pinned or any(r.status == "scored" for r in results):
            break

    grid = pl.DataFrame([asdict(r) for r in results], infer_schema_length=None).with_columns(
        # A label for the DVC plot (lookback_months alone sorts as text there: 12, 18, 3, 6, 9).
        window=pl.format("{} months back, {} ahead", "lookback_months", "horizon_months")
    )
    usable = [r for r in results if r.status in ("scored", "pinned")]
    if not usable:
        reasons = "; ".join(f"({r.lookback_months} m, {r.horizon_months} m): {r.reason}" for r in results)
        lookback, horizon = min(lookbacks), min(horizons)
        note = (
            f"no (lookback, horizon) pair has a training cutoff in this log up to as_of {as_of} "
            f"({reasons}): every customer gets the BG/NBD + Gamma-Gamma forecast (the naive spend rate "
            "where BG/NBD cannot be fitted). A longer log, a later as_of or a shorter "
            "windows.horizon_months would let the model learn."
        )
        progress(note)
        choice = WindowChoice(
            lookback_months=lookback,
            horizon_months=horizon,
            horizon_days=horizon_days(as_of, horizon),
            as_of=as_of.isoformat(),
            searched=not pinned,
            score=None,
            method=method,
            trainable=False,
            note=note,
        )
        return choice, grid
    best = min(usable, key=lambda r: (-(r.score or 0.0), r.horizon_months, r.lookback_months))
    choice = WindowChoice(
        lookback_months=best.lookback_months,
        horizon_months=best.horizon_months,
        horizon_days=horizon_days(as_of, best.horizon_months),
        as_of=as_of.isoformat(),
        searched=not pinned,
        score=best.score,
        method=method,
    )
    return choice, grid


def _evaluate_pair(
    history: pl.DataFrame,
    as_of: dt.date,
    lookback: int,
    horizon: int,
    first_order: dt.date,
    base: int,
    params: Params,
    pinned: bool,
    out_of_time: bool,
) -> PairResult:
    t, w = params.training, params.windows
    plan = training_cutoffs(as_of, horizon, lookback, t.n_cutoffs, t.spacing_months, first_order)
    newest = cutoff_before(as_of, horizon)
    pair = partial(
        PairResult, lookback_months=lookback, horizon_months=horizon, test_cutoff=newest.isoformat()
    )
    if not plan.cutoffs:
        earliest = add_months(newest, -lookback) + dt.timedelta(days=1)
        return pair(
            status="skipped",
            reason=f"needs history from {earliest} (lookback + horizon before as_of); "
            f"the log starts {first_order}",
        )
    newest = max(plan.cutoffs)
    known = history.filter(pl.col("order_date") <= newest)["customer_id"].unique().sort()
    share = known.len() / base
    pair = partial(
        PairResult,
        lookback_months=lookback,
        horizon_months=horizon,
        test_cutoff=newest.isoformat(),
        train_cutoffs=" ".join(c.isoformat() for c in sorted(plan.cutoffs)),
        customers=known.len(),
        share_of_base=round(share, 6),
    )
    if known.len() < w.min_customers and share < w.min_share:
        return pair(
            status="ineligible",
            reason=f"{known.len()} customers at {newest}: fewer than windows.min_customers "
            f"({w.min_customers}) and under windows.min_share ({w.min_share:.0%}) of {base}",
        )
    if pinned:
        return pair(status="pinned", reason="the only pair in params: not searched")

    older = [c for c in plan.cutoffs if c < newest]
    if out_of_time and not older:
        return pair(
            status="ineligible",
            reason=f"a single training cutoff ({newest}): nothing older to learn from, so no "
            "out-of-time score, and other pairs have one",
        )
    rng = np.random.default_rng(params.seed)
    if known.len() > w.search_max_customers:
        known = known.sample(w.search_max_customers, seed=int(rng.integers(2**31))).sort()
    data = build_dataset(
        history,
        plan.cutoffs,
        lookback,
        horizon,
        params.features,
        params.lifecycle,
        params.labels,
        customers=known,
    )
    if out_of_time:
        # Learn on the past, score later: the same customers, as production sees them.
        train = data.filter(pl.col("cutoff") < newest)
        test = data.filter(pl.col("cutoff") == newest)
    else:
        held_out = known.sample(fraction=w.holdout_share, seed=int(rng.integers(2**31)))
        is_held_out = pl.col("customer_id").is_in(held_out.implode())
        train = data.filter(~is_held_out)
        test = data.filter(is_held_out & (pl.col("cutoff") == newest))
    if train.height == 0 or test.height == 0:
        reason = (
            f"no customer of the sample is known at the older cutoffs ({', '.join(map(str, older))})"
            if out_of_time
            else "too few customers to hold some out"
        )
        return pair(status="ineligible", reason=reason)
    names = feature_names(params.features)
    categorical = feature_names(params.features, kinds=("categorical",))
    # Its own small settings (the windows section), not the model's: a model experiment does
    # not rerun the search. Threads change the time, not the trees.
    small = ModelParams(
        learning_rate=w.search_learning_rate, depth=w.search_depth, thread_count=params.model.thread_count
    )
    model = tweedie_regressor(train, names, categorical, small, params.seed, w.search_iterations)
    y, p = test["label_revenue"].to_numpy(), predict_catboost(model, test, names, categorical)
    gini, rho, dmape = (
        metrics.normalized_gini(y, p),
        metrics.spearman(y, p),
        metrics.decile_calibration_error(y, p),
    )
    return pair(
        status="scored",
        reason="",
        normalized_gini=round(gini, 6),
        spearman=round(rho, 6),
        decile_mape=round(dmape, 6),
        score=round(composite_score(gini, rho, dmape), 6),
    )
