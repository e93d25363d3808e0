"""The per-drug mean baseline, and the input checks shared by the tree-based estimators.

``MeanRegressor`` predicts the training mean of y for every sample: R^2 = 0 on the training data by
construction, so a model that does not beat it on held-out data has learned nothing.
"""
import numpy as np


def check_X(X, name="X", n_features=None):
    """Return X as a 2-D float array (n, p); raise ValueError for a wrong shape, no rows/columns, NaN or inf."""
    X = np.asarray(X)
    if X.dtype == object or not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
        raise ValueError(f"{name} must be numeric, got dtype {X.dtype}")
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (n_samples, n_features), got shape {X.shape}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name} is empty: shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} contains NaN or inf")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"{name} has {X.shape[1]} features, the model was fitted with {n_features}")
    return X


def check_X_y(X, y):
    """Validate a training pair: X (n, p) as in ``check_X``; y (n,) or (n, 1) finite -> float64 (n,)."""
    X = check_X(X)
    y = np.asarray(y)
    if y.dtype == object or not (np.issubdtype(y.dtype, np.number) or y.dtype == bool):
        raise ValueError(f"y must be numeric, got dtype {y.dtype}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D (n_samples,) or (n_samples, 1), got shape {y.shape}")
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]} values")
    if not np.all(np.isfinite(y)):
        raise ValueError("y contains NaN or inf")
    return X, y.astype(np.float64)


class MeanRegressor:
    """Predict the training mean: f(x) = mean(y_train) for all x. Attributes: ``mean_`` (float),
    ``n_features_in_``."""

    def fit(self, X, y):
        X, y = check_X_y(X, y)
        self.mean_ = float(y.mean())
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        """Return (n,) float64 filled with ``mean_``."""
        if not hasattr(self, "mean_"):
            raise ValueError("MeanRegressor is not fitted: call fit(X, y) first")
        X = check_X(X, n_features=self.n_features_in_)
        return np.full(X.shape[0], self.mean_, dtype=np.float64)
