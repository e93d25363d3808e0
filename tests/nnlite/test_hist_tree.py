"""Histogram (binned) split search: quantile binning, identity with the exact search where bins are exact,
parity with scikit-learn's CART there, and the approximation where they are not."""
import numpy as np
import pytest
from sklearn.datasets import make_friedman1
from sklearn.tree import DecisionTreeRegressor as SkTree

from nnlite import DecisionTreeRegressor, RandomForestRegressor
from nnlite.tree import bin_features, grow_trees


def test_bin_codes_are_dense_ranks_when_few_distinct_values():
    rng = np.random.default_rng(0)
    XT = rng.integers(0, 40, size=(3, 500)).astype(np.float32)
    codes, n_bins = bin_features(XT, 256)
    for f in range(3):
        values, rank = np.unique(XT[f], return_inverse=True)
        np.testing.assert_array_equal(codes[f], rank)
        assert n_bins[f] == len(values)


@pytest.mark.parametrize("max_bins", [2, 7, 64, 256])
def test_quantile_bins_are_monotone_and_balanced(max_bins):
    rng = np.random.default_rng(1)
    n = 1000
    XT = np.vstack([rng.normal(size=n), np.where(rng.random(n) < 0.4, 0.0, rng.exponential(size=n))])
    XT = XT.astype(np.float32)
    codes, n_bins = bin_features(XT, max_bins)
    for f in range(2):
        order = np.argsort(XT[f], kind="stable")
        assert np.all(np.diff(codes[f][order].astype(int)) >= 0)  # x_i <= x_j  =>  code_i <= code_j
        for v in np.unique(XT[f]):
            assert len(np.unique(codes[f][XT[f] == v])) == 1  # equal values share a bin
        counts = np.bincount(codes[f])
        assert n_bins[f] == len(counts) <= max_bins and np.all(counts > 0)
    # the continuous feature: every bin within one sample of n / max_bins
    counts = np.bincount(codes[0])
    assert len(counts) == max_bins and counts.max() - counts.min() <= 1
    # the zero-inflated one: the ~40 % zeros (>= n / max_bins samples) keep one bin of their own
    if max_bins >= 3:
        assert np.bincount(codes[1])[0] == np.sum(XT[1] == 0)


@pytest.mark.parametrize("bootstrap,mtry,leaf,depth", [(True, 5, 2, -1), (False, 15, 1, -1), (True, 1, 5, 4)])
def test_binned_search_grows_the_exact_tree_when_bins_are_exact(bootstrap, mtry, leaf, depth):
    """200 rows: every feature has <= 256 distinct values, so both searches see the same candidate splits, draw
    the same features from the same stream and must grow identical trees."""
    X, y = make_friedman1(n_samples=200, n_features=15, noise=0.5, random_state=2)
    seeds = np.array([5, 6, 7, 8], dtype=np.uint64)
    exact = grow_trees(X, y, seeds, bootstrap, mtry, leaf, depth, 1)
    binned = grow_trees(X, y, seeds, bootstrap, mtry, leaf, depth, 1, max_bins=256)
    for name in ("feature", "left", "right", "n_samples", "n_nodes", "threshold"):
        np.testing.assert_array_equal(exact[name], binned[name], err_msg=name)
    np.testing.assert_allclose(exact["value"], binned["value"], rtol=1e-12)
    np.testing.assert_allclose(exact["importance"], binned["importance"], rtol=1e-9)


@pytest.mark.parametrize("max_depth,min_samples_leaf", [(3, 1), (None, 5)])
def test_binned_tree_matches_sklearn_on_discrete_features(max_depth, min_samples_leaf):
    """600 rows but 30 levels per feature (heavy ties): the binning is exact and the tree is scikit-learn's."""
    rng = np.random.default_rng(3)
    X = rng.integers(0, 30, size=(600, 6)).astype(np.float64)
    y = np.sin(X[:, 0] / 5) + 0.1 * X[:, 1] + 0.3 * rng.normal(size=600)
    ours = DecisionTreeRegressor(max_depth=max_depth, min_samples_leaf=min_samples_leaf, max_bins=256).fit(X, y)
    ref = SkTree(max_depth=max_depth, min_samples_leaf=min_samples_leaf, random_state=0).fit(X, y)
    assert ours.node_count_ == ref.tree_.node_count
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-12)
    X_test = rng.integers(0, 30, size=(200, 6)).astype(np.float64)
    np.testing.assert_allclose(ours.predict(X_test), ref.predict(X_test), rtol=1e-12)


