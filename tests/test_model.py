from __future__ import annotations

import datetime as dt
import pickle

import numpy as np
import polars as pl
import pytest
from catboost import Pool

from clv_engine import boosting
from clv_engine.boosting import fit_catboost, make_pool
from clv_engine.dataset import build_dataset, customer_rows
from clv_engine.evaluation import fit_clv, warm_start
from clv_engine.fallback import BaselineForecaster
from clv_engine.model import IntervalCalibrator
from clv_engine.orders import build_orders
from clv_engine.params import parse_params
from clv_engine.synth import SynthConfig, generate_transactions
from clv_engine.timeline import training_cutoffs


def test_interval_calibrator_covers_its_level_and_contains_prediction():
    rng = np.random.default_rng(0)
    predicted = rng.gamma(1.0, 20.0, 20_000)
    actual = np.where(rng.random(predicted.size) < 0.3, predicted * rng.gamma(2.0, 1.5, predicted.size), 0.0)
    cal = IntervalCalibrator(level=0.9, n_bins=10).fit(predicted[:10_000], actual[:10_000])
    lower, upper = cal.interval(predicted[10_000:])
    held_out = actual[10_000:]
    coverage = np.mean((lower <= held_out) & (held_out <= upper))
    assert 0.88 <= coverage <= 0.92
    assert np.all(lower >= 0) and np.all(lower <= predicted[10_000:]) and np.all(predicted[10_000:] <= upper)


@pytest.fixture(scope="module")
def small_problem():
    log = generate_transactions(
        SynthConfig(n_transactions=6_000, seed=9, start=dt.date(2021, 1, 1), end=dt.date(2022, 12, 31))
    )
    orders = build_orders(log)
    as_of = dt.date(2022, 12, 31)
    plan = training_cutoffs(as_of, 3, 6, 3, 2, orders["order_date"].min())
    return orders, as_of, plan.cutoffs


def _params(**model):
    return parse_params(
        {"model": {"iterations": 60, "learning_rate": 0.1, "early_stopping_rounds": 10} | model}
    )


@pytest.mark.parametrize("objective", ["tweedie", "two_part", "log_rmse"])
@pytest.mark.parametrize("baseline", ["btyd", "none"])
def test_every_objective_predicts_non_negative_with_valid_intervals(small_problem, objective, baseline):
    orders, as_of, cutoffs = small_problem
    params = _params(objective=objective, baseline=baseline)
    data = build_dataset(orders, cutoffs, 6, 3, params.features, params.lifecycle, params.labels)
    model = fit_clv(data, params)
    rows, _ = customer_rows(orders, as_of, 6, 3, params.features, params.lifecycle)
    predicted = model.predict(rows)
    lower, upper = model.predict_interval(predicted)
    p_active = model.predict_p_active(rows)
    assert predicted.shape == (rows.height,) and np.all(np.isfinite(predicted)) and np.all(predicted >= 0)
    assert np.all((lower <= predicted) & (predicted <= upper)) and np.all(lower >= 0)
    assert np.all((p_active >= 0) & (p_active <= 1))
    assert "time-based" in model.validation_


def test_same_data_same_model_bytes(small_problem):
    orders, _, cutoffs = small_problem
    params = _params()
    data = build_dataset(orders, cutoffs[:1], 6, 3, params.features, params.lifecycle, params.labels)
    a, b = fit_clv(data, params), fit_clv(data, params)
    assert "grouped by customer" in a.validation_
    assert pickle.dumps(a.value_model_) == pickle.dumps(b.value_model_)
    assert pickle.dumps(a.buy_model_) == pickle.dumps(b.buy_model_)
    assert np.array_equal(a.intervals_.upper_ratio_, b.intervals_.upper_ratio_)


def test_row_order_does_not_change_predictions(small_problem):
    orders, as_of, cutoffs = small_problem
    params = _params()
    data = build_dataset(orders, cutoffs, 6, 3, params.features, params.lifecycle, params.labels)
    shuffled = build_dataset(
        orders.sample(fraction=1.0, shuffle=True, seed=1),
        cutoffs,
        6,
        3,
        params.features,
        params.lifecycle,
        params.labels,
    )
    assert data.equals(shuffled)
    rows, _ = customer_rows(orders, as_of, 6, 3, params.features, params.lifecycle)
    assert np.array_equal(fit_clv(data, params).predict(rows), fit_clv(shuffled, params).predict(rows))
    assert isinstance(rows, pl.DataFrame)


