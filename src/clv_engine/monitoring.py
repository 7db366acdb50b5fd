"""Drift monitoring with a human in the loop: it reports, it never retrains.

Reference: like with like where the log allows. The training population at the training
cutoff a year before ``as_of`` (the same calendar window, so a season is not drift), else
at the newest training cutoff (:func:`reference_cutoff`), and the model's predictions for
it. Current: the customers scored at ``as_of`` and their predictions.

- feature drift: per numeric feature the two-sample Kolmogorov-Smirnov statistic and
  p-value and the population stability index (PSI, 10 bins at the reference deciles);
  per categorical feature PSI and a chi-square test of the category counts;
- prediction drift: KS, PSI, and the relative shift of the mean and of the 50/90/99th
  percentiles of predicted CLV;
- effect on the forecast: with SHAP values, each feature's change in mean SHAP value (log
  scale: +0.05 is about +5% on the average forecast). A feature that drifts where the model
  is flat does not move the forecast: it is reported, and it alerts only when its effect
  reaches ``min_forecast_effect``; reasons are ranked by effect;
- segment mix: chi-square test and PSI of the customer_stage and status_segment shares
  (a mix in ``ignore_features``, as customer_stage, tenure in bands, is reported, never alerted);
- SHAP drift: the change in mean |SHAP| of each feature and in the features' importance
  ranking (Spearman correlation of the two rankings, and the top-5 features that left);
- accuracy: the backtest's normalized Gini against the model's own validation Gini.

An alert needs an effect size, not only significance (with tens of thousands of customers
every p-value is tiny): PSI >= ``psi_alert`` or KS >= ``ks_alert`` for a feature or the
predictions, PSI >= ``mix_psi_alert`` with chi-square p < ``p_value`` for the mix, a
relative Gini drop above ``accuracy_drop_alert`` for accuracy, a rank correlation of the
importances below ``shap_rank_alert`` or a change of the total mean |SHAP| above
``shap_shift_alert`` (relative) for SHAP. Features that move with the
calendar or the customer's age by construction (``ignore_features``) are reported but
never alert. PSI uses shares floored at 1e-4 so empty bins stay finite.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from scipy import stats

from .evaluation import model_features
from .explain import explain, shap_means
from .metrics import same_amounts
from .model import CLVModel
from .params import MonitorParams, Params
from .scalars import as_date

__all__ = [
    "MonitorResult",
    "feature_drift",
    "monitor",
    "monitor_model",
    "no_reference",
    "psi",
    "reference_cutoff",
    "shap_drift",
]

_FLOOR = 1e-4
# What every monitoring summary says about who decides.
_DECISION = "a person decides whether to retrain; this stage never retrains"
# A training cutoff within this many days of as_of - 1 year is "the same calendar window".
_SAME_WINDOW_DAYS = 31


def reference_cutoff(cutoffs: list[dt.date], as_of: dt.date) -> tuple[dt.date, str]:
    """The training cutoff to compare the scored customers with, and why it was chosen."""
    year_ago = as_of - dt.timedelta(days=365)
    near = [c for c in cutoffs if abs((c - year_ago).days) <= _SAME_WINDOW_DAYS]
    if near:
        chosen = min(near, key=lambda c: (abs((c - year_ago).days), c))
        return chosen, f"the training customers at {chosen}: the same calendar window a year earlier"
    newest = max(cutoffs)
    return newest, (
        f"the training customers at {newest}, the newest training cutoff (no training cutoff lies "
        f"a year before {as_of}: a seasonal swing can look like drift)"
    )


def psi(reference: np.ndarray, current: np.ndarray, bins: int = 10) -> float:
    """Population stability index of ``current`` against ``reference`` (numeric)."""
    reference, current = reference[np.isfinite(reference)], current[np.isfinite(current)]
    if reference.size == 0 or current.size == 0:
        return float("nan")
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))
    ref = (
        np.bincount(np.searchsorted(edges, reference, side="right"), minlength=edges.size + 1)
        / reference.size
    )
    cur = np.bincount(np.searchsorted(edges, current, side="right"), minlength=edges.size + 1) / current.size
    return _psi_shares(ref, cur)


def _psi_shares(ref: np.ndarray, cur: np.ndarray) -> float:
    ref, cur = np.maximum(ref, _FLOOR), np.maximum(cur, _FLOOR)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def _categorical(reference: pl.Series, current: pl.Series) -> tuple[float, float]:
    """(PSI, chi-square p-value) of category shares."""
    categories = sorted(set(reference.drop_nulls().to_list()) | set(current.drop_nulls().to_list()))
    ref_counts = np.array([(reference == c).sum() for c in categories], dtype=float)
    cur_counts = np.array([(current == c).sum() for c in categories], dtype=float)
    share = _psi_shares(ref_counts / ref_counts.sum(), cur_counts / cur_counts.sum())
    if len(categories) < 2:
        return share, 1.0
    table = np.vstack([ref_counts, cur_counts])
    table = table[:, table.sum(axis=0) > 0]
    p_value = float(stats.chi2_contingency(table)[1]) if table.shape[1] > 1 else 1.0
    return share, p_value


def feature_drift(
    reference: pl.DataFrame,
    current: pl.DataFrame,
    numeric: list[str],
    categorical: list[str],
    params: MonitorParams,
    effect: dict[str, float] | None = None,
) -> pl.DataFrame:
    """One row per feature: kind, KS statistic and p-value, PSI, chi-square p, the effect on
    the forecast (``effect``: change in mean SHAP, log scale), drift flag, reason."""
    rows = []
    for name in numeric:
        ref = reference[name].cast(pl.Float64).to_numpy()
        cur = current[name].cast(pl.Float64).to_numpy()
        ref, cur = same_amounts(ref[np.isfinite(ref)]), same_amounts(cur[np.isfinite(cur)])
        ks = stats.ks_2samp(ref, cur) if ref.size and cur.size else None
        value = psi(ref, cur)
        ks_stat = float(ks.statistic) if ks is not None else float("nan")
        drifted = (value >= params.psi_alert) or (ks_stat >= params.ks_alert)
        rows.append(
            {
                "feature": name,
                "kind": "numeric",
                "ks_statistic": ks_stat,
                "ks_p_value": float(ks.pvalue) if ks is not None else float("nan"),
                "psi": value,
                "chi2_p_value": None,
                "mean_reference": float(np.mean(ref)) if ref.size else None,
                "mean_current": float(np.mean(cur)) if cur.size else None,
            }
            | _flag(name, drifted, params, f"PSI {value:.2f}, KS {ks_stat:.2f}", effect)
        )
    for name in categorical:
        value, p_value = _categorical(reference[name], current[name])
        drifted = value >= params.psi_alert
        rows.append(
            {
                "feature": name,
                "kind": "categorical",
                "ks_statistic": None,
                "ks_p_value": None,
                "psi": value,
                "chi2_p_value": p_value,
                "mean_reference": None,
                "mean_current": None,
            }
            | _flag(name, drifted, params, f"PSI {value:.2f}", effect)
        )
    table = pl.DataFrame(rows, infer_schema_length=None).with_columns(
        pl.col("forecast_effect").cast(pl.Float64).abs().alias("_size")
    )
    return table.sort(["drift", "_size", "psi"], descending=True, nulls_last=True).drop("_size")


def _flag(
    name: str, drifted: bool, params: MonitorParams, evidence: str, effect: dict[str, float] | None
) -> dict[str, Any]:
    size = None if effect is None else effect.get(name)
    out: dict[str, Any] = {"forecast_effect": size}
    if name in params.ignore_features:
        return out | {
            "drift": False,
            "note": f"moves with the calendar or age by construction ({evidence}): not alerted",
        }
    if drifted and size is not None:
        evidence += f", effect on the forecast {math.expm1(size):+.1%}"
        if abs(size) < params.min_forecast_effect:
            return out | {
                "drift": False,
                "note": f"{evidence}: below {params.min_forecast_effect} on the log scale, not alerted",
            }
    return out | {"drift": bool(drifted), "note": evidence if drifted else ""}


def shap_drift(
    reference: pl.DataFrame, current: pl.DataFrame, params: MonitorParams
) -> tuple[pl.DataFrame, dict[str, Any], list[str]]:
    """Per feature mean |SHAP| before and after; ranking agreement; reasons for an alert.

    ``reference``, ``current``: :func:`clv_engine.explain.shap_means` of each population,
    the same features in the same order.
    """
    _same_features(reference, current)
    ref, cur = reference["mean_abs_shap"].to_numpy(), current["mean_abs_shap"].to_numpy()
    table = pl.DataFrame(
        {
            "feature": reference["feature"],
            "mean_abs_shap_reference": ref,
            "mean_abs_shap_current": cur,
            "relative_change": np.where(ref > 0, cur / np.where(ref > 0, ref, 1.0) - 1, np.nan),
            "rank_reference": stats.rankdata(-ref, method="ordinal").astype(int),
            "rank_current": stats.rankdata(-cur, method="ordinal").astype(int),
        }
    ).sort("rank_reference")
    rho = float(stats.spearmanr(ref, cur).statistic) if np.ptp(ref) > 0 and np.ptp(cur) > 0 else 1.0
    total_shift = float(cur.sum() / ref.sum() - 1) if ref.sum() > 0 else 0.0
    top_ref = set(table.filter(pl.col("rank_reference") <= 5)["feature"])
    top_cur = set(table.filter(pl.col("rank_current") <= 5)["feature"])
    summary = {
        "importance_rank_correlation": rho,
        "total_mean_abs_shap_shift": total_shift,
        "left_top5": sorted(top_ref - top_cur),
        "entered_top5": sorted(top_cur - top_ref),
    }
    reasons = []
    if rho < params.shap_rank_alert:
        reasons.append(
            f"what drives the model changed: the feature importance ranking correlates {rho:.2f} "
            f"with training's (alert below {params.shap_rank_alert})"
        )
    if abs(total_shift) > params.shap_shift_alert:
        reasons.append(f"the model's corrections changed in size: total mean |SHAP| {total_shift:+.0%}")
    return table, summary, reasons


def _same_features(reference: pl.DataFrame, current: pl.DataFrame) -> None:
    if reference["feature"].to_list() != current["feature"].to_list():
        raise ValueError(
            "the SHAP means of the two populations are not of the same features in the same order: "
            f"{reference['feature'].to_list()} vs {current['feature'].to_list()}"
        )


@dataclass(frozen=True)
class MonitorResult:
    feature_drift: pl.DataFrame
    prediction_drift: dict[str, Any]
    summary: dict[str, Any]
    shap_drift: pl.DataFrame | None = None

    @property
    def verdict(self) -> str:
        """One line for a person: what the checks found."""
        if "no_reference" in self.summary:
            return str(self.summary["no_reference"])
        # Whether the alert calls for retraining depends on the model in use (a promoted
        # champion, or the one this run trained): the report says which (report.drift_block).
        decision = "drift alert (a person decides)" if self.summary["retrain_recommended"] else "no alert"
        drifted, checked = self.summary["features_drifted"], self.summary["features_checked"]
        return f"{drifted} of {checked} features drifted; {decision}"


def no_reference(method: str) -> MonitorResult:
    """No model was trained (too short a log; ``method`` says why): there is no training
    population to compare the customers with, and the outputs say so."""
    reason = (
        "no drift check: no model was trained, so there is no training population to compare the "
        f"customers with ({method})"
    )
    summary = {
        "retrain_recommended": False,
        "reasons": [],
        "decision": _DECISION,
        "features_drifted": 0,
        "features_checked": 0,
        "no_reference": reason,
    }
    return MonitorResult(
        pl.DataFrame(schema={"feature": pl.String, "drift": pl.Boolean}),
        {},
        summary,
        pl.DataFrame(schema={"feature": pl.String}),
    )


def monitor_model(
    model: CLVModel,
    training: pl.DataFrame,
    current: pl.DataFrame,
    current_shap_means: pl.DataFrame,
    params: Params,
    metrics: dict[str, Any],
    metadata: dict[str, Any],
    progress: Callable[[str], None] | None = None,
) -> MonitorResult:
    """The monitor stage's checks: the scored customers (``current``, with their SHAP means
    from the explain stage) against the model's training population at the reference cutoff
    (:func:`reference_cutoff`) and the model's own predictions for it; the accuracy check
    reads the backtest's Gini (``metrics``) and the validation's (``metadata``)."""
    chosen, why = reference_cutoff(
        sorted(set(training["cutoff"].to_list())), as_date(current["cutoff"].max())
    )
    reference = training.filter(pl.col("cutoff") == chosen)
    backtest_gini = metrics["model"]["normalized_gini"] if metrics.get("backtest") else None
    validation_gini = metadata["validation"]["out_of_sample"]["normalized_gini"]
    names, categorical = model_features(params)
    numeric = [n for n in names if n not in categorical]
    if progress is not None:
        progress(f"reference: {reference.height:,} customers, {why}; current: {current.height:,}")
    before = explain(model, reference)
    result = monitor(
        reference,
        current,
        before.prediction,
        current["predicted_clv"].to_numpy(),
        numeric,
        categorical,
        params.monitor,
        validation_gini=validation_gini,
        backtest_gini=backtest_gini,
        shap=(shap_means(before.shap, before.features), current_shap_means),
    )
    summary = (
        result.summary
        | {"reference": why}
        | ({"no_backtest": metrics["no_backtest"]} if not metrics.get("backtest") else {})
    )
    return dataclasses.replace(result, summary=summary)


def monitor(
    reference_rows: pl.DataFrame,
    current_rows: pl.DataFrame,
    reference_predictions: np.ndarray,
    current_predictions: np.ndarray,
    numeric: list[str],
    categorical: list[str],
    params: MonitorParams,
    validation_gini: float | None = None,
    backtest_gini: float | None = None,
    shap: tuple[pl.DataFrame, pl.DataFrame] | None = None,
) -> MonitorResult:
    """All checks and the plain-words summary (see the module docstring).

    ``shap``: :func:`clv_engine.explain.shap_means` of the reference and the current
    population.
    """
    effect = None
    shap_table = None
    shap_summary: dict[str, Any] = {}
    shap_reasons: list[str] = []
    if shap is not None:
        # First: it checks that both populations have the same features in the same order.
        shap_table, shap_summary, shap_reasons = shap_drift(shap[0], shap[1], params)
        change = shap[1]["mean_shap"].to_numpy() - shap[0]["mean_shap"].to_numpy()
        effect = {name: float(v) for name, v in zip(shap[0]["feature"], change, strict=True)}
    drift = feature_drift(reference_rows, current_rows, numeric, categorical, params, effect)
    reasons: list[str] = []
    for name, note in drift.filter(pl.col("drift")).select("feature", "note").iter_rows():
        reasons.append(f"feature drift in {name} ({note})")

    ref = same_amounts(np.asarray(reference_predictions, float))
    cur = same_amounts(np.asarray(current_predictions, float))
    ks = stats.ks_2samp(ref, cur)
    quantiles = {}
    for q in (50, 90, 99):
        r, c = np.percentile(ref, q), np.percentile(cur, q)
        quantiles[f"p{q}"] = {"reference": float(r), "current": float(c), "relative_shift": _rel(c, r)}
    prediction: dict[str, Any] = {
        "ks_statistic": float(ks.statistic),
        "ks_p_value": float(ks.pvalue),
        "psi": psi(ref, cur),
        "mean": {
            "reference": float(ref.mean()),
            "current": float(cur.mean()),
            "relative_shift": _rel(cur.mean(), ref.mean()),
        },
        "quantiles": quantiles,
    }
    prediction["drift"] = bool(
        prediction["psi"] >= params.psi_alert or prediction["ks_statistic"] >= params.ks_alert
    )
    if prediction["drift"]:
        reasons.append(
            f"the distribution of predicted CLV moved (PSI {prediction['psi']:.2f}, "
            f"KS {prediction['ks_statistic']:.2f}, mean {prediction['mean']['relative_shift']:+.0%})"
        )

    mix: dict[str, dict[str, Any]] = {}
    for name in ("customer_stage", "status_segment"):
        value, p_value = _categorical(reference_rows[name], current_rows[name])
        shifted = value >= params.mix_psi_alert and p_value < params.p_value
        mix[name] = {"psi": value, "chi2_p_value": p_value, "shift": bool(shifted)}
        if name in params.ignore_features:
            mix[name]["note"] = (
                "moves with the calendar or age by construction (ignore_features): not alerted"
            )
        elif shifted:
            reasons.append(f"the {name} mix shifted (PSI {value:.2f}, chi-square p {p_value:.1e})")

    accuracy: dict[str, Any] = {"validation_gini": validation_gini, "backtest_gini": backtest_gini}
    if validation_gini and backtest_gini is not None and validation_gini > 0:
        drop = 1 - backtest_gini / validation_gini
        accuracy |= {"relative_drop": drop, "alert": bool(drop > params.accuracy_drop_alert)}
        if drop > params.accuracy_drop_alert:
            reasons.append(
                f"accuracy dropped: backtest normalized Gini {backtest_gini:.3f} is {drop:.0%} below the "
                f"validation's {validation_gini:.3f} (alert above {params.accuracy_drop_alert:.0%})"
            )
    reasons.extend(shap_reasons)
    summary = {
        "retrain_recommended": bool(reasons),
        "reasons": reasons,
        "decision": _DECISION,
        "features_drifted": int(drift["drift"].sum()),
        "features_checked": drift.height,
        "segment_mix": mix,
        "accuracy": accuracy,
        "shap": shap_summary,
    }
    return MonitorResult(drift, prediction, summary, shap_table)


def _rel(current: float, reference: float) -> float | None:
    return float(current / reference - 1) if reference else None
