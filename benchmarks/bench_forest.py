"""Random forest fit / predict time, nnlite vs scikit-learn, at the pipeline's size.

n = 350 rows, p = 1000 features (Friedman #1 + noise columns), max_features = 1/3, bootstrap, fully grown
trees; 100 and 500 trees on 1 and 2 threads. Both libraries run in the same session; the ratios
(ours / scikit-learn, best of the rounds) are printed at the end of the module.
Two more cases use the ccle RF method's settings (100 trees, max_features 1/3, min_samples_leaf 5, 1 thread):
the default data's size (350 x 2,000) and the paper's (350 x 55,000 genes; ``NNLITE_BENCH_FOREST_P`` sets the
genes, 20,000 by default to keep the module short: the time per gene is the same at 20,000 and 55,000).
Run: python -m pytest benchmarks/bench_forest.py --benchmark-enable -s
"""
import os
import time

import numpy as np
import pytest
from sklearn.datasets import make_friedman1
from sklearn.ensemble import RandomForestRegressor as SkForest

from nnlite import RandomForestRegressor
from nnlite.tree import grow_trees, predict_trees

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
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    lines = ["", "random forest, n=350 p=1000 max_features=1/3: time nnlite / scikit-learn (best of rounds; "
             f"load average {load})"]
    for stage in ("fit", "predict"):
        for trees, threads in CASES:
            ours, ref = _best.get((stage, "nnlite", trees, threads)), _best.get((stage, "sklearn", trees, threads))
            if ours and ref:
                lines.append(f"  {stage:7s} trees={trees:3d} threads={threads}: nnlite {ours:8.4f} s  "
                             f"sklearn {ref:8.4f} s  ratio {ours / ref:5.2f}")
    with capsys.disabled():
        print("\n".join(lines))


# ---- the default data's size: 2,000 genes, 350 rows, the ccle RF method's settings ----
DEFAULT_P = 2_000
_default = {}  # label -> CPU seconds for 100 trees


@pytest.mark.parametrize("label", ["nnlite", "sklearn"])
def test_fit_default_scale(benchmark, label):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(N, DEFAULT_P)).astype(np.float32)
    y = X[:, :5] @ np.array([1.0, 2.0, 1.0, 0.5, 0.5]) + np.sin(3 * X[:, 5]) + 0.5 * rng.normal(size=N)
    make = {"nnlite": lambda: RandomForestRegressor(n_estimators=100, min_samples_leaf=5),
            "sklearn": lambda: SkForest(n_estimators=100, max_features=1 / 3, min_samples_leaf=5, random_state=0,
                                        n_jobs=1)}[label]
    make().fit(X[:50, :30], y[:50])  # JIT warm-up
    benchmark.group = f"fit n={N} p={DEFAULT_P} leaf 5, 100 trees"
    cpu = []

    def fit():
        start = time.process_time()
        model = make().fit(X, y)
        cpu.append(time.process_time() - start)
        return model

    model = benchmark.pedantic(fit, rounds=3, iterations=1)
    _default[label] = min(cpu)
    assert model.predict(X[:5]).shape == (5,)


def test_default_scale_ratio_report(capsys):
    """Print the CPU seconds per 100 trees at the default data's size and the ratio against scikit-learn."""
    if "nnlite" in _default and "sklearn" in _default:
        with capsys.disabled():
            print(f"\nrandom forest, n={N} p={DEFAULT_P} min_samples_leaf=5, 1 thread: nnlite "
                  f"{_default['nnlite']:.2f} s  sklearn {_default['sklearn']:.2f} s  "
                  f"ratio {_default['nnlite'] / _default['sklearn']:.3f}")


# ---- the paper's scale: 55,000 genes, 350 rows, 100 trees, max_features 1/3, min_samples_leaf 5 ----
# scikit-learn needs ~10 s per tree here, so it grows SK_TREES trees and its time is scaled to 100 trees (trees
# are independent: fit time is linear in the number of trees); the exact nnlite search is scaled the same way.
PAPER_N, PAPER_TREES, SK_TREES = 350, 100, 5
PAPER_P = int(os.environ.get("NNLITE_BENCH_FOREST_P", "20000"))
_paper = {}  # label -> CPU seconds for 100 trees (process time: the shared machine's wall clock is unreliable)


@pytest.fixture(scope="module")
def paper_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(PAPER_N, PAPER_P)).astype(np.float32)
    y = X[:, :5] @ np.array([1.0, 2.0, 1.0, 0.5, 0.5]) + np.sin(3 * X[:, 5]) + 0.5 * rng.normal(size=PAPER_N)
    RandomForestRegressor(n_estimators=2).fit(X[:50, :30], y[:50])  # JIT warm-up (cache load), both searches
    RandomForestRegressor(n_estimators=2, max_bins=None).fit(X[:50, :30], y[:50])
    return X, y


class _NodeWiseBinned:
    """The binned forest grown node by node (``grow_trees(level_wise=False)``), the level-wise search's reference."""

    def __init__(self, trees):
        self.trees = trees

    def fit(self, X, y):
        seeds = np.random.SeedSequence(0).generate_state(self.trees, dtype=np.uint64)
        self.grown_ = grow_trees(X, y, seeds, True, X.shape[1] // 3, 5, -1, 1, max_bins=256, level_wise=False)
        return self

    def predict(self, X):
        g = self.grown_
        return predict_trees(X, g["feature"], g["threshold"], g["left"], g["right"], g["value"])


@pytest.mark.parametrize("label,trees,factory", [
    ("nnlite binned", PAPER_TREES, lambda t: RandomForestRegressor(n_estimators=t, min_samples_leaf=5)),
    ("binned node-wise", 20, _NodeWiseBinned),
    ("nnlite exact", 10, lambda t: RandomForestRegressor(n_estimators=t, min_samples_leaf=5, max_bins=None)),
    ("sklearn", SK_TREES, lambda t: SkForest(n_estimators=t, max_features=1 / 3, min_samples_leaf=5,
                                             random_state=0, n_jobs=1)),
])
def test_fit_paper_scale(benchmark, paper_data, label, trees, factory):
    X, y = paper_data
    benchmark.group = f"fit n={PAPER_N} p={PAPER_P} (sklearn {SK_TREES} trees, exact 10, node-wise 20, binned 100)"
    cpu = []

    def fit():
        start = time.process_time()
        model = factory(trees).fit(X, y)
        cpu.append(time.process_time() - start)
        return model

    model = benchmark.pedantic(fit, rounds=1, iterations=1)
    _paper[label] = min(cpu) * PAPER_TREES / trees
    assert model.predict(X[:5]).shape == (5,)


def test_paper_scale_ratio_report(capsys):
    """Print the CPU seconds per 100 trees and the ratios against scikit-learn (runs after the fits above)."""
    ref = _paper.get("sklearn")
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    lines = ["", f"random forest at the paper's scale, n={PAPER_N} p={PAPER_P} max_features=1/3 min_samples_leaf=5, "
             f"1 thread: CPU seconds per {PAPER_TREES} trees (load average {load})"]
    for label, sec in _paper.items():
        ratio = f"  ratio {sec / ref:6.3f}" if ref else ""
        lines.append(f"  {label:14s} {sec:8.2f} s{ratio}")
    with capsys.disabled():
        print("\n".join(lines))
