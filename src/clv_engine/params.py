"""Typed, validated parameters: params.yaml is parsed here, once, into frozen dataclasses.

Every knob of the pipeline lives in params.yaml, one section per stage plus the top-level
``as_of`` and ``seed``. This module is the only place that knows the schema: a wrong key,
a wrong type or an impossible value stops with a :class:`ParamsError` that names the key
(``ingest.max_reject_share``), what was given and what is allowed.

Checks that need the data (``as_of`` inside the log, a horizon that fits the history) are
made by the stage that has the data, with the same exception type.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import yaml

from .errors import UserError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = [
    "ClusterParams",
    "ColumnMapping",
    "ExplainParams",
    "FeatureParams",
    "GovernanceParams",
    "IngestParams",
    "LabelParams",
    "LifecycleParams",
    "ModelParams",
    "MonitorParams",
    "Params",
    "ParamsError",
    "ReportParams",
    "ScoreParams",
    "SegmentParams",
    "TrainingParams",
    "ValueParams",
    "WindowParams",
    "load_params",
    "parse_params",
]


class ParamsError(UserError, ValueError):
    """A parameter is unknown, of the wrong type or outside what is allowed."""


def _limits(lo: float | None = None, hi: float | None = None) -> dict[str, Any]:
    return {"min": lo, "max": hi}


@dataclass(frozen=True)
class ColumnMapping:
    """Names of the input file's columns for each canonical field (``None`` = absent)."""

    customer_id: str = "customer_id"
    order_date: str = "order_date"
    # Line revenue; or null with unit_price set: revenue = quantity x unit_price.
    revenue: str | None = "revenue"
    order_id: str | None = None
    # Optional: a mapped quantity column the file does not have is left out (ingest.json
    # says so); an absent order_id stops the run with the fix.
    quantity: str | None = None
    unit_price: str | None = None
    # Optional: profit (margin) per line, may be negative; predicted_margin comes from it.
    margin: str | None = None

    def mapped(self) -> dict[str, str]:
        """Canonical name -> source column, for the fields that are mapped."""
        pairs = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return {k: v for k, v in pairs.items() if v is not None}


@dataclass(frozen=True)
class IngestParams:
    """How to read the transaction log (section ``ingest``)."""

    path: str = "data/raw/transactions.csv"
    # csv or parquet; auto = by file extension.
    format: Literal["auto", "csv", "parquet"] = "auto"
    columns: ColumnMapping = field(default_factory=ColumnMapping)
    # strftime format for order_date when it is not ISO 8601 (e.g. "%d/%m/%Y").
    date_format: str | None = None
    # IANA zone of the business. Timestamps with a UTC offset are converted to it before
    # the calendar date is taken; timestamps without an offset are taken as already local.
    timezone: str = "UTC"
    # CSV field separator; auto = sniffed from the header line among , ; tab |.
    delimiter: Literal["auto", ",", ";", "\t", "|"] = "auto"
    # utf8, or utf8-lossy to replace undecodable bytes instead of stopping.
    encoding: Literal["utf8", "utf8-lossy"] = "utf8"
    # Revenue written with a decimal comma ("12,50"), as in many European exports.
    decimal_comma: bool = False
    # Identical rows (every column of the file equal): keep all, or keep the first and
    # quarantine the others with reason duplicate_row.
    duplicates: Literal["quarantine", "keep"] = "quarantine"
    # The stage stops when more than this share of rows is quarantined for a defect. Rows
    # without a customer id (guest checkouts) are not defects: they are counted apart.
    max_reject_share: float = field(default=0.05, metadata=_limits(0.0, 1.0))
    # The stage stops when more than this share of rows has no customer id.
    max_guest_share: float = field(default=1.0, metadata=_limits(0.0, 1.0))

    def __post_init__(self) -> None:
        if not self.path.strip():
            raise ParamsError("ingest.path is empty: set it to the CSV or Parquet log to read")
        cols = self.columns
        if cols.revenue is None and (cols.unit_price is None or cols.quantity is None):
            raise ParamsError(
                "ingest.columns.revenue is null: map it to the line revenue column, or map "
                "ingest.columns.unit_price and ingest.columns.quantity (revenue = quantity x unit_price)"
            )
        if cols.revenue is not None and cols.unit_price is not None:
            raise ParamsError(
                "ingest.columns maps both revenue and unit_price: set revenue: null to compute "
                "revenue as quantity x unit_price, or unit_price: null to read revenue as it is"
            )
        names = list(self.columns.mapped().values())
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ParamsError(
                f"ingest.columns maps two fields to the same column {repeated}: "
                "each canonical field needs its own source column"
            )
        try:
            import zoneinfo

            zoneinfo.ZoneInfo(self.timezone)
        except Exception as exc:  # ZoneInfoNotFoundError, ValueError on odd strings
            raise ParamsError(
                f"ingest.timezone {self.timezone!r} is not an IANA time zone "
                "(examples: UTC, Europe/Paris, America/New_York)"
            ) from exc


