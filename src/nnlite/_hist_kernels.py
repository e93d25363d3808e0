"""Numba kernels for histogram (binned) CART split search on pre-binned features (as in LightGBM, Ke et al. 2017).

Binning (``bin_codes``): every feature is cut once, before any tree is grown, into at most ``max_bins`` (<= 256)
quantile bins of the training values, stored as uint8 codes (p, n). Equal values always share a bin; a feature
with at most ``max_bins`` distinct values gets one bin per distinct value (the binning is then *exact*: the
candidate splits are exactly the exact search's). Otherwise the distinct value starting at sorted position s goes
to bin floor(s * max_bins / n) (renumbered consecutively), so bins hold about n / max_bins samples each and a
value covering at least n / max_bins samples (e.g. a frequent zero expression) keeps a bin of its own.

Split search (``build_tree_binned``, node by node; ``_level_kernels.build_tree_levels`` grows the same tree level
by level and is the one forests use): a node examines its randomly drawn features exactly as the exact search does
(same random stream, same order, same "more while all examined ones are constant" rule, same tie margin); for
each it accumulates per-bin (count, sum w, sum w y) over the node's samples (bootstrap weights are integer counts,
so a bin's count and weight share one int64) and scans the non-empty bins in ascending order (nodes of at most
96 samples mark the touched bins in a 256-bit mask and walk only those): the candidate splits are "code <= b" at
every boundary between consecutive non-empty bins, scored by the proxy S_L**2 / W_L + S_R**2 / W_R of
``_tree_kernels`` (compared without division). Each tree first copies the codes of its in-bag samples, so the
rows it reads are ~0.63 n bytes long.
Drawn features are visited in index order, so the code rows stream through the cache; exactly tied gains go to
the feature drawn first, as in the exact search. Cost per examined feature: O(n_node) (no sort, no per-feature
sample lists); a tree keeps one sample list.
The threshold stored for a split at bin boundary b is the midpoint between the largest value of the node's
samples in bins <= b and the smallest in bins > b (the exact search's midpoint whenever the binning is exact).

The subtraction trick (a child's histogram = parent - sibling) is not used: features are re-drawn at every node
(max_features < 1), so a child's features mostly have no parent histogram to subtract from; building a
histogram costs O(n_node) anyway.
"""
import numpy as np
from numba import njit, prange

from nnlite._tree_kernels import _TIE, _child_key, _next_u64, _randbelow, _undo_draws

MAX_BINS = 256
# nodes above this size scan all bins; smaller ones walk a bit mask of the touched bins
_DENSE_SCAN = 96
_LOW32 = np.int64(0xFFFFFFFF)
# de Bruijn sequence for the index of the lowest set bit of a 64-bit word (Leiserson, Prokop & Randall 1998)
_DEBRUIJN = np.uint64(0x03F79D71B4CB0A89)
_DEBRUIJN_INDEX = np.zeros(64, dtype=np.int64)
for _k in range(64):
    _DEBRUIJN_INDEX[((1 << _k) * int(_DEBRUIJN) % 2**64) >> 58] = _k


@njit(cache=True)
def partition_rows(idx, tmp, row, s, e, b):
    """Stable partition of the node's rows ``idx[s:e]``: those with ``row[i] <= b`` first, in their order, then the
    others in theirs (``tmp`` holds the right side); -> the first right position."""
    lpos = s
    r = 0
    for k in range(s, e):
        i = idx[k]
        if row[i] <= b:
            idx[lpos] = i
            lpos += 1
        else:
            tmp[r] = i
            r += 1
    for k in range(r):
        idx[lpos + k] = tmp[k]
    return lpos


@njit(cache=True)
def bin_codes(XT, order, max_bins, codes):
    """Fill ``codes`` (p, n) uint8 with the quantile bin of each XT[f, i] (XT (p, n) float32, ``order`` (p, n)
    int64 argsort of each row); returns the number of bins per feature (p,) (see the module docstring)."""
    p, n = XT.shape
    n_bins = np.zeros(p, dtype=np.int64)
    for f in range(p):
        row = XT[f]
        o = order[f]
        distinct = 1
        for k in range(1, n):
            distinct += row[o[k]] != row[o[k - 1]]
        exact = distinct <= max_bins
        code = -1
        prev_raw = -1
        for k in range(n):
            i = o[k]
            if k == 0 or row[i] != row[o[k - 1]]:
                raw = k if exact else (k * max_bins) // n
                if raw != prev_raw:
                    code += 1
                    prev_raw = raw
            codes[f, i] = code
        n_bins[f] = code + 1
    return n_bins


