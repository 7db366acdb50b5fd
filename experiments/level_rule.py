"""Who should set the forecast's level: the trees, or the BG/NBD + Gamma-Gamma total?

    python experiments/level_rule.py              # CDNOW + synthetic seeds 3 and 11, ~15 min
    python experiments/level_rule.py --seeds      # CDNOW only, ~2 min

The evidence behind ``model.level: auto`` (src/clv_engine/model.py). Each origin runs the
evaluate stage's ``backtest`` with ``model.level=trees`` (the trees' level), then scales the
same forecast and its interval so that the total is the BTYD total over the customers
scored and shifts p_active's log-odds so that its mean is BG/NBD's mean P(a purchase)
(what ``model.level=btyd`` ships), and says whether a training cutoff's horizon was
the scored horizon a year earlier (the same season). Origins: CDNOW at the month ends
1997-08-31 to 1997-12-31 with a 3-month horizon, and at 1997-12-31 with 2 and 4 months
(1998, the CDNOW-26w holdout, is never used), and synthetic
300k-row logs (``SynthConfig(n_transactions=300_000, seed=...)``, 2021-2023, December peak)
at seven 6-month and four 3-month origins each. One JSON line per origin, then the tally.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json

import numpy as np
import polars as pl
import yaml
from compare_models import load_orders, synthetic_orders, with_overrides

from clv_engine import metrics
from clv_engine.evaluation import backtest
from clv_engine.model import log_odds_shift_to_mean, shift_log_odds
from clv_engine.params import parse_params
from clv_engine.timeline import DataRangeError, same_season_cutoff

CDNOW = [(f"1997-{m}", 3) for m in ("08-31", "09-30", "10-31", "11-30", "12-31")]
CDNOW += [("1997-12-31", 2), ("1997-12-31", 4)]
SYNTH = [(a, 6) for a in ("2022-06-30", "2022-09-30", "2022-12-31", "2023-03-31", "2023-06-30", "2023-09-30")]
SYNTH += [("2023-12-31", 6)] + [(a, 3) for a in ("2022-03-31", "2022-06-30", "2022-09-30", "2022-12-31")]
KEYS = ("normalized_gini", "mae", "rmse", "bias", "decile_mape")


def _scores(y: np.ndarray, p: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> dict[str, float]:
    r = metrics.regression_metrics(y, p)
    return {k: round(float(r[k]), 4) for k in KEYS} | {
        "coverage": round(metrics.interval_coverage(y, lower, upper), 4)
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--seeds", nargs="*", type=int, default=[3, 11], help="none: CDNOW only")
    args = parser.parse_args()
    with open(args.params) as fh:
        params = parse_params(with_overrides(yaml.safe_load(fh), "model.level=trees"))
    logs = {"cdnow": load_orders(args.params, None)}
    logs |= {f"synth{seed}": synthetic_orders(args.params, seed) for seed in args.seeds}
    origins = [("cdnow", a, h) for a, h in CDNOW] + [
        (f"synth{s}", a, h) for s in args.seeds for a, h in SYNTH
    ]
    tally = {True: [], False: []}
    for log, as_of_text, horizon in origins:
        as_of = dt.date.fromisoformat(as_of_text)
        try:
            result = backtest(logs[log].filter(pl.col("order_date") <= as_of), as_of, params, horizon)
        except DataRangeError as exc:  # the log is too short for this origin
            print(json.dumps({"origin": f"{log} {as_of} h{horizon}", "skipped": str(exc)}), flush=True)
            continue
        f, model = result.predictions, result.model
        same_season = same_season_cutoff(result.cutoff, horizon) in model.cutoffs_
        y, p, lower, upper = (f[c].to_numpy() for c in ("actual", "model", "lower", "upper"))
        k = float(f["btyd"].sum() / p.sum())
        # p_active: log-odds shifted to BG/NBD's mean P(a purchase), as model.level=btyd does
        bought, p_active, chance = (f[c].to_numpy() for c in ("bought", "p_active", "btyd_p_purchase"))
        shift = log_odds_shift_to_mean(p_active, float(chance.mean()))
        line = {
            "origin": f"{log} {as_of} h{horizon}",
            "training_cutoffs": [str(c) for c in model.cutoffs_],
            "same_season_cutoff": same_season,
            "trees": _scores(y, p, lower, upper),
            "btyd_total": _scores(y, p * k, lower * k, upper * k),
            "btyd": _scores(y, f["btyd"].to_numpy(), lower, upper) | {"coverage": None},
            "p_active": {
                "share_bought": round(float(bought.mean()), 4),
                "mean_trees": round(float(p_active.mean()), 4),
                "mean_btyd": round(float(chance.mean()), 4),
                "brier_trees": round(float(np.mean((p_active - bought) ** 2)), 5),
                "brier_shifted": round(float(np.mean((shift_log_odds(p_active, shift) - bought) ** 2)), 5),
            },
        }
        print(json.dumps(line), flush=True)
        tally[same_season].append(line)
    for same_season, lines in tally.items():
        wins = {
            key: sum(
                abs(x["btyd_total"][key]) < abs(x["trees"][key])
                if key == "bias"
                else abs(x["btyd_total"][key] - 0.9) < abs(x["trees"][key] - 0.9)
                if key == "coverage"
                else x["btyd_total"][key] < x["trees"][key]
                for x in lines
            )
            for key in ("bias", "mae", "rmse", "decile_mape", "coverage")
        }
        wins["p_active_brier"] = sum(
            x["p_active"]["brier_shifted"] < x["p_active"]["brier_trees"] for x in lines
        )
        label = "with" if same_season else "without"
        print(
            f"{len(lines)} origins {label} a same-season training cutoff; the BTYD total is better on: {wins}"
        )


if __name__ == "__main__":
    main()