def test_fit_reports_progress_and_keeps_no_callback(small_problem):
    orders, _, cutoffs = small_problem
    params = parse_params({"model": {"iterations": 450, "learning_rate": 0.01, "early_stopping_rounds": 500}})
    data = build_dataset(orders, cutoffs, 6, 3, params.features, params.lifecycle, params.labels)
    lines: list[str] = []
    model = fit_clv(data, params, lines.append)
    assert any(line.startswith("fold 1 of 1, regressor Tweedie on") for line in lines)
    assert any(line.startswith("final, all rows, classifier Logloss on") for line in lines)
    # CatBoost's loss every 200 trees, one line each, with the fit's label
    assert any(line.startswith("fold 1 of 1, regressor Tweedie: 200: learn:") for line in lines)
    quiet = fit_clv(data, params)
    assert not hasattr(model, "_progress") and not hasattr(model, "_stage")
    assert pickle.dumps(model.value_model_) == pickle.dumps(quiet.value_model_)


def test_too_few_older_cutoffs_switch_to_grouped_folds(small_problem):
    orders, _, cutoffs = small_problem
    params = _params(time_validation_min_cutoffs=len(cutoffs))
    data = build_dataset(orders, cutoffs, 6, 3, params.features, params.lifecycle, params.labels)
    model = fit_clv(data, params)
    assert model.validation_.startswith(f"{len(cutoffs)} cutoffs, too few for time-based validation")
    assert np.isfinite(model.oos_["predicted"]).all() and model.oos_["predicted"].size == data.height


def test_a_retired_option_is_refused_with_what_to_do():
    from clv_engine.params import ParamsError, parse_params

    with pytest.raises(
        ParamsError, match=r"model.ensemble is no longer an option: .* lost on every backtest"
    ):
        parse_params({"model": {"ensemble": "stack"}})


@pytest.mark.parametrize("target", [None, 1234.5])
def test_anchor_level_scales_to_the_target_and_keeps_the_order(small_problem, target):
    orders, as_of, cutoffs = small_problem
    params = _params()
    data = build_dataset(orders, cutoffs, 6, 3, params.features, params.lifecycle, params.labels)
    model = fit_clv(data, params)
    rows, _ = customer_rows(orders, as_of, 6, 3, params.features, params.lifecycle)
    trees, p_active = model.predict(rows), model.predict_p_active(rows)
    assert model.anchor_level(rows, target, "the level rule") is model
    if target is None:
        assert model.level_ == 1.0 and np.array_equal(model.predict(rows), trees)
        assert model.buy_shift_ == 0.0 and model.level_note_ == "the trees' level (the level rule)"
        return
    assert model.predict(rows).sum() == pytest.approx(target, rel=1e-9)
    assert np.allclose(model.predict(rows), trees * model.level_)
    # p_active: its log-odds shifted to BG/NBD's mean P(a purchase), the order kept
    chance = rows["btyd_p_purchase"].to_numpy()
    shifted = model.predict_p_active(rows)
    assert shifted.mean() == pytest.approx(chance.mean(), rel=1e-9) and model.buy_shift_ != 0.0
    assert np.array_equal(np.argsort(shifted, kind="stable"), np.argsort(p_active, kind="stable"))
    assert f"x {model.level_:.4f} to the level rule" in model.level_note_
    lower, upper = model.predict_interval(model.predict(rows))
    assert np.all((lower <= model.predict(rows)) & (model.predict(rows) <= upper))


