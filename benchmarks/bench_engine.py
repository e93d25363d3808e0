"""Training time per epoch of the paper-shaped network, nnlite against a plain-NumPy implementation (and PyTorch
CPU when it happens to be importable), all with one BLAS thread, in the same run.

Network: 1000 inputs, 12 dense hidden layers of width 200 (ReLU/tanh alternating, from ReLU), dropout
0.4 after the first 3 hidden layers, linear output of width 1, L1 + L2 penalties on every weight matrix, Adam;
350 samples, float32; one epoch at batch 32 (11 steps) and at full batch (1 step). One epoch is ~1.20 GFLOP of
matrix products (forward, dW, and dX for all but the first layer).

The matmul rate is measured in the same run two ways: a 1024^3 float32 product (the machine's single-thread
GEMM rate), and the epoch's own matrix products run back to back with no other work (the best any
implementation built on this BLAS can do for these shapes). Times are CPU seconds of the process (see
``pytestmark``). Run:

    python -m pytest benchmarks/bench_engine.py --benchmark-enable

The last test prints the ratios (ours / reference; < 1 means nnlite is faster) and the achieved GFLOP/s.
"""
import time

import numpy as np
import pytest

from nnlite.networks import paper_network
from nnlite.optim import Adam

N, D_IN, WIDTH, DEPTH, N_DROPOUT, P_DROP = 350, 1000, 200, 12, 3, 0.4
L1, L2, LR = 1e-5, 1e-4, 1e-3
SIZES = [D_IN] + [WIDTH] * DEPTH + [1]
EPOCH_FLOP = sum(2 * N * a * b * (2 if k == 0 else 3) for k, (a, b) in enumerate(zip(SIZES[:-1], SIZES[1:])))
BATCHES = {"batch32": 32, "full": N}
RESULTS = {}

# CPU time of this (single-BLAS-thread) process rather than wall time: on a shared machine the wall clock also
# counts the time other processes hold the core, which swamps the differences measured here.
pytestmark = pytest.mark.benchmark(timer=time.process_time)


@pytest.fixture(scope="module", autouse=True)
def one_blas_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:   # still a fair comparison: every contender uses the same BLAS pool
        yield
        return
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, D_IN)).astype(np.float32)
    y = (np.tanh(X[:, :10].sum(axis=1) / 3) + 0.1 * rng.standard_normal(N)).astype(np.float32)
    return X, y


def record(benchmark, key):
    if benchmark.disabled:   # run without --benchmark-enable: each function ran once, untimed
        return
    RESULTS[key] = benchmark.stats.stats.min
    benchmark.extra_info["GFLOP/s"] = EPOCH_FLOP / RESULTS[key] / 1e9


# --------------------------------------------------------------------------------------------- plain NumPy
class NumpyNet:
    """The same network written the way one would in plain NumPy (float32, temporaries, no fusion)."""

    def __init__(self, seed=0, p_drop=P_DROP):
        self.p_drop = p_drop
        rng = np.random.default_rng(seed)
        self.rng = np.random.default_rng(seed + 1)
        self.W, self.b = [], []
        for k, (a, b) in enumerate(zip(SIZES[:-1], SIZES[1:])):
            scale = np.sqrt(2.0 / a) if k % 2 == 0 and k < DEPTH else np.sqrt(1.0 / a)
            self.W.append((rng.standard_normal((a, b)) * scale).astype(np.float32))
            self.b.append(np.zeros(b, np.float32))
        self.params = [p for pair in zip(self.W, self.b) for p in pair]
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.t = 0

    def step(self, x, y):
        acts, masks = [x], []
        for k in range(DEPTH):
            z = acts[-1] @ self.W[k] + self.b[k]
            a = np.maximum(z, 0) if k % 2 == 0 else np.tanh(z)
            if k < N_DROPOUT:
                mask = (self.rng.random(a.shape, dtype=np.float32) >= self.p_drop) / np.float32(1 - self.p_drop)
                a = a * mask
                masks.append(mask)
            acts.append(a)
        out = acts[-1] @ self.W[-1] + self.b[-1]
        g = (2.0 / len(y)) * (out - y[:, None])
        grads = [None] * (2 * len(self.W))
        for k in range(DEPTH, -1, -1):
            W = self.W[k]
            grads[2 * k] = acts[k].T @ g + L1 * np.sign(W) + 2 * L2 * W
            grads[2 * k + 1] = g.sum(axis=0)
            if k == 0:
                break
            g = g @ W.T
            a = acts[k]
            if k - 1 < N_DROPOUT:
                g = g * masks[k - 1]
                a = a * np.float32(1 - self.p_drop)
            g = g * (a > 0) if (k - 1) % 2 == 0 else g * (1 - a * a)
        self.grads = grads
        self.t += 1
        c1, c2 = 1 - 0.9 ** self.t, 1 - 0.999 ** self.t
        for p, gr, m, v in zip(self.params, grads, self.m, self.v):
            m *= 0.9
            m += 0.1 * gr
            v *= 0.999
            v += 0.001 * gr * gr
            p -= LR * (m / c1) / (np.sqrt(v / c2) + 1e-8)

    def epoch(self, X, y, batch_size):
        perm = self.rng.permutation(len(X)) if batch_size < len(X) else np.arange(len(X))
        for s in range(0, len(X), batch_size):
            idx = perm[s:s + batch_size]
            self.step(X[idx], y[idx])


