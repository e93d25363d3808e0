"""Exported C models (``nnlite.export.c``): code + data size per model kind, and time per prediction of the C
code against the numpy runtime, same models, same run.

Run: python -m pytest benchmarks/bench_cexport.py --benchmark-enable -s

Models, all on 1000 genes with log2(x + 1) and min-max scaling: the deployed committee (4 networks
1000 -> 64 -> 32 -> 16 -> 8 -> 1, ReLU/Tanh alternating, 50 % pruned, 5-bit weight sharing: the ``train``
defaults), a dense linear model (linear SVR), a sparse one (elastic net, 60 nonzero coefficients), a forest
(100 trees, min_samples_leaf 5, 400 training rows) and a constant. Sizes: ``size`` (text + data + bss) of
each model's object file, x86-64 ``cc -O2`` and Cortex-M4 ``arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -Os``
(skipped without the cross compiler). Time: the generated driver times R passes over 1000 rows per model in C
(CPU time, one prediction at a time, preprocessing included); pytest-benchmark times one-row predictions
of the Python side (the numpy runtime for the committee, the Numba ``RandomForestRegressor.predict`` for the
forest, the description's numpy reference for the others; preprocessing included). The last test prints the table and the C / numpy ratios.

Measured on the 2-core shared development machine (load average ~8; C times are CPU time and vary by +-20 %):

| model | x86-64 -O2 bytes | M4 -Os bytes | C per prediction | Python per prediction | C / Python |
|---|---|---|---|---|---|
| committee (4 x 1000-64-32-16-8-1) | 156,729 | 155,136 | 608 us | 127 us | 4.8 |
| linear, dense | 20,753 | 20,480 | 6.0 us | 44 us | 0.14 |
| linear, 60 nonzero | 17,137 | 16,852 | 5.7 us | 44 us | 0.13 |
| forest (100 trees) | 129,425 | 128,996 | 11.5 us | 30 us | 0.38 |
| constant | 8,553 | 8,236 | 4.2 us | 44 us | 0.10 |

Every model carries 8 KB of preprocessing (scale, offset and training range per gene) and ~4 us of it per
prediction (1000 ``log2f``). The committee's C walks ~146,000 packed weights per prediction (~4 ns each,
scalar, straight from flash), while the numpy runtime holds the decoded dense matrices in RAM (1 MB here) and
runs them through BLAS: the C code trades speed on a desktop for 155 KB instead of 1 MB, which is what a
microcontroller needs. A real 706-gene committee file (4 networks 706-64-32-16-8-1) exports to 113 KB of
Cortex-M4 code and data and 3.3 KB of stack.
"""
import shutil
import subprocess

import numpy as np
import pytest

from nnlite import runtime as rt
from nnlite.compress.fileformat import dumps_committee
from nnlite.compress.prune import prune_model
from nnlite.compress.quantize import quantize_model
from nnlite.export import Committee, Constant, Forest, Linear, ModelDescription, Preprocessing
from nnlite.export.c import driver_source, export_c
from nnlite.forest import RandomForestRegressor
from nnlite.networks import paper_network

P = 1000
ARM = shutil.which("arm-none-eabi-gcc")
RESULTS = {}


@pytest.fixture(scope="module")
def models():
    rng = np.random.default_rng(0)
    X = rng.gamma(2.0, 4.0, size=(400, P)).astype(np.float32)
    t = np.log2(X + 1)
    genes = [f"GENE{i}" for i in range(P)]
    pre = Preprocessing.minmax(genes, t.min(0), t.max(0), log2p1=True)
    Z = pre.transform(X)
    y = Z[:, :20] @ rng.normal(size=20) + rng.normal(scale=0.3, size=400)
    nets = []
    for s in range(4):
        net = paper_network(P, [64, 32, 16, 8], seed=s)
        prune_model(net, percent=50)
        quantize_model(net, bits=5, seed=s)
        nets.append(net)
    sparse = np.zeros(P)
    sparse[rng.choice(P, 60, replace=False)] = rng.normal(size=60)
    rf = RandomForestRegressor(n_estimators=100, min_samples_leaf=5, seed=0).fit(Z, y)
    descs = {"committee": ModelDescription(pre, Committee.from_networks(nets), 3.0, 1.5, interval=(-1, 1)),
             "linear_dense": ModelDescription(pre, Linear(rng.normal(size=P) * 0.01, 0.5)),
             "linear_sparse": ModelDescription(pre, Linear(sparse, 0.5)),
             "forest": ModelDescription(pre, Forest.from_estimator(rf)),
             "constant": ModelDescription(pre, Constant(2.5))}
    runtime = rt.loads(dumps_committee(nets))
    return {"descs": descs, "X": X, "pre": pre, "runtime": runtime, "rf": rf}


