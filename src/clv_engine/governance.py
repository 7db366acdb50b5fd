"""Champion and challenger: which model scores, how the two compare, whether to promote.

The train stage fits a new model on every run: the *challenger*. A person promotes one
(``make promote``): it becomes the *champion*, a versioned artifact in ``models/champion/``
(its bundle and its training rows, tracked by DVC, and its model_metadata.json; the card
``models/champion_card.json`` says who promoted it and when, and no stage reads it). While
a champion exists, the pipeline scores, explains, segments and monitors with it
(:func:`model_in_use`), so the monitor compares today's customers with the population
the model in use was trained on.

The comparison (:func:`compare_at_origins`) is made at the rolling backtest's origins that
lie on or after the champion's training date: there the frozen champion scores the
customers known at the origin as it would have in production, and the challenger's recipe
(the same path refitted at the origin, the evaluate stage's backtest) did the same; both
are scored on what those customers bought over the horizon. Earlier origins are not used:
the champion was trained on their outcomes. :func:`recommend` turns the comparison and the
monitor's drift alerts into ``promote_recommended`` and its reasons in plain words.
Promoting stays a person's act; nothing here changes the champion.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from . import metrics
from .dataset import sample_customers
from .errors import UserError
from .params import GovernanceParams, Params
from .scalars import as_date, as_float
from .scoring import Forecaster
from .timeline import add_months, horizon_days, labels

__all__ = [
    "BUNDLE",
    "METADATA",
    "TRAINING",
    "ChampionError",
    "InUse",
    "champion_comparison",
    "champion_files",
    "compare_at_origins",
    "governance_report",
    "model_in_use",
    "recommend",
]

#: The champion's files inside its folder (models/champion/).
BUNDLE = "bundle.joblib"
TRAINING = "training.parquet"
METADATA = "metadata.json"  # its reports/model_metadata.json (git-tracked: a reviewer reads it)


class ChampionError(UserError, ValueError):
    """models/champion/ is incomplete (the message says how to restore it)."""


@dataclass(frozen=True)
class InUse:
    """The model that scores this run and where its files are."""

    scored_with: str  # "champion" or "latest"
    bundle: Path
    training: Path
    metadata: Path


def model_in_use(
    champion_dir: Path, latest_bundle: Path, latest_training: Path, latest_metadata: Path
) -> InUse:
    """The champion when one was promoted (its three files present), else the latest model."""
    files = champion_files(champion_dir)
    if files is None:
        return InUse("latest", latest_bundle, latest_training, latest_metadata)
    return InUse("champion", *files)


def champion_files(champion_dir: Path) -> tuple[Path, Path, Path] | None:
    """The champion's bundle, training rows and metadata; None when none was promoted.

    Raises :class:`ChampionError` when one was promoted but a file is not in the workspace.
    """
    files = (champion_dir / BUNDLE, champion_dir / TRAINING, champion_dir / METADATA)
    present = [p for p in files if p.is_file()]
    pointers = [p for p in files if Path(f"{p}.dvc").is_file()]
    if not present and not pointers:
        return None
    missing = [p for p in files if not p.is_file()]
    if missing:
        names = ", ".join(map(str, missing))
        raise ChampionError(
            f"{champion_dir}: a champion was promoted but {names} is not in the workspace (a fresh "
            f"clone has only its .dvc file): run `dvc pull {champion_dir}` from the DVC remote you "
            f"pushed it to, or `dvc checkout {champion_dir}` where it is in the cache; to score with "
            f"the latest model instead, remove the folder's files and their .dvc files"
        )
    return files


def compare_at_origins(
    champion: Forecaster,
    orders: pl.DataFrame,
    origins: pl.DataFrame,
    horizon_months: int,
    older_max_customers: int,
    seed: int,
    floor_at_zero: bool,
) -> pl.DataFrame:
    """Champion beside the challenger's recipe at each backtest origin on or after the champion's date.

    ``origins``: reports/plots/origins.csv (cutoff, customers_sampled, bias_model,
    gini_model, coverage: the challenger's recipe); ``orders``: the log up to as_of. Each
    origin is scored on the customers the backtest used there (all, or the same seeded
    sample). Returns one row per origin: cutoff, customers, then bias, gini and coverage of
    ``champion`` and ``challenger``, sorted by cutoff (empty when no origin qualifies).
    """
    schema = {"cutoff": pl.Date, "customers": pl.Int64}
    schema |= {
        f"{m}_{who}": pl.Float64 for who in ("champion", "challenger") for m in ("bias", "gini", "coverage")
    }
    out = []
    for row in origins.sort("cutoff").iter_rows(named=True):
        cutoff = row["cutoff"]
        if cutoff < champion.as_of:
            continue
        sample = (
            sample_customers(orders, cutoff, older_max_customers, seed) if row["customers_sampled"] else None
        )
        subset = orders if sample is None else orders.filter(pl.col("customer_id").is_in(sample.implode()))
        scores = champion.predict_orders(subset.filter(pl.col("order_date") <= cutoff), cutoff)
        end = add_months(cutoff, horizon_months)
        days = horizon_days(cutoff, horizon_months)
        actual = labels(subset.filter(pl.col("order_date") <= end), cutoff, days, floor_at_zero)
        joined = scores.join(actual, on="customer_id", how="inner").sort("customer_id")
        y = joined["label_revenue"].to_numpy()
        out.append(
            {
                "cutoff": cutoff,
                "customers": joined.height,
                "bias_champion": metrics.aggregate_bias(y, joined["predicted_clv"].to_numpy()),
                "gini_champion": metrics.normalized_gini(y, joined["predicted_clv"].to_numpy()),
                "coverage_champion": metrics.interval_coverage(
                    y, joined["clv_lower"].to_numpy(), joined["clv_upper"].to_numpy()
                ),
                "bias_challenger": row["bias_model"],
                "gini_challenger": row["gini_model"],
                "coverage_challenger": row["coverage"],
            }
        )
    return pl.DataFrame(out, schema=schema).with_columns(pl.col(pl.Float64).round(6))


def _means(table: pl.DataFrame, who: str) -> dict[str, float]:
    return {
        "mean_abs_bias": round(as_float(table[f"bias_{who}"].abs().mean()), 6),
        "mean_gini": round(as_float(table[f"gini_{who}"].mean()), 6),
        "mean_coverage": round(as_float(table[f"coverage_{who}"].mean()), 6),
    }


def recommend(
    scored_with: str,
    same_bundle: bool,
    comparison: pl.DataFrame | None,
    comparison_note: str,
    drift: dict[str, Any],
    backtest: dict[str, Any] | None,
    rules: GovernanceParams,
) -> tuple[bool, list[str], dict[str, Any] | None]:
    """(promote_recommended, reasons in plain words, the comparison's means or None).

    ``drift``: reports/monitoring/monitoring_summary.json; ``backtest``: metrics.json's
    ``origins`` summary (None without a backtest); ``comparison``: :func:`compare_at_origins`
    (None without a champion).
    """
    reasons: list[str]
    if scored_with == "latest":
        reasons = [
            "no model has been promoted: the latest model, refitted on every run, scores the "
            "customers; promote one (make promote) so that the model in use changes only when a "
            "person decides"
        ]
        if backtest is None:
            return False, [*reasons, "there is no backtest on this log to judge the model by yet"], None
        model, btyd = backtest["model"], backtest["btyd"]
        beats = model["mean_gini"] > btyd["mean_gini"] and model["mean_abs_bias"] <= btyd["mean_abs_bias"]
        reasons.append(
            f"over {backtest['count']} backtest origins it ranks customers with a mean normalized Gini "
            f"of {model['mean_gini']:.3f} (BG/NBD + Gamma-Gamma {btyd['mean_gini']:.3f}) and misses the "
            f"total by {model['mean_abs_bias']:.1%} on average (BG/NBD + Gamma-Gamma "
            f"{btyd['mean_abs_bias']:.1%})"
            + ("" if beats else ": it does not beat the textbook models on both; look before promoting")
        )
        return beats, reasons, None
    if same_bundle:
        return False, ["the challenger is the champion (the same bundle): nothing to promote"], None
    reasons = []
    drifted = bool(drift.get("retrain_recommended"))
    if drifted:
        reasons.append("drift found since the champion was trained: " + "; ".join(drift.get("reasons", [])))
    if comparison is None or comparison.height == 0:
        reasons.append(comparison_note)
        return drifted, reasons or ["no drift found"], None
    means = {"champion": _means(comparison, "champion"), "challenger": _means(comparison, "challenger")}
    gini_gain = means["challenger"]["mean_gini"] - means["champion"]["mean_gini"]
    bias_gain = means["champion"]["mean_abs_bias"] - means["challenger"]["mean_abs_bias"]
    better = (gini_gain >= rules.min_gini_gain and bias_gain > -rules.min_abs_bias_gain) or (
        bias_gain >= rules.min_abs_bias_gain and gini_gain > -rules.min_gini_gain
    )
    worse = not better and (gini_gain <= -rules.min_gini_gain or bias_gain <= -rules.min_abs_bias_gain)
    n = comparison.height
    where = f"over {n} backtest origin{'s' if n != 1 else ''} since the champion's date"
    change = (
        f"mean normalized Gini {means['challenger']['mean_gini']:.3f} vs "
        f"{means['champion']['mean_gini']:.3f} "
        f"({gini_gain:+.3f}), mean |bias| of the total {means['challenger']['mean_abs_bias']:.1%} vs "
        f"{means['champion']['mean_abs_bias']:.1%} ({-bias_gain:+.1%} points)"
    )
    if better:
        reasons.append(f"the challenger is better {where}: {change}")
    elif worse:
        reasons.append(f"keep the champion: the challenger is worse {where}: {change}")
    else:
        reasons.append(
            f"the challenger and the champion are within the thresholds (governance.min_gini_gain "
            f"{rules.min_gini_gain}, min_abs_bias_gain {rules.min_abs_bias_gain}) {where}: {change}"
        )
    return better or (drifted and not worse), reasons, means


def champion_comparison(
    champion: dict[str, Any],
    horizon_months: int,
    origins: pl.DataFrame,
    load: Callable[[], tuple[Forecaster, pl.DataFrame]],
    params: Params,
    progress: Callable[[str], None],
) -> tuple[pl.DataFrame, str]:
    """The champion beside the challenger's recipe (:func:`compare_at_origins`) and what the
    comparison rests on, or why it is empty. ``champion``: its entry in reports/model_in_use.json;
    ``load``: the champion's Forecaster and the log up to as_of, read only when there is
    something to compare."""
    trained = dt.date.fromisoformat(champion["trained_as_of"])
    empty = pl.DataFrame(schema={"cutoff": pl.Date})
    if champion["horizon_months"] != horizon_months:
        return empty, (
            f"no comparison: the champion forecasts {champion['horizon_months']} months, the "
            f"challenger {horizon_months} (windows.horizon_months changed); their backtests are not "
            "like for like"
        )
    if origins.height == 0:
        return empty, "no comparison: this log has no backtest origin"
    forecaster, orders = load()
    progress(f"scoring the champion (trained as of {trained}) at the backtest origins since then")
    table = compare_at_origins(
        forecaster,
        orders,
        origins,
        horizon_months,
        params.evaluate.older_max_customers,
        params.seed,
        params.labels.floor_at_zero,
    )
    if table.height == 0:
        ends = add_months(trained, horizon_months)  # the champion's first forecast ends
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
    first, last = as_date(table["cutoff"].min()), as_date(table["cutoff"].max())
    return table, (
        f"{table.height} origin(s) from {first} to {last}: the frozen champion and the challenger's "
        f"recipe refitted at each origin, on the same customers{warm}"
    )


def governance_report(
    in_use: dict[str, Any],
    comparison: pl.DataFrame | None,
    note: str,
    means: dict[str, Any] | None,
    recommended: bool,
    reasons: list[str],
) -> dict[str, Any]:
    """reports/governance.json: which model scored, both cards, the comparison, the recommendation."""
    champion = in_use["champion"]
    return {
        "scored_with": in_use["scored_with"],
        "champion": None if champion is None else _card(champion),
        "challenger": _card(in_use["latest"]),
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
    }


def _card(described: dict[str, Any]) -> dict[str, Any]:
    return {k: described[k] for k in ("sha256", "trained_as_of", "update")}
