"""Deep Compression benchmarks: compression ratio and accuracy on a paper-shaped network, Huffman coding size
against zlib / lzma, and Huffman encode/decode throughput against zlib (same run, ratios reported).

Run: python -m pytest benchmarks/bench_compress.py --benchmark-enable -s
Figures are printed and stored in each benchmark's ``extra_info`` (``--benchmark-json`` keeps them).

Data: the project's default data set (``ccle.data.loader.load_data``, generated into a temporary cache), one
drug, log2(x + 1), the 1000 genes most correlated with the response on the training rows (a cheap stand-in
for the paper's RFE), min-max scaling fitted on the training rows, 70/30 split, standardized response.
Without the ccle package a seeded synthetic regression problem (350 x 1000) is used instead.
"""
import lzma
import time
import zlib

import numpy as np
import pytest

from nnlite.compress.huffman import HuffmanCode, entropy_bits
from nnlite.compress.pipeline import compress_model
from nnlite.networks import paper_network
from nnlite.optim import Adam

DRUG = "RAF265"
WIDTHS = [200, 150, 100, 80, 60, 50, 40, 30, 20, 20, 10]          # 11 hidden + output = 12 Dense layers
RESULTS = {}


def _default_data(cache_dir):
    from ccle.data.align import drug_dataset
    from ccle.data.loader import load_data
    from ccle.methods.preprocess import MinMaxScaler, log2p1

    expr, drugs = load_data(cache_dir=str(cache_dir))
    ds = drug_dataset(expr, drugs, DRUG)
    X, y = log2p1(ds.X), ds.y.astype(np.float32)
    perm = np.random.default_rng(0).permutation(len(y))
    tr, va = perm[:int(0.7 * len(y))], perm[int(0.7 * len(y)):]
    Xc, yc = X[tr] - X[tr].mean(0), y[tr] - y[tr].mean()
    corr = np.abs(Xc.T @ yc) / (np.sqrt((Xc ** 2).sum(0)) * np.sqrt((yc ** 2).sum()) + 1e-12)
    sel = np.argsort(-corr)[:1000]
    scaler = MinMaxScaler().fit(X[tr][:, sel])
    mu, sd = y[tr].mean(), y[tr].std()
    return (scaler.transform(X[tr][:, sel]), (y[tr] - mu) / sd,
            scaler.transform(X[va][:, sel]), (y[va] - mu) / sd, f"default data, drug {DRUG}")


def _synthetic_data(n=350, p=1000, seed=0):
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, 8))
    X = 1 / (1 + np.exp(-(Z @ rng.normal(size=(8, p)) * 0.5 + rng.normal(size=(n, p)))))
    y = np.tanh(Z[:, 0]) + 0.5 * Z[:, 1] * Z[:, 2] + 0.3 * rng.normal(size=n)
    y = (y - y.mean()) / y.std()
    ntr = int(0.7 * n)
    X = X.astype(np.float32)
    y = y.astype(np.float32)
    return X[:ntr], y[:ntr], X[ntr:], y[ntr:], "synthetic 350 x 1000"


SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def problem(tmp_path_factory):
    try:
        return _default_data(tmp_path_factory.mktemp("ccle-cache"))
    except ImportError:
        return _synthetic_data()


def _train_and_compress(Xt, yt, Xv, yv, seed):
    model = paper_network(Xt.shape[1], WIDTHS, dropout=0.4, n_dropout=3, seed=seed)
    model.fit(Xt, yt, epochs=400, batch_size=32, optimizer=Adam(3e-4), validation=(Xv, yv), patience=40)
    t = time.perf_counter()
    # compress_model's defaults: prune_percent="auto" (keep 20 sqrt(N) of a layer's N weights), one pruning
    # then up to 60 epochs of retraining (patience 20, dropout scaled down), 5-bit sharing, 30 epochs of
    # centroid fine-tuning, per-layer best gap width; retraining at the training learning rate
    compressed, report = compress_model(model, Xt, yt, Xv, yv, lr=3e-4, seed=seed)
    return compressed, report, time.perf_counter() - t


def test_compression_ratio_and_accuracy(benchmark, problem):
    """Train the paper-shaped network from SEEDS (the validation MSE of one 30 % split moves by a few
    percent with the seed, so one seed alone says little about the 2 % target), compress each, report all."""
    Xt, yt, Xv, yv, name = problem
    runs = benchmark.pedantic(lambda: [_train_and_compress(Xt, yt, Xv, yv, s) for s in SEEDS],
                              rounds=1, iterations=1)
    rows = []
    for seed, (compressed, report, seconds) in zip(SEEDS, runs):
        mse = report.val_mse
        rows.append({"seed": seed, "ratio": report.ratio, "file_ratio": report.file_ratio,
                     "file_bytes": report.file_bytes, "val_mse": mse,
                     "relative_mse_change": mse["huffman"] / mse["dense"] - 1, "compress_seconds": seconds})
    rel = np.array([r["relative_mse_change"] for r in rows])
    info = {"data": name, "var_y_val": float(np.var(yv)), "dense_bytes": runs[0][1].totals()["dense"],
            "runs": rows, "mean_ratio": float(np.mean([r["ratio"] for r in rows])),
            "mean_file_ratio": float(np.mean([r["file_ratio"] for r in rows])),
            "mean_relative_mse_change": float(rel.mean())}
    benchmark.extra_info.update(info)
    RESULTS["compression"] = info
    print(f"\n[{name}] paper-shaped network {WIDTHS} -> 1, seed {SEEDS[0]}:\n{runs[0][1]}")
    for r in rows:
        print(f"seed {r['seed']}: ratio {r['ratio']:.1f}x (file {r['file_ratio']:.1f}x), validation MSE "
              f"dense {r['val_mse']['dense']:.4f} -> compressed {r['val_mse']['huffman']:.4f} "
              f"({100 * r['relative_mse_change']:+.2f}%), compression {r['compress_seconds']:.0f} s")
    print(f"mean: ratio {info['mean_ratio']:.1f}x (file {info['mean_file_ratio']:.1f}x; target >= 30x), "
          f"relative validation MSE change {100 * rel.mean():+.2f}% (target within 2%)")
    RESULTS["indices"] = [np.unique(layer.W.ravel()[layer.W.ravel() != 0], return_inverse=True)[1]
                          for layer in runs[0][0].dense_layers()]


