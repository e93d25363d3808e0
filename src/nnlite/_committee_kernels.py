"""Numba kernels of the batched committee trainer (:mod:`nnlite.committee`): one call runs a fused step of
``nnlite._kernels`` for every active member of a stacked committee.

Arrays are stacked along a leading member axis k: activations (k, n, m), biases (k, m), weight matrices
(k, r, c), all C-contiguous, so that member j's slice ``a[j]`` is the C-contiguous array the single-network
kernel takes. Each ``*_k`` kernel loops over the members whose ``active[j]`` is nonzero and runs, on their slices, the
arithmetic of the single-network kernel it names (the same expressions in the same order); a frozen
(early-stopped) member is left untouched. The loops are written out rather than calling the single kernels:
a kernel that calls another compiled fastmath kernel was seen to compute different roundings when compiled
in the process than when loaded from Numba's cache, and a run must not depend on the state of the cache.
Per-member scalars (L1/L2 strengths, Adam's bias corrections) come as (k,) arrays in the arrays' dtype. The
elementwise kernels branch on the activation above their loops, never inside the row loop: with three or
more branches there LLVM vectorizes none of them (measured 10x slower at width 8).

The loss kernels (:func:`mse_grad_k`, :func:`val_mse_k`) treat a non-finite target as missing, which makes one
kernel serve both ``nnlite.losses.MSELoss`` (whose targets are all finite) and ``MaskedMSELoss``. They are
compiled without fastmath: fastmath assumes no NaN, and a missing target is a NaN.
"""
import numpy as np
from numba import njit

from nnlite import _kernels as K
from nnlite import _numba_cache  # noqa: F401  (before the first @njit: where the kernels are cached)

_FAST = dict(cache=True, fastmath=K._FLAGS, error_model="numpy", nogil=True)
_EXACT = dict(cache=True, error_model="numpy", nogil=True)


@njit(**_FAST)
def bias_act_k(z, b, kind, active):
    """``_kernels.bias_act`` for every active member j: z[j, i, c] <- act(z[j, i, c] + b[j, c]).
    z (k, n, m), b (k, m)."""
    k, n, m = z.shape
    zero = np.zeros(1, z.dtype)[0]
    for j in range(k):
        if not active[j]:
            continue
        bj = b[j]
        if kind == K.RELU:
            for i in range(n):
                row = z[j, i]
                for c in range(m):
                    v = row[c] + bj[c]
                    row[c] = v if v > zero else zero
        elif kind == K.TANH_FAST:
            for i in range(n):
                row = z[j, i]
                for c in range(m):
                    row[c] = K.tanh_fast(row[c] + bj[c])
        elif kind == K.TANH:
            for i in range(n):
                row = z[j, i]
                for c in range(m):
                    row[c] = np.tanh(row[c] + bj[c])
        else:
            for i in range(n):
                row = z[j, i]
                for c in range(m):
                    row[c] = row[c] + bj[c]


@njit(**_FAST)
def bias_act_dropout_k(z, b, kind, u, off, p, scale, active):
    """``_kernels.bias_act_dropout`` for every active member: z[j, i] <- act(z[j, i] + b[j]) * [u[j, off[j] + i]
    >= p] * scale. z (k, n, m), b (k, m), u (k, N, m) the members' uniform draws, off (k,) ints: member j's
    rows of this pass start at row off[j] of u[j] (a whole epoch's draws can be made at once)."""
    k, n, m = z.shape
    zero = np.zeros(1, z.dtype)[0]
    for j in range(k):
        if not active[j]:
            continue
        bj = b[j]
        o = off[j]
        if kind == K.RELU:
            for i in range(n):
                row = z[j, i]
                urow = u[j, o + i]
                for c in range(m):
                    v = row[c] + bj[c]
                    v = v if v > zero else zero
                    row[c] = v * scale if urow[c] >= p else zero
        elif kind == K.TANH_FAST:
            for i in range(n):
                row = z[j, i]
                urow = u[j, o + i]
                for c in range(m):
                    v = K.tanh_fast(row[c] + bj[c])
                    row[c] = v * scale if urow[c] >= p else zero
        elif kind == K.TANH:
            for i in range(n):
                row = z[j, i]
                urow = u[j, o + i]
                for c in range(m):
                    v = np.tanh(row[c] + bj[c])
                    row[c] = v * scale if urow[c] >= p else zero
        else:
            for i in range(n):
                row = z[j, i]
                urow = u[j, o + i]
                for c in range(m):
                    v = row[c] + bj[c]
                    row[c] = v * scale if urow[c] >= p else zero


