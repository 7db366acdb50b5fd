"""The season's age offset in operational time: is the fitted peak where it is, and does
the level follow? (2026-12-07, issue 14)

    .venv/bin/python experiments/season_phase.py --rounds 0 3      # about 10 minutes a value

For each number of rounds (:data:`clv_engine.season.OPERATIONAL_ROUNDS`; 0 is the age
offset in calendar time alone): the season fitted on each seasonal synthetic log at two
cutoffs, its peak day and height against the generator's, then the level rule at every
monthly origin of every visible log (experiments/btyd_prior.py's replay).
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from pathlib import Path

import numpy as np
from btyd_prior import replay
from level_calendar import logs

from clv_engine import btyd, season

#: The generator's season per synthetic log (experiments/level_calendar.py): amplitude and
#: peak day of the year.
TRUTH = {
    "synth-2y-peak": (0.7, 300),
    "synth-growth-nov": (0.5, 310),
    "synth-cohorts": (0.4, 350),
    "synth-decline-dec": (0.4, 350),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", nargs="+", type=int, default=[0, 3])
    parser.add_argument("--only", default=None, help="one log (default: every visible log)")
    parser.add_argument("--horizons", nargs="+", type=int, default=[3, 6])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        all_logs = logs(Path(tmp), only=args.only)
    days = np.arange(365)
    for rounds in args.rounds:
        season.OPERATIONAL_ROUNDS = rounds
        btyd._FITS.clear()
        for name, (amplitude, peak) in TRUTH.items():
            if name not in all_logs:
                continue
            for cutoff in (dt.date(2023, 6, 30), dt.date(2023, 9, 30)):
                fit = season.fit_season(all_logs[name], cutoff)
                profile = fit.profile(days)  # days since 1970-01-01: 1970's day of the year - 1
                print(
                    f"rounds={rounds} {name} at {cutoff}: peak day {int(np.argmax(profile)) + 1} "
                    f"x {profile.max():.2f}, low x {profile.min():.2f} (generator: day {peak} "
                    f"x {1 + amplitude:.2f}, low x {1 - amplitude:.2f})",
                    flush=True,
                )
        replay(all_logs, args.horizons, f"rounds={rounds}")


if __name__ == "__main__":
    main()
