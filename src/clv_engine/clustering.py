"""Behavioural clusters and value tiers of the scored customers.

Behavioural clusters (``cluster.method``): the features in ``cluster.features`` and the
predicted CLV, each log1p-transformed (amounts and durations are skewed) and standardised,
are clustered by a Gaussian mixture with K chosen by BIC over ``k_min..k_max`` (soft
membership probabilities kept), or by k-means with K chosen by the silhouette. A cluster
smaller than ``min_cluster_share`` is degenerate: K is lowered until none is, and the
report says so. Clusters are numbered by median predicted CLV, 1 = highest. Everything
is seeded: the same data and params give the same clusters.

Value tiers: k-means on log1p(predicted_clv) alone with ``value_tiers`` clusters, ranked
by median predicted CLV (robust to the few very large customers), tier 1 = highest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.mixture import GaussianMixture

from .params import ClusterParams

__all__ = ["ClusterResult", "behaviour_matrix", "cluster_customers", "select_k", "value_tiers"]

_SILHOUETTE_SAMPLE = 10_000


def behaviour_matrix(scored: pl.DataFrame, features: tuple[str, ...]) -> np.ndarray:
    """log1p of each feature (negatives clipped to 0, nulls -> the column median) and of CLV.

    A missing gap (one-order customers) is filled with the customer's tenure: no second
    order within the whole tenure.
    """
    columns = []
    for name in (*features, "predicted_clv"):
        col = pl.col(name).cast(pl.Float64)
        if name == "gap_mean_days" and "tenure_days" in scored.columns:
            col = col.fill_null(pl.col("tenure_days").cast(pl.Float64))
        columns.append(col.clip(lower_bound=0.0).log1p().alias(name))
    frame = scored.select(columns)
    frame = frame.with_columns(
        [pl.col(c).fill_null(pl.col(c).median()).fill_null(0.0) for c in frame.columns]
    )
    return frame.to_numpy()


def _fit(method: str, x: np.ndarray, k: int, seed: int) -> Any:
    if method == "gmm":
        return GaussianMixture(
            n_components=k, covariance_type="full", n_init=3, random_state=seed, reg_covar=1e-4
        ).fit(x)
    return KMeans(n_clusters=k, n_init=10, random_state=seed).fit(x)


def select_k(x: np.ndarray, params: ClusterParams, seed: int) -> tuple[int, dict[int, float]]:
    """K with the best criterion (lowest BIC for gmm, highest silhouette for kmeans)."""
    best, scores, _ = _search_k(x, params, seed)
    return best, scores


def _search_k(
    x: np.ndarray, params: ClusterParams, seed: int
) -> tuple[int, dict[int, float], dict[int, Any]]:
    """(best K, criterion per K, fitted model per K): the chosen model is not fitted twice."""
    scores: dict[int, float] = {}
    models: dict[int, Any] = {}
    k_max = min(params.k_max, max(params.k_min, x.shape[0] - 1))
    for k in range(params.k_min, k_max + 1):
        model = models[k] = _fit(params.method, x, k, seed)
        if params.method == "gmm":
            scores[k] = float(model.bic(x))
        else:
            n = min(_SILHOUETTE_SAMPLE, x.shape[0])
            scores[k] = float(silhouette_score(x, model.labels_, sample_size=n, random_state=seed))
    pick = min if params.method == "gmm" else max
    best = pick(scores, key=scores.__getitem__)
    return best, scores, models


@dataclass
class ClusterResult:
    assignments: pl.DataFrame  # customer_id, cluster_id, cluster_probability
    k: int
    criterion: dict[int, float]
    notes: list[str] = field(default_factory=list)
    center: np.ndarray | None = None
    scale: np.ndarray | None = None


def cluster_customers(scored: pl.DataFrame, params: ClusterParams, seed: int) -> ClusterResult:
    """Behavioural clusters (see the module docstring) for every scored customer."""
    raw = behaviour_matrix(scored, params.features)
    rng = np.random.default_rng(seed)
    fit_rows = np.arange(raw.shape[0])
    if raw.shape[0] > params.max_fit_customers:
        fit_rows = np.sort(rng.choice(raw.shape[0], params.max_fit_customers, replace=False))
    center = raw[fit_rows].mean(axis=0)
    scale = raw[fit_rows].std(axis=0)
    scale[scale == 0] = 1.0
    x = (raw - center) / scale
    notes = []
    if raw.shape[0] < 2 * params.k_min:
        notes.append(f"only {raw.shape[0]} customers: one cluster")
        labels = np.zeros(raw.shape[0], dtype=int)
        probability = np.ones(raw.shape[0])
        k, criterion = 1, dict[int, float]()
    else:
        k, criterion, fitted = _search_k(x[fit_rows], params, seed)
        while True:
            model = fitted[k]  # every K from k_min to the best one was fitted by the search
            labels = model.predict(x)
            shares = np.bincount(labels, minlength=k) / labels.size
            if shares.min() >= params.min_cluster_share or k <= params.k_min:
                break
            notes.append(
                f"K={k} gave a cluster of {shares.min():.1%} (< cluster.min_cluster_share): "
                f"refitted with K={k - 1}"
            )
            k -= 1
        if params.method == "gmm":
            probability = model.predict_proba(x).max(axis=1)
        else:
            distance = model.transform(x)
            weights = np.exp(-(distance**2 - distance.min(axis=1, keepdims=True) ** 2) / 2)
            probability = weights.max(axis=1) / weights.sum(axis=1)
            notes.append(
                "kmeans has no membership probabilities: cluster_probability is a softmax of distances"
            )
        if shares.min() < params.min_cluster_share:
            notes.append(f"a cluster of {shares.min():.1%} remains at K = cluster.k_min = {params.k_min}")
    clv = scored["predicted_clv"].to_numpy()
    medians = [(np.median(clv[labels == c]) if np.any(labels == c) else -np.inf, c) for c in range(max(k, 1))]
    order = {c: rank for rank, (_, c) in enumerate(sorted(medians, key=lambda t: (-t[0], t[1])), start=1)}
    assignments = scored.select("customer_id").with_columns(
        pl.Series("cluster_id", [order[c] for c in labels], dtype=pl.Int64),
        pl.Series("cluster_probability", np.round(probability, 6), dtype=pl.Float64),
    )
    return ClusterResult(assignments, k, criterion, notes, center, scale)


def value_tiers(scored: pl.DataFrame, n_tiers: int, seed: int) -> pl.DataFrame:
    """customer_id, value_tier (1 = highest median predicted CLV)."""
    clv = scored["predicted_clv"].to_numpy()
    x = np.log1p(np.clip(clv, 0, None)).reshape(-1, 1)
    k = min(n_tiers, len(np.unique(x)))
    labels = (
        KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(x)
        if k > 1
        else np.zeros(x.shape[0], int)
    )
    medians = sorted(((np.median(clv[labels == c]), c) for c in range(k)), key=lambda t: (-t[0], t[1]))
    order = {c: rank for rank, (_, c) in enumerate(medians, start=1)}
    return scored.select("customer_id").with_columns(
        pl.Series("value_tier", [order[c] for c in labels], dtype=pl.Int64)
    )
