"""Training a committee of identically shaped networks together, each member exactly as its lone ``Sequential.fit``.

A committee (k networks of one architecture, e.g. one per cross-validation fold and per penalty strength) is
small work per network and per step: at batch 64 on a few hundred rows a step of a 1000-64-32-16-8-1 network
is two 64 x 1000 x 64 matrix products (the first layer's forward and weight gradient: ~95 % of its FLOPs)
and a few hundred microseconds of Python and small-array work around them. :class:`BatchedCommittee` runs a
step of every member with

- the first layer's products as few, wide BLAS calls: the first layer's weights of all members are held side by
  side as one (n_in, k * w_1) matrix, and members that draw the *same* mini-batches -- the same training rows
  and the same generator states, e.g. the L2 candidates of one cross-validation fold, which share their seed --
  form a *group* whose first layer is one product ``X_batch @ [W1_a | W1_b | ...]`` forward and one
  ``X_batch.T @ [dZ_a | dZ_b | ...]`` backward (one gather of the batch rows per group and epoch, too);
- everything else of the step -- bias, activation and dropout of every layer, the small layers' products,
  the loss, back-propagation, each layer's penalty + Adam step -- for all members in one Numba call
  (:func:`nnlite._committee_kernels.train_rest`), and the first layer's penalty + Adam step in another
  (:func:`~nnlite._committee_kernels.adam_first`); a validation pass is one product per group plus one call.

A group draws its batch order and dropout masks once (from copies of its members' generators, which are equal)
and every member uses them, so each member still sees exactly what its lone fit would: its own rows in the
order its own shuffle generator gives, its own generators' dropout masks (a whole epoch's draws at once: the
generators' streams concatenate, so this is the same numbers), its own L1/L2 strengths and Adam state (moments
and step count t), and its own early stopping: a member whose monitored value has not improved for
``patience`` epochs is frozen (left out of every later product and kernel) and gets its best epoch's weights
back while the others go on, and its generators are left in the state its lone fit would leave them in. The
result is the lone training up to the association of sums in the matrix products (tests/nnlite/
test_committee.py: float64 to 1e-10, one member reproduces ``Sequential.fit``).

Supported layers: the fused pattern of ``nnlite._plan`` -- Dense [+ Identity | ReLU | Tanh] [+ Dropout] -- without
pruning masks; the loss ``MSELoss`` or ``MaskedMSELoss``; the optimizer Adam.
"""
import copy

import numpy as np

from nnlite import _committee_kernels as CK
from nnlite._checks import check_network_Xy
from nnlite._plan import FusedStep
from nnlite.losses import MaskedMSELoss, MSELoss
from nnlite.model import Sequential
from nnlite.optim import Adam


def _check_members(nets):
    """The members' fused steps, checked: same layer shapes, activations and dropout, no pruning masks."""
    steps = [net._plan.steps for net in nets]
    if any(len(s) != len(steps[0]) for s in steps):
        raise ValueError("committee members must have the same number of layers")
    for i, first in enumerate(steps[0]):
        for s in steps:
            st = s[i]
            if type(st) is not FusedStep:
                raise ValueError(f"fit_committee supports Dense [+ activation] [+ Dropout] layers only, got "
                                 f"{type(st.layer).__name__}")
            d, d0 = st.dense, first.dense
            if (d.n_in, d.n_out) != (d0.n_in, d0.n_out) or st.kind != first.kind:
                raise ValueError("committee members must have the same layer shapes and activations")
            if (st.drop is None) != (first.drop is None) or (st.drop is not None and st.drop.p != first.drop.p):
                raise ValueError("committee members must have the same dropout layers and rates")
            if d.mask is not None:
                raise ValueError("fit_committee does not train networks with pruning masks")
    return steps


def _state_key(gen):
    return repr(gen.bit_generator.state)


