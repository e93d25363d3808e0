"""Numba kernels of the committee trainer (:mod:`nnlite.committee`): everything of a training step but the first
layer's two matrix products, for every member in one call.

Layout (k members, L Dense layers of widths w_0 = n_in, w_1, ..., w_L = n_out; "flat" = one row per member):

- the first layer's products are NumPy's BLAS, per *run* of members that share their batch (see the module
  docstring of :mod:`nnlite.committee`): ``Z1[off:off + n * w].reshape(n, w)`` holds ``X_batch @ W1[:, run]`` for
  a run whose columns are ``w`` = (members in the run) x w_1 wide; member j's block starts at column ``col[j]``
  of its run. ``D1`` has the same layout and receives dL/dz of the first layer, for ``X_batch.T @ D1``;
- the other layers' weights ``Wr`` (k, P): layer l >= 1 of member j is ``Wr[j, woff[l]:]`` read as a
  (w_{l-1}, w_l) row-major matrix; biases ``B`` (k, sum w_l), layer l at ``boff[l]``; Adam's moments alike;
- the step's targets ``Yp`` (groups, rows, n_out) with the observed mask ``Op`` (uint8; a missing target is
  stored as 0 and masked: no NaN ever reaches a fastmath kernel), rows in the group's epoch order; the dropout
  draws ``U`` (groups, size): layer l's uniforms of epoch row r, unit c at ``U[g, ustart[l] + r * w_l + c]``.

Each member's arithmetic is that of ``Sequential``'s fused step (``nnlite._kernels``: bias + activation +
dropout forward, activation (+ dropout) backward + bias gradient, penalty gradient + Adam step of every
Dense layer right after its own backward pass, dL/dx formed from the weights before their step, the MSE or
masked MSE of ``nnlite.losses`` with float64 accumulation), so a member trains as its lone ``Sequential.fit``
would, up to the association of sums in the matrix products. Helpers are ``inline="always"``: a kernel that
calls another compiled fastmath kernel was seen to round differently when compiled in the process than when
loaded from Numba's cache, and a run must not depend on the state of the cache.
"""
import numpy as np
from numba import njit

from nnlite import _kernels as K
from nnlite import _numba_cache  # noqa: F401  (before the first @njit: where the kernels are cached)

_FAST = dict(cache=True, fastmath=K._FLAGS, error_model="numpy", nogil=True)
_INLINE = dict(fastmath=K._FLAGS, error_model="numpy", inline="always")


@njit(**_INLINE)
def _act(v, kind):
    zero = v - v
    if kind == K.RELU:
        return v if v > zero else zero
    if kind == K.TANH_FAST:
        return K.tanh_fast(v)
    if kind == K.TANH:
        return np.tanh(v)
    return v


@njit(**_INLINE)
def _act_grad(g, y, u, kind, dropped, p, scale, keep, one):
    """dL/dz of one unit from g = dL/dy and the stored output y (the dropped-and-rescaled one with dropout)."""
    zero = one - one
    if dropped:
        if kind == K.RELU:
            return g * scale if y > zero else zero
        if kind == K.TANH or kind == K.TANH_FAST:
            a = y * keep
            return g * scale * (one - a * a) if u >= p else zero
        return g * scale if u >= p else zero
    if kind == K.RELU:
        return g if y > zero else zero
    if kind == K.TANH or kind == K.TANH_FAST:
        return g * (one - y * y)
    return g


@njit(**_INLINE)
def _adam_penalty(W, DW, mW, vW, j, off, rows, cols, l1, l2, lr, b1, b2, eps, c1, c2, one):
    """Penalty gradient + Adam step of the (rows, cols) matrix at W[j, off:] (gradient DW[:rows*cols]) ->
    (sum|W|, sum W^2) before the step: float32 partial sums per row added in float64, as the lone kernel."""
    zero = one - one
    one_b1 = one - b1
    one_b2 = one - b2
    two_l2 = l2 + l2
    s_abs = 0.0
    s_sq = 0.0
    for q in range(rows):
        base = off + q * cols
        wr = W[j, base:base + cols]
        mr = mW[j, base:base + cols]
        vr = vW[j, base:base + cols]
        dr = DW[q * cols:(q + 1) * cols]
        pa = zero
        pq = zero
        for c in range(cols):
            x = wr[c]
            pa += abs(x)
            pq += x * x
            sgn = l1 if x > zero else (-l1 if x < zero else zero)
            g = dr[c] + sgn + two_l2 * x
            mk = b1 * mr[c] + one_b1 * g
            vk = b2 * vr[c] + one_b2 * g * g
            mr[c] = mk
            vr[c] = vk
            wr[c] = x - lr * (mk * c1) / (np.sqrt(vk * c2) + eps)
        s_abs += pa
        s_sq += pq
    return s_abs, s_sq


