"""The report's number formats (the page itself is checked in a browser: test_pipeline_e2e)."""

import pytest

from clv_engine.params import ParamsError, parse_params
from clv_engine.report import drift_block, format_money


@pytest.mark.parametrize(
    ("value", "currency", "decimals", "shown"),
    [
        (439677.36, "$", 0, "$439,677"),
        (1234.5, "EUR", 2, "EUR 1,234.50"),
        (-12.4, "€", 0, "-€12"),
        (-0.004, "$", 2, "$0.00"),  # no minus sign on an amount that rounds to zero
        (1_000_000, "", 0, "1,000,000"),
    ],
)
def test_format_money(value, currency, decimals, shown):
    assert format_money(value, currency, decimals) == shown


def test_report_currency_is_validated():
    assert parse_params({"report": {"currency": "EUR"}}).report.currency == "EUR"
    with pytest.raises(ParamsError, match=r"report\.currency"):
        parse_params({"report": {"currency": "12 USD"}})


DRIFT = {"retrain_recommended": True, "reasons": ["feature drift in recency_days (PSI 2.26) <b>"]}


def test_drift_under_a_promoted_champion_recommends_retraining():
    block = drift_block(DRIFT, {"scored_with": "champion"})
    assert "Retraining recommended - a person decides." in block
    assert "recency_days (PSI 2.26) &lt;b&gt;" in block  # escaped


def test_drift_under_the_model_just_trained_is_not_a_call_to_retrain():
    # With no champion, the model in use was fitted in this run on the newest labelled
    # cutoff: retraining would learn from the same customers.
    block = drift_block(DRIFT, {"scored_with": "latest"})
    assert "Retraining recommended" not in block
    assert "differ from the ones the model learned from" in block and "make promote" in block
    assert "recency_days (PSI 2.26) &lt;b&gt;" in block


def test_no_drift_and_no_reference_have_their_own_words():
    assert "No drift alert." in drift_block({"retrain_recommended": False, "reasons": []}, None)
    no_reference = {"no_reference": "no training customers <yet>", "retrain_recommended": False}
    assert "no training customers &lt;yet&gt;" in drift_block(no_reference, None)
