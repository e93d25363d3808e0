"""Dense and Dropout: finite-difference gradients (float64), initialization, penalties, masks, dropout statistics."""
import numpy as np
import pytest

from nnlite.activations import ReLU
from nnlite.layers import Dense, Dropout
from tests.numeric import rel_err


def numeric_grad(f, x, h=1e-6):
    """Central differences of the scalar f() with respect to the array x (perturbed in place)."""
    g = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        fp = f()
        x[i] = old - h
        fm = f()
        x[i] = old
        g[i] = (fp - fm) / (2 * h)
    return g


@pytest.mark.parametrize("l1,l2", [(0.0, 0.0), (0.03, 0.0), (0.0, 0.05), (0.02, 0.04)])
def test_dense_gradients_match_finite_differences(l1, l2):
    rng = np.random.default_rng(0)
    layer = Dense(5, 4, l1=l1, l2=l2, dtype=np.float64, rng=rng)
    layer.b = rng.standard_normal(4)
    x = rng.standard_normal((6, 5))
    G = rng.standard_normal((6, 4))   # L = sum(G * y) + penalty, so dL/dy = G

    def L():
        return float(np.sum(G * layer.forward(x))) + layer.penalty()

    layer.forward(x)
    dx = layer.backward(G)
    assert rel_err(layer.dW, numeric_grad(L, layer.W)) < 1e-6
    assert rel_err(layer.db, numeric_grad(L, layer.b)) < 1e-6
    assert rel_err(dx, numeric_grad(L, x)) < 1e-6


def test_penalty_value_and_gradient_formula():
    rng = np.random.default_rng(1)
    layer = Dense(3, 2, l1=0.1, l2=0.2, dtype=np.float64, rng=rng)
    W = layer.W.copy()
    assert layer.penalty() == pytest.approx(0.1 * np.abs(W).sum() + 0.2 * (W ** 2).sum(), rel=1e-12)
    layer.forward(np.zeros((1, 3)))
    layer.backward(np.zeros((1, 2)))   # zero data gradient: dW is the penalty gradient alone
    np.testing.assert_allclose(layer.dW, 0.1 * np.sign(W) + 0.4 * W, rtol=1e-12)


def test_mask_zeroes_gradient_of_pruned_weights():
    rng = np.random.default_rng(2)
    layer = Dense(4, 3, l2=0.1, dtype=np.float64, rng=rng)
    mask = (rng.random((4, 3)) > 0.5).astype(float)
    layer.mask = mask
    layer.forward(rng.standard_normal((5, 4)))
    layer.backward(rng.standard_normal((5, 3)))
    assert np.all(layer.dW[mask == 0] == 0)
    assert np.all(layer.dW[mask == 1] != 0)
    layer.apply_mask()
    assert np.all(layer.W[mask == 0] == 0)


def test_mask_and_weight_shapes_are_checked():
    layer = Dense(4, 3)
    with pytest.raises(ValueError, match="mask must have shape"):
        layer.mask = np.ones((3, 4))
    with pytest.raises(ValueError, match="only 0 and 1"):
        layer.mask = np.full((4, 3), 0.5)
    with pytest.raises(ValueError, match="W must have shape"):
        layer.W = np.zeros((4, 4))
    with pytest.raises(ValueError, match=r"input must have shape \(n, 4\)"):
        layer.forward(np.zeros((2, 5)))


def test_params_and_grads_are_live_arrays_with_the_same_keys():
    layer = Dense(3, 2)
    assert layer.params().keys() == layer.grads().keys() == {"W", "b"}
    assert layer.params()["W"] is layer.W and layer.grads()["W"] is layer.dW
    assert layer.W.dtype == np.float32 and layer.W.shape == (3, 2) and layer.b.shape == (2,)


def test_initialization_scales():
    rng = np.random.default_rng(3)
    he = Dense(400, 300, init="he", rng=rng)
    assert he.W.std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    gl = Dense(400, 300, init="glorot", rng=rng)
    a = np.sqrt(6 / 700)
    assert np.abs(gl.W).max() <= a and gl.W.std() == pytest.approx(a / np.sqrt(3), rel=0.02)
    assert not he.b.any() and not gl.b.any()


@pytest.mark.parametrize("kw,match", [({"n_in": 0}, "n_in"), ({"n_out": 2.5}, "n_out"), ({"l1": -1}, "l1"),
                                      ({"l2": np.nan}, "l2"), ({"init": "xavier"}, "init"),
                                      ({"dtype": np.int32}, "dtype")])
