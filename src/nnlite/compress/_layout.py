"""The one reader of the ``.nnz`` byte layout (documented in :mod:`nnlite.compress.fileformat`): numpy + stdlib only.

Shared by the engine (:mod:`nnlite.compress.fileformat`, :mod:`nnlite.compress.huffman`, which decode the
streams with Numba) and the numpy-only runtime (:mod:`nnlite.runtime`), so both accept and reject exactly the
same bytes with the same messages. It must import nothing but numpy and the standard library.

* :func:`committee_parts`: the (header, body, where) of every network of a committee file, member 0 first.
* :func:`committee_members`: the packed members of a version 1 committee file (``metadata["ensemble"]``).
* :func:`parse_container`: magic, version, header length, zlib/JSON header, body size, CRC-32 -> (header, body),
  the metadata's binary arrays and strings (version 2) restored in the header.
* :func:`unpack_metadata`: the metadata of a version 2 header with its array and string references resolved.
* :func:`size_breakdown`: bytes of the prefix, header, checksum, each network and each metadata blob.
* :func:`blob`: one ``[offset, length]`` slice of the body.
* :func:`read_code_table`: a serialized Huffman table (LEB128 varint n_symbols, uint8 w, n_symbols code
  lengths of w bits MSB first) -> code lengths.
* :func:`canonical_tables` / :func:`window_table`: the canonical code of those lengths, as the decoders use it.
* :func:`read_dense_codec`: the codebook, bias and decoded symbol streams of one Dense header entry.
"""
import base64
import json
import struct
import zlib

import numpy as np

MAGIC = b"\x89NNZ\r\n\x1a\n"
VERSION = 2                  # written; version 1 files (committee members packed in the metadata) still read
READ_VERSIONS = (1, 2)
FORMAT_NAME = "nnlite.nnz"
PREFIX = struct.Struct("<8sHI")        # magic, uint16 version, uint32 header length
MAX_CODE_LENGTH = 32
# metadata key of a version 1 committee file: {"combine": "mean", "members": [base64 .nnz bytes of members 1..k-1]}
ENSEMBLE_KEY = "ensemble"
# version 2 metadata references: {"$array": i} -> header["arrays"][i]; {"$strings": [start, count]} -> that run
# of the header["strings"] table; {"$records": [column references]} -> rows zipped from the columns
ARRAY_REF, STRINGS_REF, RECORDS_REF = "$array", "$strings", "$records"
BLOB_CODECS = ("raw", "zlib", "shuffle+zlib")
# the allowed "combine" values: the one definition that the engine, nnlite.runtime and ccle's model schema read
ENSEMBLE_COMBINE = ("mean",)


# ---------------------------------------------------------------------------------------------- container
def committee_members(header, source="<bytes>"):
    """The ``.nnz`` bytes of members 1..k-1 of a committee file whose member 0 has ``header`` ([] for a file
    of one network). ValueError naming ``source`` when ``metadata["ensemble"]`` is malformed."""
    meta = header.get("metadata")
    packed = meta.get(ENSEMBLE_KEY) if isinstance(meta, dict) else None
    if packed is None:
        return []
    try:
        if packed.get("combine") not in ENSEMBLE_COMBINE:
            raise ValueError(f"unsupported ensemble combination {packed.get('combine')!r}")
        return [base64.b64decode(m.encode("ascii"), validate=True) for m in packed["members"]]
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{source}: corrupt ensemble metadata ({exc})") from None


