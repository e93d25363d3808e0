"""BatchedCommittee / fit_committee: the batched pass computes each member's single-network gradients, a committee
trains each member as a lone ``Sequential.fit`` would (float64: to rounding; float32: to the documented
tolerance), early stopping is per member, and the result is deterministic."""
import copy

import numpy as np
import pytest

from nnlite.activations import Identity, ReLU, Tanh
from nnlite.committee import BatchedCommittee, _epoch_batches, fit_committee
from nnlite.layers import Dense, Dropout
from nnlite.losses import MaskedMSELoss
from nnlite.model import Sequential
from nnlite.networks import paper_network
from nnlite.optim import Adam


def net(seed, l2=1e-3, dtype=np.float64, p_in=12, dropout=0.3):
    return paper_network(p_in, [10, 6, 4], dropout=dropout, n_dropout=2, l1=1e-4, l2=l2, seed=seed, dtype=dtype)


def data(n=90, p=12, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)).astype(dtype)
    y = (np.sin(X[:, 0]) + X[:, 1] * X[:, 2] + 0.1 * rng.standard_normal(n)).astype(dtype)
    return X, y


def rows():
    """Three members with different row counts (so different last-batch sizes and batch counts at batch 16)."""
    return ([np.arange(0, 60), np.arange(10, 90), np.arange(0, 90, 2)],
            [np.arange(60, 90), np.arange(0, 10), np.arange(1, 90, 2)])


def lone_fit(seed, l2, tr, va, X, y, dtype=np.float64, **kw):
    m = net(seed, l2, dtype)
    m.fit(X[tr], y[tr], optimizer=Adam(lr=3e-3), validation=(X[va], y[va]), **kw)
    return m


