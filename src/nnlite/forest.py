"""Random forest regressor (Breiman 2001): bagged CART trees with a random feature subset at every node.

Tree t draws its bootstrap sample and its feature subsets from its own random stream, seeded by the t-th
state of ``np.random.SeedSequence(seed)``; trees are grown in parallel by Numba threads (prange over trees),
so the forest does not depend on ``n_jobs``. The prediction is the mean of the trees' leaf values.
"""
import numpy as np

from nnlite.base import BaseEstimator, RegressorMixin
from nnlite.tree import (bootstrap_counts, check_max_bins, check_tree_params, grow_trees, n_threads, normalized, predict_trees,
                         resolve_max_features)


class RandomForestRegressor(RegressorMixin, BaseEstimator):
    """Random forest of CART regression trees (variance reduction).

    Parameters: ``n_estimators`` trees; ``max_features`` examined per node (float fraction of p, default 1/3,
    'sqrt', 'log2', int, or None for all); ``min_samples_leaf``; ``max_depth`` (None = unlimited);
    ``bootstrap`` (sample n rows with replacement per tree, else use all rows); ``seed``; ``n_jobs`` threads
    (-1 = all); ``max_bins``: None = exact presorted split search (every midpoint between distinct values),
    an int in [2, 256] (default 256) = histogram search on that many quantile bins per feature, computed once per
    fit (``nnlite._hist_kernels``; trees grown level by level, ``nnlite._level_kernels``). The binned forest is the exact one (same trees, same random stream) when every
    feature has at most max_bins distinct training values; otherwise a split can only fall between two bins (its
    threshold is still the midpoint between the node's adjacent values on either side of that bin boundary).
    Attributes after fit: flat node arrays ``feature_``, ``threshold_``, ``left_``, ``right_``, ``value_``,
    ``n_node_samples_`` of shape (n_estimators, max nodes) (rows padded past ``node_counts_[t]``),
    ``node_counts_`` (n_estimators,), ``feature_importances_`` (p,): mean over trees of each tree's normalized
    impurity decrease, renormalized to sum 1; ``max_features_``, ``n_features_in_``.
    ``oob_score=True`` (with ``bootstrap``) also sets ``oob_prediction_`` (n,): the mean over the trees whose
    bootstrap did not draw row i of their predictions of row i (NaN for a row drawn by every tree; as
    scikit-learn's ``oob_prediction_``), and ``oob_score_``, the R^2 of those predictions on the rows that have
    one. The in-bag counts are replayed from the trees' own random streams (:func:`nnlite.tree.bootstrap_counts`).
    """

    def __init__(self, n_estimators=100, max_features=1 / 3, min_samples_leaf=1, max_depth=None, bootstrap=True,
                 seed=0, n_jobs=1, max_bins=256, oob_score=False):
        self.n_estimators = n_estimators
        self.max_features = max_features
        self.min_samples_leaf = min_samples_leaf
        self.max_depth = max_depth
        self.bootstrap = bootstrap
        self.seed = seed
        self.n_jobs = n_jobs
        self.max_bins = max_bins
        self.oob_score = oob_score

    def fit(self, X, y):
        X, y = self._check_fit_data(X, y, dtype=np.float32, accept_bool=True)
        if isinstance(self.n_estimators, bool) or not isinstance(self.n_estimators, (int, np.integer)) \
                or self.n_estimators < 1:
            raise ValueError(f"n_estimators must be an int >= 1, got {self.n_estimators!r}")
        depth = check_tree_params(self.min_samples_leaf, self.max_depth)
        n_threads(self.n_jobs)
        max_bins = check_max_bins(self.max_bins)
        self.max_features_ = resolve_max_features(self.max_features, X.shape[1])
        seeds = np.random.SeedSequence(self.seed).generate_state(self.n_estimators, dtype=np.uint64)
        grown = grow_trees(X, y, seeds, self.bootstrap, self.max_features_, self.min_samples_leaf, depth,
                           self.n_jobs, max_bins=max_bins)
        self.feature_ = grown["feature"]
        self.threshold_ = grown["threshold"]
        self.left_ = grown["left"]
        self.right_ = grown["right"]
        self.value_ = grown["value"]
        self.n_node_samples_ = grown["n_samples"]
        self.node_counts_ = grown["n_nodes"]
        per_tree = np.array([normalized(row) for row in grown["importance"]])
        self.feature_importances_ = normalized(per_tree.mean(axis=0))
        self.n_features_in_ = X.shape[1]
        if self.oob_score:
            if not self.bootstrap:
                raise ValueError("oob_score=True needs bootstrap=True (without it no row is out of bag)")
            self._set_oob(X, y, seeds)
        return self

    def _set_oob(self, X, y, seeds):
        out_of_bag = bootstrap_counts(seeds, X.shape[0]) == 0      # (T, n)
        total = np.zeros(X.shape[0])
        for t in range(self.n_estimators):
            rows = np.flatnonzero(out_of_bag[t])
            if rows.size:
                total[rows] += predict_trees(X[rows], self.feature_[t:t + 1], self.threshold_[t:t + 1],
                                             self.left_[t:t + 1], self.right_[t:t + 1], self.value_[t:t + 1])
        n_oob = out_of_bag.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.oob_prediction_ = np.where(n_oob > 0, total / n_oob, np.nan)
        has = n_oob > 0
        resid = float(np.sum((y[has] - self.oob_prediction_[has]) ** 2))
        spread = float(np.sum((y[has] - y[has].mean()) ** 2))
        self.oob_score_ = 1.0 - resid / spread if spread > 0 else float("nan")

    def predict(self, X):
        """Mean over trees of the leaf values reached by each row of X (n, p) -> (n,) float64."""
        X = self._check_predict_data(X, dtype=np.float32, accept_bool=True)
        return predict_trees(X, self.feature_, self.threshold_, self.left_, self.right_, self.value_, self.n_jobs)