def _increasing(section: str, names: tuple[str, ...], values: tuple[float, ...]) -> None:
    for i in range(len(names) - 1):
        (a, va), (b, vb) = (names[i], values[i]), (names[i + 1], values[i + 1])
        if not va < vb:
            raise ParamsError(f"{section}.{a} ({va}) must be smaller than {section}.{b} ({vb})")


@dataclass(frozen=True)
class LifecycleParams:
    """Lifecycle rules (section ``lifecycle``; docs/DESIGN.md "Lifecycle rules").

    customer_stage by tenure_days: New <= new_max, Growing <= growing_max,
    Established <= established_max, Loyal beyond. status_segment by recency_days: Active
    <= active_max, Lagging <= lagging_max, Dormant <= dormant_max, Churn-risk beyond.
    behaviour by the gaps between purchase orders: one-time (<= 1 order), new (fewer than
    min_orders_for_cadence orders), long-cycle (mean gap > long_cycle_mean_gap_days or CV >
    irregular_max_cv), regular (CV < regular_max_cv), irregular otherwise.
    """

    new_max_tenure_days: int = field(default=90, metadata=_limits(0))
    growing_max_tenure_days: int = field(default=180, metadata=_limits(0))
    established_max_tenure_days: int = field(default=365, metadata=_limits(0))
    active_max_recency_days: int = field(default=30, metadata=_limits(0))
    lagging_max_recency_days: int = field(default=90, metadata=_limits(0))
    dormant_max_recency_days: int = field(default=180, metadata=_limits(0))
    regular_max_cv: float = field(default=0.5, metadata=_limits(0.0))
    irregular_max_cv: float = field(default=1.0, metadata=_limits(0.0))
    long_cycle_mean_gap_days: float = field(default=90.0, metadata=_limits(0.0))
    min_orders_for_cadence: int = field(default=3, metadata=_limits(2))
    # Does the log hold every customer's first order? complete: yes (a business's whole
    # history, or a cohort such as CDNOW); censored: no, it is an extract that starts in
    # the middle of customers' lives; auto: censored when first sightings, counted in
    # windows of censoring_window_days from the log's start, start high and decay to a
    # steady level (clv_engine.lifecycle.censored_before).
    log_start: Literal["auto", "complete", "censored"] = "auto"
    censoring_window_days: int = field(default=28, metadata=_limits(7, 365))

    def __post_init__(self) -> None:
        names = ("new_max_tenure_days", "growing_max_tenure_days", "established_max_tenure_days")
        _increasing("lifecycle", names, tuple(getattr(self, n) for n in names))
        names = ("active_max_recency_days", "lagging_max_recency_days", "dormant_max_recency_days")
        _increasing("lifecycle", names, tuple(getattr(self, n) for n in names))
        _increasing(
            "lifecycle", ("regular_max_cv", "irregular_max_cv"), (self.regular_max_cv, self.irregular_max_cv)
        )


