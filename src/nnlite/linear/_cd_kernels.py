"""Numba kernels: coordinate descent for the elastic net at one penalty, glmnet style.
Long on purpose: the sweep, the KKT check and its bounds, the gap certificate and the extrapolation share
the solver's state and are inlined into one another by Numba; split apart they would cross module boundaries
in the hottest loop.

Problem (scaled by n, as scikit-learn's ``enet_coordinate_descent``)::

    P(w) = 0.5 ||y - X w||^2 + l1 ||w||_1 + 0.5 l2 ||w||^2,    l1 = n alpha rho,  l2 = n alpha (1 - rho)

with X (n, p) in Fortran order (columns contiguous) and y already centred when an intercept is fitted.
Coordinate update (Friedman, Hastie & Tibshirani 2010, eq. 5):
``w_j <- S(X_j.R + w_j ||X_j||^2, l1) / (||X_j||^2 + l2)``, R = y - X w kept up to date.

Work saved, none of it changing what is certified:
- sequential strong rule (Tibshirani et al. 2012, JRSS-B 74, eq. 4): coming from penalty l1_prev
  with correlations c = X^T R there, only features with |c_j| >= 2 l1 - l1_prev (plus the ones
  already nonzero) enter the working set; the KKT conditions |X_j.R| <= l1 are checked on every other
  feature afterwards and violators are added, so the solution is exact;
- active-set cycling (glmnet): sweep the working set once, then cycle on the nonzero coordinates only
  until they settle, and repeat until a whole working-set sweep changes nothing;
- Anderson extrapolation of the active-set iterates (Bertrand & Massias 2021, "Anderson
  acceleration of coordinate descent", AISTATS): every K sweeps on a fixed active set, the
  extrapolated point sum_i c_i w^(i), c = argmin ||U c|| with sum(c) = 1 over the last K steps U, is
  kept if it lowers the objective; CD converges slowly on collinear (expression) data and this
  cuts the sweeps several-fold;
- check schedule: the KKT check and the gap come when a working-set sweep changes nothing beyond
  1e-5 tol ||y||^2 (tightened 10x after a failed check) or after 10 sweeps (doubled after a failed
  check), whichever is first: on most of the path the gap passes long before the sweeps settle that far;
- stopping rule: duality gap G <= tol ||y||^2 (scikit-learn's rule), G being the smallest of three
  valid gaps P(w) - D(v): scikit-learn's (Fercoq, Gramfort & Salmon 2015, "formulation A", the l2
  part folded into X, v = scaled residual); formulation B (Duenner et al. 2016) at the best multiple
  of the residual, far tighter when the l2 part matters; and the better of the two at the Anderson
  extrapolation of the last 5 residuals (dual extrapolation, Massias, Gramfort & Salmon 2018, "Celer");
- the lasso's dual point is not rebuilt from scratch at each check: the best feasible point so far (the anchor,
  carried down the path and rescaled into each new penalty's feasible set) moves along the segment towards the
  residual and towards its extrapolation as far as the constraints |X_j.theta| <= l1 allow and the dual value
  still rises (``_enet_gaps._lasso_segment``). Near the optimum the residual violates a few constraints by a
  little; rescaling it uniformly pays for that on every coordinate, the segment from a good anchor does not, and
  at the bottom of the path this certifies in a few sweeps what the rescaled residual needs hundreds for;
- KKT checks from a basis of earlier residuals (``span_xt_dot``): Q (k x n, orthonormal rows) with B = Q X
  known from passes over a float32 copy of X (half the memory traffic); for v = Q^T a + r,
  |X_j.v| <= |B_j.a| + ||X_j|| (||r|| + rounding margins), and along a path the residuals stay close to the
  span, so outside the working set only features whose bound exceeds l1 get a product (float32 first, with its
  rounding margin, then float64 where that still could exceed l1); the others cannot violate the KKT
  conditions, and the gaps and the screening test use their bound (<= l1) in place of |X_j.R|, which only
  loosens them (every use is monotone in |X_j.R| where w_j = 0), so the certificate stays valid. A check where
  more than a quarter of the bounds fail adds the direction of r to the basis (one float32 pass). The
  dual-extrapolation candidate's X^T v is bounded the same way;
- gap safe screening (Ndiaye et al. 2017, JMLR 18, eq. 11), as scikit-learn 1.9 does: with the gap
  in hand, feature j is certified zero at the optimum when
  (1 - |X_j.theta|) / sqrt(||X_j||^2 + l2) > sqrt(2 G) / l1, and is then dropped for this penalty
  (the gap is then that of the reduced problem, which has the same optimum).
"""
import numpy as np
from numba import njit

