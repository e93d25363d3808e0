"""The paper's network builders: layer structure, dropout placement, initialization, seeds."""
import numpy as np
import pytest

from nnlite.activations import Identity, ReLU, Tanh
from nnlite.layers import Dense, Dropout
from nnlite.networks import paper_network, simple_ann_network


def test_paper_network_structure():
    model = paper_network(30, [20, 18, 16, 14, 12], dropout=0.4, n_dropout=3, l1=1e-4, l2=2e-4, seed=0)
    types = [type(layer) for layer in model.layers]
    assert types == [Dense, ReLU, Dropout, Dense, Tanh, Dropout, Dense, ReLU, Dropout,
                     Dense, Tanh, Dense, ReLU, Dense]
    dense = model.dense_layers()
    assert [(d.n_in, d.n_out) for d in dense] == [(30, 20), (20, 18), (18, 16), (16, 14), (14, 12), (12, 1)]
    assert all(d.l1 == 1e-4 and d.l2 == 2e-4 for d in dense)
    assert all(layer.p == 0.4 for layer in model.layers if isinstance(layer, Dropout))
    assert model.dtype == np.float32 and all(d.W.dtype == np.float32 for d in dense)
    assert model.predict(np.zeros((3, 30))).shape == (3,)


def test_paper_network_initialization_follows_activations():
    model = paper_network(400, [300, 300], seed=1, dtype=np.float64)
    d = model.dense_layers()
    assert d[0].W.std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)           # He (ReLU follows)
    assert np.abs(d[1].W).max() <= np.sqrt(6 / 600)                              # Glorot (tanh follows)
    assert d[1].W.std() == pytest.approx(np.sqrt(6 / 600) / np.sqrt(3), rel=0.02)


def test_seeds_and_dropout_options():
    a, b, c = paper_network(10, [8, 8], seed=3), paper_network(10, [8, 8], seed=3), paper_network(10, [8, 8], seed=4)
    assert all(np.array_equal(x, y) for x, y in zip(a.get_weights(), b.get_weights()))
    assert not np.array_equal(a.get_weights()[0], c.get_weights()[0])
    assert not any(isinstance(layer, Dropout) for layer in paper_network(10, [8, 8], dropout=0.0).layers)
    assert sum(isinstance(layer, Dropout) for layer in paper_network(10, [8] * 6, n_dropout=5).layers) == 5
    linear = paper_network(10, [])
    assert [type(layer) for layer in linear.layers] == [Dense]


def test_simple_ann_network_structure():
    model = simple_ann_network(12, [10, 6], l1=0.0, l2=0.0, seed=0, dtype=np.float64)
    assert [type(layer) for layer in model.layers] == [Dense, Identity, Dense, Identity, Dense]
    # identity activations: the network is the linear map x W1 W2 W3 (+ biases, zero at init)
    X = np.random.default_rng(0).standard_normal((4, 12))
    W1, W2, W3 = (d.W for d in model.dense_layers())
    np.testing.assert_allclose(model.predict(X), (X @ W1 @ W2 @ W3)[:, 0], rtol=1e-10)


@pytest.mark.parametrize("kw,match", [({"widths": [10, 0]}, "widths"), ({"n_in": 0}, "n_in"),
                                      ({"dropout": 1.0}, "dropout"), ({"n_dropout": -1}, "n_dropout")])
def test_bad_arguments(kw, match):
    args = {"n_in": 5, "widths": [4], **kw}
    with pytest.raises(ValueError, match=match):
        paper_network(**args)


def test_committee_network_predicts_the_mean_of_its_members():
    from nnlite.model import Sequential
    from nnlite.networks import committee_network

    rng = np.random.default_rng(0)
    X = rng.standard_normal((9, 7))
    nets = [Sequential([Dense(7, 6), ReLU(), Dropout(0.3), Dense(6, 4), Tanh(), Dense(4, 3)], seed=s)
            for s in range(3)]
    for net in nets:   # non-zero biases so that every term is exercised
        for layer in net.dense_layers():
            layer.b = rng.standard_normal(layer.n_out) * 0.3
    merged = committee_network(nets)
    expected = np.mean([n.predict(X) for n in nets], axis=0)
    np.testing.assert_allclose(merged.predict(X), expected, rtol=1e-5, atol=1e-6)
    assert not any(isinstance(layer, Dropout) for layer in merged.layers)
    assert [layer.W.shape for layer in merged.dense_layers()] == [(7, 18), (18, 12), (12, 3)]
    np.testing.assert_allclose(committee_network(nets[:1]).predict(X), nets[0].predict(X), rtol=1e-6)
    linear = [Sequential([Dense(7, 2)], seed=s) for s in range(2)]
    np.testing.assert_allclose(committee_network(linear).predict(X),
                               np.mean([n.predict(X) for n in linear], axis=0), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="same layer types"):
        committee_network([nets[0], paper_network(7, [6], seed=0)])