@dataclass(frozen=True)
class FeatureParams:
    """Feature construction (section ``features``)."""

    # Recent-activity windows in days (revenue_last_{d}d, orders_last_{d}d), inside the lookback.
    activity_windows_days: tuple[int, ...] = (30, 90, 180, 365)

    def __post_init__(self) -> None:
        if any(d < 1 for d in self.activity_windows_days):
            raise ParamsError("features.activity_windows_days must all be >= 1 day")
        if len(set(self.activity_windows_days)) != len(self.activity_windows_days):
            raise ParamsError("features.activity_windows_days has a repeated value")


@dataclass(frozen=True)
class LabelParams:
    """What a label is (section ``labels``)."""

    # Net revenue in the horizon below zero (a customer who mostly returned) becomes 0.
    floor_at_zero: bool = True


@dataclass(frozen=True)
class TrainingParams:
    """Stacked training cutoffs (section ``training``)."""

    # Cutoffs c_k = as_of - horizon - k * spacing_months, k = 0..n_cutoffs-1; those whose
    # lookback does not fit the history are left out. The newest is the validation split.
    n_cutoffs: int = field(default=4, metadata=_limits(1, 60))
    spacing_months: int = field(default=3, metadata=_limits(1, 24))
    # At most this many customers (a seeded sample of those known at the newest cutoff)
    # give training rows: the model's cost grows with rows x cutoffs.
    max_customers: int = field(default=35_000, metadata=_limits(100))


@dataclass(frozen=True)
class WindowParams:
    """Automatic (lookback, horizon) selection (section ``windows``).

    A list searches; a single value pins. A pair is eligible when its backtest population
    has at least ``min_customers`` customers or ``min_share`` of the customers at as_of.
    """

    lookback_months: int | tuple[int, ...] = (3, 6, 9, 12, 18)
    horizon_months: int | tuple[int, ...] = 6
    min_customers: int = field(default=100, metadata=_limits(1))
    min_share: float = field(default=0.05, metadata=_limits(0.0, 1.0))
    # The search trains a small model on at most this many customers per cutoff (seeded sample).
    search_max_customers: int = field(default=20_000, metadata=_limits(100))
    search_iterations: int = field(default=200, metadata=_limits(10, 5000))
    # The small model's depth and learning rate (its other settings: ModelParams' defaults).
    search_depth: int = field(default=4, metadata=_limits(1, 12))
    search_learning_rate: float = field(default=0.1, metadata=_limits(0.001, 1.0))
    # Share of customers held out (from every cutoff) to score a pair, when no pair has two
    # training cutoffs to score it out of time (src/clv_engine/windows.py).
    holdout_share: float = field(default=0.3, metadata=_limits(0.05, 0.9))

    def __post_init__(self) -> None:
        for name in ("lookback_months", "horizon_months"):
            values = self.grid(name)
            if any(v < 1 or v > 120 for v in values):
                raise ParamsError(
                    f"windows.{name} values must be whole months from 1 to 120, got {list(values)}"
                )
            if len(set(values)) != len(values):
                raise ParamsError(f"windows.{name} has a repeated value: {list(values)}")

    def grid(self, name: str) -> tuple[int, ...]:
        value = getattr(self, name)
        return (value,) if isinstance(value, int) else tuple(value)


