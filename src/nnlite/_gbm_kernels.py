"""Numba kernels of least-squares gradient boosting on binned features (``nnlite.gbm``).
Long on purpose: the best-first grower, its two histogram routes and the partition step are one algorithm.

The features are binned once per fit by the random forest's quantile binning (``_hist_kernels.bin_codes``:
uint8 codes (p, n), at most 256 bins per feature). One tree is grown per boosting iteration on the gradients
g_i = F(x_i) - y_i of the squared error (hessians are 1, so a node's hessian sum H is its sample count n).
A split of a node into L and R is scored by the gain

    G_L**2 / (n_L + lambda) + G_R**2 / (n_R + lambda) - G**2 / (n + lambda),      G_A = sum_{i in A} g_i,

(the decrease of the second-order approximation of the loss, up to a factor 1/2; Chen & Guestrin 2016), over the
candidates "code <= b" at every bin b of every feature whose children keep ``min_samples_leaf`` samples. The
node with the largest gain among the current leaves is split next (best first: leaf-wise growth, as LightGBM and
scikit-learn's ``HistGradientBoostingRegressor``), until ``max_leaves`` leaves, or no leaf has a positive gain.
A leaf's value is -learning_rate * G / (n + lambda).

A node's histogram (per feature and bin: sum of g, count) is found by one of two routes:

* built per feature in a 256-entry scratch histogram and scanned at once (no storage): cost ~ p * n_node. Small
  nodes (n_node <= ``_DENSE_SCAN``) walk a 256-bit mask of the touched bins instead of all bins, as the forest's
  level-wise search does. This is the whole story when n is small (p >> n: every node has fewer samples than
  bins, so a histogram subtraction would cost more than building the histogram).
* kept in a slot of the histogram pool (all features, ``offsets`` (p + 1,) into the flat bins of size sum
  n_bins): a node of at least ``retain_min`` samples keeps its histogram; when it is split, the smaller child's
  histogram is built and the larger child's is the parent's minus the smaller's (the subtraction trick, Ke et
  al. 2017), in the parent's slot. Subtracting costs ~ sum n_bins, building ~ p * n_child (sample by sample
  over a row-major copy of the codes: a child's samples are scattered, and one sample's codes share a line).

Scanning a feature's bins in ascending order, a candidate must beat the best so far strictly, so among bins
inducing the same partition (empty bins in the node) the first one wins, and among features the first in index
order: scikit-learn's order. The threshold stored for a split at bin b is ``edges[f, b]``, the midpoint between
the largest training value in bin b and the smallest in bin b + 1 of the whole training set (``bin_edges``).
"""
import numpy as np
from numba import njit
from numba.cpython.unsafe.numbers import trailing_zeros

from nnlite import _numba_cache  # noqa: F401  (before the first @njit: where the kernels are cached)
from nnlite._hist_kernels import MAX_BINS, partition_rows
from nnlite._tree_kernels import leaf_of

# nodes above this size scan all bins of a scratch histogram, smaller ones walk the bit mask of touched bins
_DENSE_SCAN = 160
# a split must beat the node's own term G**2 / (n + lambda) by this relative margin: with constant gradients
# every split has zero gain, which rounding would otherwise turn into a tiny positive one
_MIN_REL_GAIN = 1e-12
# rows per block when summing trees' leaf values (a tree's arrays stay in cache across the block)
_BLOCK = 64


@njit(cache=True)
def bin_edges(XT, codes, n_bins, edges):
    """Fill ``edges`` (p, MAX_BINS) float64: edges[f, b] = midpoint between the largest value of XT[f] (float32)
    in bin b and the smallest in bin b + 1 (the largest value itself when the midpoint rounds up to the next
    value); +inf for the last bin. Bins are consecutive and non-empty, so x <= edges[f, b] iff code <= b."""
    p, n = XT.shape
    hi = np.empty(MAX_BINS, dtype=np.float64)
    lo = np.empty(MAX_BINS, dtype=np.float64)
    for f in range(p):
        nb = n_bins[f]
        hi[:nb] = -np.inf
        lo[:nb] = np.inf
        row = XT[f]
        crow = codes[f]
        for i in range(n):
            b = crow[i]
            v = np.float64(row[i])
            if v > hi[b]:
                hi[b] = v
            if v < lo[b]:
                lo[b] = v
        for b in range(nb - 1):
            mid = 0.5 * (hi[b] + lo[b + 1])
            edges[f, b] = mid if mid < lo[b + 1] else hi[b]
        edges[f, nb - 1:] = np.inf


