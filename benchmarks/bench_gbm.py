"""Histogram gradient boosting fit / predict time, nnlite vs scikit-learn's HistGradientBoostingRegressor.

Shapes: the drug-response one, p >> n (300 rows x 1,000 features, Friedman #1 + noise columns), and larger n
(20,000 x 50 and 100,000 x 20). Same parameters for both (scikit-learn's defaults, early stopping off, 100
iterations), each on one thread (scikit-learn's OpenMP limited by threadpoolctl: on a busy machine its idle
threads spin, and its CPU time then measures the spinning). Times are CPU seconds of the process (the machine
is shared: its wall clock counts other people's work). The last test prints the ratios (ours / scikit-learn,
best of the rounds) and the test MSE of both.
Run: python -m pytest benchmarks/bench_gbm.py --benchmark-enable -s
"""
import time

import numpy as np
import pytest
from sklearn.datasets import make_friedman1
from sklearn.ensemble import HistGradientBoostingRegressor as SkHGB
from threadpoolctl import threadpool_limits

from nnlite import HistGradientBoostingRegressor

SHAPES = [(300, 1000), (20_000, 50), (100_000, 20)]
LIBS = ["nnlite", "sklearn"]
PARAMS = dict(max_iter=100, early_stopping=False)
_best = {}  # (stage, lib, n, p) -> best CPU seconds
_mse = {}  # (lib, n, p) -> test MSE
_models = {}


@pytest.fixture(scope="module")
def datasets():
    out = {}
    for n, p in SHAPES:
        X, y = make_friedman1(n_samples=n + 2000, n_features=p, noise=1.0, random_state=0)
        out[n, p] = X[:n], y[:n], X[n:], y[n:]
    X, y = out[SHAPES[0]][:2]
    HistGradientBoostingRegressor(max_iter=2).fit(X[:60], y[:60]).predict(X[:5])  # JIT warm-up (cache load)
    return out


def _make(lib):
    return HistGradientBoostingRegressor(**PARAMS) if lib == "nnlite" else SkHGB(**PARAMS)


def _cpu_timed(benchmark, fn, rounds):
    """Run fn ``rounds`` times under pytest-benchmark; return (last result, best CPU seconds)."""
    cpu = []

    def run():
        t = time.process_time()
        out = fn()
        cpu.append(time.process_time() - t)
        return out

    result = benchmark.pedantic(run, rounds=rounds, iterations=1)
    return result, min(cpu)


@pytest.mark.parametrize("lib", LIBS)
@pytest.mark.parametrize("n,p", SHAPES)
def test_fit(benchmark, datasets, lib, n, p):
    X, y, X_test, y_test = datasets[n, p]
    benchmark.group = f"fit n={n} p={p}"
    with threadpool_limits(1):
        model, best = _cpu_timed(benchmark, lambda: _make(lib).fit(X, y), rounds=3)
    _best["fit", lib, n, p] = best
    _models[lib, n, p] = model
    _mse[lib, n, p] = float(np.mean((model.predict(X_test) - y_test) ** 2))
    assert model.n_iter_ == 100


@pytest.mark.parametrize("lib", LIBS)
@pytest.mark.parametrize("n,p", SHAPES)
def test_predict(benchmark, datasets, lib, n, p):
    X, y, _, _ = datasets[n, p]
    model = _models.get((lib, n, p)) or _make(lib).fit(X, y)
    benchmark.group = f"predict n={n} p={p}"
    with threadpool_limits(1):
        pred, best = _cpu_timed(benchmark, lambda: model.predict(X), rounds=5)
    _best["predict", lib, n, p] = best
    assert pred.shape == (n,)


def test_ratio_report(capsys):
    """Print ours / scikit-learn CPU-time ratios and test MSE ratios (runs last in this module)."""
    lines = ["", "histogram gradient boosting, 100 iterations, 31 leaves, one thread: CPU time nnlite / "
                 "scikit-learn (best of rounds)"]
    for stage in ("fit", "predict"):
        for n, p in SHAPES:
            ours, ref = _best.get((stage, "nnlite", n, p)), _best.get((stage, "sklearn", n, p))
            if ours and ref:
                lines.append(f"  {stage:7s} n={n:6d} p={p:4d}: nnlite {ours:7.3f} s  sklearn {ref:7.3f} s  "
                             f"ratio {ours / ref:5.2f}")
    for n, p in SHAPES:
        ours, ref = _mse.get(("nnlite", n, p)), _mse.get(("sklearn", n, p))
        if ours and ref:
            lines.append(f"  test MSE n={n:6d} p={p:4d}: nnlite {ours:.4f}  sklearn {ref:.4f}  ratio {ours / ref:.4f}")
    with capsys.disabled():
        print("\n".join(lines))