def _size(tool, obj):
    out = subprocess.run([tool, str(obj)], check=True, capture_output=True, text=True).stdout.split("\n")[1]
    text, data, bss = (int(v) for v in out.split()[:3])
    return text + data + bss


@pytest.fixture(scope="module")
def built(models, tmp_path_factory):
    root = tmp_path_factory.mktemp("cexport")
    descs = models["descs"]
    sizes = {}
    for name, desc in descs.items():
        paths = export_c(desc, root / name, name)
        obj = root / f"{name}.o"
        subprocess.run(["cc", "-std=c99", "-O2", "-c", str(paths["source"]), "-o", str(obj)], check=True)
        sizes[name] = {"x86-64 -O2": _size("size", obj)}
        if ARM:
            arm = root / f"{name}.arm.o"
            subprocess.run([ARM, "-std=c99", "-mcpu=cortex-m4", "-mthumb", "-Os", "-c", str(paths["source"]),
                            "-o", str(arm)], check=True)
            sizes[name]["M4 -Os"] = _size("arm-none-eabi-size", arm)
    (root / "driver.c").write_text(driver_source(descs))
    exe = root / "driver"
    subprocess.run(["cc", "-std=c99", "-O2", *[f"-I{root / n}" for n in descs], "-o", str(exe),
                    str(root / "driver.c"), *[str(root / n / f"{n}.c") for n in descs], "-lm"], check=True)
    rows = models["X"][:1000]
    text = f"{len(rows)}\n" + "\n".join(" ".join(f"{v:.9g}" for v in row) for row in rows) + "\n"
    out = subprocess.run([str(exe), "20"], input=text, capture_output=True, text=True, check=True).stdout
    c_ns = {line.split()[0]: float(line.split()[1]) for line in out.splitlines() if line}
    return sizes, c_ns


@pytest.mark.parametrize("kind", ["committee", "linear_dense", "linear_sparse", "forest", "constant"])
def test_numpy_one_row(benchmark, models, kind):
    x = models["X"][:1]
    if kind == "committee":
        pre, runtime, desc = models["pre"], models["runtime"], models["descs"][kind]

        def predict():
            return runtime.predict(pre.transform(x)) * desc.target_scale + desc.target_mean
    elif kind == "forest":
        pre, rf = models["pre"], models["rf"]

        def predict():
            return rf.predict(pre.transform(x))
    else:
        desc = models["descs"][kind]

        def predict():
            return desc.predict(x)
    benchmark.group = f"one prediction {kind}"
    benchmark(predict)
    stats = getattr(benchmark, "stats", None)
    if stats is not None and getattr(stats, "stats", None) is not None:
        RESULTS[kind] = stats.stats.min


def test_table(built):
    sizes, c_ns = built
    lines = [f"{'model':14s} {'x86-64 -O2 B':>13s} {'M4 -Os B':>9s} {'C ns/pred':>10s} {'numpy us/pred':>14s} "
             f"{'C/numpy':>8s}"]
    for kind, size in sizes.items():
        numpy_s = RESULTS.get(kind)
        ratio = f"{c_ns[kind] * 1e-9 / numpy_s:8.4f}" if numpy_s else f"{'-':>8s}"
        lines.append(f"{kind:14s} {size['x86-64 -O2']:13d} {size.get('M4 -Os', 0) or '-':>9} {c_ns[kind]:10.0f} "
                     f"{(numpy_s or float('nan')) * 1e6:14.1f} {ratio}")
    print("\n" + "\n".join(lines))
    assert set(c_ns) == set(sizes)
