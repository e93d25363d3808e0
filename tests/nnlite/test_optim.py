"""Adam and SGD against their update rules computed by hand."""
import math

import numpy as np
import pytest

from nnlite.optim import SGD, Adam


def test_adam_three_steps_by_hand():
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    p = np.array([1.0, -2.0])
    grads = [np.array([0.5, -1.0]), np.array([0.2, 0.3]), np.array([-0.4, 0.1])]
    opt = Adam(lr=lr, beta1=b1, beta2=b2, eps=eps)
    g_buf = np.zeros(2)
    expected = [1.0, -2.0]
    m = [0.0, 0.0]
    v = [0.0, 0.0]
    for t, g in enumerate(grads, start=1):
        g_buf[...] = g
        opt.step([(p, g_buf)])
        for k in range(2):   # Kingma & Ba, Algorithm 1, scalar by scalar
            m[k] = b1 * m[k] + (1 - b1) * g[k]
            v[k] = b2 * v[k] + (1 - b2) * g[k] ** 2
            m_hat = m[k] / (1 - b1 ** t)
            v_hat = v[k] / (1 - b2 ** t)
            expected[k] -= lr * m_hat / (math.sqrt(v_hat) + eps)
        np.testing.assert_allclose(p, expected, rtol=1e-12, atol=1e-14)
    assert opt.t == 3
    # the first step moves each coordinate by ~lr against the gradient sign (m_hat / sqrt(v_hat) = sign(g))
    p1 = np.array([0.0])
    Adam(lr=0.01).step([(p1, np.array([123.0]))])
    assert p1[0] == pytest.approx(-0.01, rel=1e-6)


def test_adam_float32_parameters_and_several_pairs():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((3, 4)).astype(np.float32)
    b = np.zeros(4, np.float32)
    gW = rng.standard_normal((3, 4)).astype(np.float32)
    gb = np.ones(4, np.float32)
    W0 = W.copy()
    Adam(lr=1e-3).step([(W, gW), (b, gb)])
    np.testing.assert_allclose(W, W0 - 1e-3 * np.sign(gW), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(b, -1e-3, rtol=1e-5)
    assert W.dtype == np.float32


def test_sgd_momentum_by_hand():
    p = np.array([1.0])
    opt = SGD(lr=0.1, momentum=0.9)
    vel, expected = 0.0, 1.0
    for g in (1.0, -0.5, 2.0):
        opt.step([(p, np.array([g]))])
        vel = 0.9 * vel + g
        expected -= 0.1 * vel
        assert p[0] == pytest.approx(expected, rel=1e-14)
    q = np.array([1.0])
    SGD(lr=0.5).step([(q, np.array([2.0]))])
    assert q[0] == 0.0


def test_state_is_per_position_and_checked():
    opt = Adam()
    opt.step([(np.zeros(3), np.ones(3))])
    with pytest.raises(ValueError, match="state holds 1 parameters"):
        opt.step([(np.zeros(3), np.ones(3)), (np.zeros(2), np.ones(2))])
    with pytest.raises(ValueError, match="shape"):
        opt.step([(np.zeros(4), np.ones(4))])
    with pytest.raises(ValueError, match="gradient has shape"):
        SGD(lr=0.1).step([(np.zeros(3), np.ones(2))])
    for bad in ({"lr": 0}, {"beta1": 1.0}, {"eps": 0}):
        with pytest.raises(ValueError):
            Adam(**bad)
