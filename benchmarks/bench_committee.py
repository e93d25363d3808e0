"""PM+'s committee trained together (``nnlite.committee.fit_committee``) against the same networks trained one
after the other (``Sequential.fit`` each), in the same run.

Workload: PM+'s inner cross-validation as it runs on the default data -- 2 L2 candidates x 4 folds = 8 networks
1000-64-32-16-8-1 (ReLU/tanh alternating, dropout 0.4 on the first 3 hidden layers, L1 1e-5, Adam lr 3e-4,
batches of 64, float32), each trained on 3 folds of 352 rows and early-stopped on the fourth. The training is
cut to a fixed ``EPOCHS`` epochs without early stopping, so that both contenders do exactly the same number of
steps (with early stopping the float32 roundings of the two orders of summation send the members down slightly
different paths and stop them at different epochs). Times are CPU seconds of the process (one BLAS thread),
because the shared machine's wall clock also counts other people's processes. Run:

    python -m pytest benchmarks/bench_committee.py --benchmark-enable -s

The last test prints committee / sequential, and the first layer's products of one step of all 8 members
done as one shared product (every member on the same 64 rows: ``X_b @ [W1_1 | ... | W1_8]`` and
``X_b.T @ [dZ_1 | ... | dZ_8]``) against the 8 stacked per-member products the committee runs.
"""
import time

import numpy as np
import pytest

from nnlite.committee import fit_committee
from nnlite.networks import paper_network
from nnlite.optim import Adam

N_ROWS, N_IN, WIDTHS, L2S, FOLDS, EPOCHS = 352, 1000, [64, 32, 16, 8], (3e-3, 3e-2), 4, 30
RESULTS = {}

pytestmark = pytest.mark.benchmark(timer=time.process_time)


@pytest.fixture(scope="module", autouse=True)
def one_blas_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:   # still a fair comparison: both contenders use the same BLAS pool
        yield
        return
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    Z = rng.uniform(0, 1, (N_ROWS, N_IN)).astype(np.float32)   # min-max scaled genes
    y = (Z[:, :20].sum(axis=1) - 10 + rng.standard_normal(N_ROWS)).astype(np.float32)
    y = (y - y.mean()) / y.std()
    folds = rng.permutation(N_ROWS) % FOLDS
    splits = [(np.flatnonzero(folds != f), np.flatnonzero(folds == f)) for f in range(FOLDS)]
    return Z, y, splits


def networks():
    return [paper_network(N_IN, WIDTHS, dropout=0.4, n_dropout=3, l1=1e-5, l2=l2, seed=f)
            for l2 in L2S for f in range(FOLDS)]


def sequential(Z, y, splits):
    nets = networks()
    for i, net in enumerate(nets):
        tr, va = splits[i % FOLDS]
        net.fit(Z[tr], y[tr], epochs=EPOCHS, batch_size=64, optimizer=Adam(lr=3e-4), validation=(Z[va], y[va]))
    return nets


def together(Z, y, splits):
    nets = networks()
    return fit_committee(nets, Z, y, [tr for _ in L2S for tr, _ in splits], [va for _ in L2S for _, va in splits],
                         epochs=EPOCHS, batch_size=64, optimizers=[Adam(lr=3e-4) for _ in nets])


def record(benchmark, key):
    if not benchmark.disabled:
        RESULTS[key] = benchmark.stats.stats.min


def test_both_train_the_same_networks(problem):
    """Not timed: the two contenders compute the same training (float32 rounding apart)."""
    a, b = sequential(*problem), together(*problem)
    for na, nb in zip(a, b):
        np.testing.assert_allclose(nb.history["val"], na.history["val"], rtol=2e-2)


def test_sequential(benchmark, problem):
    benchmark.pedantic(sequential, args=problem, rounds=3, warmup_rounds=1)
    record(benchmark, "sequential")


def test_committee(benchmark, problem):
    benchmark.pedantic(together, args=problem, rounds=3, warmup_rounds=1)
    record(benchmark, "committee")


@pytest.fixture(scope="module")
def first_layer():
    rng = np.random.default_rng(1)
    k, n, h = len(L2S) * FOLDS, 64, WIDTHS[0]
    f32 = np.float32
    return {"xs": rng.random((k, n, N_IN), dtype=f32), "w": rng.random((k, N_IN, h), dtype=f32),
            "d": rng.random((k, n, h), dtype=f32), "z": np.empty((k, n, h), f32), "dw": np.empty((k, N_IN, h), f32),
            "x": rng.random((n, N_IN), dtype=f32), "wc": rng.random((N_IN, k * h), dtype=f32),
            "dc": rng.random((n, k * h), dtype=f32), "zc": np.empty((n, k * h), f32),
            "dwc": np.empty((N_IN, k * h), f32)}


def stacked_products(a):
    np.matmul(a["xs"], a["w"], out=a["z"])
    np.matmul(a["xs"].transpose(0, 2, 1), a["d"], out=a["dw"])


def shared_products(a):
    np.dot(a["x"], a["wc"], out=a["zc"])
    np.dot(a["x"].T, a["dc"], out=a["dwc"])


def test_first_layer_stacked(benchmark, first_layer):
    benchmark.pedantic(stacked_products, args=(first_layer,), rounds=50, iterations=20)
    record(benchmark, "stacked")


def test_first_layer_shared(benchmark, first_layer):
    benchmark.pedantic(shared_products, args=(first_layer,), rounds=50, iterations=20)
    record(benchmark, "shared")


def test_report():
    if len(RESULTS) < 4:
        pytest.skip("run with --benchmark-enable")
    ratio = RESULTS["committee"] / RESULTS["sequential"]
    print(f"\n8 networks x {EPOCHS} epochs: sequential {RESULTS['sequential']:.3f} s, committee "
          f"{RESULTS['committee']:.3f} s CPU; committee / sequential = {ratio:.2f}")
    flops = 2 * 2 * 64 * N_IN * WIDTHS[0] * len(L2S) * FOLDS
    print(f"first layer, one step of 8 members ({flops / 1e6:.0f} MFLOP): stacked {RESULTS['stacked'] * 1e3:.3f} ms "
          f"({flops / RESULTS['stacked'] / 1e9:.0f} GFLOP/s), shared {RESULTS['shared'] * 1e3:.3f} ms "
          f"({flops / RESULTS['shared'] / 1e9:.0f} GFLOP/s); shared / stacked = "
          f"{RESULTS['shared'] / RESULTS['stacked']:.2f}")