@njit(**_FAST)
def act_grad_k(gy, y, kind, gz, db, active):
    """``_kernels.act_grad`` for every active member: gz[j] = gy[j] * act'(y[j]), db[j] = sum_rows gz[j]."""
    k, n, m = gy.shape
    zero = np.zeros(1, gy.dtype)[0]
    one = np.ones(1, gy.dtype)[0]
    for j in range(k):
        if not active[j]:
            continue
        dbj = db[j]
        for c in range(m):
            dbj[c] = zero
        if kind == K.RELU:
            for i in range(n):
                g, yr, out = gy[j, i], y[j, i], gz[j, i]
                for c in range(m):
                    v = g[c] if yr[c] > zero else zero
                    out[c] = v
                    dbj[c] += v
        elif kind == K.TANH or kind == K.TANH_FAST:
            for i in range(n):
                g, yr, out = gy[j, i], y[j, i], gz[j, i]
                for c in range(m):
                    v = g[c] * (one - yr[c] * yr[c])
                    out[c] = v
                    dbj[c] += v
        else:
            for i in range(n):
                g, out = gy[j, i], gz[j, i]
                for c in range(m):
                    v = g[c]
                    out[c] = v
                    dbj[c] += v


@njit(**_FAST)
def act_dropout_grad_k(gy, y, kind, u, off, p, scale, gz, db, active):
    """``_kernels.act_dropout_grad`` for every active member (the backward through member j's dropout mask,
    u[j, off[j] + i] for row i as in :func:`bias_act_dropout_k`)."""
    k, n, m = gy.shape
    zero = np.zeros(1, gy.dtype)[0]
    one = np.ones(1, gy.dtype)[0]
    keep = one - p
    for j in range(k):
        if not active[j]:
            continue
        dbj = db[j]
        o = off[j]
        for c in range(m):
            dbj[c] = zero
        if kind == K.RELU:
            for i in range(n):
                g, yr, out = gy[j, i], y[j, i], gz[j, i]
                for c in range(m):
                    v = g[c] * scale if yr[c] > zero else zero
                    out[c] = v
                    dbj[c] += v
        elif kind == K.TANH or kind == K.TANH_FAST:
            for i in range(n):
                g, yr, ur, out = gy[j, i], y[j, i], u[j, o + i], gz[j, i]
                for c in range(m):
                    a = yr[c] * keep
                    v = g[c] * scale * (one - a * a) if ur[c] >= p else zero
                    out[c] = v
                    dbj[c] += v
        else:
            for i in range(n):
                g, ur, out = gy[j, i], u[j, o + i], gz[j, i]
                for c in range(m):
                    v = g[c] * scale if ur[c] >= p else zero
                    out[c] = v
                    dbj[c] += v


