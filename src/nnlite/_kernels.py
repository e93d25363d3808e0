"""Numba kernels of the network engine's hot paths, each with a readable NumPy reference twin.

The matrix products stay with NumPy's BLAS (``np.dot(..., out=...)``); the kernels below do the elementwise
work around them in one pass over memory and without temporaries:

- ``bias_act``          y = act(z + b), in place                         (Dense forward + activation)
- ``bias_act_dropout``  y = act(z + b) * [u >= p] / (1 - p), in place    (+ inverted dropout)
- ``act_grad``          gz = gy * act'(y) and db = sum_rows(gz)          (activation backward + bias gradient)
- ``act_dropout_grad``  the same through the dropout mask
- ``penalty_grad``      dW += l1 sign(W) + 2 l2 W, then dW *= mask; returns (sum|W|, sum W^2)
- ``adam_update``       one bias-corrected Adam step on a flat parameter (Kingma & Ba 2015, Alg. 1)
- ``adam_penalty_update`` penalty gradient + mask + Adam step of a weight matrix in one pass: ``Sequential``
                        runs it for each layer as soon as backward has produced dW (still in cache)

Activation codes: ``IDENTITY`` = 0, ``RELU`` = 1, ``TANH`` = 2 (libm tanh), ``TANH_FAST`` = 3 (a vectorizable
rational approximation accurate to float32 rounding; the engine uses it for float32 networks).
Derivatives are taken from the activation's *output* y (ReLU: [y > 0]; tanh: 1 - y^2), so the forward pass
keeps a single buffer per layer. With dropout the stored y is the dropped-and-rescaled output; kept units have y = act * s with s = 1/(1-p),
so act = y (1 - p) there, and dropped units get a zero gradient whatever act' is.

Every kernel is ``cache=True``. ``fastmath`` lets LLVM vectorize reductions and the Adam update
(``error_model="numpy"`` drops the division-by-zero checks that otherwise block vectorization); the
results match the NumPy twins to rounding (tests/nnlite/test_kernels.py). Scalars are passed in the arrays'
dtype and constants built with ``np.zeros(1, a.dtype)[0]``: a Python int or float literal would promote float32
arithmetic to float64 and halve (or prevent) the vectorization.
Fastmath assumes finite values: inputs are checked for NaN/inf before they reach the engine.
"""
import numpy as np
from numba import njit

from nnlite import _numba_cache  # noqa: F401  (before the first @njit: where the kernels are cached)

IDENTITY = 0
RELU = 1
TANH = 2
TANH_FAST = 3   # tanh by the rational approximation below: float32 networks use it

# fastmath without "arcp": an approximate reciprocal in the vector lanes but a true division in the scalar
# remainder loop made tanh_fast(x) depend on the element's position in the row (seen on AVX-512 machines).
_FLAGS = {"nnan", "ninf", "nsz", "contract", "afn", "reassoc"}
_FAST = dict(cache=True, fastmath=_FLAGS, error_model="numpy", nogil=True)

# tanh(x) ~ x P(s) / Q(s), s = (x / 9)^2, |x| clipped to 9 (tanh(9) rounds to 1 in float32); degree 4 / 4 in s.
# Coefficients from a weighted least-squares rational fit of tanh on (0, 9] with relative-error weights,
# iterated Sanathanan-Koerner style with Lawson reweighting towards minimax (Q > 0 on [0, 1], no poles).
# Max error in float64 arithmetic 2.1e-8 relative; evaluated in float32 < 4e-7 absolute over all inputs,
# about 3 ulp near +-1 (test_kernels.py). A libm tanhf call per element does not vectorize; this does.
_TC = np.float32(9.0)
_TS = np.float32(1.0 / 81.0)
_P0, _P1, _P2, _P3, _P4 = (np.float32(c) for c in (
    0.999999980032814, 10.838837387106903, 22.936511165362553, 10.955017173033218, 0.5751390694413523))
_Q0, _Q1, _Q2, _Q3, _Q4 = (np.float32(c) for c in (
    1.0, 37.83882321094668, 169.78640592392836, 174.6375968251186, 33.48672097271458))
