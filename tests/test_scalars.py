"""Typed reads of polars scalars: the value passes through, anything else is refused."""

import datetime as dt

import numpy as np
import polars as pl
import pytest

from clv_engine.scalars import as_date, as_float


def test_a_date_columns_extremes_are_dates():
    dates = pl.Series([dt.date(2024, 3, 1), dt.date(2023, 1, 31)])
    assert as_date(dates.min()) == dt.date(2023, 1, 31)
    assert as_date(dates.max()) == dt.date(2024, 3, 1)


def test_numbers_become_floats_with_the_same_value():
    assert as_float(pl.Series([1, 2, 4]).sum()) == 7.0
    assert isinstance(as_float(7), float)
    assert as_float(np.float32(0.5)) == 0.5
    assert as_float(0.1 + 0.2) == 0.1 + 0.2  # no rounding on the way


@pytest.mark.parametrize("value", [None, "2024-01-01", 3])
def test_a_value_that_is_not_a_date_is_refused(value):
    with pytest.raises(TypeError, match="expected a date"):
        as_date(value)


@pytest.mark.parametrize("value", [None, "1.5", dt.date(2024, 1, 1)])
def test_a_value_that_is_not_a_number_is_refused(value):
    with pytest.raises(TypeError, match="expected a number"):
        as_float(value)
