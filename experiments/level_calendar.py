"""Evidence for the level rule (src/clv_engine/level.py): rolling origins on several logs.

    .venv/bin/python experiments/level_calendar.py

For every log and horizon, :func:`clv_engine.level.level_history` gives the BG/NBD + GG
total and the realised total at each monthly origin; each candidate rule then forecasts
every origin's total from the origins realised before it. Printed per log: mean and worst
|error| of the total (forecast / realised - 1) for each rule, and the per-origin table of
the shipped rule. Nothing here is fitted to the origins it is scored on.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from pathlib import Path

import numpy as np
import polars as pl

from clv_engine.ingest import ingest
from clv_engine.level import forecast_level, level_history
from clv_engine.orders import build_orders
from clv_engine.params import ColumnMapping, IngestParams, LifecycleParams
from clv_engine.synth import SynthConfig, generate_transactions

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def _orders(path: str, columns: ColumnMapping, duplicates: str = "quarantine") -> pl.DataFrame:
    return build_orders(ingest(IngestParams(path=path, columns=columns, duplicates=duplicates)).transactions)


#: Logs run only when named (``only``): the default set is the one whose numbers
#: experiments/RESULTS.md records; these were added on 2026-12-08 (issue 14, a season just learned).
EXTRA = {
    # An online retailer's two years (as the level issue's first log): a November peak,
    # growth, wholesale buyers, cancellations, guest checkouts and returns.
    "retail-2y": SynthConfig(
        n_transactions=150_000,
        seed=31,
        start=dt.date(2022, 1, 1),
        end=dt.date(2023, 12, 31),
        acquisition_growth_per_year=0.5,
        acquisition_share=1.0,
        season_peak_day=320,
        season_amplitude=0.6,
        wholesale_share=0.03,
        wholesale_multiplier=60.0,
        cancellation_rate=0.03,
        guest_share=0.25,
        return_rate=0.05,
    ),
    # A grocer's two years: frequent buyers, a mild December season, slow growth.
    "grocery-2y": SynthConfig(
        n_transactions=200_000,
        seed=41,
        start=dt.date(2022, 1, 1),
        end=dt.date(2023, 12, 31),
        r=3.0,
        alpha=30.0,
        b=30.0,
        season_amplitude=0.15,
        season_peak_day=355,
        acquisition_growth_per_year=0.2,
        acquisition_share=1.0,
        return_rate=0.01,
    ),
}


def logs(tmp: Path, only: str | None = None) -> dict[str, pl.DataFrame]:
    """The visible logs by name (``only``: just that one)."""
    out = {
        "cdnow": _orders(
            str(SHARED / "cdnow" / "cdnow_master.csv"), ColumnMapping(quantity="quantity"), "keep"
        ),
        "superstore": _orders(
            str(SHARED / "superstore" / "superstore.csv"),
            ColumnMapping(
                customer_id="Customer ID",
                order_date="Order Date",
                revenue="Sales",
                order_id="Order ID",
                quantity="Quantity",
            ),
        ),
    }
    synth = {
        "synth-growth-nov": SynthConfig(
            n_transactions=200_000,
            seed=5,
            acquisition_growth_per_year=0.6,
            acquisition_share=1.0,
            season_peak_day=310,
            season_amplitude=0.5,
            wholesale_share=0.02,
            cancellation_rate=0.02,
        ),
        "synth-decline-dec": SynthConfig(
            n_transactions=200_000, seed=8, acquisition_growth_per_year=-0.3, acquisition_share=1.0
        ),
        "synth-cohorts": SynthConfig(n_transactions=200_000, seed=3),
        "synth-2y-peak": SynthConfig(
            n_transactions=150_000,
            seed=13,
            start=dt.date(2022, 1, 1),
            end=dt.date(2023, 12, 31),
            acquisition_growth_per_year=0.3,
            acquisition_share=1.0,
            season_peak_day=300,
            season_amplitude=0.7,
        ),
        # Frequent buyers (grocery-like): a purchase every week or two, few drop out, so many
        # customers are near-sure to buy in the horizon (their intervals: issue 20).
        "synth-frequent": SynthConfig(
            n_transactions=150_000,
            seed=21,
            start=dt.date(2022, 1, 1),
            end=dt.date(2023, 12, 31),
            r=3.0,
            alpha=30.0,
            b=30.0,
            season_amplitude=0.1,
            acquisition_growth_per_year=0.1,
            acquisition_share=1.0,
        ),
    }
    if only:
        out = {k: v for k, v in out.items() if k == only}
        synth = {k: v for k, v in {**synth, **EXTRA}.items() if k == only}
    for name, config in synth.items():
        path = tmp / f"{name}.csv"
        generate_transactions(config).write_csv(path)
        out[name] = _orders(str(path), ColumnMapping(order_id="order_id", quantity="quantity"))
    return out


def candidates(history: pl.DataFrame, cutoff: dt.date, horizon: int) -> dict[str, float]:
    row = history.filter(pl.col("cutoff") == cutoff).row(0, named=True)
    btyd, seasonal = row["btyd_total"], row["season_btyd_total"]
    shipped = forecast_level(history, cutoff, horizon, btyd, seasonal)
    return {
        "btyd": btyd,
        "season-btyd": seasonal if seasonal else btyd,
        "shipped": shipped.total,
        "method": shipped.method,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--horizons", type=int, nargs="+", default=[3, 6])
    parser.add_argument("--only", nargs="*", default=None)
    args = parser.parse_args()
    rules = LifecycleParams()
    with tempfile.TemporaryDirectory() as tmp:
        all_logs = logs(Path(tmp))
    summary: dict[str, list[float]] = {}
    for name, orders in all_logs.items():
        if args.only and name not in args.only:
            continue
        end = orders["order_date"].max()
        for horizon in args.horizons:
            history = level_history(orders, end, horizon, rules)
            errors: dict[str, list[float]] = {}
            lines = []
            for row in history.iter_rows(named=True):
                found = candidates(history, row["cutoff"], horizon)
                method = found.pop("method")
                actual = row["realized_total"]
                for rule, value in found.items():
                    errors.setdefault(rule, []).append(value / actual - 1)
                    if method == "seasonal":
                        errors.setdefault(rule + " (seasonal origins)", []).append(value / actual - 1)
                lines.append(
                    f"  {row['cutoff']} {method:8s} realised {actual:14,.0f}"
                    + "".join(f" {rule} {value / actual - 1:+7.1%}" for rule, value in found.items())
                )
            print(f"{name} h{horizon}: {len(lines)} origins")
            print("\n".join(lines))
            for rule, errs in errors.items():
                a = np.abs(errs)
                summary.setdefault(rule, []).extend(a.tolist())
                print(
                    f"    {rule:30s} mean |err| {a.mean():6.1%}  worst {a.max():6.1%}  "
                    f"mean {np.mean(errs):+6.1%}  n {a.size}"
                )
    print("all logs and horizons:")
    for rule, a in summary.items():
        print(f"    {rule:30s} mean |err| {np.mean(a):6.1%}  worst {np.max(a):6.1%}  n {len(a)}")


if __name__ == "__main__":
    main()
