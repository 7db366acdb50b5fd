"""Pictures for people: cluster profiles and segment size vs value (PNG, matplotlib Agg).

PNGs are written without a creation time or software version in their metadata, so the
same data gives the same bytes.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import polars as pl
from matplotlib.figure import Figure

from .io import atomic_path

__all__ = ["cluster_profiles_png", "save_png", "segments_png", "shap_summary_png"]

_PNG_METADATA = {"Software": None}


def save_png(fig: Figure, target: str | Path) -> None:
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight", metadata=_PNG_METADATA)
    plt.close(fig)


def cluster_profiles_png(summary: pl.DataFrame, features: tuple[str, ...], target: str | Path) -> None:
    """Heatmap of each cluster's feature means (standardised across clusters) + value bars."""
    columns = [f"mean_{f}" for f in features]
    values = summary.select(columns).to_numpy().astype(float)
    # A mean that does not exist (gaps of one-time buyers) is a grey "n/a" cell, not "nan".
    with np.errstate(invalid="ignore"):
        spread = np.nanstd(values, axis=0) if values.size else np.zeros(len(columns))
        spread = np.where(np.isfinite(spread) & (spread > 0), spread, 1.0)
        z = np.ma.masked_invalid((values - np.nanmean(values, axis=0)) / spread)
    labels = [
        "\n".join(textwrap.wrap(f"{cid} ({share:.0%}): {profile}", 58))
        for cid, profile, share in summary.select("cluster_id", "profile", "customer_share").iter_rows()
    ]
    fig, (ax, bx) = plt.subplots(
        1, 2, figsize=(14, 0.85 * len(labels) + 2.4), gridspec_kw={"width_ratios": [3, 1.3]}, sharey=True
    )
    cmap = plt.get_cmap("RdBu_r").copy()
    cmap.set_bad("#dddddd")
    image = ax.imshow(z, cmap=cmap, vmin=-2, vmax=2, aspect="auto")
    ax.set_xticks(range(len(features)), [f.replace("_", " ") for f in features], rotation=30, ha="right")
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            text = f"{values[i, j]:,.3g}" if np.isfinite(values[i, j]) else "n/a"
            ax.text(j, i, text, ha="center", va="center", fontsize=8)
    bar = fig.colorbar(image, ax=ax, orientation="horizontal", fraction=0.05, pad=0.22)
    bar.set_label("below the other clusters (blue) ... above them (red), in standard deviations")
    ax.set_title("Cluster profiles: mean per cluster")
    bx.barh(range(len(labels)), summary["median_predicted_clv"].to_numpy(), color="#4c72b0")
    bx.set_title("Median predicted CLV")
    bx.invert_yaxis()
    save_png(fig, target)


def segments_png(summary: pl.DataFrame, target: str | Path) -> None:
    """Each business segment's share of customers beside its share of predicted revenue."""
    names = summary["business_segment"].to_list()
    y = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(names) + 1.8))
    ax.barh(y - 0.2, summary["customer_share"].to_numpy() * 100, height=0.4, label="share of customers (%)")
    ax.barh(
        y + 0.2, summary["revenue_share"].to_numpy() * 100, height=0.4, label="share of predicted revenue (%)"
    )
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.legend(loc="lower right")
    ax.set_title("Business segments: size vs value")
    save_png(fig, target)


def shap_summary_png(
    shap: np.ndarray, features: pl.DataFrame, labels: list[str], target: str | Path, seed: int, top: int = 15
) -> None:
    """SHAP summary (beeswarm) of the top features, labelled in plain words.

    shap's plot shuffles its dots with numpy's global generator: it is seeded here so the
    picture is the same for the same data.
    """
    import shap as shap_lib

    # Categorical features have no colour scale: their dots are drawn grey.
    numeric = features.select(
        [
            (
                pl.col(c).cast(pl.Float64, strict=False)
                if features[c].dtype != pl.String
                else pl.lit(None, pl.Float64)
            ).alias(c)
            for c in features.columns
        ]
    ).to_numpy()
    np.random.seed(seed)
    shap_lib.summary_plot(shap, numeric, feature_names=labels, max_display=top, show=False, plot_size=(9, 7))
    fig = plt.gcf()
    fig.axes[0].set_xlabel("how much it moves the forecast: right raises it, left lowers it (log scale)")
    fig.suptitle(
        "What drives predicted CLV (each dot is a customer; colour: the feature's value)", fontsize=11
    )
    save_png(fig, target)