class BatchedCommittee:
    """k identically shaped ``Sequential`` networks trained together (see the module docstring).

    Parameters
    ----------
    networks : list of Sequential
        The members, built (and so initialized) as for a lone fit: same layer types, shapes, activations and
        dropout rates and one dtype; L1/L2 strengths may differ per member. :meth:`fit` reads their weights
        and generators and writes the trained weights, Adam state and generator states back.

    Attributes
    ----------
    k : int
        Number of members.
    widths : tuple of int
        (n_in, w_1, ..., n_out).
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
        steps = _check_members(nets)
        self.networks = nets
        self.k = len(nets)
        first = steps[0]
        self.widths = tuple([first[0].dense.n_in] + [st.dense.n_out for st in first])
        self.n_in, self.n_out = self.widths[0], self.widths[-1]
        self._steps = steps
        t = np.dtype(self.dtype).type
        self._kinds = np.array([st.kind for st in first], np.int64)
        self._dropped = np.array([st.drop is not None and st.drop.p > 0 for st in first], np.uint8)
        self._p = np.array([st.drop.p if d else 0.0 for st, d in zip(first, self._dropped)], self.dtype)
        self._scale = np.array([st.drop.scale if d else 1.0 for st, d in zip(first, self._dropped)], self.dtype)
        self._t = t

    # -- parameters, in the trainer's member order ------------------------------------------------------------
    def _layout(self, order):
        """Stacked parameters of the members in ``order``: W1 (n_in, k w_1), Wr (k, P), B (k, sum w_l)."""
        w = self.widths
        L = len(w) - 1
        self._order = np.asarray(order)
        self._woff = np.zeros(L, np.int64)
        for l in range(2, L):
            self._woff[l] = self._woff[l - 1] + w[l - 1] * w[l]
        size = int(self._woff[L - 1] + w[L - 1] * w[L]) if L > 1 else 1
        self._boff = np.concatenate([[0], np.cumsum(w[1:-1])]).astype(np.int64)
        k, h = self.k, w[1]
        self.W1 = np.empty((w[0], k * h), self.dtype)
        self.Wr = np.zeros((k, size), self.dtype)
        self.B = np.empty((k, int(sum(w[1:]))), self.dtype)
        for pos, j in enumerate(order):
            self._set(pos, [d.W for d in self._denses(j)] + [d.b for d in self._denses(j)])
        self.l1 = np.array([[d.l1 for d in self._denses(j)] for j in order], self.dtype)
        self.l2 = np.array([[d.l2 for d in self._denses(j)] for j in order], self.dtype)
        self.l1_64 = np.array([[d.l1 for d in self._denses(j)] for j in order])   # penalty values: exact strengths
        self.l2_64 = np.array([[d.l2 for d in self._denses(j)] for j in order])

    def _denses(self, j):
        return [st.dense for st in self._steps[j]]

    def _views(self, pos, arrays=None):
        """Member pos's [W_1, ..., W_L, b_1, ..., b_L] as views of the stacks (or of ``arrays`` = (W1, Wr, B))."""
        W1, Wr, B = (self.W1, self.Wr, self.B) if arrays is None else arrays
        w = self.widths
        h = w[1]
        Ws = [W1[:, pos * h:(pos + 1) * h]]
        for l in range(1, len(w) - 1):
            o = self._woff[l]
            Ws.append(Wr[pos, o:o + w[l] * w[l + 1]].reshape(w[l], w[l + 1]))
        bs = [B[pos, self._boff[l]:self._boff[l] + w[l + 1]] for l in range(len(w) - 1)]
        return Ws + bs

    def _set(self, pos, values, arrays=None):
        for view, v in zip(self._views(pos, arrays), values):
            view[...] = v

    def _copy_member(self, pos, src, dst):
        for a, b in zip(self._views(pos, src), self._views(pos, dst)):
            b[...] = a

    def _write_back(self):
        L = len(self.widths) - 1
        for pos, j in enumerate(self._order):
            v = self._views(pos)
            weights = [a.copy() for pair in zip(v[:L], v[L:]) for a in pair]
            self.networks[j].set_weights(weights)

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
            The members, each with the weights of its best epoch (with ``patience``) or of its last, its
            ``history``, ``best_epoch`` and ``epochs_run`` set and its generators advanced as a lone fit
            leaves them.
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
        opts = [Adam() for _ in range(k)] if optimizers is None else list(optimizers)
        if len(opts) != k or not all(isinstance(o, Adam) for o in opts):
            raise ValueError(f"optimizers must be a list of {k} Adam instances")
        return _Trainer(self, X, y, train_rows, val_rows, batch_size, opts).run(epochs, patience)


