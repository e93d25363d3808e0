"""Estimator wrappers around the network engine: ``NetworkRegressor`` (a feed-forward DNN,
``nnlite.networks.paper_network``) and ``SimpleANNRegressor`` (the same Dense layers with identity
activations, ``nnlite.networks.simple_ann_network``, a baseline). Each class builds its own network (``_build``);
the fitting, scaling and early stopping are shared.

``fit`` holds out a seeded random ``validation_fraction`` of the rows it is given for early stopping, standardizes
y (z = (y - y_mean_) / y_scale_) so that one learning rate and one set of penalties suit any response scale,
trains with Adam, keeps the weights of the best validation epoch, and ``predict`` maps back to the y scale.

Defaults suit a few hundred training rows of a few hundred to a few thousand standardized features:
``widths=(200, 200, 200)``, ``lr=1e-3`` (Adam's default), ``batch_size=32``, ``epochs=300`` with ``patience=20``
on a 20% validation split, ``l1=1e-5`` and ``l2=1e-4`` per weight (small next to a standardized MSE of ~0.5-1,
yet they push unused input weights towards zero), and dropout 0.4 on the first 3 hidden layers.
``nnlite.networks.paper_network`` builds any depth (e.g. 12 hidden layers of 200 with ``widths=(200,) * 12``).
"""
import numpy as np

from nnlite.base import BaseEstimator, RegressorMixin
from nnlite.networks import paper_network, simple_ann_network
from nnlite.optim import Adam

DEFAULT_WIDTHS = (200, 200, 200)


class _FeedForwardRegressor(RegressorMixin, BaseEstimator):
    """What both estimators share: the hyper-parameters of fitting, ``fit`` and ``predict`` (module docstring).
    A subclass builds its network in ``_build(n_in)``."""

    def __init__(self, widths=DEFAULT_WIDTHS, l1=1e-5, l2=1e-4, lr=1e-3, epochs=300, batch_size=32, patience=20,
                 validation_fraction=0.2, seed=0, dtype=np.float32):
        self.widths = widths
        self.l1 = l1
        self.l2 = l2
        self.lr = lr
        self.epochs = epochs
        self.batch_size = batch_size
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.seed = seed
        self.dtype = dtype

    def _build(self, n_in):
        """The untrained network (Sequential) for ``n_in`` inputs."""
        raise NotImplementedError

    def fit(self, X, y):
        """Fit on X (n, d), y (n,) or (n, 1). Returns self."""
        X, y = self._check_fit_data(X, y, dtype=None)  # the network converts X to its own dtype
        if not 0 <= self.validation_fraction < 1:
            raise ValueError(f"validation_fraction must be in [0, 1), got {self.validation_fraction!r}")
        n = X.shape[0]
        n_val = int(round(self.validation_fraction * n))
        if self.validation_fraction > 0 and (n_val < 1 or n - n_val < 1):
            raise ValueError(f"cannot hold out validation_fraction={self.validation_fraction} of {n} rows "
                             f"({n} sample{'s' if n != 1 else ''}): both parts need at least 1 sample")
        rng = np.random.default_rng(np.random.SeedSequence(self.seed).spawn(1)[0])
        perm = rng.permutation(n)
        tr, va = np.sort(perm[n_val:]), np.sort(perm[:n_val])
        self.validation_rows_ = va
        self.y_mean_ = float(y[tr].mean())
        scale = float(y[tr].std())
        self.y_scale_ = scale if scale > 0 else 1.0
        z = (y - self.y_mean_) / self.y_scale_
        self.n_features_in_ = X.shape[1]
        model = self._build(X.shape[1])
        validation = (X[va], z[va]) if n_val > 0 else None
        model.fit(X[tr], z[tr], epochs=self.epochs, batch_size=self.batch_size, optimizer=Adam(lr=self.lr),
                  validation=validation, patience=self.patience)
        self.model_ = model
        self.n_epochs_ = model.epochs_run
        self.best_epoch_ = model.best_epoch
        hist = model.history["val"]
        self.validation_mse_ = float(min(hist)) if hist and self.patience is not None else (
            float(hist[-1]) if hist else None)
        return self

    def predict(self, X):
        """Predictions (n,) on the original y scale."""
        X = self._check_predict_data(X, dtype=None)
        return self.model_.predict(X).astype(np.float64) * self.y_scale_ + self.y_mean_


