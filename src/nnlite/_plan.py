"""The fused execution plan of a ``Sequential``: its layer list compiled into steps that run with reused buffers.

Each ``Dense`` followed by an activation (``Identity``, ``ReLU``, ``Tanh``) and optionally a ``Dropout`` becomes
one :class:`FusedStep`: the matrix products go to BLAS via ``np.dot(..., out=buffer)``, and bias + activation
(+ dropout) forward, activation (+ dropout) backward + bias gradient, and penalty gradient + mask each run as
one Numba pass (``nnlite._kernels``). Each step keeps its output (and dropout draws) for backward; the backward
gradients share three plan-wide buffers. All buffers are allocated once for the largest batch seen and reused,
so a training step allocates almost nothing. Any other layer is a :class:`PlainStep` that runs through its own
``forward``/``backward``. Both routes compute the same function (tests/nnlite/test_model.py).

:meth:`Plan.backward` can update each layer right after its own backward pass, while its weights are still in
cache (with Adam: penalty gradient + mask + update in one kernel).
"""
import numpy as np

from nnlite import _kernels as K
from nnlite.activations import Identity, ReLU, Tanh
from nnlite.layers import Dense, Dropout
from nnlite.optim import Adam


class FusedStep:
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

    @property
    def layer(self):
        return self.dense

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
            self.drop.generator().random(out=u, dtype=u.dtype)
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


class PlainStep:
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


def compile_steps(layers):
    """The steps of ``layers``: Dense [+ Identity|ReLU|Tanh] [+ Dropout] -> FusedStep, anything else -> PlainStep."""
    steps, i, L = [], 0, layers
    while i < len(L):
        if isinstance(L[i], Dense):
            act = drop = None
            j = i + 1
            if j < len(L) and type(L[j]) in (Identity, ReLU, Tanh):
                act, j = L[j], j + 1
            if j < len(L) and type(L[j]) is Dropout:
                drop, j = L[j], j + 1
            steps.append(FusedStep(L[i], act, drop))
            i = j
        else:
            steps.append(PlainStep(L[i]))
            i += 1
    return steps


class Plan:
    """The compiled steps of a layer list, their parameter positions and the shared gradient buffers.

    ``positions[k]``: the positions of step k's parameters in the model's ``parameters()`` list (layer by layer,
    W then b for a Dense), which is also the optimizer's state order.
    """

    def __init__(self, layers, dtype):
        self.dtype = np.dtype(dtype)
        self.steps = compile_steps(list(layers))
        self.positions, pos = [], 0
        for step in self.steps:
            count = len(step.layer.params())
            self.positions.append(list(range(pos, pos + count)))
            pos += count
        widths = [w for st in self.steps if type(st) is FusedStep for w in (st.dense.n_in, st.dense.n_out)]
        self.max_width = max(widths + [1])
        self._gbuf = None

    def forward(self, x, training):
        """Output (n, n_out) for x (n, n_in) of the right dtype (a view of a step's buffer)."""
        for step in self.steps:
            x = step.forward(x, training)
        return x

    def _grad_buffers(self, n):
        """Three flat arrays, each large enough for any step's (n, width) gradient: backward alternates the
        incoming gradient and dL/dx between the first two and forms gz in the third, so the gradient traffic
        stays in three cache-resident blocks whatever the depth."""
        size = n * self.max_width
        if self._gbuf is None or self._gbuf[0].size < size or self._gbuf[0].dtype != self.dtype:
            self._gbuf = tuple(np.empty(size, self.dtype) for _ in range(3))
        return self._gbuf

    def backward(self, grad, need_input_grad=True, optimizer=None, pairs=None):
        """Back-propagate ``grad`` (n, n_out) through the last ``forward`` -> (dL/dX (n, n_in), a view of an
        internal buffer, or None; sum of the Dense penalties).

        With an ``optimizer`` that has ``begin_step``/``update`` (``begin_step`` already called; ``pairs`` the
        model's (param, grad) list), each layer is updated right after its own backward pass, while W and dW
        are in cache (with Adam: penalty gradient + mask + update in one kernel). Every update depends only on
        its own parameter's gradient, so this equals a full backward pass followed by ``optimizer.step``."""
        n = grad.shape[0]
        cur_buf, free_buf, gz_buf = self._grad_buffers(n)
        cur = cur_buf[:grad.size].reshape(grad.shape)
        cur[...] = grad
        fused_adam = isinstance(optimizer, Adam)
        pen = 0.0
        for k in range(len(self.steps) - 1, -1, -1):
            step = self.steps[k]
            if type(step) is FusedStep:
                n_in = step.dense.n_in
                gx = free_buf[:n * n_in].reshape(n, n_in) if (need_input_grad or k > 0) else None
                step.backward(cur, gz_buf[:cur.size].reshape(cur.shape), gx, finish=not fused_adam)
                if fused_adam:
                    iW, ib = self.positions[k]
                    step.adam_step(optimizer, iW, ib)
                elif optimizer is not None:
                    for i in self.positions[k]:
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
                    for i in self.positions[k]:
                        optimizer.update(i, *pairs[i])
            pen += step.penalty
            cur, cur_buf, free_buf = gx, free_buf, cur_buf
        return cur, pen
