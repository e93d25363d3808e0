"""Loss functions."""
import numpy as np


def _batch_pair(pred, y):
    """pred and y as arrays of one shape (n, k) (a 1-D one is a column); ValueError when they differ or are empty."""
    pred = np.asarray(pred)
    y = np.asarray(y)
    if pred.ndim == 1:
        pred = pred[:, None]
    if y.ndim == 1:
        y = y[:, None]
    if pred.shape != y.shape:
        raise ValueError(f"pred has shape {pred.shape} but y has shape {y.shape}")
    if pred.size == 0:
        raise ValueError("MSE of an empty batch")
    return pred, y


class MSELoss:
    """Mean squared error L = (1 / (n k)) * sum_ij (pred_ij - y_ij)^2 over pred, y of shape (n, k).

    ``y`` may also be (n,) when k = 1. ``backward()`` returns dL/dpred = 2 (pred - y) / (n k), shaped like pred.
    """

    def __init__(self):
        self._diff = None

    def forward(self, pred, y):
        pred, y = _batch_pair(pred, y)
        self._diff = pred - y
        return float(np.mean(self._diff.astype(np.float64, copy=False) ** 2))

    def backward(self):
        if self._diff is None:
            raise ValueError("backward called before forward")
        return self._diff * self._diff.dtype.type(2.0 / self._diff.size)


def observed_mse(pred, y):
    """Mean of (pred_ij - y_ij)^2 over the entries where y is finite (NaN marks a missing target) -> float.

    Equals the plain MSE when nothing is missing; NaN when nothing is observed. Shapes: pred and y (n, k) or (n,).
    """
    pred = np.asarray(pred, dtype=np.float64).reshape(len(pred), -1)
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    if pred.shape != y.shape:
        raise ValueError(f"pred has shape {pred.shape} but y has shape {y.shape}")
    seen = np.isfinite(y)
    n_seen = int(seen.sum())
    if n_seen == 0:
        return float("nan")
    d = np.where(seen, pred - np.where(seen, y, 0.0), 0.0)
    return float(np.sum(d * d) / n_seen)


class MaskedMSELoss:
    """MSE over the observed entries of a target with missing values (NaN):

        L = (1 / |O|) * sum_{(i, j) in O} (pred_ij - y_ij)^2,   O = {(i, j): y_ij is finite}

    for pred, y of shape (n, k) (or (n,) when k = 1). ``backward()`` returns dL/dpred = 2 (pred - y) / |O| on O
    and 0 elsewhere, shaped like pred: a missing (cell line, drug) pair contributes nothing to any weight.
    A batch with no observed entry has loss 0 and a zero gradient. With nothing missing this is ``MSELoss``
    (same values, same gradient). ``allows_missing`` tells ``Sequential.fit`` to accept NaN in y.
    """

    allows_missing = True

    def __init__(self):
        self._diff = None
        self._n_seen = 0

    def forward(self, pred, y):
        pred, y = _batch_pair(pred, y)
        seen = np.isfinite(y)
        self._n_seen = int(seen.sum())
        # the difference is zeroed where y is missing, so backward needs no mask of its own
        self._diff = np.where(seen, pred - np.where(seen, y, 0).astype(pred.dtype, copy=False),
                              pred.dtype.type(0))
        if self._n_seen == 0:
            return 0.0
        d = self._diff.astype(np.float64, copy=False)
        return float(np.sum(d * d) / self._n_seen)

    def backward(self):
        if self._diff is None:
            raise ValueError("backward called before forward")
        if self._n_seen == 0:
            return np.zeros_like(self._diff)
        return self._diff * self._diff.dtype.type(2.0 / self._n_seen)
