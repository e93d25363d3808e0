"""Training seconds per drug: the per-drug model (PM) against elastic net with its CV, on the default data.

The paper's timing claim (Fig. 3): PM trains faster than elastic net. Both are timed in the same run on the same
training rows of one Monte Carlo split of one drug of the embedded default data (2000 genes; RFE keeps 1000),
with BLAS limited to one thread as in the benchmark command. The PM time includes its SVR-RFE.
Run: python -m pytest benchmarks/bench_pipeline.py --benchmark-enable
"""
import time

import numpy as np
import pytest

DRUG = "17-AAG"
_TIMES = {}


@pytest.fixture(scope="module")
def drug_rows():
    from ccle.benchmark.datasets import drug_datasets
    from ccle.benchmark.tasks import limit_threads
    from ccle.data.loader import load_data
    from ccle.evaluation.splits import split_indices
    from ccle.methods.preprocess import decide_log2

    limiter = limit_threads()
    expression, table = load_data()
    (ds,), _ = drug_datasets(expression, table, [DRUG], log2=decide_log2(expression.values, "auto"))
    train, _ = split_indices(len(ds.y), DRUG, 0)
    yield ds.X[train], ds.y[train]
    if limiter is not None:
        limiter.restore_original_limits()


def _fit(name, X, y):
    from ccle.methods import make_method

    t0 = time.perf_counter()
    make_method(name, seed=0).fit(X, y)
    return time.perf_counter() - t0


@pytest.mark.benchmark(group="pipeline-train-seconds-per-drug-split")
@pytest.mark.parametrize("method", ["EN", "PM", "RF", "SVR"])
def test_train_seconds(benchmark, drug_rows, method):
    X, y = drug_rows
    benchmark.pedantic(_fit, args=(method, X, y), rounds=2, iterations=1, warmup_rounds=1)
    _TIMES[method] = benchmark.stats.stats.mean
    if "EN" in _TIMES and method != "EN":
        benchmark.extra_info[f"{method}/EN"] = round(_TIMES[method] / _TIMES["EN"], 3)
        print(f"\n{method}: {_TIMES[method]:.2f} s, EN: {_TIMES['EN']:.2f} s, ratio {method}/EN "
              f"{_TIMES[method] / _TIMES['EN']:.2f}")
    assert np.isfinite(_TIMES[method])
