"""Numba kernels: dual coordinate descent for the L1-loss (epsilon-insensitive) linear SVR.

Dual problem solved (Ho & Lin 2012, "Large-scale linear support vector regression", JMLR 13,
eq. (13) with lambda = 0, U = C; liblinear's ``solve_l2r_l1l2_svr``)::

    min_beta  0.5 beta^T Q beta - y^T beta + eps ||beta||_1     s.t.  -C <= beta_i <= C,
    Q = Xa Xa^T,   Xa = [X, B 1]   (B = intercept_scaling: the intercept is a regularized feature)

and w = Xa^T beta. Algorithm 4 of the paper: one pass visits the active coordinates in a random
order and takes the exact one-variable Newton step with clipping; coordinates whose projected
gradient sits far inside the optimality region (by more than the previous pass's largest
violation) are shrunk; stop when the summed violation falls below tol times the first pass's, then
re-check every coordinate once with shrinking undone.

Two variants of the same iteration: ``svr_dual_cd_gram`` keeps Q (n x n) and the vector Q beta,
so a pass costs O(n^2) whatever the number of features (the right choice when n is at most a few
thousand, e.g. for RFE on expression data); ``svr_dual_cd_primal`` keeps w and costs O(n p) per pass.
"""
import numpy as np
from numba import njit

_SHRINK = -1.0  # marker returned by _violation: shrink this coordinate


@njit(cache=True)
def _xorshift(state):
    """One step of Marsaglia's xorshift64; returns (new_state, value)."""
    state ^= (state << np.uint64(13)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    state ^= state >> np.uint64(7)
    state ^= (state << np.uint64(17)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    return state, state


@njit(cache=True)
def _seed_state(seed):
    """The xorshift64 state for ``seed``: one LCG step scrambles small seeds; xorshift needs a non-zero state."""
    state = np.uint64(seed) * np.uint64(6364136223846793005) + np.uint64(1442695040888963407)
    if state == 0:
        state = np.uint64(88172645463325252)
    return state


@njit(cache=True)
def _shuffle(index, m, state):
    """Fisher-Yates shuffle of index[:m] in place; returns the new RNG state."""
    for s in range(m - 1):
        state, r = _xorshift(state)
        t = s + np.int64(r % np.uint64(m - s))
        tmp = index[s]
        index[s] = index[t]
        index[t] = tmp
    return state


@njit(cache=True)
def _violation(b, Gp, Gn, C, gmax_old):
    """Projected-gradient violation of coordinate beta_i = b (liblinear), or _SHRINK."""
    if b == 0.0:
        if Gp < 0.0:
            return -Gp
        if Gn > 0.0:
            return Gn
        if Gp > gmax_old and Gn < -gmax_old:
            return _SHRINK
        return 0.0
    if b >= C:
        if Gp > 0.0:
            return Gp
        if Gp < -gmax_old:
            return _SHRINK
        return 0.0
    if b <= -C:
        if Gn < 0.0:
            return -Gn
        if Gn > gmax_old:
            return _SHRINK
        return 0.0
    if b > 0.0:
        return abs(Gp)
    return abs(Gn)


@njit(cache=True)
def _newton_step(b, Gp, Gn, H, C):
    """Exact minimizer of the one-variable dual (|.| term included) clipped to [-C, C]; returns new b."""
    if Gp < H * b:
        d = -Gp / H if H > 0.0 else np.inf
    elif Gn > H * b:
        d = -Gn / H if H > 0.0 else -np.inf
    else:
        d = -b
    if abs(d) < 1e-12:
        return b
    return min(max(b + d, -C), C)


@njit(cache=True)
def svr_dual_cd_gram(Q, y, beta, eps, C, tol, max_iter, seed, gnorm_ref):
    """Dual CD on Q = Xa Xa^T (n, n); beta (n,) is the warm start, updated in place.

    gnorm_ref > 0 fixes the reference for the relative stopping rule (used for warm starts);
    otherwise the first pass's summed violation is used, as liblinear does.
    Returns (pass count, the reference summed violation used).
    """
    n = y.shape[0]
    Qb = Q @ beta
    QD = np.empty(n)
    for i in range(n):
        QD[i] = Q[i, i]
    index = np.arange(n)
    active = n
    gmax_old = np.inf
    gnorm_init = gnorm_ref
    state = _seed_state(seed)
    it = 0
    while it < max_iter:
        gmax_new = 0.0
        gnorm_new = 0.0
        state = _shuffle(index, active, state)
        s = 0
        while s < active:
            i = index[s]
            G = Qb[i] - y[i]
            Gp = G + eps
            Gn = G - eps
            b = beta[i]
            viol = _violation(b, Gp, Gn, C, gmax_old)
            if viol == _SHRINK:
                active -= 1
                index[s] = index[active]
                index[active] = i
                continue
            gmax_new = max(gmax_new, viol)
            gnorm_new += viol
            nb = _newton_step(b, Gp, Gn, QD[i], C)
            d = nb - b
            if d != 0.0:
                beta[i] = nb
                Qi = Q[i]
                for k in range(n):
                    Qb[k] += d * Qi[k]
            s += 1
        if it == 0 and gnorm_ref <= 0.0:
            gnorm_init = gnorm_new
        it += 1
        if gnorm_new <= tol * gnorm_init:
            if active == n:
                break
            active = n
            gmax_old = np.inf
            continue
        gmax_old = gmax_new
    return it, gnorm_init


@njit(cache=True)
def svr_dual_cd_primal(X, y, beta, w, bias, eps, C, tol, max_iter, seed, gnorm_ref):
    """Dual CD keeping w = X^T beta (p,) and the bias weight; X (n, p) C-ordered.

    beta (n,) and w (p,) are the warm start (consistent with each other), updated in place;
    bias = B (intercept_scaling) or 0 for no intercept.
    Returns (pass count, reference summed violation, bias weight).
    """
    n, p = X.shape
    wb = 0.0
    for i in range(n):
        wb += beta[i] * bias
    QD = np.empty(n)
    for i in range(n):
        acc = bias * bias
        for k in range(p):
            acc += X[i, k] * X[i, k]
        QD[i] = acc
    index = np.arange(n)
    active = n
    gmax_old = np.inf
    gnorm_init = gnorm_ref
    state = _seed_state(seed)
    it = 0
    while it < max_iter:
        gmax_new = 0.0
        gnorm_new = 0.0
        state = _shuffle(index, active, state)
        s = 0
        while s < active:
            i = index[s]
            xi = X[i]
            G = wb * bias - y[i]
            for k in range(p):
                G += w[k] * xi[k]
            Gp = G + eps
            Gn = G - eps
            b = beta[i]
            viol = _violation(b, Gp, Gn, C, gmax_old)
            if viol == _SHRINK:
                active -= 1
                index[s] = index[active]
                index[active] = i
                continue
            gmax_new = max(gmax_new, viol)
            gnorm_new += viol
            nb = _newton_step(b, Gp, Gn, QD[i], C)
            d = nb - b
            if d != 0.0:
                beta[i] = nb
                for k in range(p):
                    w[k] += d * xi[k]
                wb += d * bias
            s += 1
        if it == 0 and gnorm_ref <= 0.0:
            gnorm_init = gnorm_new
        it += 1
        if gnorm_new <= tol * gnorm_init:
            if active == n:
                break
            active = n
            gmax_old = np.inf
            continue
        gmax_old = gmax_new
    return it, gnorm_init, wb
