"""Baseline forecasts every evaluation reports beside the model, and the BTYD features.

- ``btyd``: BG/NBD + Gamma-Gamma fitted at the cutoff on the customer table (time unit
  weeks, as in the papers), expected revenue = E[purchases in the horizon] x E[spend].
  Its columns also feed the CLV model as features (the hybrid).
- ``naive_spend_rate``: lifetime net revenue / (tenure_days + 1) x horizon days.
- ``last_period``: net revenue in the horizon-length period just before the cutoff.

All are functions of data on or before the cutoff only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any, cast

import numpy as np
import polars as pl

from .btyd import BetaGeoFit, GammaGammaFit, fit_beta_geo, fit_gamma_gamma
from .season import SeasonFit

__all__ = [
    "BTYD_COLUMNS",
    "BTYD_LABELS",
    "BTYD_P_PURCHASE",
    "BtydFits",
    "add_btyd_columns",
    "apply_btyd",
    "btyd_forecast",
    "fit_btyd",
    "last_period_revenue",
    "mean_order_value",
    "naive_spend_rate",
]

#: The BTYD outputs the model takes as features.
#: Each with a short, plain name for the explanations' charts.
BTYD_LABELS = {
    "btyd_p_alive": "textbook chance still a customer",
    "btyd_expected_purchases": "textbook expected purchases",
    "btyd_expected_spend": "textbook expected basket",
    "btyd_expected_revenue": "textbook forecast",
}
BTYD_COLUMNS = tuple(BTYD_LABELS)
#: BG/NBD's P(at least one purchase in the horizon): not a feature; the level of p_active
#: when the trees cannot set it (model.level, :meth:`clv_engine.model.CLVModel.anchor_level`).
BTYD_P_PURCHASE = "btyd_p_purchase"
_WEEK = 7.0


@dataclass(frozen=True)
class BtydFits:
    """The fits behind the btyd columns (None where the data could not support a fit)."""

    beta_geo: BetaGeoFit | None
    gamma_gamma: GammaGammaFit | None
    note: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "beta_geo": asdict(self.beta_geo) if self.beta_geo else None,
            "gamma_gamma": asdict(self.gamma_gamma) if self.gamma_gamma else None,
            "note": self.note,
        }


def btyd_clock(
    table: pl.DataFrame, horizon_days: int, season: SeasonFit | None
) -> tuple[np.ndarray, np.ndarray, float]:
    """(t_x, T, horizon) in weeks: calendar weeks, or operational weeks under ``season``.

    Operational time (:mod:`clv_engine.season`) measures each span by the season's demand
    in it, so BG/NBD's constant rate holds for a seasonal process.
    """
    t_x = table["recency_tx_days"].to_numpy() / _WEEK
    big_t = table["age_T_days"].to_numpy() / _WEEK
    if season is None or not season.seasonal or table.height == 0:
        return t_x, big_t, horizon_days / _WEEK
    cutoff = table["cutoff"][0]
    age = table["age_T_days"].to_numpy().astype(np.int64)
    origin = cutoff - dt.timedelta(days=int(age.max()))
    clock = season.clock(origin, cutoff + dt.timedelta(days=horizon_days))
    at_cutoff = (cutoff - origin).days
    first = at_cutoff - age
    last = first + table["recency_tx_days"].to_numpy().astype(np.int64)
    horizon = clock[at_cutoff + horizon_days] - clock[at_cutoff]
    return (
        (clock[last] - clock[first]) / _WEEK,
        (clock[at_cutoff] - clock[first]) / _WEEK,
        float(horizon) / _WEEK,
    )


#: Other BG/NBD starts (r, alpha, a, b) when the first fit's expectation is not finite.
_REFIT_STARTS = ((0.5, 5.0, 0.5, 5.0), (2.0, 20.0, 0.1, 1.0), (0.25, 4.0, 0.8, 2.5))


def _finite_refit(
    x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray, horizon: float, starts: list[tuple[float, ...]]
) -> tuple[BetaGeoFit, np.ndarray] | None:
    """(fit, purchases): the most likely fit from ``starts`` whose expectation is finite for
    most customers; None when none is."""
    best = None
    for start in starts:
        fit = fit_beta_geo(x, t_x, big_t, start)
        values = fit.expected_purchases(x, t_x, big_t, horizon)
        if np.isnan(values).mean() <= 0.5 and (best is None or fit.log_likelihood > best[0].log_likelihood):
            best = (fit, values)
    return best


def add_btyd_columns(
    table: pl.DataFrame,
    horizon_days: int,
    season: SeasonFit | None = None,
    beta_geo_start: tuple[float, ...] | None = None,
    gamma_gamma: GammaGammaFit | None = None,
) -> tuple[pl.DataFrame, BtydFits]:
    """Fit BG/NBD + Gamma-Gamma on a customer table; add :data:`BTYD_COLUMNS`, :data:`BTYD_P_PURCHASE`.

    :func:`fit_btyd` then :func:`apply_btyd` (module-level docs there).
    """
    fits = fit_btyd(table, horizon_days, season, beta_geo_start, gamma_gamma)
    return apply_btyd(table, horizon_days, fits, season), fits


def fit_btyd(
    table: pl.DataFrame,
    horizon_days: int,
    season: SeasonFit | None = None,
    beta_geo_start: tuple[float, ...] | None = None,
    gamma_gamma: GammaGammaFit | None = None,
) -> BtydFits:
    """BG/NBD + Gamma-Gamma fitted on a customer table (None where the data cannot support one).

    No repeat buyer: no BG/NBD; fewer than two repeat buyers with positive spend: no
    Gamma-Gamma; ``note`` says so. ``beta_geo_start`` starts the BG/NBD search (a fit at a
    neighbouring cutoff); ``gamma_gamma`` reuses a Gamma-Gamma fit on the same table (it
    does not depend on time).
    """
    x = table["frequency"].to_numpy().astype(np.float64)
    t_x, big_t, horizon = btyd_clock(table, horizon_days, season)
    notes = []
    bg: BetaGeoFit | None = None
    if (x > 0).any() and (big_t > 0).any():
        bg = fit_beta_geo(x, t_x, big_t, beta_geo_start or (1.0, 1.0, 1.0, 1.0))
        purchases = bg.expected_purchases(x, t_x, big_t, horizon)
        if np.isnan(purchases).mean() > 0.5:
            # Very regular buyers leave the likelihood flat towards r, alpha -> inf, a -> 0,
            # where the expectation cannot be evaluated (NaN): on Superstore at 2016-11-29
            # the default start ran to r = 9e4, alpha = 3e6 (log-likelihood -10810.29),
            # while other starts stop on the same ridge at r ~ 1e3 (-10810.33) with finite
            # expectations. Refit from other starts (for the operational clock, the
            # calendar-time optimum first: it only stretches time) and keep the most
            # likely fit whose expectation is finite for most customers.
            starts: list[tuple[float, ...]] = list(_REFIT_STARTS)
            if season is not None and season.seasonal:
                calendar_t_x, calendar_t, _ = btyd_clock(table, horizon_days, None)
                near = fit_beta_geo(x, calendar_t_x, calendar_t, (1.0, 1.0, 1.0, 1.0))
                starts.insert(0, (near.r, near.alpha, near.a, near.b))
            refit = _finite_refit(x, t_x, big_t, horizon, starts)
            bg = refit[0] if refit is not None else bg
    else:
        notes.append("BG/NBD not fitted: no customer has a repeat purchase")
    gg: GammaGammaFit | None = None
    try:
        gg = gamma_gamma or fit_gamma_gamma(x, table["mean_repeat_spend"].to_numpy())
        if gg.q <= 1:
            notes.append(
                "Gamma-Gamma q <= 1: the population mean spend is infinite; one-time buyers use their AOV"
            )
    except ValueError as exc:
        notes.append(f"Gamma-Gamma not fitted ({exc}); spend = the customer's average order value")
    return BtydFits(bg, gg, "; ".join(notes))


def btyd_forecast(frame: pl.DataFrame, column: str = "btyd_expected_revenue") -> np.ndarray:
    """A BTYD output of these rows (:data:`BTYD_COLUMNS`), 0 where BTYD gave none (null or
    NaN), never negative."""
    return cast(np.ndarray, np.clip(frame[column].fill_null(0.0).fill_nan(0.0).to_numpy(), 0.0, None))


def mean_order_value(table: pl.DataFrame) -> float:
    """The base's mean order value: the spend of a customer without one where Gamma-Gamma cannot say."""
    aov = table["avg_order_value"].to_numpy().astype(np.float64)
    return float(np.nanmean(aov)) if np.isfinite(aov).any() else 0.0


