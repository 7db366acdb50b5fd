"""Forecast accuracy metrics, defined once (docs/DESIGN.md "Metrics") and used everywhere.

All take the actual revenue ``y`` and the prediction ``p`` of the same customers (same
order) as 1-d arrays. Ties in ``p`` never depend on row order: the Gini counts a block of
tied predictions as the expected value over random orders inside the block (which is
the same as giving each member the block's mean actual), and deciles split ties by a
stable order that the caller fixes (customers sorted by id).

Amounts that agree to 10 significant digits are the same amount: both sides are rounded
to 10 significant digits before anything is ranked or compared. Two customers who each
spent 23.77 in orders of different sizes have sums that differ in the last bit, and which
of them is larger is decided by rounding noise (the order of a sum, another machine's
arithmetic, an input scaled by 1 + 1e-12), so without it the ranks inside a tie, and with
them every rank metric, moved in the 6th digit from one such run to the next.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from numpy.typing import ArrayLike

__all__ = [
    "APPROACHES",
    "aggregate_bias",
    "decile_calibration_error",
    "decile_index",
    "decile_table",
    "gini",
    "interval_coverage",
    "normalized_gini",
    "regression_metrics",
    "rounded",
    "same_amounts",
    "spearman",
    "spearman_random_ties",
    "top_decile_lift",
]

#: The approaches every backtest compares, and their stable keys in reports/metrics.json: the
#: CLV model and the baselines of :mod:`clv_engine.baselines`.
APPROACHES = ("model", "btyd", "naive_spend_rate", "last_period")


def _arrays(y: ArrayLike, *others: ArrayLike) -> tuple[np.ndarray, ...]:
    """``y`` and ``others`` (p, or lower and upper) as float arrays of one length, rounded
    by :func:`same_amounts`."""
    y = np.asarray(y, dtype=np.float64)
    arrays = [np.asarray(a, dtype=np.float64) for a in others]
    for a in arrays:
        if y.shape != a.shape or y.ndim != 1:
            raise ValueError(f"y and p must be 1-d arrays of one length, got {y.shape} and {a.shape}")
    if y.size == 0:
        raise ValueError("no customers to evaluate")
    return tuple(same_amounts(a) for a in (y, *arrays))


#: Significant digits at which two amounts count as equal (module doc).
AMOUNT_DIGITS = 10


def same_amounts(values: np.ndarray) -> np.ndarray:
    """``values`` rounded to :data:`AMOUNT_DIGITS` significant digits (correctly rounded:
    the nearest float to the decimal, so equal decimals give equal bits)."""
    return pl.Series(values, dtype=pl.Float64).round_sig_figs(AMOUNT_DIGITS).to_numpy()


def _ordered_by_prediction(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """y sorted by p descending, each tie block of p replaced by its mean actual.

    That is the expected order of y over random orders inside the tie blocks.
    """
    order = np.argsort(-p, kind="stable")
    p_sorted, y_sorted = p[order], y[order]
    starts = np.flatnonzero(np.r_[True, p_sorted[1:] != p_sorted[:-1]])
    sizes = np.diff(np.r_[starts, y_sorted.size])
    return np.repeat(np.add.reduceat(y_sorted, starts) / sizes, sizes)


def gini(y: ArrayLike, p: ArrayLike) -> float:
    """Gini of ``y`` ordered by ``p`` descending, ties in ``p`` averaged (see module doc)."""
    return _gini(*_arrays(y, p))


# The private forms below take arrays that _arrays has already rounded, so that
# regression_metrics rounds its inputs once, not once per metric.
def _gini(y: np.ndarray, p: np.ndarray) -> float:
    total = y.sum()
    if total == 0:
        return 0.0
    y_expected = _ordered_by_prediction(y, p)
    n = y.size
    cumulative = np.cumsum(y_expected) / total
    return float(cumulative.sum() / n - (n + 1) / (2 * n))


def normalized_gini(y: ArrayLike, p: ArrayLike) -> float:
    """Gini of y ordered by p over Gini of y ordered by y: 1 = perfect ranking, 0 = random."""
    return _normalized_gini(*_arrays(y, p))


def _normalized_gini(y: np.ndarray, p: np.ndarray) -> float:
    best = _gini(y, y)
    return float(_gini(y, p) / best) if best != 0 else 0.0


def _spearman_both(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """(plain Spearman, Spearman with p's ties broken at random) from one ranking of each side."""
    if np.ptp(y) == 0 or np.ptp(p) == 0:
        return 0.0, 0.0
    # Imported here, not at the top: scipy.stats takes about 0.5 s to import, and most
    # stages that import this module (through outputs, governance) never rank.
    from scipy import stats

    ry = stats.rankdata(y) - (y.size + 1) / 2
    rp = stats.rankdata(p) - (p.size + 1) / 2
    covariance, spread_y, spread_p = np.mean(ry * rp), np.sqrt(np.mean(ry**2)), np.sqrt(np.mean(rp**2))
    spread_full = np.sqrt((p.size * p.size - 1) / 12.0)  # the ranks 1..n with no ties
    return float(covariance / (spread_y * spread_p)), float(covariance / (spread_y * spread_full))


def spearman(y: ArrayLike, p: ArrayLike) -> float:
    """Spearman rank correlation (average ranks for ties); 0 when either side is constant."""
    return _spearman_both(*_arrays(y, p))[0]


def spearman_random_ties(y: ArrayLike, p: ArrayLike) -> float:
    """Spearman with ties in ``p`` broken at random: the expected value over those orders.

    The plain Spearman gives a tie block of p its average rank, which shrinks the spread
    of p's ranks and so raises the correlation of a forecast that ties most customers
    (revenue in the last period is 0 for most of them). Breaking p's ties at random, as
    the Gini does, gives p's ranks the spread of a full permutation of 1..n while their
    covariance with y's ranks stays that of the average ranks, so the expectation is exact:
    spearman * sd(average ranks of p) / sd(1..n). Ties in y keep their average ranks.
    """
    return _spearman_both(*_arrays(y, p))[1]


def decile_index(p: np.ndarray) -> np.ndarray:
    """Decile of each customer by p, 0 = highest; stable order breaks ties."""
    order = np.argsort(-p, kind="stable")
    decile = np.empty(p.size, dtype=np.int64)
    for k, chunk in enumerate(np.array_split(order, 10)):
        decile[chunk] = k
    return decile


def decile_table(y: ArrayLike, p: ArrayLike) -> dict[str, list[float]]:
    """Per decile of p (1 = highest): customers, mean predicted, mean actual, actual share."""
    return _decile_table(*_arrays(y, p))


def _decile_table(y: np.ndarray, p: np.ndarray) -> dict[str, list[float]]:
    decile = decile_index(p)
    counts = np.bincount(decile, minlength=10)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_p = np.bincount(decile, weights=p, minlength=10) / counts
        mean_y = np.bincount(decile, weights=y, minlength=10) / counts
        share = np.bincount(decile, weights=y, minlength=10) / y.sum() if y.sum() else np.zeros(10)
    return {
        "decile": list(range(1, 11)),
        "customers": counts.astype(float).tolist(),
        "mean_predicted": mean_p.tolist(),
        "mean_actual": mean_y.tolist(),
        "actual_share": share.tolist(),
    }


def decile_calibration_error(y: ArrayLike, p: ArrayLike) -> float:
    """Mean over the deciles of p of |mean p - mean y| / mean y.

    Deciles whose mean actual is 0 have no percentage error and are left out; if every
    decile has mean actual 0 the error is undefined (nan).
    """
    return _decile_calibration_error(*_arrays(y, p))


def _decile_calibration_error(y: np.ndarray, p: np.ndarray) -> float:
    table = _decile_table(y, p)
    mean_p = np.asarray(table["mean_predicted"])
    mean_y = np.asarray(table["mean_actual"])
    ok = np.isfinite(mean_y) & (mean_y > 0)
    if not ok.any():
        return float("nan")
    return float(np.mean(np.abs(mean_p[ok] - mean_y[ok]) / mean_y[ok]))


def top_decile_lift(y: ArrayLike, p: ArrayLike) -> float:
    """Share of total y captured by the top 10% by p, divided by 0.10 (ties averaged)."""
    return _top_decile_lift(*_arrays(y, p))


def _top_decile_lift(y: np.ndarray, p: np.ndarray) -> float:
    total = y.sum()
    if total == 0:
        return 0.0
    y_expected = _ordered_by_prediction(y, p)
    k = y.size / 10
    whole = int(np.floor(k))
    captured = y_expected[:whole].sum() + (k - whole) * (y_expected[whole] if whole < y.size else 0.0)
    return float(captured / total / 0.10)


def aggregate_bias(y: ArrayLike, p: ArrayLike) -> float:
    """sum(p) / sum(y) - 1: +0.10 = the total is over-forecast by 10%."""
    return _aggregate_bias(*_arrays(y, p))


def _aggregate_bias(y: np.ndarray, p: np.ndarray) -> float:
    total = y.sum()
    return float(p.sum() / total - 1) if total != 0 else float("nan")


def interval_coverage(y: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> float:
    """Share of customers with lower <= y <= upper."""
    y, lower, upper = _arrays(y, lower, upper)
    return float(np.mean((lower <= y) & (y <= upper)))


def regression_metrics(y: ArrayLike, p: ArrayLike) -> dict[str, float]:
    """Every point-forecast metric of docs/DESIGN.md under its stable key."""
    y, p = _arrays(y, p)
    err = p - y
    rho, rho_random_ties = _spearman_both(y, p)
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    return {
        "normalized_gini": _normalized_gini(y, p),
        "spearman": rho,
        "spearman_random_ties": rho_random_ties,
        "top_decile_lift": _top_decile_lift(y, p),
        "mae": float(np.mean(np.abs(err))),
        "rmse": float(np.sqrt(np.mean(err**2))),
        "r2": float(1 - np.sum(err**2) / ss_tot) if ss_tot > 0 else float("nan"),
        "bias": _aggregate_bias(y, p),
        "decile_mape": _decile_calibration_error(y, p),
        "customers": float(y.size),
        "actual_total": float(y.sum()),
        "predicted_total": float(p.sum()),
    }


def rounded(values: dict[str, float], digits: int = 6) -> dict[str, float | None]:
    """Metrics as reports store them: rounded, and None (JSON null) where undefined."""
    return {k: (round(v, digits) if np.isfinite(v) else None) for k, v in values.items()}
