"""Loss functions."""
import numpy as np


class MSELoss:
    """Mean squared error L = (1 / (n k)) * sum_ij (pred_ij - y_ij)^2 over pred, y of shape (n, k).

    ``y`` may also be (n,) when k = 1. ``backward()`` returns dL/dpred = 2 (pred - y) / (n k), shaped like pred.
    """

    def __init__(self):
        self._diff = None

    def forward(self, pred, y):
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
        self._diff = pred - y
        return float(np.mean(self._diff.astype(np.float64, copy=False) ** 2))

    def backward(self):
        if self._diff is None:
            raise ValueError("backward called before forward")
        return self._diff * self._diff.dtype.type(2.0 / self._diff.size)
