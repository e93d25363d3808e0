"""Optimizers. ``step(pairs)`` updates each ``param`` in place from its ``grad``; ``pairs`` is a list of
``(param, grad)`` arrays in a fixed order (``Sequential.parameters()``), and the state (moments, velocity) is
kept per position in that list.

Both optimizers also expose ``begin_step(pairs)`` + ``update(i, param, grad)`` (``step`` is exactly that), so that
``Sequential`` can update each layer right after its backward pass while its arrays are still in cache.
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
    """Adam (Kingma & Ba 2015, Algorithm 1).

    Bias-corrected, t starting at 1::

        t <- t + 1;  m <- beta1 m + (1 - beta1) g;  v <- beta2 v + (1 - beta2) g^2
        p <- p - lr * m_hat / (sqrt(v_hat) + eps),  m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t)

    The update runs as one fused Numba pass per parameter (``nnlite._kernels.adam_update``).

    Parameters
    ----------
    lr : float, default 1e-3
        Step size.
    beta1, beta2 : float, default 0.9, 0.999
        Decay rates of the first and second moment estimates.
    eps : float, default 1e-8
        Added to ``sqrt(v_hat)``.

    Attributes
    ----------
    t : int
        Steps taken.
    state : list of (m, v)
        Moment estimates per parameter position.

    Examples
    --------
    >>> import numpy as np
    >>> from nnlite import Adam
    >>> p, g = np.ones(3, dtype=np.float32), np.array([1.0, -1.0, 0.0], dtype=np.float32)
    >>> Adam(lr=0.1).step([(p, g)])
    >>> p.round(3)
    array([0.9, 1.1, 1. ], dtype=float32)
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
        self._scalars = {}

    def step(self, pairs):
        pairs = self.begin_step(pairs)
        for i, (p, g) in enumerate(pairs):
            self.update(i, p, g)

    def begin_step(self, pairs):
        """Check ``pairs`` against the state (allocated on the first step) and advance t.

        ``step`` is ``begin_step`` followed by ``update`` for every position; ``Sequential`` calls them separately so
        that each layer is updated as soon as its gradient is ready.

        Parameters
        ----------
        pairs : iterable of (param, grad)
            C-contiguous arrays, in the same order at every step.

        Returns
        -------
        list of (param, grad)
        """
        pairs = list(pairs)
        _check_pairs(pairs, self.state)
        if not self.state:
            self.state = [(np.zeros_like(p), np.zeros_like(p)) for p, _ in pairs]
        self.t += 1
        self._scalars = {}
        return pairs

    def scalars(self, dtype):
        """The step's constants ``(lr, beta1, beta2, eps, c1, c2)`` as scalars of ``dtype`` (c1, c2: bias corrections).

        Parameters
        ----------
        dtype : numpy dtype

        Returns
        -------
        tuple
        """
        sc = self._scalars.get(dtype)
        if sc is None:
            c1 = 1.0 / (1.0 - self.beta1 ** self.t)
            c2 = 1.0 / (1.0 - self.beta2 ** self.t)
            t = np.dtype(dtype).type
            sc = self._scalars[dtype] = tuple(t(a) for a in (self.lr, self.beta1, self.beta2, self.eps, c1, c2))
        return sc

    def update(self, i, p, g):
        """Adam update of the parameter at position ``i``, in place (after :meth:`begin_step`).

        Parameters
        ----------
        i : int
            Position in the ``pairs`` of :meth:`begin_step`.
        p, g : ndarray
            The parameter and its gradient.
        """
        m, v = self.state[i]
        K.adam_update(_flat(p), _flat(g), _flat(m), _flat(v), *self.scalars(p.dtype))


class SGD:
    """Stochastic gradient descent with (heavy-ball) momentum.

    The update, as in PyTorch::

        v <- momentum * v + g;  p <- p - lr * v      (v = g when momentum = 0)

    Parameters
    ----------
    lr : float, default 1e-2
    momentum : float, default 0.0

    Examples
    --------
    >>> import numpy as np
    >>> from nnlite import SGD
    >>> p, g = np.ones(2), np.array([1.0, -2.0])
    >>> SGD(lr=0.1).step([(p, g)])
    >>> p
    array([0.9, 1.2])
    """

    def __init__(self, lr=1e-2, momentum=0.0):
        if not lr > 0:
            raise ValueError(f"lr must be > 0, got {lr!r}")
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        self.lr, self.momentum = float(lr), float(momentum)
        self.state = []

    def step(self, pairs):
        pairs = self.begin_step(pairs)
        for i, (p, g) in enumerate(pairs):
            self.update(i, p, g)

    def begin_step(self, pairs):
        """Check ``pairs`` and allocate the velocities on the first step.

        Parameters
        ----------
        pairs : iterable of (param, grad)

        Returns
        -------
        list of (param, grad)
        """
        pairs = list(pairs)
        _check_pairs(pairs, self.state)
        if not self.state and self.momentum != 0:
            self.state = [(np.zeros_like(p),) for p, _ in pairs]
        return pairs

    def update(self, i, p, g):
        """SGD update of the parameter at position ``i``, in place (after :meth:`begin_step`).

        Parameters
        ----------
        i : int
            Position in the ``pairs`` of :meth:`begin_step`.
        p, g : ndarray
            The parameter and its gradient.
        """
        lr = p.dtype.type(self.lr)
        if self.momentum == 0:
            p -= lr * g
            return
        (v,) = self.state[i]
        v *= self.momentum
        v += g
        p -= lr * v
