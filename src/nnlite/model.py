"""``Sequential``: a feed-forward network trained by mini-batch gradient descent on MSE + L1/L2 penalties.

The layer list runs through its fused execution plan (:mod:`nnlite._plan`: Dense + activation + Dropout as one
step with reused buffers and Numba kernels). In ``train_step``/``fit`` each layer's optimizer update runs right
after that layer's backward pass, while its weights are still in cache. Weights are stored in the ``.nnz``
format (:mod:`nnlite.compress.fileformat`), the one model file format of nnlite.
"""
import numpy as np

from nnlite._checks import check_network_X, check_network_Xy
from nnlite._plan import Plan
from nnlite.layers import Dense, Dropout, Layer, check_dtype
from nnlite.losses import MSELoss, observed_mse
from nnlite.optim import Adam


class Sequential:
    """A stack of layers ``x -> layers[-1](...layers[0](x))`` trained on MSE plus the Dense layers' penalties.

    The forward and backward passes run through a fused execution plan (``nnlite._plan``: Dense + activation +
    dropout steps with reused buffers); each layer is updated by the optimizer right after its backward pass.

    Parameters
    ----------
    layers : list of Layer
    seed : int, default 0
        Seeds everything random in the model through ``np.random.SeedSequence(seed)``: the weights of the Dense
        layers not drawn yet (``layer.initialized`` False: built without an rng and not used; He for a Dense
        followed by ReLU and Glorot otherwise, when ``init="auto"``), the masks of the Dropout layers without a
        generator (``layer.rng`` None), and the mini-batch shuffling.
    dtype : numpy dtype, default float32
        float32 (fast) or float64 (gradient checks); Dense layers are converted to it.

    Attributes
    ----------
    layers : list of Layer
    history : dict
        ``{"train": [...], "val": [...]}``, one entry per epoch: the mean training objective over the epoch's
        mini-batches with dropout active, and the validation MSE.
    best_epoch : int
        1-based epoch whose weights are kept.
    epochs_run : int

    Examples
    --------
    >>> import numpy as np
    >>> from nnlite import Dense, ReLU, Sequential, Adam
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(64, 2)).astype(np.float32)
    >>> y = (X[:, 0] - X[:, 1]).astype(np.float32)
    >>> net = Sequential([Dense(2, 8), ReLU(), Dense(8, 1)], seed=0)
    >>> net = net.fit(X, y, epochs=200, batch_size=16, optimizer=Adam(lr=1e-2))
    >>> bool(net.loss(X, y) < 0.05), net.predict(X).shape
    (True, (64,))
    """

    def __init__(self, layers, seed=0, dtype=np.float32):
        layers = list(layers)
        if not layers:
            raise ValueError("Sequential needs at least one layer")
        for layer in layers:
            if not isinstance(layer, Layer):
                raise ValueError(f"not a Layer: {layer!r}")
        self.layers = layers
        self.seed = int(seed)
        self.dtype = check_dtype(dtype)
        ss = np.random.SeedSequence(self.seed)
        init_ss, drop_ss, shuffle_ss = ss.spawn(3)
        init_rng = np.random.default_rng(init_ss)
        drop_seeds = iter(drop_ss.spawn(len(layers)))
        for i, layer in enumerate(layers):
            if isinstance(layer, Dense):
                layer.astype(self.dtype)
                if not layer.initialized:
                    nxt = layers[i + 1] if i + 1 < len(layers) else None
                    layer.initialize(init_rng, layer.resolved_init(nxt))
            elif isinstance(layer, Dropout) and layer.rng is None:
                layer.rng = np.random.default_rng(next(drop_seeds))
        self._shuffle_rng = np.random.default_rng(shuffle_ss)
        self._plan = Plan(layers, self.dtype)
        self.n_in = self._find_n_in()
        self.loss_fn = MSELoss()
        self.history = {"train": [], "val": []}
        self.best_epoch = None
        self.epochs_run = 0
        self._forward_done = None

    def _find_n_in(self):
        for layer in self.layers:
            if isinstance(layer, Dense):
                return layer.n_in
        return None

    # -- structure -------------------------------------------------------------------------------------------
    def dense_layers(self):
        """The Dense layers, in order.

        Returns
        -------
        list of Dense
        """
        return [layer for layer in self.layers if isinstance(layer, Dense)]

    def parameters(self):
        """The live parameter arrays and their gradients, layer by layer (W then b for a Dense).

        Returns
        -------
        list of (param, grad)
        """
        pairs = []
        for layer in self.layers:
            p, g = layer.params(), layer.grads()
            pairs.extend((p[k], g[k]) for k in p)
        return pairs

    def get_weights(self):
        """Copies of the parameter arrays, in ``parameters()`` order.

        Returns
        -------
        list of ndarray
        """
        return [p.copy() for p, _ in self.parameters()]

    def set_weights(self, weights):
        """Copy weights into the parameters, in place.

        Parameters
        ----------
        weights : list of ndarray
            As returned by ``get_weights``.
        """
        pairs = self.parameters()
        weights = list(weights)
        if len(weights) != len(pairs):
            raise ValueError(f"expected {len(pairs)} weight arrays, got {len(weights)}")
        for i, ((p, _), w) in enumerate(zip(pairs, weights)):
            w = np.asarray(w)
            if w.shape != p.shape:
                raise ValueError(f"weight {i} has shape {w.shape}, expected {p.shape}")
            p[...] = w

    def penalty(self):
        """Sum over the Dense layers of ``l1 * sum|W| + l2 * sum(W**2)``.

        Returns
        -------
        float
        """
        return float(sum(layer.penalty() for layer in self.layers))

    @property
    def n_out(self):
        dense = self.dense_layers()
        return dense[-1].n_out if dense else None

    # -- computation -----------------------------------------------------------------------------------------
    def forward(self, X, training=False):
        """Network output (a new array).

        Parameters
        ----------
        X : ndarray of shape (n, n_in)
        training : bool, default False
            Dropout on.

        Returns
        -------
        ndarray of shape (n, n_out)
        """
        X = check_network_X(X, self.n_in, self.dtype)
        out = np.array(self._plan.forward(X, training))
        self._forward_done = out.shape
        return out

    def backward(self, grad):
        """Back-propagate through the last :meth:`forward`, filling every layer's gradients (penalties included).

        Parameters
        ----------
        grad : ndarray of shape (n, n_out)
            dL/doutput.

        Returns
        -------
        ndarray of shape (n, n_in)
            dL/dX.
        """
        grad = np.asarray(grad)
        if not self._forward_done:
            raise ValueError("backward called before forward")
        if grad.shape != self._forward_done:
            raise ValueError(f"grad must have the shape of the last output {self._forward_done}, got {grad.shape}")
        return np.array(self._plan.backward(grad, need_input_grad=True)[0])

    def predict(self, X, batch_size=4096):
        """Predictions with dropout off, in row blocks.

        Parameters
        ----------
        X : array-like of shape (n, n_in)
        batch_size : int, default 4096
            Rows per block.

        Returns
        -------
        ndarray of shape (n,) when the network has one output, else (n, n_out)
        """
        X = check_network_X(X, self.n_in, self.dtype)
        self._forward_done = None
        out = np.empty((X.shape[0], self.n_out), dtype=self.dtype)
        for s in range(0, X.shape[0], batch_size):
            out[s:s + batch_size] = self._plan.forward(X[s:s + batch_size], False)
        return out[:, 0] if out.shape[1] == 1 else out

    def loss(self, X, y):
        """The cost training minimizes: MSE of the evaluation-mode predictions plus the penalties.

        Parameters
        ----------
        X : array-like of shape (n, n_in)
        y : array-like of shape (n,) or (n, n_out)

        Returns
        -------
        float
        """
        X, y = self._check_Xy(X, y)
        return self._mse(X, y) + self.penalty()

    def _mse(self, X, y):
        pred = self.predict(X).reshape(y.shape)
        if self._allows_missing():
            return observed_mse(pred, y)
        d = pred.astype(np.float64) - y
        return float(np.mean(d * d))

    def _allows_missing(self):
        return bool(getattr(self.loss_fn, "allows_missing", False))

    def _train_step(self, X, y, optimizer, pairs=None):
        if pairs is None:
            pairs = self.parameters()
        interleave = hasattr(optimizer, "begin_step") and hasattr(optimizer, "update")
        if interleave:
            pairs = optimizer.begin_step(pairs)
        pred = self._plan.forward(X, True)
        mse = self.loss_fn.forward(pred, y)
        _, pen = self._plan.backward(self.loss_fn.backward(), need_input_grad=False,
                                optimizer=optimizer if interleave else None, pairs=pairs)
        if not interleave:
            optimizer.step(pairs)
            for layer in self.dense_layers():
                layer.apply_mask()
        return mse + pen

    def train_step(self, X, y, optimizer):
        """One gradient step on a batch and its objective.

        Forward with dropout, MSE, backward (penalty gradients added, masks applied), ``optimizer.step``, then
        ``W *= mask`` for masked layers.

        Parameters
        ----------
        X : ndarray of shape (batch, n_in)
        y : ndarray of shape (batch,) or (batch, n_out)
        optimizer : Adam or SGD

        Returns
        -------
        float
            The batch objective, MSE + penalties (penalties of the weights before the step).
        """
        X, y = self._check_Xy(X, y)
        return self._train_step(X, y, optimizer)

    def fit(self, X, y, epochs=100, batch_size=32, optimizer=None, validation=None, patience=None, verbose=False,
            loss=None):
        """Mini-batch training for up to ``epochs`` passes over (X, y).

        Each epoch visits the rows in a fresh permutation from the model's seeded generator. With ``patience``,
        training stops after ``patience`` epochs without a strict improvement of the monitored value (the validation
        MSE, or the training objective without a validation set), and the weights of the best epoch are restored.
        ``history`` accumulates over calls. A non-finite objective stops training: with ``patience`` the best weights
        seen so far are restored, otherwise ValueError.

        Parameters
        ----------
        X : array-like of shape (n, n_in)
        y : array-like of shape (n,) or (n, n_out)
        epochs : int, default 100
        batch_size : int or None, default 32
            None or >= n: full batch, no shuffling.
        optimizer : Adam or SGD or None
            Default ``Adam()``.
        validation : tuple (X_val, y_val) or None
            Its MSE is recorded after each epoch.
        patience : int or None
            Early-stopping patience in epochs.
        verbose : bool, default False
            Print one line per epoch.
        loss : loss object or None
            Replaces ``loss_fn`` for this and later fits (``forward(pred, y)`` / ``backward()``), e.g.
            ``nnlite.losses.MaskedMSELoss()``, with which y (and y_val) may hold NaN for missing targets.

        Returns
        -------
        Sequential
            self.

        Raises
        ------
        ValueError
            On a non-finite objective without ``patience``.
        """
        if loss is not None:
            self.loss_fn = loss
        X, y = self._check_Xy(X, y)
        epochs = _positive_int(epochs, "epochs")
        n = X.shape[0]
        if batch_size is None or batch_size >= n:
            batch_size = n
        batch_size = _positive_int(batch_size, "batch_size")
        if patience is not None:
            patience = _positive_int(patience, "patience")
        if validation is not None:
            if len(validation) != 2:
                raise ValueError("validation must be a pair (X_val, y_val)")
            Xv, yv = self._check_Xy(*validation, what="validation ")
        optimizer = Adam() if optimizer is None else optimizer

        full = batch_size == n
        if not full:
            xb_buf = np.empty((batch_size, X.shape[1]), dtype=self.dtype)
            yb_buf = np.empty((batch_size, y.shape[1]), dtype=self.dtype)
        best_value, best_weights, waited = np.inf, None, 0
        pairs = self.parameters()   # the layers cannot change during fit: list the arrays once
        for epoch in range(1, epochs + 1):
            total = 0.0
            if full:
                total = self._train_step(X, y, optimizer, pairs) * n
            else:
                perm = self._shuffle_rng.permutation(n)
                for s in range(0, n, batch_size):
                    idx = perm[s:s + batch_size]
                    m = idx.shape[0]
                    xb = np.take(X, idx, axis=0, out=xb_buf[:m])
                    yb = np.take(y, idx, axis=0, out=yb_buf[:m])
                    total += self._train_step(xb, yb, optimizer, pairs) * m
            train_value = total / n
            self.history["train"].append(train_value)
            monitored = train_value
            if validation is not None:
                monitored = self._mse(Xv, yv)
                self.history["val"].append(monitored)
            self.epochs_run = epoch
            if not np.isfinite(train_value) or not np.isfinite(monitored):
                if best_weights is None:
                    raise ValueError(f"training diverged at epoch {epoch} (objective {train_value}); "
                                     "lower the learning rate")
                break   # keep the best weights seen before the divergence (restored below)
            if verbose:
                val = f" val {monitored:.5g}" if validation is not None else ""
                print(f"epoch {epoch}: train {train_value:.5g}{val}")
            if patience is not None:
                if monitored < best_value:
                    best_value, waited, self.best_epoch = monitored, 0, epoch
                    best_weights = self._copy_weights_into(best_weights)
                else:
                    waited += 1
                    if waited >= patience:
                        break
        if patience is not None and best_weights is not None:
            self.set_weights(best_weights)
        elif patience is None:
            self.best_epoch = self.epochs_run
        return self

    def _copy_weights_into(self, store):
        pairs = self.parameters()
        if store is None:
            return [p.copy() for p, _ in pairs]
        for dst, (p, _) in zip(store, pairs):
            np.copyto(dst, p)
        return store

    # -- input checks ----------------------------------------------------------------------------------------
    def _check_Xy(self, X, y, what=""):
        return check_network_Xy(X, y, self.n_in, self.n_out, self.dtype, allow_missing=self._allows_missing(),
                                what=what)

    def __repr__(self):
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Sequential([{inner}], seed={self.seed}, dtype={self.dtype.name})"


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)
