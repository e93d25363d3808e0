"""Canonical Huffman codes over integer alphabets {0, ..., n_symbols - 1} (Deep Compression, stage 3).

Construction (Huffman 1952): repeatedly merge the two least frequent nodes; a symbol's code length is its
leaf depth. Only the lengths are kept: the *canonical* code (Schwartz & Kallick 1964, as in DEFLATE,
RFC 1951 sec. 3.2.2) assigns codes in order of (length, symbol), each code being the previous one plus one,
shifted left when the length grows. So the lengths alone define the code, which makes the table compact.

Special cases: an alphabet whose counts are all zero has no codes (only the empty message encodes);
a single used symbol gets a 1-bit code "0". Lengths are limited to ``MAX_LENGTH`` = 32 bits: deeper trees
(a code of L bits needs Fibonacci-like counts summing to at least F(L + 2), about 9 million for L = 33) are
flattened by clamping and then lengthening the deepest unclamped codes until the Kraft sum is <= 1.

Table serialisation (``to_bytes``), byte-aligned, all integers unsigned::

    LEB128 varint   n_symbols (alphabet size)
    uint8           w = bits per code length (0 when no symbol has a code, else bit_length(max length))
    ceil(n_symbols * w / 8) bytes: the n_symbols code lengths, w bits each, MSB first, zero-padded

Encoded bit streams are MSB first (first code bit = bit 7 of byte 0) and zero-padded to a whole byte.
"""
import heapq

import numpy as np

from nnlite.compress import _kernels
from nnlite.compress._layout import MAX_CODE_LENGTH, canonical_tables, read_code_table, window_table

MAX_LENGTH = MAX_CODE_LENGTH
_LUT_BITS = 11


def _check_counts(counts):
    counts = np.asarray(counts)
    if counts.ndim != 1:
        raise ValueError(f"counts must be 1-D, got shape {counts.shape}")
    if counts.size and (not np.issubdtype(counts.dtype, np.integer) and not np.all(np.isfinite(counts))):
        raise ValueError("counts contain NaN or inf")
    if counts.size and counts.min() < 0:
        raise ValueError("counts must be non-negative")
    return counts


def huffman_lengths(counts, max_length=MAX_LENGTH):
    """Huffman code length per symbol from symbol counts, shape (n_symbols,) -> int64 (n_symbols,).

    Symbols with count 0 get length 0 (no code). Ties are broken by symbol / node creation order,
    so the result is deterministic. Lengths longer than ``max_length`` are limited (see module doc).
    """
    counts = _check_counts(counts)
    n = counts.size
    lengths = np.zeros(n, dtype=np.int64)
    used = np.flatnonzero(counts > 0)
    if used.size == 0:
        return lengths
    if used.size == 1:
        lengths[used[0]] = 1
        return lengths
    # heap of (count, node id); leaves are 0..m-1 (positions in `used`), internal nodes m, m+1, ...
    m = used.size
    heap = [(int(counts[s]), i) for i, s in enumerate(used)]
    heapq.heapify(heap)
    parent = np.empty(2 * m - 1, dtype=np.int64)
    nxt = m
    while len(heap) > 1:
        c1, a = heapq.heappop(heap)
        c2, b = heapq.heappop(heap)
        parent[a] = parent[b] = nxt
        heapq.heappush(heap, (c1 + c2, nxt))
        nxt += 1
    depth = np.zeros(2 * m - 1, dtype=np.int64)
    for node in range(2 * m - 3, -1, -1):      # children have smaller ids than their parent
        depth[node] = depth[parent[node]] + 1
    lengths[used] = depth[:m]
    if lengths.max() > max_length:
        lengths = _limit_lengths(lengths, counts, max_length)
    return lengths


def _limit_lengths(lengths, counts, max_length):
    """Clamp lengths to ``max_length`` and restore the Kraft inequality sum 2**-l <= 1.

    While the (scaled) Kraft sum exceeds 2**max_length, the code of the deepest symbol still below
    the limit (least frequent among ties) is lengthened by one bit, which lowers the sum by 2**(L-l-1) >= 1.
    """
    lengths = lengths.copy()
    used = lengths > 0
    lengths[used] = np.minimum(lengths[used], max_length)
    kraft = int(np.sum(np.left_shift(np.int64(1), max_length - lengths[used])))
    limit = 1 << max_length
    while kraft > limit:
        cand = np.flatnonzero(used & (lengths < max_length))
        best = cand[np.lexsort((counts[cand], -lengths[cand]))[0]]
        kraft -= 1 << (max_length - int(lengths[best]) - 1)
        lengths[best] += 1
    return lengths