from ._enet_gaps import _dual_value, _gap, _lasso_dual_step, _primal

_K_ANDERSON = 3  # extrapolate from the last 3 steps (Bertrand & Massias use 5; 3 needs ~20 % fewer lasso sweeps here)
_REFRESH = 0.25  # a KKT check whose bounds fail for more than this fraction of p adds a basis vector (a pass)
_K_DUAL = 5  # dual extrapolation from the last 5 residual steps, as Celer
_BUDGET0 = 10  # working-set sweeps before the first check of a penalty; doubled after each check it fails


@njit(cache=True, fastmath=True)
def _col_dot(X, j, R):
    n = R.shape[0]
    acc = 0.0
    for i in range(n):
        acc += X[i, j] * R[i]
    return acc


@njit(cache=True, fastmath=True)
def _xt_dot(X, v, out):
    """out = X^T v, column by column (no BLAS call: BLAS threads stall on a busy machine)."""
    for j in range(X.shape[1]):
        out[j] = _col_dot(X, j, v)


@njit(cache=True, fastmath=True)
def _col_dot32(X32, j, v):
    """X32[:, j] . v with float64 sums."""
    acc = 0.0
    for i in range(v.shape[0]):
        acc += X32[i, j] * v[i]
    return acc


@njit(cache=True, fastmath=True)
def _xt_dot32(X32, v, out):
    """out = X32^T v with X32 float32 and v, the sums and out float64 (half the memory traffic of _xt_dot)."""
    n = v.shape[0]
    for j in range(X32.shape[1]):
        acc = 0.0
        for i in range(n):
            acc += X32[i, j] * v[i]
        out[j] = acc


@njit(cache=True)
def xt_dot(X, v):
    """X^T v (p,) for X (n, p) Fortran-ordered, without a BLAS call."""
    out = np.empty(X.shape[1])
    _xt_dot(X, v, out)
    return out


@njit(cache=True)
def x_dot(X, w):
    """X w (n,) for X (n, p) Fortran-ordered, skipping zero weights, without a BLAS call."""
    out = np.zeros(X.shape[0])
    for j in range(X.shape[1]):
        if w[j] != 0.0:
            _col_axpy(X, j, w[j], out)
    return out


@njit(cache=True, fastmath=True)
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
def _strong_rule_set(norms2, w, c, thr, keep, in_ws, ws):
    """keep_j = (X_j != 0); the working set ws[:m] (in_ws marks it): kept features nonzero or with |c_j| >= thr.
    Returns m (from a function, never typed as the literal 0: see _nonzeros)."""
    m = 0
    for j in range(w.shape[0]):
        keep[j] = norms2[j] > 0.0
        if keep[j] and (w[j] != 0.0 or abs(c[j]) >= thr):
            in_ws[j] = True
            ws[m] = j
            m += 1
    return m


@njit(cache=True)
def _nonzeros(w, ws, nws, act):
    """act[:m] = the j in ws[:nws] with w_j != 0; returns m (a function, so that m is never typed as the literal 0,
    which would compile _sweep and _anderson twice)."""
    m = 0
    for t in range(nws):
        if w[ws[t]] != 0.0:
            act[m] = ws[t]
            m += 1
    return m


