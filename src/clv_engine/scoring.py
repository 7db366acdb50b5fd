"""Scoring customers at ``as_of``: the rows, the forecast columns, and the same without the pipeline.

The pipeline's features stage builds every customer's row at ``as_of`` with
:func:`build_scoring`: the customer table, BG/NBD + Gamma-Gamma fitted on it, the season of
the log, each horizon's curve. What those rows read from the whole base (the log's start,
its censoring date and season share, the fits, the base's mean order value) is kept in a
:class:`ScoringContext`, which the train stage saves in the model bundle. The score stage
turns rows into forecasts with :func:`score_frame`.

:class:`Forecaster` is the same two steps outside the pipeline: ``Forecaster.load(bundle)``
then ``.predict(transactions, as_of=...)`` on a raw log of one or many customers (pandas
or polars, the bundle's column mapping): each row is rebuilt from the customer's own orders
and the saved context (:func:`scoring_rows`), so the numbers are the batch pipeline's for
the same data. At a later ``as_of`` the context stays the bundle's (the fits and the
season of the log it was trained on), as a promoted model would score new data.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import polars as pl

from .baselines import BtydFits, apply_btyd, fit_btyd, mean_order_value
from .errors import UserError
from .features import BaseContext, base_context, customer_table
from .horizons import curve_months, discounted_value, horizon_p_active, horizon_values, purchase_curve
from .ingest import read_log, validate_log
from .io import write_csv
from .margin import predicted_margin
from .orders import build_orders
from .outputs import band_columns, clv_column, round_for_people
from .params import FeatureParams, IngestParams, LifecycleParams, Params
from .ranking import rank_customers
from .season import SeasonFit, fit_season
from .timeline import horizon_days

__all__ = [
    "BundleError",
    "Forecaster",
    "ScoringContext",
    "build_scoring",
    "score_base",
    "score_frame",
    "scoring_rows",
]


class BundleError(UserError, ValueError):
    """A model bundle the Forecaster cannot use (the message says how to make one)."""


@dataclass(frozen=True)
class ScoringContext:
    """Everything a customer's scoring row at ``as_of`` needs besides their own orders."""

    as_of: dt.date
    lookback_months: int
    horizon_months: int
    horizons_months: tuple[int, ...]
    annual_discount_rate: float
    ingest: IngestParams
    features: FeatureParams
    rules: LifecycleParams
    base: BaseContext
    fits: BtydFits
    season: SeasonFit
    base_order_value: float


def build_scoring(
    orders: pl.DataFrame, as_of: dt.date, lookback_months: int, horizon_months: int, params: Params
) -> tuple[pl.DataFrame, ScoringContext]:
    """Every customer's scoring row at ``as_of`` and the context they were built with."""
    base = base_context(orders, as_of, horizon_months, params.lifecycle)
    table = customer_table(
        orders, as_of, lookback_months, horizon_months, params.features, params.lifecycle, base
    )
    context = ScoringContext(
        as_of=as_of,
        lookback_months=lookback_months,
        horizon_months=horizon_months,
        horizons_months=tuple(params.score.horizons_months),
        annual_discount_rate=params.value.annual_discount_rate,
        ingest=params.ingest,
        features=params.features,
        rules=params.lifecycle,
        base=base,
        fits=fit_btyd(table, horizon_days(as_of, horizon_months)),
        season=fit_season(orders, as_of),
        base_order_value=mean_order_value(table),
    )
    return _complete(table, context, as_of), context


def scoring_rows(orders: pl.DataFrame, context: ScoringContext, as_of: dt.date | None = None) -> pl.DataFrame:
    """The scoring rows of the customers in ``orders`` (a few or all), built with ``context``."""
    as_of = as_of or context.as_of
    table = customer_table(
        orders,
        as_of,
        context.lookback_months,
        context.horizon_months,
        context.features,
        context.rules,
        context.base,
    )
    return _complete(table, context, as_of)


def _complete(table: pl.DataFrame, context: ScoringContext, as_of: dt.date) -> pl.DataFrame:
    """The customer table with its BTYD columns and each horizon's curve (:mod:`clv_engine.horizons`)."""
    pinned = context.horizon_months
    rows = apply_btyd(table, horizon_days(as_of, pinned), context.fits, None, context.base_order_value)
    months = curve_months(context.horizons_months, pinned)
    buy = sorted({*context.horizons_months, pinned})  # p_active over each horizon
    return purchase_curve(rows, context.fits.beta_geo, as_of, months, context.season, buy_months=buy)


