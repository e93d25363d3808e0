"""Elementwise activation layers. Each keeps its output y and takes the derivative from it in ``backward``.

``kind`` is the activation code the fused kernels of ``nnlite._kernels`` use when ``Sequential`` runs a
Dense layer and its activation in one pass.
"""
import numpy as np

from nnlite import _kernels as K
from nnlite.layers import Layer


class _Activation(Layer):
    kind = K.IDENTITY

    def __init__(self):
        self._y = None

    def forward(self, x, training=False):
        x = np.asarray(x)
        self._y = self._f(x)
        return self._y

    def backward(self, grad):
        if self._y is None:
            raise ValueError("backward called before forward")
        return np.asarray(grad) * self._df(self._y)


class Identity(_Activation):
    """y = x; dy/dx = 1."""
    kind = K.IDENTITY

    def _f(self, x):
        return x

    def _df(self, y):
        return np.ones_like(y)

    def backward(self, grad):
        return np.asarray(grad)


class ReLU(_Activation):
    """y = max(x, 0); dy/dx = [y > 0] (0 at x = 0)."""
    kind = K.RELU

    def _f(self, x):
        return np.maximum(x, 0)

    def _df(self, y):
        return (y > 0).astype(y.dtype)


class Tanh(_Activation):
    """y = tanh(x); dy/dx = 1 - y^2."""
    kind = K.TANH

    def _f(self, x):
        return np.tanh(x)

    def _df(self, y):
        return 1 - y * y
