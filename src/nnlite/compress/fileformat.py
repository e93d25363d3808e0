"""The compressed model file (``.nnz``): pruned, weight-shared, Huffman-coded Dense layers plus metadata.

Byte layout (all integers little-endian)::

    offset    size  field
    0         8     magic  b"\\x89NNZ\\r\\n\\x1a\\n"  (PNG-style: catches text-mode and 7-bit transfers)
    8         2     uint16 format version (2 written; 1 and 2 read)
    10        4     uint32 H = header length in bytes
    14        H     header: UTF-8 JSON object (below), zlib-compressed (``json.loads(zlib.decompress(...))``)
    14 + H    B     body: the binary blobs of all layers and metadata arrays, B = header["body_bytes"]
    14 + H + B 4    uint32 CRC-32 (zlib.crc32, ISO-HDLC polynomial) of every preceding byte

Header JSON::

    {"format": "nnlite.nnz", "dtype": "float32" | "float64", "seed": int, "body_bytes": B,
     "layers": [{"type": "Dense", "n_in", "n_out", "l1", "l2", "init", "dtype", "codec": {...}},
                {"type": "ReLU"} | {"type": "Tanh"} | {"type": "Identity"} | {"type": "Dropout", "p": 0.4}, ...],
     "combine": "mean", "members": [{"dtype", "seed", "layers": [...]}, ...],   # [] for one network
     "metadata": {...},                                 # the caller's dict, bulky values replaced by references
     "arrays": [{"path", "ref": [o, len], "codec", "dtype", "stored", "shape", "as"}, ...],
     "strings": {"ref": [o, len], "codec": "zlib", "count": n}}          # when the metadata holds strings

A Dense layer's ``codec`` gives its counts and the place of each blob as [offset, length] in bytes, relative
to the body start::

    "n_nonzero": n,  "n_entries": m (n + filler zeros),  "index_bits": b,  "n_clusters": k,
    "codebook": [o, 4k or 8k]       k shared weight values, little-endian float of the header dtype
    "bias":     [o, 4 n_out ...]    the bias vector, same float type
    "cluster_table": [o, len]       Huffman table of the cluster-index alphabet {0..k-1}
    "cluster_stream": [o, len, bits] the n Huffman-coded cluster indices, ``bits`` significant bits
    "gap_table": [o, len]           Huffman table of the gap-code alphabet {0..2**b - 1}
    "gap_stream": [o, len, bits]    the m Huffman-coded gap codes

Decoding a Dense layer with numpy alone:
  1. Huffman table (see ``nnlite.compress.huffman``): LEB128 varint n_symbols, one byte w, then n_symbols code
     lengths of w bits each, MSB first. The canonical code assigns codes in order of (length, symbol): code 0
     to the first, then code = (previous code + 1) << (length - previous length).
  2. Streams are MSB first: read bits one by one until the bits read form a codeword of the table.
  3. Gap codes (``nnlite.compress.sparse``), M = 2**b - 1: step_j = M if code_j == M else code_j + 1;
     positions = cumsum(step) - 1; the real entries are those with code_j != M (fillers hold a zero).
  4. W = zeros(n_in * n_out); W[positions[real]] = codebook[cluster indices]; W = W.reshape(n_in, n_out)
     (row-major: W[i, j] is flat position i * n_out + j, and the layer computes y = x @ W + b).
Every value stored is an exact copy of the model's weights, so a loaded model predicts bit for bit what the
saved one did. A wrong magic, an unknown version, a truncated file or a checksum mismatch raise ValueError.

Committees (k networks whose prediction is the mean of their outputs) are one ``.nnz`` file: member 0 is the
header's own ``layers``, members 1..k-1 are listed in ``members`` with their blobs in the same body.
:func:`dumps_committee` is the one writer and :func:`loads_committee` the one reader (:mod:`nnlite.runtime`
reads them through the same :func:`nnlite.compress._layout.committee_parts`); :func:`load_compressed` refuses a
committee file rather than return member 0 alone. Version 1 files packed members 1..k-1 as whole ``.nnz``
files, base64 in ``metadata["ensemble"] = {"combine": "mean", "members": [...]}``; they still read.

Metadata (version 2, :func:`pack_metadata`): lists of >= 8 numbers become ``{"$array": i}`` -- entry i of
``arrays``: the values as little-endian ``stored`` dtype (float64 that are exact float32 values stored as
float32, ints in the narrowest integer type), ``codec`` "raw", "zlib" or "shuffle+zlib" (bytes grouped by
their position within the item, then zlib), read back as ``dtype`` with ``shape``, as a list (``"as":
"list"``) or a numpy array (``"array"``, for numpy arrays given); lists of >= 8 strings become
``{"$strings": [start, count]}``, a run of the one string table (all strings UTF-8, NUL-separated, zlib);
lists of rows whose columns qualify become ``{"$records": [column references]}``. The reader
(:func:`nnlite.compress._layout.unpack_metadata`, run by ``parse_container``) gives back equal values:
floats bit for bit. :func:`file_breakdown` reports the bytes of each part.
"""
import io
import json
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnlite.activations import Identity, ReLU, Tanh
from nnlite.compress._layout import PREFIX as _PREFIX
from nnlite.compress._layout import (ARRAY_REF, ENSEMBLE_KEY, FORMAT_NAME, MAGIC, READ_VERSIONS,  # noqa: F401
                                     RECORDS_REF, STRINGS_REF, VERSION, committee_parts, parse_container,
                                     read_dense_codec, size_breakdown)
