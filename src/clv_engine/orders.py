"""Transaction lines -> orders, the unit every feature and label counts.

Rule. Lines with the same customer and order id are one order; lines without an order id
(no order-id column, or a blank id) are grouped by customer and calendar day. An order's
date is the earliest date of its lines, its revenue the net sum of its lines (returns and
cancellations are negative lines, so they are netted in), its quantity the sum.

An order whose net revenue is negative is a *return order* (a refund with its own order
id, or a day where refunds outweigh purchases); every other order, zero included, is a
*purchase order*. Purchases drive frequency, recency and order values; returns reduce net
revenue and are counted on their own (returns_count, return_share).

Reconciliation: ``lines = orders + lines_merged`` (reported by the orders stage).
"""

from __future__ import annotations

import polars as pl

__all__ = ["ORDER_COLUMNS", "build_orders", "canonical", "orders_report"]

ORDER_COLUMNS = ("customer_id", "order_key", "order_date", "revenue", "quantity", "n_lines", "is_return")


def canonical(orders: pl.DataFrame) -> pl.LazyFrame:
    """Orders sorted by their unique key, so that sums never depend on the input row order.

    The sort is eager on purpose: in a lazy plan polars may drop a sort that only feeds a
    group-by, and float sums would then follow the input order.
    """
    return orders.sort("customer_id", "order_date", "order_key").lazy()


def build_orders(transactions: pl.DataFrame) -> pl.DataFrame:
    """Group canonical transactions (see :mod:`clv_engine.ingest`) into orders.

    Output columns: :data:`ORDER_COLUMNS`; ``order_key`` is the order id, or
    ``day:YYYY-MM-DD`` for lines grouped by day. Sorted by customer_id, order_date, order_key.
    """
    key = (
        pl.when(pl.col("order_id").is_not_null() & (pl.col("order_id") != ""))
        .then(pl.lit("id:") + pl.col("order_id"))
        .otherwise(pl.lit("day:") + pl.col("order_date").dt.strftime("%Y-%m-%d"))
        .alias("order_key")
    )
    # Sort the lines first: float sums must not depend on the order of the input file.
    line_order = ["customer_id", "order_date", "order_id", "revenue", "quantity"]
    # A mapped margin (profit per line) is summed per order like the revenue.
    margin = ["margin"] if "margin" in transactions.columns else []
    return (
        transactions.sort([*line_order, *margin], nulls_last=True)  # eager: see canonical()
        .lazy()
        .with_columns(key)
        .group_by("customer_id", "order_key", maintain_order=True)
        .agg(
            pl.col("order_date").min(),
            pl.col("revenue").sum(),
            pl.col("quantity").sum(),
            pl.len().cast(pl.Int64).alias("n_lines"),
            *[pl.col(c).sum() for c in margin],
        )
        .with_columns((pl.col("revenue") < 0).alias("is_return"))
        .sort("customer_id", "order_date", "order_key")
        .select([*ORDER_COLUMNS, *margin])
        .collect()
    )


def orders_report(transactions: pl.DataFrame, orders: pl.DataFrame) -> dict[str, int | float]:
    """Counts that reconcile lines with orders."""
    n_return = int(orders["is_return"].sum())
    return {
        "lines": transactions.height,
        "orders": orders.height,
        "lines_merged": transactions.height - orders.height,
        "purchase_orders": orders.height - n_return,
        "return_orders": n_return,
        "customers": orders["customer_id"].n_unique(),
        "revenue_net": round(float(orders["revenue"].sum()), 2),
    }
