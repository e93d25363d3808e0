"""Stacked regression (Wolpert 1992; Breiman 1996): a non-negative linear combination of member models'
out-of-fold predictions, and its cross-fitted out-of-fold predictions."""
import numpy as np

from nnlite.base import BaseEstimator, RegressorMixin
from nnlite.linear.nnls import nnls


def _nn_combination(P, y, fit_intercept):
    """(w (k,), intercept) minimising ||y - P w - intercept||_2 over w >= 0 (intercept free, or 0)."""
    if not fit_intercept:
        return nnls(P, y)[0], 0.0
    p_mean = P.mean(axis=0)
    y_mean = float(y.mean())
    w = nnls(P - p_mean, y - y_mean)[0]
    return w, y_mean - float(p_mean @ w)


class NonNegativeStacker(RegressorMixin, BaseEstimator):
    """Stack members' predictions with non-negative weights and a free intercept:

        min_{w >= 0, c} || y - P w - c ||_2,

    solved as NNLS on the centred data (``nnlite.linear.nnls``, Lawson-Hanson): w = argmin_{w >= 0}
    ||(y - mean y) - (P - mean P) w||, then c = mean y - (mean P) w. The prediction is P w + c.

    Why not convex weights (w >= 0, sum w = 1, no intercept)? Those can only average the members, and the
    members here are often shrunk towards the mean (a random forest, a ridge-like penalty) or offset: a convex
    average inherits that shrinkage and offset, while free weights and an intercept can rescale and recentre
    them. Non-negativity is kept because correlated members otherwise get large weights of opposite signs that
    fit the noise (Breiman 1996, "Stacked regressions": non-negative weights stack best); many weights end at
    exactly 0, which selects members. ``fit_intercept=False`` solves plain NNLS (Breiman's version).

    Parameters
    ----------
    fit_intercept : bool, default True

    Attributes
    ----------
    coef_ : ndarray (n_members,)
        w >= 0.
    intercept_ : float
        c (0.0 without intercept).
    n_features_in_ : int
        The number of members k.
    """

    def __init__(self, fit_intercept=True):
        self.fit_intercept = fit_intercept

    def fit(self, P, y):
        """Fit the weights on P (n, k), the members' out-of-fold predictions, and y (n,); returns self."""
        P, y = self._check_fit_data(P, y, dtype=np.float64)
        self.coef_, self.intercept_ = _nn_combination(P, y, bool(self.fit_intercept))
        return self

    def predict(self, P):
        """P (n, k) @ coef_ + intercept_ -> (n,)."""
        P = self._check_predict_data(P, dtype=np.float64)
        return P @ self.coef_ + self.intercept_


def cross_fit_predict(P, y, folds, fit_intercept=True, return_weights=False):
    """Cross-fitted stacked predictions: row i gets P[i] w_f + c_f, with (w_f, c_f) the
    :class:`NonNegativeStacker` fitted on the rows of every fold but row i's own fold f.

    When P holds out-of-fold member predictions on the same folds, no row's stacked prediction has seen that
    row (neither through the members nor through the weights), so errors, calls and intervals computed from it
    are honest out-of-fold figures.

    Parameters
    ----------
    P : array (n, k)
        Members' out-of-fold predictions.
    y : array (n,)
    folds : array (n,)
        Fold label of each row (any hashable values; at least two distinct).
    fit_intercept : bool, default True
    return_weights : bool, default False

    Returns
    -------
    pred : ndarray (n,)
    labels, coef, intercept : ndarray (F,), (F, k), (F,)
        Only with ``return_weights``: the sorted fold labels and the weights used for each fold's rows.
    """
    P = np.asarray(P, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    folds = np.asarray(folds)
    if P.ndim != 2 or y.ndim != 1 or folds.ndim != 1 or not P.shape[0] == y.shape[0] == folds.shape[0]:
        raise ValueError(f"cross_fit_predict needs P (n, k), y (n,) and folds (n,), got shapes {P.shape}, "
                         f"{y.shape} and {folds.shape}")
    if not (np.isfinite(P).all() and np.isfinite(y).all()):
        raise ValueError("cross_fit_predict: P and y must be finite")
    labels, fold_of = np.unique(folds, return_inverse=True)
    if len(labels) < 2:
        raise ValueError(f"cross_fit_predict needs at least two folds, got {len(labels)}")
    pred = np.empty(len(y))
    coef = np.empty((len(labels), P.shape[1]))
    intercept = np.empty(len(labels))
    for f in range(len(labels)):
        own = fold_of == f
        coef[f], intercept[f] = _nn_combination(P[~own], y[~own], fit_intercept)
        pred[own] = P[own] @ coef[f] + intercept[f]
    if return_weights:
        return pred, labels, coef, intercept
    return pred