@dataclass(frozen=True)
class ModelParams:
    """The CLV model (section ``model``); see :mod:`clv_engine.model` for the objectives."""

    objective: Literal["tweedie", "two_part", "log_rmse"] = "tweedie"
    tweedie_variance_power: float = field(default=1.5, metadata=_limits(1.01, 1.99))
    # Feed the BG/NBD + Gamma-Gamma outputs at each cutoff to the model as features, and/or
    # start the boosting from the BTYD forecast (baseline: btyd) so the trees learn
    # multiplicative corrections to it.
    use_btyd_features: bool = True
    baseline: Literal["btyd", "none"] = "btyd"
    # Who sets the forecast's total over the customers scored (src/clv_engine/level.py).
    # auto: BG/NBD + GG in operational time (the log's yearly season, when a full year is
    # there to learn it) times the realised / forecast ratio of the newest
    # realised origins; without a season, the plain BG/NBD + GG total. btyd: always the
    # plain total. trees: the trees' own level (experiments/RESULTS.md).
    level: Literal["auto", "trees", "btyd"] = "auto"
    # full: every run fits its trees from scratch. warm: a run continues the promoted
    # champion's trees on its own training rows (evaluation.warm_start says when it can;
    # experiments/RESULTS.md has the evidence for the default).
    update: Literal["full", "warm"] = "full"
    iterations: int = field(default=2000, metadata=_limits(10, 20000))
    learning_rate: float = field(default=0.03, metadata=_limits(0.001, 1.0))
    # The purchase classifiers (p_active, the first part of two_part) learn faster: at the
    # revenue model's rate they crept on for 1,000+ trees for the last 0.001 of log-loss.
    buy_learning_rate: float = field(default=0.1, metadata=_limits(0.001, 1.0))
    depth: int = field(default=6, metadata=_limits(1, 12))
    l2_leaf_reg: float = field(default=3.0, metadata=_limits(0.0))
    early_stopping_rounds: int = field(default=100, metadata=_limits(5))
    # Categorical features with at most this many values are one-hot encoded instead of
    # CatBoost's target statistics (CTRs): lifecycle labels have 4 to 5 values, and CTRs
    # doubled the time per tree.
    one_hot_max_size: int = field(default=16, metadata=_limits(1, 255))
    # CatBoost threads (the seed makes a run repeatable for a given thread count).
    thread_count: int = field(default=2, metadata=_limits(1, 64))
    # Grouped folds by customer when there is only one training cutoff.
    cv_folds: int = field(default=4, metadata=_limits(2, 20))
    # Time-based validation (train on the older cutoffs, validate on the newest) needs at
    # least this many older cutoffs; with fewer, folds grouped by customer over every cutoff.
    time_validation_min_cutoffs: int = field(default=1, metadata=_limits(1, 60))
    interval_level: float = field(default=0.9, metadata=_limits(0.5, 0.99))
    interval_bins: int = field(default=10, metadata=_limits(1, 100))


@dataclass(frozen=True)
class EvaluateParams:
    """The rolling-origin backtest (src/clv_engine/evaluation.py)."""

    # Monthly origins, the newest as_of - horizon; older ones reuse its lookback. Fewer are
    # run when the log is too short for them (said in metrics.json).
    origins: int = field(default=12, metadata=_limits(1, 36))
    # Older origins are trained and scored on a seeded sample of at most this many customers
    # known at the origin, with at most the newest origin's trees: they are there for bias,
    # coverage and the range of the total, which a sample measures.
    older_max_customers: int = field(default=25_000, metadata=_limits(100))
    # Older origins' learning rate for the revenue model (the purchase classifier keeps
    # model.buy_learning_rate); null replays model.learning_rate exactly.
    older_learning_rate: float | None = field(default=0.1, metadata=_limits(0.001, 1.0))
    # Older origins backtested at once, each in a worker process (1: one after the other in
    # the stage's own process). Every origin's result is the same either way.
    jobs: int = field(default=2, metadata=_limits(1, 64))


@dataclass(frozen=True)
class ScoreParams:
    """Ranking and value tiers (section ``score``)."""

    # Upper share of customers (by rank) of each tier: Top 1%, Top 5%, Top 10%, Top 25%,
    # Top 50%; everyone else is Bottom 50%.
    tier_shares: tuple[float, ...] = (0.01, 0.05, 0.10, 0.25, 0.50)
    # Horizons (months) of the clv_<h>m columns: the pinned horizon's forecast shaped by each
    # customer's BG/NBD curve (src/clv_engine/horizons.py).
    horizons_months: tuple[int, ...] = (1, 3, 6, 12)

    def __post_init__(self) -> None:
        shares = self.tier_shares
        if any(not 0 < s < 1 for s in shares) or list(shares) != sorted(set(shares)):
            raise ParamsError(f"score.tier_shares must rise strictly between 0 and 1, got {list(shares)}")
        months = list(self.horizons_months)
        if not months or any(not 1 <= m <= 60 for m in months) or months != sorted(set(months)):
            raise ParamsError(f"score.horizons_months must rise strictly from 1 to 60 months, got {months}")


