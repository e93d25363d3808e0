"""Lawson-Hanson NNLS against scipy.optimize.nnls, the KKT conditions, and known answers."""
import numpy as np
import pytest
from scipy.optimize import nnls as scipy_nnls

from nnlite.linear.nnls import nnls


@pytest.mark.parametrize("m,n,seed", [(50, 3, 0), (200, 10, 1), (30, 30, 2), (100, 40, 3), (8, 20, 4)])
def test_same_solution_as_scipy(m, n, seed):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(m, n))
    b = A @ rng.normal(size=n) + 0.1 * rng.normal(size=m)  # about half the unconstrained weights negative
    x, rnorm = nnls(A, b)
    ref, ref_rnorm = scipy_nnls(A, b)
    assert rnorm == pytest.approx(ref_rnorm, rel=1e-10, abs=1e-12)
    if m >= n:  # full column rank: the solution is unique
        np.testing.assert_allclose(x, ref, rtol=1e-9, atol=1e-12)
    assert np.all(x >= 0) and 0 < np.count_nonzero(x) < n


def test_kkt_conditions_on_correlated_columns():
    """x >= 0; the dual w = A^T (b - A x) is 0 where x > 0 and <= 0 where x = 0."""
    rng = np.random.default_rng(5)
    base = rng.normal(size=(300, 1))
    A = base + 0.05 * rng.normal(size=(300, 8))  # members that nearly agree
    b = base[:, 0] + 0.3 * rng.normal(size=300)
    x, _ = nnls(A, b)
    w = A.T @ (b - A @ x)
    scale = np.abs(A).sum() * np.abs(b).max()
    assert np.all(x >= 0)
    assert np.all(np.abs(w[x > 0]) < 1e-9 * scale) and np.all(w[x == 0] < 1e-9 * scale)
    np.testing.assert_allclose(x, scipy_nnls(A, b)[0], rtol=1e-8, atol=1e-12)


def test_known_answers():
    A = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    x, rnorm = nnls(A, A @ [2.0, 3.0])  # b inside the cone: the exact weights
    np.testing.assert_allclose(x, [2.0, 3.0], rtol=1e-12)
    assert rnorm < 1e-12
    x, rnorm = nnls(A, -A @ [2.0, 3.0])  # b opposite the cone: x = 0
    assert x.tolist() == [0.0, 0.0] and rnorm == pytest.approx(np.linalg.norm(A @ [2.0, 3.0]))
    x, _ = nnls(A, A @ [2.0, -3.0])  # one negative weight: clipped, the other refitted
    assert x[1] == 0.0 and x[0] == pytest.approx(np.dot(A[:, 0], A @ [2.0, -3.0]) / 2.0)


def test_bad_shapes_and_values():
    with pytest.raises(ValueError, match="A \\(m, n\\) and b \\(m,\\)"):
        nnls(np.ones((3, 2)), np.ones(4))
    with pytest.raises(ValueError, match="finite"):
        nnls(np.array([[np.nan]]), np.ones(1))
