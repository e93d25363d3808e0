"""DecisionTreeRegressor: interpolation, parity with scikit-learn's CART, kernels against NumPy twins."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_friedman1
from sklearn.tree import DecisionTreeRegressor as SkTree

from nnlite import DecisionTreeRegressor
from nnlite import _tree_kernels as kernels
from nnlite.tree import grow_trees


@pytest.fixture(scope="module")
def data():
    X, y = make_friedman1(n_samples=300, n_features=15, noise=0.5, random_state=2)
    return X[:200], y[:200], X[200:], y[200:]


def test_unrestricted_tree_interpolates(data):
    X, y, _, _ = data
    tree = DecisionTreeRegressor().fit(X, y)
    np.testing.assert_array_equal(tree.predict(X), y)
    assert tree.node_count_ == 2 * len(y) - 1  # distinct rows and responses: one leaf per sample


@pytest.mark.parametrize("max_depth,min_samples_leaf", [(1, 1), (4, 1), (5, 7), (None, 20)])
def test_matches_sklearn_cart(data, max_depth, min_samples_leaf):
    """All features per node, continuous data: the exact CART partition of the training rows is unique, so
    the trees agree on every training row (two features inducing the same partition may differ off it)."""
    X, y, X_test, _ = data
    ours = DecisionTreeRegressor(max_depth=max_depth, min_samples_leaf=min_samples_leaf).fit(X, y)
    ref = SkTree(max_depth=max_depth, min_samples_leaf=min_samples_leaf, random_state=0).fit(X, y)
    assert ours.node_count_ == ref.tree_.node_count
    assert ours.get_depth() == ref.get_depth()
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-12)
    np.testing.assert_allclose(ours.feature_importances_, ref.feature_importances_, atol=0.02)
    if max_depth == 1:
        np.testing.assert_allclose(ours.predict(X_test), ref.predict(X_test), rtol=1e-12)


def test_both_split_search_modes_agree(data):
    """Partitioned presorted lists (switch 0) and per-node sorting (switch > n) grow the same CART tree."""
    X, y, X_test, _ = data
    seeds = np.array([5], dtype=np.uint64)
    a = grow_trees(X, y, seeds, True, 15, 2, 6, 1, switch=0)
    b = grow_trees(X, y, seeds, True, 15, 2, 6, 1, switch=10**6)
    for name in ("feature", "left", "right", "n_samples"):
        np.testing.assert_array_equal(a[name], b[name])
    np.testing.assert_allclose(a["value"], b["value"], rtol=1e-12)
    np.testing.assert_allclose(a["threshold"], b["threshold"], rtol=1e-12)


def test_best_root_split_against_brute_force():
    """Root split = argmax over features and midpoints of the squared-error reduction (NumPy twin)."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 5)).astype(np.float32)
    y = X[:, 2] ** 2 + 0.1 * rng.normal(size=40)
    best = (-np.inf, None, None)
    for f in range(5):
        for t in np.unique(X[:, f])[:-1]:
            mask = X[:, f] <= t
            sse = ((y[mask] - y[mask].mean()) ** 2).sum() + ((y[~mask] - y[~mask].mean()) ** 2).sum()
            if -sse > best[0]:
                best = (-sse, f, t)
    tree = DecisionTreeRegressor(max_depth=1).fit(X, y)
    assert tree.feature_[0] == best[1]
    above = X[:, best[1]][X[:, best[1]] > best[2]].min()
    assert tree.threshold_[0] == pytest.approx((float(best[2]) + float(above)) / 2)


def test_sort_kernels_against_numpy():
    """Quicksort (any keys) and counting sort (distinct keys, as the tree's rank << 32 | sample keys are)."""
    rng = np.random.default_rng(0)
    stack = np.empty(128, dtype=np.int64)
    for m in (0, 1, 2, 15, 16, 17, 80, 100, 1000):
        a = rng.integers(0, max(m // 3, 1), size=m).astype(np.int64) << 32 | rng.integers(0, 50, size=m)
        expected = np.sort(a)
        kernels._sort_keys(a, m, stack)
        np.testing.assert_array_equal(a, expected)
        distinct = rng.permutation(np.unique(a))
        out = np.empty_like(distinct)
        kernels._count_sort_keys(distinct, len(distinct), out)
        np.testing.assert_array_equal(out, np.sort(distinct))


def test_ties_and_constant_features():
    X = np.array([[0, 1], [0, 1], [1, 1], [1, 1], [2, 1]], dtype=float)
    y = np.array([1.0, 3.0, 5.0, 5.0, 9.0])
    tree = DecisionTreeRegressor().fit(X, y)
    assert np.all(tree.feature_[tree.feature_ >= 0] == 0)  # column 1 is constant
    np.testing.assert_allclose(tree.predict(X), [2, 2, 5, 5, 9])  # duplicated rows average
    const = DecisionTreeRegressor().fit(X, np.full(5, 4.0))
    assert const.node_count_ == 1 and np.all(const.predict(X) == 4.0)
    assert np.all(const.feature_importances_ == 0)


def test_bad_input_raises():
    X = np.ones((4, 2))
    with pytest.raises(ValueError, match="not fitted"):
        DecisionTreeRegressor().predict(X)
    with pytest.raises(ValueError, match="inf"):
        DecisionTreeRegressor().fit(np.where(np.eye(4, 2) > 0, np.inf, 0.0), np.ones(4))
    with pytest.raises(ValueError, match="float32"):
        DecisionTreeRegressor().fit(np.full((4, 2), 1e39), np.ones(4))
    with pytest.raises(ValueError, match="max_features"):
        DecisionTreeRegressor(max_features=3).fit(X, np.ones(4))
    with pytest.raises(ValueError, match="min_samples_leaf"):
        DecisionTreeRegressor(min_samples_leaf=0.5).fit(X, np.ones(4))


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 40), p=st.integers(1, 6), levels=st.integers(1, 4), mf=st.sampled_from([None, "sqrt", 1]),
       seed=st.integers(0, 2**32 - 1))
def test_fully_grown_tree_predicts_group_means(n, p, levels, mf, seed):
    """With heavy ties: a fully grown tree stops only at pure nodes or identical rows, so each training row gets
    the mean response of the rows equal to it."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, levels, size=(n, p)).astype(float)
    y = rng.integers(0, 3, size=n).astype(float)
    tree = DecisionTreeRegressor(max_features=mf, seed=seed).fit(X, y)
    _, group = np.unique(X, axis=0, return_inverse=True)
    group = group.ravel()
    means = np.bincount(group, weights=y) / np.bincount(group)
    np.testing.assert_allclose(tree.predict(X), means[group], rtol=1e-12, atol=1e-12)
    assert tree.node_count_ <= 2 * n - 1