def test_interval_calibrator_with_level_errors_widens_and_recentres():
    rng = np.random.default_rng(1)
    predicted = rng.gamma(1.0, 20.0, 20_000)
    actual = np.where(rng.random(predicted.size) < 0.3, predicted * rng.gamma(2.0, 1.5, predicted.size), 0.0)
    plain = IntervalCalibrator(level=0.9, n_bins=10).fit(predicted, actual)
    # The shipped total will be off by up to +-30% as at past origins: the band widens.
    errors = np.log([0.7, 0.85, 1.0, 1.15, 1.3])
    wide = IntervalCalibrator(level=0.9, n_bins=10).fit(predicted, actual, errors)
    _, upper_plain = plain.interval(predicted)
    _, upper_wide = wide.interval(predicted)
    assert upper_wide.sum() > upper_plain.sum()
    # Held at a level 20% too low (error log 0.8), the band still covers about 90%.
    shipped = predicted * 0.8
    lower, upper = wide.interval(shipped)
    assert 0.86 <= np.mean((lower <= actual) & (actual <= upper)) <= 0.96


def test_a_kept_out_of_sample_level_error_stays_in_the_band():
    """On a young log the out-of-sample miss of the total is kept under the level errors
    (``level_ratio=1``, CLVModel.anchor_level(keep_oos_level_error=True)): a base whose total
    was missed by half out of sample gets bands about twice as high as one whose miss is
    removed first."""
    rng = np.random.default_rng(3)
    predicted = rng.gamma(1.0, 20.0, 20_000)
    # Out of sample the total was half the truth: every actual is twice its fair share.
    actual = 2.0 * np.where(
        rng.random(predicted.size) < 0.3, predicted * rng.gamma(2.0, 1.5, predicted.size), 0.0
    )
    errors = np.array([0.5, -0.5])
    removed = IntervalCalibrator(level=0.9, n_bins=10).fit(predicted, actual, errors)
    kept = IntervalCalibrator(level=0.9, n_bins=10).fit(predicted, actual, errors, level_ratio=1.0)
    ratio = np.sum(actual) / np.sum(predicted)  # the out-of-sample miss: about x 2
    assert kept.upper_ratio_ == pytest.approx(removed.upper_ratio_ * ratio, rel=1e-9)


def test_interval_bins_hold_enough_customers():
    rng = np.random.default_rng(2)
    predicted = rng.gamma(1.0, 20.0, 1_000)
    actual = predicted * rng.gamma(2.0, 0.5, predicted.size)
    cal = IntervalCalibrator(level=0.9, n_bins=10).fit(predicted, actual)
    assert cal.edges_.size + 1 == 1_000 // 200  # 5 bins of 200, not 10 of 100


def test_sure_buyers_get_a_positive_lower_end_and_the_band_still_covers():
    # Each customer buys with a known chance p; given a purchase, the spend scatters around
    # its mean. The forecast is that mean x p. A customer with p >= 0.95 buys nothing less
    # than 5% of the time: a 90% band's lower end is a positive amount (issue 20).
    rng = np.random.default_rng(3)
    n = 40_000
    p = np.where(rng.random(n) < 0.2, rng.uniform(0.95, 0.999, n), rng.beta(1.0, 3.0, n))
    spend_mean = rng.gamma(2.0, 30.0, n)
    bought = rng.random(n) < p
    actual = np.where(bought, spend_mean * rng.gamma(4.0, 0.25, n), 0.0)
    predicted = p * spend_mean
    half = n // 2
    cal = IntervalCalibrator(level=0.9, n_bins=10).fit(
        predicted[:half], actual[:half], p_buy=p[:half], bought=bought[:half]
    )
    lower, upper = cal.interval(predicted[half:], p[half:])
    held, sure = actual[half:], p[half:] >= 0.95
    inside = (lower <= held) & (held <= upper)
    assert np.all(lower[sure] > 0) and np.all(lower[~sure] == 0)
    assert 0.87 <= inside[sure].mean() <= 0.93
    assert 0.88 <= inside.mean() <= 0.93
    assert np.all((lower <= predicted[half:]) & (predicted[half:] <= upper))
    # Without the chances, the band is the one the bins give (lower end 0 for everyone).
    plain_lower, _ = cal.interval(predicted[half:])
    assert np.all(plain_lower == 0)


