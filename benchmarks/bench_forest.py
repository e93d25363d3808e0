"""Random forest fit / predict time, nnlite vs scikit-learn, at the pipeline's size (issue 4).

n = 350 rows, p = 1000 features (Friedman #1 + noise columns), max_features = 1/3, bootstrap, fully grown
trees; 100 and 500 trees on 1 and 2 threads. Both libraries run in the same session; the ratios
(ours / scikit-learn, best of the rounds) are printed at the end of the module.
Run: python -m pytest benchmarks/bench_forest.py --benchmark-enable
"""
import numpy as np
import pytest
from sklearn.datasets import make_friedman1
from sklearn.ensemble import RandomForestRegressor as SkForest

from nnlite import RandomForestRegressor

N, P = 350, 1000
CASES = [(100, 1), (100, 2), (500, 1), (500, 2)]
_best = {}  # (stage, lib, trees, threads) -> best time in seconds
_models = {}  # (lib, trees, threads) -> a model fitted in test_fit, reused by test_predict


@pytest.fixture(scope="module")
def data():
    X, y = make_friedman1(n_samples=N, n_features=P, noise=1.0, random_state=0)
    X = X.astype(np.float32)
    RandomForestRegressor(n_estimators=2, n_jobs=2).fit(X[:40, :50], y[:40]).predict(X[:5, :50])  # JIT warm-up
    return X, y


def _make(lib, trees, threads):
    if lib == "nnlite":
        return RandomForestRegressor(n_estimators=trees, max_features=1 / 3, seed=0, n_jobs=threads)
    return SkForest(n_estimators=trees, max_features=1 / 3, random_state=0, n_jobs=threads)


def _record(benchmark, key):
    stats = getattr(benchmark, "stats", None)  # None when run with benchmarks disabled
    if stats is not None:
        _best[key] = stats.stats.min


@pytest.mark.parametrize("lib", ["nnlite", "sklearn"])
@pytest.mark.parametrize("trees,threads", CASES)
def test_fit(benchmark, data, lib, trees, threads):
    X, y = data
    benchmark.group = f"fit trees={trees} threads={threads}"
    rounds = 3 if trees <= 100 else 2
    model = benchmark.pedantic(lambda: _make(lib, trees, threads).fit(X, y), rounds=rounds, iterations=1)
    _record(benchmark, ("fit", lib, trees, threads))
    _models[lib, trees, threads] = model
    assert model.predict(X[:5]).shape == (5,)


@pytest.mark.parametrize("lib", ["nnlite", "sklearn"])
@pytest.mark.parametrize("trees,threads", CASES)
def test_predict(benchmark, data, lib, trees, threads):
    X, y = data
    model = _models.get((lib, trees, threads)) or _make(lib, trees, threads).fit(X, y)
    benchmark.group = f"predict trees={trees} threads={threads}"
    pred = benchmark.pedantic(model.predict, args=(X,), rounds=10, iterations=1)
    _record(benchmark, ("predict", lib, trees, threads))
    assert pred.shape == (N,)


def test_ratio_report(capsys):
    """Print ours / scikit-learn ratios of the best times measured above (runs last in this module)."""
    lines = ["", "random forest, n=350 p=1000 max_features=1/3: time nnlite / scikit-learn (best of rounds)"]
    for stage in ("fit", "predict"):
        for trees, threads in CASES:
            ours, ref = _best.get((stage, "nnlite", trees, threads)), _best.get((stage, "sklearn", trees, threads))
            if ours and ref:
                lines.append(f"  {stage:7s} trees={trees:3d} threads={threads}: nnlite {ours:8.4f} s  "
                             f"sklearn {ref:8.4f} s  ratio {ours / ref:5.2f}")
    with capsys.disabled():
        print("\n".join(lines))