@njit(**_INLINE)
def _adam_bias(B, DB, mB, vB, j, off, cols, lr, b1, b2, eps, c1, c2, one):
    one_b1 = one - b1
    one_b2 = one - b2
    br = B[j, off:off + cols]
    mr = mB[j, off:off + cols]
    vr = vB[j, off:off + cols]
    for c in range(cols):
        g = DB[c]
        mk = b1 * mr[c] + one_b1 * g
        vk = b2 * vr[c] + one_b2 * g * g
        mr[c] = mk
        vr[c] = vk
        br[c] -= lr * (mk * c1) / (np.sqrt(vk * c2) + eps)


@njit(**_INLINE)
def _forward_rest(Z1, base, w, cc, n, j, Wr, woff, B, boff, kinds, widths, dropped, U, g, ustart, r0, p, scale,
                  A):
    """Member j's forward from its first-layer products (Z1 run layout) to the output: ``A[l, :n * w_{l+1}]``
    read as (n, w_{l+1}) = output of layer l (after activation and, if dropped[l], dropout). The small layers'
    products are BLAS calls (``np.dot`` on contiguous views)."""
    L = widths.shape[0] - 1
    zero = B[j, 0] - B[j, 0]
    h = widths[1]
    b = B[j, boff[0]:boff[0] + h]
    kind = kinds[0]
    a = A[0]
    for i in range(n):
        z = Z1[base + i * w + cc:base + i * w + cc + h]
        if dropped[0]:
            u = U[g, ustart[0] + (r0 + i) * h:ustart[0] + (r0 + i + 1) * h]
            for c in range(h):
                v = _act(z[c] + b[c], kind)
                a[i * h + c] = v * scale[0] if u[c] >= p[0] else zero
        else:
            for c in range(h):
                a[i * h + c] = _act(z[c] + b[c], kind)
    for l in range(1, L):
        win = widths[l]
        wout = widths[l + 1]
        W = Wr[j, woff[l]:woff[l] + win * wout].reshape(win, wout)
        a = A[l]
        np.dot(A[l - 1, :n * win].reshape(n, win), W, a[:n * wout].reshape(n, wout))
        b = B[j, boff[l]:boff[l] + wout]
        kind = kinds[l]
        for i in range(n):
            if dropped[l]:
                u = U[g, ustart[l] + (r0 + i) * wout:ustart[l] + (r0 + i + 1) * wout]
                for c in range(wout):
                    v = _act(a[i * wout + c] + b[c], kind)
                    a[i * wout + c] = v * scale[l] if u[c] >= p[l] else zero
            else:
                for c in range(wout):
                    a[i * wout + c] = _act(a[i * wout + c] + b[c], kind)


