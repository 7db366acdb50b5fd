"""reports/report.html: one self-contained page for people who will not open CSV files.

Everything is inline (CSS, and pictures as base64 PNG); the page loads nothing from the
network and runs no script. The headline's range for the total comes from the out-of-time
backtest (:func:`total_range`): it says where the total lands if customers behave as they
did there, bias included.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import polars as pl

from .metrics import APPROACHES
from .outputs import band_columns, clv_columns
from .plots import save_png

__all__ = ["ReportInputs", "format_money", "gain_and_calibration_png", "message_png", "render_report"]

_NAMES = {
    "model": "This engine (CatBoost started from the textbook model)",
    "btyd": "Textbook model (BG/NBD + Gamma-Gamma)",
    "naive_spend_rate": "Past spend rate carried forward",
    "last_period": "Same as the last period of that length",
}

#: Plain-word column headers for the output columns the page shows.
_HEADERS = {
    "clv_rank": "rank",
    "customer_id": "customer",
    "predicted_clv": "predicted spend",
    "clv_lower": "low end",
    "clv_upper": "high end",
    "p_active": "chance of buying",
    "business_segment": "segment",
    "explanation": "why",
    "customer_share": "share of customers",
    "revenue_share": "share of predicted revenue",
    "median_predicted_clv": "median predicted spend",
    "predicted_revenue": "predicted revenue",
    "clv_segment": "value tier",
    "value_tier": "value tier",
    "clv_tier": "value tier",
    "cluster_id": "cluster",
    "suggested_action": "suggested action",
    "feature_a": "factor",
    "feature_b": "depends on",
}

#: The words of the page a reader may not know, in plain terms (the glossary at its end).
GLOSSARY = {
    "Predicted spend": "what a customer is expected to spend over the forecast period, net of returns.",
    "Low end, high end": "each customer's range: the spend lands inside it for about {level} of "
    "customers. A customer who may well buy nothing has a low end of 0; one who is almost sure "
    "to buy has a positive low end.",
    "Range of the total": "where the total should land {level} of the time, allowing for how far "
    "the same method missed at earlier forecast dates of this log.",
    "Chance of buying": "the probability that a customer places at least one order in the period.",
    "Predicted margin": "the profit on the predicted spend: each customer's own margin rate so "
    "far, pulled towards the average rate (a customer with one order is not read at that "
    "order's rate), or value.margin_rate when the log has no profit column.",
    "Discounted to today": "each future month's spend counted at its value today, at the annual "
    "rate value.annual_discount_rate of params.yaml (money later is worth less).",
    "Textbook model (BG/NBD + Gamma-Gamma)": "the standard statistical models of repeat buying "
    "(BG/NBD, Fader, Hardie and Lee 2005) and of spend per order (Gamma-Gamma, Colombo and Jiang "
    "1999), the usual benchmark for customer lifetime value.",
    "Ranking quality (normalized Gini)": "how well the forecast puts the customers who will spend "
    "most first: 1 is a perfect order, 0 a random one.",
    "Ranking agreement (Spearman)": "the rank correlation of predicted and actual spend (1 = same order).",
    "Top 10% lift": "the actual spend of the 10% of customers ranked highest, as a multiple of "
    "the average customer's.",
    "Average error per customer (MAE)": "the mean absolute difference between predicted and actual spend.",
    "Typical error (RMSE)": "the root mean squared difference; large misses weigh more.",
    "Total vs actual (bias)": "forecast total / actual total - 1: +10% means 10% too high.",
    "Error by decile (decile MAPE)": "customers in ten groups by predicted spend: the mean "
    "relative gap between each group's predicted and actual spend.",
    "Backtest": "the whole pipeline replayed at an earlier date with only the data known then, "
    "and compared with what customers then actually spent.",
    "Drift": "the customers scored now look different from those the model learned from.",
}


def message_png(text: str, target: str | Path) -> None:
    """A small picture that says ``text`` (where a chart cannot be drawn)."""
    fig, ax = plt.subplots(figsize=(8, 1.2))
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=11)
    save_png(fig, target)


def gain_and_calibration_png(gain: pl.DataFrame, deciles: pl.DataFrame, target: str | Path) -> None:
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.6))
    x = gain["customer_share"].to_numpy() * 100
    for name in (*APPROACHES, "perfect"):
        style = {"lw": 2.4} if name == "model" else {"lw": 1.2, "ls": "--" if name == "perfect" else "-"}
        a.plot(x, gain[name].to_numpy() * 100, label=_NAMES.get(name, "perfect ranking"), **style)
    a.plot([0, 100], [0, 100], color="grey", lw=0.8, ls=":", label="random")
    a.set_xlabel("% of customers, highest predicted first")
    a.set_ylabel("% of actual revenue captured")
    a.set_title("Gain curve (backtest)")
    a.legend(fontsize=7, loc="lower right")
    d = deciles["decile"].to_numpy()
    b.bar(d - 0.2, deciles["mean_predicted"].to_numpy(), width=0.4, label="mean predicted")
    b.bar(d + 0.2, deciles["mean_actual"].to_numpy(), width=0.4, label="mean actual")
    b.set_yscale("log")
    b.set_xticks(d)
    b.set_xlabel("decile of predicted CLV (1 = highest)")
    b.set_ylabel("revenue per customer (log scale)")
    b.set_title("Decile calibration (backtest)")
    b.legend(fontsize=8)
    save_png(fig, target)


@dataclass(frozen=True)
class ReportInputs:
    predictions: pl.DataFrame
    metadata: dict[str, Any]
    metrics: dict[str, Any]
    monitoring: dict[str, Any]
    segment_summary: pl.DataFrame
    cluster_summary: pl.DataFrame
    tier_rankings: pl.DataFrame
    interactions: pl.DataFrame
    total_low: float
    total_high: float
    origins: pl.DataFrame  # reports/plots/origins.csv: the backtest at every origin
    ingest: dict[str, Any]  # reports/ingest.json
    range_covers: str  # reports/forecast.json: what the range of the total covers
    pictures: dict[str, Path]
    currency: str = ""  # params report.currency
    governance: dict[str, Any] | None = None  # reports/governance.json: which model scores

    def money(self, decimals: int = 0) -> Callable[[Any], str]:
        """A cell format: the amount with the currency (:func:`format_money`)."""
        return lambda value: format_money(float(value), self.currency, decimals)


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def format_money(value: float, currency: str = "", decimals: int = 0) -> str:
    """``$1,234``, ``EUR 1,234`` or ``-$12``: the currency, thousands separators, fixed decimals."""
    prefix = f"{currency} " if currency[:1].isalpha() else currency
    sign = "-" if round(value, decimals) < 0 else ""
    return f"{sign}{prefix}{abs(value):,.{decimals}f}"


Format = str | Callable[[Any], str]


def _table(frame: pl.DataFrame, formats: dict[str, Format] | None = None, table_id: str = "") -> str:
    formats = formats or {}
    head = "".join(f"<th>{html.escape(_HEADERS.get(c, c.replace('_', ' ')))}</th>" for c in frame.columns)
    rows = []
    for row in frame.iter_rows():
        cells = []
        for name, value in zip(frame.columns, row, strict=True):
            spec = formats.get(name)
            if value is None:
                text = ""
            elif callable(spec):
                text = spec(value)
            elif spec is not None:
                text = format(value, spec)
            elif isinstance(value, float):
                text = f"{value:,.2f}"
            else:
                text = str(value)
            cells.append(f"<td>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    ident = f' id="{table_id}"' if table_id else ""
    return f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


_CSS = """
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif;
       margin: 0; color: #1d2430; background: #f6f7f9 }