_ONE32 = np.float32(1.0)


@njit(cache=True, fastmath=_FLAGS, error_model="numpy", inline="always")
def tanh_fast(x):
    """float32 tanh by the rational approximation above, clamped to [-1, 1]."""
    xc = min(max(x, -_TC), _TC)
    s = xc * xc * _TS
    p = (((_P4 * s + _P3) * s + _P2) * s + _P1) * s + _P0
    q = (((_Q4 * s + _Q3) * s + _Q2) * s + _Q1) * s + _Q0
    return min(max(xc * p / q, -_ONE32), _ONE32)


# --------------------------------------------------------------------------------------------- forward
@njit(**_FAST)
def bias_act(z, b, kind):
    """In place: z[i, j] <- act(z[i, j] + b[j]). z (n, m) C-contiguous, b (m,)."""
    n, m = z.shape
    zero = np.zeros(1, z.dtype)[0]   # typed constants: an int literal would promote float32 math to float64
    for i in range(n):
        row = z[i]
        if kind == RELU:
            for j in range(m):
                v = row[j] + b[j]
                row[j] = v if v > zero else zero
        elif kind == TANH_FAST:
            for j in range(m):
                row[j] = tanh_fast(row[j] + b[j])
        elif kind == TANH:
            for j in range(m):
                row[j] = np.tanh(row[j] + b[j])
        else:
            for j in range(m):
                row[j] = row[j] + b[j]


@njit(**_FAST)
def bias_act_dropout(z, b, kind, u, p, scale):
    """In place: z[i, j] <- act(z[i, j] + b[j]) * (u[i, j] >= p) * scale. u (n, m) uniform draws in [0, 1)."""
    n, m = z.shape
    zero = np.zeros(1, z.dtype)[0]
    for i in range(n):
        row = z[i]
        urow = u[i]
        if kind == RELU:
            for j in range(m):
                v = row[j] + b[j]
                v = v if v > zero else zero
                row[j] = v * scale if urow[j] >= p else zero
        elif kind == TANH_FAST:
            for j in range(m):
                v = tanh_fast(row[j] + b[j])
                row[j] = v * scale if urow[j] >= p else zero
        elif kind == TANH:
            for j in range(m):
                v = np.tanh(row[j] + b[j])
                row[j] = v * scale if urow[j] >= p else zero
        else:
            for j in range(m):
                v = row[j] + b[j]
                row[j] = v * scale if urow[j] >= p else zero


# --------------------------------------------------------------------------------------------- backward
@njit(**_FAST)
def act_grad(gy, y, kind, gz, db):
    """gz = gy * act'(y) (all (n, m)); db[j] = sum_i gz[i, j]. act' is read from the output y."""
    n, m = gy.shape
    zero = np.zeros(1, gy.dtype)[0]
    one = np.ones(1, gy.dtype)[0]
    for j in range(m):
        db[j] = zero
    for i in range(n):
        g = gy[i]
        yr = y[i]
        out = gz[i]
        if kind == RELU:
            for j in range(m):
                v = g[j] if yr[j] > zero else zero
                out[j] = v
                db[j] += v
        elif kind == TANH or kind == TANH_FAST:
            for j in range(m):
                v = g[j] * (one - yr[j] * yr[j])
                out[j] = v
                db[j] += v
        else:
            for j in range(m):
                v = g[j]
                out[j] = v
                db[j] += v


