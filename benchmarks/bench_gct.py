"""GCT parse time and peak memory: ``ccle.data.gct.read_gct`` against ``pandas.read_csv`` on the same file.

Default size: 10,000 genes x 1,019 cell lines (about 50 MB of text, a 39 MiB float32 matrix). The full CCLE
RNA-seq size, 56,318 x 1,019 (about 290 MB of text, a 219 MiB float32 matrix), runs when
``CCLE_BENCH_FULL_GCT=1``. Targets: faster than
pandas and a peak memory increase of at most 1.5x the float32 matrix.

Run: ``python -m pytest benchmarks/bench_gct.py --benchmark-enable -s`` (``-s`` shows the memory table).
Peak memory is measured in a fresh subprocess per reader: the ``VmHWM`` high-water mark after reading minus the
resident set size just before reading (after imports). Linux only.
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from ccle.data.gct import read_gct

N_CELLS = 1019
SIZES = [10000] + ([56318] if os.environ.get("CCLE_BENCH_FULL_GCT") == "1" else [])


def write_benchmark_gct(path, n_genes, n_cells=N_CELLS, seed=0):
    """A GCT 1.2 file with RPKM-like text (30% zeros, log-normal values with 4 significant digits).

    Values are drawn from a table of 8,192 preformatted strings, so a 300 MB file is written in seconds."""
    rng = np.random.default_rng(seed)
    table = np.array(["0"] + ["%.4g" % v for v in rng.lognormal(1.0, 2.0, 8191)], dtype=object)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(f"#1.2\n{n_genes}\t{n_cells}\n")
        fh.write("Name\tDescription\t" + "\t".join(f"CELL{i}_LUNG" for i in range(n_cells)) + "\n")
        for g0 in range(0, n_genes, 512):
            block = rng.integers(1, len(table), (min(512, n_genes - g0), n_cells))
            block[rng.random(block.shape) < 0.3] = 0
            fh.write("".join(f"ENSG{g0 + i:011d}.1\tGENE{g0 + i}\t" + "\t".join(table[row].tolist()) + "\n"
                             for i, row in enumerate(block)))
    return path


def read_pandas(path):
    """The reference: pandas' C parser, then the same (cells x genes) float32 matrix."""
    import pandas as pd

    frame = pd.read_csv(path, sep="\t", skiprows=2, index_col=0)
    return np.ascontiguousarray(frame.iloc[:, 1:].to_numpy(dtype=np.float32).T)


_PROBE = r"""
import json, sys
import numpy as np, pandas
sys.path[:0] = [{bench_dir!r}]
from bench_gct import read_pandas
from ccle.data.gct import read_gct
def status(key):
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) for l in fh if l.startswith(key)) * 1024
read = (lambda p: read_gct(p).values) if sys.argv[2] == "ours" else read_pandas
if sys.argv[3] == "warm":  # load the compiled Numba kernel / pandas parser on a tiny file first
    read(sys.argv[4])
before = status("VmRSS")
values = read(sys.argv[1])
peak = status("VmHWM")  # high-water mark of this process image (ru_maxrss would include the parent's fork)
print(json.dumps({{"before": before, "peak": peak, "nbytes": int(values.nbytes)}}))
"""


def peak_memory(path, which, warm=True):
    """Peak resident memory added by reading ``path`` with ``which`` ("ours" or "pandas"), in a fresh process.

    ``warm=True`` first reads a tiny GCT, so that one-off costs that do not grow with the file (loading the
    cached Numba machine code, about 50-90 MB of LLVM and code) fall before the baseline."""
    code = _PROBE.format(bench_dir=os.path.dirname(os.path.abspath(__file__)))
    tiny = os.path.join(os.path.dirname(str(path)), "tiny.gct")
    if not os.path.exists(tiny):
        write_benchmark_gct(tiny, 3, n_cells=4)
    out = subprocess.run([sys.executable, "-c", code, str(path), which, "warm" if warm else "cold", tiny],
                         check=True, capture_output=True, text=True)
    info = json.loads(out.stdout.strip().splitlines()[-1])
    return info["peak"] - info["before"], info["nbytes"]


@pytest.fixture(scope="module", params=SIZES, ids=lambda n: f"{n}genes")
def gct_file(request, tmp_path_factory):
    return write_benchmark_gct(tmp_path_factory.mktemp("gct") / "bench.gct", request.param), request.param


@pytest.mark.parametrize("reader", ["ours", "pandas"])
def test_parse_time(benchmark, gct_file, reader):
    path, n_genes = gct_file
    benchmark.group = f"read GCT {n_genes} x {N_CELLS}"
    func = (lambda: read_gct(path).values) if reader == "ours" else (lambda: read_pandas(path))
    values = benchmark.pedantic(func, rounds=5 if n_genes <= 10000 else 2, iterations=1)
    assert values.shape == (N_CELLS, n_genes) and values.dtype == np.float32


def test_same_values_and_peak_memory(gct_file):
    path, n_genes = gct_file
    np.testing.assert_array_equal(read_gct(path).values, read_pandas(path))
    ours, nbytes = peak_memory(path, "ours")
    ours_cold, _ = peak_memory(path, "ours", warm=False)
    ref, _ = peak_memory(path, "pandas")
    print(f"\nGCT {n_genes} x {N_CELLS}: float32 matrix {nbytes / 2**20:.0f} MiB; peak memory added: "
          f"read_gct {ours / 2**20:.0f} MiB ({ours / nbytes:.2f}x; {ours_cold / 2**20:.0f} MiB including the "
          f"first Numba load), pandas.read_csv {ref / 2**20:.0f} MiB ({ref / nbytes:.2f}x)")
    # the target (1.5x) is for the full CCLE size; on small files the fixed buffers (2 MB chunks, one block of
    # genes, the gene names) weigh more, so there the bound is the matrix plus 24 MiB
    assert ours <= max(1.5 * nbytes, nbytes + 24 * 2**20)