@dataclass(frozen=True)
class ValueParams:
    """Discounted value (section ``value``)."""

    # Effective annual rate: clv_12m_discounted discounts each future month's spend to as_of.
    annual_discount_rate: float = field(default=0.10, metadata=_limits(0.0, 1.0))
    # Margin / revenue for predicted_margin when the log has no ingest.columns.margin
    # (null: no predicted_margin without a margin column).
    margin_rate: float | None = field(default=None, metadata=_limits(-1.0, 1.0))


@dataclass(frozen=True)
class ClusterParams:
    """Behavioural clusters and value tiers (section ``cluster``)."""

    # gmm: Gaussian mixture, K by BIC, soft memberships kept; kmeans: K by silhouette.
    method: Literal["gmm", "kmeans"] = "gmm"
    k_min: int = field(default=2, metadata=_limits(2, 30))
    k_max: int = field(default=8, metadata=_limits(2, 30))
    # A cluster smaller than this share of customers is degenerate: K is lowered until none is.
    min_cluster_share: float = field(default=0.02, metadata=_limits(0.0, 0.5))
    # Behavioural features (log1p, standardised) clustered with log1p(predicted_clv).
    features: tuple[str, ...] = (
        "recency_days",
        "tenure_days",
        "n_orders",
        "avg_order_value",
        "gap_mean_days",
        "return_share",
    )
    # Fit on a seeded sample of at most this many customers; every customer is assigned.
    max_fit_customers: int = field(default=20_000, metadata=_limits(100))
    # Value tiers: 1-D k-means on log1p(predicted_clv) with this many tiers.
    value_tiers: int = field(default=4, metadata=_limits(2, 12))

    def __post_init__(self) -> None:
        if self.k_min > self.k_max:
            raise ParamsError(f"cluster.k_min ({self.k_min}) must not exceed cluster.k_max ({self.k_max})")


@dataclass(frozen=True)
class SegmentParams:
    """Business segments (section ``segments``): what low and high average order value are."""

    # Quantiles of the scored base's average order value, unless an amount is given.
    low_aov_quantile: float = field(default=0.25, metadata=_limits(0.0, 1.0))
    high_aov_quantile: float = field(default=0.75, metadata=_limits(0.0, 1.0))
    low_aov: float | None = None
    high_aov: float | None = None
    # What segment_summary.csv ranks the segments by (rank 1 = the most): predicted revenue,
    # or predicted margin (needs ingest.columns.margin or value.margin_rate).
    rank_by: Literal["revenue", "margin"] = "revenue"

    def __post_init__(self) -> None:
        if self.low_aov_quantile >= self.high_aov_quantile:
            raise ParamsError("segments.low_aov_quantile must be below segments.high_aov_quantile")
        if self.low_aov is not None and self.high_aov is not None and self.low_aov >= self.high_aov:
            raise ParamsError("segments.low_aov must be below segments.high_aov")


@dataclass(frozen=True)
class MonitorParams:
    """Drift thresholds (section ``monitor``); see :mod:`clv_engine.monitoring`."""

    psi_alert: float = field(default=0.25, metadata=_limits(0.0))
    ks_alert: float = field(default=0.2, metadata=_limits(0.0, 1.0))
    mix_psi_alert: float = field(default=0.1, metadata=_limits(0.0))
    p_value: float = field(default=0.001, metadata=_limits(0.0, 1.0))
    accuracy_drop_alert: float = field(default=0.2, metadata=_limits(0.0, 1.0))
    # SHAP drift: rank correlation of feature importances below this, or the total mean
    # |SHAP| moving by more than this share.
    shap_rank_alert: float = field(default=0.7, metadata=_limits(-1.0, 1.0))
    shap_shift_alert: float = field(default=0.5, metadata=_limits(0.0))
    # A drifted feature alerts only when it moves the average forecast by at least this
    # much (its change in mean SHAP value, log scale: 0.05 is about 5%).
    min_forecast_effect: float = field(default=0.05, metadata=_limits(0.0))
    # Features that move with the calendar or the customer's age between any two cutoffs.
    ignore_features: tuple[str, ...] = (
        "tenure_days",
        "tenure_censored",
        "customer_stage",
        "age_T_days",
        "observed_days",
        "cutoff_month_sin",
        "cutoff_month_cos",
        "horizon_mid_sin",
        "horizon_mid_cos",
        "season_share_base",
    )


