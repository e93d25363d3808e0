"""Relative-index sparse storage with filler zeros (Deep Compression, Fig. 2)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnlite.compress.sparse import GapCSR, decode_gaps, encode_gaps


def test_paper_style_example_with_fillers():
    # 3-bit indices, M = 7: gap g <= 7 is code g - 1; gap 16 = two fillers (7 + 7) + gap 2 (code 1)
    positions = [0, 1, 8, 24]
    codes = encode_gaps(positions, 3)
    assert list(codes) == [0, 0, 6, 7, 7, 1]
    np.testing.assert_array_equal(decode_gaps(codes, 3), positions)


def test_gap_exactly_at_the_limit_needs_no_filler():
    # the largest gap a real entry can hold is M = 2**b - 1 (code M - 1)
    codes = encode_gaps([6, 13], 3)
    assert list(codes) == [6, 6]
    codes = encode_gaps([7], 3)               # gap 8 = filler (7) + gap 1 (code 0)
    assert list(codes) == [7, 0]


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 8), st.sets(st.integers(0, 3000), max_size=200))
def test_gap_round_trip(index_bits, positions):
    positions = np.array(sorted(positions), dtype=np.int64)
    codes = encode_gaps(positions, index_bits)
    assert codes.min(initial=0) >= 0 and codes.max(initial=0) < 2 ** index_bits
    np.testing.assert_array_equal(decode_gaps(codes, index_bits), positions)
    M = 2 ** index_bits - 1
    gaps = np.diff(positions, prepend=-1)
    assert codes.size == positions.size + int(np.sum((gaps - 1) // M))


def test_gapcsr_round_trip_and_size():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(40, 30)).astype(np.float32)
    W[rng.random(W.shape) < 0.9] = 0
    W[5:25, :] = 0                            # a long run of zeros forces fillers
    csr = GapCSR.from_dense(W, index_bits=4)
    assert csr.nnz == np.count_nonzero(W) and csr.n_fillers > 0
    np.testing.assert_array_equal(csr.to_dense(), W)
    assert csr.nbits(32) == (csr.nnz + csr.n_fillers) * 4 + csr.nnz * 32
    labels = np.arange(csr.nnz) % 3
    np.testing.assert_array_equal(csr.to_dense(values=labels, dtype=np.int64)[W != 0], labels)


def test_empty_and_full_matrices():
    Z = np.zeros((3, 4))
    csr = GapCSR.from_dense(Z, 2)
    assert csr.gaps.size == 0 and csr.nnz == 0
    np.testing.assert_array_equal(csr.to_dense(), Z)
    F = np.ones((3, 4))
    csr = GapCSR.from_dense(F, 1)
    assert list(csr.gaps) == [0] * 12
    np.testing.assert_array_equal(csr.to_dense(), F)


def test_bad_input():
    with pytest.raises(ValueError, match="strictly increasing"):
        encode_gaps([3, 3], 4)
    with pytest.raises(ValueError, match="index_bits"):
        encode_gaps([1], 0)
    with pytest.raises(ValueError, match=r"lie in \[0, 7\]"):
        decode_gaps([8], 3)
    csr = GapCSR((2, 2), 3, np.array([5]), np.array([1.0]))
    with pytest.raises(ValueError, match="past the end"):
        csr.to_dense()
