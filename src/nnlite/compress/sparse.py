"""Sparse storage with relative (gap) indices and filler zeros (Deep Compression, sec. 2 and Fig. 2).

Han et al. store a pruned layer in CSR/CSC form with the *difference* between consecutive nonzero
positions in ``index_bits`` bits instead of absolute column indices; a gap too large for ``index_bits``
bits is bridged with "filler zero" entries. Here the matrix is flattened row-major, so positions run over
the whole matrix and no row-pointer array is needed (a row change is just another gap).

Encoding of the nonzero positions p_0 < p_1 < ... (flat indices, p_{-1} = -1), with M = 2**index_bits - 1:

* each entry is a gap code c in [0, M];
* c < M is a real entry: the next nonzero sits c + 1 positions after the previous entry;
* c = M is a filler zero: it stands at M positions after the previous entry, holds the value 0,
  and (unlike the paper, where a filler also stores a zero weight) carries no value, since its value is known.

A gap g = p_i - p_{i-1} >= 1 is thus written as (g - 1) // M fillers followed by the real code
g - 1 - M * ((g - 1) // M). Values (weights or cluster indices) are stored only for real entries, in order.
"""
from dataclasses import dataclass

import numpy as np

from nnlite.runtime import decode_gaps as runtime_decode_gaps


def _check_index_bits(index_bits):
    if int(index_bits) != index_bits or not 1 <= index_bits <= 30:
        raise ValueError(f"index_bits must be an integer in [1, 30], got {index_bits!r}")
    return int(index_bits)


def encode_gaps(positions, index_bits):
    """Gap codes for sorted unique flat positions (n,) -> int64 (n + n_fillers,) codes in [0, 2**index_bits - 1]."""
    b = _check_index_bits(index_bits)
    positions = np.asarray(positions, dtype=np.int64)
    if positions.ndim != 1:
        raise ValueError(f"positions must be 1-D, got shape {positions.shape}")
    if positions.size == 0:
        return np.zeros(0, dtype=np.int64)
    if positions[0] < 0:
        raise ValueError("positions must be >= 0")
    gaps = np.diff(positions, prepend=-1)
    if np.any(gaps < 1):
        raise ValueError("positions must be strictly increasing")
    M = (1 << b) - 1
    n_fill = (gaps - 1) // M
    codes = np.full(positions.size + int(n_fill.sum()), M, dtype=np.int64)
    real = np.cumsum(n_fill + 1) - 1
    codes[real] = gaps - 1 - M * n_fill
    return codes


def decode_gaps(codes, index_bits):
    """Inverse of ``encode_gaps``: gap codes (m,) -> int64 flat positions of the real entries (n,).
    The decoding itself is ``nnlite.runtime.decode_gaps`` (one implementation, numpy-only for the runtime)."""
    return runtime_decode_gaps(codes, _check_index_bits(index_bits))


@dataclass
class GapCSR:
    """A sparse matrix stored as gap codes plus the values of its real entries (Han et al. 2016, Deep Compression).

    Each real entry's distance from the previous one (row-major, flattened) is stored in ``index_bits`` bits;
    a gap longer than ``2**index_bits - 1`` is bridged by filler entries whose value is zero. Build it with
    :meth:`from_dense`.

    Parameters
    ----------
    shape : tuple of int
    index_bits : int
    gaps : ndarray of shape (m,)
        Gap codes, fillers included.
    values : ndarray of shape (nnz,)
        Weights (float) or cluster indices (int) of the real entries.

    Examples
    --------
    >>> import numpy as np
    >>> from nnlite import GapCSR
    >>> W = np.zeros((2, 8), dtype=np.float32)
    >>> W[0, 1], W[1, 7] = 0.5, -2.0
    >>> sparse = GapCSR.from_dense(W, index_bits=3)
    >>> sparse.nnz, sparse.n_fillers, sparse.positions()
    (2, 1, array([ 1, 15]))
    >>> bool(np.array_equal(sparse.to_dense(), W))
    True
    """
    shape: tuple
    index_bits: int
    gaps: np.ndarray
    values: np.ndarray

    @classmethod
    def from_dense(cls, W, index_bits, values=None):
        """Store the nonzeros of ``W`` (any shape, flattened row-major).

        Parameters
        ----------
        W : ndarray
        index_bits : int
            Bits per gap code.
        values : ndarray of shape (nnz,) or None
            Stored instead of W's nonzeros (e.g. their cluster indices).

        Returns
        -------
        GapCSR
        """
        W = np.asarray(W)
        positions = np.flatnonzero(W)
        gaps = encode_gaps(positions, index_bits)
        vals = W.ravel()[positions] if values is None else np.asarray(values)
        if vals.shape != positions.shape:
            raise ValueError(f"values has shape {vals.shape}, expected ({positions.size},)")
        return cls(tuple(W.shape), int(index_bits), gaps, vals)

    @property
    def nnz(self):
        """Number of real (nonzero) entries."""
        return int(self.values.size)

    @property
    def n_fillers(self):
        """Number of filler-zero entries."""
        return int(self.gaps.size - self.values.size)

    def positions(self):
        """Flat (row-major) positions of the real entries.

        Returns
        -------
        ndarray of shape (nnz,), int64
        """
        pos = decode_gaps(self.gaps, self.index_bits)
        if pos.size != self.values.size:
            raise ValueError(f"{pos.size} real gap entries but {self.values.size} values")
        if pos.size and pos[-1] >= int(np.prod(self.shape)):
            raise ValueError(f"gap codes point past the end of a matrix of shape {self.shape}")
        return pos

    def to_dense(self, values=None, dtype=np.float32):
        """The dense matrix.

        Parameters
        ----------
        values : ndarray of shape (nnz,) or None
            Replaces ``self.values`` (e.g. ``codebook[cluster indices]``).
        dtype : numpy dtype, default float32

        Returns
        -------
        ndarray of shape ``shape``
        """
        vals = self.values if values is None else np.asarray(values)
        out = np.zeros(int(np.prod(self.shape)), dtype=dtype)
        out[self.positions()] = vals
        return out.reshape(self.shape)

    def nbits(self, value_bits):
        """Storage in bits: ``index_bits`` per entry (fillers included) plus ``value_bits`` per real entry.

        Parameters
        ----------
        value_bits : int

        Returns
        -------
        int
        """
        return self.gaps.size * self.index_bits + self.values.size * int(value_bits)
