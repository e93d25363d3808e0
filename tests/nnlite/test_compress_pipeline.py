"""compress_model end to end on a small network: stages, report arithmetic, file round trip."""
import json

import numpy as np
import pytest

from nnlite.compress.fileformat import load_compressed, save_compressed
from nnlite.compress.pipeline import compress_model
from nnlite.compress.report import STAGES
from nnlite.networks import paper_network
from nnlite.optim import Adam


def _data(seed, n):
    rng = np.random.default_rng(seed)
    X = rng.random((n, 40)).astype(np.float32)
    y = (np.tanh(3 * (X[:, 0] - X[:, 1])) + X[:, 2] * X[:, 3]).astype(np.float32)
    return X, y


@pytest.fixture(scope="module")
def compressed():
    X, y = _data(0, 160)
    Xv, yv = _data(1, 60)
    model = paper_network(40, [48, 24, 12], dropout=0.1, n_dropout=1, seed=0)
    model.fit(X, y, epochs=60, batch_size=32, optimizer=Adam(3e-3))
    before = [w.copy() for w in model.get_weights()]
    out, report = compress_model(model, X, y, Xv, yv, prune_percent=[80, 60, 40, 0], prune_steps=2, bits=4,
                                 index_bits=None, retrain_epochs=8, finetune_epochs=5, patience=4,
                                 metadata={"note": "test"})
    return model, before, out, report, (X, y, Xv, yv)


def test_input_model_is_untouched(compressed):
    model, before, _, _, _ = compressed
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_model_is_pruned_and_quantized(compressed):
    _, _, out, report, _ = compressed
    for layer, p in zip(out.dense_layers(), [0.8, 0.6, 0.4, 0.0]):
        assert np.mean(layer.W == 0) == pytest.approx(p, abs=0.02)
        assert np.unique(layer.W[layer.W != 0]).size <= 16
    assert report.history["sparsity"] == pytest.approx([0.8, 0.6, 0.4, 0.0], abs=0.02)


