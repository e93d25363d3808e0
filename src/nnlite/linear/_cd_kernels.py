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
- stopping rule: duality gap G <= tol ||y||^2 (scikit-learn's rule), G being the smallest of three
  valid gaps P(w) - D(v): scikit-learn's (Fercoq, Gramfort & Salmon 2015, "formulation A", the l2
  part folded into X, v = scaled residual); formulation B (Duenner et al. 2016) at the best multiple
  of the residual, far tighter when the l2 part matters; and the better of the two at the Anderson
  extrapolation of the last residuals (dual extrapolation, Massias, Gramfort & Salmon 2018, "Celer");
- bounded KKT passes (``bounded_xt_dot``): |X_j.R| <= |X_j.R_ref| + ||X_j|| ||R - R_ref|| from the residual
  R_ref of the last full X^T R pass, so outside the working set only features whose bound exceeds l1 get the
  exact product; the others cannot violate the KKT conditions, and the gaps and the screening test use their
  bound (<= l1) in place of |X_j.R|, which only loosens them (every use is monotone in |X_j.R|), so the
  certificate stays valid. A pass where more than a quarter of the bounds fail is a full pass and the new
  reference. The dual-extrapolation candidate's X^T v is bounded the same way;
- full passes over a float32 copy of X (half the memory traffic), their rounding (<= (2^-24 + 4 n eps)
  ||X_j|| ||v||) added to every bound built on them, and the exact float64 product wherever the float32 value
  plus that margin could exceed l1;
- gap safe screening (Ndiaye et al. 2017, JMLR 18, eq. 11), as scikit-learn 1.9 does: with the gap
  in hand, feature j is certified zero at the optimum when
  (1 - |X_j.theta|) / sqrt(||X_j||^2 + l2) > sqrt(2 G) / l1, and is then dropped for this penalty
  (the gap is then that of the reduced problem, which has the same optimum).