@njit(**_FAST)
def adam_layer_k(w, dw, mw, vw, b, db, mb, vb, l1, l2, l1_64, l2_64, active, lr, beta1, beta2, eps, c1, c2, pen):
    """One Dense layer's Adam step of every active member j: ``_kernels.adam_penalty_update`` (penalty
    gradient + Adam step, no mask) of its weights w[j] (k, r, c), then ``_kernels.adam_update`` of its bias
    b[j] (k, c), with its own l1[j], l2[j], lr[j], beta1[j], beta2[j], eps[j] and bias corrections
    c1[j] = 1 / (1 - beta1^t_j), c2[j] = 1 / (1 - beta2^t_j) (all (k,) in w's dtype):

        g = dw + l1 sign(w) + 2 l2 w;  m <- beta1 m + (1 - beta1) g;  v <- beta2 v + (1 - beta2) g^2
        w <- w - lr (m c1) / (sqrt(v c2) + eps)                        (and the same for b with g = db)

    dw and db are only read (the single kernel writes g back into dw; nothing here reads it after the step).
    Adds member j's penalty before the step, l1_64[j] sum|w| + l2_64[j] sum w^2 (float64 (k,) strengths and
    sums; float32 partial sums per row added in float64, as the single kernel), to pen[j] (float64 (k,)).
    Inactive members are untouched."""
    k, r, cols = w.shape
    nb = b.shape[1]
    one = np.ones(1, w.dtype)[0]
    zero = one - one
    for j in range(k):
        if not active[j]:
            continue
        b1, b2, lj1, lrj, epsj, cj1, cj2 = beta1[j], beta2[j], l1[j], lr[j], eps[j], c1[j], c2[j]
        one_b1 = one - b1
        one_b2 = one - b2
        two_l2 = l2[j] + l2[j]
        sa = 0.0
        sq = 0.0
        for i in range(r):
            wr, dr, mr, vr = w[j, i], dw[j, i], mw[j, i], vw[j, i]
            pa = zero
            pq = zero
            for c in range(cols):
                x = wr[c]
                pa += abs(x)
                pq += x * x
                sgn = lj1 if x > zero else (-lj1 if x < zero else zero)
                g = dr[c] + sgn + two_l2 * x
                mk = b1 * mr[c] + one_b1 * g
                vk = b2 * vr[c] + one_b2 * g * g
                mr[c] = mk
                vr[c] = vk
                wr[c] = x - lrj * (mk * cj1) / (np.sqrt(vk * cj2) + epsj)
            sa += pa
            sq += pq
        pen[j] += l1_64[j] * sa + l2_64[j] * sq
        for c in range(nb):
            gk = db[j, c]
            mk = b1 * mb[j, c] + one_b1 * gk
            vk = b2 * vb[j, c] + one_b2 * gk * gk
            mb[j, c] = mk
            vb[j, c] = vk
            b[j, c] -= lrj * (mk * cj1) / (np.sqrt(vk * cj2) + epsj)


@njit(**_EXACT)
def mse_grad_k(pred, y, rows, active, grad, loss):
    """Per member j, over its first rows[j] rows and the finite entries of y[j] (the observed set O_j):

        loss[j] = sum_O (pred - y)^2 / |O_j|     (float64 accumulation of the dtype differences)
        grad[j] = 2 (pred - y) / |O_j| on O_j, 0 elsewhere (padding rows, missing targets, inactive members)

    pred, y, grad (k, n, o) of one float dtype; rows (k,) ints; loss (k,) float64. This is ``MSELoss`` when every
    target is finite (|O_j| = rows[j] * o) and ``MaskedMSELoss`` otherwise (|O_j| = 0: loss 0, zero gradient).
    """
    k, n, o = pred.shape
    two = np.empty(1, grad.dtype)
    for j in range(k):
        cnt = 0
        s = 0.0
        r = rows[j] if active[j] else 0
        for i in range(r):
            for c in range(o):
                t = y[j, i, c]
                if np.isfinite(t):
                    d = pred[j, i, c] - t
                    s += np.float64(d) * np.float64(d)
                    cnt += 1
        two[0] = 2.0 / cnt if cnt > 0 else 0.0
        scale = two[0]
        for i in range(n):
            for c in range(o):
                t = y[j, i, c]
                if i < r and np.isfinite(t):
                    grad[j, i, c] = (pred[j, i, c] - t) * scale
                else:
                    grad[j, i, c] = 0.0
        loss[j] = s / cnt if cnt > 0 else 0.0


@njit(**_EXACT)
def val_mse_k(pred, y, rows, active, out):
    """out[j] = mean of (pred - y)^2 in float64 over member j's first rows[j] rows and the finite entries of
    y[j] (``Sequential``'s validation MSE, or ``observed_mse`` with missing targets); NaN when none is
    observed; inactive members get NaN. pred, y (k, n, o); rows (k,); out (k,) float64."""
    k, n, o = pred.shape
    for j in range(k):
        if not active[j]:
            out[j] = np.nan
            continue
        cnt = 0
        s = 0.0
        for i in range(rows[j]):
            for c in range(o):
                t = y[j, i, c]
                if np.isfinite(t):
                    d = np.float64(pred[j, i, c]) - np.float64(t)
                    s += d * d
                    cnt += 1
        out[j] = s / cnt if cnt > 0 else np.nan