def test_dense_rejects_bad_arguments(kw, match):
    args = {"n_in": 3, "n_out": 2, **kw}
    with pytest.raises(ValueError, match=match):
        Dense(**args)


def test_dropout_mean_is_preserved_over_many_masks():
    x = np.random.default_rng(4).uniform(0.5, 2.0, size=(1, 50))
    layer = Dropout(0.4, rng=np.random.default_rng(5))
    outs = np.stack([layer.forward(np.repeat(x, 200, axis=0), training=True) for _ in range(50)])
    mean = outs.reshape(-1, 50).mean(axis=0)   # 10000 masks per unit
    assert np.max(np.abs(mean / x[0] - 1)) < 0.04   # per unit: binomial noise ~1.2% (3 sigma)
    assert abs(mean.sum() / x.sum() - 1) < 0.01     # overall: within 1%
    kept = outs != 0
    assert abs(kept.mean() - 0.6) < 0.005
    np.testing.assert_allclose(outs[kept], (np.broadcast_to(x, outs.shape) / 0.6)[kept], rtol=1e-12)


def test_dropout_backward_reuses_the_forward_mask():
    rng = np.random.default_rng(6)
    layer = Dropout(0.5, rng=rng)
    x = rng.standard_normal((20, 30)) + 3.0
    y = layer.forward(x, training=True)
    g = layer.backward(np.ones_like(x))
    np.testing.assert_array_equal(g, y / x)   # the same mask, scaled by 1/(1-p)
    assert set(np.unique(g)) <= {0.0, 2.0}


def test_dropout_is_identity_in_evaluation_and_rejects_bad_p():
    x = np.arange(6.0).reshape(2, 3)
    layer = Dropout(0.4)
    np.testing.assert_array_equal(layer.forward(x, training=False), x)
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), np.ones_like(x))
    for p in (-0.1, 1.0, 1.5):
        with pytest.raises(ValueError, match="dropout probability"):
            Dropout(p)


def test_weights_wait_for_the_owner_to_seed_them():
    """Dense(rng=None) is undrawn until Sequential seeds it; the same seed draws the same weights, another
    seed other weights, and each layer's scheme follows its successor (He before ReLU)."""
    from nnlite.model import Sequential

    def build(seed):
        layers = [Dense(40, 30), ReLU(), Dense(30, 1)]
        assert not any(layer.initialized for layer in (layers[0], layers[2]))
        return Sequential(layers, seed=seed)

    a, b, c = build(3), build(3), build(4)
    assert all(layer.initialized for layer in a.dense_layers())
    assert all(np.array_equal(p, q) for p, q in zip(a.get_weights(), b.get_weights()))
    assert not np.array_equal(a.get_weights()[0], c.get_weights()[0])
    assert a.dense_layers()[0].W.std() == pytest.approx(np.sqrt(2 / 40), rel=0.1)      # He
    assert np.abs(a.dense_layers()[1].W).max() <= np.sqrt(6 / 31)                      # Glorot


def test_weights_seen_or_set_before_the_owner_are_kept():
    """Touching the parameters of an undrawn layer draws them from default_rng(0) (a lone layer works); a
    Sequential built on it afterwards keeps them, as it keeps weights set explicitly."""
    from nnlite.model import Sequential

    lone = Dense(5, 3)
    reference = Dense(5, 3, rng=np.random.default_rng(0))
    x = np.ones((2, 5), np.float32)
    assert np.array_equal(lone.forward(x), reference.forward(x)) and lone.initialized
    Sequential([lone], seed=9)
    assert np.array_equal(lone.W, reference.W)
    touched = Dense(5, 3)
    touched.W[0, 0] = 7.0                       # an in-place write through the getter
    Sequential([touched], seed=9)
    assert touched.W[0, 0] == 7.0 and np.array_equal(touched.W[1:], reference.W[1:])
    preset = Dense(5, 1)
    preset.W = np.full((5, 1), 0.5)
    Sequential([preset], seed=9)
    assert np.all(preset.W == 0.5) and np.all(preset.b == 0)


def test_dropout_without_generator_is_seeded_by_its_owner():
    from nnlite.model import Sequential

    drop = Dropout(0.5)
    assert drop.rng is None
    Sequential([Dense(4, 4), drop], seed=1)
    assert drop.rng is not None
    lone = Dropout(0.5)
    x = np.ones((50, 4))
    assert np.array_equal(lone.forward(x, training=True), Dropout(0.5, rng=np.random.default_rng(0)).forward(
        x, training=True))
