"""Sequential: whole-network gradients, fused vs layer-by-layer execution, training, reproducibility,
early stopping, persistence and input checks."""
import numpy as np
import pytest

from nnlite.activations import Identity, ReLU, Tanh
from nnlite.layers import Dense, Dropout
from nnlite.losses import MaskedMSELoss, MSELoss
from nnlite.model import Sequential
from nnlite.optim import SGD, Adam
from tests.numeric import rel_err


def four_layer(seed=0, dtype=np.float64, dropout=0.0, l1=0.01, l2=0.02):
    layers = [Dense(6, 8, l1=l1, l2=l2), Tanh()]
    if dropout:
        layers.append(Dropout(dropout))
    layers += [Dense(8, 5, l1=l1, l2=l2), ReLU(), Dense(5, 4, l1=l1, l2=l2), Tanh(), Dense(4, 1, l1=l1, l2=l2)]
    return Sequential(layers, seed=seed, dtype=dtype)


def data(n=12, d=6, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, np.sin(X[:, 0]) + X[:, 1] * X[:, 2]


def test_four_layer_network_gradient_matches_finite_differences():
    model = four_layer()
    for layer in model.dense_layers():   # non-zero biases so that every term is exercised
        layer.b = np.random.default_rng(layer.n_in).standard_normal(layer.n_out) * 0.3
    X, y = data()
    loss = MSELoss()
    loss.forward(model.forward(X), y)
    model.backward(loss.backward())
    h = 1e-6
    for p, g in model.parameters():
        num = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            old = p[i]
            p[i] = old + h
            fp = model.loss(X, y)
            p[i] = old - h
            fm = model.loss(X, y)
            p[i] = old
            num[i] = (fp - fm) / (2 * h)
        assert rel_err(g, num) < 1e-6


def test_input_gradient_matches_finite_differences():
    model = four_layer(l1=0, l2=0)
    X, y = data(n=4)
    G = np.random.default_rng(2).standard_normal((4, 1))
    model.forward(X)
    dX = model.backward(G)
    num = np.zeros_like(X)
    for i in np.ndindex(X.shape):
        Xp, Xm = X.copy(), X.copy()
        Xp[i] += 1e-6
        Xm[i] -= 1e-6
        num[i] = (np.sum(G * model.forward(Xp)) - np.sum(G * model.forward(Xm))) / 2e-6
    assert rel_err(dX, num) < 1e-6


def test_fused_steps_match_layer_by_layer_execution_with_dropout():
    fused, plain = four_layer(seed=3, dropout=0.3), four_layer(seed=3, dropout=0.3)
    X, y = data(n=9)
    out_f = fused.forward(X, training=True)
    x = X
    for layer in plain.layers:
        x = layer.forward(x, training=True)
    np.testing.assert_allclose(out_f, x, rtol=1e-12, atol=1e-14)
    G = np.random.default_rng(4).standard_normal(out_f.shape)
    gX = fused.backward(G)
    g = G
    for layer in reversed(plain.layers):
        g = layer.backward(g)
    np.testing.assert_allclose(gX, g, rtol=1e-10, atol=1e-13)
    for (_, ga), (_, gb) in zip(fused.parameters(), plain.parameters()):
        np.testing.assert_allclose(ga, gb, rtol=1e-10, atol=1e-13)


def test_a_layer_that_cannot_be_fused_runs_through_its_own_methods():
    model = Sequential([Tanh(), Dense(3, 2), Dropout(0.5), Dropout(0.2), Identity()], seed=0, dtype=np.float64)
    X = np.random.default_rng(0).standard_normal((4, 3))
    np.testing.assert_allclose(model.forward(X), np.tanh(X) @ model.layers[1].W)
    model.forward(X, training=True)
    assert model.backward(np.ones((4, 2))).shape == (4, 3)


def test_auto_init_follows_the_next_activation_and_the_seed():
    model = Sequential([Dense(500, 400), ReLU(), Dense(400, 300), Tanh(), Dense(300, 1)], seed=7)
    d = model.dense_layers()
    assert d[0].W.std() == pytest.approx(np.sqrt(2 / 500), rel=0.02)             # He before ReLU
    assert np.abs(d[1].W).max() <= np.sqrt(6 / 700) + 1e-7                        # Glorot before tanh
    other = Sequential([Dense(500, 400), ReLU(), Dense(400, 300), Tanh(), Dense(300, 1)], seed=8)
    assert not np.array_equal(other.dense_layers()[0].W, d[0].W)
    # explicitly seeded or edited layers are kept as they are
    mine = Dense(3, 2, rng=np.random.default_rng(1))
    kept = mine.W.copy()
    edited = Dense(3, 2)
    edited.W = np.ones((3, 2))
    Sequential([mine, ReLU(), edited], seed=5)
    np.testing.assert_array_equal(mine.W, kept)
    np.testing.assert_array_equal(edited.W, 1.0)


def test_same_seed_gives_bit_identical_training_and_another_seed_does_not():
    X, y = data(n=50)

    def train(seed):
        m = four_layer(seed=seed, dtype=np.float32, dropout=0.4)
        m.fit(X, y, epochs=5, batch_size=8, optimizer=Adam(lr=1e-2))
        return m

    a, b, c = train(0), train(0), train(1)
    for wa, wb, wc in zip(a.get_weights(), b.get_weights(), c.get_weights()):
        assert np.array_equal(wa, wb)
    assert a.history == b.history
    assert not all(np.array_equal(wa, wc) for wa, wc in zip(a.get_weights(), c.get_weights()))


def test_learns_a_smooth_nonlinear_function_of_ten_inputs():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(1200, 10))
    y = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2] + 0.5 * X[:, 3] ** 2 + 0.3 * X[:, 4:].sum(axis=1)
    model = Sequential([Dense(10, 64), Tanh(), Dense(64, 64), ReLU(), Dense(64, 1)], seed=0)
    model.fit(X[:1000], y[:1000], epochs=150, batch_size=32, optimizer=Adam(lr=3e-3))
    pred = model.predict(X[1000:])
    r2 = 1 - np.mean((pred - y[1000:]) ** 2) / np.var(y[1000:])
    assert r2 > 0.95
    assert model.history["train"][-1] < 0.1 * model.history["train"][0]