class NetworkRegressor(_FeedForwardRegressor):
    """Regression with a feed-forward network trained on MSE + L1/L2 penalties, with early stopping.

    ``fit`` holds out a seeded random ``validation_fraction`` of the rows for early stopping, standardizes y
    (``z = (y - y_mean_) / y_scale_``) so that one learning rate and one set of penalties suit any response
    scale, trains :func:`~nnlite.networks.paper_network` with Adam and keeps the weights of the best validation
    epoch; ``predict`` maps back to the y scale.

    Parameters
    ----------
    widths : sequence of int, default (200, 200, 200)
        Hidden layer widths (activations ReLU, tanh, ReLU, ...).
    dropout : float, default 0.4
    n_dropout : int, default 3
        Dropout after the first ``n_dropout`` hidden layers.
    l1, l2 : float, default 1e-5, 1e-4
        As in :func:`nnlite.networks.paper_network`.
    lr : float, default 1e-3
        Adam learning rate.
    epochs : int, default 300
        Maximum epochs.
    batch_size : int or None, default 32
        Mini-batch rows (None = full batch).
    patience : int or None, default 20
        Early-stopping patience in epochs (None = train all epochs; the held-out rows still report
        ``validation_mse_``).
    validation_fraction : float, default 0.2
        Share of the rows held out for early stopping, in [0, 1); 0 trains on all rows (early stopping then
        watches the training loss).
    seed : int, default 0
        Seeds the split, the initialization, dropout and shuffling.
    dtype : numpy dtype, default float32

    Attributes
    ----------
    model_ : Sequential
    y_mean_, y_scale_ : float
        The target's standardization.
    n_epochs_ : int
        Epochs run.
    best_epoch_ : int
    validation_mse_ : float or None
        Best validation MSE in standardized units.
    validation_rows_ : ndarray
        Indices of the held-out rows, sorted.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from nnlite import NetworkRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(80, 3))
    >>> model = NetworkRegressor(widths=(8,), epochs=30, seed=0).fit(X, X[:, 0])
    >>> model.predict(X[:2]).shape, model.model_.layers[0].n_out
    ((2,), 8)
    """

    def __init__(self, widths=DEFAULT_WIDTHS, dropout=0.4, n_dropout=3, l1=1e-5, l2=1e-4, lr=1e-3, epochs=300,
                 batch_size=32, patience=20, validation_fraction=0.2, seed=0, dtype=np.float32):
        self.dropout = dropout
        self.n_dropout = n_dropout
        super().__init__(widths=widths, l1=l1, l2=l2, lr=lr, epochs=epochs, batch_size=batch_size,
                         patience=patience, validation_fraction=validation_fraction, seed=seed, dtype=dtype)

    def _build(self, n_in):
        return paper_network(n_in, self.widths, dropout=self.dropout, n_dropout=self.n_dropout, l1=self.l1,
                             l2=self.l2, seed=self.seed, dtype=self.dtype)


class SimpleANNRegressor(_FeedForwardRegressor):
    """The "simple ANN" baseline: :class:`NetworkRegressor`'s fitting on Dense layers with identity activations and
    no dropout, so a linear function of x with a penalized, over-parameterized factorization.

    Parameters
    ----------
    widths : sequence of int, default (200, 200, 200)
    l1, l2 : float, default 1e-5, 1e-4
    lr : float, default 1e-3
    epochs : int, default 300
    batch_size : int or None, default 32
    patience : int or None, default 20
    validation_fraction : float, default 0.2
    seed : int, default 0
    dtype : numpy dtype, default float32
        All as in :class:`NetworkRegressor`.

    Attributes
    ----------
    model_, y_mean_, y_scale_, n_epochs_, best_epoch_, validation_mse_, validation_rows_, n_features_in_
        As in :class:`NetworkRegressor`.
    """

    def _build(self, n_in):
        return simple_ann_network(n_in, self.widths, l1=self.l1, l2=self.l2, seed=self.seed, dtype=self.dtype)