def test_a_bin_that_bought_too_little_to_have_an_upper_tail_takes_the_mixture_at_a_peak():
    # Calibrated in a season where 4% of customers bought: every bin's 90% upper ratio is 0
    # (upper end = the forecast). At a peak each is 10 times as likely to buy; the upper end
    # of "nothing with 1 - p, else the spend" then holds the buyers the forecast does not.
    rng = np.random.default_rng(11)
    n = 20_000
    spend = rng.gamma(2.0, 30.0, n)

    def season(chance):
        bought = rng.random(n) < chance
        return chance * spend, np.where(bought, spend * rng.gamma(1.5, 1 / 1.5, n), 0.0), bought

    quiet_p = np.full(n, 0.04)
    predicted, actual, bought = season(quiet_p)
    cal = IntervalCalibrator(level=0.9, n_bins=10).fit(predicted, actual, p_buy=quiet_p, bought=bought)
    assert np.all(cal.upper_ratio_ <= 1.0)
    peak_p = np.full(n, 0.4)
    peak_predicted, peak_actual, _ = season(peak_p)
    lower, upper = cal.interval(peak_predicted, peak_p)
    inside = (lower <= peak_actual) & (peak_actual <= upper)
    assert 0.87 <= float(inside.mean()) <= 0.93
    # the forecast as the upper end would have held only the non-buyers and the low spenders
    assert float((peak_actual <= peak_predicted).mean()) < 0.86
    # a chance below 1 - level puts no buyer in the upper tail: the upper end stays the forecast
    _, low_chance_upper = cal.interval(peak_predicted, np.full(n, 0.08))
    np.testing.assert_array_equal(low_chance_upper, peak_predicted)


def test_at_a_peak_the_bins_follow_the_level():
    # Calibrated in a quiet season. Read against the bins of the quiet season's forecasts, a
    # customer whose forecast rises with the level lands in another bin, among customers
    # whose ratios are another shape; with the bins moved to the new level, each keeps their
    # place in the distribution.
    rng = np.random.default_rng(4)
    n = 40_000
    p = rng.beta(1.0, 4.0, n)
    spend = rng.gamma(2.0, 30.0, n)

    def season(chance):
        bought = rng.random(n) < chance
        return chance * spend, np.where(bought, spend * rng.gamma(1.5, 1 / 1.5, n), 0.0), bought

    quiet_predicted, quiet_actual, quiet_bought = season(p)
    cal = IntervalCalibrator(level=0.9, n_bins=10).fit(
        quiet_predicted, quiet_actual, p_buy=p, bought=quiet_bought
    )
    assert cal.follow_level(quiet_predicted).scale_ == 1.0  # its own season: where they were
    quiet_lower, quiet_upper = cal.interval(quiet_predicted, p)
    # Every customer spends twice as much: the band is the quiet band doubled, not another's.
    _, unmoved_upper = cal.interval(2 * quiet_predicted, p)
    assert cal.follow_level(2 * quiet_predicted) is cal and cal.scale_ == 2.0
    lower, upper = cal.interval(2 * quiet_predicted, p)
    np.testing.assert_allclose(lower, 2 * quiet_lower, rtol=1e-12)
    np.testing.assert_allclose(upper, 2 * quiet_upper, rtol=1e-12)
    assert not np.allclose(unmoved_upper, 2 * quiet_upper)
    # A peak where every customer is 1.8 times as likely to buy (capped): the band holds.
    peak_p = np.minimum(1.8 * p, 0.9)
    peak_predicted, peak_actual, _ = season(peak_p)
    cal.follow_level(peak_predicted)
    assert cal.scale_ == pytest.approx(peak_predicted.mean() / quiet_predicted.mean(), rel=1e-6)
    lower, upper = cal.interval(peak_predicted, peak_p)
    assert 0.88 <= float(((lower <= peak_actual) & (peak_actual <= upper)).mean()) <= 0.93


