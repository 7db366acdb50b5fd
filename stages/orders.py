"""DVC stage orders: canonical transaction lines -> orders (returns netted)."""

import argparse

import polars as pl

from clv_engine.io import write_json, write_parquet
from clv_engine.orders import build_orders, orders_report
from clv_engine.stage import progress, run_stage


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--transactions", required=True)
    parser.add_argument("--orders", required=True)
    parser.add_argument("--report", required=True)


def main(args: argparse.Namespace) -> str:
    transactions = pl.read_parquet(args.transactions)
    progress(f"grouping {transactions.height:,} lines into orders")
    orders = build_orders(transactions)
    report = orders_report(transactions, orders)
    write_parquet(orders, args.orders)
    write_json(report, args.report)
    return f"{report['orders']:,} orders ({report['return_orders']:,} returns) from {report['lines']:,} lines"


if __name__ == "__main__":
    run_stage("orders", add_arguments, main)