def test_coarse_bins_split_only_at_bin_boundaries():
    """One continuous feature, 4 bins: the root split of a stump can only leave 1/4, 2/4 or 3/4 of the rows on
    the left, and the threshold is the midpoint of the two training values around that boundary."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=400)
    y = (x > 0.3).astype(float) + 0.01 * rng.normal(size=400)
    stump = DecisionTreeRegressor(max_depth=1, max_bins=4).fit(x[:, None], y)
    n_left = stump.n_node_samples_[stump.left_[0]]
    assert n_left in (100, 200, 300)
    xs = np.sort(x.astype(np.float32)).astype(np.float64)
    assert stump.threshold_[0] == pytest.approx((xs[n_left - 1] + xs[n_left]) / 2)
    exact = DecisionTreeRegressor(max_depth=1).fit(x[:, None], y)
    assert abs(exact.threshold_[0] - 0.3) < abs(stump.threshold_[0] - 0.3)


def test_binned_forest_approximates_the_exact_one_beyond_max_bins():
    """400 continuous rows (> 256 distinct values): the forests differ but predict alike."""
    X, y = make_friedman1(n_samples=600, n_features=30, noise=1.0, random_state=5)
    exact = RandomForestRegressor(n_estimators=50, min_samples_leaf=5, max_bins=None).fit(X[:400], y[:400])
    binned = RandomForestRegressor(n_estimators=50, min_samples_leaf=5).fit(X[:400], y[:400])
    assert not np.array_equal(exact.threshold_, binned.threshold_)
    mse = [np.mean((m.predict(X[400:]) - y[400:]) ** 2) for m in (exact, binned)]
    assert abs(mse[1] - mse[0]) < 0.1 * mse[0], mse


@pytest.mark.parametrize("bad", [1, 257, True, 2.5, "256"])
def test_bad_max_bins_raises(bad):
    with pytest.raises(ValueError, match="max_bins"):
        RandomForestRegressor(n_estimators=2, max_bins=bad).fit(np.ones((4, 2)), np.arange(4.0))


@pytest.mark.parametrize("n,p,bootstrap,mtry,leaf,depth", [
    (200, 15, True, 5, 2, -1),
    (600, 12, False, 4, 1, -1),   # > 64 open nodes per level: several passes over the code rows per depth
    (300, 40, True, 13, 5, 6),
    (400, 9, True, 1, 3, -1),     # one feature per node: often constant, more are drawn (second phase)
])
def test_level_wise_trees_are_the_node_wise_ones(n, p, bootstrap, mtry, leaf, depth):
    """Growing level by level (all open nodes of a depth share one pass over the code rows) must give the
    node-wise trees exactly: same per-node random streams, same splits, same depth-first node ids. 600 rows
    exceed 256 distinct values, so the binning is approximate there; rounded features make many constant ones."""
    X, y = make_friedman1(n_samples=n, n_features=p, noise=0.5, random_state=3)
    X[:, ::3] = np.round(X[:, ::3] * 3)  # few distinct values: ties, constant nodes
    seeds = np.array([11, 12, 13], dtype=np.uint64)
    nodes = grow_trees(X, y, seeds, bootstrap, mtry, leaf, depth, 1, max_bins=256, level_wise=False)
    levels = grow_trees(X, y, seeds, bootstrap, mtry, leaf, depth, 1, max_bins=256, level_wise=True)
    for name in ("feature", "left", "right", "n_samples", "n_nodes", "threshold", "value"):
        np.testing.assert_array_equal(nodes[name], levels[name], err_msg=name)
    np.testing.assert_allclose(nodes["importance"], levels["importance"], rtol=1e-9, atol=1e-12)
    assert nodes["n_nodes"].max() > 15


@pytest.mark.parametrize("case", ["twins", "tiny spread", "wide"])
def test_screened_level_search_keeps_the_exact_rule(case):
    """The level-wise pass screens each (node, feature) against the node's best score so far and rescans only
    the features that may reach it; the node-wise search applies the sequential rule to every feature. They must
    grow the same trees where the screen is hardest: exact ties between features (every column has an identical
    twin, so each best split is tied and goes to the twin drawn first), a response with a large offset and a
    tiny spread (scores nearly equal in relative terms), and many features per node (most screened out), with
    nodes above and below the dense-scan size (``_level_kernels._LEVEL_DENSE_SCAN``)."""
    n, p = (240, 20) if case != "wide" else (300, 400)
    X, y = make_friedman1(n_samples=n, n_features=p, noise=0.5, random_state=7)
    if case == "twins":
        X = np.hstack([X, X])
    if case == "tiny spread":
        y = 1e3 + 1e-7 * y
    mtry = max(1, X.shape[1] // 3)
    seeds = np.array([21, 22], dtype=np.uint64)
    nodes = grow_trees(X, y, seeds, True, mtry, 3, -1, 1, max_bins=256, level_wise=False)
    levels = grow_trees(X, y, seeds, True, mtry, 3, -1, 1, max_bins=256, level_wise=True)
    for name in ("feature", "left", "right", "n_samples", "n_nodes", "threshold", "value"):
        np.testing.assert_array_equal(nodes[name], levels[name], err_msg=name)
    assert nodes["n_samples"][:, 0].min() > 120  # the root takes the dense scan, its descendants the walk
    assert nodes["n_nodes"].min() > 30
