"""Magnitude pruning with retraining (Han et al., NeurIPS 2015 "Learning both weights and connections";
Deep Compression, ICLR 2016, sec. 2).

A Dense layer keeps the connections whose |W_ij| is above a per-layer threshold; the others are set to zero and
frozen there by the layer's ``mask`` (0/1, shaped like W): ``Dense.backward`` multiplies dW by the mask and
``Sequential.train_step`` re-applies ``W *= mask`` after every optimizer step, so pruned weights stay exactly
zero through Adam's momentum. Two threshold rules:

* ``percent``: prune the ``percent`` % smallest-magnitude weights of the layer (already-pruned weights count,
  so a schedule 50 -> 70 -> 90 reaches those sparsities cumulatively). Ties are broken by position, so
  exactly floor(percent / 100 * W.size) weights are zero afterwards (or more, if more were already pruned).
* ``quality``: prune |W_ij| < quality * std(W) (Han et al. 2015), std over all entries of the layer.

``iterative_prune`` alternates pruning and retraining along a schedule of increasing percentages. Since a
pruned layer has fewer connections to regularize, it also lowers the dropout rate that follows each pruned
layer as Han et al. (2015, sec. 3.3) prescribe: D_r = D_o * sqrt(C_r / C_o), with C_o the layer's original
and C_r its remaining number of connections (``scale_dropout``).
"""
import numpy as np

from nnlite.compress.quantize import per_layer
from nnlite.losses import observed_mse
from nnlite.optim import Adam


def layer_threshold_mask(W, percent=None, quality=None, mask=None):
    """0/1 mask (W's dtype, W's shape) keeping the weights that survive the threshold rule.

    Exactly one of ``percent`` (in [0, 100]) and ``quality`` (>= 0) must be given; positions where an
    existing ``mask`` is 0 stay pruned.
    """
    W = np.asarray(W)
    if (percent is None) == (quality is None):
        raise ValueError("give exactly one of percent and quality")
    if not np.all(np.isfinite(W)):
        raise ValueError("weights contain NaN or inf")
    mag = np.abs(W.astype(np.float64)).ravel()
    alive = np.ones(mag.size, dtype=bool) if mask is None else np.asarray(mask).ravel() != 0
    if percent is not None:
        if not 0 <= percent <= 100:
            raise ValueError(f"percent must be in [0, 100], got {percent!r}")
        n_prune = int(np.floor(percent / 100.0 * mag.size + 1e-9))
        # already-pruned weights rank first (magnitude -1), then by |W|, ties by position
        order = np.argsort(np.where(alive, mag, -1.0), kind="stable")
        keep = np.ones(mag.size, dtype=bool)
        keep[order[:n_prune]] = False
    else:
        if not (np.isfinite(quality) and quality >= 0):
            raise ValueError(f"quality must be a finite number >= 0, got {quality!r}")
        keep = mag >= quality * float(np.std(W.astype(np.float64)))
    keep &= alive
    dtype = W.dtype if np.issubdtype(W.dtype, np.floating) else np.float32
    return keep.reshape(W.shape).astype(dtype)


def prune_layer(layer, percent=None, quality=None):
    """Prune one Dense layer in place: set ``layer.mask`` and zero the pruned weights. Returns the mask."""
    mask = layer_threshold_mask(layer.W, percent=percent, quality=quality, mask=layer.mask)
    layer.mask = mask
    layer.W = layer.W * mask
    return layer.mask


