"""DVC stage ingest: the raw log -> canonical transactions, quarantine, report."""

import argparse

from clv_engine.ingest import ingest
from clv_engine.io import write_csv, write_json, write_parquet
from clv_engine.params import load_params
from clv_engine.stage import progress, run_stage


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--transactions", required=True, help="canonical transactions (Parquet)")
    parser.add_argument("--quarantine", required=True, help="rejected rows with reasons (CSV)")
    parser.add_argument("--report", required=True, help="counts and reconciliation (JSON)")


def main(args: argparse.Namespace) -> str:
    params = load_params(args.params).ingest
    progress(f"reading {params.path}")
    result = ingest(params)
    report = result.report
    progress(f"read {report['rows_read']:,} rows; validated")
    write_parquet(result.transactions, args.transactions)
    write_csv(result.quarantine, args.quarantine)
    write_json(report, args.report)
    return (
        f"{report['rows_accepted']:,} rows accepted, {report['rows_quarantined']:,} quarantined, "
        f"{report['customers']:,} customers, {report['first_order_date']} to {report['last_order_date']}"
    )


if __name__ == "__main__":
    run_stage("ingest", add_arguments, main)
