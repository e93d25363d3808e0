"""Training a committee of identically shaped networks together: one batched pass over all members per step.

A committee (k networks of one architecture, e.g. one per cross-validation fold and per penalty strength) is
small work per network and per step: at batch 64 on a few hundred rows each step of a 1000-64-32-16-8-1
network is a handful of small matrix products, and the Python around them costs as much as the products.
:class:`BatchedCommittee` stacks the members' parameters along a leading member axis -- each Dense layer's
weights as one (k, n_in, n_out) array -- and runs each layer's forward, backward and Adam update for every
member in one call: a stacked matrix product (``np.matmul`` on (k, n, n_in) x (k, n_in, n_out), one BLAS call
per member inside NumPy) and one Numba kernel (:mod:`nnlite._committee_kernels`) per elementwise pass.

Each member keeps the semantics of ``Sequential.fit`` on its own rows:

- its own training and validation rows (index arrays into one shared X, y);
- its own mini-batch order (a fresh permutation from the member's own seeded generator each epoch) and its own
  dropout masks (drawn from the member's own Dropout generators: the same stream as a lone fit, drawn a whole
  epoch at a time when every Dropout layer has a generator of its own, step by step otherwise);
- its own L1/L2 strengths and Adam state (moments and step count t, so the bias corrections are the member's);
- its own early stopping: a member whose monitored value has not improved for ``patience`` epochs stops, is
  frozen (masked out of every later kernel and product) and gets its best epoch's weights back, while the others
  go on. Members whose batch counts differ take part only in their own steps.

Members with fewer rows in a step than the largest batch are padded with copies of one of their rows whose
loss gradient is zero, so they add nothing to any gradient. The result is the lone training up to the
floating-point association of the matrix products (tests/nnlite/test_committee.py: gradients to 1e-10 in
float64; a one-member committee reproduces ``Sequential.fit``).

Supported layers: the fused pattern of ``nnlite._plan`` -- Dense [+ Identity | ReLU | Tanh] [+ Dropout] -- without
pruning masks; the loss ``MSELoss`` or ``MaskedMSELoss``; the optimizer Adam.
"""
import numpy as np

from nnlite import _committee_kernels as CK
from nnlite import _kernels as K
from nnlite._checks import check_network_Xy
from nnlite._plan import FusedStep
from nnlite.losses import MaskedMSELoss, MSELoss
from nnlite.model import Sequential
from nnlite.optim import Adam


class _StackedStep:
    """One fused step (Dense + activation + optional Dropout) of every member, parameters stacked on axis 0."""

    def __init__(self, steps, dtype):
        first = steps[0]
        d0 = first.dense
        for st in steps:
            if type(st) is not FusedStep:
                raise ValueError(f"fit_committee supports Dense [+ activation] [+ Dropout] layers only, got "
                                 f"{type(st.layer).__name__}")
            d = st.dense
            if (d.n_in, d.n_out) != (d0.n_in, d0.n_out) or st.kind != first.kind:
                raise ValueError("committee members must have the same layer shapes and activations")
            if (st.drop is None) != (first.drop is None) or (st.drop is not None and st.drop.p != first.drop.p):
                raise ValueError("committee members must have the same dropout layers and rates")
            if d.mask is not None:
                raise ValueError("fit_committee does not train networks with pruning masks")
        t = np.dtype(dtype).type
        self.dense = [st.dense for st in steps]
        self.kind = first.kind
        self.drops = [st.drop for st in steps] if first.drop is not None and first.drop.p > 0 else None
        self.p = t(first.drop.p) if self.drops else t(0)
        self.scale = t(first.drop.scale) if self.drops else t(1)
        self.n_in, self.n_out = d0.n_in, d0.n_out
        self.W = np.stack([d.W for d in self.dense])
        self.b = np.stack([d.b for d in self.dense])
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)
        self.l1 = np.array([d.l1 for d in self.dense], dtype=dtype)
        self.l2 = np.array([d.l2 for d in self.dense], dtype=dtype)
        self.l1_64 = np.array([d.l1 for d in self.dense])   # the penalty's value uses the exact strengths
        self.l2_64 = np.array([d.l2 for d in self.dense])
        self.dtype = np.dtype(dtype)
        self.cap = 0
        self.u = np.zeros((len(steps), 0, self.n_out), self.dtype) if self.drops else None
        self.x = None
        self.dropped = False

    def buffer(self, k, n):
        """(k, n, n_out) C-contiguous view of the output buffer (grown as needed)."""
        if n > self.cap:
            self.cap = n
            self._y = np.zeros(k * n * self.n_out, self.dtype)
        return self._y[:k * n * self.n_out].reshape(k, n, self.n_out)

    def draw(self, counts, members, room):
        """Member j's next counts[j] rows of dropout draws from its own generator into u[j, :counts[j]] for
        the members listed; u (k, N, n_out) grows to at least ``room`` rows (a pass reads its padding rows'
        draws too, whose values do not matter)."""
        need = max(int(room), int(max(counts[j] for j in members)))
        if need > self.u.shape[1]:
            self.u = np.zeros((self.u.shape[0], need, self.n_out), self.dtype)
        for j in members:
            self.drops[j].generator().random(out=self.u[j, :counts[j]], dtype=self.dtype)


