"""Input validation for every nnlite estimator and network: one place that says what bad input is.

Bad input raises ``ValueError`` naming the problem: X not numeric, X not 2-D (n_samples, n_features),
X with no samples or no columns, NaN or infinity in X or y, y not of shape (n,) or (n, 1), X and y of
different lengths, values that overflow the requested float dtype, a column count that differs from the
one seen in ``fit``, complex numbers, or a sparse matrix (a TypeError: densify it first). An object array
of numbers (e.g. from a mixed DataFrame) is converted; one holding anything else is refused.

Networks (``Sequential``, the compression pipeline, the numpy-only ``nnlite.runtime``, which imports this module:
it needs numpy alone) go through ``check_network_X`` / ``check_network_Xy``: the same rules, with a target of
one column per network output, NaN targets allowed where a masked loss skips them, and the network's wording
("the network expects k").
"""
import numpy as np


def _is_numeric(a, accept_bool):
    return a.dtype != object and (np.issubdtype(a.dtype, np.number) or (accept_bool and a.dtype == bool))


def as_array(a, name):
    """``a`` as a NumPy array: sparse matrices refused (TypeError), an object array of numbers converted to
    float64 (float() raises TypeError / ValueError on anything else), complex numbers refused."""
    if hasattr(a, "tocsr") and hasattr(a, "nnz"):
        raise TypeError(f"{name} is a sparse matrix; sparse input is not supported, pass {name}.toarray()")
    a = np.asarray(a)
    if a.dtype == object:
        try:
            a = a.astype(np.float64)
        except ValueError as exc:
            raise ValueError(f"{name} must be numeric: {exc}") from None
    if np.iscomplexobj(a):
        raise ValueError(f"Complex data not supported: {name} has dtype {a.dtype}")
    return a


def as_float(X, dtype, name="X", contiguous=None):
    """X converted to ``dtype``, C-contiguous when ``contiguous`` (default: for float32 only, as the tree kernels
    read rows; the linear models keep a Fortran-ordered float64 X); ValueError when a finite value overflows
    the narrower type (|x| > 3.4e38 for float32) or X holds NaN or infinity."""
    dtype = np.dtype(dtype)
    if contiguous is None:
        contiguous = dtype == np.float32
    with np.errstate(over="ignore"):
        out = np.ascontiguousarray(X, dtype=dtype) if contiguous else np.asarray(X, dtype=dtype)
    if not np.isfinite(out).all():
        if not np.isfinite(np.asarray(X)).all():
            raise ValueError(f"{name} contains NaN or infinity")
        raise ValueError(f"{name} has values too large for {dtype.name} (|x| > {np.finfo(dtype).max:.2g})")
    return out


def check_X(X, name="X", dtype=np.float64, n_features=None, accept_bool=False, estimator_name="the estimator"):
    """Return X (n_samples, n_features) after checking it; ValueError names what is wrong.

    dtype: float dtype to convert to (float64 for the linear models, float32 for the trees), or None to keep
    the input's dtype. n_features: the column count seen in ``fit`` (predict/transform), or None.
    accept_bool: whether a boolean array counts as numeric (the trees and the mean baseline accept it).
    estimator_name: named in the column-count message.
    """
    X = as_array(X, name)
    if not _is_numeric(X, accept_bool):
        raise ValueError(f"{name} must be numeric, got dtype {X.dtype}")
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (n_samples, n_features), got shape {X.shape}. Reshape your "
                         "data with X.reshape(-1, 1) if it has one feature or X.reshape(1, -1) if it is one sample")
    if X.shape[0] == 0:
        raise ValueError(f"{name} is empty: it has no samples (shape {X.shape})")
    if X.shape[1] == 0:
        raise ValueError(f"{name} is empty: 0 feature(s) (shape={X.shape!r}) while a minimum of 1 is required.")
    if dtype is None:
        if not np.isfinite(X).all():
            raise ValueError(f"{name} contains NaN or infinity")
    else:
        X = as_float(X, dtype, name)
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"{name} has {X.shape[1]} features, but {estimator_name} is expecting {n_features} "
                         "features as input")
    return X