def _sizes(symbols, n_symbols):
    code = HuffmanCode.from_symbols(symbols, n_symbols)
    data, n_bits = code.encode(symbols)
    raw = symbols.astype(np.uint8).tobytes()
    n = symbols.size
    return {"n": n, "entropy": entropy_bits(symbols, n_symbols) / n,
            "huffman": 8 * (len(data) + len(code.to_bytes())) / n,
            "zlib": 8 * len(zlib.compress(raw, 9)) / n, "lzma": 8 * len(lzma.compress(raw, preset=9)) / n}


def _five_bit_codes(n=1_000_000, seed=0):
    """Cluster indices of 1M Laplace-distributed 'weights' quantized to 32 linear-init k-means clusters."""
    from nnlite.compress.quantize import kmeans_1d

    w = np.random.default_rng(seed).laplace(size=n)
    w = w[np.abs(w) > 0.5]                         # the survivors of magnitude pruning
    _, labels = kmeans_1d(w, 32)
    return labels


def test_huffman_size_vs_zlib_lzma(benchmark):
    labels = _five_bit_codes()
    sizes = benchmark.pedantic(_sizes, args=(labels, 32), rounds=1, iterations=1)
    out = {"synthetic_5bit": sizes}
    if "indices" in RESULTS:
        idx = np.concatenate(RESULTS["indices"])         # cluster indices of all surviving weights, model order
        out["model_indices"] = _sizes(idx.astype(np.int64), int(idx.max()) + 1)
    benchmark.extra_info.update(out)
    for k, v in out.items():
        print(f"\n{k}: {v['n']} symbols, bits/symbol: entropy {v['entropy']:.3f}, Huffman (+table) "
              f"{v['huffman']:.3f}, lzma {v['lzma']:.3f}, zlib {v['zlib']:.3f}")


@pytest.fixture(scope="module")
def codes():
    labels = _five_bit_codes(n=1_500_000)[:1_000_000]
    code = HuffmanCode.from_symbols(labels, 32)
    data, n_bits = code.encode(labels)
    raw = labels.astype(np.uint8).tobytes()
    return labels, code, data, n_bits, raw, zlib.compress(raw, 6)


def test_huffman_encode(benchmark, codes):
    labels, code, data, n_bits, raw, z = codes
    benchmark.group = "huffman-vs-zlib"
    assert benchmark(code.encode, labels)[1] == n_bits
    RESULTS["huffman_encode"] = benchmark.stats.stats.median


def test_zlib_compress(benchmark, codes):
    labels, code, data, n_bits, raw, z = codes
    benchmark.group = "huffman-vs-zlib"
    benchmark(zlib.compress, raw, 6)
    RESULTS["zlib_compress"] = benchmark.stats.stats.median


def test_huffman_decode(benchmark, codes):
    labels, code, data, n_bits, raw, z = codes
    benchmark.group = "huffman-vs-zlib"
    out = benchmark(code.decode, data, labels.size, n_bits)
    np.testing.assert_array_equal(out, labels)
    RESULTS["huffman_decode"] = benchmark.stats.stats.median


def test_zlib_decompress(benchmark, codes):
    labels, code, data, n_bits, raw, z = codes
    benchmark.group = "huffman-vs-zlib"
    assert benchmark(zlib.decompress, z) == raw
    RESULTS["zlib_decompress"] = benchmark.stats.stats.median


def _python_decode(data, n, code):
    """Pure-Python canonical decoder (one bit at a time), the speed reference for the Numba kernel."""
    table = {(int(code.lengths[s]), int(code.codes[s])): s for s in range(code.n_symbols) if code.lengths[s]}
    out = []
    cur = ln = 0
    for byte in data:
        for k in range(7, -1, -1):
            cur = (cur << 1) | ((byte >> k) & 1)
            ln += 1
            s = table.get((ln, cur))
            if s is not None:
                out.append(s)
                cur = ln = 0
                if len(out) == n:
                    return out
    return out


def test_throughput_ratios(benchmark, codes):
    labels, code, data, n_bits, raw, z = codes
    t = time.perf_counter()
    _python_decode(data, labels.size, code)
    py = time.perf_counter() - t
    benchmark.pedantic(lambda: None, rounds=1)
    r = {"python_decode_s": py}
    for k in ("huffman_encode", "zlib_compress", "huffman_decode", "zlib_decompress"):
        if k in RESULTS:
            r[k + "_s"] = RESULTS[k]
    if "huffman_encode" in RESULTS and "zlib_compress" in RESULTS:
        r["encode_ratio_huffman_over_zlib"] = RESULTS["huffman_encode"] / RESULTS["zlib_compress"]
    if "huffman_decode" in RESULTS and "zlib_decompress" in RESULTS:
        r["decode_ratio_huffman_over_zlib"] = RESULTS["huffman_decode"] / RESULTS["zlib_decompress"]
        r["decode_speedup_numba_over_python"] = py / RESULTS["huffman_decode"]
    benchmark.extra_info.update(r)
    print("\n1M 5-bit symbols, median seconds and ratios:", {k: round(v, 5) for k, v in r.items()})
