"""A trained model described by plain numpy arrays, for export to other languages (:mod:`nnlite.export.c`).

A :class:`ModelDescription` is the whole path from one raw expression vector to a response and a call:

1. :class:`Preprocessing`, per input gene i (in the order of ``genes``): optional ``t = log2(x + 1)``, then
   ``z = t * scale[i] + offset[i]`` in float32 (the float32 products of ``MinMaxScaler.transform``), clipped
   to ``clip`` = (lo, hi) when given. :meth:`Preprocessing.minmax` builds min-max scaling (``scale = 1 /
   (max - min)``, 1 for a constant gene, ``offset = -min * scale``), :meth:`Preprocessing.standard`
   standardization (``scale = 1 / std``, ``offset = -mean / std``). ``train_min`` / ``train_max`` (on the
   ``t`` scale) give the domain score: the share of genes whose ``t`` lies outside the training range.
2. The model on ``z``, giving a raw output ``u``: a :class:`Committee` of dense networks (each layer
   ``h = act(h @ W + b)`` in float32, act one of ``ACTIVATIONS``; ``u`` = float64 mean of the networks'
   outputs), a :class:`Linear` model (``u = z @ coef + intercept`` in float64), a :class:`Forest` of
   regression trees (``x[feature] <= threshold`` goes left, comparing float32 inputs with float64 thresholds;
   ``u`` = mean over trees of the leaf values) or a :class:`Constant`.
3. The target's scale: ``response = u * target_scale + target_mean`` (float64), the inverse of the
   standardization the model was trained on (1 and 0 when it predicts the response itself).
4. Optional :class:`Calls` (0 resistant, 1 moderate, 2 sensitive from two thresholds and the direction in
   which the response grows with sensitivity), an optional interval ``(response + lower, response + upper)``
   and the domain score.

:meth:`ModelDescription.predict` evaluates the description with numpy, the reference that exported code is
tested against.
"""
from dataclasses import dataclass, field

import numpy as np

ACTIVATIONS = ("identity", "relu", "tanh")


def _vector(values, name, n=None, dtype=np.float64):
    arr = np.asarray(values, dtype=dtype)
    if arr.ndim != 1 or (n is not None and arr.size != n):
        raise ValueError(f"{name} must be a vector of {n if n is not None else 'any number of'} values, "
                         f"got shape {arr.shape}")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf")
    return arr


@dataclass
class Preprocessing:
    """Raw expression -> model inputs (module docstring, step 1). Arrays have one entry per gene.

    ``genes``: input names in the order the exported function reads them (none only for a constant model);
    ``scale``, ``offset``: (p,)
    float64, used as float32; ``log2p1``: apply ``log2(x + 1)`` first (inputs must then be >= 0);
    ``clip``: (lo, hi) or None; ``train_min``, ``train_max``: (p,) training range on the ``log2p1`` scale or None.
    """
    genes: list
    scale: np.ndarray
    offset: np.ndarray
    log2p1: bool = False
    clip: tuple = (0.0, 1.0)
    train_min: np.ndarray = None
    train_max: np.ndarray = None

    def __post_init__(self):
        self.genes = [str(g) for g in self.genes]
        p = len(self.genes)
        if len(set(self.genes)) != p:
            raise ValueError("genes lists a gene more than once")
        if any(not g or "\n" in g or "\r" in g for g in self.genes):
            raise ValueError("gene names must be non-empty single lines")
        self.scale = _vector(self.scale, "scale", p)
        self.offset = _vector(self.offset, "offset", p)
        self.log2p1 = bool(self.log2p1)
        if self.clip is not None:
            lo, hi = (float(v) for v in self.clip)
            if not (np.isfinite(lo) and np.isfinite(hi) and lo <= hi):
                raise ValueError(f"clip must be (lo, hi) with lo <= hi, got {self.clip!r}")
            self.clip = (lo, hi)
        if (self.train_min is None) != (self.train_max is None):
            raise ValueError("give both train_min and train_max, or neither")
        if self.train_min is not None:
            self.train_min = _vector(self.train_min, "train_min", p)
            self.train_max = _vector(self.train_max, "train_max", p)

    @classmethod
    def minmax(cls, genes, data_min, data_max, log2p1=False, clip=True):
        """Min-max scaling to [0, 1] as ``MinMaxScaler`` fits it: ``scale = 1 / (data_max - data_min)`` (1 for
        a constant gene), ``offset = -data_min * scale``, clipped to [0, 1] when ``clip``; the training range
        is [data_min, data_max]."""
        lo = _vector(data_min, "data_min")
        hi = _vector(data_max, "data_max", lo.size)
        rng = hi - lo
        rng[rng == 0.0] = 1.0
        scale = 1.0 / rng
        return cls(list(genes), scale, -lo * scale, log2p1=log2p1, clip=(0.0, 1.0) if clip else None,
                   train_min=lo, train_max=hi)

    @classmethod
    def standard(cls, genes, mean, std, log2p1=False, clip=None, train_min=None, train_max=None):
        """Standardization ``(t - mean) / std`` as ``t * (1 / std) + (-mean / std)`` (std 0 counts as 1)."""
        mean = _vector(mean, "mean")
        std = _vector(std, "std", mean.size).copy()
        std[std == 0.0] = 1.0
        return cls(list(genes), 1.0 / std, -mean / std, log2p1=log2p1, clip=clip, train_min=train_min,
                   train_max=train_max)

    @property
    def n_genes(self):
        return len(self.genes)

    def transformed(self, X):
        """``t``: the raw expression (n, p) as float32, after ``log2(x + 1)`` when ``log2p1``."""
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != self.n_genes:
            raise ValueError(f"expression must have shape (n, {self.n_genes}), got {X.shape}")
        return np.log2(X + np.float32(1)) if self.log2p1 else X

    def transform(self, X):
        """The model inputs z (n, p) float32 for raw expression X (n, p)."""
        t = self.transformed(X)
        with np.errstate(over="ignore", invalid="ignore"):
            z = t * self.scale.astype(np.float32) + self.offset.astype(np.float32)
        if self.clip is not None:
            np.clip(z, np.float32(self.clip[0]), np.float32(self.clip[1]), out=z)
        return z

    def domain_score(self, X):
        """Share of genes (n,) whose transformed value lies outside [train_min, train_max]."""
        t = self.transformed(X).astype(np.float64)
        return np.mean((t < self.train_min) | (t > self.train_max), axis=1)