# --------------------------------------------------------------------------------------------- benchmarks
def test_numpy_reference_computes_the_same_training_step(data):
    """Not a timing: the reference must train the same network. Without dropout and from the same weights,
    one full-batch step gives the same gradients (to float32 rounding) and the same loss."""
    X, y = data
    model = paper_network(D_IN, [WIDTH] * DEPTH, dropout=0.0, l1=L1, l2=L2, seed=0)
    net = NumpyNet(p_drop=0.0)
    for W, b, d in zip(net.W, net.b, model.dense_layers()):
        W[...] = d.W
        b[...] = d.b
    model.train_step(X, y, Adam(lr=LR))
    net.step(X, y)
    for k, d in enumerate(model.dense_layers()):
        for ours, ref in ((d.dW, net.grads[2 * k]), (d.db, net.grads[2 * k + 1])):
            assert np.linalg.norm(ours - ref) <= 1e-5 * np.linalg.norm(ref)


@pytest.mark.parametrize("batch", list(BATCHES))
def test_epoch_nnlite(benchmark, data, batch):
    benchmark.group = f"epoch-{batch}"
    X, y = data
    model = paper_network(D_IN, [WIDTH] * DEPTH, dropout=P_DROP, n_dropout=N_DROPOUT, l1=L1, l2=L2, seed=0)
    opt = Adam(lr=LR)
    model.fit(X, y, epochs=2, batch_size=BATCHES[batch], optimizer=opt)   # compile and allocate buffers
    benchmark.pedantic(model.fit, args=(X, y), kwargs=dict(epochs=1, batch_size=BATCHES[batch], optimizer=opt),
                       rounds=15, warmup_rounds=1)
    record(benchmark, ("nnlite", batch))


@pytest.mark.parametrize("batch", list(BATCHES))
def test_epoch_numpy(benchmark, data, batch):
    benchmark.group = f"epoch-{batch}"
    X, y = data
    net = NumpyNet()
    net.epoch(X, y, BATCHES[batch])
    benchmark.pedantic(net.epoch, args=(X, y, BATCHES[batch]), rounds=15, warmup_rounds=1)
    record(benchmark, ("numpy", batch))