def _matmul(a, b, out, members):
    """out[j] = a[j] @ b[j] for the members listed (all of them: one stacked call)."""
    if members is None:
        np.matmul(a, b, out=out)
    else:
        for j in members:
            np.dot(a[j], b[j], out=out[j])


class BatchedCommittee:
    """k identically shaped ``Sequential`` networks trained together (see the module docstring).

    Parameters
    ----------
    networks : list of Sequential
        The members, built (and so initialized) as for a lone fit: same layer types, shapes, activations and
        dropout rates and one dtype; L1/L2 strengths may differ per member. Their weights are copied into the
        stacks here and written back by :meth:`write_back` (which :meth:`fit` calls).

    Attributes
    ----------
    k : int
        Number of members.
    steps : list
        The stacked layers, first to last: each has ``W`` (k, n_in, n_out), ``b`` (k, n_out) and their
        gradients ``dW``, ``db`` after :meth:`backward`.
    """

    def __init__(self, networks):
        nets = list(networks)
        if not nets:
            raise ValueError("a committee needs at least one network")
        for net in nets:
            if not isinstance(net, Sequential):
                raise ValueError(f"not a Sequential: {net!r}")
        self.dtype = nets[0].dtype
        if any(net.dtype != self.dtype for net in nets):
            raise ValueError("committee members must share one dtype")
        n_steps = len(nets[0]._plan.steps)
        if any(len(net._plan.steps) != n_steps for net in nets):
            raise ValueError("committee members must have the same number of layers")
        self.networks = nets
        self.k = len(nets)
        self.steps = [_StackedStep([net._plan.steps[i] for net in nets], self.dtype) for i in range(n_steps)]
        self.n_in, self.n_out = self.steps[0].n_in, self.steps[-1].n_out
        self._gbuf = None
        self._all = np.ones(self.k, np.uint8)
        self._no_off = np.zeros(self.k, np.int64)
        self._off = self._no_off
        gens = [d.generator() for st in self.steps if st.drops for d in st.drops]
        # A whole epoch's draws at once give each generator the same stream as one draw per step, unless a
        # generator serves two layers: then their draws interleave step by step and must be made that way.
        self._epoch_draws = len({id(g) for g in gens}) == len(gens)

    # -- one pass --------------------------------------------------------------------------------------------
    def forward(self, x, training=False, active=None, rows=None):
        """Outputs (k, n, n_out) for stacked inputs x (k, n, n_in) of the committee's dtype, C-contiguous (a view
        of an internal buffer). ``training`` draws each active member's dropout masks from its own generators,
        for its first ``rows[j]`` rows (default all n), as a lone network's forward on those rows would.
        ``active`` (k,) uint8: members to compute (default all); the others' outputs are left undefined."""
        k, n = x.shape[0], x.shape[1]
        active = self._all if active is None else active
        if training:
            self._draw(np.full(k, n) if rows is None else rows, np.flatnonzero(active), n)
        return self._forward(x, active, self._no_off if training else None)

    def _draw(self, counts, members, room):
        """Dropout draws of every dropout layer, counts[j] rows for each member listed, in layer order."""
        if members.size:
            for st in self.steps:
                if st.drops is not None:
                    st.draw(counts, members, room)

    def _forward(self, x, active, off):
        """The forward pass; ``off`` None: no dropout, else (k,) member j's first row in its layers' draws."""
        k, n = x.shape[0], x.shape[1]
        members = None if active.all() else np.flatnonzero(active)
        self._off = off
        for st in self.steps:
            y = st.buffer(k, n)
            _matmul(x, st.W, y, members)
            st.dropped = off is not None and st.drops is not None
            if st.dropped:
                CK.bias_act_dropout_k(y, st.b, st.kind, st.u, off, st.p, st.scale, active)
            else:
                CK.bias_act_k(y, st.b, st.kind, active)
            st.x = x
            x = y
        return x

    def _grad_buffers(self, k, n):
        width = max(max(st.n_in, st.n_out) for st in self.steps)
        if self._gbuf is None or self._gbuf[0].size < k * n * width:
            self._gbuf = tuple(np.zeros(k * n * width, self.dtype) for _ in range(3))
        return self._gbuf

    def backward(self, grad, active=None, adam=None):
        """Back-propagate grad = dL/doutput (k, n, n_out) through the last :meth:`forward`.

        Without ``adam``: fills every layer's stacked ``dW`` (penalty gradient l1 sign(W) + 2 l2 W included,
        as ``Dense.backward``) and ``db``, and returns dL/dx (k, n, n_in). With ``adam`` (the trainer's
        per-member Adam state) each layer is updated right after its own backward pass, with the penalty
        gradient fused into the update, and the return value is the (k,) float64 penalties of the members'
        weights before the step (no input gradient is formed). Inactive members are not touched."""
        k, n = grad.shape[0], grad.shape[1]
        active = self._all if active is None else active
        members = None if active.all() else np.flatnonzero(active)
        cur_buf, free_buf, gz_buf = self._grad_buffers(k, n)
        cur = cur_buf[:grad.size].reshape(grad.shape)
        cur[...] = grad
        pen = np.zeros(k)
        for i in range(len(self.steps) - 1, -1, -1):
            st = self.steps[i]
            gz = gz_buf[:cur.size].reshape(cur.shape)
            y = st._y[:cur.size].reshape(cur.shape)
            if st.dropped:
                CK.act_dropout_grad_k(cur, y, st.kind, st.u, self._off, st.p, st.scale, gz, st.db, active)
            else:
                CK.act_grad_k(cur, y, st.kind, gz, st.db, active)
            _matmul(st.x.transpose(0, 2, 1), gz, st.dW, members)
            gx = None
            if i > 0 or adam is None:
                gx = free_buf[:k * n * st.n_in].reshape(k, n, st.n_in)
                _matmul(gz, st.W.transpose(0, 2, 1), gx, members)
            if adam is None:
                self._penalty_grad(st, active)
            else:
                adam.update(i, st, active, pen)
            cur, cur_buf, free_buf = gx, free_buf, cur_buf
        return cur if adam is None else pen

    @staticmethod
    def _penalty_grad(st, active):
        for j in np.flatnonzero(active):
            d = st.dense[j]
            if d.l1 != 0 or d.l2 != 0:
                t = st.dtype.type
                K.penalty_grad(st.W[j].reshape(-1), st.dW[j].reshape(-1), t(d.l1), t(d.l2))

    # -- parameters ------------------------------------------------------------------------------------------
    def _params(self):
        return [a for st in self.steps for a in (st.W, st.b)]

    def weights(self, j):
        """Member j's parameters in ``Sequential.parameters()`` order (W then b per Dense), as copies."""
        return [p[j].copy() for p in self._params()]

    def write_back(self, weights=None):
        """Copy member j's stacked parameters (or ``weights[j]``, a list in ``parameters()`` order) into
        ``networks[j]`` for every j."""
        for j, net in enumerate(self.networks):
            net.set_weights(self.weights(j) if weights is None else weights[j])

    # -- training --------------------------------------------------------------------------------------------
    def fit(self, X, y, train_rows, val_rows=None, epochs=100, batch_size=32, optimizers=None, patience=None,
            loss=None):
        """Train every member on its rows, as ``networks[j].fit(X[train_rows[j]], y[train_rows[j]], ...,
        validation=(X[val_rows[j]], y[val_rows[j]]))`` would, all in one loop. Returns the networks.

        Parameters
        ----------
        X : array (n, n_in)
            The rows every member draws from.
        y : array (n,) or (n, n_out)
            Targets; NaN marks a missing one when the loss is ``MaskedMSELoss``.
        train_rows : list of k int arrays
            Member j's training rows (indices into X).
        val_rows : list of k int arrays, optional
            Member j's validation rows: the validation MSE is recorded every epoch and monitored for early
            stopping (without them the training objective is monitored).
        epochs, batch_size, patience
            As ``Sequential.fit``, the same for every member (``batch_size`` None or >= a member's row count:
            that member trains on its full batch, unshuffled).
        optimizers : list of k Adam, optional
            One per member (default ``Adam()`` each); their hyper-parameters and any state are used, and each
            ends holding its member's state (moments, t) as after a lone fit.
        loss : MSELoss or MaskedMSELoss, optional
            Replaces every member's ``loss_fn`` (as ``Sequential.fit(loss=...)``).

        Returns
        -------
        list of Sequential
            The members, each with the weights of its best epoch (with ``patience``) or of its last, and its
            ``history``, ``best_epoch`` and ``epochs_run`` set as a lone fit sets them.
        """
        k = self.k
        if loss is not None:
            for net in self.networks:
                net.loss_fn = loss
        kinds = {type(net.loss_fn) for net in self.networks}
        if len(kinds) != 1 or not kinds <= {MSELoss, MaskedMSELoss}:
            raise ValueError("committee members must share one loss, MSELoss or MaskedMSELoss")
        X, y = check_network_Xy(X, y, self.n_in, self.n_out, self.dtype,
                                allow_missing=kinds == {MaskedMSELoss})
        train_rows = _member_rows(train_rows, k, X.shape[0], "train_rows")
        val_rows = None if val_rows is None else _member_rows(val_rows, k, X.shape[0], "val_rows")
        epochs = _positive_int(epochs, "epochs")
        if patience is not None:
            patience = _positive_int(patience, "patience")
        if batch_size is not None:
            batch_size = _positive_int(batch_size, "batch_size")
        adam = _StackedAdam(self, optimizers)

        n_rows = np.array([r.size for r in train_rows])
        bs = np.array([r.size if batch_size is None or batch_size >= r.size else batch_size for r in train_rows])
        bmax = int(bs.max())
        xb_buf = np.empty(k * bmax * self.n_in, self.dtype)
        yb_buf = np.empty(k * bmax * self.n_out, self.dtype)
        grad_buf = np.empty(k * bmax * self.n_out, self.dtype)
        if val_rows is not None:
            Xv, yv, nv = _stack_rows(X, y, val_rows)
        mse, val = np.zeros(k), np.zeros(k)
        params = self._params()
        best_params = [p.copy() for p in params] if patience is not None else None
        has_best = np.zeros(k, bool)
        best_value = np.full(k, np.inf)
        waited = np.zeros(k, np.int64)
        running = np.ones(k, bool)
        for net in self.networks:
            net._forward_done = None
        for epoch in range(1, epochs + 1):
            members = np.flatnonzero(running)
            if members.size == 0:
                break
            orders = [None] * k
            for j in members:
                r = train_rows[j]
                orders[j] = r if bs[j] == r.size else r[self.networks[j]._shuffle_rng.permutation(r.size)]
            idx, counts = _epoch_batches(orders, bs, bmax)
            if self._epoch_draws:
                self._draw(n_rows, members, n_rows.max() + bmax)
            totals = np.zeros(k)
            for s in range(idx.shape[0]):
                rows = counts[s]
                step = (rows > 0).view(np.uint8)
                n = int(rows.max())
                part = idx[s, :, :n]
                xb = np.take(X, part, axis=0, out=xb_buf[:k * n * self.n_in].reshape(k, n, self.n_in), mode="clip")
                yb = np.take(y, part, axis=0, out=yb_buf[:k * n * self.n_out].reshape(k, n, self.n_out), mode="clip")
                if self._epoch_draws:
                    pred = self._forward(xb, step, s * bs)
                else:
                    self._draw(rows, np.flatnonzero(step), n)
                    pred = self._forward(xb, step, self._no_off)
                grad = grad_buf[:pred.size].reshape(pred.shape)
                CK.mse_grad_k(pred, yb, rows, step, grad, mse)
                adam.begin_step(step)
                pen = self.backward(grad, step, adam)
                totals += (mse + pen) * rows
            train_value = totals / n_rows
            monitored = train_value
            if val_rows is not None:
                act = running.astype(np.uint8)
                CK.val_mse_k(self.forward(Xv, False, act), yv, nv, act, val)
                monitored = val
            improved = np.zeros(k, bool)
            for j in members:
                net = self.networks[j]
                net.history["train"].append(float(train_value[j]))
                if val_rows is not None:
                    net.history["val"].append(float(monitored[j]))
                net.epochs_run = epoch
                if not np.isfinite(train_value[j]) or not np.isfinite(monitored[j]):
                    if not has_best[j]:
                        raise ValueError(f"committee member {j}: training diverged at epoch {epoch} (objective "
                                         f"{train_value[j]}); lower the learning rate")
                    running[j] = False
                    continue
                if patience is not None:
                    if monitored[j] < best_value[j]:
                        best_value[j], waited[j], net.best_epoch = monitored[j], 0, epoch
                        improved[j] = has_best[j] = True
                    else:
                        waited[j] += 1
                        if waited[j] >= patience:
                            running[j] = False
            if improved.any():
                for p, bp in zip(params, best_params):
                    bp[improved] = p[improved]
        if patience is not None:
            for p, bp in zip(params, best_params):
                p[has_best] = bp[has_best]
        else:
            for net in self.networks:
                net.best_epoch = net.epochs_run
        self.write_back()
        adam.write_back()
        return self.networks