main { max-width: 1180px; margin: auto; padding: 24px }
h1 { font-size: 26px; margin: 8px 0 }
h2 { font-size: 20px; margin-top: 36px; border-bottom: 2px solid #dde2ea; padding-bottom: 4px }
.cards { display: flex; gap: 14px; flex-wrap: wrap }
.card { background: #fff; border-radius: 8px; padding: 14px 18px;
        box-shadow: 0 1px 3px #0002; min-width: 200px }
.card .v { font-size: 26px; font-weight: 600 }
.card .k { color: #5b6675; font-size: 13px }
table { border-collapse: collapse; background: #fff; font-size: 13px; margin: 8px 0;
        box-shadow: 0 1px 3px #0001 }
th, td { padding: 5px 9px; border-bottom: 1px solid #e6e9ee; text-align: left }
th { background: #eef1f5 }
img { max-width: 100%; background: #fff; border-radius: 6px; margin: 6px 0 }
.alert { background: #fff4e5; border-left: 4px solid #f0a020; padding: 10px 14px }
.ok { background: #e9f7ef; border-left: 4px solid #2e9d5b; padding: 10px 14px }
.note { color: #5b6675; font-size: 13px }
.glossary dt { font-weight: 600; margin-top: 8px }
.glossary dd { margin: 2px 0 0 18px; color: #3a4452 }
"""


def _backtest_section(inputs: ReportInputs, level: float) -> str:
    """The backtest tables, or why there is no backtest on this log."""
    m = inputs.metrics
    if m.get("backtest") is None:
        return f'<p class="alert" id="no-backtest">{html.escape(m["no_backtest"])}</p>'
    bt = m["backtest"]
    rows = []
    for name in APPROACHES:
        r = m[name]
        rows.append(
            {
                "approach": _NAMES[name],
                "ranking quality (normalized Gini)": r["normalized_gini"],
                "ranking agreement (Spearman)": r["spearman"],
                "top 10% lift": r["top_decile_lift"],
                "average error per customer (MAE)": r["mae"],
                "typical error (RMSE)": r["rmse"],
                "total vs actual (bias)": r["bias"],
                "error by decile (decile MAPE)": r["decile_mape"],
            }
        )
    backtest = _table(
        pl.DataFrame(rows),
        {
            "ranking quality (normalized Gini)": ".3f",
            "ranking agreement (Spearman)": ".3f",
            "top 10% lift": ".2f",
            "average error per customer (MAE)": inputs.money(2),
            "typical error (RMSE)": inputs.money(2),
            "total vs actual (bias)": "+.1%",
            "error by decile (decile MAPE)": ".1%",
        },
        "backtest",
    )
    origins = _table(
        inputs.origins.select(
            pl.col("cutoff").alias("forecast made"),
            pl.col("customers").alias("customers scored"),
            pl.col("actual_total").alias("actual total"),
            pl.col("total").alias("forecast total"),
            pl.col("bias_model").alias("bias"),
            pl.col("bias_btyd").alias("textbook model's bias"),
            pl.col("total_lower").alias("range from"),
            pl.col("total_upper").alias("range to"),
            pl.when(pl.col("total_inside_range")).then(pl.lit("yes")).otherwise(pl.lit("no")).alias("inside"),
            pl.col("coverage").alias("customers inside intervals"),
            pl.col("expected_buyers").alias("buyers expected"),
            pl.col("buyers").alias("buyers"),
        ),
        {
            "customers scored": ",",
            "buyers expected": ",.0f",
            "buyers": ",",
            "actual total": inputs.money(),
            "forecast total": inputs.money(),
            "range from": inputs.money(),
            "range to": inputs.money(),
            "bias": "+.1%",
            "textbook model's bias": "+.1%",
            "customers inside intervals": ".1%",
        },
        "origins",
    )
    cov = m["interval"]["coverage"]
    return f"""<p>The whole pipeline was replayed on {bt["cutoff"]} using only data up to that day, and its
forecast compared with what {bt["customers"]:,} customers actually spent in the next
{bt["horizon_days"]} days, beside the textbook model and two simple rules (the words are
explained at the end of the page).</p>
{backtest}
<p>The customers' own {level:.0%} ranges held what they actually spent for <b>{cov:.1%}</b> of
customers.</p>
<h3>At every backtest origin</h3>
<p>The same replay at {inputs.origins.height} monthly forecast dates, so that every season the log
allows is checked: the total against what was spent, whether it fell inside its {level:.0%}
range, the share of customers inside their intervals, and how many customers were expected to
buy (the sum of their chances of buying) against how many did. Older dates are run on a seeded
sample of customers with a smaller model (their totals are the sample's; bias and coverage
are what the sample measures).</p>
{origins}
{_img(inputs.pictures["gain"], "gain curve and decile calibration")}"""


def _horizons_section(inputs: ReportInputs) -> str:
    """Totals over each horizon of score.horizons_months and the discounted 12 months."""
    p = inputs.predictions
    names = clv_columns(p.columns)
    if not names:
        return ""
    checked = inputs.metrics.get("horizons", {})
    level = inputs.metadata["interval_level"]
    rows = []
    for c in names:
        months = int(c[4:-1])
        chance = band_columns(months)[2]
        coverage = checked.get(f"{months}m", {}).get("interval_coverage")
        rows.append(
            {
                "period": f"next {months} month(s)",
                "predicted revenue": float(p[c].sum()),
                "expected buyers": float(p[chance].cast(pl.Float64).sum()) if chance in p.columns else None,
                "checked": "not checked on past dates" if coverage is None else f"{coverage:.1%}",
            }
        )
    extra = [("clv_12m_discounted", "next 12 months, discounted to today")]
    extra += [
        ("predicted_margin", f"predicted margin (profit), next {inputs.metadata['horizon_months']} months")
    ]
    rows += [
        {"period": label, "predicted revenue": float(p[c].sum()), "expected buyers": None, "checked": None}
        for c, label in extra
        if c in p.columns
    ]
    frame = pl.DataFrame(rows, schema_overrides={"expected buyers": pl.Float64}).rename(
        {"checked": f"past forecasts: customers inside their {level:.0%} range"}
    )
    table = _table(frame, {"predicted revenue": inputs.money(), "expected buyers": ",.0f"}, "horizons")
    return f"""<h3>Over other periods</h3>
<p class="note">The same forecast over other periods: each customer's forecast shaped by the
timing of their purchases that the textbook model expects (clv_1m .. clv_12m and
clv_12m_discounted in clv_predictions.csv). Expected buyers: the sum of each customer's chance
of buying in the period (p_active_1m .. in the file, with each customer's range over the period,
clv_lower_1m .. clv_upper_12m). The last column is how often a customer's spend fell inside their
range over that period when the same method was run at an earlier date of this log.</p>
{table}"""


def drift_block(monitoring: dict[str, Any], governance: dict[str, Any] | None) -> str:
    """The monitor's verdict in plain words (reports/monitoring/monitoring_summary.json).

    With no promoted model, the model in use was trained in this run on the newest training
    cutoff whose horizon has been realised: retraining now would learn from the same
    customers, so drift is shown as where the model extrapolates, not as a call to retrain.
    """
    if monitoring.get("no_reference"):
        return f'<div class="alert">{html.escape(monitoring["no_reference"])}</div>'
    if not monitoring["retrain_recommended"]:
        return (
            '<div class="ok"><b>No drift alert.</b> '
            "The scored population looks like the training population.</div>"
        )
    items = "".join(f"<li>{html.escape(r)}</li>" for r in monitoring["reasons"])
    if governance and governance.get("scored_with") == "latest":
        return (
            '<div class="alert"><b>Today\'s customers differ from the ones the model learned from - '
            "a person decides.</b> The model in use was trained in this run, on the newest training "
            "cutoff whose horizon has been realised, so retraining now would learn from the same "
            "customers: read the changes below as where the model extrapolates (a young, growing or "
            "seasonal log shows some by construction). Promote a model (make promote) and the next "
            f"runs will say when it has gone stale.<ul>{items}</ul></div>"
        )
    return f'<div class="alert"><b>Retraining recommended - a person decides.</b><ul>{items}</ul></div>'


def _governance_section(inputs: ReportInputs) -> str:
    """Which model scored the customers, and whether a person should promote the newest one."""
    g = inputs.governance
    if not g:
        return ""
    if g["scored_with"] == "champion":
        c = g["champion"]
        head = (
            f"Model in use: the champion, promoted by a person, trained on data up to {c['trained_as_of']} "
            f"(bundle {c['sha256'][:12]})."
        )
    else:
        head = (
            f"Model in use: the newest model, trained on data up to {g['challenger']['trained_as_of']}; "
            "no model has been promoted, so it changes on every run."
        )
    verdict = (
        "Promoting the newest model is recommended"
        if g["promote_recommended"]
        else "No promotion recommended"
    )
    items = "".join(f"<li>{html.escape(r)}</li>" for r in g["reasons"])
    table = ""
    comparison = g.get("comparison")
    if comparison and comparison["origins"]:
        frame = pl.DataFrame(comparison["origins"]).select(
            pl.col("cutoff").alias("forecast made"),
            "customers",
            pl.col("gini_champion").alias("ranking quality, champion"),
            pl.col("gini_challenger").alias("ranking quality, newest"),
            pl.col("bias_champion").alias("total vs actual, champion"),
            pl.col("bias_challenger").alias("total vs actual, newest"),
        )
        formats: dict[str, Format] = {
            "ranking quality, champion": ".3f",
            "ranking quality, newest": ".3f",
            "total vs actual, champion": "+.1%",
            "total vs actual, newest": "+.1%",
        }
        table = _table(frame, formats, "governance-comparison")
    cls = "alert" if g["promote_recommended"] else "ok"
    return (
        f'<div class="{cls}" id="governance"><b>{html.escape(head)}</b> {html.escape(verdict)} '
        f"(a person decides: make promote).<ul>{items}</ul></div>{table}"
    )


def render_report(inputs: ReportInputs) -> str:
    """The HTML text of the report."""
    p, md = inputs.predictions, inputs.metadata
    ing = inputs.ingest
    guests = html.escape(
        f"{ing['rows_without_customer']:,} of {ing['rows_read']:,} rows of the log had no customer id "
        f"(guest checkouts, {ing['revenue_share_without_customer']:.1%} of the revenue): they cannot be "
        "followed over time, so they are not in the forecast (they are in data/ingest/quarantine.csv)."
        if ing.get("rows_without_customer")
        else "Every row of the log had a customer id."
    )
    total = float(p["predicted_clv"].sum())
    level = md["interval_level"]
    active = float(p["p_active"].sum())
    tiers = (
        p.group_by("clv_segment")
        .agg(
            pl.len().alias("customers"),
            pl.col("predicted_clv").sum().alias("predicted revenue"),
            pl.col("clv_rank").min().alias("_first"),
        )
        .sort("_first")
        .drop("_first")
        .with_columns((pl.col("predicted revenue") / total).alias("share of revenue"))
    )
    drift = drift_block(inputs.monitoring, inputs.governance)
    top = p.head(20).select(
        "clv_rank",
        "customer_id",
        "predicted_clv",
        "clv_lower",
        "clv_upper",
        "p_active",
        "business_segment",
        "explanation",
    )
    margin = [c for c in ("predicted_margin", "margin_share") if c in inputs.segment_summary.columns]
    seg = inputs.segment_summary.select(
        "business_segment",
        "strategy",
        "customers",
        "customer_share",
        "predicted_revenue",
        "revenue_share",
        "median_predicted_clv",
        *margin,
    )
    clusters = inputs.cluster_summary.select(
        "cluster_id",
        "clv_tier",
        "profile",
        "suggested_action",
        "customers",
        "customer_share",
        "median_predicted_clv",
        "revenue_share",
    )
    pct: dict[str, Format] = {
        "customer_share": ".1%",
        "revenue_share": ".1%",
        "share of revenue": ".1%",
        "p_active": ".1%",
        "predicted revenue": inputs.money(),
        "predicted_revenue": inputs.money(),
        "predicted_margin": inputs.money(),
        "margin_share": ".1%",
        "median_predicted_clv": inputs.money(2),
        "predicted_clv": inputs.money(2),
        "clv_lower": inputs.money(2),
        "clv_upper": inputs.money(2),
    }
    money = inputs.money()
    glossary = "".join(
        f"<dt>{html.escape(term)}</dt><dd>{html.escape(text.format(level=f'{level:.0%}'))}</dd>"
        for term, text in GLOSSARY.items()
    )
    level_note = html.escape(
        f"Level of the forecast (model.level = {md['params']['model']['level']}): {md['level']['set_by']}."
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Customer lifetime value report</title>
<style>{_CSS}</style></head><body><main>
<h1>Customer lifetime value forecast</h1>
<p class="note">Forecast made on {md["as_of"]} for the next {md["horizon_days"]} days ({md["horizon_months"]}
months). Every number below comes from the pipeline's own outputs (data/outputs, reports/).</p>
{_governance_section(inputs)}
<div class="cards">
<div class="card"><div class="k">Predicted revenue, next {md["horizon_days"]} days</div>
<div class="v" id="total">{html.escape(money(total))}</div>
<div class="k" id="total-range">{level:.0%} range: {html.escape(money(inputs.total_low))} to
{html.escape(money(inputs.total_high))}</div></div>
<div class="card"><div class="k">Customers scored</div><div class="v" id="customers">{p.height:,}</div></div>
<div class="card"><div class="k">Expected to buy at least once</div><div class="v">{active:,.0f}</div>
<div class="k">{active / p.height:.1%} of customers</div></div>
<div class="card"><div class="k">Top 10% of customers hold</div>
<div class="v">{float(p.filter(pl.col("clv_percentile") > 90)["predicted_clv"].sum()) / total:.0%}</div>
<div class="k">of predicted revenue</div></div>
</div>
<p class="note" id="range-covers">The actual total should land between
{html.escape(money(inputs.total_low))} and {html.escape(money(inputs.total_high))} {level:.0%} of
the time: the range allows for {html.escape(inputs.range_covers)}. Each customer's own range
(low end, high end) is in clv_predictions.csv.</p>
{_horizons_section(inputs)}
<p class="note" id="level">{level_note}</p>
<p class="note" id="guests">{guests}</p>

<h2>Is the forecast any good? Backtest</h2>
{_backtest_section(inputs, level)}

<h2>Value tiers</h2>
{_table(tiers, pct, "tiers")}
{
        _table(
            inputs.tier_rankings.select(
                "value_tier",
                "customers",
                "customer_share",
                "median_predicted_clv",
                "predicted_revenue",
                "revenue_share",
            ),
            pct,
        )
    }

<h2>Business segments and what to do</h2>
{_table(seg, pct, "segments")}
{_img(inputs.pictures["segments"], "segment size vs value")}

<h2>Behavioural clusters</h2>
{_table(clusters, pct, "clusters")}
{_img(inputs.pictures["clusters"], "cluster profiles")}

<h2>Drift: does the model still fit?</h2>
{drift}

<h2>What drives the forecast</h2>
{_img(inputs.pictures["shap"], "SHAP summary")}
{
        _table(
            inputs.interactions.select(pl.col("reading").alias("pairs that work together")),
            table_id="interactions",
        )
    }

<h2>Top 20 customers</h2>
{_table(top, pct, "top")}

<h2 id="glossary">Words used on this page</h2>
<dl class="glossary">{glossary}</dl>
</main></body></html>
"""
