"""DVC stage ingest: the raw log -> canonical transactions, quarantine, report."""

import argparse
import tempfile
from pathlib import Path

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
    # The batches' rows wait in a temporary directory (TMPDIR); the quarantine is written from it.
    with tempfile.TemporaryDirectory(prefix="clv-ingest-") as spill:
        result = ingest(params, spill=Path(spill))
        report = result.report
        progress(f"read {report['rows_read']:,} rows; validated")
        write_parquet(result.transactions, args.transactions)
        write_csv(result.quarantine_rows, args.quarantine, for_people=True)
    write_json(report, args.report)
    if report["rows_without_customer"]:
        progress(
            f"{report['rows_without_customer']:,} rows without a customer id (guest checkouts, "
            f"{report['revenue_share_without_customer']:.1%} of the revenue): kept in the quarantine, "
            "not forecast"
        )
    for key, column in report["optional_columns_not_found"].items():
        progress(f"ingest.columns.{key} = {column!r} is not in the file: left out (it is optional)")
    return (
        f"{report['rows_accepted']:,} rows accepted, {report['rows_quarantined']:,} quarantined, "
        f"{report['customers']:,} customers, {report['first_order_date']} to {report['last_order_date']}"
    )


if __name__ == "__main__":
    run_stage("ingest", add_arguments, main)
