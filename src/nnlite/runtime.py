"""Numpy-only loader and predictor for compressed models (``.nnz``): what a small machine needs to predict.

Imports numpy and the standard library only (no numba, scipy, pandas, nor any ``nnlite`` module that would
pull them in: the byte layout and the input checks come from numpy-only modules), so ``import nnlite.runtime`` works where only numpy is installed. The byte layout documented
in :mod:`nnlite.compress.fileformat` (magic, version, zlib-compressed JSON header, body, CRC-32; Huffman
tables) is read by :mod:`nnlite.compress._layout`, the one numpy-only reader shared with the engine, so both
accept and reject the same bytes. This module decodes the streams with numpy and rebuilds every Dense layer:

1. Huffman tables -> canonical codes. Decoding is table-driven and vectorized: for every bit position p of
   the stream, the L-bit window starting at p (L = longest code length) is cut from a 40-bit big-endian word;
   a lookup table over all 2**L windows (L <= 16; the canonical codes, left-justified, tile it in code order)
   gives the code length and symbol of the codeword starting at p. For longer codes the length comes from the
   canonical *limit table* (``lim[l] = (first[l] + count[l]) << (L - l)``, non-decreasing in l, so length =
   1 + number of limits <= window: one ``searchsorted``) and the symbol is
   ``sorted_symbols[offset[l] + (window >> (L - l)) - first[l]]``. Only the positions that start a codeword
   matter: they form the chain p_0 = 0, p_{i+1} = p_i + length(p_i), found for all i at once by pointer
   doubling (P <- concat(P, J_k[P]), J_{k+1} = J_k[J_k] with J_0 = "next codeword", log2(n) rounds).
2. Gap codes (M = 2**b - 1): step = M if code == M else code + 1; positions = cumsum(step) - 1 of the
   entries with code != M (the filler zeros carry no value).
3. W = zeros(n_in * n_out); W[positions] = codebook[cluster indices], reshaped row-major to (n_in, n_out).

The forward pass is y = act(x @ W + b) layer by layer (Dropout is the identity at prediction time), in the
model's float type and in row blocks of 4096, like ``Sequential.predict``. Exactness against
``nnlite.compress.fileformat.load_compressed(path).predict(X)``: the decoded weights are bit-identical, the
products are the same ``np.dot`` calls, bias addition, ReLU and Identity are exact, so networks without Tanh
predict **bit for bit** the same. Tanh layers use ``np.tanh``, while the engine evaluates tanh in a fastmath
Numba kernel (for float32 a rational approximation whose SIMD lanes divide by a reciprocal estimate, so even
the engine's own result depends on the CPU): Tanh networks agree **to float32 rounding**, at most a few ulp
per tanh (3e-7 absolute measured) and ~1e-6 relative on the output; float64 networks to ~1e-15
(tests/nnlite/test_runtime.py states the tolerances). ``np.tanh`` is 10x faster than re-evaluating the
engine's rational function with numpy ufuncs, and no less close to the engine.

Ensembles (a committee whose prediction is the mean of its members' outputs) are stored as one ``.nnz``: the
file's own network is member 0, then the header's ``members`` (version 1: whole ``.nnz`` files packed in
``metadata["ensemble"]``), written by :func:`nnlite.compress.fileformat.dumps_committee`, the one writer, and
listed by :func:`nnlite.compress._layout.committee_parts`. :meth:`RuntimeModel.predict` then returns
the float64 mean over members (``np.mean`` of the stacked float64 outputs, exactly as
``ccle.methods.estimators.PerDrugModel`` combines its committee).

Models without networks (a file whose header has no layers) keep their arrays in ``metadata["model"]`` (key
:data:`ARRAY_MODEL_KEY`), stored as the container's metadata blobs; :func:`array_model` rebuilds them:

* ``{"kind": "linear", "coef": (p,), "intercept": float}``: ``u = z @ coef + intercept`` in float64;
* ``{"kind": "forest", "n_nodes": (T,), "feature": (N,), "split": (N,), "right": (I,)}``: T trees, their
  nodes in preorder, concatenated. ``feature`` is -1 at a leaf; ``split`` holds a node's float threshold
  (``z[feature] <= split`` goes left) or a leaf's value; the left child of a split is the next node, its
  right child is ``right[k]`` (the node's index within its tree; k counts the splits of all trees in
  order). ``u`` = mean over trees of the leaf values reached (float64);
* ``{"kind": "constant", "value": float}``;
* ``{"kind": "dense", "layers": [{"W": (n_in, n_out), "b": (n_out,), "activation": name}, ...]}``: a network
  kept as plain float arrays (one that was not pruned or weight-shared), run like a decoded one.

Every array model entry also holds ``n_in``, the number of inputs.
"""
import threading
from pathlib import Path

import numpy as np

