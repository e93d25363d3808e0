"""``Sequential``: a feed-forward network trained by mini-batch gradient descent on MSE + L1/L2 penalties.

Execution plan. The layer list is compiled into steps: each ``Dense`` followed by an activation (``Identity``,
``ReLU``, ``Tanh``) and optionally a ``Dropout`` becomes one fused step: the matrix products go to BLAS via
``np.dot(..., out=buffer)``, and bias + activation (+ dropout) forward, activation (+ dropout) backward + bias
gradient, and penalty gradient + mask each run as one Numba pass (``nnlite._kernels``). Each step keeps its
output (and dropout draws) for backward; the backward gradients share three model-wide buffers. All buffers
are allocated once for the largest batch seen and reused, so a training step allocates almost nothing.
In ``train_step``/``fit`` each layer's optimizer update runs right after that layer's backward pass (with Adam:
penalty gradient + mask + update in one kernel), while its weights are still in cache.
Any other layer runs through its own ``forward``/``backward``. Both routes compute the same function (tested).
"""
import json

import numpy as np

from nnlite import _kernels as K
from nnlite.activations import Identity, ReLU, Tanh
from nnlite.layers import Dense, Dropout, Layer, check_dtype
from nnlite.losses import MSELoss, observed_mse
from nnlite.optim import Adam

FORMAT_NAME = "nnlite.Sequential"
FORMAT_VERSION = 1
_LAYER_TYPES = {cls.__name__: cls for cls in (Dense, Dropout, Identity, ReLU, Tanh)}


class _Fused:
    """Dense (+ activation) (+ Dropout) run with preallocated buffers and fused kernels."""

    def __init__(self, dense, act, drop):
        self.dense, self.drop = dense, drop
        self.kind = act.kind if act is not None else K.IDENTITY
        if self.kind == K.TANH and dense.dtype == np.float32:
            self.kind = K.TANH_FAST   # vectorizable, accurate to float32 rounding
        self.cap = 0
        self.x = None
        self.dropped = False
        self.penalty = 0.0

    def _ensure(self, n, dtype):
        if n > self.cap or self.y.dtype != dtype:
            d = self.dense
            self.cap = max(n, self.cap)
            self.y = np.empty((self.cap, d.n_out), dtype)
            self.u = np.empty((self.cap, d.n_out), dtype) if self.drop is not None else None

    def forward(self, x, training):
        n = x.shape[0]
        d = self.dense
        if self.kind == K.TANH_FAST and d.dtype != np.float32:
            self.kind = K.TANH
        self._ensure(n, d.dtype)
        y = self.y[:n]
        np.dot(x, d.W, out=y)
        self.dropped = training and self.drop is not None and self.drop.p > 0
        if self.dropped:
            u = self.u[:n]
            self.drop.rng.random(out=u, dtype=u.dtype)
            t = d.dtype.type
            K.bias_act_dropout(y, d.b, self.kind, u, t(self.drop.p), t(self.drop.scale))
        else:
            K.bias_act(y, d.b, self.kind)
        self.x = x
        return y

    def backward(self, gy, gz, gx, finish=True):
        """From gy = dL/dy (n, n_out): gz = dL/dz into ``gz`` (n, n_out; a different array: the kernels
        vectorize only when their outputs do not overlap their inputs), db and dW (with the penalty gradient
        and mask unless ``finish`` is False: ``adam_step`` then does that part), and dL/dx into ``gx``
        (n, n_in) unless it is None."""
        d = self.dense
        n = gy.shape[0]
        if self.dropped:
            t = d.dtype.type
            K.act_dropout_grad(gy, self.y[:n], self.kind, self.u[:n], t(self.drop.p), t(self.drop.scale), gz, d.db)
        else:
            K.act_grad(gy, self.y[:n], self.kind, gz, d.db)
        np.dot(self.x.T, gz, out=d.dW)
        if finish:
            self.penalty = d.finish_weight_grad()
        if gx is not None:
            np.dot(gz, d.W.T, out=gx)

    def adam_step(self, opt, iW, ib):
        """After ``backward(finish=False)``: penalty gradient + mask + Adam step of W in one pass, Adam step of b.
        ``iW``, ``ib``: positions of W and b in the optimizer state. Sets and returns the penalty of W before
        the step."""
        d = self.dense
        sc = opt.scalars(d.dtype)
        t = d.dtype.type
        mW, vW = opt.state[iW]
        mask = d.mask
        s_abs, s_sq = K.adam_penalty_update(d.W, d.dW, mW, vW, t(d.l1), t(d.l2),
                                            d.dW[:0] if mask is None else mask, mask is not None, *sc)
        mb, vb = opt.state[ib]
        K.adam_update(d.b, d.db, mb, vb, *sc)
        self.penalty = d.l1 * s_abs + d.l2 * s_sq
        return self.penalty


