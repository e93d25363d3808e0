"""Elastic net by coordinate descent: one penalty (ElasticNet), the path (enet_path) and k-fold CV.

Objective (the same as scikit-learn's ``ElasticNet``)::

    1/(2n) ||y - X w - b||^2 + alpha rho ||w||_1 + 0.5 alpha (1 - rho) ||w||^2,    rho = l1_ratio

The intercept b is not penalized: X and y are centred and b = mean(y) - mean(X) w. The solver
(``_cd_kernels.enet_cd``) minimizes n times this objective with glmnet's working sets, the
sequential strong rule with a KKT check, gap safe screening and the duality-gap stopping rule
G <= tol ||y - mean(y)||^2. ``tol`` means what it means in scikit-learn (a certified bound on the
n-scaled suboptimality), but G is the smallest of several valid gaps (for the lasso also that of the best dual
point seen, carried down the path), so on collinear data the
returned point is often less over-solved than scikit-learn's: compare solutions with a small tol.
"""
import warnings

import numpy as np

from nnlite._checks import check_nonconstant, check_X_y
from nnlite.base import BaseEstimator, RegressorMixin

from ._cd_kernels import add_basis_vector, enet_cd, new_basis, x_dot, xt_dot
from ._enet_data import center_rows, rows_fortran, sparse_predict


class ConvergenceWarning(UserWarning):
    """The coordinate descent stopped at max_iter before the duality gap met the tolerance."""


def _check_penalty(alpha, l1_ratio, tol, max_iter):
    if not alpha >= 0:
        raise ValueError(f"alpha must be >= 0, got {alpha}")
    if not 0.0 <= l1_ratio <= 1.0:
        raise ValueError(f"l1_ratio must be in [0, 1], got {l1_ratio}")
    if not tol > 0:
        raise ValueError(f"tol must be positive, got {tol}")
    if int(max_iter) < 1:
        raise ValueError(f"max_iter must be >= 1, got {max_iter}")


def _prepare(X, rows, fit_intercept, buffers=None):
    """(Xc float64, Xc float32, x_mean (p,), squared column norms (p,)) of X[rows], both Fortran-ordered, the
    column means removed when fit_intercept (``center_rows``: one blocked pass over C-ordered X), written into
    ``buffers`` (flat float64 and float32 arrays of >= len(rows) p entries) when given."""
    rows = np.asarray(rows, dtype=np.int64)
    if buffers is None:
        size = len(rows) * X.shape[1]
        buffers = (np.empty(size), np.empty(size, dtype=np.float32))
    return center_rows(np.ascontiguousarray(X), rows, bool(fit_intercept), *buffers)


def alpha_grid(Xty, n_samples, l1_ratio, eps=1e-3, n_alphas=100):
    """Geometric grid from alpha_max = max_j |X_j.y| / (n rho) (the smallest alpha with w = 0) down
    to eps * alpha_max, n_alphas values, decreasing (X, y centred when an intercept is fitted)."""
    if l1_ratio <= 0:
        raise ValueError("an automatic alpha grid needs l1_ratio > 0; pass alphas explicitly")
    alpha_max = np.max(np.abs(Xty)) / (n_samples * l1_ratio)
    if alpha_max <= np.finfo(np.float64).resolution:
        return np.full(n_alphas, np.finfo(np.float64).resolution)
    return np.geomspace(alpha_max, alpha_max * eps, num=n_alphas)


_BASIS_SIZE = 48  # residual directions kept for the KKT bounds (p x 48 float32: 10.6 MB at 55,000 genes)


def _residual_basis(Xf, R, c):
    """A basis for ``span_xt_dot`` holding R's direction, whose products c = X^T R are known exactly."""
    n, p = Xf.shape
    basis = new_basis(p, n, min(_BASIS_SIZE, n))
    add_basis_vector(*basis, R, c)
    return basis