from nnlite.compress.huffman import HuffmanCode, huffman_lengths
from nnlite.compress.quantize import per_layer
from nnlite.compress.sparse import GapCSR, encode_gaps
from nnlite.layers import Dense, Dropout
from nnlite.model import Sequential

MAX_CLUSTERS = 1 << 16
MIN_BLOB_ITEMS = 8            # shorter metadata lists stay readable JSON
_SIMPLE_LAYERS = ("ReLU", "Tanh", "Identity")


@dataclass
class EncodedLayer:
    """One Dense layer's weights as stored: codebook (k,), cluster indices (n,), gap codes (m,) and their codes.

    ``nbits()`` gives the storage of each part in bits.
    """
    shape: tuple
    index_bits: int
    codebook: np.ndarray
    clusters: np.ndarray
    csr: GapCSR
    cluster_code: HuffmanCode
    gap_code: HuffmanCode

    def nbits(self):
        """Bits per part: Huffman streams, Huffman tables, codebook (float32 each), bias (float32 each)."""
        return {
            "cluster_stream": self.cluster_code.encoded_bits(self.clusters),
            "gap_stream": self.gap_code.encoded_bits(self.csr.gaps),
            "tables": 8 * (len(self.cluster_code.to_bytes()) + len(self.gap_code.to_bytes())),
            "codebook": 32 * self.codebook.size,
            "bias": 32 * self.shape[1],
        }


def encode_weights(W, index_bits=None):
    """Split a weight matrix (n_in, n_out) into its codebook of distinct nonzero values, cluster indices and
    gap codes, with Huffman codes fitted to both streams -> ``EncodedLayer``.

    ``index_bits=None`` picks the b in [1, 16] that minimises the Huffman-coded gap stream plus its table.
    More than 65536 distinct nonzero values raise ValueError (quantize the model first).
    """
    W = np.asarray(W)
    if W.ndim != 2:
        raise ValueError(f"weights must be 2-D, got shape {W.shape}")
    if not np.all(np.isfinite(W)):
        raise ValueError("weights contain NaN or inf")
    flat = W.ravel()
    positions = np.flatnonzero(flat)
    codebook, clusters = np.unique(flat[positions], return_inverse=True)
    if codebook.size > MAX_CLUSTERS:
        raise ValueError(f"{codebook.size} distinct nonzero weights in a {W.shape} layer (at most {MAX_CLUSTERS});"
                         " quantize the model first (nnlite.compress.quantize.quantize_model)")
    if index_bits is None:
        index_bits = best_index_bits(positions)
    csr = GapCSR(tuple(W.shape), int(index_bits), encode_gaps(positions, index_bits), clusters.astype(np.int64))
    cluster_code = HuffmanCode.from_symbols(csr.values, codebook.size)
    gap_code = HuffmanCode.from_symbols(csr.gaps, 1 << csr.index_bits)
    return EncodedLayer(tuple(W.shape), csr.index_bits, codebook, csr.values, csr, cluster_code, gap_code)


