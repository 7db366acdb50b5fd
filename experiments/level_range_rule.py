"""Which past errors the range of the total is built from while the season is new.

    cd experiments && ../.venv/bin/python level_range_rule.py [--log NAME] [--save DIR]

The total's 90% range (:func:`clv_engine.level.total_range`) pools the level rule's errors
at the past origins of the log with a prior. Where the season has only just become
learnable (a log a year old), the seasonal rule has fewer than
``MIN_SAME_METHOD_ERRORS`` errors of its own, and the shipped rule borrowed the errors of
every rule the log had seen: the seasonless BG/NBD totals of its first year, which miss a
peak by a factor of 2-6. Replayed at every monthly origin of the visible logs (h3, h6), each
origin's range built only from the origins realised before it:

- ``borrow``: fewer than 3 errors of the rule in use: every rule's errors (shipped before);
- ``own``: only the rule in use's own errors, pooled with the prior as always;
- ``cap``: ``own``, with the prior of a seasonal rule that has fewer than 3 errors capped
  by the root mean square of the newest 12 seasonless errors (shipped 2026-12-08, after the
  whole path showed the customers' bands over-covering under ``borrow``: RESULTS.md).

Printed: the realised total inside its range, overall and at the origins where the two
differ, and the median and largest width (upper / lower). The sampling noise is left out
(``cv = 0``): it is the same in both and small beside the level's error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import tempfile
from pathlib import Path

import numpy as np
import polars as pl
from level_calendar import logs

from clv_engine.level import (
    MIN_SAME_METHOD_ERRORS,
    NEWEST_ERRORS,
    PRIOR_LEVEL_ERROR,
    YOUNG_LEVEL_ERROR,
    level_errors,
    level_history,
    seasonless_error,
    total_range,
)
from clv_engine.params import LifecycleParams
from clv_engine.timeline import add_months

RULES = ("borrow", "own", "cap")


def replay(errors: pl.DataFrame, first: dt.date, horizon: int) -> pl.DataFrame:
    """Per origin and rule: the errors used, inside or not, the width of the range."""
    rows = []
    table = errors.sort("cutoff")
    for origin in table.iter_rows(named=True):
        past = table.filter(
            pl.Series([add_months(c, horizon) <= origin["cutoff"] for c in table["cutoff"]], dtype=pl.Boolean)
        )
        same = past.filter(pl.col("method") == origin["method"])
        young = (origin["cutoff"] - first).days < 365
        prior = YOUNG_LEVEL_ERROR if young else PRIOR_LEVEL_ERROR
        seasonless = seasonless_error(past)
        for rule in RULES:
            used = past if rule == "borrow" and same.height < MIN_SAME_METHOD_ERRORS else same
            log_errors = used.sort("cutoff").tail(NEWEST_ERRORS)["log_error"].to_numpy()
            new_season = origin["method"] == "seasonal" and same.height < MIN_SAME_METHOD_ERRORS
            capped = prior
            if rule == "cap" and new_season and seasonless is not None:
                capped = min(prior, seasonless)
            low, high = total_range(1.0, log_errors, 0.9, 0.0, capped)
            rows.append(
                {
                    "cutoff": origin["cutoff"],
                    "method": origin["method"],
                    "rule": rule,
                    "errors": log_errors.size,
                    "log_error": origin["log_error"],
                    "inside": bool(math.log(low) <= origin["log_error"] <= math.log(high)),
                    "width": high / low,
                }
            )
    return pl.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--log", default=None)
    parser.add_argument("--save", type=Path, default=None, help="write each log's replay here")
    args = parser.parse_args()
    everything = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, orders in logs(Path(tmp), args.log).items():
            first, end = orders["order_date"].min(), orders["order_date"].max()
            for horizon in (3, 6):
                errors = level_errors(level_history(orders, end, horizon, LifecycleParams()), horizon)
                table = replay(errors, first, horizon).with_columns(log=pl.lit(name), horizon=pl.lit(horizon))
                if args.save is not None:
                    args.save.mkdir(parents=True, exist_ok=True)
                    table.write_csv(args.save / f"{name}-h{horizon}.csv")
                everything.append(table)
                print(f"{name} h{horizon}: {errors.height} origins", flush=True)
    table = pl.concat(everything)
    wide = table.pivot(on="rule", index=["log", "horizon", "cutoff"], values=["inside", "width", "errors"])
    differ = wide.filter(pl.col("width_borrow") != pl.col("width_cap"))
    print(f"\norigins: {wide.height}; where the rules differ: {differ.height}")
    for rule in RULES:
        inside, width = wide[f"inside_{rule}"], wide[f"width_{rule}"]
        d_inside, d_width = differ[f"inside_{rule}"], differ[f"width_{rule}"]
        print(
            f"{rule:7s} inside {inside.sum()}/{wide.height} ({inside.mean():.1%}); median width "
            f"{np.median(width.to_numpy()):.2f}, largest {width.max():.1f}; where they differ: inside "
            f"{d_inside.sum()}/{differ.height}, median width {np.median(d_width.to_numpy()):.2f}"
            if differ.height
            else f"{rule}: inside {inside.sum()}/{wide.height}"
        )
    with pl.Config(tbl_rows=200, tbl_cols=12, tbl_width_chars=200):
        print(differ.sort("log", "horizon", "cutoff"))


if __name__ == "__main__":
    main()