@njit(**_FAST)
def act_dropout_grad(gy, y, kind, u, p, scale, gz, db):
    """Backward of ``bias_act_dropout``: gz = gy * [u >= p] * scale * act'(a), a = y (1 - p); db = sum_rows(gz)."""
    n, m = gy.shape
    zero = np.zeros(1, gy.dtype)[0]
    one = np.ones(1, gy.dtype)[0]
    keep = one - p
    for j in range(m):
        db[j] = zero
    # one loop nest per activation, the switch outside the rows: with it inside, LLVM vectorized no branch here
    if kind == RELU:
        for i in range(n):
            g, yr, out = gy[i], y[i], gz[i]
            for j in range(m):
                # y > 0 only where the unit was kept and active (dropped units hold exactly 0)
                v = g[j] * scale if yr[j] > zero else zero
                out[j] = v
                db[j] += v
    elif kind == TANH or kind == TANH_FAST:
        for i in range(n):
            g, yr, ur, out = gy[i], y[i], u[i], gz[i]
            for j in range(m):
                a = yr[j] * keep
                v = g[j] * scale * (one - a * a) if ur[j] >= p else zero
                out[j] = v
                db[j] += v
    else:
        for i in range(n):
            g, ur, out = gy[i], u[i], gz[i]
            for j in range(m):
                v = g[j] * scale if ur[j] >= p else zero
                out[j] = v
                db[j] += v


@njit(**_FAST)
def penalty_grad(w, dw, l1, l2):
    """In place on flat views: dw += l1 sign(w) + 2 l2 w. Returns (sum |w|, sum w^2) accumulated in float64."""
    s_abs = 0.0
    s_sq = 0.0
    two_l2 = l2 + l2
    zero = np.zeros(1, w.dtype)[0]
    for k in range(w.shape[0]):
        x = w[k]
        sgn = l1 if x > zero else (-l1 if x < zero else zero)
        dw[k] += sgn + two_l2 * x
        s_abs += abs(np.float64(x))
        s_sq += np.float64(x) * np.float64(x)
    return s_abs, s_sq


@njit(**_FAST)
def penalty_grad_masked(w, dw, l1, l2, mask):
    """As ``penalty_grad``, then dw *= mask (pruned weights get no gradient). All flat views."""
    s_abs = 0.0
    s_sq = 0.0
    two_l2 = l2 + l2
    zero = np.zeros(1, w.dtype)[0]
    for k in range(w.shape[0]):
        x = w[k]
        sgn = l1 if x > zero else (-l1 if x < zero else zero)
        dw[k] = (dw[k] + sgn + two_l2 * x) * mask[k]
        s_abs += abs(np.float64(x))
        s_sq += np.float64(x) * np.float64(x)
    return s_abs, s_sq


# --------------------------------------------------------------------------------------------- Adam
@njit(**_FAST)
def adam_update(p, g, m, v, lr, beta1, beta2, eps, c1, c2):
    """One Adam step in place on flat views (Kingma & Ba 2015, Algorithm 1), c1 = 1/(1-beta1^t), c2 = 1/(1-beta2^t):

        m <- beta1 m + (1 - beta1) g;  v <- beta2 v + (1 - beta2) g^2
        p <- p - lr * (m c1) / (sqrt(v c2) + eps)

    Pass the scalars in the arrays' dtype so that float32 parameters are updated in float32 SIMD lanes.
    """
    one = np.ones(1, p.dtype)[0]
    one_b1 = one - beta1
    one_b2 = one - beta2
    for k in range(p.shape[0]):
        gk = g[k]
        mk = beta1 * m[k] + one_b1 * gk
        vk = beta2 * v[k] + one_b2 * gk * gk
        m[k] = mk
        v[k] = vk
        p[k] -= lr * (mk * c1) / (np.sqrt(vk * c2) + eps)


