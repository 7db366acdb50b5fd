"""The backtest: the production path replayed at ``as_of - horizon`` and scored on what happened.

:func:`backtest` takes the log up to ``as_of``, sets the backtest cutoff
``c = as_of - H`` (H = the production horizon), and on the orders up to ``c`` only:
chooses the lookback (:func:`clv_engine.windows.select_windows`, horizon pinned to H),
builds the stacked training rows, fits the CLV model (:func:`fit_clv`), and scores every
customer known at ``c``. The actual is each customer's net revenue in ``(c, as_of]``.
The model and every baseline get every metric of :mod:`clv_engine.metrics`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from . import metrics
from .baselines import BTYD_COLUMNS, BTYD_P_PURCHASE, last_period_revenue, naive_spend_rate
from .dataset import customer_rows, training_set
from .features import feature_names
from .model import CLVModel
from .params import Params
from .timeline import DataRangeError, cutoff_before, horizon_days, labels
from .windows import select_windows

__all__ = ["APPROACHES", "BacktestResult", "backtest", "fit_clv", "model_features"]

#: Stable keys of the approaches in reports/metrics.json.
APPROACHES = ("model", "btyd", "naive_spend_rate", "last_period")


def model_features(params: Params) -> tuple[list[str], list[str]]:
    """(all model inputs, the categorical ones)."""
    names = feature_names(params.features)
    if params.model.use_btyd_features:
        names += list(BTYD_COLUMNS)
    return names, feature_names(params.features, kinds=("categorical",))


def fit_clv(dataset: pl.DataFrame, params: Params, progress: Callable[[str], None] | None = None) -> CLVModel:
    """The CLV model on stacked training rows (see :mod:`clv_engine.model`)."""
    names, categorical = model_features(params)
    return CLVModel(names, categorical, params.model, params.seed).fit(dataset, progress)


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


def backtest(
    orders: pl.DataFrame,
    as_of: dt.date,
    params: Params,
    horizon_months: int,
    progress: Callable[[str], None] = lambda _msg: None,
) -> BacktestResult:
    """Replay the production path at ``as_of - horizon_months`` (see the module docstring)."""
    cutoff = cutoff_before(as_of, horizon_months)
    history = orders.filter(pl.col("order_date") <= cutoff)
    if history.height == 0:
        raise DataRangeError(
            f"the backtest cutoff {cutoff} (as_of - {horizon_months} months) is before the first order: "
            "the log is too short to backtest this horizon"
        )
    pinned = dataclasses.replace(
        params, windows=dataclasses.replace(params.windows, horizon_months=horizon_months)
    )
    progress(f"backtest cutoff {cutoff}: choosing the lookback on data up to {cutoff}")
    choice, grid = select_windows(history, cutoff, pinned, progress)
    lookback = choice.lookback_months
    train = training_set(history, cutoff, lookback, horizon_months, params)
    progress(
        f"backtest: lookback {lookback} m, training cutoffs {', '.join(map(str, sorted(train.plan.cutoffs)))}"
    )
    model = fit_clv(train.rows, params, progress)
    rows, _ = customer_rows(history, cutoff, lookback, horizon_months, params.features, params.lifecycle)
    model.anchor_level(rows, horizon_months)
    progress(f"backtest: level of the forecast: {model.level_note_}")
    days = horizon_days(cutoff, horizon_months)
    predicted = model.predict(rows)
    lower, upper = model.predict_interval(predicted)
    actual = labels(orders.filter(pl.col("order_date") <= as_of), cutoff, days, params.labels.floor_at_zero)
    frame = (
        rows.select("customer_id", "customer_stage", "btyd_expected_revenue", BTYD_P_PURCHASE)
        .with_columns(
            model=predicted,
            lower=lower,
            upper=upper,
            p_active=model.predict_p_active(rows),
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
    return BacktestResult(
        cutoff=cutoff,
        horizon_days=days,
        lookback_months=lookback,
        horizon_months=horizon_months,
        predictions=frame,
        metrics=_metrics(frame, model, params),
        deciles=_deciles(frame),
        gain=_gain(frame),
        segments=_segments(frame),
        window_grid=grid,
        model=model,
    )


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
    y = frame["actual"].to_numpy()
    total = y.sum() or 1.0
    share = np.linspace(0, 1, points + 1)
    columns: dict[str, Any] = {"customer_share": share}
    for name in (*APPROACHES, "actual"):
        p = frame[name].to_numpy()
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
