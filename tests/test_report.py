"""The report's number formats (the page itself is checked in a browser: test_pipeline_e2e)."""

import pytest

from clv_engine.params import ParamsError, parse_params
from clv_engine.report import format_money


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