"""
import numpy as np
from numba import njit

_K_ANDERSON = 5  # extrapolate from the last 5 steps (Bertrand & Massias use 5)


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
def _best_scaled_dual_b(R2, Ry, c, keep, l1, l2):
    """max over s >= 0 of D_B(s R) = -s^2 ||R||^2 / 2 + s R.y - sum_j (s |X_j.R| - l1)_+^2 / (2 l2).

    D_B(s R) is concave in s, so bisection on its derivative finds the best multiple of the residual
    (for small l2 the unscaled residual pays heavily for every |X_j.R| > l1). The derivative is
    <= R.y - s ||R||^2, so the maximizer lies in [0, R.y / ||R||^2].
    """
    hi = Ry / R2
    m = 0
    cand = np.empty(c.shape[0])
    for j in range(c.shape[0]):
        if keep[j] and hi * abs(c[j]) > l1:
            cand[m] = abs(c[j])
            m += 1
    lo = 0.0
    for _ in range(60):
        s = 0.5 * (lo + hi)
        d = Ry - s * R2
        for t in range(m):
            e = s * cand[t] - l1
            if e > 0.0:
                d -= cand[t] * e / l2
        if d > 0.0:
            lo = s
        else:
            hi = s
    s = lo
    val = -0.5 * s * s * R2 + s * Ry
    for t in range(m):
        e = s * cand[t] - l1
        if e > 0.0:
            val -= e * e / (2.0 * l2)
    return val


@njit(cache=True)
def _gap(w, R, y, c, keep, l1, l2):
    """Duality gaps over the kept features; returns (gap used to stop, gap A, ||X^T R - l2 w||_inf).

    Gap A is scikit-learn's (dual point R scaled into ||X^T v - l2 w||_inf <= l1); it also drives
    the safe screening. With l2 > 0 the dual of Duenner et al. (2016, formulation B),
    D_B(v) = -||v||^2 / 2 + y.v - sum_j (|X_j.v| - l1)_+^2 / (2 l2), is feasible for every v, so
    G_B = P(w) - max_s D_B(s R) is an equally valid bound on P(w) - P(w*); the smaller of the two
    decides convergence (B is much tighter when the l2 part dominates).
    """
    R2 = 0.0
    Ry = 0.0
    for i in range(R.shape[0]):
        R2 += R[i] * R[i]
        Ry += R[i] * y[i]
    w2 = 0.0
    w1 = 0.0
    dual_norm = 0.0
    smooth = 0.0
    for j in range(w.shape[0]):
        if not keep[j]:
            continue
        w2 += w[j] * w[j]
        w1 += abs(w[j])
        a = abs(c[j] - l2 * w[j])
        if a > dual_norm:
            dual_norm = a
        e = abs(c[j]) - l1
        if e > 0.0:
            smooth += e * e
    primal = 0.5 * (R2 + l2 * w2) + l1 * w1
    if l2 > 0.0 and l1 > 0.0 and smooth > 0.0 and R2 > 0.0 and Ry > 0.0:
        gap_b = primal - _best_scaled_dual_b(R2, Ry, c, keep, l1, l2)
    elif l2 > 0.0:
        gap_b = primal - (-0.5 * R2 + Ry - smooth / (2.0 * l2))
    elif l1 == 0.0:
        return smooth, smooth, dual_norm  # least squares: first-order condition ||X^T R||^2
    else:
        gap_b = np.inf
    if l1 == 0.0:
        return gap_b, gap_b, dual_norm
    scale = l1 / dual_norm if dual_norm > l1 else 1.0
    dual = -0.5 * scale * scale * (R2 + l2 * w2) + scale * Ry
    gap_a = primal - dual
    return min(gap_a, gap_b), gap_a, dual_norm


@njit(cache=True)
def _primal(w, R, keep, l1, l2):
    """P(w) = ||R||^2 / 2 + l1 ||w||_1 + l2 ||w||^2 / 2 over the kept features."""
    val = 0.0
    for i in range(R.shape[0]):
        val += 0.5 * R[i] * R[i]
    for j in range(w.shape[0]):
        if keep[j]:
            val += l1 * abs(w[j]) + 0.5 * l2 * w[j] * w[j]
    return val


@njit(cache=True)
def _dual_value(v, cv, w, y, keep, l1, l2):
    """Best dual objective from the candidate residual v (n,) with cv = X^T v (p,): the larger of
    formulation A at the feasible multiple of (v, -sqrt(l2) w) and max_s D_B(s v)."""
    vv = 0.0
    vy = 0.0
    for i in range(v.shape[0]):
        vv += v[i] * v[i]
        vy += v[i] * y[i]
    w2 = 0.0
    dual_norm = 0.0
    smooth = 0.0
    for j in range(w.shape[0]):
        if not keep[j]:
            continue
        w2 += w[j] * w[j]
        a = abs(cv[j] - l2 * w[j])
        if a > dual_norm:
            dual_norm = a
        e = abs(cv[j]) - l1
        if e > 0.0:
            smooth += e * e
    best = -np.inf
    if l1 > 0.0:
        scale = l1 / dual_norm if dual_norm > l1 else 1.0
        best = -0.5 * scale * scale * (vv + l2 * w2) + scale * vy
    if l2 > 0.0 and vv > 0.0 and vy > 0.0:
        if l1 > 0.0 and smooth > 0.0:
            best = max(best, _best_scaled_dual_b(vv, vy, cv, keep, l1, l2))
        else:
            best = max(best, -0.5 * vv + vy - smooth / (2.0 * l2))
    return best


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


@njit(cache=True, fastmath=True)
def _dist_norms(v, R_ref):
    """(||v - R_ref||, ||v||, ||R_ref||)."""
    d2 = 0.0
    v2 = 0.0
    r2 = 0.0
    for i in range(v.shape[0]):
        d = v[i] - R_ref[i]
        d2 += d * d
        v2 += v[i] * v[i]
        r2 += R_ref[i] * R_ref[i]
    return np.sqrt(d2), np.sqrt(v2), np.sqrt(r2)


# |fl32(x) - x| <= 2^-24 |x|, so a float32 copy of X_j moves X_j.v by at most 2^-24 ||X_j|| ||v||; with the float64
# sums' own error (<= n eps ||X_j|| ||v||, covered by 4 n eps below) this bounds the error of a float32 pass
_F32_REL = 6.0e-8 * (1.0 + 1e-3)


@njit(cache=True)
def bounded_xt_dot(X, X32, v, norms, keep, in_ws, l1, c_ref, R_ref, est, gapc, refresh_above):
    """X^T v where it can matter, a certified bound elsewhere; returns the number of exact products.

    c_ref = X^T R_ref up to the rounding of a float32 pass (|error_j| <= _F32_REL ||X_j|| ||R_ref||). For feature
    j, |X_j.v| <= ub_j = |c_ref_j| + ||X_j|| (||v - R_ref|| + rounding margin) (Cauchy-Schwarz). Kept features in
    the working set, or whose bound exceeds l1, get the exact float64 product: est_j = gapc_j = X_j.v; the others
    (never KKT violators, and w_j = 0 there) get est_j = c_ref_j (a guess for the next strong rule) and
    gapc_j = ub_j <= l1, which every gap and screening test of this module uses only through an upper bound on
    |X_j.v|, so they stay certified.
    When more than ``refresh_above`` x p features would need the exact product anyway (a float, not a flag: a
    literal would compile a second signature), a full pass
    over the float32 copy X32 (half the memory traffic) computes every product; features whose float32 value
    plus its rounding margin could exceed l1 (and the working set) get the exact float64 product, the others the
    margin as above; the pass becomes the new reference (c_ref, R_ref).
    """
    n, p = X.shape
    dist, vnorm, rnorm = _dist_norms(v, R_ref)
    eps_n = 4.0 * n * 2.3e-16
    slack = dist * (1.0 + 1e-9) + eps_n * (vnorm + rnorm) + _F32_REL * rnorm
    need = 0
    for j in range(p):
        if keep[j] and (in_ws[j] or abs(c_ref[j]) + norms[j] * slack > l1):
            need += 1
    if need > refresh_above * p:
        _xt_dot32(X32, v, est)
        marg = (eps_n + _F32_REL) * vnorm
        for j in range(p):
            b = abs(est[j]) + norms[j] * marg
            if keep[j] and (in_ws[j] or b > l1):
                est[j] = _col_dot(X, j, v)
                gapc[j] = est[j]
            else:
                gapc[j] = b
            c_ref[j] = est[j]
        for i in range(n):
            R_ref[i] = v[i]
        return p
    for j in range(p):
        b = abs(c_ref[j]) + norms[j] * slack
        if keep[j] and (in_ws[j] or b > l1):
            est[j] = _col_dot(X, j, v)
            gapc[j] = est[j]
        else:
            est[j] = c_ref[j]
            gapc[j] = b
    return need


@njit(cache=True)
def enet_cd(X, X32, y, norms2, w, R, c, l1, l1_prev, l2, tol_gap, max_iter, screening, c_ref, R_ref):
    """Minimize P(w) from the warm start w (p,), R = y - X w (n,); both updated in place.

    c (p,) holds (an estimate of) X^T R at the previous penalty l1_prev (strong rule) and on return X^T R at
    the solution where it was computed, c_ref elsewhere (``bounded_xt_dot``); c_ref (p,) = X^T R_ref (up to a
    float32 pass's rounding), X32 the float32 copy of X for the full passes,
    R_ref (n,) the residual of the last full pass (both refreshed in place). tol_gap is the absolute gap
    tolerance (tol ||y||^2). Returns (gap, number of coordinate sweeps, KKT passes in units of full X^T R
    products).
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
    rbuf = np.empty((_K_ANDERSON + 1, R.shape[0]))
    n_rec = 0
    n_sweeps = 0
    n_full = 0.0
    # a full check (two X^T v products and the gaps) costs several working-set sweeps, so sweep
    # well past the point where the gap might first pass before paying for one
    inner_tol = tol_gap * 1e-5
    gap = np.inf
    while True:
        # solve on the working set: a full sweep, then cycle on the nonzeros, until a full sweep is quiet
        while n_sweeps < max_iter:
            dmax = _sweep(X, norms2, w, R, ws, nws, l1, l2)
            n_sweeps += 1
            rbuf[n_rec % (_K_ANDERSON + 1)] = R
            n_rec += 1
            if dmax <= inner_tol:
                break
            na = _nonzeros(w, ws, nws, act)
            n_hist = 0
            while n_sweeps < max_iter:
                dmax = _sweep(X, norms2, w, R, act, na, l1, l2)
                n_sweeps += 1
                rbuf[n_rec % (_K_ANDERSON + 1)] = R
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
        n_full += bounded_xt_dot(X, X32, R, norms, keep, in_ws, l1, c_ref, R_ref, c, gapc, 0.25) / p
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
        if gap > tol_gap and n_rec > _K_ANDERSON:
            v, ok = _extrapolated_residual(rbuf, n_rec)
            if ok:
                cv = np.empty(p)
                cvg = np.empty(p)
                n_full += bounded_xt_dot(X, X32, v, norms, keep, in_ws, l1, c_ref, R_ref, cv, cvg, 1.0) / p
                d = _dual_value(v, cvg, w, y, keep, l1, l2)
                gap = min(gap, _primal(w, R, keep, l1, l2) - d)
        if gap <= tol_gap or n_sweeps >= max_iter:
            break
        if screening and l1 > 0.0:
            radius = np.sqrt(2.0 * gap_a) / l1
            denom = max(l1, dual_norm)
            changed = False
            for j in range(p):
                if not keep[j]:
                    continue
                xt = abs(gapc[j] - l2 * w[j]) / denom
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
