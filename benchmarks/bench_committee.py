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

The last test prints committee / sequential.
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


def test_report():
    if len(RESULTS) < 2:
        pytest.skip("run with --benchmark-enable")
    ratio = RESULTS["committee"] / RESULTS["sequential"]
    print(f"\n8 networks x {EPOCHS} epochs: sequential {RESULTS['sequential']:.3f} s, committee "
          f"{RESULTS['committee']:.3f} s CPU; committee / sequential = {ratio:.2f}")