def committee_parts(header, body, source="<bytes>"):
    """``[(network header, body, where), ...]`` of every network of a parsed ``.nnz`` file, member 0 (the
    file's own ``layers``) first: version 2 lists members 1..k-1 in ``header["members"]`` (their blobs in the
    same body; ``metadata["ensemble"]`` is then the caller's data); version 1 packs them as whole ``.nnz``
    files in ``metadata["ensemble"]`` (each parsed and CRC-checked here); a header with no layers and no
    members holds no network ([]). ValueError naming ``source`` when the committee entries are malformed."""
    parts = [(header, body, source)]
    members = header.get("members")
    if header.get("layers") == [] and not members:
        return []        # a file of metadata alone (e.g. an array model, nnlite.runtime.array_model)
    if members is not None:
        if header.get("combine") not in ENSEMBLE_COMBINE or not isinstance(members, list) or not all(
                isinstance(m, dict) and isinstance(m.get("layers"), list) for m in members):
            raise ValueError(f"{source}: corrupt compressed model (bad committee members)")
        return parts + [(m, body, f"{source} (ensemble member {i})") for i, m in enumerate(members, start=1)]
    for i, packed in enumerate(committee_members(header, source), start=1):
        where = f"{source} (ensemble member {i})"
        parts.append((*parse_container(packed, where), where))
    return parts


def parse_container(data, source="<bytes>"):
    """Check magic, version, sizes and CRC-32 of ``.nnz`` bytes -> (header dict, body bytes).

    Checks, in order (ValueError naming ``source``): the magic number; the 14-byte prefix is present; the
    version is one of ``READ_VERSIONS``; the prefix, header and CRC fit; when the header reads, the file holds
    the ``14 + H + body_bytes + 4`` bytes it announces ("truncated" when shorter); the CRC-32 matches
    ("corrupt"); the header is a ``nnlite.nnz`` JSON object ("bad header"); no bytes follow the announced end
    ("corrupt"). A header with blob tables (version 2) gets its metadata back as written
    (:func:`unpack_metadata`); the tables stay in the header for :func:`size_breakdown`.
    """
    data = bytes(data)
    if not data or data[:8] != MAGIC[:len(data)]:
        raise ValueError(f"{source}: not an nnlite compressed model (bad magic number)")
    if len(data) < PREFIX.size:
        raise ValueError(f"{source}: truncated compressed model ({len(data)} bytes)")
    _, version, hlen = PREFIX.unpack_from(data)
    if version not in READ_VERSIONS:
        raise ValueError(f"{source}: compressed model format version {version} is not supported "
                         f"(this nnlite reads versions {', '.join(map(str, READ_VERSIONS))})")
    if len(data) < PREFIX.size + hlen + 4:
        raise ValueError(f"{source}: truncated compressed model ({len(data)} bytes, header alone needs "
                         f"{PREFIX.size + hlen + 4})")
    try:
        header = json.loads(zlib.decompress(data[PREFIX.size:PREFIX.size + hlen]).decode("utf-8"))
        expected = PREFIX.size + hlen + int(header["body_bytes"]) + 4
    except (zlib.error, UnicodeDecodeError, ValueError, KeyError, TypeError, IndexError):
        header, expected = None, None
    if expected is not None and len(data) < expected:
        raise ValueError(f"{source}: truncated compressed model ({len(data)} of {expected} bytes)")
    if zlib.crc32(data[:-4]) != file_crc32(data):
        raise ValueError(f"{source}: corrupt compressed model (CRC-32 checksum mismatch)")
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise ValueError(f"{source}: corrupt compressed model (bad header)")
    if len(data) != expected:
        raise ValueError(f"{source}: corrupt compressed model ({len(data)} bytes, the header announces {expected})")
    body = data[PREFIX.size + hlen:-4]
    if "arrays" in header or "strings" in header:
        try:
            header["metadata"] = unpack_metadata(header, body)
        except (KeyError, TypeError, IndexError, AttributeError, zlib.error, UnicodeDecodeError) as exc:
            raise ValueError(f"{source}: corrupt compressed model (metadata blobs: {exc!r})") from None
        except ValueError as exc:
            raise ValueError(f"{source}: {exc}") from None
    return header, body


# ---------------------------------------------------------------------------------------------- metadata blobs
def unshuffle(raw, itemsize):
    """Undo the byte shuffle of an array of ``itemsize``-byte items: the shuffled bytes hold byte 0 of every
    item, then byte 1 of every item, ... (runs of alike bytes that zlib compresses better)."""
    if itemsize == 1:
        return raw
    return np.frombuffer(raw, dtype=np.uint8).reshape(itemsize, -1).T.tobytes()


