"""Histogram gradient boosting for regression (least squares), on the random forest's binned features.

Friedman's gradient boosting (2001) with second-order leaf values (Chen & Guestrin 2016) and histogram split
search (Ke et al. 2017), as scikit-learn's ``HistGradientBoostingRegressor``; kernels in ``_gbm_kernels``.
"""
import math
from numbers import Integral, Real

import numpy as np

from nnlite import _gbm_kernels as _gk
from nnlite._hist_kernels import MAX_BINS
from nnlite.base import BaseEstimator, RegressorMixin
from nnlite.tree import bin_features, check_max_bins, normalized

# early_stopping='auto' switches early stopping on above this many samples (scikit-learn's rule)
AUTO_EARLY_STOPPING_MIN = 10_000
# the histogram pool (nodes that keep their histograms for the subtraction trick) never exceeds this
POOL_BYTES = 256 * 2**20


class HistGradientBoostingRegressor(RegressorMixin, BaseEstimator):
    """Least-squares gradient boosting of regression trees grown best first on histogram-binned features.

    Objective: the mean squared error. Starting from the training mean F_0 = mean(y), iteration m fits a tree
    to the gradients g_i = F_{m-1}(x_i) - y_i (hessians h_i = 1) and adds it: F_m = F_{m-1} + tree_m.

    Binning: each feature is cut once per fit into at most ``max_bins`` quantile bins of its training values
    (the random forest's binning, ``nnlite._hist_kernels.bin_codes``: a feature with at most max_bins distinct
    values gets one bin per value, so the candidate splits are then every midpoint between distinct values).

    Split gain of a node with gradient sum G and n samples into L and R (lambda = ``l2_regularization``):

        gain = G_L**2 / (n_L + lambda) + G_R**2 / (n_R + lambda) - G**2 / (n + lambda),

    over every bin boundary of every feature leaving ``min_samples_leaf`` samples on each side; a split needs
    gain > 0. Trees grow leaf-wise: the leaf of largest gain is split next, until ``max_leaf_nodes`` leaves,
    ``max_depth``, or no positive gain. Leaf value: -learning_rate * G / (n + lambda). Histograms of large
    nodes are kept and a split's larger child gets the parent's histogram minus the smaller child's; nodes
    smaller than the bins are built directly (see ``nnlite._gbm_kernels``). Split thresholds are the midpoints
    between adjacent bins' training values, so prediction compares raw feature values (float32).

    Parameters
    ----------
    learning_rate : float > 0, default 0.1
        Shrinkage of every leaf value.
    max_iter : int >= 1, default 100
        Boosting iterations (trees), unless early stopping ends them sooner.
    max_leaf_nodes : int >= 2 or None, default 31
        Leaves per tree (None: no limit).
    max_depth : int >= 1 or None, default None
        Edges from the root to the deepest leaf (None: no limit).
    min_samples_leaf : int >= 1, default 20
        Samples every leaf keeps.
    l2_regularization : float >= 0, default 0.0
        lambda of the gain and the leaf values.
    max_bins : int in [2, 256], default 255
        Bins per feature (scikit-learn's default; it keeps its 256th bin for missing values, which nnlite
        refuses).
    early_stopping : 'auto' or bool, default 'auto'
        Stop when the score has not improved by more than ``tol`` over the last ``n_iter_no_change``
        iterations. 'auto': on when the training set has more than 10,000 samples (scikit-learn's rule).
    validation_fraction : float in (0, 1), int >= 1 or None, default 0.1
        Held-out share (or count, rounded up as scikit-learn does) of the rows whose loss early stopping watches,
        drawn with ``random_state``; None: early stopping watches the training loss.
    n_iter_no_change : int >= 1, default 10
    tol : float >= 0, default 1e-7
        An iteration improves when its score exceeds the score ``n_iter_no_change`` iterations earlier by
        more than tol (scikit-learn's rule).
    random_state : int, default 0
        Seed of the validation split (the only random choice; the binning and the trees are deterministic).
        An int, as every nnlite seed (``nnlite.base``), under scikit-learn's name.

    Attributes
    ----------
    baseline_ : float
        F_0 = mean of the training targets.
    feature_, threshold_, left_, right_, value_ : ndarray (n_iter_, K)
        Flat node arrays of the trees (``value_`` already multiplied by the learning rate; rows padded past
        ``node_counts_[t]``).
    node_counts_ : ndarray (n_iter_,)
    n_iter_ : int
        Trees grown.
    train_score_, validation_score_ : ndarray (n_iter_ + 1,)
        With early stopping: the score -1/2 mean (y - F_m)**2 (scikit-learn's ``scoring='loss'``) of F_0 ..
        F_{n_iter_} on the training rows and the validation rows (validation_score_ is empty when
        ``validation_fraction`` is None); both empty without early stopping.
    do_early_stopping_ : bool
    feature_importances_ : ndarray (n_features,)
        Total split gain per feature over all trees, normalized to sum 1 (zeros when no tree split).
    n_features_in_ : int
    """

    def __init__(self, learning_rate=0.1, max_iter=100, max_leaf_nodes=31, max_depth=None, min_samples_leaf=20,
                 l2_regularization=0.0, max_bins=255, early_stopping="auto", validation_fraction=0.1,
                 n_iter_no_change=10, tol=1e-7, random_state=0):
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.max_bins = max_bins
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.random_state = random_state

    def _check_params(self):
        def integer(name, low, none_ok=False):
            v = getattr(self, name)
            if v is None and none_ok:
                return -1
            if isinstance(v, bool) or not isinstance(v, Integral) or v < low:
                raise ValueError(f"{name} must be an int >= {low}{' or None' if none_ok else ''}, got {v!r}")
            return int(v)

        def real(name, low, strict):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, Real) or not math.isfinite(v) \
                    or (v <= low if strict else v < low):
                raise ValueError(f"{name} must be a finite number {'>' if strict else '>='} {low}, got {v!r}")
            return float(v)

        real("learning_rate", 0.0, True)
        real("l2_regularization", 0.0, False)
        real("tol", 0.0, False)
        integer("max_iter", 1)
        integer("min_samples_leaf", 1)
        integer("n_iter_no_change", 1)
        integer("max_leaf_nodes", 2, none_ok=True)
        integer("max_depth", 1, none_ok=True)
        if self.max_bins is None:
            raise ValueError("max_bins must be an int in [2, 256], got None")
        check_max_bins(self.max_bins)
        if self.early_stopping not in ("auto", True, False):
            raise ValueError(f"early_stopping must be 'auto', True or False, got {self.early_stopping!r}")
        vf = self.validation_fraction
        if vf is not None:
            if isinstance(vf, bool) or not isinstance(vf, Real) \
                    or (isinstance(vf, Integral) and vf < 1) or (not isinstance(vf, Integral) and not 0 < vf < 1):
                raise ValueError(f"validation_fraction must be a float in (0, 1), an int >= 1 or None, got {vf!r}")
        rs = self.random_state
        if isinstance(rs, bool) or not isinstance(rs, Integral) or rs < 0:
            raise ValueError(f"random_state must be an int >= 0, got {rs!r}")

    def _validation_split(self, n):
        """(training rows, validation rows) of n: a random ceil(fraction * n) (or the given count) held out."""
        vf = self.validation_fraction
        n_val = int(vf) if isinstance(vf, Integral) else math.ceil(vf * n)
        if not 1 <= n_val < n:
            raise ValueError(f"validation_fraction={vf!r} leaves {n - n_val} of {n} samples for training; "
                             f"early stopping needs at least one sample on each side")
        perm = np.random.default_rng(np.random.SeedSequence(int(self.random_state))).permutation(n)
        return np.sort(perm[n_val:]), np.sort(perm[:n_val])

    def fit(self, X, y):
        """Boost up to ``max_iter`` trees on X (n, p), y (n,); returns self."""
        X, y = self._check_fit_data(X, y, dtype=np.float32, accept_bool=True)
        self._check_params()
        n = X.shape[0]
        es = self.early_stopping
        self.do_early_stopping_ = bool(n > AUTO_EARLY_STOPPING_MIN if es == "auto" else es)
        X_val = y_val = None
        if self.do_early_stopping_ and self.validation_fraction is not None:
            train, val = self._validation_split(n)
            X_val, y_val = X[val], y[val]
            X, y = X[train], y[train]
        y = np.ascontiguousarray(y, dtype=np.float64)
        n, p = X.shape

        XT = np.ascontiguousarray(X.T)
        codes, n_bins = bin_features(XT, self.max_bins)
        edges = np.empty((p, MAX_BINS), dtype=np.float64)
        _gk.bin_edges(XT, codes, n_bins, edges)
        offsets = np.zeros(p + 1, dtype=np.int64)
        np.cumsum(n_bins, out=offsets[1:])

        msl = int(self.min_samples_leaf)
        max_leaves = -1 if self.max_leaf_nodes is None else int(self.max_leaf_nodes)
        max_depth = -1 if self.max_depth is None else int(self.max_depth)
        leaves_cap = max(1, n // msl)
        if max_leaves > 0:
            leaves_cap = min(leaves_cap, max_leaves)
        if max_depth >= 0:
            leaves_cap = min(leaves_cap, 2 ** min(max_depth, 40))
        K = 2 * leaves_cap - 1
        retain_min, hist = _pool(n, offsets[-1], p, leaves_cap)
        codes_rows = np.ascontiguousarray(codes.T) if len(hist) else np.empty((0, p), dtype=np.uint8)

        self.baseline_ = float(y.mean())
        raw = np.full(n, self.baseline_)
        grad = np.empty(n)
        idx = np.empty(n, dtype=np.int64)
        og = np.empty(n)
        importance = np.zeros(p)
        node = {name: np.empty(K, dtype=dt) for name, dt in
                (("feature", np.int32), ("threshold", np.float64), ("left", np.int32), ("right", np.int32),
                 ("value", np.float64))}
        trees = []
        train_score, val_score = [], []
        raw_val = None if X_val is None else np.full(X_val.shape[0], self.baseline_)
        if self.do_early_stopping_:
            train_score.append(_neg_half_mse(y, raw))
            if raw_val is not None:
                val_score.append(_neg_half_mse(y_val, raw_val))
        watched = val_score if raw_val is not None else train_score
        for _ in range(int(self.max_iter)):
            np.subtract(raw, y, out=grad)
            count = _gk.grow_tree(codes, codes_rows, n_bins, offsets, edges, grad, max_leaves, max_depth, msl,
                                  float(self.l2_regularization), float(self.learning_rate), retain_min, hist,
                                  idx, og, node["feature"], node["threshold"], node["left"], node["right"],
                                  node["value"], importance, raw)
            tree = {name: node[name][:count].copy() for name in ("feature", "threshold", "left", "right", "value")}
            trees.append(tree)
            if self.do_early_stopping_:
                train_score.append(_neg_half_mse(y, raw))
                if raw_val is not None:
                    _gk.add_trees(X_val, tree["feature"][None], tree["threshold"][None], tree["left"][None],
                                  tree["right"][None], tree["value"][None], raw_val)
                    val_score.append(_neg_half_mse(y_val, raw_val))
                if _should_stop(watched, int(self.n_iter_no_change), float(self.tol)):
                    break

        self.n_iter_ = len(trees)
        self.node_counts_ = np.array([len(t["feature"]) for t in trees], dtype=np.int64)
        width = int(self.node_counts_.max())
        self.feature_ = np.full((self.n_iter_, width), -1, dtype=np.int32)
        self.threshold_ = np.zeros((self.n_iter_, width))
        self.left_ = np.full((self.n_iter_, width), -1, dtype=np.int32)
        self.right_ = np.full((self.n_iter_, width), -1, dtype=np.int32)
        self.value_ = np.zeros((self.n_iter_, width))
        for t, tree in enumerate(trees):
            c = len(tree["feature"])
            for name in ("feature", "threshold", "left", "right", "value"):
                getattr(self, name + "_")[t, :c] = tree[name]
        self.train_score_ = np.array(train_score)
        self.validation_score_ = np.array(val_score)
        self.feature_importances_ = normalized(importance)
        return self

    def predict(self, X):
        """baseline_ + sum over trees of the leaf value each row of X (n, p) reaches -> (n,) float64."""
        X = self._check_predict_data(X, dtype=np.float32, accept_bool=True)
        out = np.full(X.shape[0], self.baseline_)
        _gk.add_trees(X, self.feature_, self.threshold_, self.left_, self.right_, self.value_, out)
        return out


def _neg_half_mse(y, raw):
    """scikit-learn's 'loss' score of the squared error: -1/2 mean (y - raw)**2."""
    return -0.5 * float(np.mean((y - raw) ** 2))


def _should_stop(scores, n_iter_no_change, tol):
    """True when none of the last n_iter_no_change scores beats the one before them by more than tol."""
    if len(scores) <= n_iter_no_change:
        return False
    reference = scores[-n_iter_no_change - 1] + tol
    return not any(s > reference for s in scores[-n_iter_no_change:])


def _pool(n, total_bins, p, leaves_cap):
    """(retain_min, hist): nodes of at least retain_min samples keep their histogram in the pool (S, 2 total_bins)
    of (gradient sum, count) pairs. Retained when the larger child (>= n_node / 2 samples) is dearer to build
    (~ p n_node / 2 scattered updates) than to subtract (~ total_bins streamed): n_node >= 2 * mean bins.
    S bounds the retained leaves (disjoint, so at most n / retain_min, and at most leaves_cap) plus one for
    the child built before the subtraction, within POOL_BYTES."""
    retain_min = max(2, int(2 * total_bins / max(p, 1)))
    slots = min(leaves_cap, n // retain_min) + 1
    slots = min(slots, POOL_BYTES // max(1, 16 * total_bins))
    if slots < 2:
        return n + 1, np.zeros((0, 2 * total_bins))
    return retain_min, np.zeros((slots, 2 * total_bins))