@njit(cache=True)
def _solve_small(A, b):
    """Solve A z = b for a small symmetric positive semi-definite A by Gaussian elimination with
    partial pivoting; returns (z, ok) with ok False when A is numerically singular."""
    m = b.shape[0]
    M = A.copy()
    z = b.copy()
    scale = 0.0
    for i in range(m):
        scale = max(scale, abs(M[i, i]))
    if scale == 0.0:
        return z, False
    for k in range(m):
        piv = k
        for i in range(k + 1, m):
            if abs(M[i, k]) > abs(M[piv, k]):
                piv = i
        if abs(M[piv, k]) <= 1e-14 * scale:
            return z, False
        if piv != k:
            for t in range(m):
                tmp = M[k, t]
                M[k, t] = M[piv, t]
                M[piv, t] = tmp
            tmp = z[k]
            z[k] = z[piv]
            z[piv] = tmp
        for i in range(k + 1, m):
            f = M[i, k] / M[k, k]
            for t in range(k, m):
                M[i, t] -= f * M[k, t]
            z[i] -= f * z[k]
    for k in range(m - 1, -1, -1):
        acc = z[k]
        for t in range(k + 1, m):
            acc -= M[k, t] * z[t]
        z[k] = acc / M[k, k]
    return z, True


@njit(cache=True)
def _anderson(X, w, R, act, na, hist, l1, l2, R_new):
    """Try the Anderson extrapolation of the iterates hist (K+1, na) on coordinates act[:na]
    (hist[K] is the current w[act]); keep it (w, R updated in place) if the objective decreases."""
    K = hist.shape[0] - 1
    U = np.empty((K, na))
    for i in range(K):
        for t in range(na):
            U[i, t] = hist[i + 1, t] - hist[i, t]
    UU = U @ U.T
    z, ok = _solve_small(UU, np.ones(K))
    if not ok:
        return False
    zs = z.sum()
    if zs == 0.0 or not np.isfinite(zs):
        return False
    w_ext = np.zeros(na)
    for i in range(K):
        ci = z[i] / zs
        for t in range(na):
            w_ext[t] += ci * hist[i + 1, t]
    n = R.shape[0]
    for i in range(n):
        R_new[i] = R[i]
    pen_old = 0.0
    pen_new = 0.0
    for t in range(na):
        j = act[t]
        d = w_ext[t] - w[j]
        if d != 0.0:
            _col_axpy(X, j, -d, R_new)
        pen_old += l1 * abs(w[j]) + 0.5 * l2 * w[j] * w[j]
        pen_new += l1 * abs(w_ext[t]) + 0.5 * l2 * w_ext[t] * w_ext[t]
    f_old = pen_old
    f_new = pen_new
    for i in range(n):
        f_old += 0.5 * R[i] * R[i]
        f_new += 0.5 * R_new[i] * R_new[i]
    if not f_new < f_old:
        return False
    for t in range(na):
        w[act[t]] = w_ext[t]
    for i in range(n):
        R[i] = R_new[i]
    return True


@njit(cache=True)
def _extrapolated_residual(rbuf, count):
    """Anderson extrapolation sum_i c_i r^(i) of the last K+1 residuals (ring buffer rbuf, count
    written so far), the dual extrapolation of Massias, Gramfort & Salmon (2018, "Celer", ICML);
    returns (v, ok)."""
    K = rbuf.shape[0] - 1
    n = rbuf.shape[1]
    U = np.empty((K, n))
    for i in range(K):
        a = (count + i) % (K + 1)
        b = (count + i + 1) % (K + 1)
        for t in range(n):
            U[i, t] = rbuf[b, t] - rbuf[a, t]
    z, ok = _solve_small(U @ U.T, np.ones(K))
    v = np.zeros(n)
    if not ok:
        return v, False
    zs = z.sum()
    if zs == 0.0 or not np.isfinite(zs):
        return v, False
    for i in range(K):
        b = (count + i + 1) % (K + 1)
        ci = z[i] / zs
        for t in range(n):
            v[t] += ci * rbuf[b, t]
    return v, True


# |fl32(x) - x| <= 2^-24 |x|: a float32 copy of X_j moves X_j.q by at most 2^-24 ||X_j|| ||q||, and storing the
# product in float32 adds 2^-24 |X_j.q| <= 2^-24 ||X_j|| ||q||; the float64 sums' own error is covered by 4 n eps
_F32_REL = 2.0 * 6.0e-8 * (1.0 + 1e-3)
_EPS = 2.3e-16


