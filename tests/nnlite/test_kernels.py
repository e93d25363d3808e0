"""Each Numba kernel of nnlite._kernels against its NumPy reference twin (float32 and float64, every activation)."""
import numpy as np
import pytest

from nnlite import _kernels as K

KINDS = [K.IDENTITY, K.RELU, K.TANH, K.TANH_FAST]
DTYPES = [np.float32, np.float64]


def tol(dtype, kind=None):
    if kind == K.TANH_FAST:   # float32 approximation, whatever the array dtype
        return dict(rtol=0, atol=1e-6)
    return dict(rtol=2e-6, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)


def test_tanh_fast_is_accurate_to_float32_rounding():
    x = np.linspace(-20, 20, 400001).astype(np.float32)
    x = np.concatenate([x, np.float32([0, 1e-30, -1e-30, 1e-6, 3e38, -3e38, 8.999, 9.0, 9.001])])
    y = x.reshape(1, -1).copy()
    K.bias_act(y, np.zeros(y.shape[1], np.float32), K.TANH_FAST)
    y = y[0]
    ref = np.tanh(x.astype(np.float64))
    assert np.max(np.abs(y - ref)) < 4e-7
    assert np.max(np.abs(y)) <= 1 and y[x == 0][0] == 0
    small = np.abs(x) < 1e-3
    np.testing.assert_allclose(y[small], x[small], rtol=1e-6)     # tanh(x) ~ x near 0, relative accuracy
    np.testing.assert_array_equal(y[:400001], -y[:400001][::-1])  # odd


def arrays(dtype, shape=(7, 13), seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(dtype) for _ in range(3)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", KINDS)
def test_bias_act(kind, dtype):
    z, _, _ = arrays(dtype)
    b = np.random.default_rng(1).standard_normal(13).astype(dtype)
    ours, ref = z.copy(), z.copy()
    K.bias_act(ours, b, kind)
    K.bias_act_ref(ref, b, kind)
    np.testing.assert_allclose(ours, ref, **tol(dtype, kind))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", KINDS)
def test_bias_act_dropout(kind, dtype):
    z, _, _ = arrays(dtype)
    b = np.random.default_rng(1).standard_normal(13).astype(dtype)
    u = np.random.default_rng(2).random(z.shape).astype(dtype)
    p, scale = dtype(0.4), dtype(1 / 0.6)
    ours, ref = z.copy(), z.copy()
    K.bias_act_dropout(ours, b, kind, u, p, scale)
    K.bias_act_dropout_ref(ref, b, kind, u, p, scale)
    np.testing.assert_allclose(ours, ref, **tol(dtype, kind))
    assert np.array_equal(ours == 0, ref == 0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", KINDS)
def test_act_grad(kind, dtype):
    gy, z, _ = arrays(dtype)
    y = z.copy()
    K.bias_act_ref(y, np.zeros(13, dtype), kind)
    outs = []
    for fn in (K.act_grad, K.act_grad_ref):
        gz, db = np.full_like(gy, np.nan), np.full(13, np.nan, dtype)
        fn(gy, y, kind, gz, db)
        outs.append((gz, db))
    np.testing.assert_allclose(outs[0][0], outs[1][0], **tol(dtype))
    np.testing.assert_allclose(outs[0][1], outs[1][1], **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", KINDS)
def test_act_dropout_grad(kind, dtype):
    gy, z, _ = arrays(dtype)
    u = np.random.default_rng(3).random(z.shape).astype(dtype)
    p, scale = dtype(0.3), dtype(1 / 0.7)
    y = z.copy()
    K.bias_act_dropout_ref(y, np.zeros(13, dtype), kind, u, p, scale)
    outs = []
    for fn in (K.act_dropout_grad, K.act_dropout_grad_ref):
        gz, db = np.full_like(gy, np.nan), np.full(13, np.nan, dtype)
        fn(gy, y, kind, u, p, scale, gz, db)
        outs.append((gz, db))
    np.testing.assert_allclose(outs[0][0], outs[1][0], **tol(dtype))
    np.testing.assert_allclose(outs[0][1], outs[1][1], **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("masked", [False, True])
def test_penalty_grad(dtype, masked):
    w, dw, _ = arrays(dtype, shape=(1000,))
    w[:10] = 0   # sign(0) = 0
    l1, l2 = dtype(0.01), dtype(0.02)
    mask = (np.random.default_rng(4).random(1000) > 0.5).astype(dtype)
    ours, ref = dw.copy(), dw.copy()
    if masked:
        s1 = K.penalty_grad_masked(w, ours, l1, l2, mask)
        s2 = K.penalty_grad_masked_ref(w, ref, l1, l2, mask)
        assert np.all(ours[mask == 0] == 0)
    else:
        s1 = K.penalty_grad(w, ours, l1, l2)
        s2 = K.penalty_grad_ref(w, ref, l1, l2)
    np.testing.assert_allclose(ours, ref, **tol(dtype))
    np.testing.assert_allclose(s1, s2, rtol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_update(dtype):
    p, g, m = arrays(dtype, shape=(1001,))
    v = np.abs(arrays(dtype, shape=(1001,), seed=1)[0])
    args = [dtype(a) for a in (1e-3, 0.9, 0.999, 1e-8, 1 / (1 - 0.9 ** 3), 1 / (1 - 0.999 ** 3))]
    state = [a.copy() for a in (p, m, v)], [a.copy() for a in (p, m, v)]
    K.adam_update(state[0][0], g, state[0][1], state[0][2], *args)
    K.adam_update_ref(state[1][0], g, state[1][1], state[1][2], *args)
    for a, b in zip(*state):
        np.testing.assert_allclose(a, b, **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("use_mask", [False, True])
def test_adam_penalty_update(dtype, use_mask):
    w, dw, m = arrays(dtype, shape=(17, 59))
    w[0, :5] = 0
    v = np.abs(arrays(dtype, shape=(17, 59), seed=1)[0])
    mask = (np.random.default_rng(5).random((17, 59)) > 0.3).astype(dtype)
    args = [dtype(a) for a in (1e-3, 0.9, 0.999, 1e-8, 1 / (1 - 0.9 ** 2), 1 / (1 - 0.999 ** 2))]
    state = [a.copy() for a in (w, dw, m, v)], [a.copy() for a in (w, dw, m, v)]
    s1 = K.adam_penalty_update(*state[0], dtype(0.01), dtype(0.02), mask, use_mask, *args)
    s2 = K.adam_penalty_update_ref(*state[1], dtype(0.01), dtype(0.02), mask, use_mask, *args)
    np.testing.assert_allclose(s1, s2, rtol=1e-6 if dtype == np.float32 else 1e-12)
    for a, b in zip(*state):
        np.testing.assert_allclose(a, b, **tol(dtype))
    if use_mask:
        assert np.all(state[0][0][mask == 0] == 0) and np.all(state[0][1][mask == 0] == 0)
