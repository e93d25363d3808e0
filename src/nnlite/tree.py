"""CART regression tree (Breiman et al. 1984) grown by variance reduction; kernels in ``_tree_kernels`` (exact
search) and ``_hist_kernels`` (histogram search on pre-binned features, ``max_bins``).

Split search is exact (every midpoint between distinct values of the examined features) on presorted
feature lists: large nodes keep one sorted sample list per feature and partition them after each split,
small nodes sort their samples per examined feature (see ``_tree_kernels`` for the cost model).
The tree is stored as flat arrays indexed by node id (root = 0): ``feature_`` (-1 at a leaf),
``threshold_`` (x[feature] <= threshold goes to ``left_``, else ``right_``), ``value_`` (mean of y in the
node), ``n_node_samples_``.
"""
import math
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np

from nnlite import _numba_cache  # noqa: F401  (before the kernels compile: where they are cached)
from nnlite import _hist_kernels as _hk
from nnlite import _level_kernels as _lk
from nnlite import _tree_kernels as _k
from nnlite._checks import as_float
from nnlite.base import BaseEstimator, RegressorMixin


def resolve_max_features(max_features, p):
    """Number of features examined per node: None -> p, 'sqrt' -> floor(sqrt p), 'log2' -> floor(log2 p),
    int k -> k (1 <= k <= p), float f in (0, 1] -> floor(f p); always at least 1."""
    if max_features is None:
        return p
    if isinstance(max_features, str):
        if max_features == "sqrt":
            return max(1, int(math.sqrt(p)))
        if max_features == "log2":
            return max(1, int(math.log2(p)))
        raise ValueError(f"max_features must be None, 'sqrt', 'log2', an int or a float in (0, 1], "
                         f"got {max_features!r}")
    if isinstance(max_features, bool):
        raise ValueError(f"max_features must not be a bool, got {max_features!r}")
    if isinstance(max_features, Integral):
        if not 1 <= max_features <= p:
            raise ValueError(f"max_features={max_features} must be between 1 and n_features={p}")
        return int(max_features)
    if isinstance(max_features, Real):
        if not 0.0 < max_features <= 1.0:
            raise ValueError(f"a float max_features must be in (0, 1], got {max_features}")
        return max(1, int(max_features * p))
    raise ValueError(f"max_features has an unsupported type: {max_features!r}")


def check_tree_params(min_samples_leaf, max_depth):
    """Validate the growth limits shared by trees and forests; return max_depth as an int (-1 = unlimited)."""
    if isinstance(min_samples_leaf, bool) or not isinstance(min_samples_leaf, Integral) or min_samples_leaf < 1:
        raise ValueError(f"min_samples_leaf must be an int >= 1, got {min_samples_leaf!r}")
    if max_depth is None:
        return -1
    if isinstance(max_depth, bool) or not isinstance(max_depth, Integral) or max_depth < 0:
        raise ValueError(f"max_depth must be None or an int >= 0, got {max_depth!r}")
    return int(max_depth)


def n_threads(n_jobs):
    """Threads to use for n_jobs (None -> 1, -1 -> all Numba threads, k -> min(k, Numba threads)).
    One thread runs the serial kernels, which never start Numba's threading layer."""
    import numba

    available = numba.config.NUMBA_NUM_THREADS
    if n_jobs is None:
        return 1
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, Integral) or n_jobs == 0:
        raise ValueError(f"n_jobs must be a nonzero int or None, got {n_jobs!r}")
    if n_jobs < 0:
        return max(1, available + 1 + int(n_jobs))
    return min(int(n_jobs), available)


@contextmanager
def numba_threads(k):
    """Run the enclosed Numba parallel kernels on k threads, restoring the previous setting afterwards."""
    import numba

    previous = numba.get_num_threads()
    numba.set_num_threads(k)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


def switch_size(p, mtry):
    """Node size at or below which split search sorts per examined feature instead of partitioning all p
    presorted lists. Partitioning costs ~ p * n_node per node; sorting ~ mtry * n_node * g(n_node), with g
    growing with the node (counting sort up to 80 samples, then quicksort), so the switch grows with p / mtry.
    Fitted to CPU times at n = 220 and 350, p = 1000 (Friedman #1): p / mtry = 3 -> 64 (best of 32-96),
    10 -> ~130 (best of 128 / all), 32 -> ~260 (sorting everywhere was fastest)."""
    return max(2, int(64.0 * (p / (3.0 * mtry)) ** 0.6))