@dataclass(frozen=True)
class ExplainParams:
    """SHAP explanations (section ``explain``)."""

    # SHAP interaction values: a seeded sample of this many customers, on the first
    # interaction_max_trees trees of each boosted model. Their cost is a precomputation over
    # trees and pairs of features, nearly free of the sample size: 27 s for 423 trees and
    # 52 features with 100 or 300 customers, 9.6 s for 200 trees (CDNOW, this machine).
    interaction_sample: int = field(default=300, metadata=_limits(10, 100_000))
    interaction_max_trees: int = field(default=300, metadata=_limits(10, 100_000))
    top_interactions: int = field(default=10, metadata=_limits(1, 100))
    # Customers drawn (seeded) for the summary plot's dots.
    plot_sample: int = field(default=3000, metadata=_limits(100, 1_000_000))


@dataclass(frozen=True)
class ReportParams:
    """The HTML report (section ``report``)."""

    # Shown before every amount: a symbol ("$", "€") or a code ("EUR" is shown "EUR 1,234");
    # "" shows plain numbers. The log's revenue is in one currency; this only names it.
    currency: str = ""

    def __post_init__(self) -> None:
        if len(self.currency) > 5 or any(c.isspace() or c.isdigit() for c in self.currency):
            raise ParamsError(
                f"report.currency must be a symbol or code of at most 5 characters, without digits "
                f'or spaces (e.g. "$", "EUR"), got {self.currency!r}'
            )


@dataclass(frozen=True)
class GovernanceParams:
    """When reports/governance.json recommends promoting the challenger (section ``governance``).

    The challenger is better when, over the backtest origins after the champion's date, its
    mean normalized Gini is higher by ``min_gini_gain`` or its mean |bias of the total| lower
    by ``min_abs_bias_gain``, without losing as much on the other (:mod:`clv_engine.governance`).
    """

    min_gini_gain: float = field(default=0.01, metadata=_limits(0.0, 1.0))
    min_abs_bias_gain: float = field(default=0.02, metadata=_limits(0.0))


@dataclass(frozen=True)
class Params:
    """The whole of params.yaml."""

    # The moment the forecast is made (ISO date); None = the last order date in the log.
    as_of: dt.date | None = None
    # Seed for every random choice in the pipeline.
    seed: int = field(default=42, metadata=_limits(0))
    ingest: IngestParams = field(default_factory=IngestParams)
    lifecycle: LifecycleParams = field(default_factory=LifecycleParams)
    features: FeatureParams = field(default_factory=FeatureParams)
    labels: LabelParams = field(default_factory=LabelParams)
    training: TrainingParams = field(default_factory=TrainingParams)
    windows: WindowParams = field(default_factory=WindowParams)
    model: ModelParams = field(default_factory=ModelParams)
    evaluate: EvaluateParams = field(default_factory=EvaluateParams)
    score: ScoreParams = field(default_factory=ScoreParams)
    cluster: ClusterParams = field(default_factory=ClusterParams)
    segments: SegmentParams = field(default_factory=SegmentParams)
    monitor: MonitorParams = field(default_factory=MonitorParams)
    governance: GovernanceParams = field(default_factory=GovernanceParams)
    explain: ExplainParams = field(default_factory=ExplainParams)
    report: ReportParams = field(default_factory=ReportParams)
    value: ValueParams = field(default_factory=ValueParams)


# --------------------------------------------------------------------------- parsing


