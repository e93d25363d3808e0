"""Network layers: the ``Layer`` protocol, ``Dense`` (affine map with L1/L2 penalties and a pruning mask) and
``Dropout`` (inverted dropout).

Shapes: a batch is a 2-D array (n, d) with one row per sample.
"""
import numpy as np

from nnlite import _kernels as K

_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
INIT_SCHEMES = ("auto", "he", "glorot")


def check_dtype(dtype):
    """Return ``np.dtype(dtype)`` if it is float32 or float64, else raise ValueError."""
    dt = np.dtype(dtype)
    if dt not in _DTYPES:
        raise ValueError(f"dtype must be float32 or float64, got {dt}")
    return dt


class Layer:
    """A differentiable map of row batches, y = f(x): x (n, d_in) -> y (n, d_out).

    ``forward(x, training)`` caches what ``backward`` needs; ``backward(grad)`` takes dL/dy (n, d_out), fills the
    arrays returned by ``grads()`` and returns dL/dx (n, d_in). ``params()`` and ``grads()`` are dicts with the same
    keys, holding the live arrays (optimizers update them in place); both are empty for parameter-free layers.
    """

    def forward(self, x, training=False):
        raise NotImplementedError

    def backward(self, grad):
        raise NotImplementedError

    def params(self):
        return {}

    def grads(self):
        return {}

    def penalty(self):
        """The layer's contribution to the cost besides the data loss (0 for parameter-free layers).

        Returns
        -------
        float
        """
        return 0.0

    def config(self):
        """JSON-serializable constructor arguments (the ``.nnz`` header's layer entries, ``repr``).

        Returns
        -------
        dict
        """
        return {}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"