def score_frame(
    model: Any,
    rows: pl.DataFrame,
    as_of: dt.date,
    horizon: int,
    months: Sequence[int],
    annual_discount_rate: float,
) -> pl.DataFrame:
    """customer_id, predicted_clv, clv_lower, clv_upper, p_active, source, then clv_<h>m for
    each of ``months``, clv_12m_discounted, and each horizon's band and p_active
    (clv_lower_<h>m, clv_upper_<h>m, p_active_<h>m); ``horizon``: the pinned one; ``model``:
    a :class:`clv_engine.model.CLVModel` or the fallback
    :class:`clv_engine.fallback.BaselineForecaster`."""
    if rows.height == 0:  # nobody known at as_of: the columns, no rows
        names = ["predicted_clv", "clv_lower", "clv_upper", "p_active"]
        names += [*map(clv_column, months), "clv_12m_discounted"]
        names += [c for m in months for c in band_columns(m)]
        schema = {"customer_id": pl.String, **dict.fromkeys(names[:4], pl.Float64), "source": pl.String}
        return pl.DataFrame(schema=schema | dict.fromkeys(names[4:], pl.Float64))
    predicted = model.predict(rows)
    p_active = model.predict_p_active(rows)
    lower, upper = model.predict_interval(predicted, rows, p_active)
    values = horizon_values(predicted, rows, as_of, months, horizon)
    chances = horizon_p_active(p_active, rows, as_of, months, horizon)
    bands = []
    for m in months:
        low_m, high_m = (
            (lower, upper) if m == horizon else model.predict_horizon_interval(m, values[m], rows, chances[m])
        )
        bands += [
            pl.Series(name, v, dtype=pl.Float64)
            for name, v in zip(band_columns(m), (low_m, high_m, chances[m]), strict=True)
        ]
    discounted = discounted_value(predicted, rows, as_of, horizon, annual_discount_rate)
    return (
        rows.select("customer_id")
        .with_columns(
            predicted_clv=predicted,
            clv_lower=lower,
            clv_upper=upper,
            p_active=p_active,
            source=model.source(rows),
        )
        .with_columns(
            *[pl.Series(clv_column(m), v) for m, v in values.items()], clv_12m_discounted=discounted
        )
        .with_columns(bands)
    )


