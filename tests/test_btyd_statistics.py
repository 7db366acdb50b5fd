"""The BTYD statistics match the published summary of the CDNOW 1/10 sample."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from clv_engine.features import customer_table
from clv_engine.ingest import ingest
from clv_engine.orders import build_orders
from clv_engine.params import ColumnMapping, FeatureParams, IngestParams, LifecycleParams


def test_fhl_sample_at_1997_09_30(cdnow_sample_path):
    params = IngestParams(
        path=str(cdnow_sample_path), duplicates="keep", columns=ColumnMapping(quantity="quantity")
    )
    orders = build_orders(ingest(params).transactions)
    table = customer_table(orders, dt.date(1997, 9, 30), 9, 6, FeatureParams(), LifecycleParams())
    assert table.height == 2357
    c4 = table.filter(pl.col("customer_id") == "00004").row(0, named=True)
    assert c4["frequency"] == 2
    assert c4["recency_tx_days"] / 7 == pytest.approx(30.43, abs=0.005)
    assert c4["age_T_days"] / 7 == pytest.approx(38.86, abs=0.005)
    assert c4["mean_repeat_spend"] == pytest.approx(22.35, abs=0.005)
    repeaters = table.filter(pl.col("frequency") > 0)
    assert repeaters.height == 946
    assert repeaters["mean_repeat_spend"].mean() == pytest.approx(35.078, abs=0.001)
