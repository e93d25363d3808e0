"""Recursive feature elimination (Guyon et al. 2002, "Gene selection for cancer classification using
support vector machines", Machine Learning 46): fit, drop the features with the smallest squared
weight, repeat until n_features_to_select remain.

The paper's feature selection is RFE driven by a linear epsilon-SVR (epsilon = 0.1) down to 1000
genes. With ``nnlite.LinearSVR`` the rounds share work: the dual variables of the previous round are a
feasible warm start for the next one, and Q = X X^T is downdated by the removed columns rather
than recomputed (see ``LinearSVR.elimination_session``, the protocol any estimator may offer). Any other estimator exposing ``coef_``
(or ``feature_importances_``) is refitted from scratch on each round.
"""
import copy
import inspect

import numpy as np

from nnlite._checks import check_nonconstant
from nnlite.base import BaseEstimator, RegressorMixin


def _clone(estimator):
    """An unfitted copy with the same hyper-parameters (the constructor's arguments)."""
    params = inspect.signature(type(estimator).__init__).parameters
    try:
        kwargs = {name: getattr(estimator, name) for name in params
                  if name != "self" and params[name].kind not in (inspect.Parameter.VAR_POSITIONAL,
                                                                 inspect.Parameter.VAR_KEYWORD)}
        return type(estimator)(**copy.deepcopy(kwargs))
    except (AttributeError, TypeError):
        return copy.deepcopy(estimator)


def _importances(estimator):
    coef = getattr(estimator, "coef_", None)
    if coef is not None:
        coef = np.asarray(coef, dtype=np.float64)
        return coef ** 2 if coef.ndim == 1 else (coef ** 2).sum(axis=0)
    imp = getattr(estimator, "feature_importances_", None)
    if imp is None:
        raise ValueError(f"{type(estimator).__name__} exposes neither coef_ nor feature_importances_")
    return np.asarray(imp, dtype=np.float64)


class RFE(RegressorMixin, BaseEstimator):
    """Recursive feature elimination ranked by ``coef_ ** 2`` (Guyon et al. 2002, SVM-RFE).

    Fits ``estimator`` on the features still in play, removes the ``step`` with the smallest squared
    coefficient, and repeats until ``n_features_to_select`` remain. Ties in importance are broken by feature
    index (stable sort). An estimator may offer ``elimination_session(X, y)`` to refit warm-started on shrinking
    subsets (:class:`~nnlite.linear.svr.LinearSVR` does).

    Parameters
    ----------
    estimator : estimator with ``coef_``
        Refitted each round on the features still in play.
    n_features_to_select : int, default 1000
        Features kept.
    step : int or float, default 0.1
        An int >= 1 removes that many features per round; a float in (0, 1) removes that fraction (at least one),
        never going below ``n_features_to_select``.
    step_base : {'remaining', 'initial'}, default 'remaining'
        A float ``step`` is a fraction of the features still in play, or of the initial count (scikit-learn's).

    Attributes
    ----------
    support_ : ndarray of shape (p,), bool
    ranking_ : ndarray of shape (p,), int
        1 = selected, k = removed k - 1 rounds before the end.
    n_features_ : int
    estimator_ : estimator
        Fitted on the selected features.
    n_rounds_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from nnlite import RFE, LinearSVR
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 6))
    >>> rfe = RFE(LinearSVR(epsilon=0.0), n_features_to_select=2).fit(X, 3 * X[:, 4] - 2 * X[:, 1])
    >>> np.flatnonzero(rfe.support_)
    array([1, 4])
    """

    _is_transformer = True  # transform keeps the selected columns; predict delegates to estimator_

    def __init__(self, estimator, n_features_to_select=1000, step=0.1, step_base="remaining"):
        self.estimator = estimator
        self.n_features_to_select = n_features_to_select
        self.step = step
        self.step_base = step_base

    def _step_count(self, n_remaining, n_initial):
        step = self.step
        if 0.0 < step < 1.0:
            if self.step_base == "remaining":
                return max(1, int(step * n_remaining))
            if self.step_base == "initial":
                return max(1, int(step * n_initial))
            raise ValueError(f"step_base must be 'remaining' or 'initial', got {self.step_base!r}")
        if step >= 1 and float(step) == int(step):
            return int(step)
        raise ValueError(f"step must be an integer >= 1 or a fraction in (0, 1), got {step!r}")

    def fit(self, X, y):
        """Eliminate features until ``n_features_to_select`` remain.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (a DataFrame sets ``feature_names_in_``).
        y : array-like of shape (n_samples,)
            Target values.

        Returns
        -------
        self
            The fitted estimator.
        """
        X, y = self._check_fit_data(X, y)
        check_nonconstant(y, "the feature ranking")
        n, p = X.shape
        k = self.n_features_to_select
        if isinstance(k, float) and 0.0 < k < 1.0:
            k = max(1, int(k * p))
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
            raise ValueError(f"n_features_to_select must be a positive integer, got {self.n_features_to_select!r}")
        if k > p:
            raise ValueError(f"n_features_to_select={k} is larger than the number of features ({p})")
        self._step_count(p, p)  # validate step and step_base before any work

        support = np.ones(p, dtype=bool)
        ranking = np.ones(p, dtype=np.int64)
        estimator = _clone(self.estimator)
        session = getattr(estimator, "elimination_session", None)
        session = session(X, y) if session is not None else None
        rounds = 0
        while True:
            features = np.flatnonzero(support)
            if session is not None:
                session.fit(features)
                importances = session.coef ** 2
            else:
                estimator = _clone(self.estimator).fit(X[:, features], y)
                importances = _importances(estimator)
            if features.size <= k:
                break
            rounds += 1
            n_drop = min(self._step_count(features.size, p), features.size - k)
            order = np.argsort(importances, kind="stable")
            support[features[order[:n_drop]]] = False
            ranking[~support] += 1
        if session is not None:
            session.export(estimator)
        self.support_ = support
        self.ranking_ = ranking
        self.n_features_ = int(support.sum())
        self.n_features_in_ = p
        self.n_rounds_ = rounds
        self.estimator_ = estimator
        return self

    def transform(self, X):
        """The selected columns of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples, with the columns seen in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, n_features_)
            The selected columns.
        """
        return self._check_predict_data(X)[:, self.support_]

    def fit_transform(self, X, y):
        """``fit(X, y)``, then ``transform(X)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (a DataFrame sets ``feature_names_in_``).
        y : array-like of shape (n_samples,)
            Target values.

        Returns
        -------
        ndarray of shape (n_samples, n_features_)
            The selected columns.
        """
        return self.fit(X, y).transform(X)

    def predict(self, X):
        """Predictions of ``estimator_`` on the selected columns.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples, with the columns seen in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples,)
            Predictions.
        """
        X = self.transform(X)  # first: it raises NotFittedError before estimator_ is looked up
        return self.estimator_.predict(X)
