"""Trained quantization by weight sharing (Deep Compression, sec. 3).

Per Dense layer, the surviving (unpruned) weights are clustered by 1-D k-means into k = 2**bits clusters
(``kmeans_1d``), each weight is replaced by its cluster centroid, and only the centroids (the codebook)
and each weight's cluster index need storing. Fine-tuning (``finetune_centroids``) then trains the
*shared* weights: the gradient of centroid c is the sum of the gradients of the weights in cluster c,

    dL/dC_c = sum_{ij : I_ij = c} dL/dW_ij           (Han et al. 2016, eq. 3)

and the cluster assignment I never changes.
"""
from dataclasses import dataclass

import numpy as np

from nnlite._checks import check_network_Xy
from nnlite.losses import MaskedMSELoss
from nnlite.optim import Adam

INITS = ("linear", "density", "random")


def kmeans_1d(values, k, init="linear", max_iter=300, seed=0):
    """Lloyd's k-means on scalars, minimising the inertia ``sum_i (x_i - c[label_i])**2``.

    In 1-D the clusters of a sorted sample are contiguous runs, so each assignment is a ``searchsorted``
    against the midpoints of the sorted centroids (ties go to the lower centroid, as in scikit-learn) and
    each update uses prefix sums. An empty cluster is moved onto the point farthest from its centroid (the
    rule scikit-learn's KMeans uses). Iteration stops when the assignment no longer changes.
    If x has at most k distinct values the centroids are those values (zero inertia), the rest repeat the last.

    Parameters
    ----------
    values : array-like of shape (n,)
        Finite floats.
    k : int
        Clusters, >= 1.
    init : {'linear', 'density', 'random'}, default 'linear'
        Initial centroids (Han et al. 2016, sec. 3.2, found "linear" best because it keeps the rare large
        weights): ``'linear'`` k points equally spaced in [min(x), max(x)]; ``'density'`` the quantiles
        (i + 0.5) / k of x (equal-count bins); ``'random'`` k distinct values of x drawn with ``seed`` (Forgy).
    max_iter : int, default 300
    seed : int, default 0

    Returns
    -------
    centroids : ndarray of shape (k,), float64
    labels : ndarray of shape (n,), int64

    Examples
    --------
    >>> from nnlite import kmeans_1d
    >>> centroids, labels = kmeans_1d([0.0, 0.1, 0.9, 1.0], k=2)
    >>> centroids.round(2), labels
    (array([0.05, 0.95]), array([0, 0, 1, 1]))
    """
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"values must be 1-D, got shape {x.shape}")
    if x.size == 0:
        raise ValueError("k-means of an empty array")
    if not np.all(np.isfinite(x)):
        raise ValueError("values contain NaN or inf")
    if int(k) != k or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    k = int(k)
    order = np.argsort(x, kind="stable")
    xs = x[order]
    uniq = np.unique(xs)
    if uniq.size <= k:
        c = np.concatenate([uniq, np.full(k - uniq.size, uniq[-1])])
        labels = np.searchsorted(uniq, x)
        return c, labels.astype(np.int64)

    if init == "linear":
        c = np.linspace(xs[0], xs[-1], k)
    elif init == "density":
        c = np.quantile(xs, (np.arange(k) + 0.5) / k)
    else:
        c = np.sort(np.random.default_rng(seed).choice(uniq, size=k, replace=False))

    csum = np.concatenate([[0.0], np.cumsum(xs)])
    splits = None
    for _ in range(max_iter):
        c = np.sort(c)
        new_splits = np.searchsorted(xs, (c[:-1] + c[1:]) / 2, side="right")
        # run j is xs[bounds[j]:bounds[j+1]]
        bounds = np.concatenate([[0], new_splits, [xs.size]])
        counts = np.diff(bounds)
        if splits is not None and np.array_equal(new_splits, splits) and counts.min() > 0:
            break
        splits = new_splits
        sums = csum[bounds[1:]] - csum[bounds[:-1]]
        empty = np.flatnonzero(counts == 0)
        if empty.size:
            labels_sorted = np.repeat(np.arange(k), counts)
            dist = np.abs(xs - c[labels_sorted])
            far = np.argsort(dist, kind="stable")[::-1][:empty.size]
            for e, i in zip(empty, far):
                old = labels_sorted[i]
                sums[old] -= xs[i]
                counts[old] -= 1
                sums[e] = xs[i]
                counts[e] = 1
        nonempty = counts > 0
        c = np.where(nonempty, sums / np.maximum(counts, 1), c)
    c = np.sort(c)
    final_splits = np.searchsorted(xs, (c[:-1] + c[1:]) / 2, side="right")
    labels = np.empty(x.size, dtype=np.int64)
    labels[order] = np.repeat(np.arange(k), np.diff(np.concatenate([[0], final_splits, [xs.size]])))
    return c, labels


