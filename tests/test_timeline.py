from __future__ import annotations

import datetime as dt

import pytest
from tests.helpers import orders_of

from clv_engine.timeline import (
    DataRangeError,
    add_months,
    cutoff_before,
    fits_history,
    horizon_days,
    labels,
    resolve_as_of,
    training_cutoffs,
)

D = dt.date


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(1997, 12, 31), 6, D(1998, 6, 30)),
        (D(1997, 6, 30), 6, D(1997, 12, 31)),
        (D(1997, 9, 30), 3, D(1997, 12, 31)),
        (D(1997, 1, 15), -3, D(1996, 10, 15)),
        (D(1998, 3, 31), -1, D(1998, 2, 28)),
        (D(2020, 1, 30), 1, D(2020, 2, 29)),
        (D(1997, 12, 31), -18, D(1996, 6, 30)),
    ],
)
def test_add_months_calendar(day, months, expected):
    assert add_months(day, months) == expected


def test_horizon_days_counts_calendar_months():
    assert horizon_days(D(1997, 12, 31), 6) == 181  # 1998-01-01 .. 1998-06-30
    assert horizon_days(D(1997, 12, 31), 12) == 365
    assert horizon_days(D(1997, 6, 30), 3) == 92


def test_resolve_as_of():
    first, last = D(1997, 1, 1), D(1998, 6, 30)
    assert resolve_as_of(None, first, last) == last
    assert resolve_as_of(D(1997, 12, 31), first, last) == D(1997, 12, 31)
    with pytest.raises(DataRangeError, match="before the first order in the log"):
        resolve_as_of(D(1996, 1, 1), first, last)
    with pytest.raises(DataRangeError, match="after the last order in the log"):
        resolve_as_of(D(1999, 1, 1), first, last)


def test_cutoff_before_never_lets_a_label_pass_the_end():
    assert cutoff_before(D(1998, 6, 30), 6) == D(1997, 12, 31)
    # 2023-05-30 - 3 months = 2023-02-28 (a month end) whose + 3 months is 2023-05-31
    assert cutoff_before(D(2023, 5, 30), 3) == D(2023, 2, 27)
    for day in (D(2023, 5, 30), D(2024, 2, 29), D(2023, 3, 31), D(2023, 8, 30)):
        for months in (1, 3, 6, 12):
            assert add_months(cutoff_before(day, months), months) <= day


def test_fits_history_and_cutoffs():
    first = D(1997, 1, 1)
    assert fits_history(D(1997, 6, 30), 6, first)  # window starts 1996-12-31 -> sees 1997-01-01 on
    assert not fits_history(D(1997, 6, 30), 7, first)
    plan = training_cutoffs(D(1998, 6, 30), 6, 6, 4, 3, first)
    assert plan.cutoffs == (D(1997, 12, 31), D(1997, 9, 30), D(1997, 6, 30))
    assert plan.skipped == (D(1997, 3, 31),)


def test_labels_window_is_half_open_and_floored():
    orders = orders_of(
        [
            ("A", "2020-01-01", 10),
            ("A", "2020-01-31", 5),  # on the cutoff: not in the label
            ("A", "2020-02-01", 7),  # first day of the horizon
            ("A", "2020-03-01", 3),  # last day of a 30-day horizon (cutoff + 30)
            ("A", "2020-03-02", 100),  # after the horizon
            ("B", "2020-01-05", 20),
            ("B", "2020-02-10", -50),  # a return only: net -50 -> floored at 0, no purchase
            ("C", "2020-02-05", 40),  # first seen after the cutoff: absent
        ]
    )
    out = labels(orders, D(2020, 1, 31), 30, floor_at_zero=True)
    assert out.rows() == [("A", 10.0, True), ("B", 0.0, False)]
    raw = labels(orders, D(2020, 1, 31), 30, floor_at_zero=False)
    assert raw["label_revenue"].to_list() == [10.0, -50.0]
