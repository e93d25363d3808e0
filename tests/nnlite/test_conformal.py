"""Conformal prediction intervals: known ranks, and coverage on exchangeable synthetic data within binomial
tolerance of the nominal level."""
import math

import numpy as np
import pytest

from nnlite.conformal import (conformal_quantile, coverage, cv_plus_interval, normalized_interval, same_region,
                              split_interval, upper_rank)


def test_rank_is_ceil_n_plus_one_times_level():
    assert upper_rank(19, 0.9) == 18          # (19 + 1) * 0.9 = 18 exactly, not 19 by float rounding
    assert upper_rank(100, 0.9) == 91
    scores = np.arange(1.0, 20.0)             # 1..19
    assert conformal_quantile(scores, 0.9) == 18.0
    assert conformal_quantile(scores[:5], 0.9) == math.inf   # ceil(6 * 0.9) = 6 > 5 rows
    lo, hi = split_interval([0.0, 10.0], scores, 0.9)
    np.testing.assert_array_equal(lo, [-18.0, -8.0])
    np.testing.assert_array_equal(hi, [18.0, 28.0])


def test_bad_level_and_scores_are_refused():
    for level in (0.0, 1.0, 90):
        with pytest.raises(ValueError, match="level"):
            conformal_quantile([1.0, 2.0], level)
    with pytest.raises(ValueError, match="NaN"):
        conformal_quantile([1.0, np.nan], 0.9)


def test_split_conformal_covers_at_the_nominal_level():
    """Fixed model, n = 200 exchangeable calibration rows, 1000 test rows, 400 repetitions: the expected
    coverage lies in [level, level + 1 / (n + 1)]; the mean over repetitions has sd ~0.0012 here."""
    rng = np.random.default_rng(0)
    n, m, reps, level = 200, 1000, 400, 0.9
    covered = []
    for _ in range(reps):
        x = rng.normal(size=n + m)
        y = 2.0 * x + rng.standard_t(df=4, size=n + m)   # heavy-tailed noise: no Gaussian shortcut
        mu = 1.8 * x                                       # a slightly wrong model, fixed
        lo, hi = split_interval(mu[n:], np.abs(y[:n] - mu[:n]), level)
        covered.append(coverage(y[n:], lo, hi))
    mean = float(np.mean(covered))
    assert level - 0.005 <= mean <= level + 1 / (n + 1) + 0.005


def _ols(X, y):
    A = np.c_[np.ones(len(X)), X]
    return np.linalg.lstsq(A, y, rcond=None)[0]


def test_cv_plus_covers_at_the_nominal_level_with_fold_models():
    """CV+ with 5 least-squares fold models on exchangeable data: coverage within a binomial tolerance of 90 %
    (the proven bound is only 1 - 2 alpha - sqrt(2/n); in practice it is close to 1 - alpha)."""
    rng = np.random.default_rng(1)
    n, m, reps, k, level = 100, 500, 200, 5, 0.9
    covered = []
    for _ in range(reps):
        X = rng.normal(size=(n + m, 3))
        y = X @ np.array([1.0, -0.5, 0.25]) + rng.normal(size=n + m)
        folds = rng.permutation(n) % k
        fold_pred = np.empty((k, m))
        resid = np.empty(n)
        for f in range(k):
            beta = _ols(X[:n][folds != f], y[:n][folds != f])
            resid[folds == f] = np.abs(y[:n][folds == f] - np.c_[np.ones((folds == f).sum()), X[:n][folds == f]] @ beta)
            fold_pred[f] = np.c_[np.ones(m), X[n:]] @ beta
        lo, hi = cv_plus_interval(fold_pred, folds, resid, level)
        covered.append(coverage(y[n:], lo, hi))
    # sd of the mean ~ sqrt(0.09 / 102 / 200) + test noise ~ 0.0025
    assert abs(float(np.mean(covered)) - level) < 0.015


def test_cv_plus_with_identical_fold_models_is_split_conformal():
    rng = np.random.default_rng(2)
    resid = np.abs(rng.normal(size=49))
    pred = rng.normal(size=7)
    folds = np.arange(49) % 3
    lo, hi = cv_plus_interval(np.tile(pred, (3, 1)), folds, resid, 0.8)
    slo, shi = split_interval(pred, resid, 0.8)
    np.testing.assert_allclose(hi, shi)
    # the lower end uses floor(alpha (n + 1)) = 10: the 40th largest residual, the upper end the 40th smallest
    np.testing.assert_allclose(lo, pred - np.sort(resid)[49 - 10])
    assert np.all(lo >= slo - 1e-12)


def test_normalized_interval_adapts_its_width():
    rng = np.random.default_rng(3)
    n, m = 2000, 2000
    s = rng.uniform(0.2, 3.0, size=n + m)
    y = rng.normal(size=n + m) * s
    lo, hi = normalized_interval(np.zeros(m), s[n:], np.abs(y[:n]), s[:n], 0.9)
    assert abs(coverage(y[n:], lo, hi) - 0.9) < 0.02
    # heteroscedastic noise with a known spread: narrower on average than the constant-width interval
    slo, shi = split_interval(np.zeros(m), np.abs(y[:n]), 0.9)
    assert np.median(hi - lo) < np.median(shi - slo)


def test_same_region_of_a_monotone_rule():
    codes = lambda v: np.digitize(v, [0.0, 1.0])    # noqa: E731 (three regions)
    got = same_region([-2.0, -0.5, 0.2, 0.5, -np.inf], [-1.0, 0.5, 0.8, 1.5, 0.0], codes)
    np.testing.assert_array_equal(got, [True, False, True, False, False])