def check_max_bins(max_bins):
    """None (exact split search) or an int in [2, 256] (binned split search); returned unchanged."""
    if max_bins is None:
        return None
    if isinstance(max_bins, bool) or not isinstance(max_bins, Integral) or not 2 <= max_bins <= _hk.MAX_BINS:
        raise ValueError(f"max_bins must be None (exact split search) or an int in [2, {_hk.MAX_BINS}], "
                         f"got {max_bins!r}")
    return int(max_bins)


def bin_features(XT, max_bins):
    """Quantile bin codes (p, n) uint8 of XT (p, n) float32 and the number of bins per feature (p,)
    (``_hist_kernels.bin_codes``)."""
    order = np.argsort(XT, axis=1)
    codes = np.empty(XT.shape, dtype=np.uint8)
    n_bins = _hk.bin_codes(XT, order, int(max_bins), codes)
    return codes, n_bins


def grow_trees(X, y, seeds, bootstrap, mtry, min_samples_leaf, max_depth, n_jobs, switch=None, max_bins=None,
               level_wise=True):
    """Grow one tree per seed on X (n, p), y (n,). Returns a dict of (T, K) flat node arrays (K = most nodes
    of any tree), ``n_nodes`` (T,) and raw per-tree impurity decreases ``importance`` (T, p).
    max_bins=None: exact presorted split search (``_tree_kernels``); an int: histogram search on at most
    max_bins quantile bins per feature (``_hist_kernels``; the same trees where every feature has at most
    max_bins distinct values). Binned trees grow level by level (``_level_kernels``, the default) or node by node
    (``level_wise=False``, ``_hist_kernels``): the same trees, the level-wise search reads each code row once per
    depth instead of once per node."""
    X32 = as_float32(X)
    XT = np.ascontiguousarray(X32.T)
    n, p = X32.shape
    if max_bins is None:
        presorted = np.argsort(XT, axis=1, kind="stable").astype(np.int32)
        sorted_vals = np.take_along_axis(XT, presorted, axis=1)
        dense = np.zeros((p, n), dtype=np.int32)
        dense[:, 1:] = np.cumsum(sorted_vals[:, 1:] != sorted_vals[:, :-1], axis=1)
        ranks = np.empty((p, n), dtype=np.int32)
        np.put_along_axis(ranks, presorted, dense, axis=1)
    else:
        codes, _ = bin_features(XT, max_bins)

    T = len(seeds)
    K = max(1, 2 * n - 1)
    # rows are padded past each tree's node count: leaves of value 0 reached by no path
    feature = np.full((T, K), -1, dtype=np.int32)
    threshold = np.zeros((T, K), dtype=np.float64)
    left = np.full((T, K), -1, dtype=np.int32)
    right = np.full((T, K), -1, dtype=np.int32)
    value = np.zeros((T, K), dtype=np.float64)
    n_samples = np.zeros((T, K), dtype=np.int32)
    importance = np.zeros((T, p), dtype=np.float64)
    n_nodes = np.zeros(T, dtype=np.int64)
    if switch is None:
        switch = switch_size(p, mtry)
    y = np.ascontiguousarray(y, dtype=np.float64)
    outputs = (feature, threshold, left, right, value, n_samples, importance, n_nodes)
    seeds = np.asarray(seeds, dtype=np.uint64)
    if max_bins is None:
        args = (XT, y, float(y.mean()), presorted, ranks, seeds, bool(bootstrap), int(mtry), int(min_samples_leaf),
                int(max_depth), int(switch)) + outputs
        serial, parallel = _k.build_forest_serial, _k.build_forest
    else:
        args = (codes, XT, y, float(y.mean()), seeds, bool(bootstrap), int(mtry), int(min_samples_leaf),
                int(max_depth)) + outputs
        if level_wise:
            serial, parallel = _lk.build_forest_levels_serial, _lk.build_forest_levels
        else:
            serial, parallel = _hk.build_forest_binned_serial, _hk.build_forest_binned
    threads = n_threads(n_jobs)
    if threads == 1:
        serial(*args)
    else:
        with numba_threads(threads):
            parallel(*args)
    used = int(n_nodes.max())
    arrays = {name: np.ascontiguousarray(a[:, :used]) for name, a in
              (("feature", feature), ("threshold", threshold), ("left", left), ("right", right),
               ("value", value), ("n_samples", n_samples))}
    arrays["n_nodes"] = n_nodes
    arrays["importance"] = importance
    return arrays


def as_float32(X):
    """X as C-contiguous float32 (features are compared in float32, as in scikit-learn's trees)."""
    return as_float(X, np.float32)


def normalized(v):
    """v / sum(v), or zeros when the sum is 0 (a tree that never split)."""
    total = v.sum()
    return v / total if total > 0 else np.zeros_like(v)