def kmeans_inertia(values, centroids, labels):
    """sum_i (x_i - centroids[labels_i])**2 in float64."""
    x = np.asarray(values, dtype=np.float64)
    return float(np.sum((x - np.asarray(centroids, dtype=np.float64)[labels]) ** 2))


@dataclass
class LayerCodebook:
    """Weight sharing state of one Dense layer.

    ``centroids`` (k,) in the layer's dtype; ``index`` (m,) flat positions in W of the surviving weights
    (row-major, increasing); ``labels`` (m,) cluster of each surviving weight, in [0, k).
    """
    centroids: np.ndarray
    index: np.ndarray
    labels: np.ndarray

    @property
    def bits(self):
        """Bits of a fixed-width cluster index: ceil(log2 k)."""
        return max(int(np.ceil(np.log2(self.centroids.size))), 0)

    def apply(self, layer):
        """Write the shared weights back: W.flat[index] = centroids[labels] (pruned positions stay 0)."""
        W = layer.W
        W.reshape(-1)[self.index] = self.centroids[self.labels].astype(W.dtype)

    def counts(self):
        """Members per cluster, int64 (k,)."""
        return np.bincount(self.labels, minlength=self.centroids.size)


def surviving_index(layer):
    """Flat positions of the layer's unpruned weights: where ``mask`` is 1, or where W != 0 without a mask."""
    if getattr(layer, "mask", None) is not None:
        return np.flatnonzero(layer.mask.reshape(-1))
    return np.flatnonzero(layer.W.reshape(-1))


def quantize_layer(layer, bits=5, init="linear", seed=0):
    """Cluster the layer's surviving weights into ``2**bits`` shared values (:func:`kmeans_1d`) and write them into W.

    Parameters
    ----------
    layer : Dense
        Changed in place.
    bits : int, default 5
    init : {'linear', 'density', 'random'}, default 'linear'
    seed : int, default 0

    Returns
    -------
    LayerCodebook
        A layer with no surviving weight gets an all-zero codebook.
    """
    if int(bits) != bits or not 1 <= bits <= 16:
        raise ValueError(f"bits must be an integer in [1, 16], got {bits!r}")
    k = 1 << int(bits)
    index = surviving_index(layer)
    if index.size == 0:
        return LayerCodebook(np.zeros(k, dtype=layer.W.dtype), index, np.zeros(0, dtype=np.int64))
    w = layer.W.reshape(-1)[index]
    centroids, labels = kmeans_1d(w, k, init=init, seed=seed)
    book = LayerCodebook(centroids.astype(layer.W.dtype), index, labels)
    book.apply(layer)
    return book


def quantize_model(model, bits=5, init="linear", seed=0):
    """Quantize every Dense layer of ``model`` in place (:func:`quantize_layer`): trained quantization by weight
    sharing (Han et al. 2016, Deep Compression, sec. 3).

    Parameters
    ----------
    model : Sequential
    bits : int or sequence of int, default 5
        One value or one per Dense layer (the paper uses fewer bits for fully connected layers).
    init : {'linear', 'density', 'random'}, default 'linear'
    seed : int, default 0

    Returns
    -------
    list of LayerCodebook

    Examples
    --------
    >>> import numpy as np
    >>> from nnlite import Dense, Sequential, quantize_model
    >>> net = Sequential([Dense(16, 16)], seed=0)
    >>> books = quantize_model(net, bits=2)
    >>> len(np.unique(net.layers[0].W))
    4
    """
    layers = model.dense_layers()
    bits_per = per_layer(bits, len(layers), "bits")
    return [quantize_layer(layer, b, init=init, seed=seed + i) for i, (layer, b) in enumerate(zip(layers, bits_per))]


