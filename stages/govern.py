"""DVC stage govern: champion vs challenger on the same backtest origins -> reports/governance.json."""

import argparse
import datetime as dt

import polars as pl

from clv_engine.governance import compare_at_origins, recommend
from clv_engine.io import read_json, write_json
from clv_engine.params import load_params
from clv_engine.scoring import Forecaster
from clv_engine.stage import progress, run_stage
from clv_engine.timeline import add_months, resolve_as_of_for


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--in-use", required=True, help="reports/model_in_use.json (the in_use stage)")
    parser.add_argument("--bundle", required=True, help="the bundle in use (the champion, when promoted)")
    parser.add_argument("--orders", required=True)
    parser.add_argument("--selected", required=True, help="the backtest's horizon")
    parser.add_argument(
        "--origins", required=True, help="reports/plots/origins.csv (the challenger's recipe)"
    )
    parser.add_argument("--metrics", required=True, help="reports/metrics.json")
    parser.add_argument("--monitoring", required=True, help="monitoring_summary.json (drift)")
    parser.add_argument("--governance", required=True, help="reports/governance.json")


def main(args: argparse.Namespace) -> str:
    params = load_params(args.params)
    in_use = read_json(args.in_use)
    scored_with, champion, latest = in_use["scored_with"], in_use["champion"], in_use["latest"]
    backtest = read_json(args.metrics).get("origins")
    horizon = read_json(args.selected)["horizon_months"]
    comparison, note = None, ""
    if champion is not None:
        comparison, note = _compare(args, params, champion, horizon)
    recommended, reasons, means = recommend(
        scored_with,
        champion is not None and champion["sha256"] == latest["sha256"],
        comparison,
        note,
        read_json(args.monitoring),
        backtest,
        params.governance,
    )
    write_json(
        {
            "scored_with": scored_with,
            "champion": None if champion is None else _card(champion),
            "challenger": _card(latest),
            "comparison": None
            if comparison is None
            else {
                "origins": comparison.with_columns(pl.col("cutoff").cast(pl.String)).to_dicts(),
                "mean": means,
                "note": note,
            },
            "promote_recommended": recommended,
            "reasons": reasons,
            "decision": "a person promotes the challenger (make promote) or keeps the champion; "
            "nothing here changes the model in use",
        },
        args.governance,
    )
    for reason in reasons:
        progress(reason)
    return f"scored with the {scored_with} model; promote recommended: {'yes' if recommended else 'no'}"


def _card(described: dict) -> dict:
    return {k: described[k] for k in ("sha256", "trained_as_of", "update")}


def _compare(args: argparse.Namespace, params, champion: dict, horizon: int) -> tuple[pl.DataFrame, str]:
    """The comparison table and what it rests on (or why it is empty)."""
    trained = dt.date.fromisoformat(champion["trained_as_of"])
    empty = pl.DataFrame(schema={"cutoff": pl.Date})
    if champion["horizon_months"] != horizon:
        return empty, (
            f"no comparison: the champion forecasts {champion['horizon_months']} months, the "
            f"challenger {horizon} (windows.horizon_months changed); their backtests are not like for like"
        )
    origins = pl.read_csv(args.origins, try_parse_dates=True)
    if origins.height == 0:
        return empty, "no comparison: this log has no backtest origin"
    orders = pl.read_parquet(args.orders)
    as_of = resolve_as_of_for(orders, params.as_of)
    orders = orders.filter(pl.col("order_date") <= as_of)
    progress(f"scoring the champion (trained as of {trained}) at the backtest origins since then")
    table = compare_at_origins(
        Forecaster.load(args.bundle),
        orders,
        origins,
        horizon,
        params.evaluate.older_max_customers,
        params.seed,
        params.labels.floor_at_zero,
    )
    if table.height == 0:
        ends = add_months(trained, horizon)  # the champion's first forecast ends
        return table, (
            f"no comparison yet: no backtest origin lies on or after the champion's date ({trained}); "
            f"its first forecast ends on {ends}, and until a log reaches that day only drift can be judged"
        )
    warm = (
        "; the challenger itself continues the champion's trees (model.update: warm), and its recipe is "
        "replayed here as a full fit at every origin"
        if params.model.update == "warm"
        else ""
    )
    return table, (
        f"{table.height} origin(s) from {table['cutoff'].min()} to {table['cutoff'].max()}: the frozen "
        f"champion and the challenger's recipe refitted at each origin, on the same customers{warm}"
    )


if __name__ == "__main__":
    run_stage("govern", add_arguments, main)
