"""Model configurations on several backtests that end on or before their as_of.

    python experiments/backtests.py --config "" --config "model.objective=two_part"
    python experiments/backtests.py --origins cdnow-1997-12 synth-2022-12 --variants

One backtest is a noisy judge: on the same engine its bias swings by tens of points from
one origin to the next (experiments/RESULTS.md). This runs the evaluate stage's
``backtest`` (the production path replayed at as_of - horizon, see
src/clv_engine/evaluation.py) on five origins:

- the bundled CDNOW log at as_of 1997-12-31 and 1997-09-30, 3-month horizon (the
  CDNOW-26w protocol's own holdout, 1998, is never used);
- a synthetic multi-cohort log with seasonality (``clv-synth --transactions 300000
  --seed 3``, written to a temporary directory) at as_of 2023-12-31, 2023-06-30 and
  2022-12-31, 6-month horizon.

Each --config (comma-separated key=value overrides of params.yaml) gets one line per
origin for the model, the BTYD baseline once per origin, and a summary line.
``--variants`` adds two post-hoc level corrections of the same fit: scaled by the
validation split's actual / predicted, and rescaled to the BTYD total.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np
import polars as pl
import yaml
from compare_models import load_orders, synthetic_orders, with_overrides

from clv_engine import metrics
from clv_engine.evaluation import backtest
from clv_engine.params import parse_params

#: name -> (log: "cdnow" or "synth", as_of, horizon in months)
ORIGINS = {
    "cdnow-1997-12": ("cdnow", "1997-12-31", 3),
    "cdnow-1997-09": ("cdnow", "1997-09-30", 3),
    "synth-2023-12": ("synth", "2023-12-31", 6),
    "synth-2023-06": ("synth", "2023-06-30", 6),
    "synth-2022-12": ("synth", "2022-12-31", 6),
}


def _line(label: str, y: np.ndarray, p: np.ndarray, lower=None, upper=None) -> dict[str, float]:
    r = metrics.regression_metrics(y, p)
    cover = metrics.interval_coverage(y, lower, upper) if lower is not None else float("nan")
    print(
        f"  {label:34s} gini {r['normalized_gini']:.3f} sp {r['spearman']:.3f} mae {r['mae']:6.2f} "
        f"rmse {r['rmse']:6.1f} bias {r['bias']:+7.1%} dmape {r['decile_mape']:.3f} cov {cover:.3f}",
        flush=True,
    )
    return {**r, "coverage": cover}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--origins", nargs="+", choices=sorted(ORIGINS), default=list(ORIGINS))
    parser.add_argument("--config", action="append", default=None, help="key=value,... (repeatable)")
    parser.add_argument("--variants", action="store_true", help="post-hoc level corrections too")
    args = parser.parse_args()
    with open(args.params) as fh:
        raw = yaml.safe_load(fh)
    logs: dict[str, pl.DataFrame] = {}
    if any(ORIGINS[o][0] == "synth" for o in args.origins):
        logs["synth"] = synthetic_orders(args.params, seed=3)
    if any(ORIGINS[o][0] == "cdnow" for o in args.origins):
        logs["cdnow"] = load_orders(args.params, None)
    configs = args.config or [""]
    summary: dict[str, list[dict[str, float]]] = {c: [] for c in configs}
    for origin in args.origins:
        log, as_of_text, horizon = ORIGINS[origin]
        as_of = dt.date.fromisoformat(as_of_text)
        orders = logs[log].filter(pl.col("order_date") <= as_of)
        for k, config in enumerate(configs):
            start = time.perf_counter()
            result = backtest(orders, as_of, parse_params(with_overrides(raw, config)), horizon)
            f, model = result.predictions, result.model
            y, p = f["actual"].to_numpy(), f["model"].to_numpy()
            lower, upper, btyd = f["lower"].to_numpy(), f["upper"].to_numpy(), f["btyd"].to_numpy()
            if k == 0:
                print(f"{origin}: cutoff {result.cutoff}, actuals to {as_of}, {f.height:,} customers")
                _line("BG/NBD + Gamma-Gamma", y, btyd)
            print(
                f"  [{config or 'params.yaml'}] lookback {result.lookback_months} m, {model.trees_} trees, "
                f"{model.validation_}; {time.perf_counter() - start:.0f} s"
            )
            summary[config].append(_line("model", y, p, lower, upper))
            if args.variants:
                oos = model.oos_
                ratio = float(oos["actual"].sum() / oos["predicted"].sum())
                _line(f"x validation ratio {ratio:.3f}", y, p * ratio, lower * ratio, upper * ratio)
                level = float(btyd.sum() / p.sum())
                _line("rescaled to the BTYD total", y, p * level, lower * level, upper * level)
    print("summary over origins: mean Gini, mean MAE, mean |bias|, mean decile MAPE, coverage in 87-93%")
    for config, rows in summary.items():
        print(
            f"  [{config or 'params.yaml'}] {np.mean([r['normalized_gini'] for r in rows]):.3f}, "
            f"{np.mean([r['mae'] for r in rows]):.2f}, {np.mean([abs(r['bias']) for r in rows]):.1%}, "
            f"{np.mean([r['decile_mape'] for r in rows]):.3f}, "
            f"{sum(0.87 <= r['coverage'] <= 0.93 for r in rows)} of {len(rows)}"
        )


if __name__ == "__main__":
    main()
