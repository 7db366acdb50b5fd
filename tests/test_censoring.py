"""A log that starts in the middle of customers' lives (lifecycle.log_start).

Hand-made first-order dates in windows of 28 days: a decaying burst of first sightings
over a steady level is an extract (censored); a flat start, a cohort that stops (CDNOW) or
a growing start is a complete log.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from tests.helpers import orders_of

from clv_engine.features import customer_table
from clv_engine.lifecycle import censored_before
from clv_engine.params import FeatureParams, LifecycleParams
from clv_engine.synth import SynthConfig, generate_transactions

START = dt.date(2022, 1, 1)
AUTO = LifecycleParams()


def first_orders(counts: list[int]) -> pl.Series:
    """``counts[k]`` customers first seen on day 28k + (0..27) of the log."""
    days = [START + dt.timedelta(days=28 * k + i % 28) for k, n in enumerate(counts) for i in range(n)]
    return pl.Series("first_order_date", days, dtype=pl.Date)


CUTOFF = START + dt.timedelta(days=28 * 10)


def test_a_decaying_burst_over_a_steady_level_is_censored_until_the_level_returns():
    dates = first_orders([600, 300, 150, 80, 50, 40, 40, 40, 40, 40])
    # steady level 40 (median of windows 3+); window 4 (50 <= 1.5 x 40) is the first back
    assert censored_before(dates, CUTOFF, AUTO) == START + dt.timedelta(days=28 * 4)


@pytest.mark.parametrize(
    "counts",
    [
        [100] * 10,  # steady acquisition from day one
        [300, 350, 320, 0, 0, 0, 0, 0, 0, 0],  # a cohort that stops (CDNOW)
        [20, 30, 40, 50, 60, 70, 80, 90, 100, 110],  # a growing shop
    ],
)
def test_complete_logs_are_not_censored(counts):
    assert censored_before(first_orders(counts), CUTOFF, AUTO) is None


def test_too_few_windows_to_tell_is_not_censored():
    early = START + dt.timedelta(days=28 * 5)
    assert censored_before(first_orders([600, 300, 150, 80, 50]), early, AUTO) is None


def test_the_params_override_detection():
    decaying = first_orders([600, 300, 150, 80, 50, 40, 40, 40, 40, 40])
    assert censored_before(decaying, CUTOFF, LifecycleParams(log_start="complete")) is None
    flat = first_orders([100] * 10)
    assert censored_before(flat, CUTOFF, LifecycleParams(log_start="censored")) == START + dt.timedelta(
        days=28
    )


def test_only_what_is_known_at_the_cutoff_counts():
    dates = first_orders([600, 300, 150, 80, 50, 40, 40, 40, 40, 40, 5000])  # a burst after the cutoff
    known = dates.filter(dates <= CUTOFF)
    assert censored_before(known, CUTOFF, AUTO) == START + dt.timedelta(days=28 * 4)


def test_censored_customers_are_existing_until_their_tenure_passes_established():
    rows = []
    for k, n in enumerate([60, 30, 15, 8, 5, 4, 4, 4, 4, 4]):
        for i in range(n):
            day = START + dt.timedelta(days=28 * k + i % 28)
            rows.append((f"w{k}-{i}", day.isoformat(), 10.0))
    rows.append(("w0-0", "2022-10-01", 10.0))
    orders = orders_of(rows)
    table = customer_table(orders, CUTOFF, 6, 3, FeatureParams(), AUTO)
    early = table.filter(pl.col("customer_id").str.starts_with("w0-"))
    assert early["tenure_censored"].all() and set(early["customer_stage"]) == {"Existing"}
    late = table.filter(pl.col("customer_id").str.starts_with("w9-"))
    assert not late["tenure_censored"].any() and set(late["customer_stage"]) == {"New"}
    # a year and more later the lower bound passes Established: Loyal for sure
    later = customer_table(orders, START + dt.timedelta(days=400), 6, 3, FeatureParams(), AUTO)
    assert set(later.filter(pl.col("customer_id") == "w0-1")["customer_stage"]) == {"Loyal"}


def test_a_synthetic_extract_is_detected_and_the_whole_log_is_not():
    log = generate_transactions(
        SynthConfig(
            n_transactions=40_000,
            seed=5,
            start=dt.date(2019, 1, 1),
            end=dt.date(2022, 12, 31),
            acquisition_growth_per_year=0.0,
        )
    ).drop_nulls("customer_id")
    cutoff = dt.date(2022, 12, 31)

    def firsts(frame: pl.DataFrame) -> pl.Series:
        return frame.group_by("customer_id").agg(pl.col("order_date").min())["order_date"]

    assert censored_before(firsts(log), cutoff, AUTO) is None
    extract = log.filter(pl.col("order_date") >= dt.date(2022, 1, 1))
    assert censored_before(firsts(extract), cutoff, AUTO) is not None