class HuffmanCode:
    """A canonical prefix code over the alphabet {0, ..., n_symbols - 1}, defined by its code lengths.

    Huffman (1952) lengths, canonical code values (Schwartz & Kallick 1964): symbols sorted by (length, symbol)
    get consecutive codes, so the lengths alone define the code and are all the file stores. Build it with
    :meth:`from_counts` or :meth:`from_symbols`; ``to_bytes()`` / :meth:`from_bytes` give the compact table.

    Parameters
    ----------
    lengths : array-like of shape (n_symbols,)
        Bits per symbol (0 = the symbol has no code); must satisfy Kraft's inequality.

    Attributes
    ----------
    lengths : ndarray of shape (n_symbols,), int64
    codes : ndarray of shape (n_symbols,), int64
        Canonical code values (the low ``lengths[s]`` bits).
    n_symbols : int

    Examples
    --------
    >>> import numpy as np
    >>> from nnlite import HuffmanCode
    >>> code = HuffmanCode.from_symbols(np.array([0, 0, 0, 0, 1, 1, 2]), n_symbols=3)
    >>> code.lengths
    array([1, 2, 2])
    >>> data, n_bits = code.encode(np.array([0, 1, 2, 0]))
    >>> n_bits, code.decode(data, 4, n_bits)
    (6, array([0, 1, 2, 0]))
    """

    def __init__(self, lengths):
        lengths = np.asarray(lengths)
        if lengths.ndim != 1:
            raise ValueError(f"code lengths must be 1-D, got shape {lengths.shape}")
        if lengths.size and (lengths.min() < 0 or lengths.max() > MAX_LENGTH):
            raise ValueError(f"code lengths must lie in [0, {MAX_LENGTH}]")
        lengths = lengths.astype(np.int64)
        used = lengths[lengths > 0]
        if used.size and np.sum(np.ldexp(1.0, -used)) > 1.0:
            raise ValueError("code lengths violate the Kraft inequality: not a prefix code")
        self.lengths = lengths
        self.n_symbols = lengths.size
        self._build()

    @classmethod
    def from_counts(cls, counts, max_length=MAX_LENGTH):
        """The Huffman code for symbol counts.

        Parameters
        ----------
        counts : array-like of shape (n_symbols,)
            Occurrences of each symbol (0: no code).
        max_length : int, default 32
            Longest code allowed.

        Returns
        -------
        HuffmanCode
        """
        return cls(huffman_lengths(counts, max_length))

    @classmethod
    def from_symbols(cls, symbols, n_symbols=None):
        """The Huffman code for the empirical counts of integer symbols.

        Parameters
        ----------
        symbols : array-like of int, shape (n,)
        n_symbols : int or None
            Alphabet size (default ``max(symbols) + 1``).

        Returns
        -------
        HuffmanCode
        """
        symbols = _as_symbols(symbols)
        if n_symbols is None:
            n_symbols = int(symbols.max()) + 1 if symbols.size else 0
        if symbols.size and (symbols.min() < 0 or symbols.max() >= n_symbols):
            raise ValueError(f"symbols must lie in [0, {n_symbols})")
        return cls.from_counts(np.bincount(symbols, minlength=n_symbols))

    def _build(self):
        L_max, first, count, offset, order = canonical_tables(self.lengths)
        self.sorted_symbols = order.astype(np.int64)
        self.max_length = L_max
        ln = self.lengths[order]
        self.codes = np.zeros(self.n_symbols, dtype=np.int64)
        self.codes[order] = first[ln] + np.arange(order.size) - offset[ln]
        # the kernel reads these at lengths 1..max(max_length, 1)
        pad = (0, 1) if L_max == 0 else (0, 0)
        self._first, self._count, self._offset = (np.pad(a, pad) for a in (first, count, offset))
        # lookup table for codes of <= lut_bits bits: every lut_bits-bit window that starts with a code
        self._lut_bits = min(max(L_max, 1), _LUT_BITS)
        self._lut_len, self._lut_sym = window_table(self.lengths, order, self._lut_bits)

    def encoded_bits(self, symbols):
        """Number of bits :meth:`encode` produces, ``sum(lengths[symbols])`` (without byte padding).

        Parameters
        ----------
        symbols : array-like of int, shape (n,)

        Returns
        -------
        int
        """
        symbols = _as_symbols(symbols)
        return int(self.lengths[symbols].sum()) if symbols.size else 0

    def encode(self, symbols):
        """Encode integer symbols (a Numba kernel).

        Parameters
        ----------
        symbols : array-like of int, shape (n,)

        Returns
        -------
        data : bytes
            ``ceil(n_bits / 8)`` bytes.
        n_bits : int
        """
        symbols = _as_symbols(symbols)
        if symbols.size == 0:
            return b"", 0
        # room for the longest possible output; the kernel checks every symbol as it goes
        out = np.empty((symbols.size * max(self.max_length, 1) + 7) // 8, dtype=np.uint8)
        status, n_bits = _kernels.huffman_encode(symbols, self.codes, self.lengths, out)
        if status != _kernels.OK:
            bad = symbols[(symbols < 0) | (symbols >= self.n_symbols)]
            if bad.size:
                raise ValueError(f"symbols must lie in [0, {self.n_symbols}), got {int(bad[0])}")
            bad = int(symbols[self.lengths[symbols] == 0][0])
            raise ValueError(f"symbol {bad} has no code (its count was zero when the code was built)")
        return out[:(n_bits + 7) // 8].tobytes(), int(n_bits)

    def decode(self, data, n, n_bits=None):
        """Decode ``n`` symbols (a Numba kernel).

        Parameters
        ----------
        data : bytes or ndarray of uint8
        n : int
            Symbols to decode.
        n_bits : int or None
            Bound on the bits consumed (default ``8 * len(data)``).

        Returns
        -------
        ndarray of shape (n,), int64

        Raises
        ------
        ValueError
            When decoding runs past ``n_bits`` or meets a bit pattern that is no codeword.
        """
        if isinstance(data, np.ndarray):
            buf = np.ascontiguousarray(data, dtype=np.uint8).ravel()
        else:
            buf = np.frombuffer(data, dtype=np.uint8)
        n = int(n)
        if n < 0:
            raise ValueError("number of symbols to decode must be >= 0")
        if n_bits is None:
            n_bits = 8 * buf.size
        if n_bits > 8 * buf.size:
            raise ValueError(f"Huffman stream truncated: {n_bits} bits announced, {8 * buf.size} present")
        out = np.empty(n, dtype=np.int64)
        if n == 0:
            return out
        if self.sorted_symbols.size == 0:
            raise ValueError("cannot decode symbols with an empty Huffman code")
        status, _ = _kernels.huffman_decode(
            buf, int(n_bits), n, self._lut_bits, self._lut_sym, self._lut_len, max(self.max_length, 1),
            self._first, self._count, self._offset, self.sorted_symbols, out)
        if status == _kernels.BAD_CODE:
            raise ValueError("corrupt Huffman stream: bit pattern is not a codeword")
        if status == _kernels.TRUNCATED:
            raise ValueError(f"Huffman stream truncated: {n} symbols need more than {n_bits} bits")
        return out

    def to_bytes(self):
        """The compact table: varint n_symbols, uint8 bits-per-length w, packed lengths (module docstring).

        Returns
        -------
        bytes
        """
        w = int(self.max_length).bit_length()
        head = _varint(self.n_symbols) + bytes([w])
        if w == 0:
            return head
        bits = (self.lengths[:, None] >> np.arange(w - 1, -1, -1)) & 1
        return head + np.packbits(bits.astype(np.uint8).ravel()).tobytes()

    @classmethod
    def from_bytes(cls, buf, offset=0):
        """Parse a table written by ``to_bytes``.

        Parameters
        ----------
        buf : bytes
        offset : int, default 0
            Where the table starts in ``buf``.

        Returns
        -------
        code : HuffmanCode
        n_read : int
            Bytes consumed.
        """
        lengths, consumed = read_code_table(buf, offset)     # shared with nnlite.runtime
        return cls(lengths), consumed

    def __eq__(self, other):
        return isinstance(other, HuffmanCode) and np.array_equal(self.lengths, other.lengths)

    def __repr__(self):
        return f"HuffmanCode(n_symbols={self.n_symbols}, used={self.sorted_symbols.size}, max_length={self.max_length})"


def _as_symbols(symbols):
    symbols = np.asarray(symbols)
    if symbols.ndim != 1:
        raise ValueError(f"symbols must be 1-D, got shape {symbols.shape}")
    if symbols.size and not np.issubdtype(symbols.dtype, np.integer):
        raise ValueError(f"symbols must be integers, got dtype {symbols.dtype}")
    return symbols.astype(np.int64, copy=False)


def _varint(value):
    """Unsigned LEB128: 7 bits per byte, least significant group first, high bit = more bytes follow."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def entropy_bits(symbols, n_symbols=None):
    """Empirical entropy of ``symbols`` in bits: n * H, H = -sum p log2 p with p the symbol frequencies."""
    symbols = _as_symbols(symbols)
    if symbols.size == 0:
        return 0.0
    counts = np.bincount(symbols, minlength=n_symbols or 0)
    p = counts[counts > 0] / symbols.size
    return float(-symbols.size * np.sum(p * np.log2(p)))
