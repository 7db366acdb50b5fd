"""How many realised origins the level's trend ratio should average, and how many yearly
harmonics the season should have: the level rule alone at every monthly origin.

    .venv/bin/python experiments/level_ratio_window.py                  # about 12 minutes
    .venv/bin/python experiments/level_ratio_window.py --harmonics 3 --only superstore

For every visible log (experiments/level_calendar.py) and horizon 3 and 6,
:func:`clv_engine.level.level_history` gives the BG/NBD + GG totals and what was spent at
every monthly origin (the season fitted with ``--harmonics`` yearly harmonics); the shipped
rule (:func:`clv_engine.level.forecast_level`) then forecasts each origin's total with the
trend ratio averaged over k = 1 .. 6 of the newest realised origins (``RECENT_ORIGINS``,
shipped 3). Printed: mean |forecast / realised - 1| over all origins, over the newest 12,
and the worst of the newest 12, per log and horizon, then over every log.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from level_calendar import logs

from clv_engine import level, season
from clv_engine.params import LifecycleParams

WINDOWS = (1, 3, 4, 5, 6)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--harmonics", type=int, default=season._HARMONICS)
    parser.add_argument("--only", default=None, help="one log (default: every visible log)")
    args = parser.parse_args()
    season._HARMONICS = args.harmonics
    with tempfile.TemporaryDirectory() as tmp:
        all_logs = logs(Path(tmp), only=args.only)
    every: dict[int, list[float]] = {k: [] for k in WINDOWS}
    newest: dict[int, list[float]] = {k: [] for k in WINDOWS}
    shipped = level.RECENT_ORIGINS
    for name, orders in all_logs.items():
        end = orders["order_date"].max()
        for horizon in (3, 6):
            history = level.level_history(orders, end, horizon, LifecycleParams())
            line = f"{name} h{horizon} ({history.height} origins):"
            for k in WINDOWS:
                level.RECENT_ORIGINS = k
                errors = np.abs(
                    [
                        level.forecast_level(
                            history, row["cutoff"], horizon, row["btyd_total"], row["season_btyd_total"]
                        ).total
                        / row["realized_total"]
                        - 1
                        for row in history.iter_rows(named=True)
                        if row["realized_total"] > 0
                    ]
                )
                every[k] += errors.tolist()
                newest[k] += errors[-12:].tolist()
                line += f"  k={k} {errors.mean():.1%} / {errors[-12:].mean():.1%} ({errors[-12:].max():.0%})"
            level.RECENT_ORIGINS = shipped
            print(line, flush=True)
    print(
        f"every log, {args.harmonics} harmonics: k, mean over all origins, over the newest 12, worst of those"
    )
    for k in WINDOWS:
        print(f"  k={k}  {np.mean(every[k]):.2%}  {np.mean(newest[k]):.2%}  {np.max(newest[k]):.1%}")


if __name__ == "__main__":
    main()
