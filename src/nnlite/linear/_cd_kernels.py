"""Numba kernels: coordinate descent for the elastic net at one penalty, glmnet style.

Problem (scaled by n, as scikit-learn's ``enet_coordinate_descent``)::

    P(w) = 0.5 ||y - X w||^2 + l1 ||w||_1 + 0.5 l2 ||w||^2,    l1 = n alpha rho,  l2 = n alpha (1 - rho)

with X (n, p) in Fortran order (columns contiguous) and y already centred when an intercept is fitted.
Coordinate update (Friedman, Hastie & Tibshirani 2010, eq. 5):
``w_j <- S(X_j.R + w_j ||X_j||^2, l1) / (||X_j||^2 + l2)``, R = y - X w kept up to date.

Work saved, none of it changing the answer:
- sequential strong rule (Tibshirani et al. 2012, JRSS-B 74, eq. 4): coming from penalty l1_prev
  with correlations c = X^T R there, only features with |c_j| >= 2 l1 - l1_prev (plus the ones
  already nonzero) enter the working set; the KKT conditions |X_j.R| <= l1 are checked on every other
  feature afterwards and violators are added, so the solution is exact;
- active-set cycling (glmnet): sweep the working set once, then cycle on the nonzero coordinates only
  until they settle, and repeat until a whole working-set sweep changes nothing;
- stopping rule: duality gap G(w, theta) <= tol ||y||^2, the dual point and the gap being those of
  scikit-learn (Fercoq, Gramfort & Salmon 2015, "formulation A" with the l2 part folded into X);
- gap safe screening (Ndiaye et al. 2017, JMLR 18, eq. 11), as scikit-learn 1.9 does: with the gap
  in hand, feature j is certified zero at the optimum when
  (1 - |X_j.theta|) / sqrt(||X_j||^2 + l2) > sqrt(2 G) / l1, and is then dropped for this penalty
  (the gap is then that of the reduced problem, which has the same optimum).
"""
import numpy as np
from numba import njit


@njit(cache=True)
def _col_dot(X, j, R):
    n = R.shape[0]
    acc = 0.0
    for i in range(n):
        acc += X[i, j] * R[i]
    return acc


@njit(cache=True)
def _col_axpy(X, j, a, R):
    """R += a * X[:, j]."""
    for i in range(R.shape[0]):
        R[i] += a * X[i, j]


@njit(cache=True)
def _sweep(X, norms2, w, R, idx, m, l1, l2):
    """One cyclic pass over coordinates idx[:m]; returns max_j (||X_j||^2 + l2) dw_j^2."""
    dmax = 0.0
    for t in range(m):
        j = idx[t]
        wj = w[j]
        h = norms2[j] + l2
        tmp = _col_dot(X, j, R) + wj * norms2[j]
        if tmp > l1:
            new = (tmp - l1) / h
        elif tmp < -l1:
            new = (tmp + l1) / h
        else:
            new = 0.0
        if new != wj:
            d = new - wj
            _col_axpy(X, j, -d, R)
            w[j] = new
            dd = h * d * d
            if dd > dmax:
                dmax = dd
    return dmax


@njit(cache=True)
def _gap(w, R, y, c, keep, l1, l2):
    """Duality gap of scikit-learn's formulation A over the kept features; returns (gap, ||X^T R - l2 w||_inf)."""
    R2 = 0.0
    Ry = 0.0
    for i in range(R.shape[0]):
        R2 += R[i] * R[i]
        Ry += R[i] * y[i]
    w2 = 0.0
    w1 = 0.0
    dual_norm = 0.0
    for j in range(w.shape[0]):
        if not keep[j]:
            continue
        w2 += w[j] * w[j]
        w1 += abs(w[j])
        a = abs(c[j] - l2 * w[j])
        if a > dual_norm:
            dual_norm = a
    if l1 == 0.0:
        # no l1 part: the dual point of formulation A degenerates; use scikit-learn's formulation B
        # (Duenner et al. 2016), gap = ||R||^2 + l2/2 ||w||^2 - R.y + ||X^T R||^2 / (2 l2), or for
        # l2 = 0 too (least squares) the first-order condition ||X^T R||^2
        xtr2 = 0.0
        for j in range(w.shape[0]):
            if keep[j]:
                xtr2 += c[j] * c[j]
        if l2 == 0.0:
            return xtr2, dual_norm
        return R2 + 0.5 * l2 * w2 - Ry + xtr2 / (2.0 * l2), dual_norm
    primal = 0.5 * (R2 + l2 * w2) + l1 * w1
    scale = l1 / dual_norm if dual_norm > l1 else 1.0
    dual = -0.5 * scale * scale * (R2 + l2 * w2) + scale * Ry
    return primal - dual, dual_norm


