"""Several horizons from one forecast (issue 17): hand-computed curves."""

import datetime as dt

import numpy as np
import polars as pl
import pytest

from clv_engine.btyd import BetaGeoFit
from clv_engine.horizons import curve_columns, discounted_value, horizon_values, purchase_curve
from clv_engine.timeline import horizon_days

CUTOFF = dt.date(2023, 12, 31)


def _rows(curves: list[list[float | None]], months: list[int]) -> pl.DataFrame:
    names = curve_columns(months)
    return pl.DataFrame(
        {name: [c[j] for c in curves] for j, name in enumerate(names)},
        schema=dict.fromkeys(names, pl.Float64),
    )


def test_each_horizon_is_the_forecast_times_the_curve_ratio():
    rows = _rows([[1.0, 2.0, 3.0, 4.0], [None, None, None, None], [0.0, 0.0, 0.0, 0.0]], [1, 3, 6, 12])
    predicted = np.array([30.0, 60.0, 9.0])
    values = horizon_values(predicted, rows, CUTOFF, [1, 3, 6, 12], pinned=6)
    assert values[6].tolist() == predicted.tolist()  # the pinned horizon is the forecast itself
    assert values[1][0] == pytest.approx(10.0) and values[3][0] == pytest.approx(20.0)
    assert values[12][0] == pytest.approx(40.0)
    # No curve, or none bought: the forecast spread evenly over the days.
    days = {m: horizon_days(CUTOFF, m) for m in (1, 3, 6, 12)}
    for i in (1, 2):
        assert values[3][i] == pytest.approx(predicted[i] * days[3] / days[6])
        assert values[12][i] == pytest.approx(predicted[i] * days[12] / days[6])
    stacked = np.column_stack([values[m] for m in (1, 3, 6, 12)])
    assert np.all(np.diff(stacked, axis=1) >= 0)


def test_discounted_value_discounts_each_month_from_its_middle():
    months = list(range(1, 13))
    curve = [[float(m) for m in months]]  # one purchase a month
    rows = _rows(curve, months)
    predicted = np.array([120.0])  # over 12 months (pinned 12): 10 a month
    assert discounted_value(predicted, rows, CUTOFF, 12, 0.0)[0] == pytest.approx(120.0)
    expected = sum(10.0 * 1.1 ** -((m - 0.5) / 12) for m in months)
    assert discounted_value(predicted, rows, CUTOFF, 12, 0.10)[0] == pytest.approx(expected)
    assert expected < 120.0


def test_purchase_curve_grows_with_the_horizon():
    fit = BetaGeoFit(r=0.24, alpha=4.4, a=0.79, b=2.4, log_likelihood=0.0, n_customers=3)
    table = pl.DataFrame(
        {"frequency": [0, 2, 5], "recency_tx_days": [0, 60, 300], "age_T_days": [100, 200, 360]}
    )
    out = purchase_curve(table, fit, CUTOFF, [1, 3, 6, 12])
    curve = out.select(curve_columns([1, 3, 6, 12])).to_numpy()
    assert np.all(curve > 0) and np.all(np.diff(curve, axis=1) > 0)
    assert purchase_curve(table, None, CUTOFF, [1, 3])[curve_columns([1])[0]].null_count() == 3


def test_a_season_moves_spend_towards_its_peak_months():
    from clv_engine.season import _HARMONICS, SeasonFit

    fit = BetaGeoFit(r=0.24, alpha=4.4, a=0.79, b=2.4, log_likelihood=0.0, n_customers=3)
    table = pl.DataFrame({"frequency": [2, 5], "recency_tx_days": [60, 300], "age_T_days": [200, 360]})
    months = [1, 3, 6, 12]
    # A peak in late January (day ~25 of the year): the first month after 2023-12-31 holds more.
    peak = SeasonFit(sin=(0.4,) + (0.0,) * (_HARMONICS - 1), cos=(0.6,) + (0.0,) * (_HARMONICS - 1), note="")
    plain = purchase_curve(table, fit, CUTOFF, months).select(curve_columns(months)).to_numpy()
    seasonal = purchase_curve(table, fit, CUTOFF, months, peak).select(curve_columns(months)).to_numpy()
    assert np.all(np.diff(seasonal, axis=1) > 0)
    share_plain, share_seasonal = plain[:, 0] / plain[:, 2], seasonal[:, 0] / seasonal[:, 2]
    assert np.all(share_seasonal > share_plain * 1.2)
