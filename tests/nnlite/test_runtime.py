"""nnlite.runtime: numpy-only decoding and prediction of .nnz files, checked against the engine's reader.

Exactness stated in the module: decoded weights bit-identical; networks without Tanh predict bit for bit what
``load_compressed(path).predict`` gives; Tanh networks agree to float rounding (here: within 2e-6 of the
output scale for float32, 1e-12 for float64).
"""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from nnlite import runtime as rt
from nnlite import _kernels as K
from nnlite.compress.fileformat import (dumps_committee, dumps_compressed, load_committee, load_compressed,
                                        save_compressed)
from nnlite.compress.huffman import HuffmanCode
from nnlite.compress.prune import prune_model
from nnlite.compress.quantize import quantize_model
from nnlite.compress.sparse import decode_gaps, encode_gaps
from nnlite.networks import paper_network, simple_ann_network


def _compressed(net, percent=60, bits=4):
    prune_model(net, percent=percent)
    quantize_model(net, bits=bits)
    return net


@pytest.fixture(scope="module")
def X():
    return (np.random.default_rng(7).normal(size=(1000, 30)) * 2).astype(np.float32)


# ------------------------------------------------------------------------------------------- Huffman
def test_huffman_decode_matches_the_encoder_on_random_alphabets():
    rng = np.random.default_rng(0)
    for _ in range(60):
        k = int(rng.integers(1, 70))
        n = int(rng.integers(1, 400))
        symbols = rng.choice(k, size=n, p=rng.dirichlet(np.full(k, 0.3)))
        code = HuffmanCode.from_symbols(symbols, k)
        data, n_bits = code.encode(symbols)
        out = rt.huffman_decode(data, n, n_bits, rt.read_code_lengths(code.to_bytes()))
        assert out.dtype == np.int64 and np.array_equal(out, symbols)


def test_huffman_long_codes_and_single_symbol():
    # Fibonacci counts give a maximally skewed tree: codes of 1..24 bits (beyond any 11-bit lookup table)
    fib = [1, 1]
    while len(fib) < 25:
        fib.append(fib[-1] + fib[-2])
    code = HuffmanCode.from_counts(np.array(fib))
    assert code.max_length == 24
    symbols = np.repeat(np.arange(25), 3)[np.random.default_rng(1).permutation(75)]
    data, n_bits = code.encode(symbols)
    assert np.array_equal(rt.huffman_decode(data, 75, n_bits, code.lengths), symbols)
    one = HuffmanCode.from_symbols(np.zeros(9, dtype=np.int64), 4)  # one used symbol: the 1-bit code "0"
    data, n_bits = one.encode(np.zeros(9, dtype=np.int64))
    assert np.array_equal(rt.huffman_decode(data, 9, n_bits, one.lengths), np.zeros(9))
    assert rt.huffman_decode(b"", 0, 0, one.lengths).size == 0


def test_canonical_tables_give_the_encoders_codes():
    lengths = np.array([3, 0, 2, 4, 4, 2, 3, 3])
    code = HuffmanCode(lengths)
    L, first, count, offset, symbols = rt.canonical_tables(lengths)
    for i, s in enumerate(symbols):
        ln = lengths[s]
        assert first[ln] + (i - offset[ln]) == code.codes[s]


