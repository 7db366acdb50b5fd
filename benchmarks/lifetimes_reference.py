"""The reference the speed issue is measured against: lifetimes' summary of a transaction log.

    .venv/bin/python benchmarks/lifetimes_reference.py data/raw/log.csv

Reads the CSV with pandas (customer_id, order_date, revenue), parses the dates and runs
``lifetimes.utils.summary_data_from_transaction_data`` (frequency, recency, T, monetary
value per customer), as a lifetimes user would. Prints one JSON line: the seconds taken
(reading included) and the customers summarised. ``make bench`` installs lifetimes from
requirements-bench.txt; without it the line says so and no time is given.
"""

from __future__ import annotations

import json
import sys
import time


def main() -> None:
    try:
        from lifetimes.utils import summary_data_from_transaction_data
    except ImportError:
        print(
            json.dumps(
                {
                    "seconds": None,
                    "note": "lifetimes is not installed (pip install -r requirements-bench.txt)",
                }
            )
        )
        return
    import pandas as pd

    start = time.perf_counter()
    log = pd.read_csv(sys.argv[1], usecols=["customer_id", "order_date", "revenue"])
    log["order_date"] = pd.to_datetime(log["order_date"])
    summary = summary_data_from_transaction_data(
        log, "customer_id", "order_date", monetary_value_col="revenue"
    )
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": round(seconds, 2), "customers": len(summary)}))


if __name__ == "__main__":
    main()
