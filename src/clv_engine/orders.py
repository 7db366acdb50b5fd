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

import numpy as np
import polars as pl

__all__ = ["ORDER_COLUMNS", "build_orders", "canonical", "orders_report"]

ORDER_COLUMNS = ("customer_id", "order_key", "order_date", "revenue", "quantity", "n_lines", "is_return")


def canonical(orders: pl.DataFrame) -> pl.LazyFrame:
    """Orders sorted by their unique key, so that sums never depend on the input row order.

    The sort is eager on purpose: in a lazy plan polars may drop a sort that only feeds a
    group-by, and float sums would then follow the input order.
    """
    return orders.sort("customer_id", "order_date", "order_key").lazy()


#: Lines grouped into orders at a time, a range of customers each: the sort and group-by
#: hold one part, not the whole log (60M lines: peak 14.5 GB in one part).
PART_LINES = 5_000_000


def build_orders(transactions: pl.DataFrame, part_lines: int = PART_LINES) -> pl.DataFrame:
    """Group canonical transactions (see :mod:`clv_engine.ingest`) into orders.

    Output columns: :data:`ORDER_COLUMNS`; ``order_key`` is the order id, or
    ``day:YYYY-MM-DD`` for lines grouped by day. Sorted by customer_id, order_date, order_key.
    Customers are grouped in ranges of ids of about ``part_lines`` lines each; an order
    belongs to one customer, so the parts, in id order, are the orders of the whole log.
    """
    return pl.concat([_orders(part) for part in _parts(transactions, part_lines)], rechunk=False)


def _parts(transactions: pl.DataFrame, part_lines: int) -> list[pl.DataFrame]:
    """The lines split into ranges of customer ids, in id order, of about ``part_lines`` each.

    Lines sorted by customer (as ingest writes them) are cut between two customers (views,
    no copy); otherwise each range is filtered by id (:func:`_customer_ranges`).
    """
    ids = transactions["customer_id"]
    if transactions.height <= part_lines or ids.null_count():
        return [transactions]
    if not ids.is_sorted():
        customer = pl.col("customer_id")
        return [
            transactions.filter(customer >= lo, *([customer < hi] if hi is not None else []))
            for lo, hi in _customer_ranges(ids, part_lines)
        ]
    cuts = [0]
    while cuts[-1] + part_lines < ids.len():
        at = ids[cuts[-1] + part_lines]
        cut = int(ids.search_sorted(at, side="left"))  # that customer's first line
        cuts.append(cut if cut > cuts[-1] else int(ids.search_sorted(at, side="right")))
    return [transactions.slice(a, b - a) for a, b in zip(cuts, [*cuts[1:], ids.len()], strict=True) if b > a]


def _customer_ranges(ids: pl.Series, part_lines: int) -> list[tuple[str, str | None]]:
    """Ranges [lo, hi) of customer ids (hi None: to the end) of about ``part_lines`` lines each."""
    counts = ids.value_counts(name="_lines").sort(ids.name)
    part = ((counts["_lines"].cum_sum() - counts["_lines"]) // part_lines).alias("_part")
    firsts = counts.filter(part != part.shift(1).fill_null(-1))[ids.name].to_list()
    return [(lo, hi) for lo, hi in zip(firsts, [*firsts[1:], None], strict=True)]


def _orders(transactions: pl.DataFrame) -> pl.DataFrame:
    """:func:`build_orders` on one part.

    The lines are sorted so that each order's lines are next to each other, in the order
    of (date, order id, revenue, quantity, margin), and each order's sums are taken over
    that run of lines, left to right (:class:`_Runs`): the same bits whatever the order of
    the input file and however the log is split. polars' group-by summed a group in pieces
    that depend on where its streaming morsels end (10M lines in 10 customer ranges or
    whole: 7 of 7.3M order revenues differed in the last bit), and its in-memory engine
    took twice as long.
    """
    key = (
        pl.when(pl.col("order_id").is_not_null() & (pl.col("order_id") != ""))
        .then(pl.lit("id:") + pl.col("order_id"))
        .otherwise(pl.lit("day:") + pl.col("order_date").dt.strftime("%Y-%m-%d"))
        .alias("order_key")
    )
    # A mapped margin (profit per line) is summed per order like the revenue.
    margin = ["margin"] if "margin" in transactions.columns else []
    lines = (
        transactions.lazy()
        .with_columns(key)
        .sort(
            ["customer_id", "order_key", "order_date", "order_id", "revenue", "quantity", *margin],
            nulls_last=True,
        )
        .collect()
    )
    first = (pl.col("customer_id") != pl.col("customer_id").shift(1)) | (
        pl.col("order_key") != pl.col("order_key").shift(1)
    )
    starts = lines.select(first.fill_null(True).arg_true()).to_series().to_numpy()
    n_lines = np.diff(np.append(starts, lines.height))
    runs = _Runs(starts, n_lines)

    def run_sums(column: str) -> pl.Series:
        # A missing quantity (no quantity column) adds nothing, as in a polars sum.
        return pl.Series(column, runs.sums(lines[column].fill_null(0.0).to_numpy()))

    orders = lines.select("customer_id", "order_key", "order_date")[starts].with_columns(
        run_sums("revenue"),
        run_sums("quantity"),
        pl.Series("n_lines", n_lines, dtype=pl.Int64),
        *[run_sums(c) for c in margin],
    )
    return (
        orders.with_columns((pl.col("revenue") < 0).alias("is_return"))
        .sort("customer_id", "order_date", "order_key")
        .select([*ORDER_COLUMNS, *margin])
    )


class _Runs:
    """Runs of values ``[start, start + length)``, summed left to right.

    Vectorised over the runs: step k adds every run's k-th value (the runs longest first,
    so the runs still adding are a prefix), ``values + longest run`` operations in all.
    """

    def __init__(self, starts: np.ndarray, lengths: np.ndarray) -> None:
        self.order = np.argsort(-lengths, kind="stable")
        self.first, self.size = starts[self.order], lengths[self.order]
        longest = int(self.size[0]) if self.size.size else 0
        # how many runs are longer than k, for k = 1 .. longest - 1
        self.still = np.searchsorted(-self.size, -np.arange(1, max(longest, 1)), side="left")

    def sums(self, values: np.ndarray) -> np.ndarray:
        out = values[self.first]  # a copy (fancy indexing)
        for k, still in enumerate(self.still.tolist(), start=1):
            out[:still] += values[self.first[:still] + k]
        sums: np.ndarray = np.empty_like(out)
        sums[self.order] = out
        return sums


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
