"""MeanRegressor and the shared input checks."""
import numpy as np
import pytest

from nnlite import MeanRegressor


def test_predicts_training_mean():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 4)), rng.normal(size=30)
    m = MeanRegressor().fit(X, y)
    assert m.mean_ == pytest.approx(y.mean())
    pred = m.predict(rng.normal(size=(7, 4)))
    assert pred.shape == (7,) and np.all(pred == m.mean_)
    assert MeanRegressor().fit(X, y[:, None]).mean_ == pytest.approx(y.mean())  # (n, 1) targets


def test_bad_input():
    X, y = np.ones((5, 2)), np.arange(5.0)
    with pytest.raises(ValueError, match="not fitted"):
        MeanRegressor().predict(X)
    with pytest.raises(ValueError, match="rows"):
        MeanRegressor().fit(X, y[:4])
    with pytest.raises(ValueError, match="NaN"):
        MeanRegressor().fit(X, np.array([1.0, np.nan, 2, 3, 4]))
    with pytest.raises(ValueError, match="empty"):
        MeanRegressor().fit(np.ones((0, 2)), np.ones(0))
    with pytest.raises(ValueError, match="numeric"):
        MeanRegressor().fit(np.array([["a", "b"]] * 5), y)
    m = MeanRegressor().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        m.predict(np.ones((2, 3)))
    with pytest.raises(ValueError, match="2-D"):
        m.predict(np.ones(2))
