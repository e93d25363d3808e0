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
