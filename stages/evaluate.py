"""DVC stage evaluate: the backtest at as_of - horizon, model vs baselines, for dvc metrics/plots."""

import argparse

import polars as pl

from clv_engine.evaluation import (
    NO_BACKTEST_TABLES,
    metrics_report,
    no_backtest_reason,
    predicted_vs_actual,
    rolling_backtest,
)
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
        reason = no_backtest_reason(orders, as_of, params, horizon)
        progress(f"{reason} ({exc})")  # too short a log: the outputs say so, and the pipeline goes on
        write_json({"backtest": None, "no_backtest": reason}, args.metrics)
        _write_tables(
            args, {name: pl.DataFrame(schema=schema) for name, schema in NO_BACKTEST_TABLES.items()}
        )
        return reason
    result = rolling.newest
    write_json(metrics_report(rolling, as_of), args.metrics)
    for line in rolling.skipped:
        progress(f"origin not backtested: {line}")
    _write_tables(
        args,
        {
            "origins": rolling.origins,
            "deciles": result.deciles,
            "gain": result.gain,
            "predicted_vs_actual": predicted_vs_actual(result.predictions),
            "segments": result.segments,
            "predictions": result.predictions,
            "window_grid": result.window_grid,
        },
    )
    m, o = result.metrics["model"], rolling.summary
    return (
        f"backtest {result.cutoff} -> {as_of}: normalized Gini {m['normalized_gini']:.3f}, "
        f"MAE {m['mae']:.2f}, bias {m['bias']:+.1%}, coverage {result.metrics['interval']['coverage']:.1%}; "
        f"{o['count']} origins: mean |bias| {o['model']['mean_abs_bias']:.1%} (BG/NBD + GG "
        f"{o['btyd']['mean_abs_bias']:.1%}), coverage {o['coverage']['min']:.1%}-{o['coverage']['max']:.1%}, "
        f"total inside its range at {o['total_inside_range_share']:.0%}"
    )


def _write_tables(args: argparse.Namespace, tables: dict[str, pl.DataFrame]) -> None:
    for name in ("origins", "deciles", "gain", "predicted_vs_actual"):
        write_csv(tables[name], f"{args.plots_dir}/{name}.csv")
    write_csv(tables["segments"], args.segment_metrics)
    write_csv(tables["window_grid"], args.window_grid)
    write_parquet(tables["predictions"], args.predictions)


if __name__ == "__main__":
    run_stage("evaluate", add_arguments, main)
