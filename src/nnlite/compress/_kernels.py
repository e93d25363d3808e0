"""Numba kernels of the compression codecs (bit-level loops that NumPy cannot vectorise).

Every kernel returns a status code instead of raising (Numba's exceptions carry no context);
the Python wrappers in ``huffman.py`` turn a non-zero status into a ``ValueError``.
Bits are packed most-significant-bit first: the first code's first bit is bit 7 of byte 0.
The tests replay each kernel against a pure-Python twin.
"""
import numpy as np
from numba import njit

from nnlite import _numba_cache  # noqa: F401  (before the first @njit: where the kernels are cached)

OK = 0
BAD_SYMBOL = 1      # encode: a symbol outside the alphabet or without a code
BAD_CODE = 2        # decode: a bit pattern that is no codeword (incomplete code, corrupt data)
TRUNCATED = 3       # decode: the data ends before the requested number of symbols


@njit(cache=True)
def huffman_encode(symbols, codes, lengths, out):
    """Concatenate ``codes[s]`` (``lengths[s]`` bits each) for s in ``symbols`` into ``out`` (uint8).

    ``out`` must hold ceil(sum(lengths[symbols]) / 8) bytes; the last byte is zero-padded.
    Code lengths are <= 32, so the accumulator (< 8 pending bits + one code) stays below 2**40.
    Returns (status, number of bits written).
    """
    n_alpha = codes.shape[0]
    acc = np.int64(0)
    nb = 0
    pos = 0
    nbits = 0
    for i in range(symbols.shape[0]):
        s = symbols[i]
        if s < 0 or s >= n_alpha:
            return BAD_SYMBOL, nbits
        ln = lengths[s]
        if ln == 0:
            return BAD_SYMBOL, nbits
        acc = (acc << ln) | codes[s]
        nb += ln
        nbits += ln
        while nb >= 8:
            out[pos] = (acc >> (nb - 8)) & 0xFF
            pos += 1
            nb -= 8
        acc &= (np.int64(1) << nb) - 1
    if nb > 0:
        out[pos] = (acc << (8 - nb)) & 0xFF
    return OK, nbits


@njit(cache=True)
def huffman_decode(data, n_bits, n_out, lut_bits, lut_sym, lut_len,
                   max_len, first, count, offset, sorted_syms, out):
    """Decode ``n_out`` canonical-Huffman symbols from the first ``n_bits`` bits of ``data`` into ``out``.

    Fast path: the next ``lut_bits`` bits index a table giving (symbol, length) for every code no
    longer than ``lut_bits``. Slow path (longer codes): the canonical rule -- the l-bit prefix ``c`` is a
    codeword iff 0 <= c - first[l] < count[l], and then it is ``sorted_syms[offset[l] + c - first[l]]``.
    Bits past the end of ``data`` read as zero; consuming more than ``n_bits`` is reported as TRUNCATED.
    Returns (status, number of bits consumed).
    """
    n_bytes = data.shape[0]
    acc = np.int64(0)
    nb = 0
    bytepos = 0
    used = 0
    lut_mask = (np.int64(1) << lut_bits) - 1
    long_mask = (np.int64(1) << max_len) - 1
    for i in range(n_out):
        while nb <= 48:
            b = np.int64(0)
            if bytepos < n_bytes:
                b = np.int64(data[bytepos])
            acc = (acc << 8) | b
            nb += 8
            bytepos += 1
        peek = (acc >> (nb - lut_bits)) & lut_mask
        ln = lut_len[peek]
        if ln > 0:
            sym = lut_sym[peek]
        else:
            peek_long = (acc >> (nb - max_len)) & long_mask
            sym = -1
            for l in range(lut_bits + 1, max_len + 1):
                c = peek_long >> (max_len - l)
                k = c - first[l]
                if k >= 0 and k < count[l]:
                    sym = sorted_syms[offset[l] + k]
                    ln = l
                    break
            if sym < 0:
                return BAD_CODE, used
        nb -= ln
        used += ln
        if used > n_bits:
            return TRUNCATED, used
        acc &= (np.int64(1) << nb) - 1
        out[i] = sym
    return OK, used
