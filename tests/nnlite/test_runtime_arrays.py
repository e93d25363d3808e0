"""Array models in a ``.nnz`` without networks (nnlite.runtime.array_model): written by dumps_committee with no
network, read back by the numpy runtime and the engine, predicting their formulas."""
import numpy as np
import pytest

from nnlite import runtime
from nnlite.compress.fileformat import dumps_committee, loads_committee, size_breakdown


def _roundtrip(model):
    data = dumps_committee([], {"drug": "D", "model": model})
    header, nets = loads_committee(data)
    assert nets == [] and header["layers"] == [] and size_breakdown(data)["networks"] == []
    return runtime.loads(data)


def test_linear_constant_and_dense_models_predict_their_formulas():
    rng = np.random.default_rng(0)
    Z = rng.random((7, 5)).astype(np.float32)
    coef = rng.normal(size=5).astype(np.float32)
    lin = _roundtrip({"kind": "linear", "n_in": 5, "coef": coef, "intercept": 0.25})
    np.testing.assert_array_equal(lin.predict(Z), Z.astype(np.float64) @ coef.astype(np.float64) + 0.25)
    assert lin.networks == [] and lin.metadata["drug"] == "D"
    const = _roundtrip({"kind": "constant", "n_in": 0, "value": 1.5})
    np.testing.assert_array_equal(const.predict(np.zeros((3, 0))), [1.5, 1.5, 1.5])
    W1, b1 = rng.normal(size=(5, 3)).astype(np.float32), rng.normal(size=3).astype(np.float32)
    W2, b2 = rng.normal(size=(3, 1)).astype(np.float32), rng.normal(size=1).astype(np.float32)
    dense = _roundtrip({"kind": "dense", "n_in": 5, "layers": [{"W": W1, "b": b1, "activation": "ReLU"},
                                                               {"W": W2, "b": b2, "activation": "Identity"}]})
    np.testing.assert_allclose(dense.predict(Z), (np.maximum(Z @ W1 + b1, 0) @ W2 + b2)[:, 0], rtol=1e-6)


def test_forest_in_preorder():
    # tree 0: x0 <= 0.5 ? (x1 <= 0.2 ? 1 : 2) : 3 ; tree 1: a single leaf 10
    model = {"kind": "forest", "n_in": 2, "n_nodes": np.array([5, 1]),
             "feature": np.array([0, 1, -1, -1, -1, -1]), "split": np.array([0.5, 0.2, 1, 2, 3, 10], np.float32),
             "right": np.array([4, 3])}
    Z = np.array([[0.1, 0.1], [0.1, 0.9], [0.5, 0.0], [0.7, 0.0]], np.float32)
    np.testing.assert_array_equal(_roundtrip(model).predict(Z), [5.5, 6.0, 5.5, 6.5])
    with pytest.raises(ValueError, match="child outside"):
        _roundtrip({**model, "right": np.array([4, 9])})


def test_bad_array_models_are_refused():
    with pytest.raises(ValueError, match="at least one network"):
        dumps_committee([], {"drug": "D"})
    with pytest.raises(ValueError, match="unknown model kind"):
        _roundtrip({"kind": "svm", "n_in": 1})
    with pytest.raises(ValueError, match="corrupt dense model"):
        _roundtrip({"kind": "dense", "n_in": 2, "layers": [{"W": np.ones((2, 3), np.float32),
                                                            "b": np.ones(2, np.float32)}]})
