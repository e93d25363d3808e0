"""Numba kernels: the duality gaps that certify the elastic net's coordinate descent (``_cd_kernels``).

P(w) = 0.5 ||R||^2 + l1 ||w||_1 + 0.5 l2 ||w||^2 with R = y - X w (the n-scaled problem). Two valid duals:
formulation A (Fercoq, Gramfort & Salmon 2015; scikit-learn's, the l2 part folded into X, the dual point the
residual scaled into feasibility) and formulation B (Duenner et al. 2016),
D_B(v) = -||v||^2 / 2 + y.v - sum_j (|X_j.v| - l1)_+^2 / (2 l2), feasible for every v. The products X_j.v enter
only through upper bounds on |X_j.v| where w_j = 0 (which is what lets the solver pass bounds in place of
products), and exactly where w_j != 0.
"""
import numpy as np
from numba import njit


@njit(cache=True)
def _best_scaled_dual_b(R2, Ry, c, keep, l1, l2):
    """max over 0 <= s <= 1 of D_B(s R) = -s^2 ||R||^2 / 2 + s R.y - sum_j (s |X_j.R| - l1)_+^2 / (2 l2).

    D_B(s R) is concave in s, so bisection on its derivative finds the best multiple of the residual
    (for small l2 the unscaled residual pays heavily for every |X_j.R| > l1). The derivative is
    <= R.y - s ||R||^2, so the maximizer lies in [0, R.y / ||R||^2]; the search stops at s = 1 (at the
    optimum the dual solution is the residual itself, s = 1), so that only features with |X_j.R| > l1 enter
    the sum: every s gives a valid dual point, and above 1 the bounded features (|c_j| <= l1 but not exact)
    would all become candidates of a 60-step bisection.
    """
    hi = min(Ry / R2, 1.0)
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
def _norm2_and_dot(v, y):
    """(||v||^2, v.y) of two (n,) vectors."""
    vv = 0.0
    vy = 0.0
    for i in range(v.shape[0]):
        vv += v[i] * v[i]
        vy += v[i] * y[i]
    return vv, vy


@njit(cache=True)
def _kept_sums(w, c, keep, l1, l2):
    """Over the kept features, with c = X^T v: (||w||^2, ||w||_1, ||c - l2 w||_inf, sum_j (|c_j| - l1)_+^2),
    the pieces every dual and primal value below is built from."""
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
    return w2, w1, dual_norm, smooth


@njit(cache=True)
def _gap(w, R, y, c, keep, l1, l2):
    """Duality gaps over the kept features; returns (gap used to stop, gap A, ||X^T R - l2 w||_inf).

    Gap A is scikit-learn's (dual point R scaled into ||X^T v - l2 w||_inf <= l1); it also drives
    the safe screening. With l2 > 0 the dual of Duenner et al. (2016, formulation B),
    D_B(v) = -||v||^2 / 2 + y.v - sum_j (|X_j.v| - l1)_+^2 / (2 l2), is feasible for every v, so
    G_B = P(w) - max_s D_B(s R) is an equally valid bound on P(w) - P(w*); the smaller of the two
    decides convergence (B is much tighter when the l2 part dominates).
    """
    R2, Ry = _norm2_and_dot(R, y)
    w2, w1, dual_norm, smooth = _kept_sums(w, c, keep, l1, l2)
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
    vv, vy = _norm2_and_dot(v, y)
    w2, _, dual_norm, smooth = _kept_sums(w, cv, keep, l1, l2)
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
def _lasso_segment(a, ua, v, cv, y, keep, l1):
    """Best lasso dual point on the segment from the feasible a toward v: returns (t, D(a + t (v - a))).

    ua (p,) bounds |X_j.a| (<= l1 on the kept features) and cv (p,) holds X_j.v or a bound on |X_j.v|, so
    |X_j.(a + t (v - a))| <= (1 - t) ua_j + t |cv_j| <= l1 for every t up to
    t_max = min_j (l1 - ua_j) / (|cv_j| - ua_j) over the kept features with |cv_j| > l1; the lasso dual
    D(theta) = y.theta - ||theta||^2 / 2 is a concave quadratic in t, maximized in closed form on [0, t_max].
    With a = 0 this is scikit-learn's rescaled candidate; from a good feasible a (the best dual point so far)
    the step towards a slightly infeasible residual is far longer than the uniform rescaling of v.
    """
    t_max = 1.0
    for j in range(cv.shape[0]):
        if keep[j]:
            e = abs(cv[j])
            if e > l1:
                if ua[j] >= l1:  # a at the boundary (or past it by rounding): no step keeps j feasible
                    t_max = 0.0
                    break
                t_max = min(t_max, (l1 - ua[j]) / (e - ua[j]))
    aa = 0.0
    ad = 0.0
    dd = 0.0
    ya = 0.0
    yd = 0.0
    for i in range(v.shape[0]):
        d = v[i] - a[i]
        aa += a[i] * a[i]
        ad += a[i] * d
        dd += d * d
        ya += y[i] * a[i]
        yd += y[i] * d
    t = 0.0
    if dd > 0.0:
        t = min(max((yd - ad) / dd, 0.0), t_max)
    return t, ya + t * yd - 0.5 * (aa + 2.0 * t * ad + t * t * dd)


@njit(cache=True)
def _lasso_dual_step(a, ua, d_a, v, cv, y, keep, l1):
    """The best lasso dual point among the anchor a (value d_a), the segment from a toward the candidate v and
    v rescaled into feasibility (the segment from 0); moves (a, ua) there in place and returns its value.
    ua stays a bound on |X_j.a| for every feature (the kept ones within l1), cv being X_j.v or a bound."""
    t1, d1 = _lasso_segment(a, ua, v, cv, y, keep, l1)
    zero = np.zeros(a.shape[0])
    t0, d0 = _lasso_segment(zero, np.zeros(ua.shape[0]), v, cv, y, keep, l1)
    if d_a >= max(d0, d1):
        return d_a
    if d1 >= d0:
        for i in range(a.shape[0]):
            a[i] += t1 * (v[i] - a[i])
        for j in range(ua.shape[0]):
            ua[j] = (1.0 - t1) * ua[j] + t1 * abs(cv[j])
        return d1
    for i in range(a.shape[0]):
        a[i] = t0 * v[i]
    for j in range(ua.shape[0]):
        ua[j] = t0 * abs(cv[j])
    return d0
