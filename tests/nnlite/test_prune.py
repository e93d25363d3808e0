"""Magnitude pruning: thresholds, masks that training respects, the prune-retrain schedule."""
import numpy as np
import pytest

from nnlite.compress.prune import iterative_prune, layer_threshold_mask, prune_layer, prune_model, sparsity
from nnlite.layers import Dense
from nnlite.networks import paper_network
from nnlite.optim import Adam


def _problem(n=120, p=12, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)).astype(np.float32)
    y = (np.tanh(X[:, 0]) + 0.5 * X[:, 1] - 0.3 * X[:, 2] * X[:, 3]).astype(np.float32)
    return X, y


def test_percent_prunes_exactly_that_many_smallest_weights():
    W = np.array([[0.5, -0.1, 2.0], [-3.0, 0.05, 0.2]], dtype=np.float32)
    mask = layer_threshold_mask(W, percent=50)
    np.testing.assert_array_equal(mask, [[1, 0, 1], [1, 0, 0]])
    assert mask.dtype == np.float32
    # ties are broken by position, so the count is exact
    mask = layer_threshold_mask(np.ones((4, 5)), percent=30)
    assert mask.sum() == 14


def test_quality_threshold_is_a_multiple_of_the_std():
    W = np.random.default_rng(0).normal(size=(50, 40))
    mask = layer_threshold_mask(W, quality=0.7)
    np.testing.assert_array_equal(mask, np.abs(W) >= 0.7 * W.std())


def test_existing_mask_is_kept_and_schedule_is_cumulative():
    layer = Dense(20, 10, rng=np.random.default_rng(1))
    prune_layer(layer, percent=50)
    first = layer.mask.copy()
    assert np.mean(layer.W == 0) == 0.5
    prune_layer(layer, percent=80)
    assert np.mean(layer.W == 0) == 0.8
    assert np.all(layer.mask <= first)          # once pruned, always pruned
    prune_layer(layer, percent=10)              # a lower percent prunes nothing more
    assert np.mean(layer.W == 0) == 0.8


def test_pruned_weights_stay_exactly_zero_through_adam_steps():
    X, y = _problem()
    model = paper_network(12, [16, 8], dropout=0.2, n_dropout=1, seed=0)
    masks = prune_model(model, percent=[60, 40, 0])
    assert sparsity(model) == pytest.approx([0.6, 0.4, 0.0], abs=0.01)
    opt = Adam(lr=1e-2)
    for _ in range(25):
        model.train_step(X, y, opt)
    for layer, mask in zip(model.dense_layers(), masks):
        assert np.all(layer.W[mask == 0] == 0)
    # surviving weights did move
    assert np.any(model.dense_layers()[0].W[masks[0] == 1] != 0)


def test_iterative_prune_keeps_a_useful_model():
    X, y = _problem(seed=2)
    Xv, yv = _problem(n=60, seed=3)
    model = paper_network(12, [24, 12], dropout=0.0, n_dropout=0, l1=0.0, l2=0.0, seed=0)
    model.fit(X, y, epochs=60, batch_size=32, optimizer=Adam(1e-2))
    base = float(np.mean((model.predict(Xv) - yv) ** 2))
    scores = iterative_prune(model, X, y, schedule=(40, 70), epochs=30, lr=3e-3, validation=(Xv, yv))
    assert len(scores) == 2
    assert sparsity(model)[0] == pytest.approx(0.7, abs=0.01)
    assert scores[-1] < 2 * base + 0.05 and scores[-1] < np.var(yv)


def test_bad_arguments():
    W = np.ones((3, 3))
    with pytest.raises(ValueError, match="exactly one"):
        layer_threshold_mask(W)
    with pytest.raises(ValueError, match="exactly one"):
        layer_threshold_mask(W, percent=10, quality=1)
    with pytest.raises(ValueError, match="percent"):
        layer_threshold_mask(W, percent=120)
    with pytest.raises(ValueError, match="NaN"):
        layer_threshold_mask(np.array([[np.nan]]), percent=10)
    model = paper_network(3, [4], seed=0)
    with pytest.raises(ValueError, match="2 Dense layers"):
        prune_model(model, percent=[10, 20, 30])


def test_dropout_rate_follows_the_remaining_connections():
    from nnlite.compress.prune import scale_dropout

    X, y = _problem()
    model = paper_network(12, [16, 8], dropout=0.4, n_dropout=2, seed=0)
    iterative_prune(model, X, y, schedule=([75, 0, 0],), epochs=1)
    drops = [layer for layer in model.layers if type(layer).__name__ == "Dropout"]
    assert drops[0].p == pytest.approx(0.4 * np.sqrt(0.25))
    assert drops[1].p == pytest.approx(0.4)
    scale_dropout(model, [0.4, 0.2])
    assert drops[1].p == pytest.approx(0.2)
    iterative_prune(model, X, y, schedule=([75, 0, 0],), epochs=1, adjust_dropout=False)
    assert drops[1].p == pytest.approx(0.2)


def test_retraining_that_does_not_help_is_undone():
    import copy

    X, y = _problem(seed=2)
    Xv, yv = _problem(n=60, seed=3)
    model = paper_network(12, [24, 12], dropout=0.0, n_dropout=0, seed=0)
    model.fit(X, y, epochs=40, batch_size=32, optimizer=Adam(1e-2))
    pruned = copy.deepcopy(model)
    prune_model(pruned, percent=60)
    pruned_mse = float(np.mean((pruned.predict(Xv).astype(np.float64) - yv) ** 2))
    # a wild learning rate: whatever happens, the kept weights are never worse than the freshly pruned ones
    scores = iterative_prune(model, X, y, schedule=(60,), epochs=2, lr=0.3, validation=(Xv, yv), patience=1)
    assert scores[0] <= pruned_mse * (1 + 1e-6)
    assert scores[0] == pytest.approx(float(np.mean((model.predict(Xv) - yv) ** 2)))
