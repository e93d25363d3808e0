"""Linear epsilon-SVR with the L1 (epsilon-insensitive) loss, solved in the dual as liblinear does.

Primal problem (Ho & Lin 2012, JMLR 13, "Large-scale linear support vector regression")::

    min_{w, w_b}  0.5 (||w||^2 + w_b^2) + C sum_i max(0, |y_i - x_i.w - B w_b| - epsilon)

with B = intercept_scaling and intercept_ = B * w_b: the intercept is an extra, regularized
feature of constant value B, exactly as in liblinear and so in scikit-learn's
``LinearSVR(loss='epsilon_insensitive', dual=True)``. The dual and its coordinate-descent solver
(Algorithm 4, random permutations and shrinking) are in ``_svr_kernels``.
"""
import numpy as np

from nnlite._checks import check_X_y
from nnlite.base import BaseEstimator, RegressorMixin

from ._svr_kernels import svr_dual_cd_gram, svr_dual_cd_primal

_GRAM_MAX_SAMPLES = 4096  # Q = X X^T costs 8 n^2 bytes; beyond this, iterate on w instead


def _use_gram(n, p, solver):
    if solver == "gram":
        return True
    if solver == "primal":
        return False
    if solver != "auto":
        raise ValueError(f"solver must be 'auto', 'gram' or 'primal', got {solver!r}")
    return n <= _GRAM_MAX_SAMPLES and n <= 2 * p


class LinearSVR(RegressorMixin, BaseEstimator):
    """L1-loss linear support vector regression by dual coordinate descent (liblinear's solver 13).

    Solves ``min_w 0.5 ||w||^2 + C sum_i max(0, |y_i - w.x_i| - epsilon)`` through its dual in ``beta``
    (Ho & Lin 2012, "Large-scale linear support vector regression"); the intercept is a feature of constant
    value ``intercept_scaling`` (penalized, as in liblinear).

    Parameters
    ----------
    epsilon : float, default 0.1
        Width of the insensitive tube.
    C : float, default 1.0
        Loss weight.
    tol : float, default 1e-4
        Stop when a pass's summed projected-gradient violation is <= tol times the first pass's.
    max_iter : int, default 1000
        Passes over the data.
    fit_intercept : bool, default True
    intercept_scaling : float, default 1.0
        Value of the constant feature.
    seed : int, default 0
        The random permutation of each pass.
    solver : {'auto', 'gram', 'primal'}, default 'auto'
        'gram' iterates on ``Q = X X^T`` (O(n^2) per pass), 'primal' on w (O(n p)); both give the same iterates.

    Attributes
    ----------
    coef_ : ndarray of shape (p,)
    intercept_ : float
    n_iter_ : int
        Passes.
    dual_coef_ : ndarray of shape (n,)
        beta.

    Examples
    --------
    >>> import numpy as np
    >>> from nnlite import LinearSVR
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> model = LinearSVR(epsilon=0.0, C=100.0).fit(X, 2.0 * X[:, 0])
    >>> np.round(model.predict(X), 1)
    array([0., 2., 4., 6.])
    """

    def __init__(self, epsilon=0.1, C=1.0, tol=1e-4, max_iter=1000, fit_intercept=True,
                 intercept_scaling=1.0, seed=0, solver="auto"):
        self.epsilon = epsilon
        self.C = C
        self.tol = tol
        self.max_iter = max_iter
        self.fit_intercept = fit_intercept
        self.intercept_scaling = intercept_scaling
        self.seed = seed
        self.solver = solver

    def _check_params(self):
        if not self.C > 0:
            raise ValueError(f"C must be positive, got {self.C}")
        if not self.epsilon >= 0:
            raise ValueError(f"epsilon must be >= 0, got {self.epsilon}")
        if not self.tol > 0:
            raise ValueError(f"tol must be positive, got {self.tol}")
        if int(self.max_iter) < 1:
            raise ValueError(f"max_iter must be >= 1, got {self.max_iter}")
        if self.fit_intercept and not self.intercept_scaling > 0:
            raise ValueError(f"intercept_scaling must be positive, got {self.intercept_scaling}")

    @property
    def _bias(self):
        return float(self.intercept_scaling) if self.fit_intercept else 0.0

    def fit(self, X, y):
        """Fit by dual coordinate descent.

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
        self._check_params()
        session = _DualSession(self, X, y)
        session.fit(np.arange(X.shape[1]))
        session.export(self)
        return self

    def predict(self, X):
        """Linear prediction ``X @ coef_ + intercept_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples, with the columns seen in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples,)
            Predictions.
        """
        X = self._check_predict_data(X)
        return X @ self.coef_ + self.intercept_

    def elimination_session(self, X, y):
        """A solver that refits on shrinking feature subsets, warm-starting the dual (used by :class:`~nnlite.RFE`).

        The protocol ``nnlite.RFE`` looks for (any estimator may offer it): ``session.fit(features)`` refits on
        ``X[:, features]`` (increasing indices, each call a subset of the previous one) and returns the
        coefficients (len(features),); ``session.export(estimator)`` sets the estimator's fitted attributes.

        beta stays dual-feasible when features are removed (the constraints are on beta alone), so each round starts
        from the previous round's beta; with the Gram variant, Q is downdated by the removed columns instead of
        being recomputed.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        session
            An object with ``fit(features)`` and ``export(estimator)``.
        """
        X, y = check_X_y(X, y)
        self._check_params()
        return _DualSession(self, X, y)


class _DualSession:
    """Dual state (beta, and Q or w) for one (X, y), refittable on subsets of the columns."""

    def __init__(self, est, X, y):
        self.est = est
        self.X = X
        self.y = y
        n, p = X.shape
        self.bias = est._bias
        self.gram = _use_gram(n, p, est.solver)
        self.beta = np.zeros(n)
        self.features = None
        self.gnorm_ref = 0.0
        self.Q = None

    def fit(self, features):
        """Fit on X[:, features] (features: increasing indices, a subset of the previous call's)."""
        est, X, y = self.est, self.X, self.y
        features = np.asarray(features, dtype=np.int64)
        args = (float(est.epsilon), float(est.C), float(est.tol), int(est.max_iter), int(est.seed))
        if self.gram:
            if self.Q is None:
                Xf = X[:, features]
                self.Q = Xf @ Xf.T + self.bias ** 2
            else:
                removed = np.setdiff1d(self.features, features, assume_unique=True)
                if removed.size:
                    Xr = X[:, removed]
                    self.Q -= Xr @ Xr.T
            n_iter, ref = svr_dual_cd_gram(self.Q, y, self.beta, *args, self.gnorm_ref)
            self.coef = X[:, features].T @ self.beta
            wb = self.bias * self.beta.sum()
        else:
            Xf = np.ascontiguousarray(X[:, features])
            w = Xf.T @ self.beta
            n_iter, ref, wb = svr_dual_cd_primal(Xf, y, self.beta, w, self.bias, *args, self.gnorm_ref)
            self.coef = w
        self.gnorm_ref = ref
        self.features = features
        self.intercept = self.bias * wb
        self.n_iter = n_iter
        return self.coef

    def export(self, est):
        """Copy the fitted state onto the estimator's learned attributes."""
        est.coef_ = self.coef.copy()
        est.intercept_ = float(self.intercept)
        est.n_iter_ = int(self.n_iter)
        est.dual_coef_ = self.beta.copy()
        est.n_features_in_ = int(self.coef.shape[0])