class _Plain:
    """A layer run through its own forward/backward."""

    def __init__(self, layer):
        self.layer = layer
        self.penalty = 0.0

    def forward(self, x, training):
        return self.layer.forward(x, training=training)

    def backward(self, gy):
        g = self.layer.backward(gy)
        if isinstance(self.layer, Dense):
            self.penalty = self.layer.penalty()
        return g


class Sequential:
    """A stack of layers x -> layers[-1](...layers[0](x)) trained on MSE + sum of the Dense layers' penalties.

    Parameters
    ----------
    layers : list of Layer.
    seed : int. Seeds everything random in the model through ``np.random.SeedSequence(seed)``: the weights of
        Dense layers built without an rng (re-drawn here, He for a Dense followed by ReLU and Glorot otherwise,
        when ``init="auto"``), the masks of Dropout layers built without an rng, and the mini-batch shuffling.
    dtype : float32 (default, fast) or float64 (gradient checks). Dense layers are converted to it.

    Attributes: ``layers``, ``history = {"train": [...], "val": [...]}`` (one entry per epoch: the mean
    training objective over the epoch's mini-batches with dropout active, and the validation MSE),
    ``best_epoch`` (1-based epoch whose weights are kept), ``epochs_run``.
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
                if layer._is_default_draw():
                    nxt = layers[i + 1] if i + 1 < len(layers) else None
                    layer.initialize(init_rng, layer.resolved_init(nxt))
            elif isinstance(layer, Dropout) and layer._default_rng:
                layer.rng = np.random.default_rng(next(drop_seeds))
        self._shuffle_rng = np.random.default_rng(shuffle_ss)
        self._steps = self._plan()
        self._positions = self._param_positions()
        widths = [w for st in self._steps if type(st) is _Fused for w in (st.dense.n_in, st.dense.n_out)]
        self._max_width = max(widths + [1])
        self._gbuf = None
        self.n_in = self._find_n_in()
        self.loss_fn = MSELoss()
        self.history = {"train": [], "val": []}
        self.best_epoch = None
        self.epochs_run = 0
        self._forward_done = None

    def _plan(self):
        steps, i, L = [], 0, self.layers
        while i < len(L):
            if isinstance(L[i], Dense):
                act = drop = None
                j = i + 1
                if j < len(L) and type(L[j]) in (Identity, ReLU, Tanh):
                    act, j = L[j], j + 1
                if j < len(L) and type(L[j]) is Dropout:
                    drop, j = L[j], j + 1
                steps.append(_Fused(L[i], act, drop))
                i = j
            else:
                steps.append(_Plain(L[i]))
                i += 1
        return steps

    def _find_n_in(self):
        for layer in self.layers:
            if isinstance(layer, Dense):
                return layer.n_in
        return None

    # -- structure -------------------------------------------------------------------------------------------
    def dense_layers(self):
        """The Dense layers, in order."""
        return [layer for layer in self.layers if isinstance(layer, Dense)]

    def parameters(self):
        """List of (param, grad) pairs, layer by layer (W then b for a Dense); the live arrays."""
        pairs = []
        for layer in self.layers:
            p, g = layer.params(), layer.grads()
            pairs.extend((p[k], g[k]) for k in p)
        return pairs

    def get_weights(self):
        """Copies of the parameter arrays, in ``parameters()`` order."""
        return [p.copy() for p, _ in self.parameters()]

    def set_weights(self, weights):
        """Copy ``weights`` (as returned by ``get_weights``) into the parameters, in place."""
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
        """sum over Dense layers of l1 * sum|W| + l2 * sum(W**2)."""
        return float(sum(layer.penalty() for layer in self.layers))

    @property
    def n_out(self):
        dense = self.dense_layers()
        return dense[-1].n_out if dense else None

    # -- computation -----------------------------------------------------------------------------------------
    def _forward(self, x, training):
        for step in self._steps:
            x = step.forward(x, training)
        return x

    def _grad_buffers(self, n):
        """Three flat arrays, each large enough for any step's (n, width) gradient: backward alternates the
        incoming gradient and dL/dx between the first two and forms gz in the third, so the gradient traffic
        stays in three cache-resident blocks whatever the depth."""
        size = n * self._max_width
        if self._gbuf is None or self._gbuf[0].size < size or self._gbuf[0].dtype != self.dtype:
            self._gbuf = tuple(np.empty(size, self.dtype) for _ in range(3))
        return self._gbuf

    def _backward(self, grad, need_input_grad=True, optimizer=None, pairs=None):
        """Back-propagate ``grad`` (n, n_out); returns dL/dX (a view of an internal buffer) or None.

        With an ``optimizer`` that has ``begin_step``/``update`` (``begin_step`` already called), each layer is
        updated right after its own backward pass, while W and dW are in cache (with Adam: penalty gradient
        + mask + update in one kernel). Every update depends only on its own parameter's gradient, so this
        equals a full backward pass followed by ``optimizer.step``. Returns (dL/dX, sum of penalties)."""
        n = grad.shape[0]
        cur_buf, free_buf, gz_buf = self._grad_buffers(n)
        cur = cur_buf[:grad.size].reshape(grad.shape)
        cur[...] = grad
        fused_adam = isinstance(optimizer, Adam)
        pen = 0.0
        for k in range(len(self._steps) - 1, -1, -1):
            step = self._steps[k]
            if type(step) is _Fused:
                n_in = step.dense.n_in
                gx = free_buf[:n * n_in].reshape(n, n_in) if (need_input_grad or k > 0) else None
                step.backward(cur, gz_buf[:cur.size].reshape(cur.shape), gx, finish=not fused_adam)
                if fused_adam:
                    iW, ib = self._positions[k]
                    step.adam_step(optimizer, iW, ib)
                elif optimizer is not None:
                    for i in self._positions[k]:
                        optimizer.update(i, *pairs[i])
                    step.dense.apply_mask()
            else:
                g = np.asarray(step.backward(cur), dtype=self.dtype)
                if g.size <= free_buf.size:
                    gx = free_buf[:g.size].reshape(g.shape)
                    gx[...] = g
                else:   # a custom layer wider than every Dense: let it have its own array
                    gx = np.array(g)
                if optimizer is not None:
                    for i in self._positions[k]:
                        optimizer.update(i, *pairs[i])
            pen += step.penalty
            cur, cur_buf, free_buf = gx, free_buf, cur_buf
        return cur, pen

    def forward(self, X, training=False):
        """Network output for X (n, n_in) -> (n, n_out) (a new array). ``training`` turns dropout on."""
        X = self._check_X(X)
        out = np.array(self._forward(X, training))
        self._forward_done = out.shape
        return out

    def backward(self, grad):
        """Back-propagate dL/doutput (n, n_out) through the last ``forward``: fills every layer's grads
        (penalty gradients included) and returns dL/dX (n, n_in)."""
        grad = np.asarray(grad)
        if not self._forward_done:
            raise ValueError("backward called before forward")
        if grad.shape != self._forward_done:
            raise ValueError(f"grad must have the shape of the last output {self._forward_done}, got {grad.shape}")
        return np.array(self._backward(grad, need_input_grad=True)[0])

    def predict(self, X, batch_size=4096):
        """Predictions for X (n, n_in): (n,) when the network has one output, else (n, n_out). Dropout off."""
        X = self._check_X(X)
        self._forward_done = None
        out = np.empty((X.shape[0], self.n_out), dtype=self.dtype)
        for s in range(0, X.shape[0], batch_size):
            out[s:s + batch_size] = self._forward(X[s:s + batch_size], False)
        return out[:, 0] if out.shape[1] == 1 else out

    def loss(self, X, y):
        """MSE of the evaluation-mode predictions plus the penalties: the cost that training minimizes."""
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

    def _param_positions(self):
        """For each step, the positions of its parameters in ``parameters()``."""
        out, pos = [], 0
        for step in self._steps:
            layer = step.dense if isinstance(step, _Fused) else step.layer
            count = len(layer.params())
            out.append(list(range(pos, pos + count)))
            pos += count
        return out

    def _train_step(self, X, y, optimizer, pairs=None):
        if pairs is None:
            pairs = self.parameters()
        interleave = hasattr(optimizer, "begin_step") and hasattr(optimizer, "update")
        if interleave:
            pairs = optimizer.begin_step(pairs)
        pred = self._forward(X, True)
        mse = self.loss_fn.forward(pred, y)
        _, pen = self._backward(self.loss_fn.backward(), need_input_grad=False,
                                optimizer=optimizer if interleave else None, pairs=pairs)
        if not interleave:
            optimizer.step(pairs)
            for layer in self.dense_layers():
                layer.apply_mask()
        return mse + pen

    def train_step(self, X, y, optimizer):
        """One gradient step on the batch (X, y): forward with dropout, MSE, backward (penalty gradients added,
        masks applied), ``optimizer.step``, then W *= mask for masked layers. Returns the batch objective
        MSE + penalties (penalties of the weights before the step)."""
        X, y = self._check_Xy(X, y)
        return self._train_step(X, y, optimizer)

    def fit(self, X, y, epochs=100, batch_size=32, optimizer=None, validation=None, patience=None, verbose=False,
            loss=None):
        """Mini-batch training for up to ``epochs`` passes over (X, y). Returns self.

        Each epoch visits the rows in a fresh permutation from the model's seeded generator, in batches of
        ``batch_size`` (None or >= n: full batch, no shuffling). ``optimizer`` defaults to ``Adam()``.
        ``validation = (X_val, y_val)``: after each epoch the validation MSE is recorded; with ``patience``,
        training stops after ``patience`` epochs without a strict improvement of the monitored value
        (validation MSE, or the training objective when there is no validation set), and the weights of the
        best epoch are restored. ``history`` accumulates over calls. A non-finite objective stops training:
        with ``patience`` the best weights seen so far are restored, otherwise ValueError.
        ``loss``: a loss object (``forward(pred, y)``/``backward()``) that replaces ``loss_fn`` for this and
        later fits (so that a copy retrained by ``nnlite.compress`` keeps it), e.g.
        ``nnlite.losses.MaskedMSELoss()``, with which y (and y_val) may hold NaN for missing targets and the
        validation MSE is taken over the observed entries.
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
    def _check_X(self, X, what=""):
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"{what}X must be a 2-D array (n_samples, n_features), got shape {X.shape}")
        if X.shape[0] == 0:
            raise ValueError(f"{what}X is empty (0 rows)")
        if self.n_in is not None and X.shape[1] != self.n_in:
            raise ValueError(f"{what}X has {X.shape[1]} features but the network expects {self.n_in}")
        if not np.issubdtype(X.dtype, np.number):
            raise ValueError(f"{what}X must be numeric, got dtype {X.dtype}")
        X = np.ascontiguousarray(X, dtype=self.dtype)
        if not np.isfinite(X).all():
            raise ValueError(f"{what}X contains NaN or infinity")
        return X

    def _check_Xy(self, X, y, what=""):
        X = self._check_X(X, what)
        y = np.asarray(y)
        if y.ndim == 1:
            y = y[:, None]
        if y.ndim != 2:
            raise ValueError(f"{what}y must have shape (n,) or (n, n_outputs), got {y.shape}")
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"{what}y has {y.shape[0]} rows but X has {X.shape[0]}")
        if self.n_out is not None and y.shape[1] != self.n_out:
            raise ValueError(f"{what}y has {y.shape[1]} columns but the network has {self.n_out} outputs")
        if not np.issubdtype(y.dtype, np.number):
            raise ValueError(f"{what}y must be numeric, got dtype {y.dtype}")
        y = np.ascontiguousarray(y, dtype=self.dtype)
        if not (np.isfinite(y) | (np.isnan(y) & self._allows_missing())).all():
            raise ValueError(f"{what}y contains NaN or infinity")
        return X, y

    # -- persistence -----------------------------------------------------------------------------------------
    def save(self, path):
        """Write the architecture, weights, masks and history to a versioned ``.npz`` (no pickle)."""
        config = {
            "format": FORMAT_NAME, "version": FORMAT_VERSION, "seed": self.seed, "dtype": self.dtype.name,
            "layers": [{"type": type(layer).__name__, **layer.config()} for layer in self.layers],
            "history": self.history,
        }
        for entry in config["layers"]:
            if entry["type"] not in _LAYER_TYPES:
                raise ValueError(f"cannot save a layer of type {entry['type']}")
        arrays = {"config": np.array(json.dumps(config))}
        for i, layer in enumerate(self.layers):
            if isinstance(layer, Dense):
                arrays[f"layer{i}.W"] = layer.W
                arrays[f"layer{i}.b"] = layer.b
                if layer.mask is not None:
                    arrays[f"layer{i}.mask"] = layer.mask
        with open(path, "wb") as fh:
            np.savez(fh, **arrays)

    @classmethod
    def load(cls, path):
        """Rebuild a model written by ``save``."""
        with np.load(path, allow_pickle=False) as data:
            if "config" not in data:
                raise ValueError(f"{path}: not an nnlite Sequential file (no config)")
            config = json.loads(str(data["config"]))
            if config.get("format") != FORMAT_NAME:
                raise ValueError(f"{path}: not an nnlite Sequential file")
            if config.get("version") != FORMAT_VERSION:
                raise ValueError(f"{path}: format version {config.get('version')} is not supported "
                                 f"(this nnlite reads version {FORMAT_VERSION})")
            layers = []
            for i, entry in enumerate(config["layers"]):
                entry = dict(entry)
                kind = entry.pop("type")
                if kind == "Dense":
                    layer = Dense(rng=np.random.default_rng(0), **entry)
                    layer.W = data[f"layer{i}.W"]
                    layer.b = data[f"layer{i}.b"]
                    if f"layer{i}.mask" in data:
                        layer.mask = data[f"layer{i}.mask"]
                else:
                    layer = _LAYER_TYPES[kind](**entry)
                layers.append(layer)
        model = cls(layers, seed=config["seed"], dtype=config["dtype"])
        model.history = {k: list(v) for k, v in config["history"].items()}
        return model

    def __repr__(self):
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Sequential([{inner}], seed={self.seed}, dtype={self.dtype.name})"


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)