def read_array(entry, body):
    """The numpy array of one ``header["arrays"]`` entry: ``ref`` [offset, length] of its bytes in the body,
    ``codec`` (one of ``BLOB_CODECS``), ``stored`` (little-endian numpy dtype of the bytes), ``dtype`` (the
    dtype restored, e.g. float64 stored exactly as float32), ``shape``. ValueError when the sizes disagree."""
    raw = blob(body, entry["ref"], f"array {entry.get('path', '')}")
    codec = entry.get("codec", "raw")
    if codec not in BLOB_CODECS:
        raise ValueError(f"corrupt compressed model: unknown blob codec {codec!r}")
    stored = np.dtype(entry["stored"])
    if codec != "raw":
        raw = zlib.decompress(raw)
    if codec == "shuffle+zlib":
        if len(raw) % stored.itemsize:
            raise ValueError("corrupt compressed model: shuffled array of the wrong size")
        raw = unshuffle(raw, stored.itemsize)
    shape = tuple(int(d) for d in entry["shape"])
    if len(raw) != stored.itemsize * int(np.prod(shape, dtype=np.int64)):
        raise ValueError(f"corrupt compressed model: array {entry.get('path', '')} has the wrong size")
    return np.frombuffer(raw, dtype=stored).astype(np.dtype(entry["dtype"])).reshape(shape)


def read_strings(entry, body):
    """The string table of ``header["strings"]``: ``count`` UTF-8 strings joined by NUL bytes, ``codec``."""
    raw = blob(body, entry["ref"], "string table")
    if entry.get("codec", "raw") == "zlib":
        raw = zlib.decompress(raw)
    count = int(entry["count"])
    names = raw.decode("utf-8").split("\x00") if count else []
    if len(names) != count:
        raise ValueError("corrupt compressed model: the string table holds the wrong number of strings")
    return names


