"""Gene selection of the per-drug models (paper Sec. III-A): min-max scaling, then SVR-RFE.

:class:`GeneSelector` is what PM and SVR use (and, under the paper protocol, every method); methods that use all
genes get the scale-only :func:`scaler_only`.
"""
import time

import numpy as np

from ccle.methods.preprocess import MinMaxScaler, check_xy
from nnlite.linear.svr import LinearSVR
from nnlite.selection import RFE


class GeneSelector:
    """Min-max scaling then SVR-RFE: ``transform(X) = minmax(X)[:, support_]``.

    ``fit(X, y)`` fits :class:`ccle.methods.preprocess.MinMaxScaler` on the rows given, then, when the drug has more
    than ``n_features`` genes, recursive feature elimination with a linear epsilon-SVR (``epsilon`` = 0.1 as in
    the paper) down to ``n_features`` genes, dropping ``step`` (fraction) of the remaining genes per round.
    Attributes: ``scaler_``, ``support_`` (bool, genes), ``n_features_`` (kept), ``fit_seconds_``.
    """

    def __init__(self, n_features=1000, epsilon=0.1, C=1.0, step=0.1, seed=0):
        self.n_features = n_features
        self.epsilon = epsilon
        self.C = C
        self.step = step
        self.seed = seed

    def fit(self, X, y):
        X, y = check_xy(X, y)
        if int(self.n_features) < 1:
            raise ValueError(f"n_features must be >= 1, got {self.n_features}")
        t0 = time.perf_counter()
        self.scaler_ = MinMaxScaler().fit(X)
        n_genes = X.shape[1]
        if n_genes <= int(self.n_features):
            self.support_ = np.ones(n_genes, dtype=bool)
        else:
            Xs = np.asarray(self.scaler_.transform(X), dtype=np.float64)
            svr = LinearSVR(epsilon=self.epsilon, C=self.C, seed=self.seed)
            rfe = RFE(svr, n_features_to_select=int(self.n_features), step=self.step).fit(Xs, y)
            self.support_ = np.asarray(rfe.support_, dtype=bool)
        self.n_features_ = int(self.support_.sum())
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    def scale(self, X):
        """All genes, min-max scaled with the training minima/ranges (clipped to [0, 1]) -> (n, genes)."""
        return np.asarray(self.scaler_.transform(check_xy(X)), dtype=np.float32)

    def transform(self, X):
        """Scaled RFE genes -> (n, n_features_)."""
        return self.scale(X)[:, self.support_]

    def to_dict(self):
        return {"scaler": self.scaler_.to_dict(), "support": np.flatnonzero(self.support_).tolist(),
                "n_genes": int(self.support_.size), "fit_seconds": float(self.fit_seconds_),
                "params": {"n_features": int(self.n_features), "epsilon": self.epsilon, "C": self.C,
                           "step": self.step, "seed": self.seed}}

    @classmethod
    def from_dict(cls, d):
        self = cls(**d["params"])
        self.scaler_ = MinMaxScaler.from_dict(d["scaler"])
        support = np.zeros(int(d["n_genes"]), dtype=bool)
        support[np.asarray(d["support"], dtype=np.int64)] = True
        self.support_ = support
        self.n_features_ = int(support.sum())
        self.fit_seconds_ = float(d.get("fit_seconds", 0.0))
        return self


class _ScaledScaler:
    """Scale-only stand-in for a GeneSelector (methods that use all genes need no RFE)."""

    def __init__(self, scaler):
        self.scaler_ = scaler
        self.fit_seconds_ = 0.0

    def scale(self, X):
        return np.asarray(self.scaler_.transform(check_xy(X)), dtype=np.float32)


def scaler_only(X):
    """A fitted scale-only stand-in for a GeneSelector on the rows of ``X`` (all genes kept)."""
    return _ScaledScaler(MinMaxScaler().fit(X))