def finetune_centroids(model, codebooks, X, y, *, epochs=10, batch_size=32, optimizer=None, train_bias=True,
                       validation=None, seed=0):
    """Train the shared weights (Han et al. 2016, sec. 3.1).

    Per mini-batch: forward (training mode), MSE backward, then::

        grad(centroid c) = sum of dW over the weights of cluster c     (np.bincount(labels, dW[index]))

    one optimizer step on the centroids (and the biases if ``train_bias``), then ``W <- centroids[labels]``.
    The MSE is over the observed entries of y (NaN = missing, ``MaskedMSELoss``; all entries when none is NaN).
    The assignment of weights to clusters never changes. With a validation set the centroids and biases with
    the lowest validation MSE seen (including before the first step) are kept at the end.

    Parameters
    ----------
    model : Sequential
    codebooks : list of LayerCodebook
        From :func:`quantize_model`.
    X, y : ndarray
    epochs : int, default 10
    batch_size : int, default 32
    optimizer : Adam or SGD or None
        Default ``Adam(lr=1e-4)``.
    train_bias : bool, default True
    validation : tuple (X_val, y_val) or None
    seed : int, default 0
        Mini-batch order.

    Returns
    -------
    list of float
        Per-epoch validation MSEs (training-batch MSEs averaged over the epoch without a validation set).
    """
    layers = model.dense_layers()
    if len(codebooks) != len(layers):
        raise ValueError(f"{len(codebooks)} codebooks for {len(layers)} Dense layers")
    # y keeps its float type: the loss is taken against it as given
    X, y2 = check_network_Xy(X, y, model.n_in, model.n_out, allow_missing=True)
    opt = optimizer if optimizer is not None else Adam(lr=1e-4)
    rng = np.random.default_rng(seed)
    loss = MaskedMSELoss()   # = MSELoss when y has no NaN; NaN marks a missing target entry
    grads = [np.zeros_like(book.centroids) for book in codebooks]

    def pairs():
        p = [(book.centroids, g) for book, g in zip(codebooks, grads)]
        if train_bias:
            p += [(layer.b, layer.db) for layer in layers]
        return p

    def snapshot():
        return [b.centroids.copy() for b in codebooks], [layer.b.copy() for layer in layers]

    def val_mse():
        Xv, yv = validation
        pred = model.forward(np.asarray(Xv), training=False)
        return loss.forward(pred, np.asarray(yv).reshape(len(yv), -1))

    best = (val_mse(), snapshot()) if validation is not None else None
    history = []
    n = X.shape[0]
    for _ in range(int(epochs)):
        perm = rng.permutation(n)
        batch_losses = []
        for start in range(0, n, batch_size):
            idx = perm[start:start + batch_size]
            pred = model.forward(X[idx], training=True)
            batch_losses.append(loss.forward(pred, y2[idx]))
            model.backward(loss.backward())
            for book, layer, g in zip(codebooks, layers, grads):
                if book.index.size:
                    g[...] = np.bincount(book.labels, weights=layer.dW.reshape(-1)[book.index],
                                         minlength=g.size)
                else:
                    g[...] = 0
            opt.step(pairs())
            for book, layer in zip(codebooks, layers):
                book.apply(layer)
        if validation is not None:
            score = val_mse()
            history.append(score)
            if score < best[0]:
                best = (score, snapshot())
        else:
            history.append(float(np.mean(batch_losses)))
    if best is not None:
        cents, biases = best[1]
        for book, layer, c, b in zip(codebooks, layers, cents, biases):
            book.centroids[...] = c
            layer.b = b
            book.apply(layer)
    return history


def per_layer(value, n, name):
    """``value`` repeated n times when it is a scalar, else its n entries (ValueError naming ``name`` otherwise):
    one setting per Dense layer (bits, prune percent, index bits)."""
    if np.ndim(value) == 0:
        return [value] * n
    value = list(value)
    if len(value) != n:
        raise ValueError(f"{name} has {len(value)} entries for {n} Dense layers")
    return value