def check_X_y(X, y, dtype=np.float64, accept_bool=False):
    """Return (X (n, p) as in ``check_X``, y float64 (n,)); y may be (n,) or (n, 1), finite and numeric."""
    X = check_X(X, dtype=dtype, accept_bool=accept_bool)
    y = as_array(y, "y")
    if not _is_numeric(y, accept_bool):
        raise ValueError(f"y must be numeric, got dtype {y.dtype}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"y must have shape (n,) or (n, 1), got shape {y.shape}")
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"y has {y.shape[0]} rows but X has {X.shape[0]} samples")
    y = np.asarray(y, dtype=np.float64)
    if not np.isfinite(y).all():
        raise ValueError("y contains NaN or infinity")
    return X, y


def check_nonconstant(y, what):
    """Raise ValueError when y is constant: `what` (e.g. the alpha grid) is undefined then."""
    if y.shape[0] < 2:
        raise ValueError(f"{what} needs at least 2 samples, got n_samples={y.shape[0]}")
    if np.ptp(y) == 0.0:
        raise ValueError(f"y is constant; {what} is undefined for a constant target")


def check_network_X(X, n_in=None, dtype=None, what=""):
    """X (n, n_in) for a network: 2-D, at least one row, ``n_in`` columns (when given), numeric, finite;
    converted to a C-contiguous array of ``dtype`` (None: checked only, returned as given). ``what`` prefixes
    the messages (e.g. "validation ")."""
    X = as_array(X, f"{what}X")
    if X.ndim != 2:
        raise ValueError(f"{what}X must be a 2-D array (n_samples, n_features), got shape {X.shape}")
    if X.shape[0] == 0:
        raise ValueError(f"{what}X is empty (0 rows)")
    if n_in is not None and X.shape[1] != n_in:
        raise ValueError(f"{what}X has {X.shape[1]} features but the network expects {n_in}")
    if not _is_numeric(X, accept_bool=False):
        raise ValueError(f"{what}X must be numeric, got dtype {X.dtype}")
    if dtype is None:
        if not np.isfinite(X).all():
            raise ValueError(f"{what}X contains NaN or infinity")
        return X
    return as_float(X, dtype, f"{what}X", contiguous=True)


def check_network_Xy(X, y, n_in=None, n_out=None, dtype=None, allow_missing=False, what=""):
    """(X as in ``check_network_X``, y (n, n_out)) for a network: y of shape (n,) or (n, n_out) (a 1-D y becomes
    one column), one row per row of X, numeric, finite -- or NaN where ``allow_missing`` (a masked loss: a
    missing target entry). Both converted to C-contiguous ``dtype`` arrays (None: checked only, y reshaped to
    2-D as a view)."""
    X = check_network_X(X, n_in, dtype, what)
    y = as_array(y, f"{what}y")
    if y.ndim == 1:
        y = y[:, None]
    if y.ndim != 2:
        raise ValueError(f"{what}y must have shape (n,) or (n, n_outputs), got {y.shape}")
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"{what}y has {y.shape[0]} rows but X has {X.shape[0]}")
    if n_out is not None and y.shape[1] != n_out:
        raise ValueError(f"{what}y has {y.shape[1]} columns but the network has {n_out} outputs")
    if not _is_numeric(y, accept_bool=False):
        raise ValueError(f"{what}y must be numeric, got dtype {y.dtype}")
    if dtype is not None:
        y = np.ascontiguousarray(y, dtype=dtype)
    finite = np.isfinite(y)
    if not (finite.all() or (allow_missing and (finite | np.isnan(y)).all())):
        raise ValueError(f"{what}y contains NaN or infinity")
    return X, y