def _solve_path(Xf, X32, y, norms2, alphas, l1_ratio, tol, max_iter, screening, c0=None, test=None, basis=None,
                warn=True):
    """Warm-started path over decreasing alphas on prepared data; returns (coefs (p, k), gaps (k,) of
    the n-scaled problem, sweeps (k,)). With test = (X_test Fortran-ordered, x_mean, y_mean), the held-out
    predictions (k, m) of each solution take the place of coefs (no (p, k) array: the CV needs only those).
    basis: the residual basis of earlier paths on the same Xf (the residuals of a fold's paths share it).
    warn=False: no ConvergenceWarning (the caller judges the gaps it uses)."""
    n, p = Xf.shape
    k = len(alphas)
    coefs_t = np.empty((k, p)) if test is None else None  # row i = the solution at alphas[i] (contiguous writes)
    preds = None if test is None else np.empty((k, test[0].shape[0]))
    gaps = np.empty(k)
    n_iters = np.empty(k, dtype=np.int64)
    w = np.zeros(p)
    R = y.copy()
    c = xt_dot(Xf, y) if c0 is None else c0.copy()
    tol_gap = tol * float(y @ y)
    l1_prev = float(np.max(np.abs(c))) if p else 0.0
    if basis is None:
        basis = _residual_basis(Xf, R, c)  # c = X^T R exactly here
    theta, theta_ub = np.zeros(n), np.zeros(p)  # the lasso's best dual point, carried down the path
    not_converged = 0
    for i, alpha in enumerate(alphas):
        l1 = alpha * l1_ratio * n
        l2 = alpha * (1.0 - l1_ratio) * n
        gap, sweeps, _ = enet_cd(Xf, X32, y, norms2, w, R, c, l1, max(l1_prev, l1), l2, tol_gap,
                                 int(max_iter), bool(screening), *basis, theta, theta_ub)
        not_converged += gap > tol_gap
        if test is None:
            coefs_t[i] = w
        else:
            sparse_predict(test[0], w, test[1], test[2], preds[i])
        gaps[i] = gap
        n_iters[i] = sweeps
        l1_prev = l1
    if not_converged and warn:
        warnings.warn(f"enet: {not_converged} of {k} alphas stopped at max_iter={max_iter} with a duality "
                      f"gap above tol * ||y||^2 = {tol_gap:.3e}", ConvergenceWarning, stacklevel=3)
    if test is not None:
        return preds, gaps, n_iters
    return np.ascontiguousarray(coefs_t.T), gaps, n_iters


def enet_path(X, y, *, l1_ratio=0.5, eps=1e-3, n_alphas=100, alphas=None, tol=1e-4, max_iter=1000,
              screening=True, return_n_iter=False):
    """Elastic-net solutions along a decreasing alpha grid, each warm-started from the previous one.

    Like scikit-learn's ``enet_path``, ``X`` and ``y`` are used as given (no centring, no intercept); the
    objective is the module's, ``1/(2n) ||y - X w||^2 + alpha rho ||w||_1 + 0.5 alpha (1 - rho) ||w||^2``.

    Parameters
    ----------
    X : array-like of shape (n, p)
        Design matrix.
    y : array-like of shape (n,)
        Target.
    l1_ratio : float, default 0.5
        rho in [0, 1]: 1 is the lasso, 0 ridge.
    eps : float, default 1e-3
        Smallest alpha of the grid as a fraction of the largest (the one that zeroes every coefficient).
    n_alphas : int, default 100
        Grid size when ``alphas`` is None.
    alphas : array-like or None
        The grid, used in decreasing order; None builds ``alpha_grid(X^T y, n, l1_ratio, eps, n_alphas)``.
    tol : float, default 1e-4
        Stop each solve when the duality gap is <= ``tol * ||y - mean(y)||^2``.
    max_iter : int, default 1000
        Coordinate sweeps per alpha.
    screening : bool, default True
        Strong rule with KKT check and gap safe screening.
    return_n_iter : bool, default False
        Also return the sweeps per alpha.

    Returns
    -------
    alphas : ndarray of shape (k,)
    coefs : ndarray of shape (p, k)
    dual_gaps : ndarray of shape (k,)
        Gaps of the 1/n-scaled objective at each returned point.
    n_iters : ndarray of shape (k,)
        Coordinate sweeps, only when ``return_n_iter``.

    Examples
    --------
    >>> import numpy as np
    >>> from nnlite.linear.enet import enet_path
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    >>> alphas, coefs, gaps = enet_path(X, X @ np.array([2.0, 0.0]), l1_ratio=1.0, n_alphas=5)
    >>> coefs.shape, bool(coefs[1].max() == 0.0)
    ((2, 5), True)
    """
    X, y = check_X_y(X, y)
    _check_penalty(1.0, l1_ratio, tol, max_iter)
    n = X.shape[0]
    Xf, X32, _, norms2 = _prepare(X, np.arange(n), False)
    c0 = xt_dot(Xf, y)
    if alphas is None:
        alphas = alpha_grid(c0, n, l1_ratio, eps, n_alphas)
    else:
        alphas = np.sort(np.asarray(alphas, dtype=np.float64))[::-1]
        if alphas.ndim != 1 or alphas.size == 0 or not np.all(np.isfinite(alphas)) or alphas[-1] < 0:
            raise ValueError("alphas must be a non-empty 1-D array of finite values >= 0")
    coefs, gaps, n_iters = _solve_path(Xf, X32, y, norms2, alphas, l1_ratio, tol, max_iter, screening, c0)
    if return_n_iter:
        return alphas, coefs, gaps / n, n_iters
    return alphas, coefs, gaps / n