@njit(**_FAST)
def train_rest(on, rows, grp, r0, run_off, run_w, col, Z1, D1, Yp, Op, U, ustart, dropped, p, scale, kinds,
               widths, Wr, woff, B, boff, mW, vW, mB, vB, l1, l2, l1_64, l2_64, lr, beta1, beta2, eps, beta1_64,
               beta2_64, t, c1, c2, A, G, GX, DW, DB, loss, pen):
    """One training step of every member j with on[j] (rows[j] rows of its group grp[j], epoch rows r0[j] on),
    except the first layer's weight gradient and update: forward from Z1, loss, backward with each layer's
    penalty + Adam step (first layer: only its bias), dL/dz of the first layer into D1.

    Advances t[j] and sets c1[j] = 1 / (1 - beta1^t), c2[j] (in the weights' dtype) for the first layer's update;
    loss[j] = the batch's (masked) MSE, pen[j] = the penalties of layers 2..L before the step (float64).
    A (L, rows * max width), G, GX (rows * max width), DW (max layer size), DB (max width): flat scratch."""
    k = on.shape[0]
    L = widths.shape[0] - 1
    o = widths[L]
    one = np.ones(1, Wr.dtype)[0]
    zero = one - one
    two = np.empty(1, Wr.dtype)
    for j in range(k):
        if not on[j]:
            continue
        n = rows[j]
        g = grp[j]
        rr = r0[j]
        t[j] += 1
        c1_64 = 1.0 / (1.0 - beta1_64[j] ** np.float64(t[j]))
        c2_64 = 1.0 / (1.0 - beta2_64[j] ** np.float64(t[j]))
        c1[j] = c1_64
        c2[j] = c2_64
        cj1 = c1[j]
        cj2 = c2[j]
        base, w, cc = run_off[j], run_w[j], col[j]
        _forward_rest(Z1, base, w, cc, n, j, Wr, woff, B, boff, kinds, widths, dropped, U, g, ustart, rr, p, scale,
                      A)
        # loss: (masked) MSE over the observed targets, float64 accumulation of the dtype differences
        out = A[L - 1]
        cnt = 0
        s = 0.0
        for i in range(n):
            for c in range(o):
                if Op[g, rr + i, c]:
                    e = out[i * o + c] - Yp[g, rr + i, c]
                    s += np.float64(e) * np.float64(e)
                    cnt += 1
        two[0] = 2.0 / cnt if cnt > 0 else 0.0
        sc = two[0]
        for i in range(n):
            for c in range(o):
                G[i * o + c] = (out[i * o + c] - Yp[g, rr + i, c]) * sc if Op[g, rr + i, c] else zero
        loss[j] = s / cnt if cnt > 0 else 0.0
        total_pen = 0.0
        for l in range(L - 1, 0, -1):
            win = widths[l]
            wout = widths[l + 1]
            off = woff[l]
            keep = one - p[l]
            kind = kinds[l]
            y = A[l]
            for c in range(wout):
                DB[c] = zero
            for i in range(n):
                if dropped[l]:
                    u = U[g, ustart[l] + (rr + i) * wout:ustart[l] + (rr + i + 1) * wout]
                    for c in range(wout):
                        v = _act_grad(G[i * wout + c], y[i * wout + c], u[c], kind, True, p[l], scale[l], keep, one)
                        G[i * wout + c] = v
                        DB[c] += v
                else:
                    for c in range(wout):
                        v = _act_grad(G[i * wout + c], y[i * wout + c], zero, kind, False, p[l], scale[l], keep, one)
                        G[i * wout + c] = v
                        DB[c] += v
            gz = G[:n * wout].reshape(n, wout)
            W = Wr[j, off:off + win * wout].reshape(win, wout)
            np.dot(A[l - 1, :n * win].reshape(n, win).T, gz, DW[:win * wout].reshape(win, wout))
            np.dot(gz, W.T, GX[:n * win].reshape(n, win))   # dL/dx with the weights before their step
            sa, sq = _adam_penalty(Wr, DW, mW, vW, j, off, win, wout, l1[j, l], l2[j, l], lr[j], beta1[j], beta2[j],
                                   eps[j], cj1, cj2, one)
            total_pen += l1_64[j, l] * sa + l2_64[j, l] * sq
            _adam_bias(B, DB, mB, vB, j, boff[l], wout, lr[j], beta1[j], beta2[j], eps[j], cj1, cj2, one)
            G[:n * win] = GX[:n * win]
        h = widths[1]
        keep = one - p[0]
        kind = kinds[0]
        y = A[0]
        for c in range(h):
            DB[c] = zero
        for i in range(n):
            d = D1[base + i * w + cc:base + i * w + cc + h]
            if dropped[0]:
                u = U[g, ustart[0] + (rr + i) * h:ustart[0] + (rr + i + 1) * h]
                for c in range(h):
                    v = _act_grad(G[i * h + c], y[i * h + c], u[c], kind, True, p[0], scale[0], keep, one)
                    d[c] = v
                    DB[c] += v
            else:
                for c in range(h):
                    v = _act_grad(G[i * h + c], y[i * h + c], zero, kind, False, p[0], scale[0], keep, one)
                    d[c] = v
                    DB[c] += v
        _adam_bias(B, DB, mB, vB, j, boff[0], h, lr[j], beta1[j], beta2[j], eps[j], cj1, cj2, one)
        pen[j] = total_pen