# the one input validator of nnlite (numpy only), so that the runtime and Sequential refuse the same X alike
from nnlite._checks import check_network_X
# the byte layout has one reader, shared with nnlite.compress.fileformat (numpy + stdlib only, like this module)
from nnlite.compress._layout import (ENSEMBLE_KEY, FORMAT_NAME, MAGIC, VERSION, canonical_tables,  # noqa: F401
                                     committee_parts, file_crc32, parse_container, read_code_table,
                                     read_dense_codec, window_table)
# the input pipeline of a model file (section "pipeline" at the end): numpy-only like this module
from nnlite.conformal import DEFAULT_LEVEL, same_region, split_interval
from nnlite.domain import DomainProfile, diagnose, flags, looks_transposed, other_scale, raw_scale_summary

_BLOCK_ROWS = 4096
_LUT_MAX_BITS = 16
_ACTIVATIONS = ("ReLU", "Tanh", "Identity")
# the input pipeline of a model file (predict_samples)
MAX_MISSING_SHARE = 0.1      # fill_missing refuses inputs missing more than this share of the model's genes
CLASSES = ("resistant", "moderate", "sensitive")
ARRAY_MODEL_KEY = "model"


# ---------------------------------------------------------------------------------------------- Huffman
def read_code_lengths(buf):
    """Code lengths (n_symbols,) int64 of a Huffman table: varint n_symbols, uint8 w, lengths of w bits MSB
    first (see :mod:`nnlite.compress.huffman`; parsed by :func:`nnlite.compress._layout.read_code_table`)."""
    return read_code_table(buf)[0]


def huffman_decode(data, n, n_bits, lengths):
    """Decode ``n`` symbols from the MSB-first bit stream ``data`` (bytes) of ``n_bits`` significant bits,
    coded with the canonical code of ``lengths`` -> int64 (n,). Vectorized (see the module docstring).

    Raises ValueError when the stream runs past ``n_bits`` or holds a bit pattern that is no codeword.
    """
    n = int(n)
    n_bits = int(n_bits)
    buf = np.frombuffer(bytes(data), dtype=np.uint8)
    if n < 0:
        raise ValueError("number of symbols to decode must be >= 0")
    if n_bits > 8 * buf.size or n_bits < 0:
        raise ValueError(f"Huffman stream truncated: {n_bits} bits announced, {8 * buf.size} present")
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    lengths = np.asarray(lengths, dtype=np.int64)
    L, first, count, offset, symbols = canonical_tables(lengths)
    if symbols.size == 0:
        raise ValueError("cannot decode symbols with an empty Huffman code")
    # the L-bit window at every bit position p < n_bits: the 40-bit big-endian word of the 5 bytes from byte
    # p >> 3 (7 + 32 <= 40 bits), shifted by p & 7; computed per byte, then for the 8 bit offsets at once
    m = (n_bits + 7) // 8
    pad = np.zeros(m + 4, dtype=np.int64)
    pad[:m] = buf[:m]
    word = pad[:m] << 32 | pad[1:m + 1] << 24 | pad[2:m + 2] << 16 | pad[3:m + 3] << 8 | pad[4:m + 4]
    window = ((word[:, None] >> (40 - L - np.arange(8))) & ((1 << L) - 1)).ravel()[:n_bits]
    if L <= _LUT_MAX_BITS:
        # lookup table over all L-bit windows: canonical codes left-justified to L bits tile [0, 2**L) in code
        # order, code c of length l covering 2**(L - l) entries; the rest (incomplete code) has length 0
        lut_len, lut_sym = window_table(lengths, symbols, L)
        length = lut_len[window]
        valid = length > 0
    else:
        # canonical decoding with the limit table: length = 1 + #{l : lim[l] <= window}
        ls = np.arange(1, L + 1)
        lim = (first[1:] + count[1:]) << (L - ls)
        length = 1 + np.searchsorted(lim, window, side="right")
        valid = length <= L
    # next codeword start; a non-codeword or a run past n_bits leads to the error sink n_bits + 1,
    # the clean end of the stream is the sink n_bits; both sinks map to themselves
    nxt = np.arange(n_bits, dtype=np.int64) + length
    jump = np.where(valid & (nxt <= n_bits), nxt, n_bits + 1)
    jump = np.concatenate([jump, [n_bits, n_bits + 1]])
    starts = np.zeros(1, dtype=np.int64)
    while starts.size < n:  # pointer doubling: starts of codewords 0..2^k-1, then 2^k..2^(k+1)-1
        starts = np.concatenate([starts, jump[starts]])
        jump = jump[jump]
    starts = starts[:n]
    bad = np.flatnonzero(starts >= n_bits)
    if bad.size:
        j = int(bad[0])
        if j > 0 and starts[j] == n_bits + 1 and not valid[starts[j - 1]]:
            raise ValueError("corrupt Huffman stream: bit pattern is not a codeword")
        raise ValueError(f"Huffman stream truncated: {n} symbols need more than {n_bits} bits")
    last = int(starts[-1])
    if not valid[last]:
        raise ValueError("corrupt Huffman stream: bit pattern is not a codeword")
    if last + length[last] > n_bits:
        raise ValueError(f"Huffman stream truncated: {n} symbols need more than {n_bits} bits")
    w = window[starts]
    if L <= _LUT_MAX_BITS:
        return lut_sym[w]
    ln = length[starts]
    return symbols[offset[ln] + (w >> (L - ln)) - first[ln]].astype(np.int64)


