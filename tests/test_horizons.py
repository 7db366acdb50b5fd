"""Several horizons from one forecast (issue 17): hand-computed curves."""

import datetime as dt

import numpy as np
import polars as pl
import pytest

from clv_engine.btyd import BetaGeoFit
from clv_engine.horizons import (
    buy_columns,
    curve_columns,
    discounted_value,
    fit_horizon_bands,
    horizon_label_columns,
    horizon_p_active,
    horizon_values,
    purchase_curve,
)
from clv_engine.model import IntervalCalibrator
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


def test_buy_if_alive_is_bg_nbd_p_purchase_without_p_alive():
    fit = BetaGeoFit(r=0.24, alpha=4.4, a=0.79, b=2.4, log_likelihood=0.0, n_customers=3)
    table = pl.DataFrame(
        {"frequency": [0, 2, 5], "recency_tx_days": [0, 60, 300], "age_T_days": [100, 200, 360]}
    )
    out = purchase_curve(table, fit, CUTOFF, [1, 6], buy_months=[1, 6])
    x, t_x, big_t = (
        table[c].to_numpy() / w for c, w in (("frequency", 1), ("recency_tx_days", 7), ("age_T_days", 7))
    )
    for m in (1, 6):
        weeks = horizon_days(CUTOFF, m) / 7
        # by hand: 1 - ((alpha + T) / (alpha + T + t))^(r + x)
        by_hand = 1 - ((4.4 + big_t) / (4.4 + big_t + weeks)) ** (0.24 + x)
        np.testing.assert_allclose(out[buy_columns([m])[0]].to_numpy(), by_hand, rtol=1e-12)
        p_purchase = fit.p_purchase(x, t_x, big_t, weeks) / fit.p_alive(x, t_x, big_t)
        np.testing.assert_allclose(out[buy_columns([m])[0]].to_numpy(), p_purchase, rtol=1e-10)
    assert purchase_curve(table, None, CUTOFF, [1], buy_months=[1])[buy_columns([1])[0]].null_count() == 3


def test_p_active_over_each_horizon_takes_bg_nbd_shape_and_keeps_the_pinned_one():
    names = buy_columns([1, 3, 12])
    rows = pl.DataFrame(
        {names[0]: [0.2, None, 0.5], names[1]: [0.4, None, 0.9], names[2]: [0.8, None, 1.0]},
        schema=dict.fromkeys(names, pl.Float64),
    )
    p = np.array([0.5, 0.5, 0.9])
    out = horizon_p_active(p, rows, CUTOFF, [1, 3, 12], pinned=3)
    assert out[3].tolist() == p.tolist()
    assert out[1][0] == pytest.approx(0.25) and out[12][0] == pytest.approx(1.0)  # 0.5 x 0.8 / 0.4
    assert out[1][2] == pytest.approx(0.5) and out[12][2] == 1.0  # capped at 1
    # no curve: a constant hazard over the days
    days = {m: horizon_days(CUTOFF, m) for m in (1, 3, 12)}
    assert out[1][1] == pytest.approx(1 - 0.5 ** (days[1] / days[3]))
    assert out[12][1] == pytest.approx(1 - 0.5 ** (days[12] / days[3]))
    stacked = np.column_stack([out[m] for m in (1, 3, 12)])
    assert np.all(np.diff(stacked, axis=1) >= 0) and np.all(stacked <= 1)


def test_stacked_rows_take_each_row_s_own_cutoff_where_the_curve_is_unknown():
    other = dt.date(2023, 1, 31)  # February is shorter than January
    rows = _rows([[None, None], [None, None]], [1, 3]).with_columns(
        cutoff=pl.Series([CUTOFF, other], dtype=pl.Date)
    )
    values = horizon_values(np.array([90.0, 90.0]), rows, None, [1, 3], pinned=3)
    for i, c in enumerate((CUTOFF, other)):
        assert values[1][i] == pytest.approx(90.0 * horizon_days(c, 1) / horizon_days(c, 3))
    assert values[1][0] != pytest.approx(values[1][1])