class Dense(Layer):
    """Fully connected layer ``y = x W + b``: x (n, n_in), W (n_in, n_out), b (n_out,), y (n, n_out).

    Penalty (added to the cost by ``Sequential``): ``l1 * sum|W| + l2 * sum(W**2)`` (the bias is not penalized).
    ``backward`` sets ``dW = x^T g + l1 sign(W) + 2 l2 W``, ``db = sum_rows(g)``, then ``dW *= mask`` when a
    pruning ``mask`` (0/1 array shaped like W) is set, and returns ``g W^T``.

    Without ``rng`` the weights are left undrawn (``initialized`` is False) for the owner to seed:
    ``Sequential(layers, seed)`` draws them from its own seed. Anything else that touches the parameters first
    (reading or setting ``W`` or ``b``, ``params()``, ``forward``, ``penalty``, setting a ``mask``) draws them
    from ``np.random.default_rng(0)``, so a lone layer is usable and a layer whose weights someone has seen or
    set is never re-drawn behind their back.

    Parameters
    ----------
    n_in, n_out : int
        Input and output widths.
    l1, l2 : float, default 0.0
        Penalty weights (finite, >= 0).
    init : {'auto', 'he', 'glorot'}, default 'auto'
        Initialization, with b = 0. ``'he'``: ``W ~ N(0, 2 / n_in)`` (He et al. 2015; for ReLU).
        ``'glorot'``: ``W ~ U(-a, a)``, ``a = sqrt(6 / (n_in + n_out))`` (Glorot & Bengio 2010; tanh, linear).
        ``'auto'``: He when the next layer is a ReLU, else Glorot; a lone Dense cannot see its successor and uses
        Glorot, ``Sequential`` resolves it.
    dtype : numpy dtype, default float32
    rng : numpy.random.Generator or None
        Draw the weights now from this generator.

    Examples
    --------
    >>> import numpy as np
    >>> from nnlite import Dense
    >>> layer = Dense(3, 2, rng=np.random.default_rng(0))
    >>> layer.forward(np.ones((4, 3), dtype=np.float32)).shape
    (4, 2)
    """

    def __init__(self, n_in, n_out, l1=0.0, l2=0.0, init="auto", dtype=np.float32, rng=None):
        n_in, n_out = _positive_int(n_in, "n_in"), _positive_int(n_out, "n_out")
        for name, value in (("l1", l1), ("l2", l2)):
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if init not in INIT_SCHEMES:
            raise ValueError(f"init must be one of {INIT_SCHEMES}, got {init!r}")
        self.n_in, self.n_out = n_in, n_out
        self.l1, self.l2 = float(l1), float(l2)
        self.init = init
        self.dtype = check_dtype(dtype)
        self._W = np.zeros((n_in, n_out), dtype=self.dtype)
        self._b = np.zeros(n_out, dtype=self.dtype)
        self.dW = np.zeros_like(self._W)
        self.db = np.zeros_like(self._b)
        self._mask = None
        self._x = None
        self.initialized = False
        if rng is not None:
            self.initialize(rng)

    def _draw_if_needed(self):
        if not self.initialized:
            self.initialize(np.random.default_rng(0))

    # -- parameters ------------------------------------------------------------------------------------------
    @property
    def W(self):
        self._draw_if_needed()
        return self._W

    @W.setter
    def W(self, value):
        value = _shaped(value, self._W.shape, "W")
        self.initialized = True
        self._W[...] = value  # in place: optimizer state and fused buffers keep pointing at the same array

    @property
    def b(self):
        self._draw_if_needed()
        return self._b

    @b.setter
    def b(self, value):
        value = _shaped(value, self._b.shape, "b")
        self._draw_if_needed()
        self._b[...] = value

    @property
    def mask(self):
        return self._mask

    @mask.setter
    def mask(self, value):
        if value is None:
            self._mask = None
            return
        value = _shaped(value, self._W.shape, "mask")
        if not np.all((value == 0) | (value == 1)):
            raise ValueError("mask must contain only 0 and 1")
        self._draw_if_needed()
        self._mask = np.ascontiguousarray(value, dtype=self.dtype)

    def resolved_init(self, next_layer=None):
        """The concrete scheme for ``init`` given the layer that follows.

        Parameters
        ----------
        next_layer : Layer or None
            ``'auto'`` resolves to ``'he'`` before a ReLU, else ``'glorot'``.

        Returns
        -------
        {'he', 'glorot'}
        """
        if self.init != "auto":
            return self.init
        return "he" if type(next_layer).__name__ == "ReLU" else "glorot"

    def initialize(self, rng, scheme=None):
        """Draw W and set b = 0; sets ``initialized``.

        Parameters
        ----------
        rng : numpy.random.Generator
        scheme : {'he', 'glorot'} or None
            Default: :meth:`resolved_init`.
        """
        scheme = scheme or self.resolved_init()
        if scheme == "he":
            w = rng.standard_normal((self.n_in, self.n_out)) * np.sqrt(2.0 / self.n_in)
        elif scheme == "glorot":
            a = np.sqrt(6.0 / (self.n_in + self.n_out))
            w = rng.uniform(-a, a, (self.n_in, self.n_out))
        else:
            raise ValueError(f"unknown init scheme {scheme!r}")
        self._W[...] = w
        self._b[...] = 0
        self.initialized = True

    def astype(self, dtype):
        """Convert W, b, their gradients and the mask to ``dtype`` in place (new arrays).

        Parameters
        ----------
        dtype : numpy dtype

        Returns
        -------
        Dense
            self.
        """
        dt = check_dtype(dtype)
        if dt != self.dtype:
            self.dtype = dt
            self._W = self._W.astype(dt)
            self._b = self._b.astype(dt)
            self.dW = self.dW.astype(dt)
            self.db = self.db.astype(dt)
            if self._mask is not None:
                self._mask = self._mask.astype(dt)
        return self

    def params(self):
        self._draw_if_needed()
        return {"W": self._W, "b": self._b}

    def grads(self):
        return {"W": self.dW, "b": self.db}

    def penalty(self):
        """``l1 * sum|W| + l2 * sum(W**2)``, accumulated in float64.

        Returns
        -------
        float
        """
        if self.l1 == 0 and self.l2 == 0:
            return 0.0
        w = self.W.astype(np.float64, copy=False)
        return self.l1 * float(np.abs(w).sum()) + self.l2 * float(np.dot(w.ravel(), w.ravel()))

    def config(self):
        """JSON-serializable constructor arguments (the ``.nnz`` header's layer entry, ``repr``).

        Returns
        -------
        dict
        """
        return {"n_in": self.n_in, "n_out": self.n_out, "l1": self.l1, "l2": self.l2, "init": self.init,
                "dtype": self.dtype.name}

    # -- computation -----------------------------------------------------------------------------------------
    def forward(self, x, training=False):
        """``y = x W + b``.

        Parameters
        ----------
        x : ndarray of shape (n, n_in)
        training : bool, default False
            Unused (the same in both modes); kept for the layer interface.

        Returns
        -------
        ndarray of shape (n, n_out)
        """
        x = _as_batch(x, self.n_in, self.dtype)
        self._x = x
        y = x @ self.W
        y += self._b
        return y

    def backward(self, grad):
        """Fill ``dW``, ``db`` (penalty gradient and mask included) and return the gradient of the input.

        Parameters
        ----------
        grad : ndarray of shape (n, n_out)
            dL/dy of the last :meth:`forward`.

        Returns
        -------
        ndarray of shape (n, n_in)
            dL/dx.
        """
        if self._x is None:
            raise ValueError("backward called before forward")
        grad = np.asarray(grad, dtype=self.dtype)
        if grad.shape != (self._x.shape[0], self.n_out):
            raise ValueError(f"grad must have shape {(self._x.shape[0], self.n_out)}, got {grad.shape}")
        np.dot(self._x.T, grad, out=self.dW)
        np.sum(grad, axis=0, out=self.db)
        self.finish_weight_grad()
        return grad @ self._W.T

    def finish_weight_grad(self):
        """Add the penalty gradient to dW and apply the mask (one fused pass).

        Returns
        -------
        float
            The penalty value of W.
        """
        if self._mask is not None:
            dt = self.dtype.type
            s_abs, s_sq = K.penalty_grad_masked(self._W.reshape(-1), self.dW.reshape(-1), dt(self.l1),
                                                dt(self.l2), self._mask.reshape(-1))
        elif self.l1 != 0 or self.l2 != 0:
            dt = self.dtype.type
            s_abs, s_sq = K.penalty_grad(self._W.reshape(-1), self.dW.reshape(-1), dt(self.l1), dt(self.l2))
        else:
            return 0.0
        return self.l1 * s_abs + self.l2 * s_sq

    def apply_mask(self):
        """Set ``W *= mask``, keeping pruned weights at exactly zero after an optimizer step; no-op without a mask.
        """
        if self._mask is not None:
            self._W *= self._mask