# ---------------------------------------------------------------------------------------------- layers
def decode_gaps(codes, index_bits):
    """Flat positions (n,) of the real entries of gap codes (m,) with ``index_bits`` bits (module doc, step 2)."""
    M = (1 << int(index_bits)) - 1
    codes = np.asarray(codes, dtype=np.int64)
    if codes.size and (codes.min() < 0 or codes.max() > M):
        raise ValueError(f"gap codes must lie in [0, {M}]")
    steps = np.where(codes == M, M, codes + 1)
    return (np.cumsum(steps) - 1)[codes != M]


def _decode_stream(table, stream, n, n_bits):
    return huffman_decode(stream, n, n_bits, read_code_lengths(table))


def decode_dense(entry, body, dtype):
    """W (n_in, n_out) and b (n_out,) of one Dense header entry (module doc, steps 1-3)."""
    n_in, n_out = int(entry["n_in"]), int(entry["n_out"])
    codebook, bias, clusters, gaps = read_dense_codec(entry, body, dtype, _decode_stream)
    positions = decode_gaps(gaps, entry["codec"]["index_bits"])
    if positions.size != clusters.size or (positions.size and positions[-1] >= n_in * n_out):
        raise ValueError("corrupt compressed model: gap codes do not match the layer shape")
    W = np.zeros(n_in * n_out, dtype=dtype)
    W[positions] = codebook[clusters]
    return W.reshape(n_in, n_out), bias


class Network:
    """A decoded feed-forward network.

    Parameters
    ----------
    steps : list of (W, b, activation)
        W of shape (n_in, n_out), b of shape (n_out,), activation name (``'ReLU'``, ``'Tanh'`` or ``'Identity'``).
    dtype : numpy dtype
        Float type of the model.
    layers : list
        The layer descriptions of the file header.
    """

    def __init__(self, steps, dtype, layers):
        self.steps = steps
        self.dtype = np.dtype(dtype)
        self.layers = layers
        self.n_in = steps[0][0].shape[0]
        self.n_out = steps[-1][0].shape[1]
        self._local = threading.local()

    @classmethod
    def from_header(cls, header, body):
        dtype = np.dtype(header["dtype"])
        if dtype not in (np.float32, np.float64):
            raise ValueError(f"corrupt compressed model: unsupported float type {dtype}")
        steps = []
        for i, entry in enumerate(header["layers"]):
            try:
                kind = entry["type"]
                if kind == "Dense":
                    W, b = decode_dense(entry, body, dtype)
                    steps.append([W, b, "Identity"])
                elif kind in _ACTIVATIONS:
                    if not steps or steps[-1][2] != "Identity":
                        raise ValueError(f"{kind} layer without a Dense layer before it")
                    steps[-1][2] = kind
                elif kind != "Dropout":
                    raise ValueError(f"unknown layer type {kind!r}")
            except (KeyError, TypeError, IndexError) as exc:
                raise ValueError(f"corrupt compressed model (layer {i}: {exc!r})") from None
            except ValueError as exc:
                raise ValueError(f"layer {i}: {exc}") from None
        if not steps:
            raise ValueError("compressed model has no Dense layer")
        for k in range(1, len(steps)):
            if steps[k][0].shape[0] != steps[k - 1][0].shape[1]:
                raise ValueError(f"corrupt compressed model: Dense layer {k} takes {steps[k][0].shape[0]} inputs "
                                 f"but the previous one gives {steps[k - 1][0].shape[1]}")
        return cls([tuple(s) for s in steps], dtype, header["layers"])

    def _buffers(self, n):
        """Per-thread output buffers of every step for n rows (reused across calls, as the engine does)."""
        local = self._local
        if getattr(local, "cap", 0) < n:
            local.cap = n
            local.bufs = [np.empty((n, W.shape[1]), dtype=self.dtype) for W, _, _ in self.steps]
        return [buf[:n] for buf in local.bufs]

    def _forward(self, x):
        for (W, b, act), z in zip(self.steps, self._buffers(x.shape[0])):
            np.dot(x, W, out=z)
            z += b
            if act == "ReLU":
                np.maximum(z, 0, out=z)
            elif act == "Tanh":
                np.tanh(z, out=z)
            x = z
        return x

    def predict(self, X):
        """Network output, dropout off, in the model's float type (what ``Sequential.predict`` returns).

        Parameters
        ----------
        X : array-like of shape (n, n_in)

        Returns
        -------
        ndarray of shape (n,) for one output, else (n, n_out)
        """
        X = check_network_X(X, self.n_in, self.dtype)
        out = np.empty((X.shape[0], self.n_out), dtype=self.dtype)
        for s in range(0, X.shape[0], _BLOCK_ROWS):
            out[s:s + _BLOCK_ROWS] = self._forward(X[s:s + _BLOCK_ROWS])
        return out[:, 0] if self.n_out == 1 else out

    def describe(self):
        """One line per Dense step: shape, activation, nonzero weights.

        Returns
        -------
        list of str
        """
        return [f"Dense {W.shape[0]} -> {W.shape[1]}, {act}, {int(np.count_nonzero(W))} nonzero weights"
                for W, _, act in self.steps]