def bootstrap_counts(seeds, n):
    """In-bag counts (T, n) int32 of the bootstrap that :func:`grow_trees` draws with ``seeds`` (T,) uint64."""
    counts = np.zeros((len(seeds), int(n)), dtype=np.int32)
    _k.bootstrap_counts(np.asarray(seeds, dtype=np.uint64), int(n), counts)
    return counts


def predict_trees(X, feature, threshold, left, right, value, n_jobs=1):
    """Mean over trees of the leaf value each row of X (n, p) reaches; node arrays (T, K). Returns (n,)."""
    X32 = as_float32(X)
    out = np.empty(X32.shape[0], dtype=np.float64)
    threads = n_threads(n_jobs)
    if threads == 1:
        _k.predict_forest_serial(X32, feature, threshold, left, right, value, out)
    else:
        with numba_threads(threads):
            _k.predict_forest(X32, feature, threshold, left, right, value, out)
    return out


class DecisionTreeRegressor(RegressorMixin, BaseEstimator):
    """CART regression tree minimising the within-node squared error (variance reduction; Breiman et al. 1984).

    Each node takes the split ``x_j <= t`` of the examined features that most reduces
    ``sum_left (y - mean_left)^2 + sum_right (y - mean_right)^2``; leaves predict the mean of their rows.

    Parameters
    ----------
    max_features : None, 'sqrt', 'log2', int or float, default None
        Features examined per node, drawn at random without replacement (None = all; a float is a fraction of p).
    min_samples_leaf : int, default 1
    max_depth : int or None, default None
        None grows until leaves are pure or cannot be split.
    seed : int, default 0
        Seed of the feature draws.
    max_bins : int or None, default None
        None = exact split search; an int in [2, 256] = histogram search on quantile bins (see
        :class:`~nnlite.forest.RandomForestRegressor`).

    Attributes
    ----------
    feature_, threshold_, left_, right_, value_, n_node_samples_ : ndarray of shape (node_count_,)
        The tree as flat node arrays.
    node_count_ : int
    feature_importances_ : ndarray of shape (p,)
        Normalized impurity decrease.
    max_features_ : int
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from nnlite import DecisionTreeRegressor
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> tree = DecisionTreeRegressor(max_depth=1).fit(X, [1.0, 1.0, 5.0, 5.0])
    >>> tree.predict([[0.5], [2.5]]), float(tree.threshold_[0])
    (array([1., 5.]), 1.5)
    """

    def __init__(self, max_features=None, min_samples_leaf=1, max_depth=None, seed=0, max_bins=None):
        self.max_features = max_features
        self.min_samples_leaf = min_samples_leaf
        self.max_depth = max_depth
        self.seed = seed
        self.max_bins = max_bins

    def fit(self, X, y):
        X, y = self._check_fit_data(X, y, dtype=np.float32, accept_bool=True)
        depth = check_tree_params(self.min_samples_leaf, self.max_depth)
        self.max_features_ = resolve_max_features(self.max_features, X.shape[1])
        seeds = np.random.SeedSequence(self.seed).generate_state(1, dtype=np.uint64)
        grown = grow_trees(X, y, seeds, False, self.max_features_, self.min_samples_leaf, depth, 1,
                           max_bins=check_max_bins(self.max_bins))
        self.node_count_ = int(grown["n_nodes"][0])
        self.feature_ = grown["feature"][0, :self.node_count_]
        self.threshold_ = grown["threshold"][0, :self.node_count_]
        self.left_ = grown["left"][0, :self.node_count_]
        self.right_ = grown["right"][0, :self.node_count_]
        self.value_ = grown["value"][0, :self.node_count_]
        self.n_node_samples_ = grown["n_samples"][0, :self.node_count_]
        self.feature_importances_ = normalized(grown["importance"][0])
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        """The leaf value reached by each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples, with the columns seen in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples,)
            Predictions.
        """
        X = self._check_predict_data(X, dtype=np.float32, accept_bool=True)
        return predict_trees(X, self.feature_[None], self.threshold_[None], self.left_[None], self.right_[None],
                             self.value_[None])

    def get_depth(self):
        """Longest root-to-leaf path (edges) of the fitted tree.

        Returns
        -------
        int
        """
        depth = np.zeros(self.node_count_, dtype=np.int64)
        for node in range(self.node_count_):  # children always have larger ids than their parent
            if self.feature_[node] >= 0:
                depth[self.left_[node]] = depth[self.right_[node]] = depth[node] + 1
        return int(depth.max())
