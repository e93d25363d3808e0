"""Activation layers: known values and finite-difference gradients (float64)."""
import numpy as np
import pytest

from nnlite.activations import Identity, ReLU, Tanh
from tests.numeric import rel_err


def fd_input_grad(layer, x, G, h=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        g[i] = (np.sum(G * layer.forward(xp)) - np.sum(G * layer.forward(xm))) / (2 * h)
    return g


@pytest.mark.parametrize("cls", [Identity, ReLU, Tanh])
def test_gradient_matches_finite_differences(cls):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 7))
    x[np.abs(x) < 1e-3] = 0.5   # keep ReLU away from its kink
    G = rng.standard_normal((5, 7))
    layer = cls()
    layer.forward(x)
    analytic = layer.backward(G)
    assert rel_err(analytic, fd_input_grad(cls(), x, G)) < 1e-6


def test_known_values():
    x = np.array([[-2.0, 0.0, 0.5]])
    np.testing.assert_array_equal(ReLU().forward(x), [[0.0, 0.0, 0.5]])
    np.testing.assert_allclose(Tanh().forward(x), np.tanh(x))
    np.testing.assert_array_equal(Identity().forward(x), x)
    relu = ReLU()
    relu.forward(x)
    np.testing.assert_array_equal(relu.backward(np.ones_like(x)), [[0.0, 0.0, 1.0]])  # 0 at the kink


def test_activations_have_no_parameters_and_need_forward_first():
    for cls in (Identity, ReLU, Tanh):
        assert cls().params() == {} and cls().grads() == {}
    with pytest.raises(ValueError, match="before forward"):
        Tanh().backward(np.ones((1, 1)))