# ---------------------------------------------------------------------------------------------- model
class RuntimeModel:
    """A loaded ``.nnz`` file.

    ``predict(X)``: the **network output** for network inputs X: for a single network, exactly what
    ``Sequential.predict`` returns ((n,) in the model's float type); for an ensemble, the float64 mean of the
    members' outputs, (n,). For a model file that describes its input pipeline (a ccle drug model), that is
    the standardized target of scaled inputs: :meth:`predict_samples` takes raw values and returns the
    response on its own scale, with classes, intervals and domain flags.

    Parameters
    ----------
    networks : list of Network
        Member 0 is the file's own network, then the ensemble members.
    header : dict
        The file header; ``metadata`` (the caller's dict, without the packed members) is taken from it.
    crc32 : int
        Checksum of the file.
    n_bytes : int
        Size of the file.
    """

    def __init__(self, networks, header, crc32, n_bytes):
        self.networks = networks
        self.header = header
        self.metadata = {k: v for k, v in header.get("metadata", {}).items() if k != ENSEMBLE_KEY}
        self.crc32 = crc32
        self.n_bytes = n_bytes
        self.n_in = networks[0].n_in

    def predict(self, X):
        if len(self.networks) == 1:
            return self.networks[0].predict(X)
        return np.mean(self.predict_members(X), axis=0)

    def predict_samples(self, X, genes=None, samples=None, level=DEFAULT_LEVEL, fill_missing=False,
                        max_missing=MAX_MISSING_SHARE, allow_out_of_domain=False):
        """The whole pipeline of the file's metadata on raw values (see :func:`predict_samples`).

        Parameters
        ----------
        X : array-like of shape (n, g) or pandas DataFrame
            Raw values of n samples.
        genes : sequence of str, optional
            The g column names of ``X`` (None: the model's gene order).
        samples : sequence, optional
            The sample names (default: the DataFrame's index, else row numbers).
        level : float
            Nominal coverage of the prediction intervals.
        fill_missing, max_missing, allow_out_of_domain
            As in :func:`predict_samples`.

        Returns
        -------
        SamplePredictions
        """
        return predict_samples(self, X, genes=genes, samples=samples, level=level, fill_missing=fill_missing,
                               max_missing=max_missing, allow_out_of_domain=allow_out_of_domain)

    def predict_members(self, X):
        """Each member network's output (one-output networks).

        Parameters
        ----------
        X : array-like of shape (n, n_in)

        Returns
        -------
        ndarray of shape (k, n), float64
        """
        return np.stack([np.asarray(net.predict(X), dtype=np.float64).ravel() for net in self.networks])


# ---------------------------------------------------------------------------------------------- array models
class LinearModel:
    """``u = z @ coef + intercept`` (float64) on inputs z (n, p).

    Parameters
    ----------
    coef : array-like of shape (p,)
    intercept : float
    """

    def __init__(self, coef, intercept):
        self.coef = np.asarray(coef, dtype=np.float64).ravel()
        self.intercept = float(intercept)
        self.n_in = self.coef.size

    def predict(self, X):
        X = check_network_X(X, self.n_in, np.float64)
        return X @ self.coef + self.intercept


