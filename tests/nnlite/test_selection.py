"""RFE driven by nnlite's LinearSVR against scikit-learn's RFE(LinearSVR), and its bookkeeping."""
import numpy as np
import pytest
from sklearn.feature_selection import RFE as SkRFE
from sklearn.svm import LinearSVR as SkLinearSVR

from nnlite.linear.enet import ElasticNet
from nnlite.linear.svr import LinearSVR
from nnlite.selection import RFE


def planted_problem(n=100, p=200, k=8, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    planted = np.sort(rng.choice(p, k, replace=False))
    coef = rng.uniform(2.0, 3.0, k) * rng.choice([-1.0, 1.0], k)
    y = X[:, planted] @ coef + 0.1 * rng.standard_normal(n)
    return X, y, planted


@pytest.mark.parametrize("step,step_base", [(0.1, "initial"), (25, "remaining")])
def test_same_features_as_sklearn_and_planted_ones_recovered(step, step_base):
    X, y, planted = planted_problem()
    sk = SkRFE(SkLinearSVR(epsilon=0.1, random_state=0, max_iter=10_000),
               n_features_to_select=8, step=step).fit(X, y)
    ours = RFE(LinearSVR(epsilon=0.1), n_features_to_select=8, step=step, step_base=step_base).fit(X, y)
    np.testing.assert_array_equal(ours.support_, sk.support_)
    np.testing.assert_array_equal(np.flatnonzero(ours.support_), planted)


def test_fraction_of_remaining_schedule_recovers_planted_features():
    X, y, planted = planted_problem(seed=2)
    rfe = RFE(LinearSVR(epsilon=0.1), n_features_to_select=8, step=0.1).fit(X, y)
    np.testing.assert_array_equal(np.flatnonzero(rfe.support_), planted)
    # 200 -> 180 -> 162 -> ... removes int(0.1 * remaining) (at least 1) per round, never below 8
    counts, m = [], 200
    while m > 8:
        m -= min(max(1, int(0.1 * m)), m - 8)
        counts.append(m)
    assert rfe.n_rounds_ == len(counts)
    assert rfe.ranking_.max() == len(counts) + 1
    removed = -np.diff([200] + counts)  # per round, first to last
    np.testing.assert_array_equal(np.bincount(rfe.ranking_)[1:], [8] + removed[::-1].tolist())


def test_ranking_matches_sklearn_bookkeeping_and_transform():
    X, y, planted = planted_problem(n=60, p=40, k=4, seed=3)
    sk = SkRFE(SkLinearSVR(epsilon=0.1, random_state=0, max_iter=10_000), n_features_to_select=4, step=3).fit(X, y)
    ours = RFE(LinearSVR(epsilon=0.1), n_features_to_select=4, step=3).fit(X, y)
    np.testing.assert_array_equal(np.bincount(ours.ranking_), np.bincount(sk.ranking_))
    np.testing.assert_array_equal(ours.support_, ours.ranking_ == 1)
    Xt = ours.fit_transform(X, y)
    np.testing.assert_array_equal(Xt, X[:, planted])
    assert ours.estimator_.coef_.shape == (4,)
    assert ours.predict(X).shape == (60,)


def test_warm_started_rounds_equal_cold_refits():
    """The warm-started dual session ends where refitting LinearSVR from scratch on the kept features does."""
    X, y, _ = planted_problem(n=50, p=60, k=5, seed=4)
    rfe = RFE(LinearSVR(epsilon=0.1, tol=1e-8, max_iter=100_000), n_features_to_select=5, step=0.2).fit(X, y)
    cold = LinearSVR(epsilon=0.1, tol=1e-8, max_iter=100_000).fit(X[:, rfe.support_], y)
    np.testing.assert_allclose(rfe.estimator_.coef_, cold.coef_, atol=1e-4)


def test_any_estimator_with_coef_works():
    X, y, planted = planted_problem(n=80, p=30, k=3, seed=5)
    rfe = RFE(ElasticNet(alpha=0.01, l1_ratio=0.5), n_features_to_select=3, step=2).fit(X, y)
    np.testing.assert_array_equal(np.flatnonzero(rfe.support_), planted)


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_features_to_select=31), "larger than the number of features"),
    (dict(n_features_to_select=0), "positive integer"),
    (dict(n_features_to_select=5, step=0), "step"),
    (dict(n_features_to_select=5, step=1.5), "step"),
    (dict(n_features_to_select=5, step=0.1, step_base="bogus"), "step_base"),
])
def test_bad_parameters_raise_value_error(kwargs, match):
    X, y, _ = planted_problem(n=20, p=30, k=2)
    with pytest.raises(ValueError, match=match):
        RFE(LinearSVR(), **kwargs).fit(X, y)


def test_bad_data_raises_value_error():
    X, y, _ = planted_problem(n=20, p=30, k=2)
    with pytest.raises(ValueError, match="constant"):
        RFE(LinearSVR(), n_features_to_select=5).fit(X, np.zeros(20))
    with pytest.raises(ValueError, match="NaN"):
        RFE(LinearSVR(), n_features_to_select=5).fit(np.where(X > 2, np.nan, X), y)
    rfe = RFE(LinearSVR(), n_features_to_select=5).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        rfe.transform(X[:, :10])
