"""1-D k-means (parity with scikit-learn) and trained quantization (shared-weight fine-tuning)."""
import numpy as np
import pytest
from sklearn.cluster import KMeans

from nnlite.compress.quantize import kmeans_1d, kmeans_inertia


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("k", [2, 5, 16, 32])
def test_kmeans_inertia_no_worse_than_sklearn_with_linear_init(seed, k):
    rng = np.random.default_rng(seed)
    # heavy-tailed like trained weights, plus a far-away clump that leaves linear-init clusters empty
    x = np.concatenate([0.1 * rng.standard_t(3, 400), rng.normal(2.0, 0.01, 4)])
    centroids, labels = kmeans_1d(x, k)
    init = np.linspace(x.min(), x.max(), k)[:, None]
    ref = KMeans(n_clusters=k, init=init, n_init=1, tol=0.0, max_iter=300, algorithm="lloyd").fit(x[:, None])
    assert kmeans_inertia(x, centroids, labels) <= ref.inertia_ * (1 + 1e-9) + 1e-12
    # labels point to the nearest centroid
    nearest = np.abs(x[:, None] - centroids[None, :]).min(axis=1)
    np.testing.assert_allclose(np.abs(x - centroids[labels]), nearest, atol=1e-12)


def test_kmeans_is_a_fixed_point_of_lloyd():
    x = np.random.default_rng(3).normal(size=500)
    c, labels = kmeans_1d(x, 8)
    for j in range(8):
        assert np.isclose(c[j], x[labels == j].mean())


def test_kmeans_known_answers_and_few_distinct_values():
    c, labels = kmeans_1d([0.0, 0.1, 10.0, 10.2], 2)
    np.testing.assert_allclose(c, [0.05, 10.1])
    assert list(labels) == [0, 0, 1, 1]
    c, labels = kmeans_1d([3.0, 1.0, 3.0], 4)
    np.testing.assert_array_equal(c[labels], [3.0, 1.0, 3.0])
    assert c.size == 4


@pytest.mark.parametrize("init", ["density", "random"])
def test_other_inits_converge(init):
    x = np.random.default_rng(5).normal(size=300)
    c, labels = kmeans_1d(x, 6, init=init, seed=1)
    assert np.all(np.diff(c) > 0) and np.bincount(labels, minlength=6).min() > 0


def test_kmeans_bad_input():
    with pytest.raises(ValueError, match="empty"):
        kmeans_1d([], 2)
    with pytest.raises(ValueError, match="NaN"):
        kmeans_1d([1.0, np.nan], 2)
    with pytest.raises(ValueError, match="k must"):
        kmeans_1d([1.0, 2.0], 0)
    with pytest.raises(ValueError, match="init"):
        kmeans_1d([1.0, 2.0], 1, init="kmeans++")


# -- weight sharing on a network ----------------------------------------------------------------------------
import copy  # noqa: E402

from nnlite.compress.prune import prune_model  # noqa: E402
from nnlite.compress.quantize import finetune_centroids, quantize_model  # noqa: E402
from nnlite.losses import MSELoss  # noqa: E402
from nnlite.networks import paper_network  # noqa: E402
from nnlite.optim import SGD, Adam  # noqa: E402


def _net_problem(seed=0, n=96):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 10)).astype(np.float32)
    y = (np.sin(X[:, 0]) + 0.5 * X[:, 1] * X[:, 2]).astype(np.float32)
    return X, y


def _trained_pruned_net():
    X, y = _net_problem()
    model = paper_network(10, [32, 16], dropout=0.0, n_dropout=0, seed=1)
    model.fit(X, y, epochs=40, batch_size=32, optimizer=Adam(1e-2))
    prune_model(model, percent=50)
    return model, X, y


def test_quantize_model_shares_weights_and_keeps_pruned_zeros():
    model, _, _ = _trained_pruned_net()
    masks = [layer.mask.copy() for layer in model.dense_layers()]
    books = quantize_model(model, bits=3)
    for layer, book, mask in zip(model.dense_layers(), books, masks):
        assert book.centroids.size == 8 and book.centroids.dtype == layer.W.dtype
        assert np.all(layer.W[mask == 0] == 0)
        np.testing.assert_array_equal(layer.W.ravel()[book.index], book.centroids[book.labels])
        assert np.unique(layer.W[mask == 1]).size <= 8
        np.testing.assert_array_equal(book.index, np.flatnonzero(mask))


def test_centroid_gradient_is_the_sum_of_member_gradients():
    model, X, y = _trained_pruned_net()
    books = quantize_model(model, bits=2)
    # expected: one full-batch SGD step on the centroids with grad_c = sum of dW over cluster c
    ref = copy.deepcopy(model)
    loss = MSELoss()
    loss.forward(ref.forward(X, training=True), y[:, None])
    ref.backward(loss.backward())
    lr = 0.05
    expected = [b.centroids - lr * np.bincount(b.labels, weights=layer.dW.ravel()[b.index], minlength=4)
                for b, layer in zip(books, ref.dense_layers())]
    counts = [b.counts().copy() for b in books]
    finetune_centroids(model, books, X, y, epochs=1, batch_size=len(X), optimizer=SGD(lr=lr), train_bias=False)
    for b, e, c, layer in zip(books, expected, counts, model.dense_layers()):
        np.testing.assert_allclose(b.centroids, e, rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(b.counts(), c)                    # assignment unchanged
        np.testing.assert_array_equal(layer.W.ravel()[b.index], b.centroids[b.labels])


def test_finetuning_changes_centroids_not_assignments_and_keeps_the_best():
    model, X, y = _trained_pruned_net()
    Xv, yv = _net_problem(seed=5, n=64)
    books = quantize_model(model, bits=2)
    before = [b.centroids.copy() for b in books]
    counts = [b.counts().copy() for b in books]
    mse0 = float(np.mean((model.predict(Xv) - yv) ** 2))
    history = finetune_centroids(model, books, X, y, epochs=15, batch_size=16, optimizer=Adam(3e-3),
                                 validation=(Xv, yv), seed=0)
    assert len(history) == 15
    mse1 = float(np.mean((model.predict(Xv) - yv) ** 2))
    assert mse1 <= mse0 + 1e-7
    assert min(history) <= mse0
    assert any(not np.array_equal(a, b.centroids) for a, b in zip(before, books))
    for b, c, layer in zip(books, counts, model.dense_layers()):
        np.testing.assert_array_equal(b.counts(), c)
        assert np.unique(layer.W[layer.mask == 1]).size <= 4
        assert np.all(layer.W[layer.mask == 0] == 0)


def test_finetune_bad_input():
    model, X, y = _trained_pruned_net()
    books = quantize_model(model, bits=2)
    with pytest.raises(ValueError, match="codebooks"):
        finetune_centroids(model, books[:1], X, y)
    with pytest.raises(ValueError, match="rows"):
        finetune_centroids(model, books, X, y[:5])
    with pytest.raises(ValueError, match="bits"):
        quantize_model(model, bits=0)