@dataclass
class DenseLayer:
    """One dense layer ``act(x @ W + b)``: ``W`` (n_in, n_out), ``b`` (n_out,), ``activation`` in ACTIVATIONS."""
    W: np.ndarray
    b: np.ndarray
    activation: str = "identity"

    def __post_init__(self):
        self.W = np.asarray(self.W)
        if self.W.ndim != 2 or self.W.dtype.kind != "f" or not np.all(np.isfinite(self.W)):
            raise ValueError(f"W must be a finite 2-D float array, got shape {self.W.shape} of {self.W.dtype}")
        self.b = _vector(self.b, "b", self.W.shape[1], dtype=self.W.dtype)
        self.activation = str(self.activation).lower()
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {self.activation!r}")


def _network_layers(net):
    """[DenseLayer, ...] of a Sequential (Dense / ReLU / Tanh / Identity / Dropout layers), an
    ``nnlite.runtime.Network`` (``steps``) or a list of DenseLayer."""
    if isinstance(net, (list, tuple)) and all(isinstance(layer, DenseLayer) for layer in net):
        return list(net)
    if hasattr(net, "steps"):
        return [DenseLayer(W, b, act) for W, b, act in net.steps]
    layers = []
    for layer in net.layers:
        kind = type(layer).__name__
        if kind == "Dense":
            layers.append(DenseLayer(layer.W, layer.b))
        elif kind in ("ReLU", "Tanh", "Identity"):
            if not layers or layers[-1].activation != "identity":
                raise ValueError(f"{kind} layer without a Dense layer before it")
            layers[-1].activation = kind.lower()
        elif kind != "Dropout":
            raise ValueError(f"cannot export a layer of type {kind}")
    return layers


@dataclass
class Committee:
    """Dense networks whose outputs are averaged: ``networks`` = list of [DenseLayer, ...], one output each.

    Build it from Sequentials or ``nnlite.runtime`` networks with :meth:`from_networks`.
    """
    networks: list

    def __post_init__(self):
        self.networks = [_network_layers(net) for net in self.networks]
        if not self.networks or any(not net for net in self.networks):
            raise ValueError("a committee needs at least one network of at least one layer")
        n_in = self.networks[0][0].W.shape[0]
        for k, net in enumerate(self.networks):
            if net[0].W.shape[0] != n_in:
                raise ValueError(f"network {k} takes {net[0].W.shape[0]} inputs, network 0 takes {n_in}")
            for i in range(1, len(net)):
                if net[i].W.shape[0] != net[i - 1].W.shape[1]:
                    raise ValueError(f"network {k}: layer {i} takes {net[i].W.shape[0]} inputs, the previous "
                                     f"layer gives {net[i - 1].W.shape[1]}")
            if net[-1].W.shape[1] != 1:
                raise ValueError(f"network {k} has {net[-1].W.shape[1]} outputs; export needs one")

    @classmethod
    def from_networks(cls, networks):
        """The committee of Sequentials or ``nnlite.runtime`` networks (e.g. ``runtime.load(path).networks``)."""
        return cls(list(networks))

    @property
    def n_in(self):
        return self.networks[0][0].W.shape[0]

    def predict(self, Z):
        outs = []
        for net in self.networks:
            h = np.asarray(Z, dtype=net[0].W.dtype)
            for layer in net:
                h = h @ layer.W + layer.b
                if layer.activation == "relu":
                    h = np.maximum(h, 0)
                elif layer.activation == "tanh":
                    h = np.tanh(h)
            outs.append(h[:, 0].astype(np.float64))
        return np.mean(outs, axis=0)