def score_base(
    bundle: dict[str, Any], rows: pl.DataFrame, orders: pl.DataFrame, as_of: dt.date, params: Params
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The score stage: every customer of ``rows`` scored with the bundle's model, ranked, with
    their row's columns and predicted margin where one is known; and reports/forecast.json,
    the total over the pinned horizon with its range."""
    model = bundle["model"]
    horizon = bundle["horizon_months"]
    scores = score_frame(
        model, rows, as_of, horizon, params.score.horizons_months, params.value.annual_discount_rate
    )
    predicted = scores["predicted_clv"].to_numpy()
    margin = predicted_margin(predicted, orders, as_of, rows["customer_id"], params.value.margin_rate)
    if margin is not None:
        scores = scores.with_columns(predicted_margin=margin)
    ranked = rank_customers(scores, params.score.tier_shares)
    total = float(predicted.sum())
    low, high = model.total_band_
    forecast = {
        "as_of": as_of.isoformat(),
        "horizon_days": horizon_days(as_of, horizon),
        "horizon_months": horizon,
        "customers": rows.height,
        "total": round(total, 2),
        "total_lower": round(total * low, 2),
        "total_upper": round(total * high, 2),
        "interval_level": model.params.interval_level,
        # How many earlier forecast dates the range rests on (0: the typical level error assumed);
        # what it covers, in words, is in model_metadata.json (level.total_band_covers).
        "range_origins": model.total_band_origins_,
    }
    return ranked.join(rows, on="customer_id", how="left", maintain_order="left"), forecast


class Forecaster:
    """Score raw transactions with a saved model bundle, outside the pipeline (module docstring).

    ``Forecaster.load("data/model/model_bundle.joblib").predict(frame, as_of="1998-06-30")``
    """

    def __init__(self, bundle: dict[str, Any]) -> None:
        if not isinstance(bundle, dict) or "scoring" not in bundle:
            raise BundleError(
                "this model bundle has no scoring context (made before the Forecaster existed): "
                "rerun dvc repro to make a new one"
            )
        self.bundle = bundle
        self.model = bundle["model"]
        self.context: ScoringContext = bundle["scoring"]
        #: What the last :meth:`predict` read: rows, quarantined rows by reason, customers.
        self.last_report: dict[str, Any] = {}

    @classmethod
    def load(cls, path: str | Path) -> Forecaster:
        """The bundle the train stage wrote (data/model/model_bundle.joblib)."""
        return cls(joblib.load(path))

    @property
    def as_of(self) -> dt.date:
        """The bundle's forecast date (the default of :meth:`predict`)."""
        return self.context.as_of

    def predict(self, transactions: Any, as_of: dt.date | str | None = None) -> Any:
        """Per customer with an order on or before ``as_of``: :func:`score_frame`'s columns.

        ``transactions``: a polars or pandas frame with the bundle's source columns
        (``ingest.columns``), one or many customers; rows the ingest rules reject are
        counted in :attr:`last_report` (as in reports/ingest.json). Returns the same kind of
        frame as given, sorted by customer_id.
        """
        pandas_in = not isinstance(transactions, pl.DataFrame)
        raw = pl.from_pandas(transactions) if pandas_in else transactions
        orders = self.orders(raw, "<frame>")  # rows numbered by validate_log
        scores = self.predict_orders(orders, as_of)
        self.last_report["customers"] = scores.height
        return scores.to_pandas() if pandas_in else scores

    def orders(self, raw: pl.DataFrame, source: str) -> pl.DataFrame:
        """Orders from a raw log under the bundle's ingest rules (see :func:`validate_log`)."""
        ingested = validate_log(raw, self.context.ingest, source)
        self.last_report = {
            "rows_read": raw.height,
            "rows_quarantined": ingested.report["rows_quarantined"],
            "quarantine_reasons": ingested.report["quarantine_reasons"],
        }
        return build_orders(ingested.transactions)

    def predict_orders(self, orders: pl.DataFrame, as_of: dt.date | str | None = None) -> pl.DataFrame:
        """:meth:`predict` on orders (:func:`clv_engine.orders.build_orders`), sorted by customer_id."""
        as_of = dt.date.fromisoformat(as_of) if isinstance(as_of, str) else (as_of or self.as_of)
        c = self.context
        rows = scoring_rows(orders, c, as_of)
        return score_frame(
            self.model, rows, as_of, c.horizon_months, c.horizons_months, c.annual_discount_rate
        ).sort("customer_id")


#: Customers scored per step of clv-score (each step says how far it is).
CHUNK_CUSTOMERS = 200_000


def main(argv: Sequence[str] | None = None) -> int:
    """Console command ``clv-score``: score a log with an existing model bundle."""
    parser = argparse.ArgumentParser(
        prog="clv-score", description="Score a transaction log with a saved CLV model bundle."
    )
    parser.add_argument(
        "--bundle", required=True, help="a model bundle (dvc repro: data/model/model_bundle.joblib)"
    )
    parser.add_argument("--log", required=True, help="a CSV or Parquet log with the bundle's columns")
    parser.add_argument("--as-of", default=None, help="forecast date (YYYY-MM-DD); default the bundle's")
    parser.add_argument(
        "--out", required=True, help="the scores (CSV safe to open in a spreadsheet; amounts in cents)"
    )
    args = parser.parse_args(argv)

    def say(message: str) -> None:
        print(f"[clv-score] {message}", file=sys.stderr, flush=True)

    try:
        as_of = dt.date.fromisoformat(args.as_of) if args.as_of else None
    except ValueError:
        say(f"error: --as-of {args.as_of!r} is not a date: give it as YYYY-MM-DD, e.g. 1998-06-30")
        return 2
    if not Path(args.bundle).is_file():
        say(f"error: {args.bundle}: no such model bundle; dvc repro writes data/model/model_bundle.joblib")
        return 2
    try:
        forecaster = Forecaster.load(args.bundle)
        params = dataclasses.replace(forecaster.context.ingest, path=args.log, format="auto")
        raw, _ = read_log(params)
        say(f"read {raw.height:,} rows from {args.log}")
        orders = forecaster.orders(raw, args.log)
        say(f"{forecaster.last_report['rows_quarantined']:,} rows set aside by the ingest rules")
        ids = orders["customer_id"].unique().sort()
        parts = []
        for start in range(0, ids.len(), CHUNK_CUSTOMERS):
            chunk = ids.slice(start, CHUNK_CUSTOMERS)
            part = orders.filter(pl.col("customer_id").is_in(chunk.implode()))
            parts.append(forecaster.predict_orders(part, as_of))
            say(f"scored {min(start + CHUNK_CUSTOMERS, ids.len()):,} of {ids.len():,} customers")
        scores = pl.concat(parts) if parts else forecaster.predict_orders(orders.head(0), as_of)
        write_csv(round_for_people(scores), args.out, for_people=True)
        say(f"{scores.height:,} customers written to {args.out}")
    except UserError as exc:
        say(f"error: {exc}")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
