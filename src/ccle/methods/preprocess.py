"""Feature preprocessing of the paper (Sec. IV.A): drop constant genes, optional log2(x+1), min-max scaling.

:class:`ExpressionTransform` is the one label-free expression transform: the benchmark, ``train`` and ``predict``
all go through it (``fit`` on a drug's raw rows, ``apply`` to them, ``replay`` on new data by gene name), so
training and prediction agree by construction. The log2 decision belongs to the expression file and is taken
once on the whole matrix (:func:`decide_log2`). The scaler is fitted on training rows only and applied
unchanged (clipped to [0, 1]) to the other rows, so no information from test rows leaks into the features.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

LOG2_CHOICES = ("auto", "yes", "no")


def _check_matrix(X, name="X"):
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features), got shape {X.shape}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {X.shape})")
    if not np.issubdtype(X.dtype, np.floating):
        X = X.astype(np.float64)
    if not np.isfinite(X).all():
        raise ValueError(f"{name} contains NaN or inf")
    return X


def check_xy(X, y=None):
    """One drug's ``X`` (cells x genes, finite, non-empty) and optionally ``y`` (n,) finite float64."""
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X must be a non-empty 2-D array (cells x genes), got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or inf")
    if y is None:
        return X
    y = np.asarray(y, dtype=np.float64).ravel()
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]} values")
    if not np.all(np.isfinite(y)):
        raise ValueError("y contains NaN or inf")
    return X, y


def drop_constant_genes(X, genes):
    """Remove the columns of ``X`` (n, p) whose value is the same in every row (all-zero genes included).

    Returns ``(X_kept (n, p_kept), genes_kept list, dropped list of gene names)``.
    """
    X = _check_matrix(X)
    genes = list(genes)
    if len(genes) != X.shape[1]:
        raise ValueError(f"{len(genes)} gene names for {X.shape[1]} columns")
    keep = X.max(axis=0) != X.min(axis=0)
    return (np.ascontiguousarray(X[:, keep]), [g for g, k in zip(genes, keep) if k],
            [g for g, k in zip(genes, keep) if not k])


def log2p1(X):
    """``log2(X + 1)`` elementwise (the usual transform of RPKM/TPM values), keeping a float dtype.

    Raises ValueError for values below 0 (input already on a log or z-score scale)."""
    X = _check_matrix(X)
    if (X < 0).any():
        raise ValueError("log2p1 expects non-negative RPKM/TPM values; found negative values "
                         "(already log-transformed or z-scored?)")
    return np.log2(X + X.dtype.type(1))


def decide_log2(values, choice="auto"):
    """Whether an expression matrix goes on the ``log2(x + 1)`` scale: ``"yes"`` / ``"no"`` force it;
    ``"auto"``: when every finite value is >= 0 and the largest is above 50 (RPKM/TPM-like; log-scaled or
    z-scored matrices stay as they are). ``values``: the whole matrix (cells x genes), NaN ignored."""
    if choice not in LOG2_CHOICES:
        raise ValueError(f"log2 must be one of {', '.join(LOG2_CHOICES)}, got {choice!r}")
    if choice != "auto":
        return choice == "yes"
    values = np.asarray(values)
    finite = values[np.isfinite(values)]
    return bool(finite.size and finite.min() >= 0 and finite.max() > 50)


@dataclass
class ExpressionTransform:
    """The label-free transform of one drug's raw expression and its decisions: the ``genes`` kept (in order),
    the ``dropped`` genes (constant over the drug's rows, e.g. zero everywhere) and ``log2p1`` (``log2(x + 1)``
    applied). No statistic of a response or of one row reaches another row, so it cannot leak test labels."""
    genes: list
    log2p1: bool = False
    dropped: list = field(default_factory=list)

    @classmethod
    def fit(cls, X, genes, log2p1):
        """Decide the genes to keep on the drug's rows ``X`` (n, genes); ``log2p1`` is the file's decision."""
        _, kept, dropped = drop_constant_genes(X, genes)
        return cls(genes=kept, log2p1=bool(log2p1), dropped=dropped)

    def apply(self, X, genes):
        """``X`` (n, len(genes)) raw -> (n, len(self.genes)) float32: the kept columns, log2(x + 1) if decided."""
        X = _check_matrix(X)
        position = {g: j for j, g in enumerate(genes)}
        X = np.ascontiguousarray(X[:, [position[g] for g in self.genes]])
        if self.log2p1:
            X = log2p1(X)
        return np.asarray(X, dtype=np.float32)

    def replay(self, values, genes, needed=None):
        """The transform on new raw data, genes matched by name: ``values`` (n, len(genes)) -> (n, len(needed))
        float32 for the genes ``needed`` (default the kept genes), NaN where a gene is absent or a value missing
        (the caller fills or refuses them). Raises ValueError for negative values when log2 is applied."""
        needed = list(self.genes if needed is None else needed)
        position = {g: j for j, g in enumerate(genes)}
        idx = np.array([position.get(g, -1) for g in needed], dtype=np.intp)
        have = idx >= 0
        X = np.full((np.asarray(values).shape[0], len(needed)), np.nan, dtype=np.float32)
        X[:, have] = values[:, idx[have]]
        if self.log2p1:
            finite = X[np.isfinite(X)]
            if finite.size and finite.min() < 0:
                raise ValueError("negative expression values, but the model was trained on RPKM/TPM-like values "
                                 "put on the log2(x + 1) scale")
            X = np.log2(X + np.float32(1))  # as log2p1, with the NaNs kept for the caller
        return X

    def describe(self):
        """E.g. ``"log2(x+1), 3 constant genes dropped"``."""
        what = f"{len(self.dropped)} constant genes dropped" if self.dropped else "no constant gene"
        return ("log2(x+1), " if self.log2p1 else "") + what

    def to_dict(self):
        """JSON state (the model file's ``expression_transform``); the kept genes are stored by the caller."""
        return {"log2p1": bool(self.log2p1), "drop_constant_genes": True, "dropped": list(self.dropped),
                "description": self.describe()}

    @classmethod
    def from_dict(cls, state, genes):
        return cls(genes=list(genes), log2p1=bool(state.get("log2p1", False)), dropped=list(state.get("dropped", [])))