def test_huffman_corrupt_streams_raise():
    code = HuffmanCode(np.array([1, 2]))          # codes "0" and "10": the pattern "11" is no codeword
    with pytest.raises(ValueError, match="not a codeword"):
        rt.huffman_decode(bytes([0b11000000]), 1, 8, code.lengths)
    with pytest.raises(ValueError, match="not a codeword"):
        rt.huffman_decode(bytes([0b01100000]), 2, 8, code.lengths)   # "0" then "11"
    with pytest.raises(ValueError, match="truncated"):
        rt.huffman_decode(bytes([0b10000000]), 1, 1, code.lengths)   # "1" then the stream ends
    with pytest.raises(ValueError, match="truncated"):
        rt.huffman_decode(bytes([0]), 9, 8, code.lengths)            # 9 one-bit codes in 8 bits
    with pytest.raises(ValueError, match="truncated"):
        rt.huffman_decode(bytes([0]), 1, 16, code.lengths)           # more bits announced than present
    long_code = np.array([1, 17])                 # codes "0" and "1" + 16 zeros: beyond the 16-bit lookup table
    stream = bytes([0b01000000, 0, 0b00011000])    # "0", the 17-bit code, "0", then "11": no codeword
    assert np.array_equal(rt.huffman_decode(stream, 3, 19, long_code), [0, 1, 0])
    with pytest.raises(ValueError, match="not a codeword"):
        rt.huffman_decode(stream, 4, 24, long_code)
    with pytest.raises(ValueError, match="Kraft"):
        rt.read_code_lengths(HuffmanCode(np.array([1, 2, 2])).to_bytes()[:2] + bytes([0b01010100]))


def test_gap_decoding_matches_the_encoder():
    rng = np.random.default_rng(3)
    positions = np.sort(rng.choice(5000, size=700, replace=False))
    for b in (1, 2, 3, 5, 9):
        codes = encode_gaps(positions, b)
        assert np.array_equal(rt.decode_gaps(codes, b), positions)
        assert np.array_equal(rt.decode_gaps(codes, b), decode_gaps(codes, b))


# ------------------------------------------------------------------------------------------- networks
def test_decoded_weights_are_bit_identical(tmp_path):
    net = _compressed(paper_network(30, [24, 12, 6], seed=1))
    path = tmp_path / "m.nnz"
    save_compressed(net, path, metadata={"note": "x"})
    ref = load_compressed(path)
    model = rt.load(path)
    assert model.metadata == {"note": "x"}
    assert len(model.networks) == 1
    dense = ref.dense_layers()
    assert len(model.networks[0].steps) == len(dense)
    for (W, b, _), layer in zip(model.networks[0].steps, dense):
        assert W.dtype == layer.W.dtype and np.array_equal(W, layer.W) and np.array_equal(b, layer.b)
    assert [s[2] for s in model.networks[0].steps] == ["ReLU", "Tanh", "ReLU", "Identity"]


def test_networks_without_tanh_predict_bit_for_bit(tmp_path, X):
    from nnlite.activations import ReLU
    from nnlite.layers import Dense, Dropout
    from nnlite.model import Sequential

    nets = [_compressed(simple_ann_network(30, [20, 10], seed=2)),
            _compressed(Sequential([Dense(30, 16), ReLU(), Dropout(0.3), Dense(16, 8), ReLU(), Dense(8, 1)], seed=4))]
    for k, net in enumerate(nets):
        path = tmp_path / f"n{k}.nnz"
        save_compressed(net, path)
        ref = load_compressed(path)
        model = rt.load(path)
        for rows in (X[:1], X):
            out = model.predict(rows)
            expected = ref.predict(rows)
            assert out.dtype == expected.dtype and out.shape == expected.shape
            assert np.array_equal(out, expected)


def test_tanh_networks_match_to_float_rounding(tmp_path, X):
    for dtype, rtol in ((np.float32, 2e-6), (np.float64, 1e-12)):
        net = _compressed(paper_network(30, [32, 16, 8], seed=3, dtype=dtype))
        path = tmp_path / "t.nnz"
        save_compressed(net, path)
        ref = load_compressed(path).predict(X)
        out = rt.load(path).predict(X)
        assert out.dtype == np.dtype(dtype)
        np.testing.assert_allclose(out, ref, rtol=0, atol=rtol * np.abs(ref).max())
        np.testing.assert_allclose(rt.load(path).predict(X[:1]), ref[:1], rtol=0, atol=rtol * np.abs(ref).max())


