"""Nothing after a cutoff changes what is built at it: full log == log truncated at the cutoff."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from tests.conftest import ROOT

from clv_engine.dataset import build_dataset
from clv_engine.features import customer_table
from clv_engine.ingest import ingest
from clv_engine.orders import build_orders
from clv_engine.params import FeatureParams, LabelParams, LifecycleParams, load_params
from clv_engine.synth import SynthConfig, generate_transactions
from clv_engine.timeline import horizon_days, labels, training_cutoffs


@pytest.fixture(scope="module")
def synth_orders() -> pl.DataFrame:
    log = generate_transactions(SynthConfig(n_transactions=6_000, seed=11))
    return build_orders(log.with_columns(pl.col("order_id").cast(pl.String)))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    offset=st.integers(min_value=30, max_value=1000),
    lookback=st.sampled_from([3, 6, 12, 18]),
    horizon=st.sampled_from([3, 6, 12]),
)
def test_customer_table_and_labels_see_nothing_after_cutoff(synth_orders, offset, lookback, horizon):
    start = synth_orders["order_date"].min()
    cutoff = start + dt.timedelta(days=offset)
    fp, rules = FeatureParams(), LifecycleParams()
    full = customer_table(synth_orders, cutoff, lookback, horizon, fp, rules)
    cut = customer_table(
        synth_orders.filter(pl.col("order_date") <= cutoff), cutoff, lookback, horizon, fp, rules
    )
    assert_frame_equal(full, cut)
    assert (full["recency_days"] <= full["tenure_days"]).all()
    assert (full["recency_tx_days"] <= full["age_T_days"]).all()
    days = horizon_days(cutoff, horizon)
    end = cutoff + dt.timedelta(days=days)
    assert_frame_equal(
        labels(synth_orders, cutoff, days, True),
        labels(synth_orders.filter(pl.col("order_date") <= end), cutoff, days, True),
    )


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(offset=st.integers(min_value=400, max_value=1000))
def test_training_set_sees_nothing_after_as_of(synth_orders, offset):
    as_of = synth_orders["order_date"].min() + dt.timedelta(days=offset)
    first = synth_orders["order_date"].min()
    plan = training_cutoffs(as_of, 3, 6, 4, 3, first)
    args = (plan.cutoffs, 6, 3, FeatureParams(), LifecycleParams(), LabelParams())
    full = build_dataset(synth_orders, *args)
    cut = build_dataset(synth_orders.filter(pl.col("order_date") <= as_of), *args)
    assert_frame_equal(full, cut)
    assert full["cutoff"].max() <= as_of


def test_cdnow_training_and_scoring_rows_equal_on_truncated_log():
    params = load_params(ROOT / "params.yaml")
    orders = build_orders(ingest(params.ingest).transactions)
    for as_of in (dt.date(1997, 9, 30), dt.date(1997, 12, 31)):
        truncated = orders.filter(pl.col("order_date") <= as_of)
        plan = training_cutoffs(as_of, 3, 6, 3, 3, orders["order_date"].min())
        args = (plan.cutoffs, 6, 3, params.features, params.lifecycle, params.labels)
        assert_frame_equal(build_dataset(orders, *args), build_dataset(truncated, *args))
        fargs = (as_of, 6, 3, params.features, params.lifecycle)
        assert_frame_equal(customer_table(orders, *fargs), customer_table(truncated, *fargs))


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(offset=st.integers(min_value=500, max_value=1000))
def test_other_horizons_labels_see_nothing_after_as_of(synth_orders, offset):
    from clv_engine.horizons import horizon_label_columns

    as_of = synth_orders["order_date"].min() + dt.timedelta(days=offset)
    plan = training_cutoffs(as_of, 3, 6, 4, 3, synth_orders["order_date"].min())
    args = (plan.cutoffs, 6, 3, FeatureParams(), LifecycleParams(), LabelParams(), None, (1, 3, 12), as_of)
    full = build_dataset(synth_orders, *args)
    assert_frame_equal(full, build_dataset(synth_orders.filter(pl.col("order_date") <= as_of), *args))
    for cutoff in plan.cutoffs:
        rows = full.filter(pl.col("cutoff") == cutoff)
        one = labels(synth_orders, cutoff, horizon_days(cutoff, 1), True)
        joined = rows.select("customer_id").join(one, on="customer_id", how="left", maintain_order="left")
        assert rows["label_revenue_1m"].to_list() == joined["label_revenue"].to_list()
        revenue, bought = horizon_label_columns(12)
        realised = cutoff + dt.timedelta(days=horizon_days(cutoff, 12)) <= as_of
        assert rows[revenue].null_count() == (0 if realised else rows.height)
        assert rows[bought].null_count() == (0 if realised else rows.height)
    assert "label_revenue_3m" not in full.columns  # the pinned horizon's label is label_revenue
