"""Typed reads of a polars scalar.

A column's ``min()``, ``max()``, ``sum()`` or ``item()`` is typed as any Python literal (or
None); these say which one the caller knows it is, and fail loudly if it is not, so the type
checker can follow the value from there.
"""

from __future__ import annotations

import datetime as dt
import numbers

__all__ = ["as_date", "as_float", "as_optional_date"]


def as_date(value: object) -> dt.date:
    """``value``, a date (a Date column's minimum, maximum or item)."""
    if not isinstance(value, dt.date):
        raise TypeError(f"expected a date, got {value!r}")
    return value


def as_float(value: object) -> float:
    """``value`` (a number: a numeric column's sum, mean, quantile or item) as a float."""
    if not isinstance(value, numbers.Real):
        raise TypeError(f"expected a number, got {value!r}")
    return float(value)


def as_optional_date(value: object) -> dt.date | None:
    """:func:`as_date`, or None for an empty column's minimum or maximum."""
    return None if value is None else as_date(value)