def test_early_stopping_keeps_the_best_weights():
    X, y = data(n=60)
    Xv, yv = data(n=30, seed=9)
    yv = yv + np.random.default_rng(0).standard_normal(30)   # noisy validation: its MSE soon stops improving
    model = four_layer(dtype=np.float32, l1=0, l2=0)
    model.fit(X, y, epochs=400, batch_size=16, optimizer=Adam(lr=1e-2), validation=(Xv, yv), patience=5)
    val = model.history["val"]
    assert len(val) == model.epochs_run < 400
    assert model.best_epoch == int(np.argmin(val)) + 1 == model.epochs_run - 5
    pred = model.predict(Xv)
    assert np.mean((pred.astype(np.float64) - yv) ** 2) == pytest.approx(min(val), rel=1e-6)


def test_masks_keep_pruned_weights_at_zero_through_training():
    model = four_layer(dtype=np.float32)
    dense = model.dense_layers()[1]
    mask = (np.random.default_rng(0).random(dense.W.shape) > 0.5).astype(np.float32)
    dense.mask = mask
    dense.apply_mask()
    X, y = data(n=40)
    model.fit(X, y, epochs=3, batch_size=8, optimizer=SGD(lr=0.05, momentum=0.9))
    assert np.all(dense.W[mask == 0] == 0) and np.all(dense.W[mask == 1] != 0)


def test_train_step_returns_the_objective_and_loss_includes_penalties():
    model = four_layer(dtype=np.float64)
    X, y = data()
    before = model.loss(X, y)
    mse = np.mean((model.predict(X) - y) ** 2)
    assert before == pytest.approx(mse + model.penalty(), rel=1e-12)
    assert model.penalty() > 0
    assert model.train_step(X, y, SGD(lr=1e-3)) == pytest.approx(before, rel=1e-12)  # no dropout in this model
    assert model.loss(X, y) < before