class _StackedAdam:
    """Per-member Adam state (moments stacked like the parameters, step counts t (k,)) of a committee."""

    def __init__(self, committee, optimizers):
        k, dtype = committee.k, committee.dtype
        opts = [Adam() for _ in range(k)] if optimizers is None else list(optimizers)
        if len(opts) != k or not all(isinstance(o, Adam) for o in opts):
            raise ValueError(f"optimizers must be a list of {k} Adam instances")
        self.opts = opts
        self.lr, self.beta1, self.beta2, self.eps = (np.array([getattr(o, a) for o in opts], dtype=dtype)
                                                     for a in ("lr", "beta1", "beta2", "eps"))
        self._b1 = np.array([o.beta1 for o in opts])
        self._b2 = np.array([o.beta2 for o in opts])
        self.t = np.array([o.t for o in opts], dtype=np.int64)
        params = committee._params()
        self.moments = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
        for j, o in enumerate(opts):
            if o.state:
                if len(o.state) != len(params):
                    raise ValueError(f"optimizer {j} holds state for {len(o.state)} parameters, the network has "
                                     f"{len(params)}")
                for (m, v), (mj, vj) in zip(self.moments, o.state):
                    m[j], v[j] = mj, vj
        self.c1 = np.zeros(k, dtype)
        self.c2 = np.zeros(k, dtype)

    def begin_step(self, active):
        """Advance t of the active members and form their bias corrections (as ``Adam.scalars``)."""
        self.t += active
        t = np.maximum(self.t, 1)
        self.c1[...] = 1.0 / (1.0 - self._b1 ** t)
        self.c2[...] = 1.0 / (1.0 - self._b2 ** t)

    def update(self, i, st, active, pen):
        """Penalty gradient + Adam step of layer i's W, Adam step of its b; adds the members' penalties of
        the weights before the step to pen (k,) float64."""
        mW, vW = self.moments[2 * i]
        mb, vb = self.moments[2 * i + 1]
        CK.adam_layer_k(st.W, st.dW, mW, vW, st.b, st.db, mb, vb, st.l1, st.l2, st.l1_64, st.l2_64, active,
                        self.lr, self.beta1, self.beta2, self.eps, self.c1, self.c2, pen)

    def write_back(self):
        """Give each member's Adam its moments and step count."""
        for j, o in enumerate(self.opts):
            o.state = [(m[j].copy(), v[j].copy()) for m, v in self.moments]
            o.t = int(self.t[j])
            o._scalars = {}


