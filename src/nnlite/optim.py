"""Optimizers. ``step(pairs)`` updates each ``param`` in place from its ``grad``; ``pairs`` is a list of
``(param, grad)`` arrays in a fixed order (``Sequential.parameters()``), and the state (moments, velocity) is
kept per position in that list.
"""
import numpy as np

from nnlite import _kernels as K


def _check_pairs(pairs, state):
    if state and len(pairs) != len(state):
        raise ValueError(f"optimizer state holds {len(state)} parameters but step got {len(pairs)}")
    for i, (p, g) in enumerate(pairs):
        if p.shape != g.shape:
            raise ValueError(f"parameter {i} has shape {p.shape} but its gradient has shape {g.shape}")
        if state and state[i][0].shape != p.shape:
            raise ValueError(f"parameter {i} has shape {p.shape}, optimizer state has {state[i][0].shape}")


def _flat(a):
    if not a.flags.c_contiguous:
        raise ValueError("parameters and gradients must be C-contiguous arrays")
    return a.reshape(-1)


class Adam:
    """Adam (Kingma & Ba 2015, Algorithm 1), bias-corrected, t starting at 1:

        t <- t + 1;  m <- beta1 m + (1 - beta1) g;  v <- beta2 v + (1 - beta2) g^2
        p <- p - lr * m_hat / (sqrt(v_hat) + eps),  m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t)

    The update runs as one fused Numba pass per parameter (``nnlite._kernels.adam_update``).
    Attributes: ``t`` (steps taken), ``state`` (list of (m, v) per parameter position).
    """

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        if not lr > 0:
            raise ValueError(f"lr must be > 0, got {lr!r}")
        if not (0 <= beta1 < 1 and 0 <= beta2 < 1):
            raise ValueError(f"beta1 and beta2 must be in [0, 1), got {beta1!r}, {beta2!r}")
        if not eps > 0:
            raise ValueError(f"eps must be > 0, got {eps!r}")
        self.lr, self.beta1, self.beta2, self.eps = float(lr), float(beta1), float(beta2), float(eps)
        self.t = 0
        self.state = []

    def step(self, pairs):
        pairs = list(pairs)
        _check_pairs(pairs, self.state)
        if not self.state:
            self.state = [(np.zeros_like(p), np.zeros_like(p)) for p, _ in pairs]
        self.t += 1
        c1 = 1.0 / (1.0 - self.beta1 ** self.t)
        c2 = 1.0 / (1.0 - self.beta2 ** self.t)
        for (p, g), (m, v) in zip(pairs, self.state):
            dt = p.dtype.type
            K.adam_update(_flat(p), _flat(g), _flat(m), _flat(v), dt(self.lr), dt(self.beta1), dt(self.beta2),
                          dt(self.eps), dt(c1), dt(c2))


class SGD:
    """Stochastic gradient descent with (heavy-ball) momentum, as in PyTorch:

        v <- momentum * v + g;  p <- p - lr * v      (v = g when momentum = 0)
    """

    def __init__(self, lr=1e-2, momentum=0.0):
        if not lr > 0:
            raise ValueError(f"lr must be > 0, got {lr!r}")
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        self.lr, self.momentum = float(lr), float(momentum)
        self.state = []

    def step(self, pairs):
        pairs = list(pairs)
        _check_pairs(pairs, self.state)
        if self.momentum == 0:
            for p, g in pairs:
                p -= p.dtype.type(self.lr) * g
            return
        if not self.state:
            self.state = [(np.zeros_like(p),) for p, _ in pairs]
        for (p, g), (v,) in zip(pairs, self.state):
            v *= self.momentum
            v += g
            p -= p.dtype.type(self.lr) * v
