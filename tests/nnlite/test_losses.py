"""MSELoss: value, finite-difference gradient, shapes."""
import numpy as np
import pytest

from nnlite.losses import MSELoss


def test_value_and_gradient():
    pred = np.array([[1.0], [2.0], [4.0]])
    y = np.array([1.5, 2.0, 3.0])
    loss = MSELoss()
    assert loss.forward(pred, y) == pytest.approx((0.25 + 0 + 1) / 3)
    np.testing.assert_allclose(loss.backward(), 2 * (pred - y[:, None]) / 3)


def test_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    pred, y = rng.standard_normal((6, 2)), rng.standard_normal((6, 2))
    loss = MSELoss()
    loss.forward(pred, y)
    g = loss.backward()
    h = 1e-6
    num = np.zeros_like(pred)
    for i in np.ndindex(pred.shape):
        p, m = pred.copy(), pred.copy()
        p[i] += h
        m[i] -= h
        num[i] = (MSELoss().forward(p, y) - MSELoss().forward(m, y)) / (2 * h)
    assert np.linalg.norm(g - num) / np.linalg.norm(g + num) < 1e-6


def test_bad_shapes():
    with pytest.raises(ValueError, match="shape"):
        MSELoss().forward(np.zeros((3, 1)), np.zeros(4))
    with pytest.raises(ValueError, match="empty"):
        MSELoss().forward(np.zeros((0, 1)), np.zeros(0))
    with pytest.raises(ValueError, match="before forward"):
        MSELoss().backward()
