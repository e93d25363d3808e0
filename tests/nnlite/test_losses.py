"""MSELoss and MaskedMSELoss: value, finite-difference gradient, shapes, missing entries."""
import numpy as np
import pytest

from nnlite.losses import MaskedMSELoss, MSELoss, observed_mse


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


def test_masked_mse_is_the_mean_over_observed_entries_only():
    pred = np.array([[1.0, 5.0], [2.0, 0.0], [4.0, -1.0]])
    y = np.array([[1.5, np.nan], [np.nan, 1.0], [3.0, np.nan]])
    loss = MaskedMSELoss()
    assert loss.forward(pred, y) == pytest.approx((0.25 + 1.0 + 1.0) / 3)
    expected = np.array([[2 * -0.5 / 3, 0.0], [0.0, 2 * -1.0 / 3], [2 * 1.0 / 3, 0.0]])
    np.testing.assert_allclose(loss.backward(), expected)
    assert observed_mse(pred, y) == pytest.approx((0.25 + 1.0 + 1.0) / 3)


def test_masked_mse_gradient_matches_finite_differences():
    rng = np.random.default_rng(3)
    pred, y = rng.standard_normal((7, 3)), rng.standard_normal((7, 3))
    y[rng.random(y.shape) < 0.4] = np.nan
    loss = MaskedMSELoss()
    loss.forward(pred, y)
    g = loss.backward()
    h = 1e-6
    num = np.zeros_like(pred)
    for i in np.ndindex(pred.shape):
        p, m = pred.copy(), pred.copy()
        p[i] += h
        m[i] -= h
        num[i] = (MaskedMSELoss().forward(p, y) - MaskedMSELoss().forward(m, y)) / (2 * h)
    assert np.linalg.norm(g - num) / np.linalg.norm(g + num) < 1e-6
    assert np.all(g[np.isnan(y)] == 0)


def test_masked_mse_equals_mse_when_nothing_is_missing():
    rng = np.random.default_rng(4)
    pred, y = rng.standard_normal((5, 2)).astype(np.float32), rng.standard_normal((5, 2)).astype(np.float32)
    a, b = MaskedMSELoss(), MSELoss()
    assert a.forward(pred, y) == b.forward(pred, y)
    np.testing.assert_array_equal(a.backward(), b.backward())


def test_masked_mse_of_a_batch_with_nothing_observed_is_zero_with_zero_gradient():
    loss = MaskedMSELoss()
    assert loss.forward(np.ones((2, 2)), np.full((2, 2), np.nan)) == 0.0
    np.testing.assert_array_equal(loss.backward(), np.zeros((2, 2)))
    assert np.isnan(observed_mse(np.ones((2, 2)), np.full((2, 2), np.nan)))
    with pytest.raises(ValueError, match="before forward"):
        MaskedMSELoss().backward()
    with pytest.raises(ValueError, match="shape"):
        MaskedMSELoss().forward(np.zeros((3, 2)), np.zeros((3, 1)))
