"""Small builders shared by tests."""

from __future__ import annotations

import datetime as dt

import polars as pl

from clv_engine.orders import build_orders


def lines(rows: list[tuple], order_ids: bool = False) -> pl.DataFrame:
    """Canonical transactions from (customer_id, 'YYYY-MM-DD', revenue[, order_id]) tuples."""
    data = {
        "customer_id": [r[0] for r in rows],
        "order_date": [dt.date.fromisoformat(r[1]) for r in rows],
        "revenue": [float(r[2]) for r in rows],
        "quantity": [1.0] * len(rows),
        "order_id": [r[3] if order_ids else None for r in rows],
    }
    return pl.DataFrame(data, schema_overrides={"order_id": pl.String})


def orders_of(rows: list[tuple], order_ids: bool = False) -> pl.DataFrame:
    return build_orders(lines(rows, order_ids))
