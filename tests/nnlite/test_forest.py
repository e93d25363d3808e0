"""RandomForestRegressor: accuracy parity with scikit-learn on Friedman #1, importances, n_jobs invariance."""
import numpy as np
import pytest
from sklearn.datasets import make_friedman1
from sklearn.ensemble import RandomForestRegressor as SkForest
from sklearn.metrics import r2_score

from nnlite import RandomForestRegressor


@pytest.fixture(scope="module")
def friedman():
    """Friedman #1: 5 informative features + 995 noise columns, n_train = 500."""
    X, y = make_friedman1(n_samples=1500, n_features=1000, noise=1.0, random_state=0)
    return X[:500], y[:500], X[500:], y[500:]


@pytest.fixture(scope="module")
def fitted(friedman):
    X, y, _, _ = friedman
    return [RandomForestRegressor(n_estimators=100, seed=s, n_jobs=2).fit(X, y) for s in (0, 1)]


def test_r2_within_003_of_sklearn(friedman, fitted):
    X, y, X_test, y_test = friedman
    ours = np.mean([r2_score(y_test, f.predict(X_test)) for f in fitted])
    ref = np.mean([r2_score(y_test, SkForest(n_estimators=100, max_features=1 / 3, random_state=s, n_jobs=2)
                            .fit(X, y).predict(X_test)) for s in (0, 1)])
    assert ref > 0.4  # the problem is learnable at this size
    assert abs(ours - ref) < 0.03, (ours, ref)


def test_importances_rank_informative_features_first(fitted):
    for forest in fitted:
        imp = forest.feature_importances_
        assert imp.shape == (1000,)
        assert np.all(imp >= 0) and np.isclose(imp.sum(), 1.0)
        assert set(np.argsort(-imp)[:5]) == {0, 1, 2, 3, 4}


@pytest.mark.parametrize("max_bins", [None, 256, 16])
def test_same_forest_whatever_n_jobs(max_bins):
    X, y = make_friedman1(n_samples=120, n_features=40, random_state=3)
    forests = [RandomForestRegressor(n_estimators=12, seed=7, n_jobs=j, max_bins=max_bins).fit(X, y)
               for j in (1, 2, -1)]
    for other in forests[1:]:
        for name in ("feature_", "threshold_", "left_", "right_", "value_", "node_counts_", "feature_importances_"):
            np.testing.assert_array_equal(getattr(forests[0], name), getattr(other, name))
        np.testing.assert_array_equal(forests[0].predict(X), other.predict(X))
    different = RandomForestRegressor(n_estimators=12, seed=8, max_bins=max_bins).fit(X, y)
    assert not np.array_equal(different.predict(X), forests[0].predict(X))


def test_prediction_is_mean_of_tree_paths():
    """Replay predict with a plain-Python walk over the flat arrays of every tree."""
    X, y = make_friedman1(n_samples=80, n_features=12, random_state=4)
    f = RandomForestRegressor(n_estimators=5, max_features="sqrt", min_samples_leaf=3, max_depth=5).fit(X, y)
    expected = np.zeros(len(X))
    for t in range(5):
        for i, x in enumerate(np.float32(X)):
            node = 0
            while f.feature_[t, node] >= 0:
                node = f.left_[t, node] if x[f.feature_[t, node]] <= f.threshold_[t, node] else f.right_[t, node]
            assert f.n_node_samples_[t, node] >= 3
            expected[i] += f.value_[t, node] / 5
    np.testing.assert_allclose(f.predict(X), expected, rtol=1e-12)


def test_no_bootstrap_all_features_gives_identical_trees():
    X, y = make_friedman1(n_samples=60, n_features=6, random_state=5)
    f = RandomForestRegressor(n_estimators=3, max_features=None, bootstrap=False).fit(X, y)
    np.testing.assert_allclose(f.predict(X), y, rtol=0, atol=1e-12)  # each tree interpolates


def test_max_features_options():
    X, y = make_friedman1(n_samples=50, n_features=16, random_state=6)
    for mf, k in ((1 / 3, 5), ("sqrt", 4), ("log2", 4), (3, 3), (0.5, 8), (None, 16), (1.0, 16)):
        assert RandomForestRegressor(n_estimators=2, max_features=mf).fit(X, y).max_features_ == k


@pytest.mark.parametrize("kwargs", [dict(n_estimators=0), dict(max_features=0), dict(max_features=17),
                                    dict(max_features=1.5), dict(max_features="third"), dict(min_samples_leaf=0),
                                    dict(max_depth=-1), dict(n_jobs=0)])
def test_bad_parameters_raise(kwargs):
    X, y = make_friedman1(n_samples=20, n_features=16, random_state=0)
    with pytest.raises(ValueError):
        RandomForestRegressor(**kwargs).fit(X, y)


def test_bad_input_raises():
    X, y = make_friedman1(n_samples=20, n_features=6, random_state=0)
    f = RandomForestRegressor(n_estimators=2)
    with pytest.raises(ValueError, match="not fitted"):
        f.predict(X)
    Xn = X.copy()
    Xn[3, 2] = np.nan
    for bad_X, bad_y, msg in ((Xn, y, "NaN"), (X, y[:-1], "rows"), (X[0], y, "2-D"), (X[:0], y[:0], "empty"),
                              (X, np.where(np.arange(20) == 1, np.inf, y), "y contains")):
        with pytest.raises(ValueError, match=msg):
            f.fit(bad_X, bad_y)
    f.fit(X, y)
    with pytest.raises(ValueError, match="features"):
        f.predict(X[:, :5])
    with pytest.raises(ValueError, match="NaN"):
        f.predict(Xn)
