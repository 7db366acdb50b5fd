"""Predicted margin (profit) over the pinned horizon: predicted_clv x each customer's margin rate.

With ``ingest.columns.margin`` (profit per line), a customer's rate is their own margin /
revenue up to the cutoff, shrunk towards the base's: ``(m_i + k x base) / (r_i + k)``, with
``m_i``, ``r_i`` the customer's net margin and net revenue, ``base = sum m / sum r`` and
``k`` the mean |net revenue| per customer (one average customer's worth of the base's rate,
so a one-order customer is not read at their single order's rate). Without a margin
column, ``value.margin_rate`` is every customer's rate; with neither there is no
predicted_margin.
"""

from __future__ import annotations

import datetime as dt
from typing import cast

import numpy as np
import polars as pl

from .scalars import as_float

__all__ = ["margin_rates", "predicted_margin"]


def margin_rates(orders: pl.DataFrame, cutoff: dt.date, customers: pl.Series) -> tuple[np.ndarray, float]:
    """(rate per customer of ``customers``, in their order; the base's rate) from orders to ``cutoff``.

    ``orders`` carries ``margin`` (:func:`clv_engine.orders.build_orders` with a mapped margin).
    """
    past = orders.filter(pl.col("order_date") <= cutoff).sort("customer_id", "order_date", "order_key")
    sums = past.group_by("customer_id", maintain_order=True).agg(
        pl.col("margin").sum().alias("m"), pl.col("revenue").sum().alias("r")
    )
    total_r = float(sums["r"].sum())
    base = float(sums["m"].sum()) / total_r if total_r > 0 else 0.0
    k = as_float(sums["r"].abs().mean() or 0.0) or 1.0
    per = (
        pl.DataFrame({"customer_id": customers})
        .join(sums, on="customer_id", how="left", maintain_order="left")
        .with_columns(pl.col("m", "r").fill_null(0.0))
    )
    m, r = per["m"].to_numpy(), per["r"].to_numpy()
    # A customer who mostly returned (r_i <= -k) keeps the prior's weight alone.
    rate = (m + k * base) / np.maximum(r + k, k)
    return rate, base


def predicted_margin(
    predicted: np.ndarray,
    orders: pl.DataFrame,
    cutoff: dt.date,
    customers: pl.Series,
    fixed_rate: float | None,
) -> np.ndarray | None:
    """predicted x each customer's rate (module docstring); None when no margin is known."""
    if "margin" in orders.columns:
        rates, _ = margin_rates(orders, cutoff, customers)
    elif fixed_rate is not None:
        rates = np.full(customers.len(), float(fixed_rate))
    else:
        return None
    return cast(np.ndarray, np.asarray(predicted, dtype=float) * rates)