class ElasticNet(RegressorMixin, BaseEstimator):
    """Elastic-net linear regression by coordinate descent.

    Minimizes ``1/(2n) ||y - X w - b||^2 + alpha l1_ratio ||w||_1 + 0.5 alpha (1 - l1_ratio) ||w||^2``
    (scikit-learn's objective; the intercept is not penalized) with glmnet's working sets, the strong rule
    and gap safe screening, stopping on the duality gap (Friedman, Hastie & Tibshirani 2010; Fercoq,
    Gramfort & Salmon 2015).

    Parameters
    ----------
    alpha : float, default 1.0
        Overall penalty strength (>= 0).
    l1_ratio : float, default 0.5
        Share of the L1 penalty, in [0, 1].
    tol : float, default 1e-4
        Stop when the duality gap is <= ``tol * ||y - mean(y)||^2``.
    max_iter : int, default 1000
        Coordinate sweeps; reaching it issues a ``ConvergenceWarning``.
    fit_intercept : bool, default True
        Centre X and y and fit ``b = mean(y) - mean(X) w``.
    warm_start : bool, default False
        Start from the previous ``coef_``.
    screening : bool, default True
        Gap safe screening of features that must be zero.

    Attributes
    ----------
    coef_ : ndarray of shape (p,)
    intercept_ : float
    dual_gap_ : float
        Gap of the 1/n-scaled objective at the returned point.
    n_iter_ : int
        Coordinate sweeps, full or over the working set.

    Examples
    --------
    >>> import numpy as np
    >>> from nnlite import ElasticNet
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]])
    >>> model = ElasticNet(alpha=0.01, l1_ratio=1.0).fit(X, 2.0 * X[:, 0] + 1.0)
    >>> np.round(model.coef_, 2), round(model.intercept_, 2)
    (array([1.99, 0.  ]), 1.01)
    """

    def __init__(self, alpha=1.0, l1_ratio=0.5, tol=1e-4, max_iter=1000, fit_intercept=True,
                 warm_start=False, screening=True):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.tol = tol
        self.max_iter = max_iter
        self.fit_intercept = fit_intercept
        self.warm_start = warm_start
        self.screening = screening

    def fit(self, X, y):
        """Fit the elastic net by coordinate descent.

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
        _check_penalty(self.alpha, self.l1_ratio, self.tol, self.max_iter)
        n, p = X.shape
        Xf, X32, x_mean, norms2 = _prepare(X, np.arange(n), self.fit_intercept)
        y_mean = float(y.mean()) if self.fit_intercept else 0.0
        yc = y - y_mean
        w = np.zeros(p)
        if self.warm_start and getattr(self, "coef_", None) is not None and self.coef_.shape == (p,):
            w = self.coef_.astype(np.float64).copy()
        R = yc - x_dot(Xf, w)
        c = xt_dot(Xf, R)
        l1 = self.alpha * self.l1_ratio * n
        l2 = self.alpha * (1.0 - self.l1_ratio) * n
        # strong rule as if coming from the top of the path (or from the warm start's penalty)
        l1_prev = max(l1, float(np.max(np.abs(c)))) if not w.any() else l1
        tol_gap = self.tol * float(yc @ yc)
        gap, sweeps, _ = enet_cd(Xf, X32, yc, norms2, w, R, c, l1, l1_prev, l2, tol_gap,
                                 int(self.max_iter), bool(self.screening), *_residual_basis(Xf, R, c),
                                 np.zeros(n), np.zeros(p))
        if gap > tol_gap:
            warnings.warn(f"ElasticNet stopped at max_iter={self.max_iter} with duality gap {gap:.3e} > "
                          f"{tol_gap:.3e}", ConvergenceWarning, stacklevel=2)
        self.coef_ = w
        self.intercept_ = float(y_mean - x_mean @ w)
        self.dual_gap_ = float(gap / n)
        self.n_iter_ = int(sweeps)
        self.n_features_in_ = p
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


def kfold_indices(n_samples, n_folds, seed):
    """Shuffled k-fold split: list of (train, test) index arrays; fold sizes differ by at most one
    (the first n % k folds get one extra sample, as scikit-learn's KFold)."""
    if not 2 <= n_folds <= n_samples:
        raise ValueError(f"cv={n_folds} folds need 2 <= cv <= n_samples={n_samples}")
    perm = np.random.default_rng(seed).permutation(n_samples)
    sizes = np.full(n_folds, n_samples // n_folds)
    sizes[: n_samples % n_folds] += 1
    folds, start = [], 0
    for size in sizes:
        test = np.sort(perm[start:start + size])
        train = np.sort(np.concatenate([perm[:start], perm[start + size:]]))
        folds.append((train, test))
        start += size
    return folds


class ElasticNetCV(RegressorMixin, BaseEstimator):
    """Elastic net with (alpha, l1_ratio) chosen by k-fold cross-validated mean squared error.

    For each l1_ratio the alpha grid comes from the full (centred) data, as in scikit-learn; each fold centres
    its training rows, solves the whole path (warm starts, strong rule, screening) and scores the held-out rows.
    The pair with the lowest fold-averaged MSE wins (ties: first l1_ratio, largest alpha), and the elastic net is
    refitted on all rows with it, warm-started down that l1_ratio's grid.

    Parameters
    ----------
    l1_ratio : float or sequence of float, default 0.5
        Candidate L1 shares.
    n_alphas : int, default 100
        Grid size per l1_ratio.
    eps : float, default 1e-3
        Smallest alpha as a fraction of the largest.
    cv : int, iterable or splitter, default 5
        Number of folds (shuffled with ``seed``), an iterable of (train, test) index arrays, or an object with
        ``split(X)``.
    seed : int, default 0
        Seed of the fold shuffle.
    alphas : array-like or None
        A fixed grid instead of ``n_alphas``.
    tol, max_iter, fit_intercept, screening
        As in :class:`ElasticNet`.

    Attributes
    ----------
    alpha_, l1_ratio_ : float
        The chosen pair.
    alphas_ : ndarray of shape (n_l1, n_alphas), or (n_alphas,) for one l1_ratio
    mse_path_ : ndarray of shape (n_l1, n_alphas, n_folds)
    coef_, intercept_, dual_gap_, n_iter_
        Of the refit (``n_iter_``: sweeps of its last step).
    cv_predictions_ : ndarray of shape (n,)
        Each row's held-out prediction at (``alpha_``, ``l1_ratio_``) from the CV paths (NaN for a row in no test
        part).

    Examples
    --------
    >>> import numpy as np
    >>> from nnlite import ElasticNetCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 5))
    >>> y = X[:, 0] - 2.0 * X[:, 1] + 0.1 * rng.normal(size=60)
    >>> model = ElasticNetCV(l1_ratio=(0.5, 1.0), n_alphas=20, cv=3).fit(X, y)
    >>> np.round(model.coef_[:2], 1)
    array([ 1., -2.])
    """

    def __init__(self, l1_ratio=0.5, n_alphas=100, eps=1e-3, cv=5, seed=0, alphas=None, tol=1e-4,
                 max_iter=1000, fit_intercept=True, screening=True):
        self.l1_ratio = l1_ratio
        self.n_alphas = n_alphas
        self.eps = eps
        self.cv = cv
        self.seed = seed
        self.alphas = alphas
        self.tol = tol
        self.max_iter = max_iter
        self.fit_intercept = fit_intercept
        self.screening = screening

    def _folds(self, n):
        if isinstance(self.cv, (int, np.integer)):
            return kfold_indices(n, int(self.cv), self.seed)
        splits = self.cv.split(np.zeros((n, 1))) if hasattr(self.cv, "split") else self.cv
        folds = [(np.asarray(tr, dtype=np.int64), np.asarray(te, dtype=np.int64)) for tr, te in splits]
        if len(folds) < 2:
            raise ValueError("cv must give at least two (train, test) splits")
        for tr, te in folds:
            if tr.size == 0 or te.size == 0 or tr.min() < 0 or te.min() < 0 or max(tr.max(), te.max()) >= n:
                raise ValueError(f"cv split has empty or out-of-range indices for {n} samples")
        return folds

    def fit(self, X, y):
        """Cross-validate over (l1_ratio, alpha), then refit on all rows.

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
        check_nonconstant(y, "the elastic-net alpha grid")
        l1_ratios = np.atleast_1d(np.asarray(self.l1_ratio, dtype=np.float64))
        for r in l1_ratios:
            _check_penalty(1.0, r, self.tol, self.max_iter)
        n, p = X.shape
        if self.alphas is None:
            if np.any(l1_ratios <= 0):
                raise ValueError("l1_ratio must be > 0 for the automatic alpha grid; pass alphas explicitly")
            x_mean = X.mean(axis=0) if self.fit_intercept else np.zeros(p)
            yc = y - y.mean() if self.fit_intercept else y
            Xty = X.T @ yc - x_mean * yc.sum()
            grids = np.array([alpha_grid(Xty, n, r, self.eps, int(self.n_alphas)) for r in l1_ratios])
        else:
            a = np.sort(np.asarray(self.alphas, dtype=np.float64).ravel())[::-1]
            if a.size == 0 or not np.all(np.isfinite(a)) or a[-1] < 0:
                raise ValueError("alphas must be a non-empty array of finite values >= 0")
            grids = np.tile(a, (len(l1_ratios), 1))
        folds = self._folds(n)
        mse = np.empty((len(l1_ratios), grids.shape[1], len(folds)))
        held_out = np.full((len(l1_ratios), grids.shape[1], n), np.nan)
        X = np.ascontiguousarray(X)  # each fold's centred copies: one blocked pass over its rows
        # one pair of buffers for the folds and the refit, one at a time (fresh pages cost more than the copy)
        buffers = (np.empty(n * p), np.empty(n * p, dtype=np.float32))
        for f, (train, test) in enumerate(folds):
            Xf, X32, x_mean, norms2 = _prepare(X, train, self.fit_intercept, buffers)
            y_mean = float(y[train].mean()) if self.fit_intercept else 0.0
            yc = y[train] - y_mean
            c0 = xt_dot(Xf, yc)
            basis = _residual_basis(Xf, yc, c0)
            X_test, y_test = rows_fortran(X, test), y[test]
            for r, l1_ratio in enumerate(l1_ratios):
                # no BLAS in this loop: its threads stall the Numba kernels when the machine is busy
                preds, _, _ = _solve_path(Xf, X32, yc, norms2, grids[r], l1_ratio, self.tol, self.max_iter,
                                          self.screening, c0, (X_test, x_mean, y_mean), basis, warn=False)
                mse[r, :, f] = np.mean((preds - y_test) ** 2, axis=1)
                held_out[r][:, test] = preds
        mean_mse = mse.mean(axis=2)
        best = (np.inf, 0, 0)
        for r in range(len(l1_ratios)):
            i = int(np.argmin(mean_mse[r]))
            if mean_mse[r, i] < best[0]:
                best = (mean_mse[r, i], r, i)
        _, r, i = best
        self.alpha_ = float(grids[r, i])
        self.l1_ratio_ = float(l1_ratios[r])
        self.alphas_ = grids[0] if len(l1_ratios) == 1 else grids
        self.mse_path_ = mse
        self.cv_predictions_ = held_out[r, i]
        self._refit(X, y, grids[r, : i + 1], buffers)
        self.n_features_in_ = p
        return self

    def _refit(self, X, y, path, buffers):
        """The solution at alpha_ = path[-1] on all rows, reached down the warm-started path (path[0] is the top
        of the CV grid): a cold start at the small alphas CV often picks can need more than max_iter sweeps."""
        n = X.shape[0]
        Xf, X32, x_mean, norms2 = _prepare(X, np.arange(n), self.fit_intercept, buffers)
        y_mean = float(y.mean()) if self.fit_intercept else 0.0
        yc = y - y_mean
        coefs, gaps, sweeps = _solve_path(Xf, X32, yc, norms2, path, self.l1_ratio_, self.tol, self.max_iter,
                                          self.screening, warn=False)
        tol_gap = self.tol * float(yc @ yc)
        if gaps[-1] > tol_gap:
            warnings.warn(f"ElasticNetCV refit stopped at max_iter={self.max_iter} with duality gap "
                          f"{gaps[-1]:.3e} > {tol_gap:.3e}", ConvergenceWarning, stacklevel=3)
        self.coef_ = np.ascontiguousarray(coefs[:, -1])
        self.intercept_ = float(y_mean - x_mean @ self.coef_)
        self.dual_gap_ = float(gaps[-1] / n)
        self.n_iter_ = int(sweeps[-1])

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