def fit_committee(networks, X, y, train_rows, val_rows=None, epochs=100, batch_size=32, optimizers=None,
                  patience=None, loss=None):
    """Train k identically shaped networks together, each on its own rows: ``BatchedCommittee(networks).fit``.

    See :meth:`BatchedCommittee.fit` for the parameters. Returns the list of trained networks (the objects
    given, trained in place), each usable exactly as after ``Sequential.fit``.
    """
    return BatchedCommittee(networks).fit(X, y, train_rows, val_rows, epochs=epochs, batch_size=batch_size,
                                          optimizers=optimizers, patience=patience, loss=loss)


def _epoch_batches(orders, bs, bmax):
    """One epoch's mini-batches of every member: member j (``orders[j]`` its rows in epoch order, None when it
    has stopped) takes batch s = orders[j][s bs[j]:(s+1) bs[j]].

    Returns idx (S, k, bmax) row indices (batch s of member j in idx[s, j, :counts[s, j]], padded with the
    batch's first row; 0 for a member without a batch s) and counts (S, k) int64, S the most batches of any
    member."""
    k = len(orders)
    n_batches = [0 if o is None else -(-o.size // bs[j]) for j, o in enumerate(orders)]
    S = max(n_batches)
    idx = np.zeros((S, k, bmax), np.intp)
    counts = np.zeros((S, k), np.int64)
    for j, o in enumerate(orders):
        nb, b = n_batches[j], int(bs[j])
        if nb == 0:
            continue
        block = idx[:nb, j]
        flat = np.full(nb * b, o[(nb - 1) * b])   # the last batch's padding: its first row
        flat[:o.size] = o
        block[:, :b] = flat.reshape(nb, b)
        block[:, b:] = block[:, :1]
        counts[:nb, j] = b
        counts[nb - 1, j] = o.size - (nb - 1) * b
    return idx, counts


def _member_rows(rows, k, n, name):
    rows = [np.asarray(r) for r in rows]
    if len(rows) != k:
        raise ValueError(f"{name} must hold one index array per member ({k}), got {len(rows)}")
    out = []
    for j, r in enumerate(rows):
        if r.ndim != 1 or r.size == 0 or not np.issubdtype(r.dtype, np.integer):
            raise ValueError(f"{name}[{j}] must be a non-empty 1-D array of row indices")
        if r.min() < 0 or r.max() >= n:
            raise ValueError(f"{name}[{j}] has row indices outside [0, {n})")
        out.append(r.astype(np.intp))
    return out


def _stack_rows(X, y, rows):
    """X[rows[j]], y[rows[j]] stacked (k, max rows, .) (padded with each member's first row) and the counts."""
    k, nmax = len(rows), max(r.size for r in rows)
    idx = np.stack([np.concatenate([r, np.full(nmax - r.size, r[0])]) for r in rows])
    Xs = np.take(X, idx.ravel(), axis=0).reshape(k, nmax, X.shape[1])
    ys = np.take(y, idx.ravel(), axis=0).reshape(k, nmax, y.shape[1])
    return Xs, ys, np.array([r.size for r in rows], dtype=np.int64)


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)