def standardize(y):
    """``(y - mean) / std`` (std 1 for a constant y) -> ``(ys float64, mean, std)``; the networks learn ``ys``."""
    y = np.asarray(y, dtype=np.float64)
    mean = float(y.mean())
    scale = float(y.std()) or 1.0
    return (y - mean) / scale, mean, scale


class MinMaxScaler:
    """Min-max scaling to [0, 1] per feature, fitted on training rows only (same formulas as scikit-learn's
    ``MinMaxScaler(clip=True)``).

    ``scale_ = 1 / (data_max_ - data_min_)`` (1 for constant features), ``min_ = -data_min_ * scale_``,
    ``transform(X) = clip(X * scale_ + min_, 0, 1)``.
    """

    def __init__(self, clip=True):
        self.clip = clip

    def fit(self, X, y=None):
        """Learn ``data_min_``, ``data_max_``, ``scale_``, ``min_`` (each shape (p,)) from ``X`` (n, p)."""
        X = _check_matrix(X)
        self.data_min_ = X.min(axis=0).astype(np.float64)
        self.data_max_ = X.max(axis=0).astype(np.float64)
        data_range = self.data_max_ - self.data_min_
        data_range[data_range == 0.0] = 1.0
        self.scale_ = 1.0 / data_range
        self.min_ = -self.data_min_ * self.scale_
        self.n_features_in_ = X.shape[1]
        return self

    def _check_fitted(self, X):
        if not hasattr(self, "scale_"):
            raise ValueError("MinMaxScaler is not fitted yet: call fit(X_train) first")
        X = _check_matrix(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, the scaler was fitted on {self.n_features_in_}")
        return X

    def transform(self, X):
        """``clip(X * scale_ + min_, 0, 1)`` in the dtype of ``X`` (float32 stays float32)."""
        X = self._check_fitted(X)
        out = X * self.scale_.astype(X.dtype) + self.min_.astype(X.dtype)
        if self.clip:
            np.clip(out, 0.0, 1.0, out=out)
        return out

    def fit_transform(self, X, y=None):
        return self.fit(X).transform(X)

    def inverse_transform(self, X):
        """``(X - min_) / scale_``: back to the original units."""
        X = self._check_fitted(X)
        return (X - self.min_.astype(X.dtype)) / self.scale_.astype(X.dtype)

    def to_dict(self):
        """JSON-serializable state (lists of floats), for storing beside a saved model."""
        if not hasattr(self, "scale_"):
            raise ValueError("MinMaxScaler is not fitted yet")
        return {"type": "MinMaxScaler", "clip": bool(self.clip), "data_min": self.data_min_.tolist(),
                "data_max": self.data_max_.tolist(), "min": self.min_.tolist(), "scale": self.scale_.tolist()}

    def subset(self, columns):
        """The fitted scaler of the features ``columns`` (indices or a bool mask) only."""
        return MinMaxScaler.from_dict({"clip": self.clip, "data_min": self.data_min_[columns].tolist(),
                                       "data_max": self.data_max_[columns].tolist()})

    @classmethod
    def from_dict(cls, state):
        """Rebuild a fitted scaler from :meth:`to_dict` output."""
        scaler = cls(clip=state.get("clip", True))
        lo = np.asarray(state["data_min"], dtype=np.float64)
        hi = np.asarray(state["data_max"], dtype=np.float64)
        if lo.shape != hi.shape or lo.ndim != 1:
            raise ValueError("MinMaxScaler state: data_min and data_max must be 1-D of equal length")
        scaler.data_min_, scaler.data_max_ = lo, hi
        data_range = hi - lo
        data_range[data_range == 0.0] = 1.0
        scaler.scale_ = 1.0 / data_range
        scaler.min_ = -lo * scaler.scale_
        scaler.n_features_in_ = lo.shape[0]
        return scaler