@njit(**_FAST)
def adam_first(on, W1, DW1, m1, v1, dw_off, run_w, col, l1, l2, l1_64, l2_64, lr, beta1, beta2, eps, c1, c2,
               loss, pen, rows, totals):
    """Penalty gradient + Adam step of every stepping member's first-layer weights, member j's being the columns
    j*h .. (j+1)*h of W1 (n_in, k*h) (moments m1, v1 alike), its gradient in the run layout of DW1 (from
    ``X_batch.T @ D1``: row q of member j at ``dw_off[j] + q * run_w[j] + col[j]``). Then the step's objective:
    totals[j] += (loss[j] + pen[j] + the first layer's penalty before the step) * rows[j]."""
    k = on.shape[0]
    n_in = W1.shape[0]
    h = W1.shape[1] // k
    one = np.ones(1, W1.dtype)[0]
    zero = one - one
    for j in range(k):
        if not on[j]:
            continue
        b1, b2, lj1, lrj, epsj, cj1, cj2 = beta1[j], beta2[j], l1[j], lr[j], eps[j], c1[j], c2[j]
        one_b1 = one - b1
        one_b2 = one - b2
        two_l2 = l2[j] + l2[j]
        s_abs = 0.0
        s_sq = 0.0
        c0 = j * h
        for q in range(n_in):
            gb = dw_off[j] + q * run_w[j] + col[j]
            dr = DW1[gb:gb + h]
            wr = W1[q, c0:c0 + h]
            mr = m1[q, c0:c0 + h]
            vr = v1[q, c0:c0 + h]
            pa = zero
            pq = zero
            for c in range(h):
                x = wr[c]
                pa += abs(x)
                pq += x * x
                sgn = lj1 if x > zero else (-lj1 if x < zero else zero)
                gr = dr[c] + sgn + two_l2 * x
                mk = b1 * mr[c] + one_b1 * gr
                vk = b2 * vr[c] + one_b2 * gr * gr
                mr[c] = mk
                vr[c] = vk
                wr[c] = x - lrj * (mk * cj1) / (np.sqrt(vk * cj2) + epsj)
            s_abs += pa
            s_sq += pq
        totals[j] += (loss[j] + pen[j] + l1_64[j] * s_abs + l2_64[j] * s_sq) * rows[j]


@njit(**_FAST)
def val_rest(on, rows, grp, run_off, run_w, col, Z1, Yv, Ov, kinds, widths, Wr, woff, B, boff, A, out):
    """Validation MSE of every member j with on[j]: forward (no dropout) from its first-layer products Z1 (run
    layout) over its group's rows[j] validation rows, then the mean of (pred - y)^2 in float64 over the observed
    targets of Yv[grp[j]] (NaN when none is observed); others get NaN."""
    k = on.shape[0]
    L = widths.shape[0] - 1
    o = widths[L]
    dropped = np.zeros(L, np.uint8)
    p = np.zeros(L, Wr.dtype)
    U = np.zeros((1, 1), Wr.dtype)
    ustart = np.zeros(L, np.int64)
    for j in range(k):
        out[j] = np.nan
        if not on[j]:
            continue
        g = grp[j]
        n = rows[j]
        _forward_rest(Z1, run_off[j], run_w[j], col[j], n, j, Wr, woff, B, boff, kinds, widths, dropped, U, 0,
                      ustart, 0, p, p, A)
        out_ = A[L - 1]
        cnt = 0
        s = 0.0
        for i in range(n):
            for c in range(o):
                if Ov[g, i, c]:
                    d = np.float64(out_[i * o + c]) - np.float64(Yv[g, i, c])
                    s += d * d
                    cnt += 1
        if cnt > 0:
            out[j] = s / cnt
