"""The .nnz compressed model file: exact round trip, metadata blobs, version 1 files, byte accounting, and
rejection of damaged files."""
import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from nnlite import runtime as rt
from nnlite.compress.fileformat import (ENSEMBLE_KEY, MAGIC, VERSION, breakdown_lines, dumps_committee,
                                        dumps_compressed,
                                        encode_weights, load_compressed, loads_committee, loads_compressed,
                                        parse_container, read_header, read_metadata, save_compressed,
                                        size_breakdown)
from nnlite.compress.prune import prune_model
from nnlite.compress.quantize import quantize_model
from nnlite.networks import paper_network, simple_ann_network


@pytest.fixture(scope="module")
def quantized():
    model = paper_network(30, [40, 20, 10], dropout=0.4, n_dropout=2, seed=3)
    prune_model(model, percent=[85, 60, 40, 0])
    quantize_model(model, bits=4)
    X = np.random.default_rng(0).normal(size=(25, 30)).astype(np.float32)
    return model, X


def test_round_trip_predicts_exactly(quantized, tmp_path):
    model, X = quantized
    path = tmp_path / "m.nnz"
    meta = {"genes": ["A1BG", "TP53"], "scaler": {"min": [0.0, 1.5]}, "iqr": [0.25, 0.75]}
    n = save_compressed(model, path, metadata=meta)
    assert n == path.stat().st_size
    loaded = load_compressed(path)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert [type(a).__name__ for a in loaded.layers] == [type(a).__name__ for a in model.layers]
    assert loaded.layers[2].p == 0.4
    for a, b in zip(loaded.dense_layers(), model.dense_layers()):
        np.testing.assert_array_equal(a.W, b.W)
        np.testing.assert_array_equal(a.b, b.b)
        if b.W.all():
            assert a.mask is None                  # nothing pruned: no mask
        else:
            np.testing.assert_array_equal(a.mask, (b.W != 0))
        assert (a.l1, a.l2) == (b.l1, b.l2)
    assert read_metadata(path) == meta
    assert read_header(path)["layers"][0]["codec"]["n_clusters"] <= 16


def test_float64_and_unpruned_models_round_trip(tmp_path):
    model = simple_ann_network(6, [5], seed=0, dtype=np.float64)
    quantize_model(model, bits=3)
    X = np.random.default_rng(1).normal(size=(7, 6))
    loaded = loads_compressed(dumps_compressed(model, index_bits=2))
    assert loaded.dtype == np.float64
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.dense_layers()[0].mask is None
    # unquantized weights are stored exactly too (each distinct value is a codebook entry)
    raw = paper_network(6, [5], seed=1)
    np.testing.assert_array_equal(loads_compressed(dumps_compressed(raw)).predict(X), raw.predict(X))


def test_layout_is_readable_with_the_standard_library(quantized):
    model, _ = quantized
    data = dumps_compressed(model, metadata={"k": 1})
    assert data[:8] == MAGIC
    version, hlen = struct.unpack_from("<HI", data, 8)
    assert version == VERSION
    header = json.loads(zlib.decompress(data[14:14 + hlen]))
    assert header["body_bytes"] == len(data) - 14 - hlen - 4
    assert struct.unpack("<I", data[-4:])[0] == zlib.crc32(data[:-4])
    body = data[14 + hlen:-4]
    dense = [e for e in header["layers"] if e["type"] == "Dense"]
    off, length = dense[0]["codec"]["bias"]
    np.testing.assert_array_equal(np.frombuffer(body[off:off + length], "<f4"), model.dense_layers()[0].b)


def test_encoded_layer_matches_the_weights():
    W = np.zeros((8, 9), dtype=np.float32)
    W[0, 1], W[3, 3], W[7, 8] = 0.5, -0.25, 0.5
    enc = encode_weights(W, index_bits=2)
    np.testing.assert_array_equal(enc.codebook, [-0.25, 0.5])
    np.testing.assert_array_equal(enc.csr.to_dense(values=enc.codebook[enc.clusters]), W)
    assert enc.csr.n_fillers > 0
    assert 1 <= encode_weights(W).index_bits <= 16


def _flip(data, pos):
    b = bytearray(data)
    b[pos] ^= 0x10
    return bytes(b)