def test_a_continued_catboost_model_is_its_start_plus_the_trees_fitted_on_its_predictions():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(1_500, 4))
    offset = 0.2 * rng.normal(size=x.shape[0])
    y = np.exp(0.6 * x[:, 0] + offset) * rng.gamma(1.0, 1.0, x.shape[0])
    params = _params().model
    loss = "Tweedie:variance_power=1.5"
    start = fit_catboost("regressor", loss, Pool(x, y, baseline=offset), params, 1, 40)
    first = start.predict(Pool(x, baseline=offset), prediction_type="RawFormulaVal")

    def continued():
        return fit_catboost("regressor", loss, Pool(x, y, baseline=offset), params, 1, 25, start=start)

    merged = continued()
    added = fit_catboost("regressor", loss, Pool(x, y, baseline=first), params, 1, 25)
    assert merged.tree_count_ == start.tree_count_ + added.tree_count_ == 65
    # predict gives revenue (the loss is kept): exp(offset + start's trees + the added trees)
    by_hand = np.exp(first + added.predict(Pool(x), prediction_type="RawFormulaVal"))
    assert np.allclose(merged.predict(Pool(x, baseline=offset)), by_hand, rtol=1e-9)
    assert pickle.dumps(merged) == pickle.dumps(continued())  # no guid, no time: the same bytes
    # a classifier continues on the log-odds scale
    bought = (y > 1).astype(int)
    clf = fit_catboost("classifier", "Logloss", Pool(x, bought), params, 1, 30)
    more = fit_catboost("classifier", "Logloss", Pool(x, bought), params, 1, 20, start=clf)
    p = more.predict_proba(Pool(x))[:, 1]
    assert more.tree_count_ == 50 and np.all((p > 0) & (p < 1))
    assert np.log(p / (1 - p)).std() > clf.predict(Pool(x), prediction_type="RawFormulaVal").std()


@pytest.mark.parametrize("objective", ["tweedie", "two_part"])
def test_warm_fit_continues_every_part_of_the_start_and_counts_only_the_added_trees(small_problem, objective):
    orders, as_of, cutoffs = small_problem
    params = _params(objective=objective)
    older = build_dataset(orders, cutoffs[1:], 6, 3, params.features, params.lifecycle, params.labels)
    newer = build_dataset(orders, cutoffs[:-1], 6, 3, params.features, params.lifecycle, params.labels)
    champion = fit_clv(older, params)
    warm = fit_clv(newer, params, start=champion)
    value = (lambda m: m[1]) if objective == "two_part" else (lambda m: m)
    assert warm.start_trees_ == {
        "revenue": value(champion.value_model_).tree_count_,
        "p_active": champion.buy_model_.tree_count_,
    }
    assert value(warm.value_model_).tree_count_ == warm.start_trees_["revenue"] + warm.trees_
    assert warm.buy_model_.tree_count_ == warm.start_trees_["p_active"] + warm.trees_buy_
    if objective == "two_part":
        assert warm.value_model_[0].tree_count_ == champion.value_model_[0].tree_count_ + warm.trees_
    rows, _ = customer_rows(orders, as_of, 6, 3, params.features, params.lifecycle)
    predicted = warm.predict(rows)
    assert np.all(np.isfinite(predicted)) and not np.allclose(predicted, champion.predict(rows))
    assert not hasattr(warm, "_start")  # the bundle does not carry the champion a second time
    assert fit_clv(newer, params).start_trees_ == {"revenue": 0, "p_active": 0}


def test_warm_start_says_when_the_champion_can_be_continued(small_problem):
    orders, _, cutoffs = small_problem
    warm = _params(update="warm")
    older = build_dataset(orders, cutoffs[1:], 6, 3, warm.features, warm.lifecycle, warm.labels)
    newer = build_dataset(orders, cutoffs[:-1], 6, 3, warm.features, warm.lifecycle, warm.labels)
    champion = fit_clv(older, warm)
    start, note = warm_start(champion, newer, warm)
    assert start is champion and note.startswith(
        f"warm: the champion's trees (newest training cutoff {cutoffs[1]})"
    )
    full = {
        "model.update: full": (champion, newer, _params()),
        "no champion was promoted": (None, newer, warm),
        "fallback, which has no trees": (BaselineForecaster([], warm.model, 91, "short"), newer, warm),
        "other features": (champion, newer, _params(update="warm", use_btyd_features=False)),
        "objective, baseline and variance power": (champion, newer, _params(update="warm", baseline="none")),
        f"no training cutoff newer than the champion's newest ({cutoffs[1]})": (champion, older, warm),
    }
    for reason, (model, data, params) in full.items():
        start, note = warm_start(model, data, params)
        assert start is None and note.startswith("full: ") and reason in note, note