@njit(cache=True)
def new_basis(p, n, k_max):
    """Empty residual basis for ``span_xt_dot``: (Q (k_max, n) rows orthonormal, B (k_max, p) float32 with
    B[k, j] = X_j.q_k up to the rounding margin, count (1,) of rows in use)."""
    return np.zeros((k_max, n)), np.zeros((k_max, p), dtype=np.float32), np.zeros(1, dtype=np.int64)


@njit(cache=True)
def add_basis_vector(Q, B, kq, u, cu):
    """Append u / ||u|| (u already orthogonal to Q's rows, as far as rounding allows) with its known products
    cu = X^T u (float64, exact up to 4 n eps ||X_j|| ||u||); a full basis or u = 0 adds nothing."""
    k = kq[0]
    if k >= Q.shape[0]:
        return
    un = np.sqrt(np.sum(u * u))
    if un == 0.0:
        return
    for i in range(u.shape[0]):
        Q[k, i] = u[i] / un
    for j in range(B.shape[1]):
        B[k, j] = cu[j] / un
    kq[0] = k + 1


@njit(cache=True)
def _project(Q, k, v, a, r):
    """a = Q[:k] v, r = v - Q[:k]^T a (twice, for orthogonality under rounding); returns (||r||, ||v||, sum |a|)."""
    n = v.shape[0]
    for i in range(n):
        r[i] = v[i]
    for t in range(k):
        a[t] = 0.0
    for _ in range(2):
        for t in range(k):
            d = 0.0
            for i in range(n):
                d += Q[t, i] * r[i]
            a[t] += d
            for i in range(n):
                r[i] -= d * Q[t, i]
    rn = 0.0
    vn = 0.0
    for i in range(n):
        rn += r[i] * r[i]
        vn += v[i] * v[i]
    a1 = 0.0
    for t in range(k):
        a1 += abs(a[t])
    return np.sqrt(rn), np.sqrt(vn), a1


@njit(cache=True, fastmath=True)
def _span_bounds(B, k, a, norms, slack, est, ub):
    """est_j = sum_t a_t B[t, j] (the part of X_j.v in the basis span), ub_j = |est_j| + ||X_j|| slack; row by
    row over B (k_max, p), so that the inner loop runs over contiguous features."""
    p = B.shape[1]
    for j in range(p):
        est[j] = 0.0
    for t in range(k):
        at = a[t]
        for j in range(p):
            est[j] += B[t, j] * at
    for j in range(p):
        ub[j] = abs(est[j]) + norms[j] * slack


