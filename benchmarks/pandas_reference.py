"""A straightforward pandas groupby implementation of the customer table, for comparison.

It computes the same families as :func:`clv_engine.features.customer_table` (anchors,
lookback aggregates, cadence, recent activity, BTYD statistics, season shares) the way
one would write them in pandas, and is checked against the polars table on small data
(tests/test_bench_reference.py), so that the benchmark compares like with like.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from clv_engine.timeline import add_months, horizon_days


def customer_table_pandas(
    orders: pd.DataFrame,
    cutoff: dt.date,
    lookback_months: int,
    horizon_months: int,
    windows_days=(30, 90, 180, 365),
) -> pd.DataFrame:
    c = pd.Timestamp(cutoff)
    o = orders[orders["order_date"] <= c].copy()
    o["age"] = (c - o["order_date"]).dt.days
    o["purchase"] = ~o["is_return"]
    g = o.groupby("customer_id")
    out = pd.DataFrame(index=pd.Index(sorted(o["customer_id"].unique()), name="customer_id"))
    out["first_order_date"] = g["order_date"].min()
    out["last_purchase_date"] = o[o["purchase"]].groupby("customer_id")["order_date"].max()
    out["tenure_days"] = (c - out["first_order_date"]).dt.days
    out["recency_days"] = (c - out["last_purchase_date"].fillna(out["first_order_date"])).dt.days

    # BTYD on purchase days, whole history
    days = o[o["purchase"]].groupby(["customer_id", "order_date"], as_index=False)["revenue"].sum()
    days = days.sort_values(["customer_id", "order_date"])
    gd = days.groupby("customer_id")
    n_days = gd.size()
    out["frequency"] = (n_days - 1).reindex(out.index).fillna(0)
    out["recency_tx_days"] = (
        ((gd["order_date"].max() - gd["order_date"].min()).dt.days).reindex(out.index).fillna(0)
    )
    out["age_T_days"] = (c - gd["order_date"].min()).dt.days.reindex(out.index).fillna(out["tenure_days"])
    first_day = gd["revenue"].first()
    repeat = (gd["revenue"].sum() - first_day) / (n_days - 1)
    out["mean_repeat_spend"] = repeat.where(n_days > 1).reindex(out.index)

    # lifetime RFM and cadence
    lp = o[o["purchase"]]
    gp = lp.groupby("customer_id")
    out["n_orders"] = gp.size().reindex(out.index).fillna(0)
    out["revenue_sum"] = g["revenue"].sum().reindex(out.index).fillna(0)
    gross = gp["revenue"].sum().reindex(out.index).fillna(0)
    refunded = o[~o["purchase"]].groupby("customer_id")["revenue"].sum().abs().reindex(out.index).fillna(0)
    out["avg_order_value"] = (gross / out["n_orders"]).where(out["n_orders"] > 0)
    out["max_order_value"] = gp["revenue"].max().reindex(out.index)
    out["returns_count"] = o[~o["purchase"]].groupby("customer_id").size().reindex(out.index).fillna(0)
    out["return_share"] = (refunded / gross).where(gross > 0, 0.0)
    ps = lp.sort_values(["customer_id", "order_date"])
    gaps = ps.groupby("customer_id")["order_date"].diff().dt.days.dropna()
    gg = gaps.groupby(ps.loc[gaps.index, "customer_id"])
    out["gap_mean_days"] = gg.mean().reindex(out.index)
    out["gap_median_days"] = gg.median().reindex(out.index)
    out["gap_std_days"] = gg.std().reindex(out.index)
    out["gap_min_days"] = gg.min().reindex(out.index)
    out["gap_max_days"] = gg.max().reindex(out.index)
    out["gap_cv"] = out["gap_std_days"] / out["gap_mean_days"]

    # lookback window
    start = pd.Timestamp(add_months(cutoff, -lookback_months))
    w = o[o["order_date"] > start]
    p = w[w["purchase"]]
    out["lookback_orders"] = p.groupby("customer_id").size().reindex(out.index).fillna(0)
    out["lookback_revenue"] = w.groupby("customer_id")["revenue"].sum().reindex(out.index).fillna(0)
    for d in windows_days:
        recent = w[w["age"] < d]
        out[f"revenue_last_{d}d"] = (
            recent.groupby("customer_id")["revenue"].sum().reindex(out.index).fillna(0)
        )
        out[f"orders_last_{d}d"] = (
            recent[recent["purchase"]].groupby("customer_id").size().reindex(out.index).fillna(0)
        )
    r0 = p[p["age"] < 90].groupby("customer_id")["revenue"].sum().reindex(out.index).fillna(0)
    r1 = (
        p[(p["age"] >= 90) & (p["age"] < 180)]
        .groupby("customer_id")["revenue"]
        .sum()
        .reindex(out.index)
        .fillna(0)
    )
    out["trend_90d"] = np.where(r0 + r1 > 0, (r0 - r1) / (r0 + r1).where(r0 + r1 > 0, 1), 0.0)
    window_days = (c - start).days
    out["observed_days"] = np.minimum(out["tenure_days"], window_days) + 1
    out["spend_per_day"] = out["lookback_revenue"] / out["observed_days"]

    # season
    year_ago = c - pd.Timedelta(days=365)
    h = horizon_days(cutoff, horizon_months)
    ly = o[o["purchase"] & (o["order_date"] > year_ago)]
    in_window = ly["order_date"] <= year_ago + pd.Timedelta(days=h)
    num = ly[in_window].groupby("customer_id")["revenue"].sum()
    den = ly.groupby("customer_id")["revenue"].sum()
    out["season_share_customer"] = (num.reindex(den.index).fillna(0) / den).reindex(out.index)
    return out.reset_index()