def best_index_bits(positions, candidates=range(1, 17)):
    """The gap width b minimising Huffman-coded gap bits + table bits for these sorted flat positions."""
    best, best_bits = None, None
    for b in candidates:
        gaps = encode_gaps(positions, b)
        counts = np.bincount(gaps, minlength=1 << b)
        lengths = huffman_lengths(counts)
        bits = int(np.sum(counts * lengths)) + 8 * (2 + (((1 << b) * int(lengths.max(initial=0)).bit_length() + 7) // 8))
        if best_bits is None or bits < best_bits:
            best, best_bits = b, bits
    return best


# -- writing ---------------------------------------------------------------------------------------------------
def _layer_entry(layer):
    name = type(layer).__name__
    if name == "Dense":
        return {"type": "Dense", **layer.config()}
    if name == "Dropout":
        return {"type": "Dropout", "p": float(layer.p)}
    if name in _SIMPLE_LAYERS:
        return {"type": name}
    raise ValueError(f"cannot store a layer of type {name} in a compressed model")


def encode_network(model, index_bits=None):
    """The :class:`EncodedLayer` of every Dense layer of ``model``, in order (``index_bits`` as in
    :func:`dumps_compressed`); pass them to :func:`dumps_compressed` to encode a network once."""
    dense = model.dense_layers()
    bits_per = per_layer(index_bits, len(dense), "index_bits") if index_bits is not None else [None] * len(dense)
    return [encode_weights(layer.W, bits) for layer, bits in zip(dense, bits_per)]


def dumps_compressed(model, metadata=None, index_bits=None, encoded=None):
    """The ``.nnz`` bytes of ``model`` (see the module docstring). ``index_bits``: one int, one per Dense
    layer, or None (per layer, the width that gives the smallest file). ``encoded``: the output of
    :func:`encode_network` for ``model``, when the caller already has it (checked against the weights: a
    ValueError when they changed since)."""
    if encoded is None:
        encoded = encode_network(model, index_bits)
    return dumps_committee([model], metadata, encoded=[encoded])


class _Body:
    """The body being written: ``put(bytes)`` appends and returns the blob's [offset, length]."""

    def __init__(self):
        self.buf = io.BytesIO()

    def put(self, data):
        start = self.buf.tell()
        self.buf.write(data)
        return [start, len(data)]


def _network_entries(model, encoded, body):
    """The header's layer list of ``model``, its Dense blobs appended to ``body``."""
    le = np.dtype(model.dtype).newbyteorder("<")
    if encoded is None:
        encoded = encode_network(model)
    else:
        encoded = list(encoded)
        _check_encoded(model.dense_layers(), encoded)
    entries = []
    dense_i = 0
    for layer in model.layers:
        entry = _layer_entry(layer)
        if entry["type"] == "Dense":
            enc = encoded[dense_i]
            dense_i += 1
            cl_data, cl_bits = enc.cluster_code.encode(enc.clusters)
            gp_data, gp_bits = enc.gap_code.encode(enc.csr.gaps)
            entry["codec"] = {
                "n_nonzero": int(enc.clusters.size), "n_entries": int(enc.csr.gaps.size),
                "index_bits": enc.index_bits, "n_clusters": int(enc.codebook.size),
                "codebook": body.put(enc.codebook.astype(le).tobytes()),
                "bias": body.put(np.asarray(layer.b).astype(le).tobytes()),
                "cluster_table": body.put(enc.cluster_code.to_bytes()),
                "cluster_stream": body.put(cl_data) + [cl_bits],
                "gap_table": body.put(enc.gap_code.to_bytes()),
                "gap_stream": body.put(gp_data) + [gp_bits],
            }
        entries.append(entry)
    return entries


def _check_encoded(dense, encoded):
    """ValueError unless ``encoded`` holds exactly the weights of the Dense layers ``dense`` (one decode of the
    gap positions per layer: far cheaper than encoding again)."""
    if len(encoded) != len(dense):
        raise ValueError(f"{len(encoded)} encoded layers for {len(dense)} Dense layers")
    for i, (layer, enc) in enumerate(zip(dense, encoded)):
        W = layer.W
        if tuple(enc.shape) != W.shape or not np.array_equal(
                enc.csr.to_dense(values=enc.codebook[enc.clusters], dtype=W.dtype), W):
            raise ValueError(f"the encoding of Dense layer {i} does not hold its weights "
                             "(they changed after encode_network)")


def dumps_committee(networks, metadata=None, encoded=None):
    """The ``.nnz`` bytes of the committee ``networks`` (k >= 1 Sequentials; see the module docstring), with
    ``metadata`` (a dict of JSON values and numpy arrays). ``encoded``: per network, its
    :func:`encode_network`. ``networks`` may be empty when ``metadata["model"]`` holds an array model
    (:func:`nnlite.runtime.array_model`): the file then has no layers."""
    networks = list(networks)
    if not networks and not (metadata or {}).get("model"):
        raise ValueError("a committee needs at least one network (or metadata['model'], an array model)")
    encoded = [None] * len(networks) if encoded is None else list(encoded)
    body = _Body()
    header = {"format": FORMAT_NAME, "dtype": "float32", "seed": 0, "layers": []}
    if networks:
        first = networks[0]
        header.update({"dtype": np.dtype(first.dtype).name, "seed": int(getattr(first, "seed", 0)),
                       "layers": _network_entries(first, encoded[0], body)})
    header["combine"] = "mean"
    header["members"] = [{"dtype": np.dtype(net.dtype).name, "seed": int(getattr(net, "seed", 0)),
                          "layers": _network_entries(net, enc, body)} for net, enc in zip(networks[1:], encoded[1:])]
    header["metadata"], tables = pack_metadata({} if metadata is None else metadata, body)
    header.update(tables)
    body = body.buf.getvalue()
    header["body_bytes"] = len(body)
    try:
        header_bytes = zlib.compress(json.dumps(header, separators=(",", ":"), allow_nan=False).encode("utf-8"), 9)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"metadata is not JSON-serializable: {exc}") from None
    out = _PREFIX.pack(MAGIC, VERSION, len(header_bytes)) + header_bytes + body
    return out + struct.pack("<I", zlib.crc32(out))


# -- metadata blobs --------------------------------------------------------------------------------------------
def _shuffle(raw, itemsize):
    """Byte shuffle (inverse of :func:`nnlite.compress._layout.unshuffle`)."""
    if itemsize == 1:
        return raw
    return np.frombuffer(raw, dtype=np.uint8).reshape(-1, itemsize).T.tobytes()


def _smallest_int(values):
    for dt in ("<i1", "<i2", "<i4", "<i8"):
        info = np.iinfo(dt)
        if values.min() >= info.min and values.max() <= info.max:
            return np.dtype(dt)
    return None


def _numeric_list(items):
    """``items`` as a numpy array when they are all floats (finite) or all ints (within int64), else None."""
    if all(isinstance(v, float) for v in items):
        arr = np.array(items, dtype=np.float64)
        return arr if np.all(np.isfinite(arr)) else None
    if all(isinstance(v, int) and not isinstance(v, bool) for v in items):
        if all(-2 ** 63 <= v < 2 ** 63 for v in items):
            return np.array(items, dtype=np.int64)
    return None


def _string_list(items):
    return all(isinstance(v, str) and "\x00" not in v for v in items)


def pack_metadata(metadata, body, min_items=MIN_BLOB_ITEMS):
    """Move the bulky values of ``metadata`` into ``body`` -> (JSON metadata with references, header tables).

    Lists of at least ``min_items`` floats or ints become arrays (float64 stored as float32 when every value
    is exactly a float32, ints in the narrowest of int8..int64), lists of strings runs of one zlib-compressed
    NUL-separated string table (names shared across lists compress together), lists of equal-length rows
    whose columns are such lists (e.g. ``[[gene, weight], ...]``) one reference per column; numpy arrays
    (bool, int, float; any size) are stored with their dtype and shape and read back as arrays. Each array is
    kept raw, zlib-compressed or byte-shuffled then compressed, whichever is smallest. Returns the metadata
    holding ``{"$array": i}``, ``{"$strings": [start, count]}`` and ``{"$records": [...]}`` in their place and
    the tables ``{"arrays": [...], "strings": {...}}`` for the header; the reader
    (:func:`nnlite.compress._layout.unpack_metadata`) gives back equal values.
    """
    arrays, strings = [], []

    def add_array(arr, path, as_list):
        arr = np.asarray(arr)
        logical = arr.dtype.newbyteorder("<")
        stored = logical
        if arr.dtype.kind == "f" and arr.dtype.itemsize > 4:
            with np.errstate(over="ignore"):      # a value beyond float32 range: it stays float64
                as32 = arr.astype(np.float32)
            if np.array_equal(as32.astype(arr.dtype), arr, equal_nan=True):
                stored = np.dtype("<f4")
        elif arr.dtype.kind in "iu" and arr.size:
            stored = _smallest_int(arr.astype(np.int64)) if arr.dtype.kind == "i" or arr.max() < 2 ** 63 \
                else logical
        raw = np.ascontiguousarray(arr).astype(stored).tobytes()
        options = [("raw", raw), ("zlib", zlib.compress(raw, 9))]
        if stored.itemsize > 1:
            options.append(("shuffle+zlib", zlib.compress(_shuffle(raw, stored.itemsize), 9)))
        codec, data = min(options, key=lambda o: len(o[1]))
        arrays.append({"path": path, "ref": body.put(data), "codec": codec, "dtype": logical.str,
                       "stored": stored.str, "shape": list(arr.shape), "as": "list" if as_list else "array"})
        return {ARRAY_REF: len(arrays) - 1}

    def add_strings(items):
        start = len(strings)
        strings.extend(items)
        return {STRINGS_REF: [start, len(items)]}

    def column(items, path):
        if _string_list(items):
            return add_strings(items)
        arr = _numeric_list(items)
        return None if arr is None else add_array(arr, path, True)

    def pack(value, path):
        if isinstance(value, np.ndarray):
            if value.dtype.kind not in "biuf":
                raise ValueError(f"metadata is not JSON-serializable: {path} is a numpy array of {value.dtype}")
            return add_array(value, path, False)
        if isinstance(value, dict):
            if len(value) == 1 and next(iter(value)) in (ARRAY_REF, STRINGS_REF, RECORDS_REF):
                raise ValueError(f"metadata {path or 'root'}: the key {next(iter(value))!r} is reserved")
            return {k: pack(v, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            items = list(value)
            if len(items) >= min_items:
                ref = column(items, path)
                if ref is not None:
                    return ref
                widths = {len(v) if isinstance(v, (list, tuple)) else -1 for v in items}
                if len(widths) == 1 and widths.pop() > 0:
                    cols = [column([row[c] for row in items], f"{path}[:,{c}]") for c in range(len(items[0]))]
                    if all(c is not None for c in cols):
                        return {RECORDS_REF: cols}
                    # a column that stays JSON: undo nothing (the blobs written are small), keep the rows as JSON
            return [pack(v, f"{path}[{i}]") for i, v in enumerate(items)]
        return value

    packed = pack(metadata, "")
    tables = {"arrays": arrays}
    if strings:
        tables["strings"] = {"ref": body.put(zlib.compress("\x00".join(strings).encode("utf-8"), 9)),
                             "codec": "zlib", "count": len(strings)}
    return packed, tables


def save_compressed(model, path, metadata=None, index_bits=None):
    """Write a network to ``path`` in the ``.nnz`` format (the byte layout is in the module docstring).

    Parameters
    ----------
    model : Sequential
        Dense / activation / Dropout layers, typically pruned and quantized.
    path : str or path-like
    metadata : dict or None
        JSON-serializable; stored in the header.
    index_bits : int, sequence of int or None
        Gap-code width, one value or one per Dense layer; None picks per layer the width giving the smallest
        Huffman-coded size.

    Returns
    -------
    int
        Bytes written.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from nnlite import Dense, Sequential, save_compressed, load_compressed, read_metadata
    >>> net = Sequential([Dense(4, 1)], seed=0)
    >>> path = os.path.join(tempfile.mkdtemp(), "net.nnz")
    >>> save_compressed(net, path, metadata={"drug": "Lapatinib"}) > 0
    True
    >>> read_metadata(path)
    {'drug': 'Lapatinib'}
    >>> X = np.ones((3, 4), dtype=np.float32)
    >>> bool(np.array_equal(load_compressed(path).predict(X), net.predict(X)))
    True
    """
    data = dumps_compressed(model, metadata=metadata, index_bits=index_bits)
    Path(path).write_bytes(data)
    return len(data)


# -- reading ---------------------------------------------------------------------------------------------------
# The container (magic, version, header, CRC-32) and the Dense codec entries are read by
# nnlite.compress._layout, shared with the numpy-only nnlite.runtime; the streams are decoded here by the
# Numba decoder of HuffmanCode.
def _decode_stream(table, stream, n, n_bits):
    code, _ = HuffmanCode.from_bytes(table)
    return code.decode(stream, n, n_bits)


def decode_layer(entry, body, dtype):
    """W (n_in, n_out) and b (n_out,) of one Dense header entry, decoded from the body."""
    codebook, bias, clusters, gaps = read_dense_codec(entry, body, dtype, _decode_stream)
    csr = GapCSR((int(entry["n_in"]), int(entry["n_out"])), int(entry["codec"]["index_bits"]), gaps, clusters)
    W = csr.to_dense(values=codebook[clusters], dtype=np.dtype(dtype))
    return W, bias


def loads_compressed(data, source="<bytes>"):
    """Rebuild the Sequential stored in ``.nnz`` bytes (see ``load_compressed``); a committee file is refused
    (ValueError: read it with :func:`loads_committee`)."""
    header, body = parse_container(data, source)
    parts = committee_parts(header, body, source)
    if len(parts) > 1:
        n = len(parts)
        raise ValueError(f"{source}: a committee of {n} networks, not one network: read it with "
                         f"nnlite.compress.fileformat.load_committee (or nnlite.runtime.load)")
    return _sequential(header, body, source)


def loads_committee(data, source="<bytes>"):
    """The committee stored in ``.nnz`` bytes -> ``(header of member 0, [Sequential, ...])``; a file of one
    network gives a committee of one. Each container is parsed and CRC-checked once."""
    header, body = parse_container(data, source)
    return header, [_sequential(h, b, where) for h, b, where in committee_parts(header, body, source)]


def load_committee(path):
    """Read a committee file (see :func:`loads_committee`)."""
    return loads_committee(Path(path).read_bytes(), source=str(path))


def _sequential(header, body, source):
    dtype = np.dtype(header["dtype"])
    simple = {"ReLU": ReLU, "Tanh": Tanh, "Identity": Identity}
    layers = []
    i = 0
    try:
        for i, entry in enumerate(header["layers"]):
            kind = entry["type"]
            if kind == "Dense":
                W, b = decode_layer(entry, body, dtype)
                layer = Dense(int(entry["n_in"]), int(entry["n_out"]), l1=entry.get("l1", 0.0),
                              l2=entry.get("l2", 0.0), init=entry.get("init", "auto"), dtype=dtype)
                layer.W = W
                layer.b = b
                if not W.all():
                    layer.mask = (W != 0).astype(dtype)
            elif kind == "Dropout":
                layer = Dropout(float(entry["p"]))
            elif kind in simple:
                layer = simple[kind]()
            else:
                raise ValueError(f"unknown layer type {kind!r}")
            layers.append(layer)
    except (KeyError, TypeError, IndexError) as exc:
        raise ValueError(f"{source}: corrupt compressed model (layer {i}: {exc!r})") from None
    except ValueError as exc:
        raise ValueError(f"{source}: layer {i}: {exc}") from None
    return Sequential(layers, seed=int(header.get("seed", 0)), dtype=dtype)


def load_compressed(path):
    """Rebuild the Sequential saved by :func:`save_compressed`: the same layers, weights bit-identical, pruned
    positions carried as masks.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    Sequential

    Raises
    ------
    ValueError
        For a wrong magic number, an unsupported version, a truncated file or a checksum mismatch.
    """
    return loads_compressed(Path(path).read_bytes(), source=str(path))


def read_metadata(path):
    """The ``metadata`` dict stored by :func:`save_compressed` (the file is fully checked first).

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    dict

    Raises
    ------
    ValueError
        For a corrupt file.
    """
    header, _ = parse_container(Path(path).read_bytes(), source=str(path))
    return header["metadata"]


def read_header(path):
    """The whole JSON header (architecture, codecs, metadata) of a checked ``.nnz`` file."""
    header, _ = parse_container(Path(path).read_bytes(), source=str(path))
    return header


def breakdown_lines(breakdown):
    """Human-readable lines of a :func:`size_breakdown` dict (for ``inspect``): total, header, each network,
    the string table and each metadata array, largest arrays first."""
    b = breakdown
    lines = [f"{b['total']:,} bytes: header {b['header']:,} (JSON {b['header_json']:,} before zlib), "
             f"prefix {b['prefix']} and checksum {b['checksum']}"]
    for k, net in enumerate(b["networks"]):
        lines.append(f"  network {k + 1}: {net['bytes']:,} bytes in {len(net['layers'])} dense layers")
    if b["strings"]:
        lines.append(f"  string table: {b['strings']['bytes']:,} bytes ({b['strings']['count']:,} strings, zlib)")
    for a in sorted(b["arrays"], key=lambda a: -a["bytes"]):
        lines.append(f"  {a['path']}: {a['bytes']:,} bytes ({a['n']:,} values as {np.dtype(a['stored']).name}, "
                     f"{a['codec']})")
    return lines


def file_breakdown(path):
    """:func:`nnlite.compress._layout.size_breakdown` of the file at ``path``: bytes of its header, each
    network and each metadata blob."""
    return size_breakdown(Path(path).read_bytes(), source=str(path))