@njit(cache=True)
def span_xt_dot(X, X32, v, norms, keep, w, l1, Q, B, kq, est, gapc, refresh_above):
    """X^T v where it can matter, a certified bound elsewhere; returns the exact products done, in units of p.

    Q (k, n) holds orthonormal residual directions with B = Q X known (``add_basis_vector``). With a = Q v
    and r = v - Q^T a, X_j.v = sum_t a_t X_j.q_t + X_j.r, so |X_j.v| <= ub_j = |B_j.a| + ||X_j|| (||r|| +
    margin), the margin covering B's float32 rounding (_F32_REL sum |a_t|) and the projection's. Along a path
    the residuals stay close to the span of earlier ones, so ||r|| is small and the bound is tight where the
    plain Cauchy-Schwarz bound from the last residual fails. Kept features with w_j != 0 (the gap needs
    |X_j.v - l2 w_j| there), or whose bound exceeds l1, get the exact float64 product: est_j = gapc_j = X_j.v;
    the others (w_j = 0, and outside the working set never KKT violators) get est_j = B_j.a (a guess for the
    next strong rule) and gapc_j = ub_j <= l1, which every gap and screening test of this module uses only
    through an upper bound on |X_j.v| where w_j = 0, so they stay certified.
    When more than ``refresh_above`` x p features would need the exact product (a float, not a flag: a literal
    would compile a second signature), r's direction joins the basis (one pass over the float32 copy X32,
    half the memory traffic of X) and the bounds are recomputed; a full basis starts again from v.
    """
    n, p = X.shape
    k_max = Q.shape[0]
    a = np.empty(k_max)
    r = np.empty(n)
    done = 0.0
    for attempt in range(2):
        k = kq[0]
        rn, vn, a1 = _project(Q, k, v, a, r)
        slack = rn * (1.0 + 1e-9) + (4.0 * n + 4.0 * k) * _EPS * (vn + a1) + _F32_REL * a1
        _span_bounds(B, k, a, norms, slack, est, gapc)
        need = 0
        for j in range(p):
            if keep[j] and (w[j] != 0.0 or gapc[j] > l1):
                need += 1
        if attempt == 1 or not need > refresh_above * p or rn == 0.0:
            break
        if k >= k_max:  # full: start again from v alone
            kq[0] = 0
            for i in range(n):
                r[i] = v[i]
        cu = np.empty(p)
        _xt_dot32(X32, r, cu)
        add_basis_vector(Q, B, kq, r, cu)
        done += 1.0
    # second level: a float32 product (half the memory of a float64 column) settles most failing bounds
    marg32 = (0.5 * _F32_REL + 4.0 * n * _EPS) * vn
    n_exact = 0
    for j in range(p):
        if keep[j] and (w[j] != 0.0 or gapc[j] > l1):
            if w[j] == 0.0:
                e32 = _col_dot32(X32, j, v)
                b = abs(e32) + norms[j] * marg32
                if b <= l1:
                    est[j] = e32
                    gapc[j] = b
                    continue
            est[j] = _col_dot(X, j, v)
            gapc[j] = est[j]
            n_exact += 1
    return done + n_exact / p


@njit(cache=True)
def _copy_row(v, M, i):
    """M[i, :] = v by a loop: the array assignment's shape check brings in Numba's formatted-error machinery
    (~2 s of the elastic net's cold compile)."""
    for k in range(v.shape[0]):
        M[i, k] = v[k]