def apply_btyd(
    table: pl.DataFrame,
    horizon_days: int,
    fits: BtydFits,
    season: SeasonFit | None = None,
    base_order_value: float | None = None,
) -> pl.DataFrame:
    """``table`` with :data:`BTYD_COLUMNS` and :data:`BTYD_P_PURCHASE` from ``fits``.

    Each row from the customer's own history and the fits alone, so a few customers are
    scored as they are in the whole base. Without BG/NBD: p_alive 1, purchases and
    p_purchase null; without Gamma-Gamma: spend = the customer's average order value, else
    ``base_order_value`` (default: the table's :func:`mean_order_value`); Gamma-Gamma
    with q <= 1: one-time buyers use their average order value.
    """
    x = table["frequency"].to_numpy().astype(np.float64)
    t_x, big_t, horizon = btyd_clock(table, horizon_days, season)
    bg, gg = fits.beta_geo, fits.gamma_gamma
    if bg is not None:
        purchases = bg.expected_purchases(x, t_x, big_t, horizon)
        p_alive = bg.p_alive(x, t_x, big_t)
        p_purchase = bg.p_purchase(x, t_x, big_t, horizon)
    else:
        purchases = np.full(x.size, np.nan)
        p_alive = np.ones(x.size)
        p_purchase = np.full(x.size, np.nan)
    aov = table["avg_order_value"].to_numpy().astype(np.float64)
    fallback = mean_order_value(table) if base_order_value is None else base_order_value
    if gg is None:
        spend = np.nan_to_num(aov, nan=fallback)
    else:
        spend = gg.expected_spend(x, table["mean_repeat_spend"].to_numpy())
        if gg.q <= 1:
            spend = np.where(x > 0, spend, np.nan_to_num(aov, nan=fallback))
    revenue = purchases * spend
    return table.with_columns(
        pl.Series("btyd_p_alive", p_alive, dtype=pl.Float64),
        pl.Series("btyd_expected_purchases", purchases, dtype=pl.Float64),
        pl.Series("btyd_expected_spend", spend, dtype=pl.Float64),
        pl.Series("btyd_expected_revenue", revenue, dtype=pl.Float64),
        pl.Series(BTYD_P_PURCHASE, p_purchase, dtype=pl.Float64, nan_to_null=True),
    )


