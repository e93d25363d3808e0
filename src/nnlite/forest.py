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
    """Random forest of CART regression trees (Breiman 2001).

    Each tree is grown on a bootstrap sample (or all rows), examining ``max_features`` random features per node;
    the forest predicts the mean of its trees. With ``max_bins`` the split search runs on quantile bins computed
    once per fit (``nnlite._hist_kernels``; trees grown level by level, ``nnlite._level_kernels``). The binned
    forest is the exact one (same trees, same random stream) when every feature has at most ``max_bins`` distinct
    training values; otherwise a split can only fall between two bins (its threshold is still the midpoint
    between the node's adjacent values on either side of that bin boundary).

    Parameters
    ----------
    n_estimators : int, default 100
    max_features : float, 'sqrt', 'log2', int or None, default 1/3
        Features examined per node (a float is a fraction of p; None = all).
    min_samples_leaf : int, default 1
    max_depth : int or None, default None
        None = unlimited.
    bootstrap : bool, default True
        Sample n rows with replacement per tree, else use all rows.
    seed : int, default 0
    n_jobs : int, default 1
        Threads (-1 = all).
    max_bins : int or None, default 256
        None = exact presorted split search (every midpoint between distinct values); an int in [2, 256] =
        histogram search on that many quantile bins per feature.
    oob_score : bool, default False
        With ``bootstrap``, also compute the out-of-bag predictions and their R^2.

    Attributes
    ----------
    feature_, threshold_, left_, right_, value_, n_node_samples_ : ndarray of shape (n_estimators, max nodes)
        Flat node arrays, rows padded past ``node_counts_[t]``.
    node_counts_ : ndarray of shape (n_estimators,)
    feature_importances_ : ndarray of shape (p,)
        Mean over trees of each tree's normalized impurity decrease, renormalized to sum 1.
    oob_prediction_ : ndarray of shape (n,)
        With ``oob_score``: the mean over the trees whose bootstrap did not draw row i of their predictions of row
        i (NaN for a row drawn by every tree, as scikit-learn's). The in-bag counts are replayed from the trees'
        own random streams (:func:`nnlite.tree.bootstrap_counts`).
    oob_score_ : float
        R^2 of ``oob_prediction_`` on the rows that have one.
    max_features_, n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from nnlite import RandomForestRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(size=(200, 3))
    >>> y = np.where(X[:, 0] > 0.5, 1.0, 0.0)
    >>> forest = RandomForestRegressor(n_estimators=20, max_features=None, seed=0).fit(X, y)
    >>> forest.predict([[0.9, 0.5, 0.5], [0.1, 0.5, 0.5]]).round(1)
    array([1., 0.])
    >>> int(np.argmax(forest.feature_importances_))
    0
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
        """The mean over trees of the leaf values reached by each row.

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
        return predict_trees(X, self.feature_, self.threshold_, self.left_, self.right_, self.value_, self.n_jobs)