def unpack_metadata(header, body):
    """``header["metadata"]`` with every reference replaced by what the writer was given: ``{"$array": i}`` ->
    the array ``header["arrays"][i]`` (a list of Python numbers when it was written from a list, else a numpy
    array), ``{"$strings": [start, count]}`` -> that run of the string table, ``{"$records": [...]}`` -> the
    list of rows whose columns those references hold."""
    arrays = header.get("arrays", [])
    table = read_strings(header["strings"], body) if header.get("strings") else []

    def resolve(value):
        if isinstance(value, dict):
            if len(value) == 1:
                key, ref = next(iter(value.items()))
                if key == ARRAY_REF:
                    entry = arrays[ref]
                    arr = read_array(entry, body)
                    return arr.tolist() if entry.get("as", "list") == "list" else arr.copy()
                if key == STRINGS_REF:
                    start, count = int(ref[0]), int(ref[1])
                    if start < 0 or start + count > len(table):
                        raise ValueError("corrupt compressed model: string run outside the string table")
                    return table[start:start + count]
                if key == RECORDS_REF:
                    columns = [resolve(c) for c in ref]
                    if len({len(c) for c in columns}) > 1:
                        raise ValueError("corrupt compressed model: record columns of different lengths")
                    return [list(row) for row in zip(*columns)]
            return {k: resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [resolve(v) for v in value]
        return value

    return resolve(header.get("metadata", {}))


def size_breakdown(data, source="<bytes>"):
    """Where the bytes of a ``.nnz`` file go -> dict: ``total``, ``prefix`` (14), ``header`` (the compressed
    JSON header; in version 1 it also holds the packed committee members), ``header_json`` (its uncompressed
    size), ``checksum`` (4), ``networks`` (per network: ``bytes`` of its blobs and per Dense layer the bytes
    of each codec blob; the rest of a version 1 member's packed file is part of ``header``), ``arrays`` (per metadata array: ``path``,
    ``bytes`` stored, ``n`` values, ``stored`` dtype, ``codec``), ``strings`` (``bytes``, ``count``)."""
    data = bytes(data)
    header, body = parse_container(data, source)
    hlen = PREFIX.unpack_from(data)[2]
    out = {"total": len(data), "prefix": PREFIX.size, "header": hlen,
           "header_json": len(zlib.decompress(data[PREFIX.size:PREFIX.size + hlen])), "checksum": 4,
           "networks": [], "arrays": [], "strings": None}
    for h, b, _ in committee_parts(header, body, source):
        layers = []
        for entry in h["layers"]:
            if entry.get("type") == "Dense":
                c = entry["codec"]
                layers.append({k: int(c[k][1]) for k in ("codebook", "bias", "cluster_table", "cluster_stream",
                                                         "gap_table", "gap_stream")})
        out["networks"].append({"bytes": sum(sum(layer.values()) for layer in layers), "layers": layers})
    for entry in header.get("arrays", []):
        out["arrays"].append({"path": entry.get("path", ""), "bytes": int(entry["ref"][1]),
                              "n": int(np.prod(entry["shape"], dtype=np.int64)), "stored": entry["stored"],
                              "codec": entry["codec"]})
    if header.get("strings"):
        out["strings"] = {"bytes": int(header["strings"]["ref"][1]), "count": int(header["strings"]["count"])}
    return out


def file_crc32(data):
    """The CRC-32 stored in the last 4 bytes of ``.nnz`` bytes (the checksum of everything before it)."""
    return struct.unpack_from("<I", bytes(data), len(data) - 4)[0]


def blob(body, ref, what):
    """``body[offset:offset + length]`` for a header reference ``[offset, length, ...]``; ValueError naming
    ``what`` when it lies outside the body."""
    off, length = int(ref[0]), int(ref[1])
    if off < 0 or length < 0 or off + length > len(body):
        raise ValueError(f"corrupt compressed model: {what} lies outside the body")
    return body[off:off + length]


# ---------------------------------------------------------------------------------------------- Huffman tables
def read_varint(buf, pos):
    """Unsigned LEB128 varint of ``buf`` (bytes) at ``pos`` -> (value, position after it)."""
    value, shift = 0, 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise ValueError("Huffman table truncated or corrupt (bad varint)")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def read_code_table(buf, offset=0):
    """Parse a Huffman table at ``offset`` of ``buf`` -> (code lengths (n_symbols,) int64, bytes consumed).

    Layout: LEB128 varint n_symbols, uint8 w (bits per length, <= 6), ceil(n_symbols * w / 8) bytes of
    lengths, w bits each, MSB first. Raises ValueError for a truncated table, w > 6, a length above
    ``MAX_CODE_LENGTH`` or lengths that violate the Kraft inequality (no prefix code).
    """
    buf = bytes(buf)
    n, pos = read_varint(buf, offset)
    if pos >= len(buf):
        raise ValueError("Huffman table truncated")
    w = buf[pos]
    pos += 1
    if w > 6:
        raise ValueError(f"Huffman table corrupt: {w} bits per code length")
    if w == 0:
        return np.zeros(n, dtype=np.int64), pos - offset
    nbytes = (n * w + 7) // 8
    if pos + nbytes > len(buf):
        raise ValueError("Huffman table truncated")
    bits = np.unpackbits(np.frombuffer(buf, dtype=np.uint8, count=nbytes, offset=pos))[:n * w]
    lengths = bits.reshape(n, w).astype(np.int64) @ (np.int64(1) << np.arange(w - 1, -1, -1, dtype=np.int64))
    if lengths.size and lengths.max() > MAX_CODE_LENGTH:
        raise ValueError(f"Huffman table corrupt: code longer than {MAX_CODE_LENGTH} bits")
    used = lengths[lengths > 0]
    if used.size and np.sum(np.ldexp(1.0, -used)) > 1.0:
        raise ValueError("Huffman table corrupt: code lengths violate the Kraft inequality")
    return lengths, pos + nbytes - offset


def canonical_tables(lengths):
    """Decoding tables of the canonical code with these lengths (codes assigned in (length, symbol) order).

    Returns ``(L, first, count, offset, sorted_symbols)``: L the longest length; for l = 0..L, ``first[l]``
    the first code of length l, ``count[l]`` how many codes have it, ``offset[l]`` the index of that first
    code in ``sorted_symbols`` (symbols in code order). Symbol ``sorted_symbols[i]`` of length l has code
    ``first[l] + i - offset[l]``.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    order = np.lexsort((np.arange(lengths.size), lengths))
    sorted_symbols = order[lengths[order] > 0]
    L = int(lengths.max()) if lengths.size else 0
    count = np.bincount(lengths[sorted_symbols], minlength=L + 1).astype(np.int64)
    count[0] = 0
    first = np.zeros(L + 1, dtype=np.int64)
    offset = np.zeros(L + 1, dtype=np.int64)
    code = 0
    for ln in range(1, L + 1):
        code = (code + int(count[ln - 1])) << 1 if ln > 1 else 0
        first[ln] = code
        offset[ln] = offset[ln - 1] + count[ln - 1]
    return L, first, count, offset, sorted_symbols


def window_table(lengths, sorted_symbols, bits):
    """Lookup tables over all ``bits``-bit windows -> (length (2**bits,), symbol (2**bits,)) int64.

    Window w gives the length and symbol of the codeword it starts with, for codes of at most ``bits``
    bits; 0 (no such code) elsewhere. The canonical codes, left-justified to ``bits`` bits, tile
    [0, 2**bits) in code order, code c of length l covering 2**(bits - l) windows from c << (bits - l).
    """
    code_len = np.asarray(lengths, dtype=np.int64)[sorted_symbols]
    short = code_len <= bits
    reps = np.int64(1) << (bits - code_len[short])
    lut_len = np.zeros(1 << bits, dtype=np.int64)
    lut_sym = np.zeros(1 << bits, dtype=np.int64)
    filled = int(reps.sum())
    lut_len[:filled] = np.repeat(code_len[short], reps)
    lut_sym[:filled] = np.repeat(np.asarray(sorted_symbols, dtype=np.int64)[short], reps)
    return lut_len, lut_sym


# ---------------------------------------------------------------------------------------------- Dense layers
def read_dense_codec(entry, body, dtype, decode):
    """The stored parts of one Dense header entry -> (codebook (k,), bias (n_out,), cluster indices (n,),
    gap codes (m,)), in ``dtype`` for the floats.

    ``decode(table_bytes, stream_bytes, n, n_bits) -> int64 (n,)`` decodes one Huffman stream (the caller
    picks the decoder). Raises ValueError when a blob lies outside the body, the codebook or bias has the
    wrong size, or a cluster index lies beyond the codebook.
    """
    c = entry["codec"]
    le = np.dtype(dtype).newbyteorder("<")
    codebook = np.frombuffer(blob(body, c["codebook"], "codebook"), dtype=le)
    bias = np.frombuffer(blob(body, c["bias"], "bias"), dtype=le)
    if codebook.size != int(c["n_clusters"]) or bias.size != int(entry["n_out"]):
        raise ValueError("corrupt compressed model: codebook or bias has the wrong size")
    clusters = decode(blob(body, c["cluster_table"], "cluster table"),
                      blob(body, c["cluster_stream"], "cluster stream"), c["n_nonzero"], c["cluster_stream"][2])
    gaps = decode(blob(body, c["gap_table"], "gap table"),
                  blob(body, c["gap_stream"], "gap stream"), c["n_entries"], c["gap_stream"][2])
    if clusters.size and clusters.max() >= codebook.size:
        raise ValueError("corrupt compressed model: cluster index beyond the codebook")
    return codebook.astype(dtype), bias.astype(dtype), clusters, gaps