@njit(cache=True)
def enet_cd(X, X32, y, norms2, w, R, c, l1, l1_prev, l2, tol_gap, max_iter, screening, Q, B, kq, theta, theta_ub):
    """Minimize P(w) from the warm start w (p,), R = y - X w (n,); both updated in place.

    c (p,) holds (an estimate of) X^T R at the previous penalty l1_prev (strong rule) and on return X^T R at
    the solution where it was computed, its estimate from the residual basis elsewhere (``span_xt_dot``);
    (Q, B, kq) is that basis (``new_basis``; it grows in place and can be shared by every problem on the same
    X), X32 the float32 copy of X for its passes. tol_gap is the absolute gap
    tolerance (tol ||y||^2). theta (n,) and theta_ub (p,), bounds on |X^T theta|, are the lasso's dual anchor
    (zeros at the top of a path; updated in place, so that the path's next penalty starts from it; unused when
    l2 > 0). Returns (gap, number of coordinate sweeps, KKT passes in units of full X^T R products).
    """
    p = X.shape[1]
    norms = np.sqrt(norms2)
    gapc = np.empty(p)  # X^T R where computed, an upper bound on |X^T R| elsewhere
    keep = np.empty(p, dtype=np.bool_)     # not (yet) certified zero
    in_ws = np.zeros(p, dtype=np.bool_)    # in the working set
    ws = np.empty(p, dtype=np.int64)
    act = np.empty(p, dtype=np.int64)
    thr = 2.0 * l1 - l1_prev
    nws = _strong_rule_set(norms2, w, c, thr, keep, in_ws, ws)
    hist = np.empty((_K_ANDERSON + 1, p))
    R_tmp = np.empty(R.shape[0])
    rbuf = np.empty((_K_DUAL + 1, R.shape[0]))
    n_rec = 0
    n_sweeps = 0
    n_full = 0.0
    # a full check (two X^T v products and the gaps) costs several working-set sweeps, so sweep
    # well past the point where the gap might first pass before paying for one; but away from the end of the
    # path the gap passes long before the sweeps settle that far, so a check also comes after `budget` sweeps
    inner_tol = tol_gap * 1e-5
    budget = _BUDGET0
    gap = np.inf
    lasso = l2 == 0.0 and l1 > 0.0
    d_theta = -np.inf
    if lasso:  # the anchor of an earlier penalty, rescaled into this one's feasible set
        m = 0.0
        for j in range(p):
            m = max(m, theta_ub[j])
        if m > l1:
            theta *= l1 / m
            theta_ub *= l1 / m
        d_theta = 0.0
        for i in range(R.shape[0]):
            d_theta += theta[i] * (y[i] - 0.5 * theta[i])
    while True:
        stop = min(max_iter, n_sweeps + budget)
        # solve on the working set: a full sweep, then cycle on the nonzeros, until a full sweep is quiet
        while n_sweeps < stop:
            dmax = _sweep(X, norms2, w, R, ws, nws, l1, l2)
            n_sweeps += 1
            _copy_row(R, rbuf, n_rec % (_K_DUAL + 1))
            n_rec += 1
            if dmax <= inner_tol:
                break
            na = _nonzeros(w, ws, nws, act)
            n_hist = 0
            while n_sweeps < stop:
                dmax = _sweep(X, norms2, w, R, act, na, l1, l2)
                n_sweeps += 1
                _copy_row(R, rbuf, n_rec % (_K_DUAL + 1))
                n_rec += 1
                if dmax <= inner_tol:
                    break
                if na > 1:
                    for t in range(na):
                        hist[n_hist, t] = w[act[t]]
                    n_hist += 1
                    if n_hist == _K_ANDERSON + 1:
                        _anderson(X, w, R, act, na, hist[:, :na], l1, l2, R_tmp)
                        n_hist = 0
        # X^T R on every remaining feature: KKT check outside the working set, then the gap
        n_full += span_xt_dot(X, X32, R, norms, keep, w, l1, Q, B, kq, c, gapc, _REFRESH)
        n_viol = 0
        for j in range(p):
            if keep[j]:
                if not in_ws[j] and abs(c[j]) > l1:
                    in_ws[j] = True
                    ws[nws] = j
                    nws += 1
                    n_viol += 1
        if n_viol > 0 and n_sweeps < max_iter:
            continue
        gap, gap_a, dual_norm = _gap(w, R, y, gapc, keep, l1, l2)
        if lasso:
            d_theta = _lasso_dual_step(theta, theta_ub, d_theta, R, gapc, y, keep, l1)
            gap = min(gap, _primal(w, R, keep, l1, l2) - d_theta)
        if gap > tol_gap and n_rec > _K_DUAL:
            v, ok = _extrapolated_residual(rbuf, n_rec)
            if ok:
                cv = np.empty(p)
                cvg = np.empty(p)
                n_full += span_xt_dot(X, X32, v, norms, keep, w, l1, Q, B, kq, cv, cvg, 1.0)
                if lasso:
                    d = d_theta = _lasso_dual_step(theta, theta_ub, d_theta, v, cvg, y, keep, l1)
                else:
                    d = _dual_value(v, cvg, w, y, keep, l1, l2)
                gap = min(gap, _primal(w, R, keep, l1, l2) - d)
        if gap <= tol_gap or n_sweeps >= max_iter:
            break
        if screening and l1 > 0.0 and gap_a >= 0.0:  # a gap below 0 is rounding: no radius to trust
            radius2 = 2.0 * gap_a / (l1 * l1)
            denom = max(l1, dual_norm)
            changed = False
            for j in range(p):
                if not keep[j]:
                    continue
                room = 1.0 - abs(gapc[j] - l2 * w[j]) / denom
                if room > 0.0 and room * room > radius2 * (norms2[j] + l2):  # room / sqrt(...) > radius
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
        if n_sweeps < stop:  # the working set settled to inner_tol without meeting the gap: solve it tighter
            inner_tol *= 0.1
        else:
            budget *= 2
    return gap, n_sweeps, n_full