@njit(cache=True)
def build_tree_binned(XB, XT, y, y_center, seed, bootstrap, mtry, min_samples_leaf, max_depth,
                      feature, threshold, left, right, value, n_samples, importance):
    """Grow one CART regression tree by histogram split search; return its node count.

    XB (p, n) uint8 bin codes, XT (p, n) float32 features (for the thresholds); the other arguments and the
    outputs are those of ``_tree_kernels.build_tree`` (same random stream: with exact bins the tree is the same).
    """
    p, n = XB.shape
    state = np.empty(1, dtype=np.uint64)
    state[0] = seed
    w = np.zeros(n, dtype=np.float64)
    if bootstrap:
        for _ in range(n):
            w[_randbelow(state, n)] += 1.0
    else:
        w[:] = 1.0
    wy = w * (y - y_center)
    m = 0
    for i in range(n):
        if w[i] > 0.0:
            m += 1
    # the tree works on its in-bag samples only, renumbered 0..m-1: a private copy of their codes (p, m) makes
    # every examined row ~m instead of n bytes long (split search is memory bound at 55k features)
    orig = np.empty(m, dtype=np.int64)
    k = 0
    for i in range(n):
        if w[i] > 0.0:
            orig[k] = i
            k += 1
    XBt = np.empty((p, m), dtype=np.uint8)
    for f in range(p):
        src = XB[f]
        dst = XBt[f]
        for k in range(m):
            dst[k] = src[orig[k]]
    idx = np.arange(m)
    root_key = _next_u64(state)

    feats = np.arange(p).astype(np.int64)
    jfs = np.empty(p, dtype=np.int64)
    tmp = np.empty(m, dtype=np.int64)
    ncw = np.empty(m, dtype=np.int64)
    nwy = np.empty(m, dtype=np.float64)
    # per bin: distinct samples (low 32 bits) + bootstrap weight (high 32 bits) in one int64, and sum w y
    h_cw = np.zeros(MAX_BINS, dtype=np.int64)
    h_wy = np.zeros(MAX_BINS, dtype=np.float64)
    mask = np.zeros(MAX_BINS // 64, dtype=np.uint64)
    drawn = np.full(p, -1, dtype=np.int64)  # draw rank of the features drawn at this node
    one = np.uint64(1)

    cap = 2 * m + 2
    st_node = np.empty(cap, dtype=np.int64)
    st_start = np.empty(cap, dtype=np.int64)
    st_end = np.empty(cap, dtype=np.int64)
    st_depth = np.empty(cap, dtype=np.int64)
    st_key = np.empty(cap, dtype=np.uint64)
    st_key[0] = root_key
    st_node[0] = 0
    st_start[0] = 0
    st_end[0] = m
    st_depth[0] = 0
    top = 1
    n_nodes = 1

    while top > 0:
        top -= 1
        node = st_node[top]
        s = st_start[top]
        e = st_end[top]
        depth = st_depth[top]
        key = st_key[top]
        nn = e - s

        W = 0.0
        S = 0.0
        SY = 0.0
        ymin = np.inf
        ymax = -np.inf
        for k in range(nn):
            i = orig[idx[s + k]]
            ncw[k] = 1 + (np.int64(w[i]) << 32)
            nwy[k] = wy[i]
            W += w[i]
            S += wy[i]
            SY += w[i] * y[i]
            if y[i] < ymin:
                ymin = y[i]
            if y[i] > ymax:
                ymax = y[i]
        value[node] = SY / W
        n_samples[node] = nn
        feature[node] = -1
        left[node] = -1
        right[node] = -1
        threshold[node] = 0.0
        if nn < 2 * min_samples_leaf or ymax <= ymin or (max_depth >= 0 and depth >= max_depth):
            continue

        # draw the node's mtry features (the exact search's stream), then visit them in index order so that
        # the bin-code rows stream through the cache; ties between features go to the one drawn first
        n_draw = min(mtry, p)
        state[0] = key
        for fi in range(n_draw):
            jf = fi + _randbelow(state, p - fi)
            f = feats[jf]
            feats[jf] = feats[fi]
            feats[fi] = f
            jfs[fi] = jf
            drawn[f] = fi
        best = -np.inf
        best_rank = p
        best_f = -1
        best_bin = 0
        best_pos = 0
        found = False
        fi = n_draw
        f = -1
        while True:
            if f < p - 1 and fi == n_draw:
                f += 1  # phase 1: next drawn feature in index order
                if drawn[f] < 0:
                    continue
                rank = drawn[f]
                drawn[f] = -1
            elif not found and fi < p:
                # phase 2 (every drawn feature was constant in the node): draw one more at a time
                jf = fi + _randbelow(state, p - fi)
                f2 = feats[jf]
                feats[jf] = feats[fi]
                feats[fi] = f2
                jfs[fi] = jf
                rank = fi
                fi += 1
                f = p - 1
            else:
                break
            g = f if fi == n_draw else feats[rank]
            row = XBt[g]
            nl = 0
            wl = 0.0
            sl = 0.0
            prev = -1
            n_touched = 0
            fbest = -np.inf
            fbest_bin = 0
            fbest_pos = 0
            if nn > _DENSE_SCAN:
                # large node: accumulate without the mask, then scan all bins
                for k in range(nn):
                    b = row[idx[s + k]]
                    h_cw[b] += ncw[k]
                    h_wy[b] += nwy[k]
                for b in range(MAX_BINS):
                    cw = h_cw[b]
                    if cw == 0:
                        continue
                    if prev >= 0 and nl >= min_samples_leaf and nn - nl >= min_samples_leaf:
                        sr = S - sl
                        wr = W - wl
                        lhs = sl * sl * wr + sr * sr * wl
                        if lhs > fbest * _TIE * wl * wr:
                            fbest = lhs / (wl * wr)
                            fbest_bin = prev
                            fbest_pos = nl
                    nl += cw & _LOW32
                    wl += np.float64(cw >> 32)
                    sl += h_wy[b]
                    h_cw[b] = 0
                    h_wy[b] = 0.0
                    prev = b
                    n_touched += 1
            else:
                for k in range(nn):
                    b = np.int64(row[idx[s + k]])
                    h_cw[b] += ncw[k]
                    h_wy[b] += nwy[k]
                    mask[b >> 6] |= one << np.uint64(b & 63)
                # walk the touched bins in ascending order, clearing them; the last one closes no split
                for q in range(MAX_BINS // 64):
                    word = mask[q]
                    mask[q] = np.uint64(0)
                    while word != np.uint64(0):
                        low = word & (~word + one)
                        b = q * 64 + _DEBRUIJN_INDEX[(low * _DEBRUIJN) >> np.uint64(58)]
                        word ^= low
                        if prev >= 0 and nl >= min_samples_leaf and nn - nl >= min_samples_leaf:
                            sr = S - sl
                            wr = W - wl
                            lhs = sl * sl * wr + sr * sr * wl
                            if lhs > fbest * _TIE * wl * wr:
                                fbest = lhs / (wl * wr)
                                fbest_bin = prev
                                fbest_pos = nl
                        cw = h_cw[b]
                        nl += cw & _LOW32
                        wl += np.float64(cw >> 32)
                        sl += h_wy[b]
                        h_cw[b] = 0
                        h_wy[b] = 0.0
                        prev = b
                        n_touched += 1
            if n_touched > 1:
                found = True
            if fbest > best * _TIE or (fbest * _TIE >= best and rank < best_rank and fbest > -np.inf):
                best = fbest
                best_rank = rank
                best_f = g
                best_bin = fbest_bin
                best_pos = fbest_pos
        _undo_draws(feats, jfs, fi)

        if best_f < 0:
            continue

        row = XBt[best_f]
        xf = XT[best_f]
        lo = -np.inf
        hi = np.inf
        for k in range(s, e):
            i = idx[k]
            v = np.float64(xf[orig[i]])
            if row[i] <= best_bin:
                if v > lo:
                    lo = v
            elif v < hi:
                hi = v
        thr = 0.5 * (lo + hi)
        if thr >= hi:
            thr = lo
        feature[node] = best_f
        threshold[node] = thr
        importance[best_f] += best - S * S / W
        nl = best_pos
        partition_rows(idx, tmp, row, s, e, best_bin)

        lnode = n_nodes
        rnode = n_nodes + 1
        n_nodes += 2
        left[node] = lnode
        right[node] = rnode
        # push right first so the left subtree is grown first (the exact search's node order and random stream)
        st_node[top] = rnode
        st_start[top] = s + nl
        st_end[top] = e
        st_depth[top] = depth + 1
        st_key[top] = _child_key(key, 2)
        top += 1
        st_node[top] = lnode
        st_start[top] = s
        st_end[top] = s + nl
        st_depth[top] = depth + 1
        st_key[top] = _child_key(key, 1)
        top += 1
    return n_nodes


@njit(cache=True, parallel=True)
def build_forest_binned(XB, XT, y, y_center, seeds, bootstrap, mtry, min_samples_leaf, max_depth,
                        feature, threshold, left, right, value, n_samples, importance, n_nodes):
    """Grow ``len(seeds)`` binned trees in parallel (prange over trees); outputs as ``build_forest``."""
    for t in prange(seeds.shape[0]):
        n_nodes[t] = build_tree_binned(XB, XT, y, y_center, seeds[t], bootstrap, mtry, min_samples_leaf,
                                       max_depth, feature[t], threshold[t], left[t], right[t], value[t],
                                       n_samples[t], importance[t])


@njit(cache=True)
def build_forest_binned_serial(XB, XT, y, y_center, seeds, bootstrap, mtry, min_samples_leaf, max_depth,
                               feature, threshold, left, right, value, n_samples, importance, n_nodes):
    """``build_forest_binned`` on the calling thread only (no OpenMP runtime is started)."""
    for t in range(seeds.shape[0]):
        n_nodes[t] = build_tree_binned(XB, XT, y, y_center, seeds[t], bootstrap, mtry, min_samples_leaf,
                                       max_depth, feature[t], threshold[t], left[t], right[t], value[t],
                                       n_samples[t], importance[t])
