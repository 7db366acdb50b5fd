"""A weak prior on the BTYD shape parameters: does the level stop hanging on where a
search stops on a flat likelihood, and is it as accurate? The level rule alone at every
monthly origin of every visible log.

    .venv/bin/python experiments/btyd_prior.py --sd none 3 1.5     # about 12 minutes a value
    .venv/bin/python experiments/btyd_prior.py --sd 2 --only superstore

For each prior standard deviation (:data:`clv_engine.btyd.PRIOR_SD`; ``none`` is maximum
likelihood), each visible log (experiments/level_calendar.py) and horizon 3 and 6,
:func:`clv_engine.level.level_history` refits BG/NBD + GG (calendar and operational time)
at every monthly origin and :func:`clv_engine.level.forecast_level` applies the shipped
rule. Printed per log and horizon: mean |forecast / realised - 1| of the plain BG/NBD + GG
total and of the shipped rule, over all origins and over the newest 12 (worst of those),
then the newest 12 origins' signed errors; last, the means over every log.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from level_calendar import logs

from clv_engine import btyd, level
from clv_engine.params import LifecycleParams


def _sd(text: str) -> float | None:
    return None if text == "none" else float(text)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sd", nargs="+", default=["none", "3", "1.5"])
    parser.add_argument("--only", default=None, help="one log (default: every visible log)")
    parser.add_argument("--horizons", nargs="+", type=int, default=[3, 6])
    parser.add_argument("--exact-gradient", action="store_true", help="L-BFGS-B on the exact gradient")
    parser.add_argument("--save", default=None, help="a folder for each level history (parquet)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        all_logs = logs(Path(tmp), only=args.only)
    for text in args.sd:
        btyd.PRIOR_SD = _sd(text)
        btyd._FITS.clear()
        btyd.EXACT_GRADIENT = args.exact_gradient
        gradient = "exact" if args.exact_gradient else "differences"
        replay(all_logs, args.horizons, f"sd={text}", args.save and f"{args.save}/{text}-{gradient}")


def replay(all_logs: dict, horizons: list[int], label: str, save: str | None = None) -> None:
    """The level rule and the plain BG/NBD + GG total at every origin of every log; prints
    mean |error| per log and horizon (all origins / newest 12), then over every log.
    ``save``: a path prefix for each level history (parquet)."""
    every: dict[str, list[float]] = {"btyd": [], "rule": []}
    newest: dict[str, list[float]] = {"btyd": [], "rule": []}
    for name, orders in all_logs.items():
        end = orders["order_date"].max()
        for horizon in horizons:
            history = level.level_history(orders, end, horizon, LifecycleParams())
            if save:
                history.write_parquet(f"{save}-{name}-h{horizon}.parquet")
            # The shipped rule, and the plain BG/NBD + GG total, replayed at every origin.
            replayed = level.level_errors(history, horizon)
            rule = np.expm1(replayed["log_error"].to_numpy())
            plain = np.expm1(level.level_errors(history, horizon, seasonal=False)["log_error"].to_numpy())
            line = f"{label} {name} h{horizon} ({replayed.height} origins):"
            for kind, errors in (("btyd", plain), ("rule", rule)):
                e = np.abs(errors)
                every[kind] += e.tolist()
                newest[kind] += e[-12:].tolist()
                newest_12 = e[-12:]
                line += f"  {kind} {np.nanmean(e):.1%} / {np.nanmean(newest_12):.1%}"
                line += f" ({np.nanmax(newest_12):.0%})"
            print(line, flush=True)
            cutoffs = [str(c) for c in replayed["cutoff"]][-12:]
            print(
                "   newest 12 (rule): "
                + " ".join(f"{c}:{v:+.1%}" for c, v in zip(cutoffs, rule[-12:], strict=True))
            )
    for kind in ("btyd", "rule"):
        print(
            f"{label} every log, {kind}: {np.nanmean(every[kind]):.2%} over all origins,"
            f" {np.nanmean(newest[kind]):.2%} over the newest 12 (worst {np.nanmax(newest[kind]):.1%})",
            flush=True,
        )


if __name__ == "__main__":
    main()