class ForestModel:
    """Regression trees from preorder node arrays (module docstring); after construction ``feature``,
    ``threshold``, ``left``, ``right``, ``value`` (T, K) are the padded per-tree tables.

    Parameters
    ----------
    n_nodes : array-like of shape (T,)
        Nodes per tree.
    feature, split : array-like of shape (sum(n_nodes),)
        Per node, in preorder: the input it splits on (-1 at a leaf) and its threshold or leaf value.
    right : array-like of shape (number of splits,)
        The right child of each split (index within its tree).
    n_in : int
        Number of inputs.
    """

    def __init__(self, n_nodes, feature, split, right, n_in):
        n_nodes = np.asarray(n_nodes, dtype=np.int64)
        feature = np.asarray(feature, dtype=np.int64)
        split = np.asarray(split, dtype=np.float64)
        right = np.asarray(right, dtype=np.int64)
        if n_nodes.ndim != 1 or n_nodes.size == 0 or n_nodes.min() < 1 or n_nodes.sum() != feature.size \
                or split.size != feature.size or right.size != int(np.sum(feature >= 0)):
            raise ValueError("corrupt forest model: node arrays of inconsistent sizes")
        T, K = n_nodes.size, int(n_nodes.max())
        self.feature = np.full((T, K), -1, dtype=np.int64)
        self.threshold = np.zeros((T, K))
        self.value = np.zeros((T, K))
        self.left = np.zeros((T, K), dtype=np.int64)
        self.right = np.zeros((T, K), dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(n_nodes)[:-1]])
        k = 0
        for t, (s, m) in enumerate(zip(starts, n_nodes)):
            f = feature[s:s + m]
            inner = f >= 0
            n_inner = int(inner.sum())
            self.feature[t, :m] = f
            self.threshold[t, :m][inner] = split[s:s + m][inner]
            self.value[t, :m][~inner] = split[s:s + m][~inner]
            nodes = np.flatnonzero(inner)
            self.left[t, nodes] = nodes + 1
            self.right[t, nodes] = right[k:k + n_inner]
            k += n_inner
            if np.any(self.right[t, nodes] <= nodes + 1) or np.any(self.right[t, nodes] >= m) or \
                    (m and f[-1] >= 0):
                raise ValueError("corrupt forest model: a child outside its tree")
        if self.feature.max() >= int(n_in):
            raise ValueError("corrupt forest model: a split on an input the model does not have")
        self.n_in = int(n_in)

    def predict(self, X):
        X = check_network_X(X, self.n_in, np.float32)
        rows = np.arange(X.shape[0])
        acc = np.zeros(X.shape[0])
        for t in range(self.feature.shape[0]):
            node = np.zeros(X.shape[0], dtype=np.int64)
            while True:
                f = self.feature[t, node]
                inner = f >= 0
                if not inner.any():
                    break
                at = node[inner]
                go_left = X[rows[inner], f[inner]] <= self.threshold[t, at]
                node[inner] = np.where(go_left, self.left[t, at], self.right[t, at])
            acc += self.value[t, node]
        return acc / self.feature.shape[0]


class ConstantModel:
    """``u = value`` for every row.

    Parameters
    ----------
    value : float
    n_in : int, default 0
        Number of inputs (read by nothing).
    """

    def __init__(self, value, n_in=0):
        self.value = float(value)
        self.n_in = int(n_in)

    def predict(self, X):
        return np.full(np.asarray(X).shape[0], self.value)


def _dense_network(layers):
    steps = []
    for layer in layers:
        W = np.asarray(layer["W"])
        if W.dtype not in (np.float32, np.float64) or W.ndim != 2:
            raise ValueError("corrupt dense model: weights must be a 2-D float array")
        if layer.get("activation", "Identity") not in _ACTIVATIONS:
            raise ValueError(f"corrupt dense model: unknown activation {layer.get('activation')!r}")
        steps.append((W, np.asarray(layer["b"], dtype=W.dtype).ravel(), layer.get("activation", "Identity")))
    if not steps:
        raise ValueError("corrupt dense model: no layer")
    for k, (W, b, _) in enumerate(steps):
        if b.size != W.shape[1] or (k and W.shape[0] != steps[k - 1][0].shape[1]):
            raise ValueError(f"corrupt dense model: layer {k} does not fit its bias or the layer before it")
    return Network(steps, steps[0][0].dtype, [])


def array_model(state, n_in):
    """The model of ``metadata["model"]`` (module docstring) taking ``n_in`` inputs -> LinearModel,
    ForestModel, ConstantModel or Network. ValueError for an unknown kind or inconsistent arrays."""
    try:
        kind = state["kind"]
        if kind == "linear":
            model = LinearModel(state["coef"], state["intercept"])
        elif kind == "forest":
            model = ForestModel(state["n_nodes"], state["feature"], state["split"], state["right"], n_in)
        elif kind == "constant":
            model = ConstantModel(state["value"], n_in)
        elif kind == "dense":
            model = _dense_network(state["layers"])
        else:
            raise ValueError(f"unknown model kind {kind!r}")
    except (KeyError, TypeError) as exc:
        raise ValueError(f"corrupt {state.get('kind', '') if isinstance(state, dict) else ''} model ({exc!r})") \
            from None
    if model.n_in != int(n_in):
        raise ValueError(f"the model takes {model.n_in} inputs, not {n_in}")
    return model