def test_numpy_tanh_is_within_float32_rounding_of_the_engines_tanh():
    x = np.linspace(-12, 12, 200001, dtype=np.float32)
    y = x[None, :].copy()
    K.bias_act(y, np.zeros(x.size, dtype=np.float32), K.TANH_FAST)   # what float32 Tanh layers compute
    assert np.abs(np.tanh(x) - y[0]).max() <= 4e-7


def test_ensemble_predicts_the_mean_of_its_members(tmp_path, X):
    nets = [_compressed(paper_network(30, [12, 6], seed=s)) for s in (1, 2, 3)]
    path = tmp_path / "e.nnz"
    path.write_bytes(dumps_committee(nets, metadata={"who": "committee"}))
    model = rt.load(path)
    assert len(model.networks) == 3 and model.metadata == {"who": "committee"}
    members = model.predict_members(X)
    assert members.shape == (3, X.shape[0])
    assert np.array_equal(model.predict(X), np.mean(members, axis=0))
    expected = np.mean([n.predict(X).astype(np.float64) for n in nets], axis=0)
    np.testing.assert_allclose(model.predict(X), expected, rtol=0, atol=2e-6 * np.abs(expected).max())
    # the engine's reader gives the same committee; its one-network reader refuses the file
    header, engine_nets = load_committee(path)
    assert header["metadata"]["who"] == "committee" and len(engine_nets) == 3
    for mine, theirs in zip(engine_nets, nets):
        assert np.array_equal(mine.predict(X), theirs.predict(X))
    with pytest.raises(ValueError, match="a committee of 3 networks"):
        load_compressed(path)


@pytest.mark.parametrize("bad", [np.zeros((3, 5)), np.zeros(30), np.zeros((0, 30)), np.full((2, 30), np.nan),
                                 np.full((2, 30), np.inf), np.full((2, 30), 1e39), np.array([["a"] * 30]),
                                 np.zeros((2, 30), complex)], ids=["columns", "1-D", "empty", "nan", "inf",
                                                                   "overflow", "strings", "complex"])
def test_runtime_and_engine_refuse_the_same_inputs_with_the_same_message(bad):
    """One validator (nnlite._checks.check_network_X) for Sequential.predict and the numpy-only runtime."""
    net = _compressed(paper_network(30, [8], seed=1))
    model = rt.loads(dumps_compressed(net))
    with pytest.raises(ValueError) as engine:
        net.predict(bad)
    with pytest.raises(ValueError) as runtime:
        model.predict(bad)
    assert str(engine.value) == str(runtime.value) and "X " in str(engine.value)


def test_bad_input_and_corrupt_files(tmp_path, X):
    net = _compressed(paper_network(30, [8], seed=1))
    data = dumps_compressed(net)
    model = rt.loads(data)
    with pytest.raises(ValueError, match="features"):
        model.predict(X[:, :5])
    with pytest.raises(ValueError, match="NaN"):
        model.predict(np.full((2, 30), np.nan))
    with pytest.raises(ValueError, match="empty"):
        model.predict(np.zeros((0, 30)))
    with pytest.raises(ValueError, match="magic"):
        rt.loads(b"hello world, not a model", "f.nnz")
    with pytest.raises(ValueError, match="truncated"):
        rt.loads(data[:40], "f.nnz")
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x10
    with pytest.raises(ValueError, match="checksum"):
        rt.loads(bytes(flipped), "f.nnz")
    with pytest.raises(ValueError, match="version"):
        rt.loads(data[:8] + b"\x09\x00" + data[10:], "f.nnz")
    with pytest.raises(ValueError, match="magic"):
        rt.loads(b"", "f.nnz")