def test_full_batch_and_2d_targets():
    X, y = data(n=30)
    a = four_layer(dtype=np.float32).fit(X, y, epochs=20, batch_size=None)
    b = four_layer(dtype=np.float32).fit(X, y[:, None], epochs=20, batch_size=1000)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        assert np.array_equal(wa, wb)
    assert a.predict(X).shape == (30,) and a.forward(X).shape == (30, 1)


@pytest.mark.parametrize("X,y,match", [
    (np.zeros((5, 4)), np.zeros(5), "4 features but the network expects 6"),
    (np.zeros(6), np.zeros(1), "2-D array"),
    (np.zeros((0, 6)), np.zeros(0), "empty"),
    (np.zeros((5, 6)), np.zeros(4), "y has 4 rows but X has 5"),
    (np.zeros((5, 6)), np.zeros((5, 2)), "2 columns"),
    (np.full((5, 6), np.nan), np.zeros(5), "X contains NaN or infinity"),
    (np.full((5, 6), np.inf), np.zeros(5), "X contains NaN or infinity"),
    (np.zeros((5, 6)), np.array([0, 1, np.nan, 0, 0]), "y contains NaN or infinity"),
    (np.zeros((5, 6)), np.array([0, 1, np.inf, 0, 0]), "y contains NaN or infinity"),
])
def test_bad_input_raises_value_error_naming_the_problem(X, y, match):
    model = four_layer(dtype=np.float32)
    with pytest.raises(ValueError, match=match):
        model.fit(X, y, epochs=1)


def test_bad_arguments():
    model = four_layer()
    X, y = data()
    with pytest.raises(ValueError, match="epochs"):
        model.fit(X, y, epochs=0)
    with pytest.raises(ValueError, match="batch_size"):
        model.fit(X, y, batch_size=0)
    with pytest.raises(ValueError, match="validation X contains NaN"):
        model.fit(X, y, validation=(np.full((2, 6), np.nan), np.zeros(2)))
    with pytest.raises(ValueError, match="predict|features"):
        model.predict(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="before forward"):
        four_layer().backward(np.zeros((2, 1)))
    with pytest.raises(ValueError, match="at least one layer"):
        Sequential([])
    with pytest.raises(ValueError, match="expected 8 weight arrays"):
        model.set_weights([np.zeros(1)])


def test_float32_model_agrees_with_its_float64_twin():
    X, y = data(n=20)
    m32, m64 = four_layer(dtype=np.float32, dropout=0.3), four_layer(dtype=np.float64, dropout=0.3)
    m64.set_weights(m32.get_weights())
    np.testing.assert_allclose(m32.predict(X), m64.predict(X), rtol=1e-5, atol=1e-5)
    assert m32.loss(X, y) == pytest.approx(m64.loss(X, y), rel=1e-5)


@pytest.mark.parametrize("opt", [lambda: Adam(lr=1e-2), lambda: SGD(lr=0.05, momentum=0.5)])
def test_train_step_equals_backward_then_optimizer_step(opt):
    """The interleaved per-layer update (fused penalty + Adam) gives what backward + optimizer.step gives."""
    X, y = data(n=16)
    a, b = four_layer(dropout=0.3), four_layer(dropout=0.3)
    b.dense_layers()[1].mask = a.dense_layers()[1].mask = (np.random.default_rng(0).random((8, 5)) > 0.4) * 1.0
    oa, ob = opt(), opt()
    for _ in range(3):
        la = a.train_step(X, y, oa)
        loss = MSELoss()
        mse = loss.forward(b.forward(X, training=True), y)
        pen = b.penalty()
        b.backward(loss.backward())
        ob.step(b.parameters())
        for layer in b.dense_layers():
            layer.apply_mask()
        assert la == pytest.approx(mse + pen, rel=1e-12)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-10, atol=1e-12)
    for (_, ga), (_, gb) in zip(a.parameters(), b.parameters()):
        np.testing.assert_allclose(ga, gb, rtol=1e-10, atol=1e-12)


