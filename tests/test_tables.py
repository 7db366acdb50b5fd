"""The features stage's tables (src/clv_engine/tables.py): what they hold and what they refuse."""

from __future__ import annotations

import datetime as dt

import pytest

from clv_engine.orders import build_orders
from clv_engine.params import parse_params
from clv_engine.synth import SynthConfig, generate_transactions
from clv_engine.tables import feature_tables
from clv_engine.timeline import DataRangeError

AS_OF = dt.date(2022, 12, 31)
PARAMS = parse_params({"training": {"n_cutoffs": 2, "spacing_months": 3}})


@pytest.fixture(scope="module")
def orders():
    log = generate_transactions(
        SynthConfig(n_transactions=4_000, seed=8, start=dt.date(2021, 1, 1), end=AS_OF)
    )
    return build_orders(log)


def _selected(**changes):
    return {"as_of": AS_OF.isoformat(), "lookback_months": 6, "horizon_months": 3} | changes


def test_training_rows_per_cutoff_and_the_report_agree(orders):
    tables = feature_tables(orders, AS_OF, _selected(), PARAMS)
    report = tables.report
    assert report["trainable"] and report["scoring_customers"] == tables.scoring.height
    assert (
        sum(report["training_rows_per_cutoff"].values()) == report["training_rows"] == tables.training.height
    )
    assert sorted(report["training_rows_per_cutoff"]) == report["training_cutoffs"]
    assert tables.scoring["cutoff"].unique().to_list() == [AS_OF]
    assert tables.level_history["cutoff"].max() < AS_OF  # its origins are realised by as_of


def test_a_log_too_short_to_train_on_gets_no_training_rows_and_says_why(orders):
    note = "too short a log: 2 months of history"
    tables = feature_tables(orders, AS_OF, _selected(trainable=False, note=note), PARAMS)
    assert tables.training.height == 0 and tables.report["untrainable_note"] == note
    assert {"label_revenue", "label_bought", "horizon_days"} <= set(tables.training.columns)
    assert tables.scoring.height > 0  # the forecast still ships (the fallback scores them)


def test_a_choice_made_for_another_date_is_refused_by_name(orders):
    stale = _selected(as_of="2022-11-30")
    with pytest.raises(DataRangeError, match=r"data/windows/selected.json was made for as_of 2022-11-30"):
        feature_tables(orders, AS_OF, stale, PARAMS, selected_name="data/windows/selected.json")