def test_runtime_and_engine_reject_damaged_files_with_the_same_message():
    """Both read the byte layout through nnlite.compress._layout: same bytes, same verdict, same words."""
    import json
    import struct
    import zlib

    from nnlite.compress.fileformat import loads_compressed

    data = dumps_compressed(_compressed(paper_network(30, [8], seed=2)))
    hlen = struct.unpack_from("<I", data, 10)[0]
    header = json.loads(zlib.decompress(data[14:14 + hlen]))
    header["layers"][0]["codec"]["gap_stream"][0] += 10 ** 6
    hb = zlib.compress(json.dumps(header).encode())
    moved = data[:10] + struct.pack("<I", len(hb)) + hb + data[14 + hlen:-4]
    moved += struct.pack("<I", zlib.crc32(moved))
    damaged = {"cut end": data[:-1], "cut body": data[:14 + hlen + 5], "cut header": data[:20],
               "cut prefix": data[:11], "flip": data[:40] + bytes([data[40] ^ 0x10]) + data[41:],
               "extra": data + b"\0", "future": data[:8] + b"\x03\x00" + data[10:], "empty": b"",
               "text": b"not a model", "blob outside": moved}
    expect = {"cut end": "truncated", "cut body": "truncated", "cut header": "truncated", "cut prefix": "truncated",
              "flip": "checksum", "extra": "corrupt", "future": "version 3 is not supported", "empty": "magic",
              "text": "magic", "blob outside": "gap stream lies outside the body"}
    for name, bad in damaged.items():
        with pytest.raises(ValueError, match=expect[name]) as engine:
            loads_compressed(bad, "f.nnz")
        with pytest.raises(ValueError, match=expect[name]) as runtime:
            rt.loads(bad, "f.nnz")
        assert str(engine.value) == str(runtime.value), name

# ------------------------------------------------------------------------------------------- numpy only
_BLOCKER = textwrap.dedent("""
    import sys, importlib.abc
    BLOCKED = ("numba", "scipy", "pandas", "llvmlite", "sklearn")
    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{name} is blocked in this test")
            return None
    sys.meta_path.insert(0, Block())
    for name in list(sys.modules):
        if name.split(".")[0] in BLOCKED:
            del sys.modules[name]
""")


@pytest.mark.slow
def test_runtime_runs_with_numba_scipy_pandas_blocked(tmp_path, X):
    from nnlite.activations import ReLU
    from nnlite.layers import Dense
    from nnlite.model import Sequential

    relu = _compressed(Sequential([Dense(30, 16), ReLU(), Dense(16, 1)], seed=5))
    tanh = _compressed(paper_network(30, [16, 8], seed=6))
    save_compressed(relu, tmp_path / "relu.nnz")
    save_compressed(tanh, tmp_path / "tanh.nnz")
    np.save(tmp_path / "X.npy", X)
    script = _BLOCKER + textwrap.dedent(f"""
        try:
            import numba
        except ImportError:
            pass
        else:
            raise SystemExit("the blocker does not work")
        import numpy as np
        import nnlite.runtime as rt
        X = np.load({str(tmp_path / 'X.npy')!r})
        for name in ("relu", "tanh"):
            np.save({str(tmp_path)!r} + f"/{{name}}_out.npy", rt.load({str(tmp_path)!r} + f"/{{name}}.nnz").predict(X))
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("nnlite", "numba", "scipy", "pandas"))
        print(",".join(loaded))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    # the runtime pulls in only the numpy-only layout reader and input checks it shares with the engine, and the
    # numpy-only intervals and applicability domain of its pipeline
    assert proc.stdout.strip() == ("nnlite,nnlite._checks,nnlite.compress,nnlite.compress._layout,nnlite.conformal,"
                                   "nnlite.domain,nnlite.runtime")
    assert np.array_equal(np.load(tmp_path / "relu_out.npy"), load_compressed(tmp_path / "relu.nnz").predict(X))
    ref = load_compressed(tmp_path / "tanh.nnz").predict(X)
    np.testing.assert_allclose(np.load(tmp_path / "tanh_out.npy"), ref, rtol=0, atol=2e-6 * np.abs(ref).max())