def test_report_arithmetic(compressed):
    _, _, out, report, _ = compressed
    totals = report.totals()
    assert totals["dense"] == sum(4 * (l.W.size + l.b.size) for l in out.dense_layers())
    assert totals["dense"] > totals["pruned"] > totals["quantized"] >= totals["huffman"]
    assert report.ratio == pytest.approx(totals["dense"] / totals["huffman"])
    for row, layer in zip(report.layers, out.dense_layers()):
        assert row.n_nonzero == np.count_nonzero(layer.W)
        assert row.dense == 4 * (layer.W.size + layer.b.size)
        assert row.pruned == -(-(32 * row.n_nonzero + row.index_bits * (row.n_nonzero + row.n_fillers)
                                 + 32 * layer.b.size) // 8)
    assert report.file_bytes > totals["huffman"]          # the file adds its header
    d = json.loads(json.dumps(report.to_dict()))
    assert set(d["val_mse"]) == set(STAGES)
    assert d["ratios"]["huffman"] == pytest.approx(report.ratio)
    assert "ratio vs dense float32" in str(report)


def test_stage_mses_and_file_round_trip(compressed, tmp_path):
    _, _, out, report, (X, y, Xv, yv) = compressed
    mse = float(np.mean((out.predict(Xv).astype(np.float64) - yv) ** 2))
    assert report.val_mse["quantized"] == pytest.approx(mse, rel=1e-6)
    assert report.val_mse["huffman"] == report.val_mse["quantized"]        # lossless stage
    assert report.val_mse["quantized"] < np.var(yv)                        # still a useful model
    path = tmp_path / "c.nnz"
    assert save_compressed(out, path, metadata={"note": "test"}) == report.file_bytes
    np.testing.assert_array_equal(load_compressed(path).predict(Xv), out.predict(Xv))


def test_bad_input():
    X, y = _data(0, 20)
    model = paper_network(40, [4], seed=0)
    with pytest.raises(ValueError, match="rows"):
        compress_model(model, X, y[:3], X, y)
    with pytest.raises(ValueError, match="prune_percent"):
        compress_model(model, X, y, X, y, prune_percent=150)


def test_prune_schedules():
    from nnlite.compress.pipeline import prune_schedule

    np.testing.assert_allclose(prune_schedule(4), [0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(prune_schedule(2, "cubic"), [0.875, 1.0])
    with pytest.raises(ValueError, match="schedule"):
        prune_schedule(3, "exponential")


def test_auto_prune_percent_keeps_20_sqrt_n_weights():
    from nnlite.compress.pipeline import auto_prune_percent

    p = auto_prune_percent([200_000, 30_000, 400, 10])
    kept = np.array([200_000, 30_000, 400, 10]) * (1 - p / 100)
    np.testing.assert_allclose(kept, [20 * np.sqrt(200_000), 20 * np.sqrt(30_000), 400, 10])
    X, y = _data(0, 20)
    with pytest.raises(ValueError, match="auto"):
        compress_model(paper_network(40, [4], seed=0), X, y, X, y, prune_percent="most")


def test_multi_output_network_with_missing_targets_compresses_on_the_observed_entries(tmp_path):
    from nnlite.activations import ReLU
    from nnlite.layers import Dense
    from nnlite.losses import MaskedMSELoss, observed_mse
    from nnlite.model import Sequential

    rng = np.random.default_rng(2)
    X = rng.random((200, 40)).astype(np.float32)
    Y = np.stack([np.tanh(3 * (X[:, 0] - X[:, 1])), X[:, 2] * X[:, 3], X[:, 4] - X[:, 5]], axis=1)
    Y[rng.random(Y.shape) < 0.3] = np.nan
    model = Sequential([Dense(40, 32), ReLU(), Dense(32, 16), ReLU(), Dense(16, 3)], seed=0)
    model.fit(X[:150], Y[:150], epochs=60, batch_size=32, optimizer=Adam(3e-3), loss=MaskedMSELoss())
    out, report = compress_model(model, X[:150], Y[:150], X[150:], Y[150:], prune_percent=30, bits=5,
                                 retrain_epochs=5, finetune_epochs=5, patience=3, lr=3e-3)
    assert out.n_out == 3
    for stage in ("dense", "pruned", "quantized", "huffman"):
        assert np.isfinite(report.val_mse[stage])
    assert report.val_mse["dense"] == pytest.approx(observed_mse(model.predict(X[150:]), Y[150:]))
    mean_mse = observed_mse(np.broadcast_to(np.nanmean(Y[:150], axis=0), (50, 3)), Y[150:])
    assert report.val_mse["huffman"] < min(1.5 * report.val_mse["dense"], 0.5 * mean_mse)
    save_compressed(out, tmp_path / "m.nnz")
    np.testing.assert_allclose(load_compressed(tmp_path / "m.nnz").predict(X[150:]), out.predict(X[150:]),
                               rtol=1e-6, atol=1e-6)


def test_the_network_is_encoded_once_and_the_encoding_writes_the_same_file(monkeypatch):
    """compress_model encodes each Dense layer once; report.encoded writes the bytes a fresh encoding writes,
    and an encoding that no longer matches the weights is refused."""
    import nnlite.compress.fileformat as ff

    X, y = _data(0, 80)
    Xv, yv = _data(1, 30)
    model = paper_network(40, [12, 6], seed=1).fit(X, y, epochs=5, batch_size=16)
    calls = []
    real = ff.encode_weights
    monkeypatch.setattr(ff, "encode_weights", lambda W, b=None: calls.append(W.shape) or real(W, b))
    out, report = compress_model(model, X, y, Xv, yv, prune_percent=50.0, retrain_epochs=2, finetune_epochs=2)
    assert calls == [(40, 12), (12, 6), (6, 1)]
    assert ff.dumps_compressed(out, encoded=report.encoded) == ff.dumps_compressed(out)
    assert len(ff.dumps_compressed(out, encoded=report.encoded)) == report.file_bytes
    out.dense_layers()[1].W[0, 0] += 1.0
    with pytest.raises(ValueError, match="encoding of Dense layer 1 does not hold its weights"):
        ff.dumps_compressed(out, encoded=report.encoded)
    assert "encoded" not in report.to_dict()