@njit(cache=True)
def enet_cd(X, y, norms2, w, R, c, l1, l1_prev, l2, tol_gap, max_iter, screening):
    """Minimize P(w) from the warm start w (p,), R = y - X w (n,); both updated in place.

    c (p,) holds X^T R at the previous penalty l1_prev (strong rule) and on return X^T R at the
    solution (features screened out keep a stale value). tol_gap is the absolute gap tolerance
    (tol ||y||^2). Returns (gap, number of coordinate sweeps, number of full X^T R evaluations).
    """
    p = X.shape[1]
    keep = np.empty(p, dtype=np.bool_)     # not (yet) certified zero
    in_ws = np.zeros(p, dtype=np.bool_)    # in the working set
    ws = np.empty(p, dtype=np.int64)
    act = np.empty(p, dtype=np.int64)
    thr = 2.0 * l1 - l1_prev
    nws = 0
    for j in range(p):
        keep[j] = norms2[j] > 0.0
        if keep[j] and (w[j] != 0.0 or abs(c[j]) >= thr):
            in_ws[j] = True
            ws[nws] = j
            nws += 1
    n_sweeps = 0
    n_full = 0
    inner_tol = tol_gap
    gap = np.inf
    while True:
        # solve on the working set: a full sweep, then cycle on the nonzeros, until a full sweep is quiet
        while n_sweeps < max_iter:
            dmax = _sweep(X, norms2, w, R, ws, nws, l1, l2)
            n_sweeps += 1
            if dmax <= inner_tol:
                break
            na = 0
            for t in range(nws):
                if w[ws[t]] != 0.0:
                    act[na] = ws[t]
                    na += 1
            while n_sweeps < max_iter:
                dmax = _sweep(X, norms2, w, R, act, na, l1, l2)
                n_sweeps += 1
                if dmax <= inner_tol:
                    break
        # X^T R on every remaining feature: KKT check outside the working set, then the gap
        n_full += 1
        n_viol = 0
        for j in range(p):
            if keep[j]:
                c[j] = _col_dot(X, j, R)
                if not in_ws[j] and abs(c[j]) > l1:
                    in_ws[j] = True
                    ws[nws] = j
                    nws += 1
                    n_viol += 1
        if n_viol > 0 and n_sweeps < max_iter:
            continue
        gap, dual_norm = _gap(w, R, y, c, keep, l1, l2)
        if gap <= tol_gap or n_sweeps >= max_iter:
            break
        if screening and l1 > 0.0:
            radius = np.sqrt(2.0 * gap) / l1
            denom = max(l1, dual_norm)
            changed = False
            for j in range(p):
                if not keep[j]:
                    continue
                xt = abs(c[j] - l2 * w[j]) / denom
                if (1.0 - xt) / np.sqrt(norms2[j] + l2) > radius:
                    keep[j] = False
                    changed = True
                    if w[j] != 0.0:
                        _col_axpy(X, j, w[j], R)
                        w[j] = 0.0
            if changed:
                m = 0
                for t in range(nws):
                    j = ws[t]
                    if keep[j]:
                        ws[m] = j
                        m += 1
                    else:
                        in_ws[j] = False
                nws = m
        inner_tol *= 0.1
    return gap, n_sweeps, n_full