def naive_spend_rate(orders: pl.DataFrame, cutoff: dt.date, horizon_days: int) -> pl.DataFrame:
    """customer_id, prediction: lifetime net revenue per day of tenure x horizon days."""
    past = orders.filter(pl.col("order_date") <= cutoff)
    return (
        past.group_by("customer_id")
        .agg(
            pl.col("revenue").sum().alias("_revenue"),
            ((pl.lit(cutoff) - pl.col("order_date").min()).dt.total_days() + 1).alias("_days"),
        )
        .select(
            "customer_id",
            (pl.col("_revenue").clip(lower_bound=0) / pl.col("_days") * horizon_days).alias("prediction"),
        )
        .sort("customer_id")
    )


def last_period_revenue(orders: pl.DataFrame, cutoff: dt.date, horizon_days: int) -> pl.DataFrame:
    """customer_id, prediction: net revenue in (cutoff - horizon_days, cutoff], floored at 0."""
    past = orders.filter(pl.col("order_date") <= cutoff)
    start = cutoff - dt.timedelta(days=horizon_days)
    return (
        past.group_by("customer_id")
        .agg(
            pl.col("revenue")
            .filter(pl.col("order_date") > start)
            .sum()
            .clip(lower_bound=0)
            .alias("prediction")
        )
        .sort("customer_id")
    )