def prune_model(model, percent=None, quality=None):
    """Prune every Dense layer of ``model`` in place (magnitude pruning, Han et al. 2015).

    Exactly one of ``percent`` and ``quality`` must be given.

    Parameters
    ----------
    model : Sequential
    percent : float, sequence or None
        Prune the ``percent`` % smallest-magnitude weights of each layer (already-pruned weights count).
    quality : float, sequence or None
        Prune ``|W_ij| < quality * std(W)``.

        Either may be one number or one per Dense layer (None in a list: leave that layer).

    Returns
    -------
    list of ndarray
        The masks, one per Dense layer.

    Raises
    ------
    ValueError
        When neither or both of ``percent`` and ``quality`` are given, or a value is out of range.

    Examples
    --------
    >>> import numpy as np
    >>> from nnlite import Dense, Sequential, prune_model
    >>> net = Sequential([Dense(10, 10)], seed=0)
    >>> masks = prune_model(net, percent=90)
    >>> int(masks[0].sum()), int(np.count_nonzero(net.layers[0].W))
    (10, 10)
    """
    layers = model.dense_layers()
    if (percent is None) == (quality is None):
        raise ValueError("give exactly one of percent and quality")
    values = per_layer(percent if percent is not None else quality, len(layers),
                        "percent" if percent is not None else "quality")
    masks = []
    for layer, v in zip(layers, values):
        if v is None:
            masks.append(layer.mask)
            continue
        masks.append(prune_layer(layer, **({"percent": v} if percent is not None else {"quality": v})))
    return masks


def sparsity(model):
    """Fraction of zero weights per Dense layer, list of floats."""
    return [float(np.mean(layer.W == 0)) for layer in model.dense_layers()]


def _dropout_owners(model):
    """Pairs (Dropout layer, the Dense layer before it) in layer order."""
    pairs, last_dense = [], None
    for layer in model.layers:
        name = type(layer).__name__
        if name == "Dense":
            last_dense = layer
        elif name == "Dropout" and last_dense is not None:
            pairs.append((layer, last_dense))
    return pairs


def scale_dropout(model, original_p):
    """Set each Dropout's p to original_p[i] * sqrt(fraction of nonzero weights of the Dense layer before it)
    (Han et al. 2015, eq. 2: D_r = D_o sqrt(C_r / C_o)). ``original_p``: one p per Dropout, in layer order."""
    for (drop, dense), p0 in zip(_dropout_owners(model), original_p):
        drop.p = float(p0) * float(np.sqrt(np.count_nonzero(dense.W) / dense.W.size))


def iterative_prune(model, X, y, schedule=(50, 70, 80, 90), *, epochs=20, batch_size=32, lr=1e-3,
                    validation=None, patience=None, adjust_dropout=True):
    """Prune-retrain loop (Han et al. 2015).

    For each step of ``schedule``: :func:`prune_model` with ``percent=step``, then (``adjust_dropout``)
    ``scale_dropout`` from the dropout rates the model had on entry, then ``model.fit`` with the masks in force.
    With a validation set and ``patience``, early stopping also considers zero epochs: if no retraining epoch beats
    the pruned model's validation MSE, the retraining is undone.

    Parameters
    ----------
    model : Sequential
        Pruned in place.
    X, y : ndarray
        Retraining rows.
    schedule : sequence, default (50, 70, 80, 90)
        Increasing percents, each one number or one per Dense layer.
    epochs : int, default 20
        Retraining epochs per step.
    batch_size : int, default 32
    lr : float, default 1e-3
        Adam learning rate of the retraining.
    validation : tuple (X_val, y_val) or None
    patience : int or None
    adjust_dropout : bool, default True
        Lower each dropout rate with the connections left in the layer before it.

    Returns
    -------
    list
        The validation MSE after each step (None entries without a validation set).
    """

    original_p = [drop.p for drop, _ in _dropout_owners(model)]
    scores = []

    def val_mse():
        Xv, yv = validation
        return observed_mse(model.predict(Xv), yv)   # NaN targets (missing pairs) are left out

    for step in schedule:
        prune_model(model, percent=step)
        if adjust_dropout:
            scale_dropout(model, original_p)
        before = (val_mse(), model.get_weights()) if validation is not None and patience else None
        if epochs:
            model.fit(X, y, epochs=epochs, batch_size=batch_size, optimizer=Adam(lr=lr),
                      validation=validation, patience=patience)
        if validation is None:
            scores.append(None)
            continue
        score = val_mse()
        if before is not None and before[0] <= score:
            # early stopping may also choose zero epochs: retraining that never beats the freshly
            # pruned weights on the validation set is undone (the masks are unchanged)
            model.set_weights(before[1])
            score = before[0]
        scores.append(score)
    return scores