class _ExplodingSGD(SGD):
    """SGD whose learning rate triples at every step: finite for a few epochs, then diverges."""

    def begin_step(self, pairs):
        self.lr *= 3
        return super().begin_step(pairs)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_divergence_keeps_the_best_weights_or_raises():
    X, y = data(n=40)
    with pytest.raises(ValueError, match="diverged at epoch 1"):
        four_layer(dtype=np.float32, l1=0, l2=0).fit(X, y, epochs=5, batch_size=8, optimizer=SGD(lr=1e30))
    model = four_layer(dtype=np.float32, l1=0, l2=0)
    model.fit(X, y, epochs=50, batch_size=8, patience=50, optimizer=_ExplodingSGD(lr=1e-3))
    assert model.epochs_run < 50 and not np.isfinite(model.history["train"][-1])
    assert np.all(np.isfinite(model.predict(X)))
    assert model.best_epoch < model.epochs_run


def multi_output(seed=0, dtype=np.float64, k=3):
    layers = [Dense(6, 8, l1=0.01, l2=0.02), ReLU(), Dense(8, 5, l1=0.01, l2=0.02), Tanh(),
              Dense(5, k, l1=0.01, l2=0.02)]
    return Sequential(layers, seed=seed, dtype=dtype)


def missing_targets(n=12, k=3, seed=5):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 6))
    Y = np.stack([np.sin(X[:, j]) + X[:, j + 1] for j in range(k)], axis=1)
    Y[rng.random(Y.shape) < 0.35] = np.nan
    return X, Y


def test_multi_output_head_with_masked_loss_gradient_matches_finite_differences():
    model = multi_output()
    X, Y = missing_targets()
    loss = MaskedMSELoss()
    loss.forward(model.forward(X), Y)
    model.backward(loss.backward())

    def cost():
        return MaskedMSELoss().forward(model.forward(X), Y) + model.penalty()

    h = 1e-6
    for p, g in model.parameters():
        num = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            old = p[i]
            p[i] = old + h
            fp = cost()
            p[i] = old - h
            fm = cost()
            p[i] = old
            num[i] = (fp - fm) / (2 * h)
        assert rel_err(g, num) < 1e-6


def test_fit_with_masked_loss_learns_the_observed_entries_and_ignores_the_missing_ones():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((300, 6))
    Y = np.stack([X[:, 0] - X[:, 1], X[:, 2] * 0.5, np.tanh(X[:, 3])], axis=1)
    Y_obs = Y.copy()
    Y_obs[rng.random(Y.shape) < 0.4] = np.nan
    model = multi_output(dtype=np.float32)
    with pytest.raises(ValueError, match="NaN"):
        model.fit(X, Y_obs, epochs=1)      # plain MSE refuses missing targets
    model.fit(X[:240], Y_obs[:240], epochs=150, batch_size=32, optimizer=Adam(lr=3e-3),
              validation=(X[240:], Y_obs[240:]), patience=20, loss=MaskedMSELoss())
    assert all(np.isfinite(model.history["val"]))
    pred = model.predict(X[240:])
    assert pred.shape == (60, 3)
    # the missing entries of the held-out rows were never seen: they are predicted as well as the observed ones
    err = (pred - Y[240:]) ** 2
    assert np.mean(err) < 0.2 * np.mean((Y[240:] - Y[:240].mean(axis=0)) ** 2)
    assert np.mean(err[np.isnan(Y_obs[240:])]) < 0.2 * np.var(Y)


def test_masked_fit_equals_plain_fit_when_nothing_is_missing():
    X, _ = missing_targets()
    Y = np.stack([np.sin(X[:, 0]), X[:, 1]], axis=1)
    a, b = multi_output(dtype=np.float32, k=2), multi_output(dtype=np.float32, k=2)
    a.fit(X, Y, epochs=5, batch_size=4)
    b.fit(X, Y, epochs=5, batch_size=4, loss=MaskedMSELoss())
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
