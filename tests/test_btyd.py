"""BG/NBD and Gamma-Gamma reproduce the published fits on the CDNOW 1/10 sample."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import polars as pl
import pytest

from clv_engine.btyd import BetaGeoFit, GammaGammaFit, fit_beta_geo, fit_gamma_gamma
from clv_engine.features import customer_table
from clv_engine.ingest import ingest
from clv_engine.orders import build_orders
from clv_engine.params import FeatureParams, IngestParams, LifecycleParams


@pytest.fixture(scope="module")
def calibration(cdnow_sample_path) -> pl.DataFrame:
    """39 weeks of calibration ending 1997-09-30, time unit weeks."""
    orders = build_orders(ingest(IngestParams(path=str(cdnow_sample_path), duplicates="keep")).transactions)
    table = customer_table(orders, dt.date(1997, 9, 30), 9, 6, FeatureParams(), LifecycleParams())
    return table.with_columns(t_x=pl.col("recency_tx_days") / 7, T=pl.col("age_T_days") / 7)


def test_bg_nbd_matches_fader_hardie_lee_2005(calibration):
    fit = fit_beta_geo(
        calibration["frequency"], calibration["t_x"], calibration["T"], maximum_likelihood=True
    )
    assert (round(fit.r, 3), round(fit.alpha, 3), round(fit.a, 3), round(fit.b, 3)) == (
        0.243,
        4.414,
        0.793,
        2.426,
    )
    assert fit.log_likelihood == pytest.approx(-9582.4, abs=0.1)


def test_gamma_gamma_matches_published(calibration):
    fit = fit_gamma_gamma(calibration["frequency"], calibration["mean_repeat_spend"], maximum_likelihood=True)
    assert fit.n_customers == 946
    assert (round(fit.p, 2), round(fit.q, 2), round(fit.gamma, 2)) == (6.25, 3.74, 15.44)


def test_conditional_expectations_published_example():
    # FHL 2005: x = 2, t_x = 30.43, T = 38.86 -> 1.226 purchases expected in the next 39 weeks
    fit = BetaGeoFit(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=0.0, n_customers=0)
    assert fit.expected_purchases([2], [30.43], [38.86], 39)[0] == pytest.approx(1.226, abs=0.001)
    # no repeat purchase: alive for sure; a long silence after many purchases: probably gone
    alive = fit.p_alive([0, 10], [0, 5], [30, 60])
    assert alive[0] == 1.0 and alive[1] < 0.01
    # expectations are finite and non-negative for extreme inputs
    extreme = fit.expected_purchases([500, 0], [70, 0], [70, 1000], 26)
    assert np.all(np.isfinite(extreme)) and np.all(extreme >= 0)


def test_probability_of_a_purchase_in_the_horizon():
    fit = BetaGeoFit(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=0.0, n_customers=0)
    # No repeat purchase yet: alive for sure, so only the NBD part: 1 - (34.414 / 73.414)^0.243
    assert fit.p_purchase([0], [0], [30], 39)[0] == pytest.approx(0.16816, abs=1e-5)
    x, t_x, T = np.array([0, 2, 10, 10]), np.array([0, 30.43, 5, 59]), np.array([30, 38.86, 60, 60])
    short, long = fit.p_purchase(x, t_x, T, 13), fit.p_purchase(x, t_x, T, 39)
    assert np.all((short >= 0) & (short <= long) & (long <= 1))
    # never above P(alive), nor above the expected number of purchases (Markov)
    assert np.all(long <= fit.p_alive(x, t_x, T) + 1e-12)
    assert np.all(long <= fit.expected_purchases(x, t_x, T, 39) + 1e-12)


def test_gamma_gamma_expected_spend_by_hand():
    fit = GammaGammaFit(p=6.25, q=3.74, gamma=15.44, log_likelihood=0.0, n_customers=0)
    assert fit.expected_spend([2], [22.35])[0] == pytest.approx((15.44 + 44.7) * 6.25 / (12.5 + 2.74))
    assert fit.expected_spend([0], [np.nan])[0] == pytest.approx(15.44 * 6.25 / 2.74)
    assert fit.population_mean_spend() == pytest.approx(15.44 * 6.25 / 2.74)


def test_expected_repeats_of_a_new_customer_match_a_simulation():
    """E[X(t)] (FHL 2005, eq. 9) against BG/NBD simulated: X(t) = min(Poisson(lambda t), K),
    K ~ Geometric(p) the purchases until the one after which the customer drops out."""
    fit = BetaGeoFit(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=0.0, n_customers=0)
    rng = np.random.default_rng(0)
    n = 400_000
    rate = rng.gamma(fit.r, 1 / fit.alpha, n)
    dropout = rng.beta(fit.a, fit.b, n)
    for t in (13.0, 39.0, 78.0):
        simulated = np.minimum(rng.poisson(rate * t), rng.geometric(dropout)).mean()
        assert fit.expected_repeats([t])[0] == pytest.approx(simulated, rel=0.02)
    # a new customer's expectation is eq. 10 at x = t_x = T = 0; none before the first order
    assert fit.expected_repeats([39.0])[0] == pytest.approx(fit.expected_purchases([0], [0], [0], 39)[0])
    assert fit.expected_repeats([0.0, -3.0]).tolist() == [0.0, 0.0]
    # a matrix of ages, half before the first order: eq. 10 element by element, to the bit
    ages = np.linspace(-60.0, 60.0, 231).reshape(11, 21)
    zero = np.zeros(1)
    whole = np.clip(fit.expected_purchases(zero, zero, zero, np.clip(ages, 0.0, None)), 0.0, None)
    assert fit.expected_repeats(ages).shape == ages.shape
    assert np.array_equal(fit.expected_repeats(ages), whole)
    # a = 1 is the limit, finite
    one = BetaGeoFit(r=0.5, alpha=5.0, a=1.0, b=3.0, log_likelihood=0.0, n_customers=0)
    assert np.isfinite(one.expected_repeats([10.0, 50.0])).all()


def _central_difference(loglik, params: np.ndarray, h: float = 1e-6) -> np.ndarray:
    return np.column_stack(
        [
            (loglik(params * (1 + h * e)) - loglik(params * (1 - h * e))) / (2 * h * params @ e)
            for e in np.eye(params.size)
        ]
    ).T


def test_exact_gradients_match_central_differences(calibration):
    from clv_engine.btyd import _bg_gradient, _bg_log_likelihood, _gg_gradient, _gg_log_likelihood

    x = calibration["frequency"].to_numpy().astype(float)
    t_x, big_t = calibration["t_x"].to_numpy(), calibration["T"].to_numpy()
    bg = np.array([0.3, 5.0, 0.7, 2.0])
    numeric = _central_difference(lambda p: _bg_log_likelihood(p, x, t_x, big_t), bg)
    np.testing.assert_allclose(_bg_gradient(bg, x, t_x, big_t), numeric, rtol=1e-5, atol=1e-7)
    repeat = x > 0
    m = calibration["mean_repeat_spend"].to_numpy()[repeat]
    gg = np.array([6.0, 4.0, 15.0])
    numeric = _central_difference(lambda p: _gg_log_likelihood(p, x[repeat], m), gg)
    np.testing.assert_allclose(_gg_gradient(gg, x[repeat], m), numeric, rtol=1e-5, atol=1e-7)


def test_fits_do_not_amplify_a_last_bit_change_of_the_data(calibration):
    """The fits settle on gradient = 0 and keep 9 digits: the same data give the same fit
    to the bit when it is scaled by 1 + 1e-12 (another machine's rounding, say). Before,
    L-BFGS-B stopped where the log-likelihood looked flat and a 1e-12 change of the spend
    moved the Gamma-Gamma fit by 2e-5 on the full CDNOW log."""
    x = calibration["frequency"]
    spend = calibration["mean_repeat_spend"].to_numpy()
    t_x, big_t = calibration["t_x"].to_numpy(), calibration["T"].to_numpy()
    gg = fit_gamma_gamma(x, spend)
    bg = fit_beta_geo(x, t_x, big_t)
    for factor in (1 + 1e-12, 1 - 3e-12):
        again = fit_gamma_gamma(x, spend * factor)
        assert (again.p, again.q, again.gamma) == (gg.p, gg.q, gg.gamma)
        # a time unit 1e-12 longer scales alpha alone; r, a and b are unit-free
        moved = fit_beta_geo(x, t_x * factor, big_t * factor)
        assert (moved.r, moved.a, moved.b) == (bg.r, bg.a, bg.b)
        assert moved.alpha == pytest.approx(bg.alpha * factor, rel=2e-9)
    # the returned fit is a stationary point of the posterior, not where a search stopped
    from clv_engine.btyd import _BG_SHAPES, _GG_SHAPES, PRIOR_SD, _bg_gradient, _gg_gradient, _prior_precision

    params = np.array([bg.r, bg.alpha, bg.a, bg.b])
    xs = x.to_numpy().astype(float)
    prior = _prior_precision(_BG_SHAPES, PRIOR_SD) * np.log(params)
    per_customer = (_bg_gradient(params, xs, t_x, big_t).sum(axis=1) * params - prior) / xs.size
    assert np.max(np.abs(per_customer)) < 1e-7
    repeat = xs > 0
    params = np.array([gg.p, gg.q, gg.gamma])
    prior = _prior_precision(_GG_SHAPES, PRIOR_SD) * np.log(params)
    per_customer = (
        _gg_gradient(params, xs[repeat], spend[repeat]).sum(axis=1) * params - prior
    ) / repeat.sum()
    assert np.max(np.abs(per_customer)) < 1e-7


def test_the_weak_prior_barely_moves_a_well_determined_fit(calibration):
    """Where the data determine the parameters (CDNOW's 2,357 customers), the most probable
    fit is the maximum-likelihood one to about 1% and as likely to 0.01."""
    x, t_x, big_t = calibration["frequency"], calibration["t_x"], calibration["T"]
    spend = calibration["mean_repeat_spend"]
    for fit, textbook in (
        (fit_beta_geo(x, t_x, big_t), fit_beta_geo(x, t_x, big_t, maximum_likelihood=True)),
        (fit_gamma_gamma(x, spend), fit_gamma_gamma(x, spend, maximum_likelihood=True)),
    ):
        names = [f.name for f in dataclasses.fields(fit)][:-2]  # the parameters
        moved = np.abs([getattr(fit, n) / getattr(textbook, n) - 1 for n in names])
        assert moved.max() < 0.02
        assert fit.log_likelihood == pytest.approx(textbook.log_likelihood, abs=0.01)


def _no_dropout(seed: int = 7, customers: int = 300):
    """A year of Poisson buyers who never leave: BG/NBD's likelihood is a ridge towards a -> 0,
    b -> inf (no dropout), flat enough that a search stops wherever it runs out of slope."""
    rng = np.random.default_rng(seed)
    rates = rng.gamma(2.0, 1 / 4.0, customers)
    x, t_x = np.zeros(customers), np.zeros(customers)
    for i, rate in enumerate(rates):
        count = rng.poisson(rate * 52)
        if count:
            x[i], t_x[i] = count, rng.uniform(0, 52, count).max()
    return x, t_x, np.full(customers, 52.0)


def test_on_a_ridge_the_fit_does_not_depend_on_where_the_search_starts_or_how(monkeypatch):
    """Maximum likelihood on the ridge stops at b = 385 .. 84,000 depending on the start and
    on whether L-BFGS-B is given the gradient; under the weak prior every start and both
    searches settle on the same point (Superstore's level moved by up to 16 points with the
    search before; experiments/RESULTS.md, 2026-12-07)."""
    from clv_engine import btyd

    monkeypatch.setattr(btyd, "_FITS", type(btyd._FITS)())
    x, t_x, big_t = _no_dropout()
    fits, textbook = set(), set()
    for exact in (False, True):
        monkeypatch.setattr(btyd, "EXACT_GRADIENT", exact)
        for start in ((1.0, 1.0, 1.0, 1.0), (0.5, 5.0, 0.5, 5.0), (2.0, 20.0, 0.1, 1.0)):
            fits.add(fit_beta_geo(x, t_x, big_t, start))
            textbook.add(fit_beta_geo(x, t_x, big_t, start, maximum_likelihood=True).b)
    assert len(fits) == 1
    assert max(textbook) / min(textbook) > 10  # without the prior, the search decides


def test_a_fit_of_the_same_data_is_made_once(calibration, monkeypatch):
    """The window search fits the same customers at the same cutoff once per lookback: the
    second fit of identical rows (and start) is the first one, not a new search; a changed
    row or start is fitted anew."""
    from clv_engine import btyd

    searches = []
    for name in ("_fit_beta_geo", "_fit_gamma_gamma"):
        real = getattr(btyd, name)
        monkeypatch.setattr(
            btyd, name, lambda *a, _real=real, _name=name: searches.append(_name) or _real(*a)
        )
    monkeypatch.setattr(btyd, "_FITS", type(btyd._FITS)())
    x = calibration["frequency"].to_numpy().astype(float)
    t_x, big_t = calibration["t_x"].to_numpy(), calibration["T"].to_numpy()
    spend = calibration["mean_repeat_spend"].to_numpy()
    first = fit_beta_geo(x, t_x, big_t)
    # the same customers in another order are the same data
    order = np.random.default_rng(0).permutation(x.size)
    assert fit_beta_geo(x[order], t_x[order], big_t[order]) is first
    assert searches == ["_fit_beta_geo"]
    moved = big_t.copy()
    moved[0] += 1.0
    assert fit_beta_geo(x, t_x, moved) != first
    fit_beta_geo(x, t_x, big_t, start=(0.5, 1.0, 1.0, 1.0))
    assert searches == ["_fit_beta_geo"] * 3
    gg = fit_gamma_gamma(x, spend)
    assert fit_gamma_gamma(x, spend) is gg
    assert searches.count("_fit_gamma_gamma") == 1
    # a search without the memo finds the same fit
    repeat = (x > 0) & np.isfinite(spend) & (spend > 0)
    assert btyd._fit_gamma_gamma(*_distinct(x[repeat], spend[repeat]), (1.0, 1.0, 1.0), btyd.PRIOR_SD) == gg


def _distinct(*columns):
    from clv_engine.btyd import _unique_rows

    unique, weight = _unique_rows(*[np.asarray(c, dtype=float) for c in columns])
    return (*unique, weight)


@pytest.mark.parametrize("seed", range(6))
def test_distinct_rows_of_whole_numbers_are_the_lexicographic_distinct_rows(seed):
    from clv_engine.btyd import _integer_key, _unique_rows

    rng = np.random.default_rng(seed)
    n = 2_000
    x = rng.poisson(2, n).astype(float)
    t_x = rng.integers(0, 40, n).astype(float)
    big_t = t_x + rng.integers(0, 5, n)
    x[:3] = -0.0  # equal to 0.0: one row with it
    for columns in ((x, t_x, big_t), (x, t_x + 0.5, big_t)):  # whole numbers, then not
        unique, weight = _unique_rows(*columns)
        expected, counts = np.unique(np.column_stack(columns), axis=0, return_counts=True)
        assert np.array_equal(np.column_stack(unique), expected)
        assert weight.tolist() == counts.tolist()
    assert _integer_key((x, t_x, big_t)) is not None and _integer_key((x, t_x + 0.5)) is None
    assert _integer_key((np.array([2.0**40]), np.array([2.0**30]))) is None  # past 2^62 together
