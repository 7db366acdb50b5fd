"""Why the model predicts what it does: SHAP values of the revenue model, in plain words.

CatBoost computes exact TreeSHAP values itself (``get_feature_importance(type=
"ShapValues")``). For the Tweedie and log1p objectives these are contributions on the
log scale: prediction = exp(start + sum of contributions), where the start is the
boosting's starting point (the BG/NBD + Gamma-Gamma forecast when ``model.baseline`` is
btyd) times the model's average correction and the level factor. To speak in currency, each customer's
change from the start, ``prediction - start``, is shared among the features in
proportion to their log-scale contributions: the currency contributions add up exactly
to the prediction minus the start.

The ``two_part`` objective multiplies two models, P(buy) x E[revenue | buy]: each part's
SHAP values (log-odds, log spend) share that part's change on the log scale of the
forecast, and the two shares add up (``_two_part_log_contributions``).

SHAP interaction values cost CatBoost a precomputation over every tree and pair of
features, whatever the number of customers (27 s for 423 trees and 52 features, for 100 or
300 customers alike): they are computed on the first ``explain.interaction_max_trees``
trees of each boosted model, and interactions.csv says how many trees that was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from .aggregate import group_sums_means
from .baselines import BTYD_LABELS
from .boosting import share_among
from .features import FEATURES
from .model import CLVModel
from .objectives import objective

__all__ = [
    "Explanation",
    "customer_drivers",
    "explain",
    "global_importance",
    "interactions",
    "plain_label",
    "segment_importance",
    "shap_means",
]

# Short names a non-specialist can read on a chart: each feature's own (FEATURES), and BTYD's.
_LABELS = {f.name: f.label for f in FEATURES if f.label} | BTYD_LABELS


def plain_label(name: str) -> str:
    """A short, plain name for a feature (its name in words when none is set)."""
    return _LABELS.get(name) or name.replace("_", " ")


@dataclass(frozen=True)
class Explanation:
    shap: np.ndarray  # customers x features, log scale
    prediction: np.ndarray  # per customer, currency: the model's predicted CLV
    start: np.ndarray  # per customer, currency: the prediction with every contribution at 0
    currency: np.ndarray  # customers x features, currency; rows add up to prediction - start
    features: list[str]


def explain(model: CLVModel, rows: pl.DataFrame) -> Explanation:
    """SHAP contributions of the revenue model for ``rows`` (see the module docstring)."""
    value_model = model.value_model_
    if not objective(model.params.objective).boosted(value_model):
        n = rows.height
        zeros = np.zeros((n, len(model.features)))
        prediction = model.predict(rows)
        return Explanation(zeros, prediction, prediction, zeros, model.features)
    shap, start = objective(model.params.objective).contributions(model, rows)
    prediction = model.predict(rows)
    # The level factor (model.level) scales every forecast, the start included.
    start = model.shipped(start * model.scale_)
    change = prediction - start
    currency = share_among(shap, change)
    return Explanation(shap, prediction, start, currency, model.features)


def shap_means(shap: np.ndarray, features: list[str]) -> pl.DataFrame:
    """feature, mean_shap, mean_abs_shap: a population's SHAP values (log scale) per feature,
    in the model's feature order. The explain stage writes the scored customers', so that
    the monitor, which compares them with the training population's, does not compute
    every customer's SHAP values a second time (monitor 5.8 s -> 2.4 s on the 1M-row log,
    the same outputs)."""
    return pl.DataFrame(
        {"feature": features, "mean_shap": shap.mean(axis=0), "mean_abs_shap": np.abs(shap).mean(axis=0)},
        schema={"feature": pl.String, "mean_shap": pl.Float64, "mean_abs_shap": pl.Float64},
    )


def global_importance(explanation: Explanation) -> pl.DataFrame:
    """feature, label, mean |SHAP| (log scale), mean |contribution| (currency); sorted."""
    return (
        pl.DataFrame(
            {
                "feature": explanation.features,
                "label": [plain_label(f) for f in explanation.features],
                "mean_abs_shap": np.abs(explanation.shap).mean(axis=0),
                "mean_abs_currency": np.abs(explanation.currency).mean(axis=0),
            }
        )
        .sort(["mean_abs_shap", "feature"], descending=[True, False])
        .with_row_index("rank", offset=1)
    )


def segment_importance(explanation: Explanation, stages: pl.Series) -> pl.DataFrame:
    """Mean |SHAP| per feature for each customer_stage (long format)."""
    # customer_stage is itself a feature: group on a private column.
    features = explanation.features
    frame = pl.DataFrame(np.abs(explanation.shap), schema=features).with_columns(
        stages.alias("_stage"), pl.int_range(stages.len(), dtype=pl.Int64).alias("_row")
    )
    means = group_sums_means(frame, "_stage", features, order_by="_row").select(
        "_stage", *[pl.col(f"mean_{f}").alias(f) for f in features]
    )
    counts = frame.group_by("_stage").agg(pl.len().alias("customers"))
    return (
        means.join(counts, on="_stage")
        .unpivot(index=["_stage", "customers"], variable_name="feature", value_name="mean_abs_shap")
        .rename({"_stage": "customer_stage"})
        .with_columns(pl.col("feature").map_elements(plain_label, return_dtype=pl.String).alias("label"))
        .sort(["customer_stage", "mean_abs_shap", "feature"], descending=[False, True, False])
    )


def interactions(
    model: CLVModel, rows: pl.DataFrame, sample: int, seed: int, top: int = 10, max_trees: int = 300
) -> pl.DataFrame:
    """Top feature pairs by mean |SHAP interaction value| on a seeded sample of customers.

    Each boosted model (two for ``two_part``: the purchase and the spend model) is cut to
    its first ``max_trees`` trees; ``trees`` says how many of how many were used.
    """
    value_model = model.value_model_
    if not objective(model.params.objective).boosted(value_model) or rows.height == 0:
        return pl.DataFrame(schema=_INTERACTIONS)
    if rows.height > sample:
        rows = rows.sample(sample, seed=seed).sort("customer_id")
    parts = objective(model.params.objective).boosters(model, rows)
    names = model.features
    pairs = []
    for booster, pool, where in parts:
        used = _first_trees(booster, max_trees)
        values = np.round(used.get_feature_importance(pool, type="ShapInteractionValues")[:, :-1, :-1], 12)
        strength = np.abs(values).mean(axis=0)
        trees = f"{used.tree_count_} of {booster.tree_count_}"
        pairs += [
            (names[i], names[j], float(strength[i, j] + strength[j, i]), where, trees)
            for i in range(len(names))
            for j in range(i + 1, len(names))
        ]
    pairs.sort(key=lambda t: (-t[2], t[0], t[1], t[3]))
    out = pl.DataFrame(
        pairs[:top],
        schema=["feature_a", "feature_b", "mean_abs_interaction", "_where", "trees"],
        orient="row",
    )
    return out.with_columns(
        pl.format(
            "how much {} matters depends on {}{}",
            pl.col("feature_a").map_elements(plain_label, return_dtype=pl.String),
            pl.col("feature_b").map_elements(plain_label, return_dtype=pl.String),
            pl.col("_where"),
        ).alias("reading")
    ).select(list(_INTERACTIONS))


_INTERACTIONS = {
    "feature_a": pl.String,
    "feature_b": pl.String,
    "mean_abs_interaction": pl.Float64,
    "reading": pl.String,
    "trees": pl.String,
}


def _first_trees(booster: Any, n: int) -> Any:
    """The booster itself, or a copy cut to its first ``n`` trees."""
    if booster.tree_count_ <= n:
        return booster
    cut = booster.copy()
    cut.shrink(n)
    return cut


def customer_drivers(explanation: Explanation, customer_ids: pl.Series) -> pl.DataFrame:
    """Top 3 drivers per customer in currency, and a one-line narrative."""
    currency, prediction = explanation.currency, explanation.prediction
    order = np.argsort(-np.abs(currency), axis=1, kind="stable")[:, :3]
    names = np.array([plain_label(f) for f in explanation.features])
    rows = []
    for i in range(currency.shape[0]):
        top = [(names[j], float(currency[i, j])) for j in order[i] if abs(currency[i, j]) >= 0.005]
        up = [f"{n} ({v:+,.2f})" for n, v in top if v > 0]
        down = [f"{n} ({v:+,.2f})" for n, v in top if v < 0]
        text = f"{prediction[i]:,.2f} expected, from a starting point of {explanation.start[i]:,.2f}"
        if up:
            text += "; raised by " + " and ".join(up)
        if down:
            text += "; lowered by " + " and ".join(down)
        padded = top + [("", 0.0)] * (3 - len(top))
        rows.append(
            {
                "driver_1": padded[0][0] or None,
                "driver_1_value": round(padded[0][1], 2),
                "driver_2": padded[1][0] or None,
                "driver_2_value": round(padded[1][1], 2),
                "driver_3": padded[2][0] or None,
                "driver_3_value": round(padded[2][1], 2),
                "explanation": text,
            }
        )
    return (
        pl.DataFrame(rows)
        .with_columns(customer_ids.alias("customer_id"))
        .select("customer_id", pl.exclude("customer_id"))
    )