@njit(**_FAST)
def adam_penalty_update(w, dw, m, v, l1, l2, mask, use_mask, lr, beta1, beta2, eps, c1, c2):
    """Penalty gradient, mask and Adam step of one weight matrix (all (r, c) C-contiguous) in a single pass:

        dw <- (dw + l1 sign(w) + 2 l2 w) * mask      (written back: dw ends as ``penalty_grad(_masked)`` leaves it)
        Adam step of w with gradient dw (as ``adam_update``), then w <- w * mask
    ``mask`` is ignored unless ``use_mask``. Returns (sum |w|, sum w^2) of w before the step: float32 partial
    sums per row (they vectorize; a float64 accumulator per element halves the SIMD width) added in float64.
    """
    one = np.ones(1, w.dtype)[0]
    zero = one - one
    one_b1 = one - beta1
    one_b2 = one - beta2
    two_l2 = l2 + l2
    s_abs = 0.0
    s_sq = 0.0
    for i in range(w.shape[0]):
        wr, dr, mr, vr = w[i], dw[i], m[i], v[i]
        pa = zero
        pq = zero
        if use_mask:
            kr = mask[i]
            for k in range(wr.shape[0]):
                x = wr[k]
                pa += abs(x)
                pq += x * x
                sgn = l1 if x > zero else (-l1 if x < zero else zero)
                g = (dr[k] + sgn + two_l2 * x) * kr[k]
                dr[k] = g
                mk = beta1 * mr[k] + one_b1 * g
                vk = beta2 * vr[k] + one_b2 * g * g
                mr[k] = mk
                vr[k] = vk
                wr[k] = (x - lr * (mk * c1) / (np.sqrt(vk * c2) + eps)) * kr[k]
        else:
            for k in range(wr.shape[0]):
                x = wr[k]
                pa += abs(x)
                pq += x * x
                sgn = l1 if x > zero else (-l1 if x < zero else zero)
                g = dr[k] + sgn + two_l2 * x
                dr[k] = g
                mk = beta1 * mr[k] + one_b1 * g
                vk = beta2 * vr[k] + one_b2 * g * g
                mr[k] = mk
                vr[k] = vk
                wr[k] = x - lr * (mk * c1) / (np.sqrt(vk * c2) + eps)
        s_abs += pa
        s_sq += pq
    return s_abs, s_sq


# --------------------------------------------------------------------------------------------- NumPy twins
def _act_ref(x, kind):
    if kind == RELU:
        return np.maximum(x, 0)
    if kind in (TANH, TANH_FAST):
        return np.tanh(x)
    return x


def _act_deriv_ref(a, kind):
    if kind == RELU:
        return (a > 0).astype(a.dtype)
    if kind in (TANH, TANH_FAST):
        return 1 - a * a
    return np.ones_like(a)


def bias_act_ref(z, b, kind):
    """NumPy twin of ``bias_act``."""
    z[...] = _act_ref(z + b, kind)


def bias_act_dropout_ref(z, b, kind, u, p, scale):
    """NumPy twin of ``bias_act_dropout``."""
    z[...] = _act_ref(z + b, kind) * (u >= p) * scale


def act_grad_ref(gy, y, kind, gz, db):
    """NumPy twin of ``act_grad``."""
    gz[...] = gy * _act_deriv_ref(y, kind)
    db[...] = gz.sum(axis=0)


def act_dropout_grad_ref(gy, y, kind, u, p, scale, gz, db):
    """NumPy twin of ``act_dropout_grad``."""
    keep = u >= p
    a = y * (1 - p)
    gz[...] = np.where(keep, gy * scale * _act_deriv_ref(a, kind), 0)
    db[...] = gz.sum(axis=0)


def penalty_grad_ref(w, dw, l1, l2):
    """NumPy twin of ``penalty_grad``."""
    dw += l1 * np.sign(w) + 2 * l2 * w
    w64 = w.astype(np.float64)
    return float(np.abs(w64).sum()), float((w64 * w64).sum())


def penalty_grad_masked_ref(w, dw, l1, l2, mask):
    """NumPy twin of ``penalty_grad_masked``."""
    out = penalty_grad_ref(w, dw, l1, l2)
    dw *= mask
    return out


def adam_update_ref(p, g, m, v, lr, beta1, beta2, eps, c1, c2):
    """NumPy twin of ``adam_update``."""
    m *= beta1
    m += (1 - beta1) * g
    v *= beta2
    v += (1 - beta2) * g * g
    p -= lr * (m * c1) / (np.sqrt(v * c2) + eps)


def adam_penalty_update_ref(w, dw, m, v, l1, l2, mask, use_mask, lr, beta1, beta2, eps, c1, c2):
    """NumPy twin of ``adam_penalty_update``."""
    sums = penalty_grad_masked_ref(w, dw, l1, l2, mask) if use_mask else penalty_grad_ref(w, dw, l1, l2)
    adam_update_ref(w, dw, m, v, lr, beta1, beta2, eps, c1, c2)
    if use_mask:
        w *= mask
    return sums
