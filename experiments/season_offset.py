"""Evidence for the season's age offset and its one-year rule (src/clv_engine/season.py).

    .venv/bin/python experiments/season_offset.py            # about 20 minutes
    .venv/bin/python experiments/season_offset.py --only cdnow

Four variants of :func:`clv_engine.season.fit_season` on every visible log and horizon
(experiments/level_calendar.py): without the age offset and with a year plus the horizon
of history (the rule shipped before), with the offset and that rule, and with the offset
and 13 or 12 months of history (shipped: 12). For each, the shipped level rule
(:func:`clv_engine.level.forecast_level`) forecasts every monthly origin's total from data
up to the origin; printed: per origin the method and error of each variant, and per log
and horizon the mean and worst |forecast / realised - 1|.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
from level_calendar import candidates, logs

import clv_engine.season as season
from clv_engine.level import level_history
from clv_engine.params import LifecycleParams

SHIPPED_OFFSET = season._age_offset


def _no_offset(_customers, n_weeks: int, _cutoff=None, _season=None) -> np.ndarray:
    return np.zeros(n_weeks)


# name: (offset function, months of history as a function of the horizon)
VARIANTS = {
    "plain 12+H": (_no_offset, lambda h: 12 + h),
    "offset 12+H": (SHIPPED_OFFSET, lambda h: 12 + h),
    "offset 13": (SHIPPED_OFFSET, lambda h: 13),
    "offset 12": (SHIPPED_OFFSET, lambda h: 12),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", nargs="*", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        all_logs = logs(Path(tmp))
    rules = LifecycleParams()
    total: dict[str, list[float]] = {v: [] for v in VARIANTS}
    for name, orders in all_logs.items():
        if args.only and name not in args.only:
            continue
        end = orders["order_date"].max()
        for h in (3, 6):
            found = {}
            for variant, (offset, months) in VARIANTS.items():
                season._age_offset, season._HISTORY_MONTHS = offset, months(h)
                history = level_history(orders, end, h, rules)
                found[variant] = []
                for row in history.iter_rows(named=True):
                    c = candidates(history, row["cutoff"], h)
                    found[variant].append(
                        (row["cutoff"], c["method"], c["shipped"] / row["realized_total"] - 1)
                    )
            print(f"{name} h{h}: {len(found['plain 12+H'])} origins")
            for i, (cutoff, _, _) in enumerate(found["plain 12+H"]):
                cells = (f"{v}: {found[v][i][1][:4]} {found[v][i][2]:+.1%}" for v in VARIANTS)
                print(f"    {cutoff}  " + "  ".join(cells))
            for variant, rows in found.items():
                errors = np.abs([r[2] for r in rows])
                total[variant].extend(errors.tolist())
                print(f"    {variant:12s} mean |err| {errors.mean():.1%} worst {errors.max():.1%}")
            sys.stdout.flush()
    for variant, errors in total.items():
        print(
            f"all: {variant:12s} mean |err| {np.mean(errors):.1%} worst {np.max(errors):.1%} n {len(errors)}"
        )


if __name__ == "__main__":
    main()