class _Group:
    """Members that draw the same batches: same training (and validation) rows, same generator states. It
    holds copies of their generators (one shuffle, one per dropout layer) and draws from them once per epoch."""

    def __init__(self, net, rows, val, bs, drop_layers):
        self.rows, self.val, self.bs = rows, val, bs
        self.n = rows.size
        self.n_batches = -(-self.n // bs)
        self.shuffle = copy.deepcopy(net._shuffle_rng)
        drops = [st.drop for st in net._plan.steps]
        self.drops = {l: copy.deepcopy(drops[l].generator()) for l in drop_layers}
        self.members = []

    def leave(self, net):
        """Give ``net`` the generator states of the group now (as its lone fit would leave them)."""
        net._shuffle_rng.bit_generator.state = self.shuffle.bit_generator.state
        for l, gen in self.drops.items():
            net._plan.steps[l].drop.generator().bit_generator.state = gen.bit_generator.state


class _Trainer:
    """One :meth:`BatchedCommittee.fit`: groups, buffers, the epoch loop."""

    def __init__(self, cm, X, y, train_rows, val_rows, batch_size, opts):
        self.cm, self.X = cm, X
        k, w = cm.k, cm.widths
        L = len(w) - 1
        drop_layers = [l for l in range(L) if cm._dropped[l]]
        nets = cm.networks
        # groups: members with the same rows and generator states draw the same batches and masks
        groups, keys = [], {}
        for j, net in enumerate(nets):
            r = train_rows[j]
            bs = r.size if batch_size is None or batch_size >= r.size else batch_size
            key = (r.tobytes(), None if val_rows is None else val_rows[j].tobytes(), bs, _state_key(net._shuffle_rng),
                   tuple(_state_key(net._plan.steps[l].drop.generator()) for l in drop_layers))
            if key not in keys:
                keys[key] = len(groups)
                groups.append(_Group(net, r, None if val_rows is None else val_rows[j], bs, drop_layers))
            groups[keys[key]].members.append(j)
        order = [j for g in groups for j in g.members]
        cm._layout(order)
        self.groups, self.order = groups, np.array(order)
        self.grp = np.array([gi for gi, g in enumerate(groups) for _ in g.members], np.int64)
        self.nets = [nets[j] for j in order]
        self.opts = [opts[j] for j in order]
        self.train_n = np.array([groups[g].n for g in self.grp], np.int64)
        self.has_val = val_rows is not None
        self.max_run = int(__import__("os").environ.get("CM_RUN", "2"))
        # Adam: hyper-parameters per member, moments stacked like the parameters
        dt = cm.dtype
        self.lr, self.beta1, self.beta2, self.eps = (np.array([getattr(o, a) for o in self.opts], dt)
                                                     for a in ("lr", "beta1", "beta2", "eps"))
        self.beta1_64 = np.array([o.beta1 for o in self.opts])
        self.beta2_64 = np.array([o.beta2 for o in self.opts])
        self.t = np.array([o.t for o in self.opts], np.int64)
        self.m = tuple(np.zeros_like(a) for a in (cm.W1, cm.Wr, cm.B))
        self.v = tuple(np.zeros_like(a) for a in (cm.W1, cm.Wr, cm.B))
        n_params = 2 * L
        for pos, o in enumerate(self.opts):
            if o.state:
                if len(o.state) != n_params:
                    raise ValueError(f"optimizer {order[pos]} holds state for {len(o.state)} parameters, the network "
                                     f"has {n_params}")
                ms = [mv[0] for mv in o.state]
                vs = [mv[1] for mv in o.state]
                cm._set(pos, ms[0::2] + ms[1::2], self.m)
                cm._set(pos, vs[0::2] + vs[1::2], self.v)
        self.c1 = np.zeros(k, dt)
        self.c2 = np.zeros(k, dt)
        # targets with the observed mask (a missing target is stored as 0 and masked out)
        obs = np.isfinite(y)
        self.y0 = np.where(obs, y, 0).astype(dt)
        self.obs = obs.astype(np.uint8)
        # buffers
        G = len(groups)
        nmax = max(g.n for g in groups)
        self.bmax = bmax = max(g.bs for g in groups)
        self.Xp = [np.empty((g.n, w[0]), dt) for g in groups]
        self.Yp = np.zeros((G, nmax, w[-1]), dt)
        self.Op = np.zeros((G, nmax, w[-1]), np.uint8)
        self.ustart = np.concatenate([[0], np.cumsum([nmax * c for c in w[1:-1]])]).astype(np.int64)
        self.U = np.zeros((G, int(nmax * sum(w[1:])) if drop_layers else 1), dt)
        self.drop_layers = drop_layers
        h = w[1]
        self.Z1 = np.empty(bmax * k * h, dt)
        self.D1 = np.empty(bmax * k * h, dt)
        self.DW1 = np.empty(w[0] * k * h, dt)
        maxw = max(w[1:])
        self.A = np.empty((L, bmax * maxw), dt)
        self.Gbuf = np.empty(bmax * maxw, dt)
        self.GX = np.empty(bmax * maxw, dt)
        self.DW = np.empty(max([w[l] * w[l + 1] for l in range(1, L)] + [1]), dt)
        self.DB = np.empty(maxw, dt)
        self.loss, self.pen, self.totals = np.zeros(k), np.zeros(k), np.zeros(k)
        if self.has_val:
            nv = max(g.val.size for g in groups)
            self.Xv = [np.take(X, g.val, axis=0) for g in groups]
            self.nv = np.array([groups[g].val.size for g in self.grp], np.int64)
            self.Yv = np.zeros((G, nv, w[-1]), dt)
            self.Ov = np.zeros((G, nv, w[-1]), np.uint8)
            for gi, g in enumerate(groups):
                self.Yv[gi, :g.val.size] = self.y0[g.val]
                self.Ov[gi, :g.val.size] = self.obs[g.val]
            self.Zv = np.empty(nv * k * h, dt)
            self.Av = np.empty((L, nv * maxw), dt)
            self.nv_max = nv
            self.val = np.zeros(k)

    def _runs(self, running):
        """Maximal blocks of consecutive running members of one group: (group, first, last + 1)."""
        runs, k = [], self.cm.k
        j = 0
        while j < k:
            if running[j]:
                e = j
                while e + 1 < k and running[e + 1] and self.grp[e + 1] == self.grp[j]:
                    e += 1
                start = j
                for a in range(start, e + 1, self.max_run):   # at most max_run members per block
                    runs.append((int(self.grp[start]), a, min(a + self.max_run, e + 1)))
                j = e + 1
            else:
                j += 1
        return runs

    def _describe(self, runs, n_rows):
        """Per member: offset and width of its run's block in the (rows x run width) layout, its column there,
        and the offset of its run's block in DW1 (n_in x run width)."""
        k, h, n_in = self.cm.k, self.cm.widths[1], self.cm.widths[0]
        run_off, run_w, col, dw_off = (np.zeros(k, np.int64) for _ in range(4))
        blocks, used = [], 0
        for g, a, b in runs:
            w = (b - a) * h
            run_off[a:b], run_w[a:b] = n_rows * used, w
            col[a:b] = np.arange(b - a) * h
            dw_off[a:b] = n_in * used
            blocks.append((g, a, b, n_rows * used, n_in * used, w))
            used += w
        return blocks, run_off, run_w, col, dw_off

    def _epoch_draws(self, g, gi):
        """The group's batch order and dropout draws for one epoch (the same calls as a lone fit's epoch)."""
        order = g.rows if g.bs == g.n else g.rows[g.shuffle.permutation(g.n)]
        np.take(self.X, order, axis=0, out=self.Xp[gi])
        self.Yp[gi, :g.n] = self.y0[order]
        self.Op[gi, :g.n] = self.obs[order]
        w = self.cm.widths
        for l, gen in g.drops.items():
            s = self.ustart[l]
            gen.random(out=self.U[gi, s:s + g.n * w[l + 1]], dtype=self.U.dtype)

    def run(self, epochs, patience):
        cm, k = self.cm, self.cm.k
        w = cm.widths
        h = w[1]
        params = (cm.W1, cm.Wr, cm.B)
        best = tuple(p.copy() for p in params) if patience is not None else None
        has_best = np.zeros(k, bool)
        best_value = np.full(k, np.inf)
        waited = np.zeros(k, np.int64)
        running = np.ones(k, bool)
        left = np.zeros(k, bool)
        for net in self.nets:
            net._forward_done = None
        widths = np.array(w, np.int64)
        l1_first, l2_first = cm.l1[:, 0].copy(), cm.l2[:, 0].copy()
        l1_first64, l2_first64 = cm.l1_64[:, 0].copy(), cm.l2_64[:, 0].copy()
        gbs = np.array([g.bs for g in self.groups])
        gn = np.array([g.n for g in self.groups])
        for epoch in range(1, epochs + 1):
            if not running.any():
                break
            runs = self._runs(running)
            for gi in sorted({r[0] for r in runs}):
                self._epoch_draws(self.groups[gi], gi)
            blocks, run_off, run_w, col, dw_off = self._describe(runs, self.bmax)
            self.totals[:] = 0.0
            rows = np.zeros(k, np.int64)
            r0 = np.zeros(k, np.int64)
            for g, a, b, off, doff, width in blocks:
                # one block's whole epoch before the next one's: its weights and Adam moments stay in cache
                on = np.zeros(k, np.uint8)
                on[a:b] = 1
                bs, n_rows = int(gbs[g]), int(gn[g])
                W1b = cm.W1[:, a * h:b * h]
                for start in range(0, n_rows, bs):
                    n = min(bs, n_rows - start)
                    rows[a:b], r0[a:b] = n, start
                    xb = self.Xp[g][start:start + n]
                    z1 = self.Z1[off:off + n * width].reshape(n, width)
                    np.dot(xb, W1b, out=z1)
                    CK.train_rest(on, rows, self.grp, r0, run_off, run_w, col, self.Z1, self.D1, self.Yp, self.Op,
                                  self.U, self.ustart, cm._dropped, cm._p, cm._scale, cm._kinds, widths, cm.Wr,
                                  cm._woff, cm.B, cm._boff, self.m[1], self.v[1], self.m[2], self.v[2], cm.l1, cm.l2,
                                  cm.l1_64, cm.l2_64, self.lr, self.beta1, self.beta2, self.eps, self.beta1_64,
                                  self.beta2_64, self.t, self.c1, self.c2, self.A, self.Gbuf, self.GX, self.DW,
                                  self.DB, self.loss, self.pen)
                    np.dot(xb.T, self.D1[off:off + n * width].reshape(n, width),
                           out=self.DW1[doff:doff + w[0] * width].reshape(w[0], width))
                    CK.adam_first(on, cm.W1, self.DW1, self.m[0], self.v[0], dw_off, run_w, col, l1_first,
                                  l2_first, l1_first64, l2_first64, self.lr, self.beta1, self.beta2, self.eps,
                                  self.c1, self.c2, self.loss, self.pen, rows, self.totals)
            train_value = self.totals / self.train_n
            monitored = train_value
            if self.has_val:
                monitored = self._validate(runs)
            improved = np.zeros(k, bool)
            for pos in np.flatnonzero(running):
                net = self.nets[pos]
                net.history["train"].append(float(train_value[pos]))
                if self.has_val:
                    net.history["val"].append(float(monitored[pos]))
                net.epochs_run = epoch
                if not np.isfinite(train_value[pos]) or not np.isfinite(monitored[pos]):
                    if not has_best[pos]:
                        raise ValueError(f"committee member {self.order[pos]}: training diverged at epoch {epoch} "
                                         f"(objective {train_value[pos]}); lower the learning rate")
                    running[pos] = False
                    continue
                if patience is not None:
                    if monitored[pos] < best_value[pos]:
                        best_value[pos], waited[pos], net.best_epoch = monitored[pos], 0, epoch
                        improved[pos] = has_best[pos] = True
                    else:
                        waited[pos] += 1
                        if waited[pos] >= patience:
                            running[pos] = False
            for pos in np.flatnonzero(improved):
                cm._copy_member(pos, params, best)
            for pos in np.flatnonzero(~running & ~left):
                self.groups[self.grp[pos]].leave(self.nets[pos])
                left[pos] = True
        for pos in np.flatnonzero(~left):
            self.groups[self.grp[pos]].leave(self.nets[pos])
        if patience is not None:
            for pos in np.flatnonzero(has_best):
                cm._copy_member(pos, best, params)
        else:
            for net in self.nets:
                net.best_epoch = net.epochs_run
        cm._write_back()
        L = len(w) - 1
        for pos, o in enumerate(self.opts):
            mv = [cm._views(pos, self.m), cm._views(pos, self.v)]
            o.state = [(mv[0][i].copy(), mv[1][i].copy()) for l in range(L) for i in (l, L + l)]
            o.t = int(self.t[pos])
            o._scalars = {}
        return self.cm.networks

    def _validate(self, runs):
        cm, w = self.cm, self.cm.widths
        h = w[1]
        nv = self.nv_max
        blocks, run_off, run_w, col, _ = self._describe(runs, nv)
        on = np.zeros(cm.k, np.uint8)
        for g, a, b, off, _, width in blocks:
            n = self.groups[g].val.size
            np.dot(self.Xv[g], cm.W1[:, a * h:b * h], out=self.Zv[off:off + n * width].reshape(n, width))
            on[a:b] = 1
        CK.val_rest(on, self.nv, self.grp, run_off, run_w, col, self.Zv, self.Yv, self.Ov, cm._kinds,
                    np.array(w, np.int64), cm.Wr, cm._woff, cm.B, cm._boff, self.Av, self.val)
        return self.val


def fit_committee(networks, X, y, train_rows, val_rows=None, epochs=100, batch_size=32, optimizers=None,
                  patience=None, loss=None):
    """Train k identically shaped networks together, each on its own rows: ``BatchedCommittee(networks).fit``.

    See :meth:`BatchedCommittee.fit` for the parameters. Returns the list of trained networks (the objects
    given, trained in place), each usable exactly as after ``Sequential.fit``.
    """
    return BatchedCommittee(networks).fit(X, y, train_rows, val_rows, epochs=epochs, batch_size=batch_size,
                                          optimizers=optimizers, patience=patience, loss=loss)


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


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)