@pytest.mark.parametrize("batch", list(BATCHES))
def test_epoch_torch(benchmark, data, batch):
    torch = pytest.importorskip("torch")
    benchmark.group = f"epoch-{batch}"
    torch.set_num_threads(1)
    X, y = (torch.from_numpy(a) for a in data)
    layers = []
    for k, (a, b) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        layers.append(torch.nn.Linear(a, b))
        if k < DEPTH:
            layers.append(torch.nn.ReLU() if k % 2 == 0 else torch.nn.Tanh())
            if k < N_DROPOUT:
                layers.append(torch.nn.Dropout(P_DROP))
    net = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    weights = [m.weight for m in net if isinstance(m, torch.nn.Linear)]
    bs = BATCHES[batch]

    def epoch():
        perm = torch.randperm(N)
        for s in range(0, N, bs):
            idx = perm[s:s + bs]
            opt.zero_grad()
            loss = torch.mean((net(X[idx])[:, 0] - y[idx]) ** 2)
            loss = loss + sum(L1 * w.abs().sum() + L2 * (w * w).sum() for w in weights)
            loss.backward()
            opt.step()

    epoch()
    benchmark.pedantic(epoch, rounds=15, warmup_rounds=1)
    record(benchmark, ("torch", batch))


def _epoch_matmuls(batch_size):
    """The epoch's matrix products (forward, dW, dX) as closures over preallocated arrays."""
    rng = np.random.default_rng(0)
    calls = []
    for s in range(0, N, batch_size):
        n = min(batch_size, N - s)
        for k, (a, b) in enumerate(zip(SIZES[:-1], SIZES[1:])):
            x = rng.standard_normal((n, a)).astype(np.float32)
            W = rng.standard_normal((a, b)).astype(np.float32)
            g = rng.standard_normal((n, b)).astype(np.float32)
            y, dW, gx = np.empty((n, b), np.float32), np.empty((a, b), np.float32), np.empty((n, a), np.float32)
            calls.append((np.dot, x, W, y))
            calls.append((np.dot, x.T, g, dW))
            if k > 0:
                calls.append((np.dot, g, W.T, gx))
    return calls


@pytest.mark.parametrize("batch", list(BATCHES))
def test_epoch_matmuls_only(benchmark, batch):
    benchmark.group = f"epoch-{batch}"
    calls = _epoch_matmuls(BATCHES[batch])

    def run():
        for f, a, b, out in calls:
            f(a, b, out=out)

    benchmark.pedantic(run, rounds=15, warmup_rounds=1)
    record(benchmark, ("matmuls", batch))


def test_square_matmul_rate(benchmark):
    benchmark.group = "matmul-1024"
    rng = np.random.default_rng(0)
    A, B = (rng.standard_normal((1024, 1024)).astype(np.float32) for _ in range(2))
    C = np.empty_like(A)
    benchmark.pedantic(np.dot, args=(A, B), kwargs={"out": C}, rounds=20, warmup_rounds=2)
    if not benchmark.disabled:
        RESULTS["square_rate"] = 2 * 1024 ** 3 / benchmark.stats.stats.min


def test_report_ratios(capsys):
    """Print ours / reference per-epoch time ratios (minimum over rounds) and the achieved FLOP rates."""
    lines = ["", f"paper-shaped network, {N} samples, one epoch = {EPOCH_FLOP / 1e9:.3f} GFLOP of matmuls"]
    for batch in BATCHES:
        ours = RESULTS.get(("nnlite", batch))
        if ours is None:
            continue
        lines.append(f"[{batch}] nnlite {ours * 1e3:.1f} ms/epoch, {EPOCH_FLOP / ours / 1e9:.1f} GFLOP/s")
        for ref in ("numpy", "torch"):
            if (ref, batch) in RESULTS:
                t = RESULTS[(ref, batch)]
                lines.append(f"  vs {ref}: {t * 1e3:.1f} ms/epoch, ratio nnlite/{ref} = {ours / t:.2f}")
        if ("matmuls", batch) in RESULTS:
            t = RESULTS[("matmuls", batch)]
            lines.append(f"  matmuls alone: {t * 1e3:.1f} ms; nnlite reaches {t / ours:.0%} of the same-shape "
                         "GEMM rate")
        if "square_rate" in RESULTS:
            rate = RESULTS["square_rate"]
            lines.append(f"  single-thread 1024^3 matmul rate {rate / 1e9:.1f} GFLOP/s; nnlite reaches "
                         f"{EPOCH_FLOP / ours / rate:.0%} of it")
    with capsys.disabled():
        print("\n".join(lines))
