"""Prediction latency of the numpy-only runtime (``nnlite.runtime``) against the full engine
(``nnlite.compress.fileformat.load_compressed`` -> ``Sequential.predict``), same file, same run.

Run: python -m pytest benchmarks/bench_runtime.py --benchmark-enable -s

Models: the deployed per-drug network (1000 genes -> 32 -> 16 -> 8 -> 1, ReLU/Tanh/ReLU, 50 % pruned, 5-bit
weight sharing, the ``train`` defaults) and the paper-shaped deep one (1000 -> 200 x 12 -> 1, 90 % pruned).
Timed: predict for 1 sample and for 1,000 samples (BLAS limited to one thread for both), and decoding the file
(the runtime's vectorized numpy Huffman decoder against the engine's Numba decoder). The last test prints
runtime / engine ratios. Cold start (a fresh interpreter importing, loading and predicting one sample) is
measured once per side in a subprocess and printed too.
"""
import subprocess
import sys
import time

import numpy as np
import pytest

from nnlite import runtime as rt
from nnlite.compress.fileformat import dumps_compressed, load_compressed, loads_compressed
from nnlite.compress.prune import prune_model
from nnlite.compress.quantize import quantize_model
from nnlite.networks import paper_network

MODELS = {"deployed": ([32, 16, 8], 50), "deep": ([200] * 12, 90)}
RESULTS = {}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module", params=sorted(MODELS))
def model(request, tmp_path_factory):
    widths, prune = MODELS[request.param]
    net = paper_network(1000, widths, seed=0)
    prune_model(net, percent=prune)
    quantize_model(net, bits=5)
    path = tmp_path_factory.mktemp("rt") / f"{request.param}.nnz"
    path.write_bytes(dumps_compressed(net))
    X = np.random.default_rng(0).random((1000, 1000), dtype=np.float32)
    engine, runtime = load_compressed(path), rt.load(path)
    ref, out = engine.predict(X), runtime.predict(X)
    np.testing.assert_allclose(out, ref, rtol=0, atol=2e-6 * np.abs(ref).max())
    return request.param, path, X, engine, runtime


def _keep(benchmark, key):
    stats = getattr(benchmark, "stats", None)
    if stats is not None and getattr(stats, "stats", None) is not None:
        RESULTS[key] = stats.stats.min


@pytest.mark.parametrize("rows", [1, 1000])
@pytest.mark.parametrize("side", ["runtime", "engine"])
def test_predict(benchmark, model, side, rows):
    name, _, X, engine, runtime = model
    predict = (runtime if side == "runtime" else engine).predict
    benchmark.group = f"predict {rows} {name}"
    benchmark(predict, X[:rows])
    _keep(benchmark, (name, "predict", rows, side))


@pytest.mark.parametrize("side", ["runtime", "engine"])
def test_decode(benchmark, model, side):
    name, path, _, _, _ = model
    data = path.read_bytes()
    benchmark.group = f"decode file {name}"
    benchmark(rt.loads if side == "runtime" else loads_compressed, data)
    _keep(benchmark, (name, "decode", 0, side))


def _cold(path, runtime):
    code = ("import numpy as np, nnlite.runtime as rt; m = rt.load(%r); m.predict(np.zeros((1, m.n_in)))" if runtime
            else "import numpy as np; from nnlite.compress.fileformat import load_compressed as l; m = l(%r); "
                 "m.predict(np.zeros((1, m.n_in)))") % str(path)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - t0


def test_ratios(model):
    name, path, _, _, _ = model
    lines = []
    for what, rows in (("predict", 1), ("predict", 1000), ("decode", 0)):
        a, b = RESULTS.get((name, what, rows, "runtime")), RESULTS.get((name, what, rows, "engine"))
        if a and b:
            label = f"{what} {rows} row(s)" if rows else what
            lines.append(f"{name:9s} {label:18s} runtime {a * 1e6:9.1f} us  engine {b * 1e6:9.1f} us  "
                         f"runtime/engine {a / b:5.2f}")
    cold_rt, cold_engine = _cold(path, True), _cold(path, False)
    lines.append(f"{name:9s} cold start (import + load + 1 prediction) runtime {cold_rt:.2f} s, engine "
                 f"{cold_engine:.2f} s, ratio {cold_rt / cold_engine:.2f}")
    print("\n" + "\n".join(lines))