def test_damaged_files_are_rejected(quantized, tmp_path):
    model, _ = quantized
    data = dumps_compressed(model)
    hlen = struct.unpack_from("<I", data, 10)[0]
    for pos in (20, 14 + hlen + 3, len(data) - 30, len(data) - 2):
        with pytest.raises(ValueError, match="corrupt"):
            loads_compressed(_flip(data, pos))
    for cut in (len(data) - 1, len(data) // 2, 14 + hlen, 12, 3):
        with pytest.raises(ValueError, match="truncated"):
            loads_compressed(data[:cut])
    with pytest.raises(ValueError, match="magic"):
        loads_compressed(b"PK\x03\x04" + data[4:])
    with pytest.raises(ValueError, match="magic"):
        loads_compressed(b"")
    future = data[:8] + struct.pack("<H", VERSION + 1) + data[10:]
    with pytest.raises(ValueError, match="version 3 is not supported"):
        loads_compressed(future)
    path = tmp_path / "bad.nnz"
    path.write_bytes(data[:-7])
    with pytest.raises(ValueError, match="bad.nnz.*truncated"):
        load_compressed(path)
    with pytest.raises(ValueError, match="truncated"):
        read_metadata(path)


def test_a_consistent_checksum_does_not_hide_bad_streams(quantized):
    """Damage in the body with a recomputed CRC must still fail loudly or decode to the stored counts."""
    model, _ = quantized
    data = dumps_compressed(model)
    hlen = struct.unpack_from("<I", data, 10)[0]
    header = json.loads(zlib.decompress(data[14:14 + hlen]))
    header["layers"][0]["codec"]["cluster_stream"][0] += 10 ** 6      # blob outside the body
    hb = zlib.compress(json.dumps(header).encode())
    bad = data[:10] + struct.pack("<I", len(hb)) + hb + data[14 + hlen:-4]
    bad += struct.pack("<I", zlib.crc32(bad))
    with pytest.raises(ValueError, match="outside the body"):
        loads_compressed(bad)


def test_bad_models_and_metadata():
    model = paper_network(4, [3], seed=0)
    with pytest.raises(ValueError, match="JSON"):
        dumps_compressed(model, metadata={"x": object()})
    with pytest.raises(ValueError, match="index_bits"):
        dumps_compressed(model, index_bits=[2, 2, 2])
    W = np.arange(1, 70001, dtype=np.float32).reshape(700, 100)
    with pytest.raises(ValueError, match="quantize the model first"):
        encode_weights(W)


def _numpy_only_predict(data, X):
    """Decode an .nnz file following only the module docstring, with numpy and the standard library."""
    hlen = struct.unpack_from("<I", data, 10)[0]
    header = json.loads(zlib.decompress(data[14:14 + hlen]))
    body = data[14 + hlen:-4]
    f = np.dtype(header["dtype"]).newbyteorder("<")

    def blob(ref):
        return body[ref[0]:ref[0] + ref[1]]

    def table(buf):
        n, shift, pos = 0, 0, 0
        while True:
            n |= (buf[pos] & 0x7F) << shift
            shift += 7
            pos += 1
            if not buf[pos - 1] & 0x80:
                break
        w = buf[pos]
        bits = np.unpackbits(np.frombuffer(buf[pos + 1:], np.uint8))[:n * w].reshape(n, w) if w else np.zeros((n, 0))
        lengths = [int("".join(map(str, row)) or "0", 2) for row in bits] if w else [0] * n
        codes, code, prev = {}, 0, 0
        for ln, s in sorted((ln, s) for s, ln in enumerate(lengths) if ln):
            code <<= ln - prev
            codes[(ln, code)] = s
            code, prev = code + 1, ln
        return codes

    def stream(codes, ref, n):
        out, cur, ln = [], 0, 0
        for bit in np.unpackbits(np.frombuffer(blob(ref), np.uint8))[:ref[2]]:
            cur, ln = (cur << 1) | int(bit), ln + 1
            if (ln, cur) in codes:
                out.append(codes[(ln, cur)])
                cur, ln = 0, 0
        assert len(out) == n
        return np.array(out, dtype=np.int64)

    h = np.asarray(X, dtype=np.float64)
    for e in header["layers"]:
        if e["type"] == "Dense":
            c = e["codec"]
            book = np.frombuffer(blob(c["codebook"]), f)
            clusters = stream(table(blob(c["cluster_table"])), c["cluster_stream"], c["n_nonzero"])
            gaps = stream(table(blob(c["gap_table"])), c["gap_stream"], c["n_entries"])
            M = 2 ** c["index_bits"] - 1
            pos = np.cumsum(np.where(gaps == M, M, gaps + 1)) - 1
            W = np.zeros(e["n_in"] * e["n_out"])
            W[pos[gaps != M]] = book[clusters]
            h = h @ W.reshape(e["n_in"], e["n_out"]) + np.frombuffer(blob(c["bias"]), f)
        elif e["type"] == "ReLU":
            h = np.maximum(h, 0)
        elif e["type"] == "Tanh":
            h = np.tanh(h)
    return h[:, 0]


def test_file_is_decodable_from_its_documentation_alone(quantized):
    model, X = quantized
    data = dumps_compressed(model, metadata={"k": 1})
    np.testing.assert_allclose(_numpy_only_predict(data, X), model.predict(X), rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------------------------------- container version 2
DATA = Path(__file__).parent / "data"


def test_version_1_files_still_load_bit_for_bit():
    """Fixtures written by the version 1 writer (commit 8ccc1ec): a committee of three pruned, weight-shared
    paper networks with metadata, and a single network. Weights decode exactly; written again (version 2), the
    committee predicts exactly what the old file does, with the engine and with the numpy-only runtime."""
    expected = np.load(DATA / "committee_v1_expected.npz")
    data = (DATA / "committee_v1.nnz").read_bytes()
    assert struct.unpack_from("<H", data, 8)[0] == 1
    header, nets = loads_committee(data)
    assert len(nets) == 3 and header["metadata"]["genes"][0] == "G000"
    for k, net in enumerate(nets):
        for i, layer in enumerate(net.dense_layers()):
            np.testing.assert_array_equal(layer.W, expected[f"W{k}_{i}"])
            np.testing.assert_array_equal(layer.b, expected[f"b{k}_{i}"])
        np.testing.assert_allclose(net.predict(expected["X"]), expected[f"pred{k}"], rtol=1e-6, atol=1e-7)
    meta = {k: v for k, v in header["metadata"].items() if k != ENSEMBLE_KEY}
    again = dumps_committee(nets, meta)
    assert struct.unpack_from("<H", again, 8)[0] == VERSION == 2
    header2, nets2 = loads_committee(again)
    assert header2["metadata"] == meta
    X = expected["X"]
    for a, b in zip(nets, nets2):
        np.testing.assert_array_equal(a.predict(X), b.predict(X))
    np.testing.assert_array_equal(rt.loads(data).predict(X), rt.loads(again).predict(X))
    single = (DATA / "single_v1.nnz").read_bytes()
    np.testing.assert_array_equal(loads_compressed(single).predict(X), nets[0].predict(X))
    np.testing.assert_array_equal(rt.loads(single).predict(X), rt.loads(again).networks[0].predict(X))


def test_metadata_round_trip_through_binary_blobs(quantized):
    model, _ = quantized
    rng = np.random.default_rng(5)
    genes = [f"GENE{i}" for i in range(40)] + ["Ähnlich-1", "β"]
    meta = {
        "genes": genes,
        "scaler": {"data_min": rng.normal(size=42).astype(np.float32).astype(float).tolist(),  # exact float32
                   "scale": rng.normal(size=42).tolist(), "clip": True},                       # needs float64
        "ranked": [[g, float(v)] for g, v in zip(genes, rng.random(42))],
        "counts": list(range(-5, 30)), "big": [2 ** 62, -3] * 5, "short": [0.5, 1.5],
        "mixed": [1, 2.5, "x", None, True, 3, 4, 5], "bools": [True, False] * 5, "nul": ["a\0b"] * 9,
        "empty": [], "nested": {"deeper": [[1.0, 2.0]] * 9}, "tiny_floats": [5e-324, -0.0, 1e308] * 3,
        "arr": rng.normal(size=(3, 4)).astype(np.float32), "mask": np.array([True, False, True]),
        "holes": np.array([np.nan, 1.0, np.inf]), "i16": np.arange(-4, 4, dtype=np.int16),
    }
    data = dumps_committee([model, model], meta)
    header, _ = parse_container(data)
    got = header["metadata"]
    for key in ("arr", "mask", "holes", "i16"):
        arr = got.pop(key)
        assert isinstance(arr, np.ndarray) and arr.dtype == meta[key].dtype and arr.shape == meta[key].shape
        np.testing.assert_array_equal(arr, meta[key])
    assert got == {k: v for k, v in meta.items() if k not in ("arr", "mask", "holes", "i16")}
    assert [type(v) for v in got["counts"]] == [int] * 35 and np.signbit(got["tiny_floats"][1])
    # where the values went: exact float32 stored as float32, small ints as int8, names in the string table
    raw = json.loads(zlib.decompress(data[14:14 + struct.unpack_from("<I", data, 10)[0]]))
    stored = {a["path"]: a["stored"] for a in raw["arrays"]}
    assert stored["scaler.data_min"] == "<f4" and stored["scaler.scale"] == "<f8" and stored["counts"] == "|i1"
    assert stored["big"] == "<i8" and stored["ranked[:,1]"] == "<f8" and stored["arr"] == "<f4"
    assert raw["metadata"]["genes"] == {"$strings": [0, 42]} and raw["metadata"]["short"] == [0.5, 1.5]
    assert raw["metadata"]["mixed"] == meta["mixed"] and raw["metadata"]["bools"] == meta["bools"]
    assert raw["metadata"]["nul"] == meta["nul"] and raw["strings"]["count"] == 84


def test_bad_metadata_values_are_refused(quantized):
    model, _ = quantized
    with pytest.raises(ValueError, match="JSON"):
        dumps_compressed(model, metadata={"x": [float("nan")] * 10})
    with pytest.raises(ValueError, match="reserved"):
        dumps_compressed(model, metadata={"x": {"$array": 0}})
    with pytest.raises(ValueError, match="JSON"):
        dumps_compressed(model, metadata={"x": np.array(["a", "b"])})


def test_size_breakdown_accounts_for_every_byte(quantized):
    model, _ = quantized
    meta = {"genes": [f"G{i}" for i in range(30)], "w": np.linspace(0, 1, 30)}
    data = dumps_committee([model, model, model], meta)
    b = size_breakdown(data)
    body = parse_container(data)[0]["body_bytes"]
    assert b["total"] == len(data) == b["prefix"] + b["header"] + body + b["checksum"]
    assert sum(n["bytes"] for n in b["networks"]) + sum(a["bytes"] for a in b["arrays"]) + b["strings"]["bytes"] \
        == body
    assert len(b["networks"]) == 3 and b["networks"][0] == b["networks"][2]
    assert [a["path"] for a in b["arrays"]] == ["w"] and b["strings"]["count"] == 30
    lines = breakdown_lines(b)
    assert lines[0].startswith(f"{len(data):,} bytes: header") and "network 3" in lines[3]
    assert "string table" in lines[4] and lines[5].startswith("  w: ") and "float64" in lines[5]
    old = size_breakdown((DATA / "committee_v1.nnz").read_bytes())
    assert len(old["networks"]) == 3 and old["arrays"] == [] and old["strings"] is None


def test_damaged_blob_references_are_refused(quantized):
    model, _ = quantized
    data = dumps_compressed(model, metadata={"w": list(np.linspace(0, 1, 20))})
    hlen = struct.unpack_from("<I", data, 10)[0]
    header = json.loads(zlib.decompress(data[14:14 + hlen]))
    for edit, message in ((lambda h: h["arrays"][0]["ref"].__setitem__(0, 10 ** 7), "outside the body"),
                          (lambda h: h["arrays"][0].__setitem__("shape", [21]), "wrong size"),
                          (lambda h: h["arrays"][0].__setitem__("codec", "lz4"), "unknown blob codec")):
        h = json.loads(json.dumps(header))
        edit(h)
        hb = zlib.compress(json.dumps(h).encode())
        bad = data[:10] + struct.pack("<I", len(hb)) + hb + data[14 + hlen:-4]
        bad += struct.pack("<I", zlib.crc32(bad))
        for reader in (loads_compressed, rt.loads):
            with pytest.raises(ValueError, match=message):
                reader(bad)