@njit(cache=True, inline="always")
def _consider(nl, gl, nn, G, lam, best):
    """(left-right score G_L**2 / (n_L + lambda) + G_R**2 / (n_R + lambda), improved?) of a candidate split,
    compared with ``best`` without a division."""
    a = nl + lam
    r = nn - nl + lam
    gr = G - gl
    lhs = gl * gl * r + gr * gr * a
    if lhs > best * a * r:
        return lhs / (a * r), True
    return best, False


@njit(cache=True)
def _scan_scratch(row, idx, og, s, nn, nb, G, lam, msl, h):
    """Histogram of the node's samples (positions s..s+nn-1 of ``idx``, gradients ``og``) on one code row in the
    scratch arrays, then its best split: (score, bin, left count); score -inf when none keeps min_samples_leaf
    samples on both sides. Leaves the scratch arrays zeroed."""
    best = -np.inf
    bbin = -1
    bnl = 0.0
    nl = 0.0
    gl = 0.0
    if nn > _DENSE_SCAN:
        two = np.uintp(2)
        for k in range(s, s + nn):
            u = two * np.uintp(row[idx[k]])
            h[u] += og[k]
            h[u + np.uintp(1)] += 1.0
        for b in range(nb - 1):
            gl += h[2 * b]
            nl += h[2 * b + 1]
            if nl >= msl:
                if nn - nl < msl:
                    break
                best, better = _consider(nl, gl, nn, G, lam, best)
                if better:
                    bbin = b
                    bnl = nl
        h[:2 * nb] = 0.0
    else:
        # the 256-bit mask of touched bins in four registers
        one = np.uint64(1)
        m0 = np.uint64(0)
        m1 = np.uint64(0)
        m2 = np.uint64(0)
        m3 = np.uint64(0)
        for k in range(s, s + nn):
            b = np.int64(row[idx[k]])
            h[2 * b] += og[k]
            h[2 * b + 1] += 1.0
            bit = one << np.uint64(b & 63)
            q = b >> 6
            m0 |= bit * np.uint64(q == 0)
            m1 |= bit * np.uint64(q == 1)
            m2 |= bit * np.uint64(q == 2)
            m3 |= bit * np.uint64(q == 3)
        for q in range(MAX_BINS // 64):
            word = m0 if q == 0 else (m1 if q == 1 else (m2 if q == 2 else m3))
            while word != np.uint64(0):
                b = q * 64 + np.int64(trailing_zeros(word))
                word &= word - one
                gl += h[2 * b]
                nl += h[2 * b + 1]
                h[2 * b] = 0.0
                h[2 * b + 1] = 0.0
                if nl >= msl and nn - nl >= msl:
                    best, better = _consider(nl, gl, nn, G, lam, best)
                    if better:
                        bbin = b
                        bnl = nl
    return best, bbin, np.int64(bnl)


@njit(cache=True)
def _best_split_scratch(codes, n_bins, idx, og, s, nn, G, lam, msl, h):
    """Best split of a node over every feature, histograms built in scratch: (score, feature, bin, left count)."""
    p = codes.shape[0]
    best = -np.inf
    bf = -1
    bbin = -1
    bnl = 0
    for f in range(p):
        if n_bins[f] < 2:
            continue
        score, b, nl = _scan_scratch(codes[f], idx, og, s, nn, n_bins[f], G, lam, msl, h)
        if score > best:
            best = score
            bf = f
            bbin = b
            bnl = nl
    return best, bf, bbin, bnl


@njit(cache=True)
def _build_pool(codes, codes_rows, offsets, idx, og, s, nn, hist, identity):
    """Histogram of every feature of the node's samples into one pool slot ``hist`` (2 B,): (gradient sum,
    count) pairs per bin, zeroed first. ``identity`` (the root: idx[s:s+nn] is s..s+nn-1): feature by feature
    over the code rows (p, n), read straight through. Otherwise sample by sample over ``codes_rows`` (n, p):
    a node's samples are scattered over the rows, and reading one sample's p codes from one cache line beat
    gathering them from p code rows (measured 1.7 vs 2.9 ns per update at n = 100,000, p = 20)."""
    hist[:] = 0.0
    p = codes.shape[0]
    two = np.uintp(2)
    one = np.uintp(1)
    # unsigned bin indices: Numba then skips the negative-index wraparound on every update
    if identity:
        for f in range(p):
            row = codes[f]
            h = hist[2 * offsets[f]:2 * offsets[f + 1]]
            for k in range(s, s + nn):
                b = two * np.uintp(row[k])
                h[b] += og[k]
                h[b + one] += 1.0
    else:
        for k in range(s, s + nn):
            r = codes_rows[idx[k]]
            g = og[k]
            for f in range(p):
                b = two * (np.uintp(offsets[f]) + np.uintp(r[f]))
                hist[b] += g
                hist[b + one] += 1.0


@njit(cache=True)
def _best_split_pool(n_bins, offsets, nn, G, lam, msl, hist):
    """Best split of a node whose histogram is in a pool slot: (score, feature, bin, left count)."""
    p = n_bins.shape[0]
    best = -np.inf
    bf = -1
    bbin = -1
    bnl = 0.0
    for f in range(p):
        base = 2 * offsets[f]
        nl = 0.0
        gl = 0.0
        for b in range(n_bins[f] - 1):
            gl += hist[base + 2 * b]
            nl += hist[base + 2 * b + 1]
            if nl >= msl:
                if nn - nl < msl:
                    break
                best, better = _consider(nl, gl, nn, G, lam, best)
                if better:
                    bf = f
                    bbin = b
                    bnl = nl
    return best, bf, bbin, np.int64(bnl)


@njit(cache=True)
def grow_tree(codes, codes_rows, n_bins, offsets, edges, grad, max_leaves, max_depth, msl, lam, lr, retain_min,
              hist, idx, og, feature, threshold, left, right, value, importance, raw):
    """Grow one least-squares boosting tree best first (module docstring) and add its leaf values to ``raw``.

    codes (p, n) uint8 and the same codes_rows (n, p) (or (0, p) when nothing is retained), n_bins (p,),
    offsets (p + 1,) into the pool's flat bins, edges (p, MAX_BINS) from ``bin_edges``, grad (n,) float64;
    max_leaves (-1: no limit), max_depth (-1: none), msl = min_samples_leaf, lam = lambda, lr = learning rate;
    retain_min: nodes of at least this many samples keep their histogram in the pool ``hist`` (S, 2 B) float64
    of (gradient sum, count) pairs (S >= 2 slots, or none when nothing is retained); idx (n,) int64 and og (n,)
    float64 work arrays. Outputs: node arrays feature (-1 at leaves), threshold (go left when x <= threshold),
    left, right, value of length >= 2 * leaves - 1; importance (p,) += each split's gain; raw (n,) += the value
    of each sample's leaf. Returns the node count.
    """
    p, n = codes.shape
    K = feature.shape[0]
    n_slots = hist.shape[0]
    nd_s = np.empty(K, dtype=np.int64)
    nd_e = np.empty(K, dtype=np.int64)
    nd_depth = np.empty(K, dtype=np.int64)
    nd_G = np.empty(K, dtype=np.float64)
    nd_slot = np.full(K, -1, dtype=np.int64)
    # candidate leaves: best split found (feature >= 0) and positive gain
    c_gain = np.full(K, -np.inf, dtype=np.float64)
    c_f = np.full(K, -1, dtype=np.int64)
    c_bin = np.zeros(K, dtype=np.int64)
    c_nl = np.zeros(K, dtype=np.int64)
    free = np.empty(max(n_slots, 1), dtype=np.int64)
    n_free = n_slots
    for t in range(n_slots):
        free[t] = n_slots - 1 - t
    tmp = np.empty(n, dtype=np.int64)
    h = np.zeros(2 * MAX_BINS, dtype=np.float64)

    G = 0.0
    for i in range(n):
        idx[i] = i
        og[i] = grad[i]
        G += grad[i]
    nd_s[0] = 0
    nd_e[0] = n
    nd_depth[0] = 0
    nd_G[0] = G
    n_nodes = 1
    n_leaves = 1
    feature[0] = -1
    left[0] = -1
    right[0] = -1
    value[0] = -lr * G / (n + lam)
    threshold[0] = 0.0

    # the root
    if n >= 2 * msl and max_depth != 0 and max_leaves != 1:
        if n >= retain_min and n_free > 0:
            n_free -= 1
            slot = free[n_free]
            nd_slot[0] = slot
            _build_pool(codes, codes_rows, offsets, idx, og, 0, n, hist[slot], True)
            sc, bf, bb, bnl = _best_split_pool(n_bins, offsets, n, G, lam, msl, hist[slot])
        else:
            sc, bf, bb, bnl = _best_split_scratch(codes, n_bins, idx, og, 0, n, G, lam, msl, h)
        parent = G * G / (n + lam)
        if bf >= 0 and sc - parent > _MIN_REL_GAIN * parent:
            c_gain[0] = sc - parent
            c_f[0] = bf
            c_bin[0] = bb
            c_nl[0] = bnl

    while max_leaves < 0 or n_leaves < max_leaves:
        node = -1
        best = 0.0
        for c in range(n_nodes):
            if c_f[c] >= 0 and c_gain[c] > best:
                best = c_gain[c]
                node = c
        if node < 0:
            break
        f = c_f[node]
        b = c_bin[node]
        s = nd_s[node]
        e = nd_e[node]
        nl = c_nl[node]
        c_f[node] = -1
        feature[node] = f
        threshold[node] = edges[f, b]
        importance[f] += c_gain[node]
        row = codes[f]
        partition_rows(idx, tmp, row, s, e, b)

        depth = nd_depth[node] + 1
        kids = (n_nodes, n_nodes + 1)
        left[node] = n_nodes
        right[node] = n_nodes + 1
        n_nodes += 2
        n_leaves += 1
        GL = 0.0
        for k in range(s, s + nl):
            og[k] = grad[idx[k]]
            GL += og[k]
        GR = 0.0
        for k in range(s + nl, e):
            og[k] = grad[idx[k]]
            GR += og[k]
        for side in range(2):
            c = kids[side]
            nd_s[c] = s if side == 0 else s + nl
            nd_e[c] = s + nl if side == 0 else e
            nd_depth[c] = depth
            nd_G[c] = GL if side == 0 else GR
            cn = nd_e[c] - nd_s[c]
            feature[c] = -1
            left[c] = -1
            right[c] = -1
            threshold[c] = 0.0
            value[c] = -lr * nd_G[c] / (cn + lam)

        open_ = np.zeros(2, dtype=np.bool_)
        if max_leaves < 0 or n_leaves < max_leaves:
            for side in range(2):
                cn = nd_e[kids[side]] - nd_s[kids[side]]
                open_[side] = cn >= 2 * msl and (max_depth < 0 or depth < max_depth)
        pslot = nd_slot[node]
        nd_slot[node] = -1
        if pslot >= 0 and (open_[0] or open_[1]) and n_free > 0:
            # the smaller child's histogram is built, the larger one's is the parent's minus it
            small = 0 if nl <= (e - s) - nl else 1
            large = 1 - small
            n_free -= 1
            t = free[n_free]
            cs = kids[small]
            _build_pool(codes, codes_rows, offsets, idx, og, nd_s[cs], nd_e[cs] - nd_s[cs], hist[t], False)
            hist[pslot] -= hist[t]
            nd_slot[cs] = t
            nd_slot[kids[large]] = pslot
            for side in range(2):
                c = kids[side]
                sl = nd_slot[c]
                cn = nd_e[c] - nd_s[c]
                if open_[side]:
                    sc, bf, bb, bnl = _best_split_pool(n_bins, offsets, cn, nd_G[c], lam, msl, hist[sl])
                    parent = nd_G[c] * nd_G[c] / (cn + lam)
                    if bf >= 0 and sc - parent > _MIN_REL_GAIN * parent:
                        c_gain[c] = sc - parent
                        c_f[c] = bf
                        c_bin[c] = bb
                        c_nl[c] = bnl
                if not (open_[side] and cn >= retain_min and c_f[c] >= 0):
                    free[n_free] = sl
                    n_free += 1
                    nd_slot[c] = -1
        else:
            if pslot >= 0:
                free[n_free] = pslot
                n_free += 1
            for side in range(2):
                if not open_[side]:
                    continue
                c = kids[side]
                cs = nd_s[c]
                cn = nd_e[c] - cs
                if cn >= retain_min and n_free > 0:
                    n_free -= 1
                    sl = free[n_free]
                    nd_slot[c] = sl
                    _build_pool(codes, codes_rows, offsets, idx, og, cs, cn, hist[sl], False)
                    sc, bf, bb, bnl = _best_split_pool(n_bins, offsets, cn, nd_G[c], lam, msl, hist[sl])
                else:
                    sc, bf, bb, bnl = _best_split_scratch(codes, n_bins, idx, og, cs, cn, nd_G[c], lam, msl, h)
                parent = nd_G[c] * nd_G[c] / (cn + lam)
                if bf >= 0 and sc - parent > _MIN_REL_GAIN * parent:
                    c_gain[c] = sc - parent
                    c_f[c] = bf
                    c_bin[c] = bb
                    c_nl[c] = bnl
                elif nd_slot[c] >= 0:
                    free[n_free] = nd_slot[c]
                    n_free += 1
                    nd_slot[c] = -1

    for c in range(n_nodes):
        if feature[c] < 0:
            v = value[c]
            for k in range(nd_s[c], nd_e[c]):
                raw[idx[k]] += v
    return n_nodes


@njit(cache=True)
def add_trees(X, feature, threshold, left, right, value, out):
    """out[i] += sum over trees t of the value of the leaf X[i] (n, p) float32 reaches in tree t (arrays (T, K));
    rows in blocks of 64, one tree at a time over a block, trees summed in order 0..T-1."""
    n = X.shape[0]
    T = feature.shape[0]
    for lo in range(0, n, _BLOCK):
        hi = min(n, lo + _BLOCK)
        for t in range(T):
            ft = feature[t]
            th = threshold[t]
            lt = left[t]
            rt = right[t]
            vt = value[t]
            for i in range(lo, hi):
                out[i] += vt[leaf_of(X, i, ft, th, lt, rt)]