class ArrayRuntimeModel:
    """A loaded ``.nnz`` file without networks: ``model`` (:func:`array_model` of ``metadata["model"]``, whose
    ``n_in`` entry gives the number of inputs), ``predict(X)`` -> float64 (n,); ``networks`` is empty.

    Parameters
    ----------
    header : dict
        The parsed file header (its metadata holds the model).
    crc32, n_bytes : int
        Checksum and size of the file.
    source : str
        Name used in error messages.
    """

    def __init__(self, header, crc32, n_bytes, source="<bytes>"):
        self.header = header
        self.metadata = dict(header.get("metadata", {}))
        state = self.metadata.get(ARRAY_MODEL_KEY)
        if not isinstance(state, dict):
            raise ValueError(f"{source}: the file holds neither networks nor metadata[{ARRAY_MODEL_KEY!r}]")
        try:
            self.model = array_model(state, state.get("n_in", 0))
        except ValueError as exc:
            raise ValueError(f"{source}: {exc}") from None
        self.networks = []
        self.crc32 = crc32
        self.n_bytes = n_bytes
        self.n_in = self.model.n_in

    def predict(self, X):
        return self.model.predict(X)


def loads(data, source="<bytes>"):
    """Decode ``.nnz`` bytes.

    Parameters
    ----------
    data : bytes
    source : str, default '<bytes>'
        Name used in error messages.

    Returns
    -------
    RuntimeModel

    Raises
    ------
    ValueError
        When the bytes are corrupt (bad magic, version, truncation or checksum), naming ``source``.
    """
    header, body = parse_container(data, source)
    parts = committee_parts(header, body, source)
    if not parts:
        return ArrayRuntimeModel(header, file_crc32(data), len(data), source)
    networks = [_network(h, b, where) for h, b, where in parts]
    if any(net.n_in != networks[0].n_in for net in networks):
        raise ValueError(f"{source}: ensemble members take different numbers of inputs")
    return RuntimeModel(networks, header, file_crc32(data), len(data))


def _network(header, body, source):
    try:
        return Network.from_header(header, body)
    except ValueError as exc:
        raise ValueError(f"{source}: {exc}") from None
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{source}: corrupt compressed model ({exc!r})") from None


def load(path):
    """Read and decode a ``.nnz`` file with numpy and the standard library alone.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    RuntimeModel

    Raises
    ------
    ValueError
        When the file is corrupt, naming it.

    Examples
    --------
    >>> import io, tempfile, os
    >>> import numpy as np
    >>> from nnlite import Dense, ReLU, Sequential, save_compressed
    >>> import nnlite.runtime
    >>> net = Sequential([Dense(3, 4), ReLU(), Dense(4, 1)], seed=0)
    >>> path = os.path.join(tempfile.mkdtemp(), "net.nnz")
    >>> n_bytes = save_compressed(net, path, metadata={"genes": ["A", "B", "C"]})
    >>> model = nnlite.runtime.load(path)
    >>> model.metadata["genes"]
    ['A', 'B', 'C']
    >>> X = np.ones((2, 3), dtype=np.float32)
    >>> bool(np.array_equal(model.predict(X), net.predict(X)))
    True
    """
    return loads(Path(path).read_bytes(), source=str(path))


# ---------------------------------------------------------------------------------------------- pipeline


class SamplePredictions:
    """What :func:`predict_samples` returns; every column is an array of n values, in sample order.

    ``samples`` (names or row numbers), ``response`` (float64, on the response's own scale), ``lower`` /
    ``upper`` (the ``level`` prediction interval, NaN when the file stores no residuals), ``call_paper`` (the
    paper rule: IQR of the observed training responses), ``call_calibrated`` (IQR of the training lines'
    out-of-fold predictions; "" when the file has none), ``call_confident`` (the whole interval lies in one
    class region of the paper rule, so the observed class is the called one at the interval's level),
    ``in_domain``, ``domain_outside_share``, ``domain_distance`` (:mod:`nnlite.domain`; in_domain True and the
    scores NaN when the file stores no domain), and the scalars ``level``, ``diagnosis`` (the likely cause
    when most samples are out of domain, else None), ``filled_genes`` (list).
    """

    COLUMNS = ("samples", "response", "lower", "upper", "call_paper", "call_calibrated", "call_confident",
               "in_domain", "domain_outside_share", "domain_distance")

    def __init__(self, **fields):
        for k, v in fields.items():
            setattr(self, k, v)

    def as_dict(self):
        """``{column: array}`` in :attr:`COLUMNS` order (``pandas.DataFrame(result.as_dict())`` is a table)."""
        return {k: getattr(self, k) for k in self.COLUMNS}


