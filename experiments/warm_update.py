"""model.update: full or warm, for several months of new data after a promotion (issue 16).

    .venv/bin/python experiments/warm_update.py --log superstore --horizon 3 --months 6

A champion is trained at origin ``c0`` (the production path, :func:`clv_engine.evaluation.backtest`,
full fit). At each of the next ``--months`` monthly origins ``c0 + k`` whose horizon the
log realises, the same path runs twice on data up to that origin: a full fit, and a warm
one continuing the champion's trees (:func:`clv_engine.evaluation.warm_start`). Both are
scored on what the customers known at the origin spent over the horizon. The champion
itself, frozen, is scored at the same origins for reference (what no retraining gives), as
the pipeline scores new data with a champion: its own windows, BTYD fits and season.
Printed per origin: seconds spent fitting the CLV model (the part ``model.update`` changes),
trees added, bias of the total, normalized Gini and 90% coverage. The lookback is chosen at
``c0`` and kept (as at the rolling origins of the evaluate stage).
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl
import yaml
from level_calendar import logs

from clv_engine import evaluation
from clv_engine.governance import compare_at_origins
from clv_engine.params import parse_params
from clv_engine.scoring import Forecaster, build_scoring
from clv_engine.timeline import add_months, cutoff_before, training_cutoffs


def _timed_fits() -> list[float]:
    """Seconds of every fit_clv call from now on (wraps the module's function)."""
    seconds: list[float] = []
    inner = evaluation.fit_clv

    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            seconds.append(time.perf_counter() - start)

    evaluation.fit_clv = timed
    return seconds


def _frozen(champion, context, orders: pl.DataFrame, table: list[dict], horizon: int, params) -> pl.DataFrame:
    """The champion as the pipeline scores new data with it (its own scoring context: windows,
    BTYD fits and season as of its training, :class:`clv_engine.scoring.Forecaster`), beside
    the full fit, at each origin of ``table`` (governance.compare_at_origins, every customer)."""
    full = pl.DataFrame(
        [
            {
                "cutoff": r["origin"],
                "customers_sampled": False,
                "bias_model": r["bias"],
                "gini_model": r["gini"],
                "coverage": r["coverage"],
            }
            for r in table
            if r["update"] == "full"
        ]
    )
    frozen = Forecaster({"model": champion, "scoring": context})
    return compare_at_origins(
        frozen,
        orders,
        full,
        horizon,
        params.evaluate.older_max_customers,
        params.seed,
        params.labels.floor_at_zero,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--log", required=True)
    parser.add_argument("--horizon", type=int, required=True)
    parser.add_argument("--months", type=int, default=6, help="monthly origins after the champion's")
    args = parser.parse_args()
    with open(Path(__file__).resolve().parents[1] / "params.yaml") as fh:
        raw = yaml.safe_load(fh)
    raw["windows"]["horizon_months"] = args.horizon
    full = parse_params(raw)
    warm = dataclasses.replace(full, model=dataclasses.replace(full.model, update="warm"))
    with tempfile.TemporaryDirectory() as tmp:
        orders = logs(Path(tmp), only=args.log)[args.log]
    end = orders["order_date"].max()
    c0 = cutoff_before(add_months(end, -args.months), args.horizon)
    fits = _timed_fits()
    champ = evaluation.backtest(orders, end, full, args.horizon, cutoff=c0)
    champion, lookback = champ.model, champ.lookback_months
    print(f"{args.log} h{args.horizon}: champion at {c0}, lookback {lookback} m, {champion.trees_} trees")
    print("| origin | update | fit s | trees added (revenue, p_active) | bias | Gini | coverage |")
    print("|---|---|---|---|---|---|---|")
    table = []
    first = orders["order_date"].min()
    t = full.training
    for k in range(1, args.months + 1):
        cutoff = cutoff_before(add_months(end, k - args.months), args.horizon)
        plan = training_cutoffs(cutoff, args.horizon, lookback, t.n_cutoffs, t.spacing_months, first)
        start, note = evaluation.warm_start(champion, pl.DataFrame({"cutoff": plan.cutoffs}), warm)
        for name, p, begin in (("full", full, None), ("warm", warm, start)):
            if name == "warm" and start is None:
                print(f"| {cutoff} | warm | - | {note} | | | |")
                continue
            fits.clear()
            result = evaluation.backtest(
                orders, end, p, args.horizon, cutoff=cutoff, lookback_months=lookback, start=begin
            )
            m, model = result.metrics, result.model
            row = {
                "origin": cutoff,
                "update": name,
                "seconds": sum(fits),
                "trees": (model.trees_, model.trees_buy_),
                "bias": m["model"]["bias"],
                "gini": m["model"]["normalized_gini"],
                "coverage": m["interval"]["coverage"],
            }
            table.append(row)
            print(
                f"| {cutoff} | {name} | {row['seconds']:.1f} | {row['trees'][0]}, {row['trees'][1]} | "
                f"{row['bias']:+.1%} | {row['gini']:.3f} | {row['coverage']:.1%} |",
                flush=True,
            )
    _rows, context = build_scoring(
        orders.filter(pl.col("order_date") <= c0), c0, lookback, args.horizon, full
    )
    for r in _frozen(champion, context, orders, table, args.horizon, full).iter_rows(named=True):
        print(
            f"| {r['cutoff']} | champion as is | 0 | 0 | {r['bias_champion']:+.1%} | "
            f"{r['gini_champion']:.3f} | {r['coverage_champion']:.1%} |"
        )
    for name in ("full", "warm"):
        rows = [r for r in table if r["update"] == name]
        if rows:
            print(
                f"{name}: fit {np.mean([r['seconds'] for r in rows]):.1f} s mean, "
                f"mean |bias| {np.mean([abs(r['bias']) for r in rows]):.1%}, "
                f"Gini {np.mean([r['gini'] for r in rows]):.3f}, "
                f"coverage {min(r['coverage'] for r in rows):.1%}-{max(r['coverage'] for r in rows):.1%} "
                f"over {len(rows)} origins"
            )


if __name__ == "__main__":
    main()
