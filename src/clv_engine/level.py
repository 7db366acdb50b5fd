"""The level of the forecast: what the scored base will spend in total over the horizon.

The customer model (:mod:`clv_engine.model`) decides *who* spends how much; the total is
a time-series question of its own (the year's season, growth, the base's decay), and the
trees cannot answer it: they learn the level of the calendar windows their training
horizons covered, another season's on most logs. This module answers it from the log's
own past, at monthly origins, and measures how wrong the answer has been.

At each monthly origin ``c`` (stepping back a month at a time from the latest cutoff whose
horizon ``end`` realises, :func:`timeline.cutoff_before`)
:func:`level_history` records, over the customers known at ``c``:

- ``btyd_total``: the BG/NBD + Gamma-Gamma forecast of their revenue in ``(c, c + H]``,
  fitted at ``c`` (stationary: no season, no trend);
- ``realized_total``: what they spent there (the label of :func:`timeline.labels`, per
  customer floored at 0 as the model's target);
- ``season_btyd_total``: the same forecast in operational time (:mod:`clv_engine.season`),
  when the log before ``c`` holds a full year and a significant season (null otherwise);
- ``btyd_buyers``, ``season_btyd_buyers``, ``realized_buyers``: the same for the number of
  customers with a purchase in the horizon (the sum of BG/NBD's P(a purchase)), which sets
  the mean of p_active (:meth:`clv_engine.model.CLVModel.anchor_level`).

:func:`forecast_level` turns that history into the total at a new cutoff ``T`` (only
origins realised by ``T`` are used). With a season: the operational-time total at ``T``,
times the realised / forecast ratio of the newest realised origins (the trend BG/NBD
cannot see) once that correction has beaten the uncorrected total at most of the earlier
origins of the log. Without one: the plain BG/NBD + GG total, and the note says why. The expected
number of buyers follows the same rule on its own columns (``quantity="buyers"``): at a
peak more customers buy, not only the same customers more.
:func:`level_errors` replays that rule at every past origin, so the spread of its errors
is known: it sets the range of the total (:func:`total_range`) and widens the
per-customer intervals (:mod:`clv_engine.model`).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from .baselines import BTYD_P_PURCHASE, add_btyd_columns
from .dataset import sample_customers
from .features import BTYD_FAMILIES, customer_table
from .params import FeatureParams, LifecycleParams
from .scalars import as_date, as_float
from .season import SeasonFit, fit_season
from .timeline import add_months, cutoff_before, horizon_days, labels

__all__ = [
    "LevelForecast",
    "LevelPlan",
    "forecast_level",
    "level_errors",
    "level_history",
    "plan_level",
    "prior_level_error",
    "range_note",
    "sampling_cv",
    "seasonless_error",
    "total_range",
]

#: Origins before this many months of log have too young a base to fit BG/NBD on.
MIN_HISTORY_MONTHS = 3
#: Below this many errors of its own, the seasonal rule's customer bands also carry the prior's
#: origins (:attr:`LevelPlan.band_errors`), as its range always does (:func:`total_range`).
MIN_SAME_METHOD_ERRORS = 3
#: The newest past errors a level's spread is read from: a year of monthly origins.
NEWEST_ERRORS = 12
#: Past origins at which the ratio correction must have been tried before it ships.
MIN_RATIO_TRIALS = 2
#: The newest trials of the ratio correction that decide whether it ships (a year of monthly origins).
RATIO_TRIAL_WINDOW = 12
#: Customers the level history is computed on (a seeded sample beyond): ratios, not totals.
HISTORY_MAX_CUSTOMERS = 20_000
#: Newest realised origins whose ratios set a seasonless level, or the trend of a seasonal one.
RECENT_ORIGINS = 3
#: What the range of the total assumes about the level's error before a log has shown its
#: own: a root mean square log error of 0.3 (the typical BG/NBD + GG total's across the
#: reference logs: 0.08 .. 0.79 per log and horizon, median 0.31; experiments/RESULTS.md),
#: weighted as this many past origins. Before, a log with no realised origin got a range of
#: customer noise alone (+-5% on CDNOW, which missed by 19%) and one with a lucky origin or
#: two a range as narrow as their spread: over every monthly origin of the reference logs
#: the realised total fell inside the 90% range at 82.5% of them, and at 37% of those with
#: fewer than three past errors; now at 95.0% and 84%, and the median width where six or
#: more errors are known narrowed (a log width of 1.18 -> 1.04).
PRIOR_LEVEL_ERROR = 0.3
PRIOR_LEVEL_ORIGINS = 2
#: The same prior where the log is under a year old at the cutoff (:attr:`SeasonFit.young`),
#: so that a season, if it has one, cannot be seen and the total is BG/NBD's stationary one.
#: There the BG/NBD + GG total missed far more: over the visible logs' origins under 12
#: months in, a root mean square log error of 0.45 (3-month horizon) and 0.53 (6 months),
#: against 0.19-0.22 at 12-18 months and 0.11-0.12 later (experiments/RESULTS.md).
YOUNG_LEVEL_ERROR = 0.5


def _young(season: SeasonFit | None) -> bool:
    """Whether ``season`` (fitted at the cutoff) says the log is under a year old there."""
    return season is not None and season.young


def prior_level_error(season: SeasonFit | None) -> float:
    """The level error assumed before a log has shown its own: :data:`YOUNG_LEVEL_ERROR`
    where the log is under a year old at the cutoff, else :data:`PRIOR_LEVEL_ERROR`."""
    return YOUNG_LEVEL_ERROR if _young(season) else PRIOR_LEVEL_ERROR


def level_history(
    orders: pl.DataFrame,
    end: dt.date,
    horizon_months: int,
    rules: LifecycleParams,
    min_history_months: int = MIN_HISTORY_MONTHS,
    max_customers: int = HISTORY_MAX_CUSTOMERS,
    seed: int = 0,
) -> pl.DataFrame:
    """One row per monthly origin realised by ``end`` (see the module docstring).

    Columns: cutoff, customers, btyd_total, season_btyd_total (null without a season),
    realized_total, btyd_buyers, season_btyd_buyers, realized_buyers, sorted by cutoff.
    ``orders`` may extend past ``end``: nothing after ``end`` is read. The history is read
    for its ratios (realised / forecast), so on a large log it is taken on a seeded sample
    of ``max_customers`` customers known at ``end`` (totals then describe the sample).
    """
    orders = orders.filter(pl.col("order_date") <= end)
    if orders.height == 0:
        return _empty_history()
    sample = sample_customers(orders, end, max_customers, seed)
    if sample is not None:
        orders = orders.filter(pl.col("customer_id").is_in(sample.implode()))
    first = as_date(orders["order_date"].min())
    earliest = add_months(first, min_history_months)
    origins = []
    for k in range(1000):
        origin = cutoff_before(add_months(end, -k), horizon_months)
        if origin < earliest:
            break
        origins.append(origin)
    rows, start = [], None
    for origin in reversed(origins):  # oldest first: each BG/NBD fit starts from the last
        row, start = _origin_row(orders, origin, horizon_months, rules, start)
        rows.append(row)
    return pl.DataFrame(rows, schema=_SCHEMA, orient="row") if rows else _empty_history()


_SCHEMA = {
    "cutoff": pl.Date,
    "customers": pl.Int64,
    "btyd_total": pl.Float64,
    "season_btyd_total": pl.Float64,
    "realized_total": pl.Float64,
    "btyd_buyers": pl.Float64,
    "season_btyd_buyers": pl.Float64,
    "realized_buyers": pl.Float64,
}

#: The history's columns per quantity a level is forecast for: (BG/NBD, in operational
#: time, realised).
QUANTITIES = {
    "revenue": ("btyd_total", "season_btyd_total", "realized_total"),
    "buyers": ("btyd_buyers", "season_btyd_buyers", "realized_buyers"),
}


def _empty_history() -> pl.DataFrame:
    return pl.DataFrame(schema=_SCHEMA)


def _total(revenue: pl.Series) -> float | None:
    """The sum of a BTYD forecast (nulls as 0); None when BG/NBD gave none for most customers
    (a degenerate fit: no dropout, a -> 0)."""
    revenue = revenue.fill_nan(None)
    if revenue.null_count() > revenue.len() / 2:
        return None
    return float(revenue.fill_null(0.0).clip(lower_bound=0.0).sum())


def _buyers(table: pl.DataFrame) -> float | None:
    """The expected number of buyers in the horizon (the sum of P(a purchase)), None as :func:`_total`."""
    return _total(table[BTYD_P_PURCHASE])


def _origin_row(
    orders: pl.DataFrame,
    cutoff: dt.date,
    horizon_months: int,
    rules: LifecycleParams,
    start: tuple[float, ...] | None,
) -> tuple[tuple[object, ...], tuple[float, ...] | None]:
    """The history row at ``cutoff``, and the BG/NBD parameters to start the next fit from."""
    days = horizon_days(cutoff, horizon_months)
    realized = labels(orders, cutoff, days, floor_at_zero=True)
    season = fit_season(orders, cutoff)
    table = customer_table(orders, cutoff, 1, horizon_months, FeatureParams(), rules, families=BTYD_FAMILIES)
    plain, fits = add_btyd_columns(table, days, beta_geo_start=start)
    seasonal = seasonal_buyers = None
    if season.seasonal:
        rescored, _ = add_btyd_columns(table, days, season, start, fits.gamma_gamma)
        seasonal = _total(rescored["btyd_expected_revenue"])
        seasonal_buyers = _buyers(rescored)
    bg = fits.beta_geo
    row = (
        cutoff,
        realized.height,
        _total(plain["btyd_expected_revenue"]) or 0.0,
        seasonal,
        float(realized["label_revenue"].sum()),
        _buyers(plain) or 0.0,
        seasonal_buyers,
        float(realized["label_bought"].sum()),
    )
    return row, (bg.r, bg.alpha, bg.a, bg.b) if bg else start


@dataclass(frozen=True)
class LevelForecast:
    """The total forecast at a cutoff: ``reference x ratio``, and how it was made."""

    cutoff: dt.date
    reference: float  # the BG/NBD + GG total, in operational time when seasonal
    ratio: float  # realised / reference at the newest realised origins (1: none)
    method: str  # seasonal | btyd
    note: str

    @property
    def total(self) -> float:
        return self.reference * self.ratio


def forecast_level(
    history: pl.DataFrame,
    cutoff: dt.date,
    horizon_months: int,
    btyd_total_at_cutoff: float,
    season_btyd_total_at_cutoff: float | None,
    season_note: str = "",
    quantity: str = "revenue",
) -> LevelForecast:
    """The total over the customers known at ``cutoff`` (see the module docstring).

    Uses only the rows of ``history`` realised by ``cutoff`` (``row.cutoff + H <= cutoff``).
    ``quantity``: a key of :data:`QUANTITIES`, the history's columns the ratio is read from
    (the two totals given are of that quantity).
    """
    if season_btyd_total_at_cutoff is None or season_btyd_total_at_cutoff <= 0:
        return LevelForecast(
            cutoff,
            btyd_total_at_cutoff,
            1.0,
            "btyd",
            f"the BG/NBD + Gamma-Gamma total ({season_note or 'no season'}; no season, no trend)",
        )
    columns = QUANTITIES[quantity]
    ratio, how = _recent_ratio(history, cutoff, horizon_months, columns)
    if ratio != 1.0 and not _ratio_earned(history, cutoff, horizon_months, columns):
        how = (
            f"not corrected: the realised / forecast ratio ({how}) has not beaten the uncorrected "
            "total at most of the earlier origins of this log"
        )
        ratio = 1.0
    return LevelForecast(
        cutoff,
        season_btyd_total_at_cutoff,
        ratio,
        "seasonal",
        f"the BG/NBD + Gamma-Gamma total in operational time ({season_note}), {how}",
    )


def _realised_by(history: pl.DataFrame, cutoff: dt.date, horizon_months: int) -> pl.DataFrame:
    """The origins whose horizon ended by ``cutoff`` (the only ones a forecast there may read)."""
    done = [add_months(c, horizon_months) <= cutoff for c in history["cutoff"]]
    return history.filter(pl.Series(done, dtype=pl.Boolean))


_Columns = tuple[str, str, str]


def _realised(
    history: pl.DataFrame, cutoff: dt.date, horizon_months: int, columns: _Columns = QUANTITIES["revenue"]
) -> pl.DataFrame:
    """Seasonal origins whose horizon ended by ``cutoff``, oldest first."""
    _, seasonal, realised = columns
    return (
        _realised_by(history, cutoff, horizon_months)
        .filter((pl.col(seasonal) > 0) & (pl.col(realised) > 0))
        .sort("cutoff")
    )


def _recent_ratio(
    history: pl.DataFrame, cutoff: dt.date, horizon_months: int, columns: _Columns = QUANTITIES["revenue"]
) -> tuple[float, str]:
    """The mean realised / seasonal forecast ratio of the newest realised origins, and how."""
    _, seasonal, realised = columns
    usable = _realised(history, cutoff, horizon_months, columns).tail(RECENT_ORIGINS)
    if usable.height == 0:
        return 1.0, "no earlier seasonal origin is realised yet to correct it"
    log_ratio = np.log(usable[realised].to_numpy() / usable[seasonal].to_numpy())
    # Rounded: last-bit differences between machines must not move the forecast.
    ratio = round(math.exp(float(np.mean(log_ratio))), 4)
    return ratio, (
        f"x {ratio:.4f}, the mean realised / forecast ratio of the {usable.height} newest realised "
        f"origins ({usable['cutoff'][0]} to {usable['cutoff'][-1]}): the trend BG/NBD cannot see"
    )


def _ratio_earned(
    history: pl.DataFrame, cutoff: dt.date, horizon_months: int, columns: _Columns = QUANTITIES["revenue"]
) -> bool:
    """Whether the ratio correction beat the uncorrected seasonal total at the past origins.

    At every realised seasonal origin that had a ratio of its own (from origins realised
    before it), both forecasts are scored on what was then spent; the correction ships only
    when it has at least MIN_RATIO_TRIALS such trials and was the closer of the two at most
    of the newest RATIO_TRIAL_WINDOW of them. A count, not a mean error: an early season
    fit on barely enough history can be off by a factor of five, and its ratio then misses
    by as much at the next origins; a mean squared error let those few trials veto a
    correction that won at nine of twelve (Superstore h6, once the BG/NBD fits carry a weak
    prior: 5.4% -> 17.2% mean |bias| over the newest 12 origins; experiments/RESULTS.md).
    Only the newest year decides, so that such origins stop counting once a year has passed.
    """
    _, seasonal, realised = columns
    wins = []
    for row in _realised(history, cutoff, horizon_months, columns).iter_rows(named=True):
        ratio, _ = _recent_ratio(history, row["cutoff"], horizon_months, columns)
        if ratio == 1.0:
            continue
        error = math.log(row[seasonal] / row[realised])
        wins.append(abs(error + math.log(ratio)) < abs(error))
    wins = wins[-RATIO_TRIAL_WINDOW:]
    return len(wins) >= MIN_RATIO_TRIALS and 2 * sum(wins) > len(wins)


def level_errors(history: pl.DataFrame, horizon_months: int, seasonal: bool = True) -> pl.DataFrame:
    """The rule of :func:`forecast_level` replayed at every origin of ``history``.

    ``seasonal=False`` replays the plain BG/NBD + GG total (``model.level = btyd``).

    Columns: cutoff, method, forecast, realized_total, log_error (log forecast / realised).
    """
    rows = []
    for row in history.sort("cutoff").iter_rows(named=True):
        if row["realized_total"] <= 0 or row["btyd_total"] <= 0:
            continue
        season_total = row["season_btyd_total"] if seasonal else None
        level = forecast_level(history, row["cutoff"], horizon_months, row["btyd_total"], season_total)
        rows.append(
            (
                row["cutoff"],
                level.method,
                level.total,
                row["realized_total"],
                math.log(level.total / row["realized_total"]),
            )
        )
    schema = {
        "cutoff": pl.Date,
        "method": pl.String,
        "forecast": pl.Float64,
        "realized_total": pl.Float64,
        "log_error": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def total_range(
    total: float, log_errors: np.ndarray, level: float, sampling_cv: float, prior: float = PRIOR_LEVEL_ERROR
) -> tuple[float, float]:
    """The range of the total at ``level``: the level's past errors plus sampling noise.

    ``log_errors`` are log(forecast / realised) at past origins. The level's error scale
    ``s`` is their root mean square (bias included) pooled with ``prior`` (s0,
    :func:`prior_level_error`) counted as k = PRIOR_LEVEL_ORIGINS origins:
    ``s^2 = (sum e^2 + k s0^2) / (n + k)``. The half-width
    on the log scale is ``z x sqrt(s^2 (1 + 1/(n + k)) + cv^2)``, a prediction interval for
    one more origin: with no or few errors of its own a log gets the typical level error,
    not a range of customer noise alone or as narrow as two lucky origins (a t quantile on
    n - 1 degrees of freedom with the pooling gave CDNOW x/÷ 6.7 and 4.9 at 1 and 2 origins).
    ``sampling_cv`` is the coefficient of variation of the total if the level were exact.
    The range is symmetric on the log scale, so it always contains ``total``.
    """
    errors = np.asarray(log_errors, dtype=float)
    k = PRIOR_LEVEL_ORIGINS
    s2 = (float(np.sum(errors**2)) + k * prior**2) / (errors.size + k)
    from scipy import stats  # imported on use (metrics._spearman_both says why)

    half = float(stats.norm.ppf((1 + level) / 2)) * math.sqrt(
        s2 * (1 + 1 / (errors.size + k)) + sampling_cv**2
    )
    return total * math.exp(-half), total * math.exp(half)


def range_note(
    n_errors: int, season: SeasonFit | None = None, new_season: bool = False, prior: float | None = None
) -> str:
    """Plain words for what the range of the total covers (``season``: the one fitted at the
    cutoff, which says whether the log is under a year old; ``new_season`` and ``prior``:
    :attr:`LevelPlan.new_season` and :attr:`LevelPlan.prior_error`)."""
    typical = (
        f"the typical error of a BG/NBD + Gamma-Gamma total, {prior_level_error(season):.0%} on the log scale"
    )
    if _young(season):
        typical += " on logs under a year old, whose season cannot be seen yet"
    capped = prior is not None and prior < prior_level_error(season)
    if capped:
        typical = (
            f"the error of this log's earlier totals made without a season, {prior:.0%} on the log scale, "
            f"less than {typical}"
        )
    new = ""
    if new_season:
        new = (
            " (the season was learned only lately, so its own errors are few; the earlier totals made "
            "without it missed by less than the typical error)"
            if capped
            else " (the season was learned only lately; the errors of the earlier totals made without it, "
            "which missed for want of it, are not counted)"
        )
    if n_errors == 0:
        made = "made with its season " if new_season else ""
        return (
            f"no earlier forecast date of this log {made}has a realised horizon, so how wrong its total "
            f"can be is not measured here: the range assumes {typical}, plus the noise of the customers' "
            f"choices{new}"
        )
    return (
        f"the errors of the same rule for the total at {n_errors} earlier forecast date(s) of this log "
        f"(pooled with {typical}, weighted as {PRIOR_LEVEL_ORIGINS} dates), plus "
        f"the noise of the customers' choices; fewer dates give a wider range{new}"
    )


@dataclass(frozen=True)
class LevelPlan:
    """Everything the level decides at one cutoff (:func:`plan_level`)."""

    target_total: float | None  # None: the trees keep their level
    method: str  # seasonal | btyd | trees
    note: str  # plain words: how the total was set
    season_note: str
    log_errors: np.ndarray  # the rule's errors at past origins of the same method
    origins: pl.DataFrame  # level_errors of those origins (for the report and metrics)
    season: SeasonFit | None = None  # the season fitted at the cutoff (not seasonal: none found)
    p_active_mean: float | None = None  # the mean P(a purchase) p_active is anchored to
    p_active_note: str = ""  # plain words: where that mean comes from
    #: :func:`seasonless_error` of the log's past origins, which caps :attr:`prior_error`
    #: under a new season (None: no such error, or ``model.level`` is not ``auto``).
    seasonless_error: float | None = None

    @property
    def prior_error(self) -> float:
        """The level error assumed besides :attr:`log_errors` (:func:`prior_level_error`), or
        under a new season :attr:`seasonless_error` where smaller: where this log's totals
        made without a season were already close (a mild season), learning one gives no
        reason to assume it further off."""
        prior = prior_level_error(self.season)
        if not self.new_season or self.seasonless_error is None:
            return prior
        return min(prior, self.seasonless_error)

    @property
    def young(self) -> bool:
        """The log is under a year old at the cutoff (:attr:`SeasonFit.young`)."""
        return _young(self.season)

    @property
    def new_season(self) -> bool:
        """The seasonal rule sets the total with fewer than :data:`MIN_SAME_METHOD_ERRORS`
        errors of its own (the season was only just learnable)."""
        return self.method == "seasonal" and self.log_errors.size < MIN_SAME_METHOD_ERRORS

    @property
    def band_errors(self) -> np.ndarray:
        """The level errors the customers' bands of the pinned horizon are built with: the
        past ones, and on a young log or under a new season (:attr:`new_season`) also the
        prior's :data:`PRIOR_LEVEL_ORIGINS` origins as +-s0 (their root mean square is s0, as
        :func:`total_range` pools them). A young log's bands also keep the out-of-sample
        level error (``CLVModel.anchor_level``): together they lifted the coverage of every
        young origin of the visible logs, where the total was missed by up to 64%
        (experiments/RESULTS.md)."""
        if not self.young and not self.new_season:
            return self.log_errors
        pads = np.resize([self.prior_error, -self.prior_error], PRIOR_LEVEL_ORIGINS)
        return np.concatenate([self.log_errors, pads])


def plan_level(
    orders: pl.DataFrame,
    rows: pl.DataFrame,
    horizon_months: int,
    mode: str,
    rules: LifecycleParams,
    history: pl.DataFrame | None = None,
    seed: int = 0,
    season: SeasonFit | None = None,
) -> LevelPlan:
    """The level at the cutoff of ``rows`` (the customer table with its BTYD columns).

    ``mode`` is ``model.level``: ``auto`` (the calendar level of :func:`forecast_level`),
    ``btyd`` (the plain BG/NBD + GG total, no season) or ``trees``. ``history`` may be
    :func:`level_history` computed once up to a later date (the rolling backtest): only
    origins realised by the cutoff are read. ``season``: :func:`fit_season` at the cutoff
    when the caller has it already (the scoring context).
    """
    cutoff = as_date(rows["cutoff"].max())
    orders = orders.filter(pl.col("order_date") <= cutoff)
    if history is None:
        history = level_history(orders, cutoff, horizon_months, rules, seed=seed)
    history = _realised_by(history, cutoff, horizon_months)
    plain = _total(rows["btyd_expected_revenue"])
    if season is None:
        season = fit_season(orders, cutoff)
    seasonal = rescored = None
    if season.seasonal:
        rescored, _ = add_btyd_columns(rows, horizon_days(cutoff, horizon_months), season)
        seasonal = _total(rescored["btyd_expected_revenue"])
    errors = level_errors(history, horizon_months, seasonal=mode != "btyd")
    if mode == "trees" or plain is None:
        why = "model.level = trees" if mode == "trees" else "no BG/NBD forecast to set the total"
        return LevelPlan(None, "trees", why, season.note, np.array([]), errors, season)
    p_mean, p_note = _p_active_mean(rows, rescored if mode == "auto" else None, history, horizon_months)
    seasonless = None
    if mode == "btyd":
        level = forecast_level(history, cutoff, horizon_months, plain, None, "model.level = btyd")
        same = errors.filter(pl.col("method") == "btyd")
    else:
        level = forecast_level(history, cutoff, horizon_months, plain, seasonal, season.note)
        # Only the rule in use's own errors: where the season was only just learnable they are
        # few, and the prior fills in (total_range, band_errors). The seasonless totals of the
        # log's first year missed for want of a season, by a factor of 2-6 at a peak; borrowed,
        # they made the range x/÷ 3-5 and the customers' bands cover 96-99% through the
        # season's first year. Where they were close, their spread caps the prior
        # (LevelPlan.prior_error; experiments/RESULTS.md, "A season just learned").
        same = errors.filter(pl.col("method") == level.method)
        seasonless = seasonless_error(errors)
    # The newest errors: the spread the forecast has shown lately.
    same = same.sort("cutoff").tail(NEWEST_ERRORS)
    return LevelPlan(
        level.total,
        level.method,
        level.note,
        season.note,
        same["log_error"].to_numpy(),
        same,
        season,
        p_mean,
        p_note,
        seasonless,
    )


def seasonless_error(errors: pl.DataFrame) -> float | None:
    """The root mean square log error of the newest :data:`NEWEST_ERRORS` totals made without
    a season among ``errors`` (:func:`level_errors`); None when there is none."""
    earlier = errors.filter(pl.col("method") != "seasonal").sort("cutoff").tail(NEWEST_ERRORS)
    if earlier.height == 0:
        return None
    return float(np.sqrt(np.mean(earlier["log_error"].to_numpy() ** 2)))


def _p_active_mean(
    rows: pl.DataFrame, rescored: pl.DataFrame | None, history: pl.DataFrame, horizon_months: int
) -> tuple[float | None, str]:
    """The mean P(a purchase) of ``rows`` over the horizon, and where it comes from.

    With a season (``rescored``: the rows in operational time), the expected buyers follow
    the level rule (:func:`forecast_level` with ``quantity="buyers"``): at a peak more of the
    base buys. Without one, BG/NBD's calendar-time mean. None: BG/NBD gave no P(a purchase).
    """
    chance = rows[BTYD_P_PURCHASE].fill_nan(None).drop_nulls()
    if chance.len() == 0:
        return None, "no BG/NBD P(a purchase)"
    calendar = as_float(chance.mean())
    if rescored is None or _buyers(rescored) is None or "season_btyd_buyers" not in history.columns:
        return calendar, "BG/NBD's mean P(a purchase)"
    seasonal = rescored[BTYD_P_PURCHASE].fill_nan(None).drop_nulls()
    cutoff = as_date(rows["cutoff"].max())
    buyers = forecast_level(
        history,
        cutoff,
        horizon_months,
        float(chance.sum()),
        float(seasonal.sum()),
        "operational time",
        quantity="buyers",
    )
    # A share, not a count: the rows with a P(a purchase) in operational time.
    mean = min(max(buyers.total / seasonal.len(), 1e-6), 1 - 1e-6)
    how = "" if buyers.ratio == 1.0 else f" x {buyers.ratio:.4f} (realised / expected buyers lately)"
    return mean, f"the expected share of buyers in operational time{how}"


def sampling_cv(predicted: np.ndarray, oos_predicted: np.ndarray, oos_actual: np.ndarray) -> float:
    """Coefficient of variation of the total of ``predicted`` were the level exact.

    Each customer's variance is their forecast times the dispersion (sum of squared
    errors / sum of forecasts) of the out-of-sample customers in the same decile of the
    forecast; customers are independent, so the variances add.
    """
    predicted = np.asarray(predicted, dtype=float)
    total = float(predicted.sum())
    oos_p = np.asarray(oos_predicted, dtype=float)
    if total <= 0 or oos_p.size == 0:
        return 0.0
    oos_y = np.asarray(oos_actual, dtype=float)
    oos_p = oos_p * (oos_y.sum() / max(oos_p.sum(), 1e-12))  # at the realised level
    edges = np.unique(np.quantile(oos_p, np.linspace(0, 1, 11)[1:-1]))
    oos_bin = np.searchsorted(edges, oos_p, side="right")
    dispersion = np.zeros(edges.size + 1)
    for b in range(edges.size + 1):
        part = oos_bin == b
        if part.any() and oos_p[part].sum() > 0:
            dispersion[b] = float(((oos_y[part] - oos_p[part]) ** 2).sum() / oos_p[part].sum())
    variance = float((dispersion[np.searchsorted(edges, predicted, side="right")] * predicted).sum())
    return math.sqrt(variance) / total
