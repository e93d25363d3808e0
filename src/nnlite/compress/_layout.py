"""The one reader of the ``.nnz`` byte layout (documented in :mod:`nnlite.compress.fileformat`): numpy + stdlib only.

Shared by the engine (:mod:`nnlite.compress.fileformat`, :mod:`nnlite.compress.huffman`, which decode the
streams with Numba) and the numpy-only runtime (:mod:`nnlite.runtime`), so both accept and reject exactly the
same bytes with the same messages. It must import nothing but numpy and the standard library.

* :func:`committee_members`: the packed members of a committee file (``metadata["ensemble"]``).
* :func:`parse_container`: magic, version, header length, zlib/JSON header, body size, CRC-32 -> (header, body).
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
VERSION = 1
FORMAT_NAME = "nnlite.nnz"
PREFIX = struct.Struct("<8sHI")        # magic, uint16 version, uint32 header length
MAX_CODE_LENGTH = 32
# metadata key of a committee file: {"combine": "mean", "members": [base64 .nnz bytes of members 1..k-1]}
ENSEMBLE_KEY = "ensemble"
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


def parse_container(data, source="<bytes>"):
    """Check magic, version, sizes and CRC-32 of ``.nnz`` bytes -> (header dict, body bytes).

    Checks, in order (ValueError naming ``source``): the magic number; the 14-byte prefix is present; the
    version is ``VERSION``; the prefix, header and CRC fit; when the header reads, the file holds the
    ``14 + H + body_bytes + 4`` bytes it announces ("truncated" when shorter); the CRC-32 matches ("corrupt");
    the header is a ``nnlite.nnz`` JSON object ("bad header"); no bytes follow the announced end ("corrupt").
    """
    data = bytes(data)
    if not data or data[:8] != MAGIC[:len(data)]:
        raise ValueError(f"{source}: not an nnlite compressed model (bad magic number)")
    if len(data) < PREFIX.size:
        raise ValueError(f"{source}: truncated compressed model ({len(data)} bytes)")
    _, version, hlen = PREFIX.unpack_from(data)
    if version != VERSION:
        raise ValueError(f"{source}: compressed model format version {version} is not supported "
                         f"(this nnlite reads version {VERSION})")
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
    return header, data[PREFIX.size + hlen:-4]


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