@dataclass
class Linear:
    """``u = z @ coef + intercept`` (float64): elastic net, linear SVR, any linear model on the inputs."""
    coef: np.ndarray
    intercept: float = 0.0

    def __post_init__(self):
        self.coef = _vector(self.coef, "coef")
        self.intercept = float(self.intercept)
        if not np.isfinite(self.intercept):
            raise ValueError("intercept must be finite")

    @property
    def n_in(self):
        return self.coef.size

    def predict(self, Z):
        return np.asarray(Z, dtype=np.float64) @ self.coef + self.intercept


@dataclass
class Forest:
    """Regression trees as flat node arrays (T, K) (``nnlite.tree`` layout): ``feature`` (-1 at a leaf),
    ``threshold`` (``x[feature] <= threshold`` goes to ``left``, else ``right``), ``value`` (the leaf's
    prediction); ``u`` = mean over trees of the leaf each row reaches. ``n_in``: number of inputs."""
    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    n_in: int

    def __post_init__(self):
        self.feature = np.atleast_2d(np.asarray(self.feature, dtype=np.int64))
        shape = self.feature.shape
        self.threshold = np.atleast_2d(np.asarray(self.threshold, dtype=np.float64))
        self.left = np.atleast_2d(np.asarray(self.left, dtype=np.int64))
        self.right = np.atleast_2d(np.asarray(self.right, dtype=np.int64))
        self.value = np.atleast_2d(np.asarray(self.value, dtype=np.float64))
        self.n_in = int(self.n_in)
        for name in ("threshold", "left", "right", "value"):
            if getattr(self, name).shape != shape:
                raise ValueError(f"{name} has shape {getattr(self, name).shape}, feature {shape}")
        if shape[0] == 0 or shape[1] == 0:
            raise ValueError("a forest needs at least one tree of at least one node")
        if self.feature.max() >= self.n_in:
            raise ValueError(f"a split uses feature {self.feature.max()} of {self.n_in} inputs")
        split = self.feature >= 0
        for name in ("left", "right"):
            child = getattr(self, name)[split]
            if child.size and (child.min() < 0 or child.max() >= shape[1]):
                raise ValueError(f"{name} child index outside the tree")
        if not (np.all(np.isfinite(self.threshold[split])) and np.all(np.isfinite(self.value))):
            raise ValueError("thresholds and leaf values must be finite")

    @classmethod
    def from_estimator(cls, est):
        """The trees of a fitted ``nnlite.forest.RandomForestRegressor`` or ``nnlite.tree.DecisionTreeRegressor``."""
        return cls(est.feature_, est.threshold_, est.left_, est.right_, est.value_, est.n_features_in_)

    def predict(self, Z):
        Z = np.asarray(Z, dtype=np.float32)
        acc = np.zeros(Z.shape[0])
        rows = np.arange(Z.shape[0])
        for t in range(self.feature.shape[0]):
            node = np.zeros(Z.shape[0], dtype=np.int64)
            while True:
                f = self.feature[t, node]
                inner = f >= 0
                if not inner.any():
                    break
                go_left = Z[rows[inner], f[inner]] <= self.threshold[t, node[inner]]
                node[inner] = np.where(go_left, self.left[t, node[inner]], self.right[t, node[inner]])
            acc += self.value[t, node]
        return acc / self.feature.shape[0]


@dataclass
class Constant:
    """``u = value`` whatever the input (the mean predictor)."""
    value: float

    def __post_init__(self):
        self.value = float(self.value)
        if not np.isfinite(self.value):
            raise ValueError("the constant must be finite")

    n_in = None

    def predict(self, Z):
        return np.full(np.asarray(Z).shape[0], self.value)


