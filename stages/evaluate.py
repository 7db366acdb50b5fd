"""DVC stage evaluate: the backtest at as_of - horizon, model vs baselines, for dvc metrics/plots."""

import argparse

import numpy as np
import polars as pl

from clv_engine.evaluation import no_backtest_reason, rolling_backtest
from clv_engine.io import read_json, write_csv, write_json, write_parquet
from clv_engine.params import load_params
from clv_engine.stage import progress, run_stage
from clv_engine.timeline import DataRangeError, resolve_as_of_for


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--orders", required=True)
    parser.add_argument("--selected", required=True, help="the production window choice (for the horizon)")
    parser.add_argument("--metrics", required=True)
    parser.add_argument("--level-history", required=True, help="features stage: the level's past origins")
    parser.add_argument("--plots-dir", required=True)
    parser.add_argument("--segment-metrics", required=True)
    parser.add_argument("--predictions", required=True, help="backtest predictions (Parquet, for monitoring)")
    parser.add_argument(
        "--window-grid",
        required=True,
        help="the backtest's own window search (chosen on data up to its cutoff)",
    )


def main(args: argparse.Namespace) -> str:
    params = load_params(args.params)
    orders = pl.read_parquet(args.orders)
    as_of = resolve_as_of_for(orders, params.as_of)
    horizon = read_json(args.selected)["horizon_months"]
    try:
        rolling = rolling_backtest(
            orders,
            as_of,
            params,
            horizon,
            params.evaluate.origins,
            progress,
            pl.read_parquet(args.level_history),
        )
    except DataRangeError as exc:
        return _no_backtest(args, no_backtest_reason(orders, as_of, params, horizon), str(exc))
    result = rolling.newest
    report = {
        "backtest": {
            "cutoff": result.cutoff.isoformat(),
            "actuals_until": as_of.isoformat(),
            "horizon_days": result.horizon_days,
            "lookback_months": result.lookback_months,
            "customers": result.predictions.height,
        },
        **result.metrics,
        # Each horizon at the newest origin that realises it (a horizon longer than H ends
        # after as_of at the newest one): the full metric set, with that origin's cutoff.
        "horizons": rolling.horizons,
        "horizons_not_realised": rolling.horizons_not_realised,
        # Every origin (reports/plots/origins.csv has the table): the newest is the one above.
        "origins": rolling.summary,
    }
    write_json(report, args.metrics)
    write_csv(rolling.origins, f"{args.plots_dir}/origins.csv")
    for line in rolling.skipped:
        progress(f"origin not backtested: {line}")
    write_csv(result.deciles, f"{args.plots_dir}/deciles.csv")
    write_csv(result.gain, f"{args.plots_dir}/gain.csv")
    write_csv(_predicted_vs_actual(result.predictions), f"{args.plots_dir}/predicted_vs_actual.csv")
    write_csv(result.segments, args.segment_metrics)
    write_parquet(result.predictions, args.predictions)
    write_csv(result.window_grid, args.window_grid)
    m, o = result.metrics["model"], rolling.summary
    return (
        f"backtest {result.cutoff} -> {as_of}: normalized Gini {m['normalized_gini']:.3f}, "
        f"MAE {m['mae']:.2f}, bias {m['bias']:+.1%}, coverage {result.metrics['interval']['coverage']:.1%}; "
        f"{o['count']} origins: mean |bias| {o['model']['mean_abs_bias']:.1%} (BG/NBD + GG "
        f"{o['btyd']['mean_abs_bias']:.1%}), coverage {o['coverage']['min']:.1%}-{o['coverage']['max']:.1%}, "
        f"total inside its range at {o['total_inside_range_share']:.0%}"
    )


def _no_backtest(args: argparse.Namespace, reason: str, detail: str) -> str:
    """Too short a log: the outputs say so (empty tables), and the pipeline goes on."""
    progress(f"{reason} ({detail})")
    write_json({"backtest": None, "no_backtest": reason}, args.metrics)
    empty = {
        "deciles.csv": {"decile": pl.Int64, "mean_predicted": pl.Float64, "mean_actual": pl.Float64},
        "gain.csv": {"customer_share": pl.Float64},
        "predicted_vs_actual.csv": {"mean_predicted": pl.Float64, "mean_actual": pl.Float64},
        "origins.csv": {"cutoff": pl.Date, "bias_model": pl.Float64, "bias_btyd": pl.Float64},
    }
    for name, schema in empty.items():
        write_csv(pl.DataFrame(schema=schema), f"{args.plots_dir}/{name}")
    write_csv(pl.DataFrame(schema={"customer_stage": pl.String}), args.segment_metrics)
    write_csv(pl.DataFrame(schema={"lookback_months": pl.Int64}), args.window_grid)
    write_parquet(pl.DataFrame(schema={"customer_id": pl.String, "model": pl.Float64}), args.predictions)
    return reason


def _predicted_vs_actual(predictions: pl.DataFrame, bins: int = 50) -> pl.DataFrame:
    """Mean predicted vs mean actual in 50 equal-count bins of the prediction.

    Sequential numpy sums over the sorted customers: the same bytes on every run.
    """
    ranked = predictions.sort(["model", "customer_id"])
    n = ranked.height
    starts = np.unique(np.arange(bins) * n // bins)
    sizes = np.diff(np.r_[starts, n])
    return pl.DataFrame(
        {
            "bin": np.arange(starts.size),
            "customers": sizes,
            "mean_predicted": np.add.reduceat(ranked["model"].to_numpy(), starts) / sizes,
            "mean_actual": np.add.reduceat(ranked["actual"].to_numpy(), starts) / sizes,
        }
    )


if __name__ == "__main__":
    run_stage("evaluate", add_arguments, main)