def test_every_objective_params_allow_has_one_class_and_no_other():
    """A new objective is one class in clv_engine.objectives, named in params' model.objective."""
    import typing

    from clv_engine.objectives import OBJECTIVES
    from clv_engine.params import ModelParams

    allowed = typing.get_args(typing.get_type_hints(ModelParams)["objective"])
    assert sorted(OBJECTIVES) == sorted(allowed)
    assert all(OBJECTIVES[name].name == name for name in allowed)


def test_an_objective_says_whether_its_revenue_part_is_made_of_trees():
    """explain needs SHAP values only from trees: the fallback's constant has none, whatever
    the objective, and two_part's revenue part is trees only when both of its parts are."""
    from catboost import CatBoostRegressor

    from clv_engine.boosting import ConstantModel
    from clv_engine.objectives import objective

    trees = CatBoostRegressor(iterations=2, verbose=False).fit([[0.0], [1.0]], [0.0, 1.0])
    constant = ConstantModel("regressor", 0.0)
    assert objective("tweedie").boosted(trees) and not objective("tweedie").boosted(constant)
    assert objective("two_part").boosted((trees, trees, 1.0))
    assert not objective("two_part").boosted((constant, trees, 1.0))
    assert not objective("two_part").boosted(constant)  # the fallback under two_part


def test_a_bundle_that_shipped_a_stacked_forecast_is_refused_on_load(small_problem):
    """model.ensemble: stack was removed; a champion saved with its weights would be scored
    without them, so loading it says to retrain instead."""
    import pickle

    from clv_engine.errors import UserError

    orders, _, cutoffs = small_problem
    params = _params()
    data = build_dataset(orders, cutoffs, 6, 3, params.features, params.lifecycle, params.labels)
    model = fit_clv(data, params)
    assert pickle.loads(pickle.dumps(model)).trees_ == model.trees_  # a current bundle loads
    old = pickle.loads(pickle.dumps(model))
    old.__dict__["stack_"] = None  # an older bundle without a stack: loads as before
    assert "stack_" not in pickle.loads(pickle.dumps(old)).__dict__
    old.__dict__["stack_"] = (0.6, 0.5)
    with pytest.raises(UserError, match=r"model\.ensemble: stack, which was removed"):
        pickle.loads(pickle.dumps(old))


def test_a_small_pool_built_from_lists_holds_what_pandas_gives(monkeypatch):
    """make_pool builds pools to predict from of up to LIST_POOL_ROWS rows from Python lists
    (fast for one customer); the values CatBoost sees are those of the pandas way: integers,
    booleans, nulls, NaN and text, the offset, predictions equal to the last bit."""
    rng = np.random.default_rng(3)
    n = 60
    frame = pl.DataFrame(
        {
            "count": pl.Series(rng.integers(0, 9, n), dtype=pl.Int64),
            "flag": rng.random(n) < 0.5,
            "gap": [None if i % 7 == 0 else float(v) for i, v in enumerate(rng.gamma(2.0, 30.0, n))],
            "share": [float("nan") if i % 5 == 0 else float(v) for i, v in enumerate(rng.random(n))],
            "stage": [["New", "Loyal", "Lapsed"][i % 3] for i in range(n)],
        }
    )
    features, categorical = frame.columns, ["stage"]
    label = frame["count"].to_numpy() * 2.5 + rng.random(n)
    offset = rng.normal(0.0, 0.1, n)
    assert 0 < n <= boosting.LIST_POOL_ROWS
    small = make_pool(frame, features, categorical, offset=offset)
    monkeypatch.setattr(boosting, "LIST_POOL_ROWS", 0)
    bulk = make_pool(frame, features, categorical, offset=offset)
    assert small.get_feature_names() == bulk.get_feature_names()
    assert small.get_cat_feature_indices() == bulk.get_cat_feature_indices()
    assert np.array_equal(small.get_baseline(), bulk.get_baseline())
    train = make_pool(frame, features, categorical, label, offset)
    model = fit_catboost("regressor", "RMSE", train, parse_params({}).model, seed=1, iterations=30)
    assert np.array_equal(model.predict(small), model.predict(bulk))
    one = make_pool(frame.head(1), features, categorical, offset=offset[:1])
    assert model.predict(one)[0] == model.predict(bulk)[0]
