"""Metric definitions against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from clv_engine import metrics as m


def test_gini_hand_computed():
    # y ordered by p: [3, 1, 0, 0]; cumulative shares 0.75, 1, 1, 1 -> sum 3.75
    # gini = 3.75/4 - 5/8 = 0.3125; ordered by y itself gives the same here.
    y = np.array([0.0, 1.0, 3.0, 0.0])
    p = np.array([0.1, 0.5, 0.9, 0.0])
    assert m.gini(y, p) == pytest.approx(0.3125)
    assert m.normalized_gini(y, p) == pytest.approx(1.0)
    # reversed ranking: cumulative 0, 0, 0.25, 1 -> 1.25/4 - 0.625 = -0.3125
    assert m.normalized_gini(y, -p) == pytest.approx(-1.0)


def test_gini_ties_count_as_expected_random_order():
    # all predictions tied: expected Lorenz is the diagonal -> gini 0 whatever the row order
    y = np.array([5.0, 0.0, 0.0, 0.0])
    assert m.gini(y, np.zeros(4)) == pytest.approx(0.0)
    assert m.gini(y[::-1], np.zeros(4)) == pytest.approx(0.0)
    # two blocks: {y=4, y=0} tied high, {y=0, y=0} tied low -> block means 2, 2, 0, 0
    # cumulative 0.5, 1, 1, 1 -> 3.5/4 - 0.625 = 0.25
    assert m.gini([4, 0, 0, 0], [1, 1, 0, 0]) == pytest.approx(0.25)
    assert m.gini([0, 4, 0, 0], [1, 1, 0, 0]) == pytest.approx(0.25)


def test_top_decile_lift():
    y = np.r_[np.full(10, 10.0), np.zeros(90)]
    p = np.r_[np.ones(10), np.zeros(90)]
    assert m.top_decile_lift(y, p) == pytest.approx(10.0)
    assert m.top_decile_lift(y, np.zeros(100)) == pytest.approx(1.0)  # ties: random order


def test_decile_calibration_error():
    y = np.arange(1, 21, dtype=float)  # 20 customers, 2 per decile
    assert m.decile_calibration_error(y, y) == pytest.approx(0.0)
    assert m.decile_calibration_error(y, 1.1 * y) == pytest.approx(0.1)
    # deciles with zero actual are left out
    y0 = np.r_[np.zeros(10), np.full(10, 2.0)]
    p0 = np.r_[np.zeros(10), np.full(10, 3.0)]
    assert m.decile_calibration_error(y0, p0) == pytest.approx(0.5)


def test_bias_mae_rmse_r2_coverage():
    y = np.array([0.0, 10.0, 20.0])
    p = np.array([5.0, 10.0, 15.0])
    out = m.regression_metrics(y, p)
    assert out["bias"] == pytest.approx(0.0)
    assert out["mae"] == pytest.approx(10 / 3)
    assert out["rmse"] == pytest.approx(np.sqrt(50 / 3))
    assert out["r2"] == pytest.approx(1 - 50 / 200)
    assert m.interval_coverage(y, [0, 11, 0], [1, 12, 20]) == pytest.approx(2 / 3)


def test_spearman_constant_is_zero():
    assert m.spearman([1, 2, 3], [0, 0, 0]) == 0.0
    assert m.spearman([1, 2, 3], [1, 5, 9]) == pytest.approx(1.0)


def test_spearman_random_ties_hand_computed():
    # midranks of p: [2, 2, 2, 4]; ranks of y: [1.5, 1.5, 3, 4]; centred sums of products 3.0,
    # of squares 5 (a full permutation of 1..4) and 4.5: 3 / sqrt(5 * 4.5).
    y, p = [0, 0, 1, 2], [0, 0, 0, 1]
    assert m.spearman_random_ties(y, p) == pytest.approx(3 / np.sqrt(22.5))
    # The plain Spearman is higher: the tie block shrinks the spread of p's ranks.
    assert m.spearman(y, p) > m.spearman_random_ties(y, p)


def test_spearman_random_ties_is_the_mean_over_tie_orders():
    import itertools

    from scipy import stats

    y = np.array([0.0, 0.0, 3.0, 1.0, 0.0, 5.0, 2.0])
    p = np.array([1.0, 1.0, 1.0, 2.0, 2.0, 3.0, 0.5])
    block_a, block_b = [0, 1, 2], [3, 4]
    values = []
    for perm_a in itertools.permutations(range(3)):
        for perm_b in itertools.permutations(range(2)):
            q = p.copy()
            q[block_a] += np.array(perm_a) * 1e-6
            q[block_b] += np.array(perm_b) * 1e-6
            values.append(stats.spearmanr(y, q).statistic)
    assert m.spearman_random_ties(y, p) == pytest.approx(np.mean(values), abs=1e-12)


def test_spearman_random_ties_equals_spearman_without_ties():
    rng = np.random.default_rng(0)
    y, p = rng.gamma(1.0, size=50), rng.normal(size=50)
    assert m.spearman_random_ties(y, p) == pytest.approx(m.spearman(y, p))
    assert m.spearman_random_ties(y, np.zeros(50)) == 0.0


def test_amounts_equal_to_ten_digits_are_ties():
    # 11.77 + 12.00 and 10.00 + 13.77 are both 23.77, but not to the bit (0.1 + 0.2 != 0.3)
    a, b = 11.77 + 12.0, 10.0 + 13.77
    assert 0.1 + 0.2 != 0.3 and m.same_amounts(np.array([0.1 + 0.2]))[0] == 0.3
    y = np.array([a, b, 5.0, 0.0])
    p = np.array([3.0, 2.0, 1.0, 0.5])
    noisy = y * np.array([1 + 1e-15, 1 - 1e-15, 1, 1])  # which of the two is larger flips
    for metric in (m.spearman, m.normalized_gini, m.top_decile_lift):
        assert metric(y, p) == metric(noisy, p)
    # a tie in p is one, too: its actuals are averaged, whatever the noise
    assert m.gini(y, np.array([1.0, 1.0 + 1e-14, 0.0, 0.0])) == m.gini(y, np.array([1.0, 1.0, 0, 0]))
    # and a real difference (the 10th digit) is not
    assert m.same_amounts(np.array([23.77, 23.77 + 1e-8]))[1] > 23.77