class Dropout(Layer):
    """Inverted dropout (Srivastava et al. 2014).

    In training ``y = x * [u >= p] / (1 - p)`` with ``u ~ U[0, 1)`` drawn per element from ``rng``, so
    ``E[y] = x``; at evaluation ``y = x``. ``backward`` reuses the forward mask.

    Parameters
    ----------
    p : float
        Drop probability, 0 <= p < 1.
    rng : numpy.random.Generator or None
        Without one, ``Sequential`` gives the layer a generator derived from its seed; a lone layer uses
        ``np.random.default_rng(0)`` from its first training-mode forward on.

    Examples
    --------
    >>> import numpy as np
    >>> from nnlite import Dropout
    >>> layer = Dropout(0.5, rng=np.random.default_rng(0))
    >>> y = layer.forward(np.ones((1, 6)), training=True)
    >>> sorted(set(y.ravel().tolist()))
    [0.0, 2.0]
    >>> layer.forward(np.ones((1, 3)))
    array([[1., 1., 1.]])
    """

    def __init__(self, p, rng=None):
        if not (0 <= p < 1):
            raise ValueError(f"dropout probability p must be in [0, 1), got {p!r}")
        self.p = float(p)
        self.rng = rng
        self._keep = None

    def generator(self):
        """The layer's generator (``np.random.default_rng(0)`` when no owner has given it one).

        Returns
        -------
        numpy.random.Generator
        """
        if self.rng is None:
            self.rng = np.random.default_rng(0)
        return self.rng

    @property
    def scale(self):
        return 1.0 / (1.0 - self.p)

    def config(self):
        """JSON-serializable constructor arguments (the ``.nnz`` header's layer entry, ``repr``).

        Returns
        -------
        dict
        """
        return {"p": self.p}

    def forward(self, x, training=False):
        x = np.asarray(x)
        if not training or self.p == 0:
            self._keep = None
            return x
        u = self.generator().random(x.shape, dtype=x.dtype if x.dtype in _DTYPES else np.float64)
        self._keep = (u >= self.p).astype(x.dtype) * x.dtype.type(self.scale)
        return x * self._keep

    def backward(self, grad):
        if self._keep is None:
            return grad
        return grad * self._keep


def _shaped(value, shape, name):
    value = np.asarray(value)
    if value.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {value.shape}")
    return value


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _as_batch(x, n_in, dtype):
    x = np.asarray(x, dtype=dtype)
    if x.ndim != 2 or x.shape[1] != n_in:
        raise ValueError(f"input must have shape (n, {n_in}), got {x.shape}")
    return x