def load_params(path: str | Path = "params.yaml") -> Params:
    """Read and validate params.yaml; errors name the file and the key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ParamsError(f"{path}: file not found (run from the project root)") from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return parse_params(raw if raw is not None else {})
    except ParamsError as exc:
        raise ParamsError(f"{path}: {exc}") from exc


def parse_params(raw: Any) -> Params:
    """Validate a mapping (the parsed YAML) into :class:`Params`."""
    return _parse_dataclass(Params, raw, "")


_Section = TypeVar("_Section", bound="DataclassInstance")

#: Keys that were options once and left the product, with what to do instead.
RETIRED = {
    "model.ensemble": (
        "the stacked ensemble (w1 x CatBoost + w2 x BTYD) lost on every backtest and was removed "
        "(experiments/RESULTS.md); delete the key: the trees ship alone, their total set by model.level"
    ),
}


def _parse_dataclass(cls: type[_Section], raw: Any, where: str) -> _Section:
    label = where or "params.yaml"
    if not isinstance(raw, dict):
        raise ParamsError(f"{label} must be a mapping of keys, got {_show(raw)}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(map(str, raw)) - set(fields))
    for key in (_key(where, name) for name in unknown):
        if key in RETIRED:
            raise ParamsError(f"{key} is no longer an option: {RETIRED[key]}")
    if unknown:
        raise ParamsError(
            f"unknown key {_key(where, unknown[0])}; allowed keys in {label}: " + ", ".join(sorted(fields))
        )
    values = {}
    for name, f in fields.items():
        if name not in raw:
            continue
        key = _key(where, name)
        value = _parse_value(hints[name], raw[name], key)
        lo, hi = f.metadata.get("min"), f.metadata.get("max")
        if lo is not None and value is not None and value < lo:
            raise ParamsError(f"{key} must be >= {lo}, got {value!r}")
        if hi is not None and value is not None and value > hi:
            raise ParamsError(f"{key} must be <= {hi}, got {value!r}")
        values[name] = value
    try:
        return cls(**values)
    except ParamsError as exc:
        raise ParamsError(str(exc)) from None


def _parse_value(tp: Any, value: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        errors = []
        for option in options:
            try:
                return _parse_value(option, value, key)
            except ParamsError as exc:
                errors.append(str(exc))
                # A list given where a list is allowed: its own error is the useful one.
                if isinstance(value, list) and typing.get_origin(option) in (list, tuple):
                    raise
        if len(errors) == 1:
            raise ParamsError(errors[0])
        allowed = " or ".join(_describe(o) for o in options)
        raise ParamsError(f"{key} must be {allowed}, got {_show(value)}")
    if origin is Literal:
        if value not in args:
            allowed = ", ".join(repr(a) for a in args)
            raise ParamsError(f"{key} must be one of {allowed}, got {_show(value)}")
        return value
    if origin in (list, tuple):
        if not isinstance(value, list):
            raise ParamsError(f"{key} must be a list, got {_show(value)}")
        if not value:
            raise ParamsError(f"{key} is an empty list: give at least one value")
        inner = args[0]
        return tuple(_parse_value(inner, v, f"{key}[{i}]") for i, v in enumerate(value))
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _parse_dataclass(tp, value, key)
    if tp is bool:
        if not isinstance(value, bool):
            raise ParamsError(f"{key} must be true or false, got {_show(value)}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParamsError(f"{key} must be a whole number, got {_show(value)}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ParamsError(f"{key} must be a number, got {_show(value)}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ParamsError(f"{key} must be text, got {_show(value)}")
        return value
    if tp is dt.date:
        if isinstance(value, dt.date):
            raise ParamsError(
                f'{key} must be a quoted ISO date ("1997-12-31"): DVC rejects unquoted YAML dates'
            )
        if not isinstance(value, str):
            raise ParamsError(f'{key} must be a quoted ISO date like "1997-12-31"')
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ParamsError(f'{key} must be an ISO date like "1997-12-31", got {value!r}') from None
    raise TypeError(f"unsupported parameter type {tp!r} for {key}")  # schema bug


def _describe(tp: Any) -> str:
    if typing.get_origin(tp) in (list, tuple):
        return "a list"
    if typing.get_origin(tp) is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    return {int: "a whole number", float: "a number", str: "text", bool: "true/false"}.get(
        tp, getattr(tp, "__name__", str(tp))
    )


def _key(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _show(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"
