"""The evaluate stage's rolling-origin backtest on the visible logs, with a per-origin table.

    .venv/bin/python experiments/rolling_origins.py --log superstore --horizon 3 --origins 12
    .venv/bin/python experiments/rolling_origins.py --log synth-growth-nov --horizon 6 --origins 12

Uses :func:`clv_engine.evaluation.rolling_backtest` (what ``dvc repro`` runs) with
params.yaml, overrides given by --config (key=value,...); the logs are those of
experiments/level_calendar.py.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from pathlib import Path

import polars as pl
import yaml
from compare_models import with_overrides
from level_calendar import logs

from clv_engine.evaluation import rolling_backtest
from clv_engine.params import parse_params


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--log", required=True)
    parser.add_argument("--horizon", type=int, required=True)
    parser.add_argument("--origins", type=int, default=12)
    parser.add_argument("--config", default="")
    parser.add_argument("--end", default=None, help="truncate the log after this date (a young log)")
    args = parser.parse_args()
    with open(Path(__file__).resolve().parents[1] / "params.yaml") as fh:
        raw = with_overrides(yaml.safe_load(fh), args.config)
    raw["windows"]["horizon_months"] = args.horizon
    params = parse_params(raw)
    with tempfile.TemporaryDirectory() as tmp:
        orders = logs(Path(tmp), only=args.log)[args.log]
    if args.end:
        orders = orders.filter(pl.col("order_date") <= dt.date.fromisoformat(args.end))
    as_of = orders["order_date"].max()
    result = rolling_backtest(orders, as_of, params, args.horizon, args.origins)
    cols = [
        "cutoff",
        "level_method",
        "actual_total",
        "total",
        "total_lower",
        "total_upper",
        "total_inside_range",
        "coverage",
        "expected_buyers",
        "buyers",
        "sure_buyers",
        "coverage_sure_buyers",
        "bias_model",
        "bias_btyd",
        "gini_model",
        "gini_btyd",
    ]
    print(f"{args.log} h{args.horizon} config [{args.config}]")
    print("| " + " | ".join(cols) + " |")
    for row in result.origins.select(cols).iter_rows():
        cells = [
            f"{v:.3f}"
            if isinstance(v, float) and abs(v) < 10
            else (f"{v:,.0f}" if isinstance(v, float) else str(v))
            for v in row
        ]
        print("| " + " | ".join(cells) + " |")
    s = result.summary
    print(
        f"mean |bias| model {s['model']['mean_abs_bias']:.1%} (worst {s['model']['worst_abs_bias']:.1%}), "
        f"BG/NBD + GG {s['btyd']['mean_abs_bias']:.1%} (worst {s['btyd']['worst_abs_bias']:.1%}); "
        f"coverage {s['coverage']['min']:.1%}-{s['coverage']['max']:.1%}; total inside range "
        f"{s['total_inside_range_share']:.0%}; mean Gini model {s['model']['mean_gini']:.3f} "
        f"BG/NBD {s['btyd']['mean_gini']:.3f}"
    )
    horizons = params.score.horizons_months
    print()
    print(
        "| cutoff | "
        + " | ".join(f"{h}m bias model / BG/NBD | {h}m Gini model / BG/NBD | {h}m coverage" for h in horizons)
        + " |"
    )
    for row in result.origins.iter_rows(named=True):
        cells = [str(row["cutoff"])]
        for h in horizons:
            if row.get(f"bias_model_{h}m") is None:
                cells += ["not realised", "", ""]
                continue
            cells.append(f"{row[f'bias_model_{h}m']:+.1%} / {row[f'bias_btyd_{h}m']:+.1%}")
            cells.append(f"{row[f'gini_model_{h}m']:.3f} / {row[f'gini_btyd_{h}m']:.3f}")
            cells.append(f"{row[f'coverage_{h}m']:.1%}")
        print("| " + " | ".join(cells) + " |")
    for line in result.skipped:
        print("skipped:", line)


if __name__ == "__main__":
    main()