def _oos_rows(n: int, seed: int = 3) -> tuple[pl.DataFrame, dict[str, np.ndarray]]:
    """Stacked rows of two cutoffs with a known curve: spend over 1 month is a Poisson count
    of purchases (mean a third of the 3 months') of 10 each."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(1.0, 0.5, n)  # purchases a month
    bought_3m = rng.poisson(3 * rate)
    bought_1m = rng.binomial(bought_3m, 1 / 3)
    oos = {
        "rows": np.arange(n),
        "predicted": 30.0 * rate,
        "actual": 10.0 * bought_3m,
        "p_active": 1 - np.exp(-3 * rate),
        "bought": (bought_3m > 0).astype(int),
    }
    revenue, bought = horizon_label_columns(1)
    revenue12, bought12 = horizon_label_columns(12)
    cutoffs = [CUTOFF if i % 2 else dt.date(2023, 9, 30) for i in range(n)]
    rows = pl.DataFrame(
        {
            "cutoff": pl.Series(cutoffs, dtype=pl.Date),
            **dict(zip(curve_columns([1, 3]), ([1.0] * n, [3.0] * n), strict=True)),
            **dict(zip(buy_columns([1, 3]), (1 - np.exp(-rate), 1 - np.exp(-3 * rate)), strict=True)),
            revenue: 10.0 * bought_1m,
            bought: bought_1m > 0,
            # 12 months: realised at the older cutoff only, and by too few rows
            revenue12: [None] * n,
            bought12: pl.Series([None] * n, dtype=pl.Boolean),
        }
    )
    return rows, oos


def test_each_horizon_band_is_calibrated_on_its_own_labels():
    rows, oos = _oos_rows(6_000)
    bands = fit_horizon_bands(rows, oos, [1, 3, 12], 3, 0.9, 10)
    assert set(bands.calibrators) == {1} and bands.rows == {1: 6_000}
    assert bands.missing[12].startswith("not calibrated") and "3-month band" in bands.missing[12]
    assert bands.interval(12, np.ones(3), np.ones(3)) is None
    # On fresh draws of the same process the 1-month band covers about 90%.
    fresh, fresh_oos = _oos_rows(6_000, seed=4)
    predicted = horizon_values(fresh_oos["predicted"], fresh, None, [1], 3)[1]
    chance = horizon_p_active(fresh_oos["p_active"], fresh, None, [1], 3)[1]
    low, high = bands.interval(1, predicted, chance)
    actual = fresh["label_revenue_1m"].to_numpy()
    coverage = np.mean((low <= actual) & (actual <= high))
    assert 0.87 <= coverage <= 0.95
    assert np.all(low <= predicted) and np.all(predicted <= high)
    # the 3-month band scaled down would be another band: the 1-month one is its own
    three = fit_horizon_bands(rows, oos, [3], 3, 0.9, 10)
    assert three.calibrators == {} and three.missing == {}
    desc = bands.describe()
    assert list(desc) == ["1m", "12m"] and desc["1m"].startswith("calibrated on 6,000")


def test_a_horizon_without_its_own_band_borrows_the_pinned_one_at_its_own_level():
    rows, oos = _oos_rows(6_000)
    bands = fit_horizon_bands(rows, oos, [1, 3, 12], 3, 0.9, 10)
    pinned = IntervalCalibrator(0.9, 10).fit(oos["predicted"], oos["actual"], None, oos["p_active"])
    twelve = 4 * oos["predicted"]  # clv_12m: four times the 3-month forecast
    bands.follow_level({1: oos["predicted"] / 3, 12: twelve}, pinned)
    # The pinned calibrator itself stays where it was; the 12-month band is its ratios read
    # at the place each clv_12m holds among the clv_12m: the 3-month band, four times over.
    assert pinned.scale_ == 1.0 and bands.borrowed[12].scale_ == 4.0 and set(bands.borrowed) == {12}
    low, high = bands.interval(12, twelve, oos["p_active"])
    low3, high3 = pinned.interval(oos["predicted"], oos["p_active"])
    np.testing.assert_allclose(low, 4 * low3, rtol=1e-12)
    np.testing.assert_allclose(high, 4 * high3, rtol=1e-12)
    assert bands.calibrators[1].scale_ == 1.0  # its own forecasts: where its bins were cut