def test_batched_gradients_equal_each_members_single_network_gradients():
    X, y = data()
    members = [net(s, l2) for s, l2 in ((0, 1e-3), (1, 1e-2), (2, 0.0))]
    for m in members:   # non-zero biases so that every term is exercised
        for layer in m.dense_layers():
            layer.b = np.random.default_rng(layer.n_in).standard_normal(layer.n_out) * 0.3
    singles = copy.deepcopy(members)   # same weights and the same dropout generators
    committee = BatchedCommittee(members)
    xb = np.stack([X[0:16], X[20:36], X[50:66]])
    G = np.random.default_rng(5).standard_normal((3, 16, 1))
    out = committee.forward(xb, training=True)
    dX = committee.backward(G)
    for j, single in enumerate(singles):
        np.testing.assert_allclose(out[j], single.forward(xb[j], training=True), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(dX[j], single.backward(G[j]), rtol=1e-10, atol=1e-13)
        for st, layer in zip(committee.steps, single.dense_layers()):
            np.testing.assert_allclose(st.dW[j], layer.dW, rtol=1e-10, atol=1e-13)
            np.testing.assert_allclose(st.db[j], layer.db, rtol=1e-10, atol=1e-13)


def test_committee_trains_each_member_as_a_lone_fit_float64():
    X, y = data()
    tr, va = rows()
    l2s = (1e-3, 1e-2, 3e-3)
    lone = [lone_fit(j, l2s[j], tr[j], va[j], X, y, epochs=40, batch_size=16, patience=4) for j in range(3)]
    members = [net(j, l2s[j]) for j in range(3)]
    opts = [Adam(lr=3e-3) for _ in range(3)]
    fit_committee(members, X, y, tr, va, epochs=40, batch_size=16, optimizers=opts, patience=4)
    for a, b in zip(lone, members):
        assert (b.epochs_run, b.best_epoch) == (a.epochs_run, a.best_epoch)
        for wa, wb in zip(a.get_weights(), b.get_weights()):
            np.testing.assert_allclose(wb, wa, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(b.history["val"], a.history["val"], rtol=1e-10)
        np.testing.assert_allclose(b.history["train"], a.history["train"], rtol=1e-10)
    # each Adam ends with its member's step count: batches per epoch x epochs run
    assert [o.t for o in opts] == [-(-len(r) // 16) * m.epochs_run for r, m in zip(tr, members)]


def test_one_member_reproduces_sequential_fit_float32():
    X, y = data(dtype=np.float32)
    tr, va = rows()
    a = lone_fit(7, 1e-3, tr[0], va[0], X, y, dtype=np.float32, epochs=15, batch_size=16)
    b = net(7, 1e-3, np.float32)
    fit_committee([b], X, y, [tr[0]], [va[0]], epochs=15, batch_size=16, optimizers=[Adam(lr=3e-3)])
    # float32: the stacked products may associate sums differently from the lone ones (rounding only)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wb, wa, rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(b.history["val"], a.history["val"], rtol=1e-4)
    assert b.best_epoch == b.epochs_run == 15


def test_full_batch_and_no_validation_monitor_the_training_objective():
    X, y = data()
    tr, _ = rows()
    a = net(3, 1e-3)
    a.fit(X[tr[2]], y[tr[2]], epochs=12, batch_size=None, optimizer=Adam(lr=3e-3), patience=3)
    b = net(3, 1e-3)
    fit_committee([b], X, y, [tr[2]], None, epochs=12, batch_size=None, optimizers=[Adam(lr=3e-3)], patience=3)
    assert b.history["val"] == []
    np.testing.assert_allclose(b.history["train"], a.history["train"], rtol=1e-10)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wb, wa, rtol=1e-10, atol=1e-12)


def test_a_member_that_stops_early_keeps_its_best_weights_while_the_others_go_on():
    X, y = data()
    tr, va = rows()
    # member 1 takes large steps: it overfits and stops long before the slow learners around it
    lrs = (3e-4, 5e-2, 3e-4)
    members = [net(j) for j in range(3)]
    fit_committee(members, X, y, tr, va, epochs=60, batch_size=16, optimizers=[Adam(lr=lr) for lr in lrs],
                  patience=3)
    runs = [m.epochs_run for m in members]
    assert runs[1] < min(runs[0], runs[2])
    for j, m in enumerate(members):
        lone = net(j)
        lone.fit(X[tr[j]], y[tr[j]], epochs=60, batch_size=16, optimizer=Adam(lr=lrs[j]),
                 validation=(X[va[j]], y[va[j]]), patience=3)
        assert (m.epochs_run, m.best_epoch) == (lone.epochs_run, lone.best_epoch)
        for wa, wb in zip(lone.get_weights(), m.get_weights()):
            np.testing.assert_allclose(wb, wa, rtol=1e-10, atol=1e-12)
        # the kept weights are those of the best epoch: their validation MSE is the best recorded
        pred = m.predict(X[va[j]])
        assert np.mean((pred - y[va[j]]) ** 2) == pytest.approx(min(m.history["val"]), rel=1e-10)


def test_dropout_layers_sharing_one_generator_draw_in_step_order():
    """Two dropout layers drawing from one generator interleave their draws step by step; the committee keeps
    that order (it draws a whole epoch at once only when every layer has a generator of its own)."""
    X, y = data()
    tr, va = rows()

    def shared(seed):
        g = np.random.default_rng(seed + 100)
        return Sequential([Dense(12, 8, l1=1e-4, l2=1e-3), Tanh(), Dropout(0.3, rng=g),
                           Dense(8, 4, l1=1e-4, l2=1e-3), ReLU(), Dropout(0.2, rng=g), Dense(4, 1)],
                          seed=seed, dtype=np.float64)

    members = [shared(0), shared(1)]
    assert not BatchedCommittee(members)._epoch_draws
    fit_committee(members, X, y, tr[:2], va[:2], epochs=6, batch_size=16, optimizers=[Adam(lr=3e-3), Adam(lr=3e-3)])
    for j, m in enumerate(members):
        lone = shared(j)
        lone.fit(X[tr[j]], y[tr[j]], epochs=6, batch_size=16, optimizer=Adam(lr=3e-3),
                 validation=(X[va[j]], y[va[j]]))
        np.testing.assert_allclose(m.history["val"], lone.history["val"], rtol=1e-10)
        for wa, wb in zip(lone.get_weights(), m.get_weights()):
            np.testing.assert_allclose(wb, wa, rtol=1e-10, atol=1e-12)


def test_epoch_batches_pad_each_batch_with_its_first_row():
    orders = [np.array([5, 3, 8, 1, 0]), None, np.array([7, 2, 4])]
    idx, counts = _epoch_batches(orders, np.array([2, 2, 3]), 3)
    np.testing.assert_array_equal(counts, [[2, 0, 3], [2, 0, 0], [1, 0, 0]])
    np.testing.assert_array_equal(idx[:, 0], [[5, 3, 5], [8, 1, 8], [0, 0, 0]])
    np.testing.assert_array_equal(idx[0, 2], [7, 2, 4])
    assert not idx[:, 1].any() and not idx[1:, 2].any()


def test_masked_loss_with_missing_targets_matches_lone_fit():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((70, 5))
    Y = np.stack([X[:, 0] + X[:, 1], X[:, 2] - X[:, 3]], axis=1)
    Y[rng.random(Y.shape) < 0.3] = np.nan

    def multi(seed):
        return Sequential([Dense(5, 6, l1=1e-4, l2=1e-3), Tanh(), Dropout(0.2), Dense(6, 2, l1=1e-4, l2=1e-3)],
                          seed=seed, dtype=np.float64)

    tr = [np.arange(0, 50), np.arange(20, 70)]
    va = [np.arange(50, 70), np.arange(0, 20)]
    members = [multi(0), multi(1)]
    fit_committee(members, X, Y, tr, va, epochs=10, batch_size=8, optimizers=[Adam(lr=1e-2) for _ in range(2)],
                  loss=MaskedMSELoss())
    for j, m in enumerate(members):
        lone = multi(j)
        lone.fit(X[tr[j]], Y[tr[j]], epochs=10, batch_size=8, optimizer=Adam(lr=1e-2),
                 validation=(X[va[j]], Y[va[j]]), loss=MaskedMSELoss())
        np.testing.assert_allclose(m.history["val"], lone.history["val"], rtol=1e-10)
        for wa, wb in zip(lone.get_weights(), m.get_weights()):
            np.testing.assert_allclose(wb, wa, rtol=1e-10, atol=1e-12)


def test_deterministic_and_members_independent_of_their_companions():
    X, y = data(dtype=np.float32)
    tr, va = rows()

    def run(which):
        members = [net(j, dtype=np.float32) for j in which]
        fit_committee(members, X, y, [tr[j] for j in which], [va[j] for j in which], epochs=8, batch_size=16,
                      optimizers=[Adam(lr=3e-3) for _ in which], patience=3)
        return [np.concatenate([w.ravel() for w in m.get_weights()]) for m in members]

    first, again = run([0, 1, 2]), run([0, 1, 2])
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    # member 2 trained alone sees the same rows, batches and masks: the same weights up to float32 rounding
    np.testing.assert_allclose(run([2])[0], first[2], rtol=1e-3, atol=1e-5)


def test_bad_committees_are_refused():
    X, y = data()
    tr, va = rows()
    with pytest.raises(ValueError, match="same layer shapes"):
        BatchedCommittee([net(0), paper_network(12, [10, 5, 4], dropout=0.3, n_dropout=2, seed=2,
                                                dtype=np.float64)])
    with pytest.raises(ValueError, match="dropout"):
        BatchedCommittee([net(0), net(1, dropout=0.2)])
    with pytest.raises(ValueError, match="at least one"):
        BatchedCommittee([])
    with pytest.raises(ValueError, match="dtype"):
        BatchedCommittee([net(0), net(1, dtype=np.float32)])
    masked = net(0)
    masked.dense_layers()[0].mask = np.ones((12, 10))
    with pytest.raises(ValueError, match="pruning masks"):
        BatchedCommittee([masked])
    with pytest.raises(ValueError, match="one index array per member"):
        fit_committee([net(0), net(1)], X, y, tr, epochs=2)
    with pytest.raises(ValueError, match="outside"):
        fit_committee([net(0)], X, y, [np.array([0, 90])], epochs=2)
    with pytest.raises(ValueError, match="Adam"):
        fit_committee([net(0)], X, y, [tr[0]], epochs=2, optimizers=[None])
    plain = Sequential([Dense(12, 4), Identity(), Dense(4, 1)], seed=0, dtype=np.float64)
    lone_relu = Sequential([Dense(12, 4), ReLU(), Dense(4, 1)], seed=0, dtype=np.float64)
    with pytest.raises(ValueError, match="same layer shapes and activations"):
        BatchedCommittee([plain, lone_relu])
