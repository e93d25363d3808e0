"""Builders of two feed-forward regression networks (the deep one follows Sun et al.'s model, Sec. B).

``paper_network``: hidden Dense layers of the given widths with activations alternating ReLU, Tanh, ReLU, ...
(the paper's search starts from a ReLU layer), inverted dropout after the activation of the first ``n_dropout``
hidden layers, L1 + L2 penalties on every Dense layer, and a linear Dense output of width 1.
``simple_ann_network``: the paper's "simple ANN" baseline, the same Dense layers with Identity activations and
no dropout (a deep linear model).

Initialization is left to ``Sequential(seed)``: He for a Dense followed by ReLU, Glorot otherwise.
"""
import numpy as np

from nnlite.activations import Identity, ReLU, Tanh
from nnlite.layers import Dense, Dropout
from nnlite.model import Sequential

DEFAULT_L1 = 1e-5
DEFAULT_L2 = 1e-4


def _check_widths(n_in, widths):
    widths = [int(w) for w in widths]
    if isinstance(n_in, bool) or int(n_in) != n_in or n_in < 1:
        raise ValueError(f"n_in must be a positive integer, got {n_in!r}")
    if any(w < 1 for w in widths):
        raise ValueError(f"hidden widths must be positive integers, got {widths}")
    return int(n_in), widths


def paper_network(n_in, widths, dropout=0.4, n_dropout=3, l1=DEFAULT_L1, l2=DEFAULT_L2, seed=0, dtype=np.float32):
    """The paper's network: per hidden width ``w_k``, ``Dense(w_k)``, ReLU / Tanh alternating from ReLU, and
    ``Dropout(dropout)`` for ``k < n_dropout``; then a linear ``Dense(w_last, 1)``.

    With ``widths=()`` it is the linear model ``Dense(n_in, 1)``.

    Parameters
    ----------
    n_in : int
        Input features.
    widths : sequence of int
        Hidden layer widths.
    dropout : float, default 0.4
    n_dropout : int, default 3
        Hidden layers followed by dropout, counted from the first.
    l1, l2 : float, default 1e-5, 1e-4
        Penalties of every Dense layer.
    seed : int, default 0
    dtype : numpy dtype, default float32

    Returns
    -------
    Sequential

    Examples
    --------
    >>> from nnlite import paper_network
    >>> paper_network(10, (8, 4), seed=0).layers  # doctest: +NORMALIZE_WHITESPACE
    [Dense(n_in=10, n_out=8, l1=1e-05, l2=0.0001, init='auto', dtype='float32'), ReLU(), Dropout(p=0.4),
     Dense(n_in=8, n_out=4, l1=1e-05, l2=0.0001, init='auto', dtype='float32'), Tanh(), Dropout(p=0.4),
     Dense(n_in=4, n_out=1, l1=1e-05, l2=0.0001, init='auto', dtype='float32')]
    """
    n_in, widths = _check_widths(n_in, widths)
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    if n_dropout < 0:
        raise ValueError(f"n_dropout must be >= 0, got {n_dropout!r}")
    layers, d = [], n_in
    for k, w in enumerate(widths):
        layers.append(Dense(d, w, l1=l1, l2=l2, dtype=dtype))
        layers.append(ReLU() if k % 2 == 0 else Tanh())
        if k < n_dropout and dropout > 0:
            layers.append(Dropout(dropout))
        d = w
    layers.append(Dense(d, 1, l1=l1, l2=l2, dtype=dtype))
    return Sequential(layers, seed=seed, dtype=dtype)


def simple_ann_network(n_in, widths, l1=DEFAULT_L1, l2=DEFAULT_L2, seed=0, dtype=np.float32):
    """The paper's simple ANN: per hidden width ``[Dense(w_k), Identity]``, then ``Dense(w_last, 1)``.

    Parameters
    ----------
    n_in : int
    widths : sequence of int
    l1, l2 : float, default 1e-5, 1e-4
    seed : int, default 0
    dtype : numpy dtype, default float32

    Returns
    -------
    Sequential
    """
    n_in, widths = _check_widths(n_in, widths)
    layers, d = [], n_in
    for w in widths:
        layers.append(Dense(d, w, l1=l1, l2=l2, dtype=dtype))
        layers.append(Identity())
        d = w
    layers.append(Dense(d, 1, l1=l1, l2=l2, dtype=dtype))
    return Sequential(layers, seed=seed, dtype=dtype)


def committee_network(networks):
    """One Sequential whose output is the mean of the outputs of ``networks`` (same layer types in the same
    order, any widths): the first Dense layers are concatenated side by side, the hidden ones placed
    block-diagonally, and the output layers stacked and divided by m = len(networks):

        W_1 = [W_1^(1) ... W_1^(m)],  W_l = diag(W_l^(1), ..., W_l^(m)),  W_L = [W_L^(1); ...; W_L^(m)] / m,
        b_L = mean_r b_L^(r)

    Elementwise activations act on each block alone, so the result equals the committee mean up to float
    rounding; dropout layers are dropped (this is an inference network). The off-block zeros are pruned
    positions (masks), which the ``.nnz`` gap coding stores almost for free. Shapes: each network maps
    (n, n_in) -> (n, k); the committee does too.
    """
    nets = list(networks)
    if not nets:
        raise ValueError("committee_network needs at least one network")
    kinds = [[type(layer).__name__ for layer in net.layers if type(layer) is not Dropout] for net in nets]
    if any(k != kinds[0] for k in kinds):
        raise ValueError("committee networks must have the same layer types in the same order")
    m = len(nets)
    dtype = nets[0].dtype
    per_net = [[layer for layer in net.layers if type(layer) is not Dropout] for net in nets]
    n_dense = sum(1 for k in kinds[0] if k == "Dense")
    layers, d = [], 0
    for pos, kind in enumerate(kinds[0]):
        if kind != "Dense":
            layers.append(type(per_net[0][pos])())
            continue
        d += 1
        parts = [ls[pos] for ls in per_net]
        if d == 1 and d == n_dense:
            W = sum(p.W.astype(np.float64) for p in parts) / m
            b = sum(p.b.astype(np.float64) for p in parts) / m
        elif d == 1:
            W, b = np.concatenate([p.W for p in parts], axis=1), np.concatenate([p.b for p in parts])
        elif d == n_dense:
            W = np.concatenate([p.W for p in parts], axis=0) / dtype.type(m)
            b = sum(p.b.astype(np.float64) for p in parts) / m
        else:
            W = np.zeros((sum(p.n_in for p in parts), sum(p.n_out for p in parts)), dtype)
            r = c = 0
            for p in parts:
                W[r:r + p.n_in, c:c + p.n_out] = p.W
                r, c = r + p.n_in, c + p.n_out
            b = np.concatenate([p.b for p in parts])
        layer = Dense(W.shape[0], W.shape[1], dtype=dtype)   # setting W and b marks it initialized
        layer.W, layer.b = W, b
        if not np.all(layer.W):
            layer.mask = (layer.W != 0).astype(dtype)
        layers.append(layer)
    return Sequential(layers, seed=nets[0].seed, dtype=dtype)
