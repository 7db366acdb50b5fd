"""The forecast path, and the backtest that replays it at rolling origins.

:func:`fit_forecast` is the one path from training rows to a shipped forecast: fit the
CLV model, set its level (:mod:`clv_engine.level`), score, bound each customer and the
total. The train stage and every backtest origin call it.

:func:`backtest` replays the production path at one origin ``c`` (``c + H <= as_of``): on
the orders up to ``c`` only it chooses the lookback (:func:`clv_engine.windows.select_windows`,
horizon pinned to H; or takes the one given), builds the stacked training rows and calls
:func:`fit_forecast` for every customer known at ``c``. The actual is each customer's net
revenue in ``(c, c + H]``. The model and every baseline get every metric of
:mod:`clv_engine.metrics`. :func:`rolling_backtest` runs it at ``evaluate.origins``
monthly origins, the newest ``as_of - H`` (the lookback is chosen there and reused at the
older ones), so bias, coverage and the range of the total are seen in every season.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from joblib.externals.loky import ProcessPoolExecutor

from . import metrics
from .baselines import BTYD_COLUMNS, BTYD_P_PURCHASE, last_period_revenue, naive_spend_rate
from .dataset import sample_customers, training_set
from .features import feature_names
from .horizons import (
    curve_columns,
    curve_months,
    fit_horizon_bands,
    horizon_p_active,
    horizon_values,
    purchase_curve,
)
from .level import LevelPlan, level_history, plan_level, range_note, sampling_cv, total_range
from .margin import margin_rates
from .metrics import APPROACHES
from .model import CLVModel
from .params import Params
from .scalars import as_date, as_float
from .scoring import build_scoring
from .season import SeasonFit
from .timeline import DataRangeError, add_months, cutoff_before, horizon_days, labels
from .windows import select_windows

__all__ = [
    "NO_BACKTEST_TABLES",
    "BacktestResult",
    "Forecast",
    "RollingResult",
    "backtest",
    "fit_clv",
    "fit_forecast",
    "metrics_report",
    "model_features",
    "no_backtest_reason",
    "predicted_vs_actual",
    "rolling_backtest",
    "warm_start",
]


def model_features(params: Params) -> tuple[list[str], list[str]]:
    """(all model inputs, the categorical ones)."""
    names = feature_names(params.features)
    if params.model.use_btyd_features:
        names += list(BTYD_COLUMNS)
    return names, feature_names(params.features, kinds=("categorical",))


def fit_clv(
    dataset: pl.DataFrame,
    params: Params,
    progress: Callable[[str], None] | None = None,
    start: CLVModel | None = None,
) -> CLVModel:
    """The CLV model on stacked training rows (see :mod:`clv_engine.model`); ``start``: a
    model to continue (:func:`warm_start`), else a fit from scratch."""
    names, categorical = model_features(params)
    return CLVModel(names, categorical, params.model, params.seed).fit(dataset, progress, start)


def warm_start(champion: object, dataset: pl.DataFrame, params: Params) -> tuple[CLVModel | None, str]:
    """(the model ``model.update: warm`` continues, or None for a full fit; why, in words).

    ``champion``: the promoted model (its bundle's ``model``) or None. It is continued
    only when it can be: a trained CLV model (not the BG/NBD fallback) with this run's
    features and loss, trained on cutoffs older than the newest of ``dataset``.
    """
    p = params.model
    if p.update != "warm":
        return None, "full: fitted from scratch (model.update: full)"
    if champion is None:
        return None, "full: model.update is warm but no champion was promoted yet"
    if not isinstance(champion, CLVModel):
        return None, "full: the champion is the BG/NBD + Gamma-Gamma fallback, which has no trees to continue"
    names, categorical = model_features(params)
    if champion.features != names or champion.categorical != categorical:
        return None, "full: the champion was trained on other features than this run's"
    mine = (p.objective, p.baseline, p.tweedie_variance_power)
    theirs = (champion.params.objective, champion.params.baseline, champion.params.tweedie_variance_power)
    if mine != theirs:
        return None, (
            f"full: the champion's objective, baseline and variance power {theirs} are not this run's {mine}"
        )
    newest, trained = as_date(dataset["cutoff"].max()), max(champion.cutoffs_)
    if newest <= trained:
        return None, f"full: no training cutoff newer than the champion's newest ({trained})"
    return champion, (
        f"warm: the champion's trees (newest training cutoff {trained}) continued on the "
        f"cutoffs up to {newest}"
    )


@dataclass(frozen=True)
class Forecast:
    """A shipped forecast at one cutoff: the model (level set) and what it says of ``rows``."""

    model: CLVModel
    level: LevelPlan
    predicted: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    total: float
    total_lower: float
    total_upper: float
    sampling_cv: float


def fit_forecast(
    train_rows: pl.DataFrame,
    rows: pl.DataFrame,
    orders: pl.DataFrame,
    horizon_months: int,
    params: Params,
    progress: Callable[[str], None] | None = None,
    history: pl.DataFrame | None = None,
    season: SeasonFit | None = None,
    start: CLVModel | None = None,
) -> Forecast:
    """Train, set the level, score and bound: the one forecast path (module docstring).

    ``rows``: every customer at the cutoff (the customer table with its BTYD columns);
    ``orders``: the log (nothing after the cutoff is read); ``history``: a
    :func:`clv_engine.level.level_history` computed once for several origins; ``season``:
    the log's season at the cutoff (:class:`clv_engine.scoring.ScoringContext`), else fitted;
    ``start``: the model to continue (:func:`warm_start`).
    """
    say = progress or (lambda _msg: None)
    model = fit_clv(train_rows, params, progress, start)
    plan = plan_level(
        orders, rows, horizon_months, params.model.level, params.lifecycle, history, params.seed, season
    )
    model.anchor_level(
        rows,
        plan.target_total,
        plan.note,
        plan.band_errors,
        plan.p_active_mean,
        plan.p_active_note,
        keep_oos_level_error=plan.young,
    )
    say(f"level of the forecast: {model.level_note_}")
    predicted = model.predict(rows)
    lower, upper = model.predict_interval(predicted, rows)
    cv = sampling_cv(predicted, model.oos_["predicted"], model.oos_["actual"])
    total = float(predicted.sum())
    low, high = total_range(total, plan.log_errors, params.model.interval_level, cv, plan.prior_error)
    model.total_band_ = (low / total, high / total) if total > 0 else (1.0, 1.0)
    model.total_band_note_ = range_note(plan.log_errors.size, plan.season, plan.new_season, plan.prior_error)
    model.total_band_origins_ = int(plan.log_errors.size)
    months = params.score.horizons_months
    model.horizon_bands_ = fit_horizon_bands(
        train_rows,
        model.oos_,
        months,
        horizon_months,
        params.model.interval_level,
        params.model.interval_bins,
        plan.log_errors,
    )
    # Every band's bins at the level of the forecasts it will bound (model.IntervalCalibrator).
    model.horizon_bands_.follow_level(
        horizon_values(predicted, rows, as_date(rows["cutoff"].max()), months, horizon_months),
        model.intervals_,
    )
    return Forecast(model, plan, predicted, lower, upper, total, low, high, cv)


@dataclass(frozen=True)
class BacktestResult:
    cutoff: dt.date
    horizon_days: int
    lookback_months: int
    horizon_months: int
    predictions: pl.DataFrame  # customer_id, actual, model, lower, upper, p_active, baselines, customer_stage
    metrics: dict[str, Any]
    deciles: pl.DataFrame
    gain: pl.DataFrame
    segments: pl.DataFrame
    window_grid: pl.DataFrame
    model: CLVModel  # the fitted model (its validation split, out-of-sample predictions)
    forecast: Forecast


def backtest(
    orders: pl.DataFrame,
    as_of: dt.date,
    params: Params,
    horizon_months: int,
    progress: Callable[[str], None] = lambda _msg: None,
    cutoff: dt.date | None = None,
    lookback_months: int | None = None,
    level_history_: pl.DataFrame | None = None,
    start: CLVModel | None = None,
) -> BacktestResult:
    """Replay the production path at ``cutoff`` (default ``as_of - horizon_months``).

    ``lookback_months`` skips the window search; ``level_history_`` is a level history
    computed once for several origins (:func:`rolling_backtest`); ``start``: a model
    trained before ``cutoff`` to continue instead of fitting from scratch (``model.update:
    warm``, replayed in experiments/warm_update.py).
    """
    cutoff = cutoff or cutoff_before(as_of, horizon_months)
    end = add_months(cutoff, horizon_months)
    history = orders.filter(pl.col("order_date") <= cutoff)
    if history.height == 0:
        raise DataRangeError(
            f"the backtest cutoff {cutoff} is before the first order: "
            "the log is too short to backtest this horizon"
        )
    grid = pl.DataFrame()
    if lookback_months is None:
        pinned = dataclasses.replace(
            params, windows=dataclasses.replace(params.windows, horizon_months=horizon_months)
        )
        progress(f"backtest cutoff {cutoff}: choosing the lookback on data up to {cutoff}")
        choice, grid = select_windows(history, cutoff, pinned, progress)
        if not choice.trainable:
            raise DataRangeError(choice.note)
        lookback_months = choice.lookback_months
    lookback = lookback_months
    train = training_set(history, cutoff, lookback, horizon_months, params)
    progress(
        f"backtest {cutoff}: lookback {lookback} m, training cutoffs "
        f"{', '.join(map(str, sorted(train.plan.cutoffs)))}"
    )
    # The scoring rows as the features stage builds them at as_of (clv_engine.scoring).
    rows, context = build_scoring(history, cutoff, lookback, horizon_months, params)
    forecast = fit_forecast(
        train.rows, rows, history, horizon_months, params, progress, level_history_, context.season, start
    )
    months = curve_months(params.score.horizons_months, horizon_months)
    # The textbook baseline over each horizon: BG/NBD in calendar time, as at the pinned one.
    textbook = purchase_curve(rows, context.fits.beta_geo, cutoff, months)
    model = forecast.model
    days = horizon_days(cutoff, horizon_months)
    predicted, lower, upper = forecast.predicted, forecast.lower, forecast.upper
    p_active = model.predict_p_active(rows)
    actual = labels(orders.filter(pl.col("order_date") <= end), cutoff, days, params.labels.floor_at_zero)
    frame = (
        rows.select("customer_id", "customer_stage", "btyd_expected_revenue", BTYD_P_PURCHASE)
        .with_columns(
            model=predicted,
            lower=lower,
            upper=upper,
            p_active=p_active,
        )
        .rename({"btyd_expected_revenue": "btyd"})
        .with_columns(pl.col("btyd").fill_null(0.0).fill_nan(0.0))
        .join(
            naive_spend_rate(history, cutoff, days).rename({"prediction": "naive_spend_rate"}),
            on="customer_id",
        )
        .join(
            last_period_revenue(history, cutoff, days).rename({"prediction": "last_period"}), on="customer_id"
        )
        .join(actual.select("customer_id", "label_revenue", "label_bought"), on="customer_id")
        .rename({"label_revenue": "actual", "label_bought": "bought"})
        .sort("customer_id")
    )
    scores = _metrics(frame, model, params)
    scores["horizons"], scores["horizons_not_realised"] = _horizon_metrics(
        orders, as_of, cutoff, rows, textbook, model, predicted, p_active, params, horizon_months
    )
    scores["margin"] = _margin_metrics(orders, cutoff, end, rows, predicted)
    return BacktestResult(
        cutoff=cutoff,
        horizon_days=days,
        lookback_months=lookback,
        horizon_months=horizon_months,
        predictions=frame,
        metrics=scores,
        deciles=_deciles(frame),
        gain=_gain(frame),
        segments=_segments(frame),
        window_grid=grid,
        model=model,
        forecast=forecast,
    )


@dataclass(frozen=True)
class RollingResult:
    """The backtest at several origins: the newest in full, every one in the table."""

    newest: BacktestResult
    origins: pl.DataFrame  # one row per origin (see :func:`origin_row`)
    skipped: list[str]  # origins the log could not backtest, with the reason
    summary: dict[str, Any]
    # Each horizon of score.horizons_months at the newest origin that realises it (with its
    # cutoff), and those no origin realises.
    horizons: dict[str, Any] = dataclasses.field(default_factory=dict)
    horizons_not_realised: list[int] = dataclasses.field(default_factory=list)


def rolling_backtest(
    orders: pl.DataFrame,
    as_of: dt.date,
    params: Params,
    horizon_months: int,
    n_origins: int,
    progress: Callable[[str], None] = lambda _msg: None,
    history: pl.DataFrame | None = None,
) -> RollingResult:
    """:func:`backtest` at ``n_origins`` monthly origins, newest ``as_of - H`` (module docstring).

    ``history``: :func:`clv_engine.level.level_history` up to ``as_of`` (the features
    stage's), computed here when not given, which the older origins read (only its origins
    realised by each). The newest origin computes its own, as the production path at its
    date does: the monthly origins stepped back from the newest origin can fall a day away
    from those stepped back from ``as_of`` (2023-06-29 against 2023-06-30), and the level's
    past errors, and with them the bands, with them; a champion trained at that date then
    scored its own origin with other bands than the replay. Raises
    :class:`DataRangeError` when not even the newest origin can be backtested.
    """
    orders = orders.filter(pl.col("order_date") <= as_of)
    if history is None:
        history = level_history(orders, as_of, horizon_months, params.lifecycle, seed=params.seed)
    newest = backtest(orders, as_of, params, horizon_months, progress)
    # Older origins: the same path on a seeded sample of customers (trained and scored) with
    # at most the newest origin's trees and the revenue model at evaluate.older_learning_rate,
    # so that many origins stay affordable on a large log.
    rate = params.evaluate.older_learning_rate or params.model.learning_rate
    older = dataclasses.replace(
        params,
        model=dataclasses.replace(params.model, iterations=max(newest.model.trees_, 50), learning_rate=rate),
    )
    limit = params.evaluate.older_max_customers

    def origins() -> Iterator[tuple[pl.DataFrame, dt.date, bool]]:
        """(the orders of its customers, cutoff, on a sample) per older origin, newest first."""
        for k in range(1, n_origins):
            cutoff = cutoff_before(add_months(as_of, -k), horizon_months)
            sample = sample_customers(orders, cutoff, limit, params.seed)
            subset = (
                orders if sample is None else orders.filter(pl.col("customer_id").is_in(sample.implode()))
            )
            yield subset, cutoff, sample is not None

    shared = (as_of, older, horizon_months, progress)
    lookback = newest.lookback_months
    jobs = min(params.evaluate.jobs, n_origins - 1)
    results: Iterable[tuple[BacktestResult | str, bool]]
    if jobs > 1:
        # Each origin in a worker process: the same function of the same inputs, so the
        # same results as one after the other (tests/test_evaluation.py). The workers end
        # with the pool, so the stage's peak memory counts theirs.
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = [
                (pool.submit(_older_origin, s, *shared, c, lookback, history), on_sample)
                for s, c, on_sample in origins()
            ]
            results = [(future.result(), on_sample) for future, on_sample in futures]
    else:
        # One after the other, lazily: none is run past the first the log is too short for.
        results = (
            (_older_origin(s, *shared, c, lookback, history), on_sample) for s, c, on_sample in origins()
        )
    runs: list[tuple[BacktestResult, bool]] = [(newest, False)]  # (result, on a customer sample)
    skipped: list[str] = []
    for result, on_sample in results:
        if isinstance(result, str):
            skipped.append(result)
            break  # older origins have even less history
        runs.append((result, on_sample))
    months = params.score.horizons_months
    table = pl.DataFrame([origin_row(r, on_sample, months) for r, on_sample in runs]).sort("cutoff")
    horizons: dict[str, Any] = {}
    for m in months:
        # runs go from the newest origin to older ones: the first that realises m.
        found = next(((r, s) for r, s in runs if f"{m}m" in r.metrics["horizons"]), None)
        if found is not None:
            r, on_sample = found
            horizons[f"{m}m"] = {
                **r.metrics["horizons"][f"{m}m"],
                "cutoff": r.cutoff.isoformat(),
                "customers_sampled": on_sample,
            }
    missing = [m for m in months if f"{m}m" not in horizons]
    return RollingResult(newest, table, skipped, _rolling_summary(table), horizons, missing)


def _older_origin(
    orders: pl.DataFrame,
    as_of: dt.date,
    params: Params,
    horizon_months: int,
    progress: Callable[[str], None],
    cutoff: dt.date,
    lookback_months: int,
    history: pl.DataFrame,
) -> BacktestResult | str:
    """:func:`backtest` at an older origin of :func:`rolling_backtest`, or why the log
    cannot be backtested there (``"cutoff: reason"``)."""
    try:
        return backtest(
            orders,
            as_of,
            params,
            horizon_months,
            progress,
            cutoff=cutoff,
            lookback_months=lookback_months,
            level_history_=history,
        )
    except DataRangeError as exc:
        return f"{cutoff}: {exc}"


def no_backtest_reason(orders: pl.DataFrame, as_of: dt.date, params: Params, horizon_months: int) -> str:
    """Why the log cannot be backtested at this horizon, and the history it would need."""
    cutoff = cutoff_before(as_of, horizon_months)
    shortest = min(params.windows.grid("lookback_months"))
    training = cutoff_before(cutoff, horizon_months)
    needed = add_months(training, -shortest) + dt.timedelta(days=1)
    first = as_date(orders["order_date"].min())
    return (
        f"no backtest: the log starts {first}; a backtest at this horizon ({horizon_months} months, "
        f"forecast made on {cutoff} and trained on a cutoff {horizon_months} months earlier with a "
        f"{shortest}-month lookback) needs history from {needed}. The forecast itself ships; its "
        "accuracy on this log cannot be measured yet."
    )


def origin_row(
    result: BacktestResult, sampled: bool = False, horizons: tuple[int, ...] = ()
) -> dict[str, Any]:
    """Bias, coverage, Gini and the total's range at one origin (a row of origins.csv).

    ``sampled``: the origin was run on a seeded sample of customers (its totals are the
    sample's; bias and coverage are ratios and shares, which the sample estimates).
    ``horizons``: score.horizons_months, whose bias and Gini (model and BG/NBD + GG) are
    columns ``bias_model_<h>m`` .. ``gini_btyd_<h>m`` (None where the origin does not realise h).
    """
    f, m = result.forecast, result.metrics
    actual = float(result.predictions["actual"].sum())
    row: dict[str, Any] = {
        "cutoff": result.cutoff,
        "customers": result.predictions.height,
        "customers_sampled": sampled,
        "level_method": f.level.method,
        "actual_total": round(actual, 2),
        "total": round(f.total, 2),
        "total_lower": round(f.total_lower, 2),
        "total_upper": round(f.total_upper, 2),
        "total_inside_range": bool(f.total_lower <= actual <= f.total_upper),
        "coverage": m["interval"]["coverage"],
        # Whether the chance of buying followed the season: p_active's sum against the count.
        "expected_buyers": round(float(result.predictions["p_active"].sum()), 2),
        "buyers": int(result.predictions["bought"].sum()),
    }
    # Sure buyers (too likely to buy for a lower end of 0): their band is the mixture's.
    preds = result.predictions
    sure = preds.filter(pl.Series(f.model.intervals_.sure_buyers(preds["p_active"].to_numpy())))
    row["sure_buyers"] = sure.height
    row["coverage_sure_buyers"] = (
        round(float(metrics.interval_coverage(sure["actual"], sure["lower"], sure["upper"])), 6)
        if sure.height
        else None
    )
    for name in APPROACHES:
        row[f"bias_{name}"] = m[name]["bias"]
        row[f"gini_{name}"] = m[name]["normalized_gini"]
    # Each horizon of score.horizons_months: the model's clv_<h>m and BG/NBD + GG's own
    # forecast, where this origin realises it (None where it ends after as_of).
    for months in horizons:
        done = m["horizons"].get(f"{months}m")
        for name in ("model", "btyd"):
            for key, metric in (("bias", "bias"), ("gini", "normalized_gini")):
                row[f"{key}_{name}_{months}m"] = None if done is None else done[name][metric]
        row[f"coverage_{months}m"] = None if done is None else done["interval_coverage"]
    return row


def _rolling_summary(table: pl.DataFrame) -> dict[str, Any]:
    out: dict[str, Any] = {"count": table.height}
    for name in APPROACHES:
        bias = table[f"bias_{name}"].abs()
        out[name] = {
            "mean_abs_bias": round(as_float(bias.mean()), 6),
            "worst_abs_bias": round(as_float(bias.max()), 6),
            "mean_gini": round(as_float(table[f"gini_{name}"].mean()), 6),
        }
    cov = table["coverage"]
    out["coverage"] = {
        "mean": round(as_float(cov.mean()), 6),
        "min": round(as_float(cov.min()), 6),
        "max": round(as_float(cov.max()), 6),
    }
    out["total_inside_range_share"] = round(as_float(table["total_inside_range"].mean()), 6)
    return out


def _horizon_metrics(
    orders: pl.DataFrame,
    as_of: dt.date,
    cutoff: dt.date,
    rows: pl.DataFrame,
    textbook: pl.DataFrame,
    model: CLVModel,
    predicted: np.ndarray,
    p_active: np.ndarray,
    params: Params,
    pinned: int,
) -> tuple[dict[str, Any], list[int]]:
    """Each of ``score.horizons_months`` the log realises after ``cutoff``: the model's
    ``clv_<h>m`` (:func:`clv_engine.horizons.horizon_values` on ``rows``' curve) and
    BG/NBD + GG's own forecast over h (``textbook``'s calendar-time purchases over h x
    its spend), against what was spent in h, and the coverage of the model's band over h
    (``p_active``: the model's over the pinned horizon). Also the horizons that end after
    ``as_of`` (not realised at this origin)."""
    months = [m for m in params.score.horizons_months if add_months(cutoff, m) <= as_of]
    values = horizon_values(predicted, rows, cutoff, months, pinned) if months else {}
    chances = horizon_p_active(p_active, rows, cutoff, months, pinned) if months else {}
    spend = textbook["btyd_expected_spend"].fill_nan(None).fill_null(0.0).to_numpy()
    out: dict[str, Any] = {}
    for m in months:
        days = horizon_days(cutoff, m)
        realised = labels(orders, cutoff, days, params.labels.floor_at_zero)
        actual = _aligned(rows, realised, "label_revenue")
        btyd = np.nan_to_num(textbook[curve_columns([m])[0]].fill_null(0.0).to_numpy() * spend)
        band = (
            model.predict_interval(values[m], rows, chances[m])
            if m == pinned
            else model.predict_horizon_interval(m, values[m], rows, chances[m])
        )
        coverage = round(float(metrics.interval_coverage(actual, *band)), 6)
        out[f"{m}m"] = {
            "model": metrics.rounded(metrics.regression_metrics(actual, values[m])),
            "btyd": metrics.rounded(metrics.regression_metrics(actual, btyd)),
            "interval_coverage": coverage,
        }
    return out, [m for m in params.score.horizons_months if m not in months]


def _aligned(rows: pl.DataFrame, per_customer: pl.DataFrame, column: str) -> np.ndarray:
    """``column`` of ``per_customer`` in the order of ``rows``' customers, 0 where absent."""
    joined = rows.select("customer_id").join(
        per_customer, on="customer_id", how="left", maintain_order="left"
    )
    return joined[column].fill_null(0.0).to_numpy()


def _margin_metrics(
    orders: pl.DataFrame, cutoff: dt.date, end: dt.date, rows: pl.DataFrame, predicted: np.ndarray
) -> dict[str, Any] | None:
    """predicted_margin (:mod:`clv_engine.margin`) against the margin realised in
    (cutoff, end], beside BG/NBD + GG's revenue x the base's margin rate; None without a
    mapped margin (a fixed ``value.margin_rate`` has nothing to be checked against)."""
    if "margin" not in orders.columns:
        return None
    rates, base = margin_rates(orders, cutoff, rows["customer_id"])
    window = orders.filter((pl.col("order_date") > cutoff) & (pl.col("order_date") <= end))
    realised = (
        window.sort("customer_id", "order_date", "order_key")
        .group_by("customer_id", maintain_order=True)
        .agg(pl.col("margin").sum())
    )
    actual = _aligned(rows, realised, "margin")
    btyd = rows["btyd_expected_revenue"].fill_nan(None).fill_null(0.0).to_numpy() * base
    return {
        "model": metrics.rounded(metrics.regression_metrics(actual, np.asarray(predicted) * rates)),
        "btyd": metrics.rounded(metrics.regression_metrics(actual, btyd)),
    }


def _metrics(frame: pl.DataFrame, model: CLVModel, params: Params) -> dict[str, Any]:
    y = frame["actual"].to_numpy()
    out: dict[str, Any] = {
        name: metrics.rounded(metrics.regression_metrics(y, frame[name].to_numpy())) for name in APPROACHES
    }
    lower, upper, p = frame["lower"].to_numpy(), frame["upper"].to_numpy(), frame["model"].to_numpy()
    decile = metrics.decile_index(p)
    out["interval"] = {
        "level": params.model.interval_level,
        "coverage": round(metrics.interval_coverage(y, lower, upper), 6),
        "coverage_by_decile": [
            round(metrics.interval_coverage(y[decile == d], lower[decile == d], upper[decile == d]), 6)
            for d in range(10)
        ],
        "mean_width": round(float(np.mean(upper - lower)), 6),
    }
    bought = frame["bought"].to_numpy().astype(float)
    p_active = frame["p_active"].to_numpy()
    chance = frame[BTYD_P_PURCHASE]
    out["p_active"] = {
        "brier": round(float(np.mean((p_active - bought) ** 2)), 6),
        # BG/NBD's P(a purchase in the horizon), the textbook answer to the same question
        "brier_btyd": None
        if chance.null_count()
        else round(float(np.mean((chance.to_numpy() - bought) ** 2)), 6),
        "log_odds_shift": round(float(model.buy_shift_), 6),
        "mean_predicted": round(float(p_active.mean()), 6),
        "share_bought": round(float(bought.mean()), 6),
    }
    out["model"]["trees"] = model.trees_
    out["model"]["level_factor"] = round(float(model.level_), 6)
    return out


def _deciles(frame: pl.DataFrame) -> pl.DataFrame:
    """Decile calibration of the model (1 = highest predicted) for dvc plots."""
    table = metrics.decile_table(frame["actual"].to_numpy(), frame["model"].to_numpy())
    return pl.DataFrame(table).with_columns(pl.col("customers").cast(pl.Int64))


def _gain(frame: pl.DataFrame, points: int = 100) -> pl.DataFrame:
    """Cumulative share of actual revenue captured by the top x% of customers, per approach."""
    y = metrics.same_amounts(frame["actual"].to_numpy())
    total = y.sum() or 1.0
    share = np.linspace(0, 1, points + 1)
    columns: dict[str, Any] = {"customer_share": share}
    for name in (*APPROACHES, "actual"):
        p = metrics.same_amounts(frame[name].to_numpy())
        order = np.argsort(-p, kind="stable")
        curve = np.r_[0.0, np.cumsum(y[order]) / total]
        columns[name if name != "actual" else "perfect"] = np.interp(
            share * y.size, np.arange(y.size + 1), curve
        )
    return pl.DataFrame(columns)


def _segments(frame: pl.DataFrame) -> pl.DataFrame:
    """RMSE, MAE, bias and normalized Gini of the model per customer_stage."""
    rows = []
    for stage, part in frame.group_by("customer_stage", maintain_order=True):
        y, p = part["actual"].to_numpy(), part["model"].to_numpy()
        m = metrics.regression_metrics(y, p)
        rows.append(
            {
                "customer_stage": stage[0],
                "customers": part.height,
                "actual_total": round(float(y.sum()), 2),
                "predicted_total": round(float(p.sum()), 2),
                "rmse": round(m["rmse"], 4),
                "mae": round(m["mae"], 4),
                "bias": round(m["bias"], 4) if np.isfinite(m["bias"]) else None,
                "normalized_gini": round(m["normalized_gini"], 4),
            }
        )
    return pl.DataFrame(rows).sort("customer_stage")


def metrics_report(rolling: RollingResult, as_of: dt.date) -> dict[str, Any]:
    """reports/metrics.json: the newest origin's backtest and metrics, each horizon, every origin."""
    result = rolling.newest
    return {
        "backtest": {
            "cutoff": result.cutoff.isoformat(),
            "actuals_until": as_of.isoformat(),
            "horizon_days": result.horizon_days,
            "lookback_months": result.lookback_months,
            "customers": result.predictions.height,
        },
        **result.metrics,
        # Each horizon at the newest origin that realises it (a horizon longer than H ends
        # after as_of at the newest one): the full metric set, with that origin's cutoff.
        "horizons": rolling.horizons,
        "horizons_not_realised": rolling.horizons_not_realised,
        # Every origin (reports/plots/origins.csv has the table): the newest is the one above.
        "origins": rolling.summary,
    }


def predicted_vs_actual(predictions: pl.DataFrame, bins: int = 50) -> pl.DataFrame:
    """Mean predicted vs mean actual in ``bins`` equal-count bins of the model's prediction.

    Sequential numpy sums over the sorted customers: the same bytes on every run.
    """
    ranked = predictions.sort(["model", "customer_id"])
    n = ranked.height
    starts = np.unique(np.arange(bins) * n // bins)
    sizes = np.diff(np.r_[starts, n])
    return pl.DataFrame(
        {
            "bin": np.arange(starts.size),
            "customers": sizes,
            "mean_predicted": np.add.reduceat(ranked["model"].to_numpy(), starts) / sizes,
            "mean_actual": np.add.reduceat(ranked["actual"].to_numpy(), starts) / sizes,
        }
    )


#: The evaluate stage's tables when the log is too short for a backtest: their columns, no rows.
NO_BACKTEST_TABLES: dict[str, dict[str, pl.DataType | type[pl.DataType]]] = {
    "deciles": {"decile": pl.Int64, "mean_predicted": pl.Float64, "mean_actual": pl.Float64},
    "gain": {"customer_share": pl.Float64},
    "predicted_vs_actual": {"mean_predicted": pl.Float64, "mean_actual": pl.Float64},
    "origins": {"cutoff": pl.Date, "bias_model": pl.Float64, "bias_btyd": pl.Float64},
    "segments": {"customer_stage": pl.String},
    "window_grid": {"lookback_months": pl.Int64},
    "predictions": {"customer_id": pl.String, "model": pl.Float64},
}
