"""Canonical Huffman codes: optimality bound, prefix property, round trips, table serialisation, Numba twins."""
import heapq

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnlite.compress.huffman import MAX_LENGTH, HuffmanCode, entropy_bits, huffman_lengths


def _py_encode(symbols, code):
    """Pure-Python twin of the Numba encoder: concatenate code strings, pad with zeros, MSB first."""
    bits = "".join(format(int(code.codes[s]), f"0{int(code.lengths[s])}b") for s in symbols)
    padded = bits + "0" * (-len(bits) % 8)
    return bytes(int(padded[i:i + 8], 2) for i in range(0, len(padded), 8)), len(bits)


def _py_decode(data, n, code):
    """Pure-Python twin of the Numba decoder: walk the bits, match against the code dictionary."""
    table = {format(int(code.codes[s]), f"0{int(code.lengths[s])}b"): s
             for s in range(code.n_symbols) if code.lengths[s]}
    bits = "".join(format(b, "08b") for b in data)
    out, cur = [], ""
    for bit in bits:
        if len(out) == n:
            break
        cur += bit
        if cur in table:
            out.append(table[cur])
            cur = ""
    return out


def _reference_cost(counts):
    """Optimal total code length sum_s count_s * len_s of a Huffman code (sum of all merged weights)."""
    heap = [c for c in counts if c > 0]
    if len(heap) <= 1:
        return sum(heap)          # one symbol: 1 bit each
    heapq.heapify(heap)
    total = 0
    while len(heap) > 1:
        a, b = heapq.heappop(heap), heapq.heappop(heap)
        total += a + b
        heapq.heappush(heap, a + b)
    return total


def _is_prefix_free(code):
    words = sorted(format(int(code.codes[s]), f"0{int(code.lengths[s])}b")
                   for s in range(code.n_symbols) if code.lengths[s])
    return all(not b.startswith(a) for a, b in zip(words, words[1:]))


symbol_arrays = st.integers(1, 40).flatmap(
    lambda k: st.tuples(st.just(k), st.lists(st.integers(0, k - 1), min_size=0, max_size=400)))


@settings(max_examples=150, deadline=None)
@given(symbol_arrays)
def test_round_trip_and_entropy_bound(case):
    k, symbols = case
    symbols = np.array(symbols, dtype=np.int64)
    code = HuffmanCode.from_symbols(symbols, k)
    data, n_bits = code.encode(symbols)
    assert len(data) == (n_bits + 7) // 8
    np.testing.assert_array_equal(code.decode(data, symbols.size, n_bits), symbols)
    # within one bit per symbol of the empirical entropy, and exactly the optimal Huffman cost
    assert n_bits <= entropy_bits(symbols, k) + symbols.size + 1e-9
    assert n_bits == _reference_cost(np.bincount(symbols, minlength=k))
    assert _is_prefix_free(code)
    # the table round-trips and is compact: a few bytes plus <= 6 bits per symbol of the alphabet
    table = code.to_bytes()
    back, used = HuffmanCode.from_bytes(table)
    assert back == code and used == len(table)
    assert len(table) <= 3 + (6 * k + 7) // 8


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 10**5), min_size=1, max_size=60))
def test_skewed_counts_give_a_valid_optimal_code(counts):
    counts = np.array(counts)
    lengths = huffman_lengths(counts)
    assert np.all((lengths > 0) == (counts > 0))
    used = lengths[lengths > 0]
    assert np.sum(np.ldexp(1.0, -used)) <= 1.0
    assert int(np.sum(counts * lengths)) == _reference_cost(counts)


def test_numba_kernels_match_python_twins():
    rng = np.random.default_rng(0)
    symbols = rng.zipf(1.5, 3000) % 50
    code = HuffmanCode.from_symbols(symbols, 50)
    data, n_bits = code.encode(symbols)
    assert (data, n_bits) == _py_encode(symbols, code)
    assert _py_decode(data, symbols.size, code) == list(symbols)


def test_one_symbol_two_symbols_and_empty():
    code = HuffmanCode.from_counts([0, 0, 7])
    assert list(code.lengths) == [0, 0, 1]
    data, n_bits = code.encode([2] * 7)
    assert n_bits == 7
    np.testing.assert_array_equal(code.decode(data, 7, n_bits), [2] * 7)

    code = HuffmanCode.from_counts([1, 1000])
    assert list(code.lengths) == [1, 1]
    data, n_bits = code.encode([1, 0, 1])
    np.testing.assert_array_equal(code.decode(data, 3, n_bits), [1, 0, 1])

    empty = HuffmanCode.from_counts(np.zeros(5, dtype=int))
    assert empty.encode(np.zeros(0, dtype=int)) == (b"", 0)
    assert empty.decode(b"", 0).size == 0
    assert HuffmanCode.from_bytes(empty.to_bytes())[0] == empty
    none = HuffmanCode.from_counts([])
    assert none.n_symbols == 0 and none.decode(b"", 0).size == 0


def test_long_codes_are_limited_and_still_round_trip():
    fib = [1, 1]
    while len(fib) < 45:
        fib.append(fib[-1] + fib[-2])
    unlimited = huffman_lengths(fib, max_length=64)
    assert unlimited.max() == 44
    code = HuffmanCode.from_counts(fib)
    assert code.max_length == MAX_LENGTH
    assert np.sum(np.ldexp(1.0, -code.lengths)) <= 1.0
    symbols = np.concatenate([np.arange(45), np.arange(45)[::-1], np.zeros(20, dtype=int)])
    data, n_bits = code.encode(symbols)
    np.testing.assert_array_equal(code.decode(data, symbols.size, n_bits), symbols)


def test_lut_and_slow_path_agree_on_a_wide_alphabet():
    rng = np.random.default_rng(1)
    symbols = np.minimum(rng.geometric(0.2, 20000), 400) - 1    # codes well beyond the 11-bit table
    code = HuffmanCode.from_symbols(symbols, 400)
    assert code.max_length > 11
    data, n_bits = code.encode(symbols)
    np.testing.assert_array_equal(code.decode(data, symbols.size, n_bits), symbols)


def test_errors_name_the_problem():
    code = HuffmanCode.from_counts([3, 0, 1])
    with pytest.raises(ValueError, match="no code"):
        code.encode([1])
    with pytest.raises(ValueError, match="lie in"):
        code.encode([5])
    data, n_bits = code.encode([0, 2, 0, 0])
    with pytest.raises(ValueError, match="truncated"):
        code.decode(data, 4, n_bits - 1)
    with pytest.raises(ValueError, match="truncated"):
        code.decode(data, 40, n_bits)
    one = HuffmanCode.from_counts([5])                 # code "0": a 1 bit is no codeword
    with pytest.raises(ValueError, match="not a codeword"):
        one.decode(b"\xff", 3)
    with pytest.raises(ValueError, match="Kraft"):
        HuffmanCode([1, 1, 1])
    with pytest.raises(ValueError, match="truncated"):
        HuffmanCode.from_bytes(code.to_bytes()[:-1])
    with pytest.raises(ValueError, match="empty Huffman code"):
        HuffmanCode.from_counts([0, 0]).decode(b"\x00", 1)
