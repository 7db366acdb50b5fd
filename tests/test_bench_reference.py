"""The benchmark's pandas reference computes the same numbers as the engine."""

from __future__ import annotations

import datetime as dt
import sys

import numpy as np
import polars as pl
from tests.conftest import ROOT

from clv_engine.features import customer_table
from clv_engine.orders import build_orders
from clv_engine.params import FeatureParams, LifecycleParams
from clv_engine.synth import SynthConfig, generate_transactions

sys.path.insert(0, str(ROOT / "benchmarks"))
from pandas_reference import customer_table_pandas


def test_pandas_reference_matches_engine():
    orders = build_orders(generate_transactions(SynthConfig(n_transactions=5000, seed=2)))
    cutoff = dt.date(2022, 6, 30)
    ours = customer_table(orders, cutoff, 12, 6, FeatureParams(), LifecycleParams())
    ref = customer_table_pandas(
        orders.to_pandas().assign(order_date=lambda d: d["order_date"].astype("datetime64[ns]")),
        cutoff,
        12,
        6,
    )
    assert ref["customer_id"].tolist() == ours["customer_id"].to_list()
    shared = [
        c for c in ref.columns if c in ours.columns and c not in ("customer_id",) and not c.endswith("_date")
    ]
    assert len(shared) >= 25
    for name in shared:
        a = ours[name].cast(pl.Float64).to_numpy()
        b = ref[name].astype(float).to_numpy()
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9, equal_nan=True, err_msg=name)
