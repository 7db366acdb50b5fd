"""The customer table at a cutoff: one row per customer known at ``c``, built only from
orders with ``order_date <= c``. The same function makes training rows (past cutoffs) and
scoring rows (``c = as_of``); see :mod:`clv_engine.timeline` for the time contract.

Which history each family sees (``L`` = lookback months, ``W = (c - L, c]``):

- the customer's lifetime up to ``c``: anchors (tenure_days, recency_days), RFM aggregates
  (orders, revenue, order values, returns), cadence (gaps between orders) and the BTYD
  statistics. These are what every CLV tool calls RFM, and they keep their meaning for a
  customer who has been quiet for longer than the lookback;
- the lookback window ``W`` only: lookback_revenue and lookback_orders, the rates built on
  them (spend_per_day, orders_per_month) and recent activity (revenue and orders in the
  last 30/90/180/365 days, clipped to ``W``; the 90-day trend). The window search chooses
  ``L``: how much recent history predicts best;
- the season family compares the horizon with the same calendar window one year earlier.

Every column is documented in :data:`FEATURES` (name, unit, definition), the one place
the README and the explanations point to. Missing values (no gap for a one-order customer) stay
null: the models handle them natively.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import polars as pl

from .lifecycle import behaviour_expr, censored_before, stage_expr, status_expr
from .orders import canonical
from .params import FeatureParams, LifecycleParams
from .scalars import as_optional_date
from .timeline import add_months, horizon_days

__all__ = ["FEATURES", "BaseContext", "Feature", "base_context", "customer_table", "feature_names"]

_DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class Feature:
    name: str
    unit: str
    definition: str
    kind: str = "numeric"  # numeric | categorical | flag | info (not a model input)


def _static_features() -> tuple[Feature, ...]:
    F = Feature
    return (
        F("first_order_date", "date", "date of the first order (purchase or return) up to c", "info"),
        F("last_purchase_date", "date", "date of the last purchase order up to c (null: none)", "info"),
        # anchors
        F("tenure_days", "days", "c - first_order_date; also the days since the first order"),
        F("recency_days", "days", "c - last_purchase_date (tenure_days when there is no purchase)"),
        F(
            "tenure_censored",
            "flag",
            "first order in the first weeks of a log that starts mid-life (lifecycle.log_start): "
            "tenure_days is only a lower bound",
            "flag",
        ),
        F("last_purchase_month_sin", "-", "sin(2 pi month/12) of the last purchase (seasonal position)"),
        F("last_purchase_month_cos", "-", "cos(2 pi month/12) of the last purchase"),
        # lifetime RFM
        F("n_orders", "orders", "purchase orders up to c"),
        F("revenue_sum", "currency", "net revenue up to c (purchases minus returns)"),
        F("log_revenue_sum", "log currency", "log(1 + max(revenue_sum, 0))"),
        F("avg_order_value", "currency", "gross purchase revenue / n_orders (null: no purchase)"),
        F("max_order_value", "currency", "largest purchase order up to c"),
        F("is_repeat_buyer", "flag", "n_orders >= 2", "flag"),
        F("active_last_30d", "flag", "a purchase order in (c - 30 days, c]", "flag"),
        F("returns_count", "orders", "return orders (net revenue < 0) up to c"),
        F("return_share", "ratio", "refunded amount / gross purchase revenue (0 when none)"),
        # cadence, lifetime
        F("gap_mean_days", "days", "mean days between consecutive purchase orders"),
        F("gap_median_days", "days", "median days between purchase orders"),
        F("gap_std_days", "days", "sample standard deviation of the gaps (needs 2 gaps)"),
        F("gap_min_days", "days", "shortest gap between purchase orders"),
        F("gap_max_days", "days", "longest gap between purchase orders"),
        F("gap_cv", "ratio", "gap_std_days / gap_mean_days, the coefficient of variation"),
        F("regularity_index", "0-1", "1 / (1 + gap_cv): 1 = perfectly regular, towards 0 = erratic"),
        # the lookback window W and rates on it: comparable across cutoffs whatever the age
        F("lookback_orders", "orders", "purchase orders in the lookback window W"),
        F("lookback_revenue", "currency", "net revenue in W"),
        F("observed_days", "days", "days of W the customer was known: min(tenure_days, len(W)) + 1"),
        F("spend_per_day", "currency/day", "lookback_revenue / observed_days"),
        F("orders_per_month", "orders/month", "lookback_orders / (observed_days / 30.44)"),
        F("recency_over_gap", "ratio", "recency_days / gap_mean_days: how overdue the next order is"),
        # recent activity
        F("trend_90d", "-1..1", "(r0 - r1) / (r0 + r1): purchases in the last 90 days (r0) vs the 90 before"),
        # BTYD statistics, textbook convention (Fader, Hardie & Lee 2005), full history
        F("frequency", "purchase days", "number of repeat purchase days (distinct purchase days - 1)"),
        F("recency_tx_days", "days", "t_x: days from the first to the last purchase day"),
        F("age_T_days", "days", "T: days from the first purchase day to c"),
        F("mean_repeat_spend", "currency", "mean revenue per repeat purchase day (null: no repeat)"),
        # season
        F("cutoff_month_sin", "-", "sin of the cutoff's position in the year"),
        F("cutoff_month_cos", "-", "cos of the cutoff's position in the year"),
        F("horizon_mid_sin", "-", "sin of the position in the year of the horizon's midpoint"),
        F("horizon_mid_cos", "-", "cos of the position in the year of the horizon's midpoint"),
        F(
            "season_share_customer",
            "ratio",
            "the customer's purchases in (c - 365d, c - 365d + horizon] / in (c - 365d, c] (null: "
            "none, or the log starts after c - 365d)",
        ),
        F(
            "season_share_base",
            "ratio",
            "the same share over all customers: how much of a year's demand the horizon window held "
            "(null when the log starts after c - 365d)",
        ),
        # lifecycle
        F(
            "customer_stage",
            "label",
            "New / Growing / Established / Loyal by tenure_days; Existing when tenure_censored and "
            "tenure_days has not passed the Established limit",
            "categorical",
        ),
        F(
            "status_segment",
            "label",
            "Active / Lagging / Dormant / Churn-risk by recency_days",
            "categorical",
        ),
        F(
            "behaviour",
            "label",
            "regular / irregular / long-cycle / one-time / new by cadence",
            "categorical",
        ),
    )


def _window_features(windows_days: tuple[int, ...]) -> tuple[Feature, ...]:
    out: list[Feature] = []
    for d in windows_days:
        out.append(Feature(f"revenue_last_{d}d", "currency", f"net revenue in (c - {d} days, c], inside W"))
        out.append(Feature(f"orders_last_{d}d", "orders", f"purchase orders in (c - {d} days, c], inside W"))
    return tuple(out)


def features_for(params: FeatureParams) -> tuple[Feature, ...]:
    """All columns of the customer table besides customer_id and cutoff."""
    static = _static_features()
    split = next(i for i, f in enumerate(static) if f.name == "trend_90d")
    return static[:split] + _window_features(params.activity_windows_days) + static[split:]


FEATURES: tuple[Feature, ...] = features_for(FeatureParams())


def feature_names(
    params: FeatureParams, kinds: tuple[str, ...] = ("numeric", "flag", "categorical")
) -> list[str]:
    """Model inputs (no info columns), in table order."""
    return [f.name for f in features_for(params) if f.kind in kinds]


@dataclass(frozen=True)
class BaseContext:
    """What a customer's row at a cutoff reads from the whole base (:func:`base_context`), so
    that the rows of a few customers can be rebuilt alone, as in the whole log
    (:class:`clv_engine.scoring.Forecaster`)."""

    log_start: dt.date | None  # the log's first order: does it cover the year before the cutoff?
    censored_before: dt.date | None  # lifecycle.log_start: first orders before it may not be first
    season_share_base: float | None  # the base's revenue share of the horizon window a year earlier


def _last_year(
    past: pl.LazyFrame, cutoff: dt.date, h_days: int, log_start: dt.date | None
) -> tuple[pl.LazyFrame, pl.Expr]:
    """(purchases in the year before ``cutoff``, the share of a year's revenue in the horizon's
    window a year earlier: an expression to aggregate)."""
    year_ago = cutoff - dt.timedelta(days=365)
    season_window = (pl.col("order_date") > year_ago) & (
        pl.col("order_date") <= year_ago + dt.timedelta(days=h_days)
    )
    last_year = past.filter(~pl.col("is_return") & (pl.col("order_date") > year_ago))
    # A year of free purchases (revenue 0) has no share: null, not 0 / 0 = NaN. Nor has a
    # year the log does not cover from its first day: the part before the log's first
    # order would count as "no purchase" and the share would describe the log's start.
    covered = log_start is not None and log_start <= year_ago + dt.timedelta(days=1)
    total = pl.col("revenue").sum()
    share = pl.when((total > 0) & pl.lit(covered)).then(pl.col("revenue").filter(season_window).sum() / total)
    return last_year, share


def base_context(
    orders: pl.DataFrame,
    cutoff: dt.date,
    horizon_months: int,
    rules: LifecycleParams,
    first_orders: pl.Series | None = None,
    past: pl.LazyFrame | None = None,
) -> BaseContext:
    """The base's side of the customer table at ``cutoff`` (``first_orders``: each customer's
    first order date up to the cutoff, and ``past``: the canonical orders up to it, when the
    caller has them already)."""
    if past is None:
        past = canonical(orders).filter(pl.col("order_date") <= cutoff)
    if first_orders is None:
        first_orders = past.group_by("customer_id").agg(pl.col("order_date").min()).collect()["order_date"]
    log_start = as_optional_date(orders["order_date"].min())
    last_year, share = _last_year(past, cutoff, horizon_days(cutoff, horizon_months), log_start)
    value = last_year.select(share.cast(pl.Float64)).collect().item()
    return BaseContext(log_start, censored_before(first_orders, cutoff, rules), value)


def customer_table(
    orders: pl.DataFrame,
    cutoff: dt.date,
    lookback_months: int,
    horizon_months: int,
    params: FeatureParams,
    rules: LifecycleParams,
    base: BaseContext | None = None,
) -> pl.DataFrame:
    """One row per customer with an order on or before ``cutoff`` (see the module docstring).

    ``orders``: customer_id, order_date, revenue, is_return (:func:`clv_engine.orders.build_orders`).
    Returns customer_id, cutoff and :func:`features_for` columns, sorted by customer_id.
    ``base``: the base's side (:func:`base_context`) when ``orders`` hold only some customers.
    """
    c = pl.lit(cutoff)
    window_start = add_months(cutoff, -lookback_months)  # exclusive
    window_days = (cutoff - window_start).days
    h_days = horizon_days(cutoff, horizon_months)

    past = canonical(orders).filter(pl.col("order_date") <= cutoff)
    age = (c - pl.col("order_date")).dt.total_days()
    purchase = ~pl.col("is_return")

    # Collected once: the censoring rule reads the first orders, the joins below the rest.
    anchors = (
        past.group_by("customer_id")
        .agg(
            pl.col("order_date").min().alias("first_order_date"),
            pl.col("order_date").filter(purchase).max().alias("last_purchase_date"),
        )
        .collect()
    )
    if base is None:
        base = base_context(orders, cutoff, horizon_months, rules, anchors["first_order_date"], past)
    # A log that starts mid-life: first orders before this date may not be first ever.
    censored = base.censored_before

    # BTYD: purchase days over the whole history.
    days = (
        past.filter(purchase)
        .group_by("customer_id", "order_date")
        .agg(pl.col("revenue").sum())
        .sort("customer_id", "order_date")
        .group_by("customer_id")
        .agg(
            (pl.len() - 1).cast(pl.Int64).alias("frequency"),
            (pl.col("order_date").max() - pl.col("order_date").min())
            .dt.total_days()
            .alias("recency_tx_days"),
            (c - pl.col("order_date").min()).dt.total_days().alias("age_T_days"),
            ((pl.col("revenue").sum() - pl.col("revenue").first()) / (pl.len() - 1)).alias(
                "mean_repeat_spend"
            ),
        )
        .with_columns(
            pl.when(pl.col("frequency") > 0).then(pl.col("mean_repeat_spend")).otherwise(None),
        )
    )

    window = past.filter(pl.col("order_date") > window_start)
    gaps = (
        past.filter(purchase)
        .with_columns(pl.col("order_date").diff().dt.total_days().over("customer_id").alias("gap"))
        .filter(pl.col("gap").is_not_null())
        .group_by("customer_id")
        .agg(
            pl.col("gap").mean().alias("gap_mean_days"),
            pl.col("gap").median().alias("gap_median_days"),
            pl.col("gap").std().alias("gap_std_days"),
            pl.col("gap").min().cast(pl.Float64).alias("gap_min_days"),
            pl.col("gap").max().cast(pl.Float64).alias("gap_max_days"),
        )
    )
    recent = [
        agg
        for d in params.activity_windows_days
        for agg in (
            pl.col("revenue").filter(age < d).sum().alias(f"revenue_last_{d}d"),
            (purchase & (age < d)).sum().cast(pl.Int64).alias(f"orders_last_{d}d"),
        )
    ]
    lifetime = past.group_by("customer_id").agg(
        purchase.sum().cast(pl.Int64).alias("n_orders"),
        pl.col("revenue").sum().alias("revenue_sum"),
        pl.col("revenue").filter(purchase).sum().alias("_gross"),
        pl.col("revenue").filter(~purchase).sum().abs().alias("_refunded"),
        pl.col("revenue").filter(purchase).max().alias("max_order_value"),
        (~purchase).sum().cast(pl.Int64).alias("returns_count"),
        (purchase & (age < 30)).any().alias("active_last_30d"),
    )
    aggregates = window.group_by("customer_id").agg(
        purchase.sum().cast(pl.Int64).alias("lookback_orders"),
        pl.col("revenue").sum().alias("lookback_revenue"),
        pl.col("revenue").filter(purchase & (age < 90)).sum().alias("_r0"),
        pl.col("revenue").filter(purchase & (age >= 90) & (age < 180)).sum().alias("_r1"),
        *recent,
    )

    # Season: the same calendar window one year earlier, per customer and for the base.
    last_year, share = _last_year(past, cutoff, h_days, base.log_start)
    season = last_year.group_by("customer_id").agg(share.alias("season_share_customer"))

    table = (
        anchors.lazy()
        .join(days, on="customer_id", how="left")
        .join(lifetime, on="customer_id", how="left")
        .join(aggregates, on="customer_id", how="left")
        .join(gaps, on="customer_id", how="left")
        .join(season, on="customer_id", how="left")
        .with_columns(pl.lit(base.season_share_base, dtype=pl.Float64).alias("season_share_base"))
    )
    zero_if_null = [
        "n_orders",
        "revenue_sum",
        "_gross",
        "_refunded",
        "returns_count",
        "lookback_orders",
        "lookback_revenue",
        "_r0",
        "_r1",
        "frequency",
        "recency_tx_days",
        *[f.name for f in _window_features(params.activity_windows_days)],
    ]
    table = table.with_columns(
        [pl.col(n).fill_null(0) for n in zero_if_null] + [pl.col("active_last_30d").fill_null(False)]
    ).with_columns(
        (c - pl.col("first_order_date")).dt.total_days().alias("tenure_days"),
        (pl.col("first_order_date") < censored if censored else pl.lit(False)).alias("tenure_censored"),
        (c - pl.coalesce("last_purchase_date", "first_order_date")).dt.total_days().alias("recency_days"),
        pl.col("age_T_days").fill_null((c - pl.col("first_order_date")).dt.total_days()),
    )
    month_angle = 2 * math.pi * (pl.col("last_purchase_date").dt.month() - 1) / 12
    cutoff_angle = 2 * math.pi * _year_fraction(cutoff)
    mid_angle = 2 * math.pi * _year_fraction(cutoff + dt.timedelta(days=h_days / 2))
    table = table.with_columns(
        month_angle.sin().alias("last_purchase_month_sin"),
        month_angle.cos().alias("last_purchase_month_cos"),
        pl.col("revenue_sum").clip(lower_bound=0).log1p().alias("log_revenue_sum"),
        (pl.when(pl.col("n_orders") > 0).then(pl.col("_gross") / pl.col("n_orders"))).alias(
            "avg_order_value"
        ),
        (pl.col("n_orders") >= 2).alias("is_repeat_buyer"),
        (pl.when(pl.col("_gross") > 0).then(pl.col("_refunded") / pl.col("_gross")).otherwise(0.0)).alias(
            "return_share"
        ),
        (pl.col("gap_std_days") / pl.col("gap_mean_days")).alias("gap_cv"),
        (pl.min_horizontal("tenure_days", pl.lit(window_days)) + 1).alias("observed_days"),
        (
            pl.when((pl.col("_r0") + pl.col("_r1")) > 0)
            .then((pl.col("_r0") - pl.col("_r1")) / (pl.col("_r0") + pl.col("_r1")))
            .otherwise(0.0)
        ).alias("trend_90d"),
        pl.lit(math.sin(cutoff_angle)).alias("cutoff_month_sin"),
        pl.lit(math.cos(cutoff_angle)).alias("cutoff_month_cos"),
        pl.lit(math.sin(mid_angle)).alias("horizon_mid_sin"),
        pl.lit(math.cos(mid_angle)).alias("horizon_mid_cos"),
    )
    table = table.with_columns(
        (1.0 / (1.0 + pl.col("gap_cv"))).alias("regularity_index"),
        (pl.col("lookback_revenue") / pl.col("observed_days")).alias("spend_per_day"),
        (pl.col("lookback_orders") / (pl.col("observed_days") / _DAYS_PER_MONTH)).alias("orders_per_month"),
        (pl.when(pl.col("gap_mean_days") > 0).then(pl.col("recency_days") / pl.col("gap_mean_days"))).alias(
            "recency_over_gap"
        ),
        stage_expr(rules, censored="tenure_censored").alias("customer_stage"),
        status_expr(rules).alias("status_segment"),
        behaviour_expr(rules).alias("behaviour"),
        pl.lit(cutoff).alias("cutoff"),
    )
    columns = ["customer_id", "cutoff", *[f.name for f in features_for(params)]]
    out = table.select(columns).sort("customer_id").collect()
    return _tidy_types(out)


def _year_fraction(day: dt.date) -> float:
    return (day.timetuple().tm_yday - 1) / 365.25


def _tidy_types(table: pl.DataFrame) -> pl.DataFrame:
    """Counts and day lengths as Int64, everything else numeric as Float64."""
    casts = []
    for name, dtype in table.schema.items():
        if dtype.is_integer():
            casts.append(pl.col(name).cast(pl.Int64))
        elif dtype.is_float():
            casts.append(pl.col(name).cast(pl.Float64))
    return table.with_columns(casts)
