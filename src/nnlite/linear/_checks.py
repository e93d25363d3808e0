"""Input validation shared by the linear estimators and RFE: one place that says what bad input is."""
import numpy as np


def check_X(X, name="X"):
    """Return X as a float64 2-D array (n_samples, n_features); ValueError names what is wrong."""
    X = np.asarray(X)
    if X.dtype == object or not np.issubdtype(X.dtype, np.number):
        raise ValueError(f"{name} must be numeric, got dtype {X.dtype}")
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (n_samples, n_features), got shape {X.shape}")
    if X.shape[0] == 0:
        raise ValueError(f"{name} has no samples (shape {X.shape})")
    if X.shape[1] == 0:
        raise ValueError(f"{name} has zero columns (shape {X.shape}); at least one feature is required")
    X = np.asarray(X, dtype=np.float64)
    if not np.isfinite(X).all():
        raise ValueError(f"{name} contains NaN or infinity")
    return X


def check_X_y(X, y):
    """Return (X float64 (n, p), y float64 (n,)) after checking shapes and finiteness."""
    X = check_X(X)
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D (n_samples,), got shape {y.shape}")
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} samples but y has {y.shape[0]}")
    if y.dtype == object or not np.issubdtype(y.dtype, np.number):
        raise ValueError(f"y must be numeric, got dtype {y.dtype}")
    y = np.asarray(y, dtype=np.float64)
    if not np.isfinite(y).all():
        raise ValueError("y contains NaN or infinity")
    return X, y


def check_nonconstant(y, what):
    """Raise ValueError when y is constant: `what` (e.g. the alpha grid) is undefined then."""
    if y.shape[0] < 2 or np.ptp(y) == 0.0:
        raise ValueError(f"y is constant; {what} is undefined for a constant target")


def check_n_features(X, n_features):
    """Raise ValueError unless X has exactly n_features columns (predict/transform after fit)."""
    X = check_X(X)
    if X.shape[1] != n_features:
        raise ValueError(f"X has {X.shape[1]} features, but the estimator was fitted with {n_features}")
    return X