def _codes(values, low, high, direction, strict):
    """Class codes 0 resistant / 1 moderate / 2 sensitive of a threshold rule (ccle.evaluation.thresholds's rules: the
    paper rule closed at its thresholds, resistant assigned last; the calibrated rule strict)."""
    v = np.asarray(values, dtype=np.float64)
    out = np.ones(v.shape, dtype=np.int8)
    if strict:
        above, below = v > high, v < low
        out[below] = 0 if direction == 1 else 2
        out[above] = 2 if direction == 1 else 0
    elif direction == 1:
        out[v >= high] = 2
        out[v <= low] = 0
    else:
        out[v <= low] = 2
        out[v >= high] = 0
    return out


def _rule(meta, key):
    t = meta[key]
    direction = int(t.get("direction", meta.get("direction", 1)))
    return float(t["low"]), float(t["high"]), direction


def pipeline_inputs(meta, values, genes, fill_missing=False, max_missing=MAX_MISSING_SHARE):
    """Raw ``values`` (n, len(genes)) -> ``(X, Z, filled_genes)``: X (n, p) float32 the model's genes after
    the file's expression transform (``log2(x + 1)`` when ``meta["expression_transform"]["log2p1"]``), NaN
    where a gene or value is missing; Z (n, p) float32 the network inputs (holes filled with the training
    minimum, min-max scaled and clipped as at training). Missing genes -> ValueError unless ``fill_missing``,
    and above ``max_missing`` (share of the model's genes) even then; negative values for a log2 model ->
    ValueError."""
    need = list(meta["genes"])
    position = {str(g): j for j, g in enumerate(genes)}
    missing = [g for g in need if g not in position]
    share = len(missing) / len(need)
    if missing and (not fill_missing or share > max_missing):
        what = f"{len(missing)} of the {len(need)} genes of the model are missing ({100 * share:.1f} %)"
        if fill_missing:
            raise ValueError(f"{what}: more than the {100 * max_missing:.0f} % that filling allows")
        raise ValueError(f"{what}: {', '.join(missing[:10])}{', ...' if len(missing) > 10 else ''}")
    values = np.asarray(values)
    idx = np.array([position.get(g, -1) for g in need], dtype=np.intp)
    X = np.full((values.shape[0], len(need)), np.nan, dtype=np.float32)
    X[:, idx >= 0] = values[:, idx[idx >= 0]]
    if not fill_missing and not np.isfinite(X).all():
        raise ValueError(f"{int((~np.isfinite(X)).sum())} missing or non-finite values in genes the model needs")
    if meta["expression_transform"].get("log2p1"):
        finite = X[np.isfinite(X)]
        if finite.size and finite.min() < 0:
            raise ValueError("negative expression values, but the model was trained on RPKM/TPM-like values put "
                             "on the log2(x + 1) scale")
        X = np.log2(X + np.float32(1))
    scaler = meta["scaler"]
    lo = np.asarray(scaler["data_min"], dtype=np.float64)
    rng = np.asarray(scaler["data_max"], dtype=np.float64) - lo
    rng[rng == 0.0] = 1.0
    scale = 1.0 / rng
    filled = np.where(np.isfinite(X), X, lo.astype(np.float32)[None, :]).astype(np.float32)
    Z = filled * scale.astype(np.float32) + (-lo * scale).astype(np.float32)
    if scaler.get("clip", True):
        np.clip(Z, 0.0, 1.0, out=Z)
    return X, Z, missing


def trust_columns(meta, X, response, level=DEFAULT_LEVEL, raw=None):
    """The columns that say how far to trust each prediction, from a model file's metadata: ``lower``,
    ``upper`` (split conformal on the stored OOF residuals, :func:`nnlite.conformal.split_interval`),
    ``call_confident`` (:func:`nnlite.conformal.same_region` of the paper rule), ``in_domain`` (False for
    every row of a file whose raw values are on another scale, :func:`nnlite.domain.other_scale`),
    ``domain_outside_share``, ``domain_distance`` (:class:`nnlite.domain.DomainProfile` of ``X``, the model's
    genes after the transform, NaN where missing) -> ``(columns dict, diagnosis or None)``. ``raw``: the raw
    input matrix, whose scale names the cause in the diagnosis."""
    response = np.asarray(response, dtype=np.float64).ravel()
    n = response.size
    cols = {"lower": np.full(n, np.nan), "upper": np.full(n, np.nan), "call_confident": np.zeros(n, dtype=bool)}
    if meta.get("intervals"):
        cols["lower"], cols["upper"] = split_interval(response, meta["intervals"]["abs_residuals"], level)
        low, high, direction = _rule(meta, "thresholds")
        cols["call_confident"] = same_region(cols["lower"], cols["upper"],
                                             lambda v: _codes(v, low, high, direction, strict=False))
    diagnosis = None
    if meta.get("domain"):
        profile = DomainProfile.from_dict(meta["domain"])
        share, distance = profile.score(X)
        scale = None if raw is None else raw_scale_summary(raw)
        # a file on another scale: no row of it is in domain, even where a transform squeezed it into range
        in_domain = flags(share, distance) & (not other_scale(scale, profile.raw_scale_))
        cols.update({"in_domain": in_domain, "domain_outside_share": share, "domain_distance": distance})
        diagnosis = diagnose(in_domain, scale, profile.raw_scale_)
    else:
        cols.update({"in_domain": np.ones(n, dtype=bool), "domain_outside_share": np.full(n, np.nan),
                     "domain_distance": np.full(n, np.nan)})
    return cols, diagnosis