@dataclass
class Calls:
    """Three classes from the response r: with ``strict`` (the calibrated rule) ``hi = r > high``,
    ``lo = r < low``, else (the paper's IQR rule) ``hi = r >= high``, ``lo = r <= low``; ``direction`` +1
    (response grows with sensitivity): sensitive = hi, resistant = lo; -1: sensitive = lo, resistant = hi.
    Resistant wins a tie (low == high, non-strict). Codes: 0 resistant, 1 moderate, 2 sensitive."""
    low: float
    high: float
    direction: int = 1
    strict: bool = True

    def __post_init__(self):
        self.low, self.high = float(self.low), float(self.high)
        if not (np.isfinite(self.low) and np.isfinite(self.high) and self.low <= self.high):
            raise ValueError(f"call thresholds must be finite with low <= high, got {self.low}, {self.high}")
        if self.direction not in (1, -1):
            raise ValueError(f"direction must be 1 or -1, got {self.direction!r}")
        self.strict = bool(self.strict)

    def codes(self, r):
        r = np.asarray(r, dtype=np.float64)
        hi, lo = (r > self.high, r < self.low) if self.strict else (r >= self.high, r <= self.low)
        sensitive, resistant = (hi, lo) if self.direction == 1 else (lo, hi)
        return np.where(resistant, 0, np.where(sensitive, 2, 1))


MODEL_KINDS = {Committee: "committee", Linear: "linear", Forest: "forest", Constant: "constant"}


@dataclass
class ModelDescription:
    """Everything an exported predictor computes (module docstring).

    ``preprocessing``: :class:`Preprocessing`; ``model``: :class:`Committee`, :class:`Linear`,
    :class:`Forest` or :class:`Constant`; ``target_mean``, ``target_scale``: response = u * scale + mean;
    ``calls``: :class:`Calls` or None; ``interval``: (lower, upper) offsets added to the response (e.g.
    (-h, h) for a half-width h, or residual quantiles) or None; ``info``: short text facts (drug, response
    name, method, ...) written into the exported files' comments.
    """
    preprocessing: Preprocessing
    model: object
    target_mean: float = 0.0
    target_scale: float = 1.0
    calls: Calls = None
    interval: tuple = None
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        if type(self.model) not in MODEL_KINDS:
            raise ValueError(f"model must be one of {', '.join(k.__name__ for k in MODEL_KINDS)}, "
                             f"got {type(self.model).__name__}")
        n_in = self.model.n_in
        if self.preprocessing.n_genes == 0 and n_in is not None:
            raise ValueError("only a constant model takes no input gene")
        if n_in is not None and n_in != self.preprocessing.n_genes:
            raise ValueError(f"the model takes {n_in} inputs, the preprocessing gives {self.preprocessing.n_genes}")
        self.target_mean, self.target_scale = float(self.target_mean), float(self.target_scale)
        if not (np.isfinite(self.target_mean) and np.isfinite(self.target_scale) and self.target_scale != 0):
            raise ValueError("target_mean and target_scale must be finite, target_scale non-zero")
        if self.interval is not None:
            lo, hi = (float(v) for v in self.interval)
            if not (np.isfinite(lo) and np.isfinite(hi) and lo <= hi):
                raise ValueError(f"interval must be (lower, upper) offsets with lower <= upper, got {self.interval!r}")
            self.interval = (lo, hi)

    @property
    def kind(self):
        """"committee", "linear", "forest" or "constant"."""
        return MODEL_KINDS[type(self.model)]

    @property
    def has_domain(self):
        return self.preprocessing.train_min is not None

    def predict(self, X):
        """The numpy reference for raw expression X (n, p) -> dict of arrays (n,): ``response`` (float64),
        ``call`` (int, -1 without calls), ``lower``, ``upper`` (NaN without an interval), ``domain`` (NaN
        without a training range). Rows with a non-finite value (or a negative one under log2) are NaN / -1."""
        X = np.asarray(X, dtype=np.float32)
        bad = ~np.all(np.isfinite(X), axis=1)
        if self.preprocessing.log2p1:
            bad |= np.any(X < 0, axis=1)
        Xc = np.where(bad[:, None], np.float32(0), X)
        u = self.model.predict(self.preprocessing.transform(Xc))
        r = u * self.target_scale + self.target_mean
        r[bad] = np.nan
        call = self.calls.codes(r) if self.calls is not None else np.full(r.shape, -1)
        call[bad] = -1
        lo, hi = self.interval if self.interval is not None else (np.nan, np.nan)
        domain = self.preprocessing.domain_score(Xc) if self.has_domain else np.full(r.shape, np.nan)
        domain[bad] = np.nan
        return {"response": r, "call": call, "lower": r + lo, "upper": r + hi, "domain": domain}
