"""PaperModel (ccle.methods.paper_model): the paper's searched, compressed network as an estimator."""
import numpy as np
import pytest

from ccle.methods.estimators import GeneSelector
from ccle.methods.paper_model import STAGES, PaperModel

FAST = {"n_features": 20, "epochs": 80, "patience": 10, "lr": 1e-2, "batch_size": 32, "max_width": 30,
        "max_layers": 2, "retrain_epochs": 3, "finetune_epochs": 3, "prune_percent": 50}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.lognormal(size=(160, 60)).astype(np.float32)
    y = 1.5 * np.log(X[:, 0]) - np.log(X[:, 1]) + 0.2 * rng.normal(size=160)
    return X[:120], y[:120], X[120:], y[120:]


@pytest.fixture(scope="module")
def fitted(data):
    X, y, _, _ = data
    return PaperModel(seed=4, **FAST).fit(X, y)


def test_fit_searches_predicts_and_beats_the_mean(data, fitted):
    X, y, Xt, yt = data
    m = fitted
    assert m.selector_.n_features_ == 20
    assert 1 <= len(m.widths_) <= 2 and all(10 <= w <= 30 and w % 10 == 0 for w in m.widths_)
    assert m.search_calls_ == len(m.search_history_) >= 2
    # the final network is the search's winner, not a retrained one
    assert m.val_mse_ == pytest.approx(min(h["mse"] for h in m.search_history_))
    assert tuple(min(m.search_history_, key=lambda h: h["mse"])["widths"]) == m.widths_
    assert 0 < m.search_seconds_ <= m.fit_seconds_
    pred = m.predict(Xt)
    assert pred.shape == (40,) and np.all(np.isfinite(pred))
    assert np.mean((pred - yt) ** 2) < 0.5 * np.mean((y.mean() - yt) ** 2)
    assert set(m.classify(Xt)) <= {"sensitive", "moderate", "resistant"}


def test_stage_predictions_exist_and_the_huffman_stage_is_what_predicts(data, fitted):
    _, _, Xt, yt = data
    stages = fitted.stage_predictions(Xt)
    assert tuple(stages) == STAGES
    assert all(v.shape == (40,) and np.all(np.isfinite(v)) for v in stages.values())
    np.testing.assert_allclose(stages["huffman"], fitted.predict(Xt), rtol=0, atol=0)
    # decoding the Huffman-coded file gives the quantized network back
    np.testing.assert_allclose(stages["huffman"], stages["quantized"], rtol=1e-5, atol=1e-5)
    # pruning really removed weights, and the file is smaller than dense float32
    assert min(fitted.compression_["sparsity"]) >= 0 and max(fitted.compression_["sparsity"]) > 0.3
    assert fitted.compression_["ratio"] > 2
    assert set(fitted.compression_["val_mse"]) == set(STAGES)


def test_record_fields_and_test_mse_per_stage(data, fitted):
    _, _, Xt, yt = data
    mse = fitted.test_mse_stages(Xt, yt)
    assert tuple(mse) == STAGES
    assert mse["huffman"] == pytest.approx(np.mean((fitted.predict(Xt) - yt) ** 2))
    rec = fitted.record_fields()
    assert rec["widths"] == list(fitted.widths_) and rec["search_calls"] == fitted.search_calls_
    assert rec["compression_ratio"] == pytest.approx(rec["dense_bytes"] / rec["compressed_bytes"])
    assert set(rec["compression_val_mse"]) == set(STAGES) and rec["n_features"] == 20


def test_same_seed_same_result_and_another_seed_differs(data, fitted):
    X, y, Xt, _ = data
    again = PaperModel(seed=4, **FAST).fit(X, y)
    assert again.widths_ == fitted.widths_ and again.search_history_ == fitted.search_history_
    np.testing.assert_array_equal(again.predict(Xt), fitted.predict(Xt))
    other = PaperModel(seed=5, **FAST).fit(X, y)
    assert not np.array_equal(other.predict(Xt), fitted.predict(Xt))


def test_given_widths_skip_the_search_and_search_alone_matches_fit(data, fitted):
    X, y, Xt, _ = data
    fixed = PaperModel(widths=(20, 10), seed=4, **FAST).fit(X, y)
    assert fixed.widths_ == (20, 10) and fixed.search_history_ == [] and fixed.search_calls_ == 0
    assert [layer.W.shape for layer in fixed.network_.dense_layers()] == [(20, 20), (20, 10), (10, 1)]
    # search() on the same rows with the same settings finds the same widths as fit() did
    assert PaperModel(seed=4, **FAST).search(X, y).widths == fitted.widths_
    # widths searched once, then given, reproduce the searched model (the paper protocol's path)
    given = PaperModel(widths=fitted.widths_, seed=4, **FAST).fit(X, y)
    np.testing.assert_allclose(given.predict(Xt), fitted.predict(Xt), rtol=1e-6, atol=1e-6)


def test_a_given_selector_is_used_as_it_is_and_compression_can_be_off(data):
    X, y, Xt, _ = data
    sel = GeneSelector(n_features=5, seed=0).fit(X, y)
    m = PaperModel(widths=(10,), selector=sel, compress=False, **{**FAST, "n_features": 20}).fit(X[:80], y[:80])
    assert m.selector_ is sel and m.selector_.n_features_ == 5
    assert m.compression_ is None and tuple(m.stage_predictions(Xt)) == ("dense",)
    np.testing.assert_array_equal(m.stage_predictions(Xt)["dense"], m.predict(Xt))


def test_bad_input():
    with pytest.raises(ValueError):
        PaperModel(**FAST).fit(np.ones((10, 3)), np.ones(9))
    with pytest.raises(ValueError):
        PaperModel(**FAST).fit(np.full((10, 3), np.nan), np.ones(10))