def predict_samples(model, X, genes=None, samples=None, level=DEFAULT_LEVEL, fill_missing=False,
                    max_missing=MAX_MISSING_SHARE, allow_out_of_domain=False):
    """Responses, classes, prediction intervals and domain flags of raw samples with a model file that
    describes its input pipeline (metadata ``genes``, ``expression_transform``, ``scaler``, ``target``,
    ``thresholds``; optional ``calibrated_thresholds``, ``intervals``, ``domain``, as ccle's ``train`` writes).

    ``X``: raw values (n, g) with ``genes`` (g names; matched by name, order and extra genes do not matter),
    or (n, len(metadata["genes"])) in the model's gene order when ``genes`` is None, or a pandas DataFrame
    (columns = genes, index = samples; pandas itself is not needed otherwise). Steps: the transform and the
    scaler of :func:`pipeline_inputs`, the committee mean of the networks times ``target.scale`` plus
    ``target.mean``, the calls, :func:`trust_columns`. ``level``: the intervals' nominal coverage.

    Refused (ValueError): a matrix whose row names are the model's genes (transposed); missing genes (unless
    ``fill_missing``, up to ``max_missing``); a file where most samples are out of domain, naming the likely
    cause, unless ``allow_out_of_domain``. Returns :class:`SamplePredictions`.

    Example, with ``model_path`` a file written by ``ccle train`` and ``values`` (samples x genes) raw
    expression whose columns are named by ``genes``:

    >>> import nnlite.runtime as rt
    >>> res = rt.load(model_path).predict_samples(values, genes=genes, level=0.9)
    >>> bool(((res.lower <= res.response) & (res.response <= res.upper)).all())
    True
    >>> sorted(set(res.call_paper) | set(res.call_calibrated)) <= ["moderate", "resistant", "sensitive"]
    True
    >>> table = res.as_dict()   # columns; pandas.DataFrame(table) when pandas is at hand
    """
    meta = model.metadata
    if not all(k in meta for k in ("genes", "expression_transform", "scaler", "target", "thresholds")):
        raise ValueError("this model file does not describe its input pipeline (genes, scaler, target): use "
                         "predict() on network inputs")
    need = list(meta["genes"])
    if hasattr(X, "columns") and hasattr(X, "index"):          # a pandas DataFrame, without importing pandas
        genes = [str(c) for c in X.columns] if genes is None else genes
        samples = [str(i) for i in X.index] if samples is None else samples
        X = X.to_numpy()
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (samples x genes), got shape {X.shape}")
    if genes is None:
        if X.shape[1] != len(need):
            raise ValueError(f"X has {X.shape[1]} columns; without gene names it must have the model's "
                             f"{len(need)} genes, in the order of metadata['genes']")
        genes = need
    if len(genes) != X.shape[1]:
        raise ValueError(f"{len(genes)} gene names for {X.shape[1]} columns")
    samples = list(range(X.shape[0])) if samples is None else list(samples)
    if looks_transposed(samples, genes, need):
        raise ValueError("the matrix looks transposed: its rows are named after the model's genes (give one row "
                         "per sample, one column per gene)")
    Xt, Z, missing = pipeline_inputs(meta, X.astype(np.float64, copy=False), genes, fill_missing, max_missing)
    out = np.mean(model.predict_members(Z), axis=0)
    response = out * float(meta["target"]["scale"]) + float(meta["target"]["mean"])
    cols, diagnosis = trust_columns(meta, Xt, response, level, raw=X)
    if diagnosis and not allow_out_of_domain:
        raise ValueError(diagnosis)
    low, high, direction = _rule(meta, "thresholds")
    names = np.asarray(CLASSES)
    call_paper = names[_codes(response, low, high, direction, strict=False)]
    if meta.get("calibrated_thresholds"):
        low, high, direction = _rule(meta, "calibrated_thresholds")
        call_cal = names[_codes(response, low, high, direction, strict=True)]
    else:
        call_cal = np.full(response.size, "", dtype="<U9")
    return SamplePredictions(samples=np.asarray(samples, dtype=object), response=response, call_paper=call_paper,
                             call_calibrated=call_cal, level=float(level), diagnosis=diagnosis,
                             filled_genes=missing, **cols)
