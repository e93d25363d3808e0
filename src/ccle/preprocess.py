"""Feature preprocessing of the paper (Sec. IV.A): drop constant genes, optional log2(x+1), min-max scaling.

The scaler is fitted on training rows only and applied unchanged (clipped to [0, 1]) to the other rows, so no
information from test rows leaks into the features.
"""
from __future__ import annotations

import numpy as np


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
                "data_max": self.data_max_.tolist()}

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
