"""The yearly season of repeat buying and its operational time (src/clv_engine/season.py)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from clv_engine.orders import build_orders
from clv_engine.season import SeasonFit, fit_season
from clv_engine.synth import SynthConfig, generate_transactions


def _orders(amplitude: float, peak_day: int = 320, seed: int = 2):
    config = SynthConfig(
        n_transactions=60_000,
        seed=seed,
        start=dt.date(2021, 1, 1),
        end=dt.date(2023, 12, 31),
        season_amplitude=amplitude,
        season_peak_day=peak_day,
        acquisition_growth_per_year=0.3,
        acquisition_share=1.0,
    )
    return build_orders(generate_transactions(config))


def _year_2023(fit: SeasonFit) -> np.ndarray:
    """The fitted profile on each day of 2023 (and 1 Jan 2024)."""
    return fit.profile(np.arange(366) + (dt.date(2023, 1, 1) - dt.date(1970, 1, 1)).days)


def _peak_day(fit: SeasonFit) -> int:
    """The day of the year (1 = 1 Jan) where the fitted profile peaks in 2023."""
    return int(np.argmax(_year_2023(fit))) + 1


def test_a_strong_season_is_found_with_its_peak():
    fit = fit_season(_orders(0.6, peak_day=320), dt.date(2023, 6, 30))
    assert fit.seasonal and fit.amplitude > 0.3
    grid = _year_2023(fit)
    assert abs(_peak_day(fit) - 320) <= 30, fit.note
    assert np.mean(grid) == pytest.approx(1.0, abs=0.01)
    assert "peak about" in fit.note


@pytest.mark.parametrize(("peak_day", "amplitude", "seed"), [(300, 0.7, 2), (200, 0.5, 4), (350, 0.4, 3)])
def test_customers_met_at_the_peak_do_not_pull_the_peak_early(peak_day, amplitude, seed):
    """Acquisition follows the season here, as in retail: with the base's ages in calendar
    time the offset credited the weeks after the peak with the repeats of the customers met
    in it, and the fitted peak came 19-34 days early (day 275, 180 and 327 here); with ages
    in operational time it is within 10 days, and the height within 0.03."""
    fit = fit_season(_orders(amplitude, peak_day=peak_day, seed=seed), dt.date(2023, 9, 30))
    assert abs(_peak_day(fit) - peak_day) <= 10, fit.note
    assert fit.amplitude == pytest.approx(amplitude, abs=0.03), fit.note


def test_no_season_is_invented():
    fit = fit_season(_orders(0.0, seed=5), dt.date(2023, 6, 30))
    assert not fit.seasonal and "not significant" in fit.note
    assert not fit.young  # tested and not found: the log is old enough to have shown one


@pytest.mark.parametrize("cutoff", [dt.date(2022, 6, 30), dt.date(2022, 9, 30)])
def test_one_cohort_ageing_is_not_a_season(cutoff):
    """A single cohort met in its first weeks buys again most just after, then less: without
    the age offset (BG/NBD's expected repeats by age) that decay read as a season (p ~ 1e-10)."""
    config = SynthConfig(
        n_transactions=60_000,
        seed=2,
        start=dt.date(2021, 1, 1),
        end=dt.date(2022, 12, 31),
        n_cohorts=1,
        acquisition_share=0.1,
        season_amplitude=0.0,
    )
    fit = fit_season(build_orders(generate_transactions(config)), cutoff)
    assert not fit.seasonal and "not significant" in fit.note, fit.note


def test_a_short_log_says_the_season_cannot_be_learned():
    fit = fit_season(_orders(0.6), dt.date(2021, 12, 30))
    assert not fit.seasonal
    assert "needs history from 2020-12-30 (a full year before the cutoff)" in fit.note
    assert fit.young  # the level then assumes a larger error (clv_engine.level.prior_level_error)
    assert not fit_season(_orders(0.6), dt.date(2022, 1, 1)).young  # a full year: old enough


def test_operational_time_without_season_is_calendar_time():
    flat = SeasonFit(sin=(0.0, 0.0), cos=(0.0, 0.0), note="")
    assert flat.operational_days(dt.date(2022, 1, 31), dt.date(2022, 4, 30)) == 89
    peaked = SeasonFit(sin=(0.0, 0.0), cos=(0.5, 0.0), note="")  # peak on 1 January
    winter = peaked.operational_days(dt.date(2021, 11, 30), dt.date(2022, 2, 28))
    summer = peaked.operational_days(dt.date(2022, 5, 31), dt.date(2022, 8, 31))
    assert winter > 90 > summer
    year = peaked.operational_days(dt.date(2021, 12, 31), dt.date(2022, 12, 31))
    assert year == pytest.approx(365, rel=0.01)


def test_weekly_counts_that_cannot_be_fitted_give_no_fit_not_a_crash():
    from clv_engine.season import _poisson_fit

    with np.errstate(all="ignore"):
        assert _poisson_fit(np.ones((3, 1)), np.array([1.0, 1e308, 2.0]), np.zeros(3)) is None
    deviance, beta = _poisson_fit(np.ones((3, 1)), np.array([1.0, 3.0, 2.0]), np.zeros(3))
    assert beta[0] == pytest.approx(np.log(2.0)) and deviance > 0
