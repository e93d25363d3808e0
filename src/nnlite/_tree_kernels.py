"""Numba kernels for CART regression trees and random forests (Breiman 2001).
Long on purpose: the exact split search, the tree builders (serial and parallel) and the bootstrap replay
share private Numba helpers that are inlined across them.

A tree is grown depth first by exhaustive variance-reduction split search. For a node holding the sample set
N with weights w_i (bootstrap counts) and responses y_i, a split into L and R maximises the proxy

    S_L**2 / W_L + S_R**2 / W_R,        S_A = sum_{i in A} w_i y_i,   W_A = sum_{i in A} w_i,

which equals the weighted impurity decrease W_N Var(N) - W_L Var(L) - W_R Var(R) plus the constant S_N**2 / W_N.

Split search runs on per-feature presorted sample lists, in two modes:

* large nodes ("partition" mode): every feature keeps the node's samples sorted by that feature in a row of
  ``order`` (p, m); scanning a sampled feature is one pass; after the split all p rows are stably partitioned
  into left | right (SLIQ-style, Mehta et al. 1996). Cost per node ~ p * n_node, no sorting at all.
* small nodes ("sort" mode): once a node holds at most ``switch_size`` samples, its subtree only keeps one
  sample list; each sampled feature sorts the node's (rank, sample) keys. Cost ~ mtry * n_node * log(n_node).

Ties are detected on precomputed dense ranks, so sorting compares 64-bit integers. Every tree draws its
bootstrap sample from its own splitmix64 stream seeded by ``seeds[t]``, then the root's stream seed; each node
draws its features (a partial Fisher-Yates shuffle of 0..p-1, undone afterwards) from its own stream, whose seed
is derived from its parent's (``_child_key``). Hence a forest is the same whichever thread grows which tree, and
a tree the same whichever order its nodes are grown in (depth first here, level by level in ``_level_kernels``).

Trees are stored as flat arrays, one row per tree: ``feature`` (-1 at leaves), ``threshold`` (go left when
x[feature] <= threshold), ``left``, ``right``, ``value`` (weighted mean of y in the node), ``n_samples``.
"""
import numpy as np
from numba import njit, prange

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_LOW32 = np.int64(0xFFFFFFFF)
# a split must beat the best so far by this relative margin: exactly tied gains (two features inducing the same
# partition) summed in different orders then resolve to the first feature drawn, in both search modes
_TIE = 1.0 + 1e-12
# nodes up to this size sort by counting (O(m^2), vectorized), larger ones by quicksort
_COUNT_SORT_MAX = 80


@njit(cache=True)
def leaf_of(X, i, feature, threshold, left, right):
    """The leaf row ``X[i]`` reaches in one tree's arrays (go left when ``X[i, feature] <= threshold``; a leaf has
    feature -1)."""
    node = 0
    f = feature[0]
    while f >= 0:
        if X[i, f] <= threshold[node]:
            node = left[node]
        else:
            node = right[node]
        f = feature[node]
    return node


@njit(cache=True)
def _next_u64(state):
    """splitmix64 (Steele, Lea & Flood 2014): advance ``state[0]`` and return 64 random bits."""
    z = state[0] + _GOLDEN
    state[0] = z
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def _randbelow(state, k):
    """A random integer in [0, k): floor(x k / 2**64) of 64 random bits x (Lemire 2019, bias < k / 2**64), the
    128-bit product taken in 32-bit halves; a division (x mod k) costs ~10x more and a tree draws ~10**6 times."""
    x = _next_u64(state)
    if k >= 4294967296:
        return np.int64(x % np.uint64(k))
    kk = np.uint64(k)
    hi = x >> np.uint64(32)
    lo = x & np.uint64(0xFFFFFFFF)
    return np.int64((hi * kk + ((lo * kk) >> np.uint64(32))) >> np.uint64(32))


@njit(cache=True)
def _child_key(key, side):
    """Stream seed of a node's child (side 1 = left, 2 = right) from the node's own seed ``key``: every node
    draws its features from its own stream, so a tree does not depend on the order its nodes are grown in."""
    z = key ^ (np.uint64(side) * _MIX2)
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def _undo_draws(feats, jfs, n):
    """Undo the first n Fisher-Yates swaps (feats[k] <-> feats[jfs[k]]) in reverse: feats is the identity again."""
    for k in range(n - 1, -1, -1):
        j = jfs[k]
        t = feats[k]
        feats[k] = feats[j]
        feats[j] = t


@njit(cache=True)
def _sort_keys(a, m, stack):
    """Sort ``a[:m]`` (int64) in place: quicksort (median of three) with insertion sort below 16 elements.

    ``stack`` is an int64 work array of length >= 128 (explicit recursion stack, smaller side first)."""
    top = 0
    lo = 0
    hi = m - 1
    while True:
        if hi - lo < 16:
            for k in range(lo + 1, hi + 1):
                v = a[k]
                j = k - 1
                while j >= lo and a[j] > v:
                    a[j + 1] = a[j]
                    j -= 1
                a[j + 1] = v
            if top == 0:
                return
            top -= 2
            lo = stack[top]
            hi = stack[top + 1]
            continue
        mid = (lo + hi) >> 1
        if a[mid] < a[lo]:
            a[mid], a[lo] = a[lo], a[mid]
        if a[hi] < a[lo]:
            a[hi], a[lo] = a[lo], a[hi]
        if a[hi] < a[mid]:
            a[hi], a[mid] = a[mid], a[hi]
        pivot = a[mid]
        i = lo
        j = hi
        while i <= j:
            while a[i] < pivot:
                i += 1
            while a[j] > pivot:
                j -= 1
            if i <= j:
                a[i], a[j] = a[j], a[i]
                i += 1
                j -= 1
        # push the larger part, continue with the smaller one
        if j - lo > hi - i:
            stack[top] = lo
            stack[top + 1] = j
            top += 2
            lo = i
        else:
            stack[top] = i
            stack[top + 1] = hi
            top += 2
            hi = j


@njit(cache=True)
def _count_sort_keys(a, m, out):
    """Write ``a[:m]`` (distinct integers) sorted into ``out[:m]``: a[k] goes to position #{j: a[j] < a[k]}.
    O(m**2) but branch-free and vectorized: faster than quicksort up to m ~ 80 (measured 4.9 vs 5.6 ns per
    element at m = 64)."""
    for k in range(m):
        v = a[k]
        pos = 0
        for j in range(m):
            pos += np.int64(a[j] < v)
        out[pos] = v


@njit(cache=True)
def build_tree(XT, y, y_center, presorted, ranks, seed, bootstrap, mtry, min_samples_leaf, max_depth,
               switch_size, feature, threshold, left, right, value, n_samples, importance):
    """Grow one CART regression tree; return its node count.

    XT (p, n) float32 features (transposed); y (n,) float64; y_center: subtracted from y in the split search
    (the argmax is shift invariant; centering keeps the proxy's rounding error small); presorted (p, n) int32
    argsort of each row of XT; ranks (p, n) int32 dense rank of XT[f, i] within row f; seed: uint64 stream
    seed; bootstrap: draw n samples with replacement (weights = counts) or use all with weight 1; mtry:
    features examined per node (more while all examined ones are constant); min_samples_leaf counts distinct
    in-bag samples; max_depth < 0 means unlimited; switch_size: nodes of at most this many samples use
    sort mode. Outputs (length >= 2n - 1) are filled in place; ``importance`` (p,) accumulates the weighted
    impurity decrease W_N Var(N) - W_L Var(L) - W_R Var(R) of each split on its feature.
    Memory per tree: p * (n + 1) int32 sorted lists.
    """
    p, n = XT.shape
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

    # presorted lists restricted to the in-bag samples (branch-free: a third of the samples are out of bag);
    # when the root already is in sort mode only row 0 (the node sample lists) is ever read
    rows = p if m > switch_size else 1
    inbag = np.zeros(n, dtype=np.int64)
    for i in range(n):
        inbag[i] = w[i] > 0.0
    order = np.empty((p, m + 1), dtype=np.int32)
    for f in range(rows):
        k = 0
        for j in range(n):
            i = presorted[f, j]
            order[f, k] = i
            k += inbag[i]

    root_key = _next_u64(state)
    feats = np.arange(p).astype(np.int64)
    jfs = np.empty(p, dtype=np.int64)
    goes_left = np.zeros(n, dtype=np.uint8)
    tmp = np.empty(m, dtype=np.int32)
    keys = np.empty(m, dtype=np.int64)
    unsorted = np.empty(m, dtype=np.int64)
    best_keys = np.empty(m, dtype=np.int64)
    sort_stack = np.empty(128, dtype=np.int64)

    cap = 2 * m
    st_node = np.empty(cap, dtype=np.int64)
    st_start = np.empty(cap, dtype=np.int64)
    st_end = np.empty(cap, dtype=np.int64)
    st_depth = np.empty(cap, dtype=np.int64)
    st_key = np.empty(cap, dtype=np.uint64)
    top = 0
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
        sorted_mode = nn <= switch_size

        W = 0.0
        S = 0.0
        SY = 0.0
        ymin = np.inf
        ymax = -np.inf
        for k in range(s, e):
            i = order[0, k]
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

        best = -np.inf
        best_f = -1
        best_pos = 0
        best_i = -1
        best_j = -1
        visited = 0
        found = False
        fi = 0
        state[0] = key
        while fi < p and (visited < mtry or not found):
            jf = fi + _randbelow(state, p - fi)
            f = feats[jf]
            feats[jf] = feats[fi]
            feats[fi] = f
            jfs[fi] = jf
            fi += 1
            visited += 1
            rf = ranks[f]
            if not sorted_mode:
                if rf[order[f, s]] == rf[order[f, e - 1]]:
                    continue
                found = True
                wl = 0.0
                sl = 0.0
                i = order[f, s]
                ri = rf[i]
                for k in range(s, e - 1):
                    wl += w[i]
                    sl += wy[i]
                    j = order[f, k + 1]
                    rj = rf[j]
                    if rj != ri:
                        nl = k + 1 - s
                        if nl >= min_samples_leaf and nn - nl >= min_samples_leaf:
                            sr = S - sl
                            proxy = sl * sl / wl + sr * sr / (W - wl)
                            if proxy > best * _TIE:
                                best = proxy
                                best_f = f
                                best_pos = nl
                                best_i = i
                                best_j = j
                    i = j
                    ri = rj
            else:
                if nn <= _COUNT_SORT_MAX:
                    for k in range(nn):
                        i = order[0, s + k]
                        unsorted[k] = (np.int64(rf[i]) << 32) | i
                    _count_sort_keys(unsorted, nn, keys)
                else:
                    for k in range(nn):
                        i = order[0, s + k]
                        keys[k] = (np.int64(rf[i]) << 32) | i
                    _sort_keys(keys, nn, sort_stack)
                if (keys[0] >> 32) == (keys[nn - 1] >> 32):
                    continue
                found = True
                wl = 0.0
                sl = 0.0
                improved = False
                i = keys[0] & _LOW32
                ri = keys[0] >> 32
                for k in range(nn - 1):
                    wl += w[i]
                    sl += wy[i]
                    j = keys[k + 1] & _LOW32
                    rj = keys[k + 1] >> 32
                    if rj != ri:
                        nl = k + 1
                        if nl >= min_samples_leaf and nn - nl >= min_samples_leaf:
                            sr = S - sl
                            proxy = sl * sl / wl + sr * sr / (W - wl)
                            if proxy > best * _TIE:
                                best = proxy
                                best_f = f
                                best_pos = nl
                                best_i = i
                                best_j = j
                                improved = True
                    i = j
                    ri = rj
                if improved:
                    best_keys[:nn] = keys[:nn]
        _undo_draws(feats, jfs, fi)

        if best_f < 0:
            continue

        thr = 0.5 * (np.float64(XT[best_f, best_i]) + np.float64(XT[best_f, best_j]))
        if thr >= XT[best_f, best_j]:
            thr = np.float64(XT[best_f, best_i])
        feature[node] = best_f
        threshold[node] = thr
        importance[best_f] += best - S * S / W
        nl = best_pos
        nr = nn - nl

        if sorted_mode:
            for k in range(nn):
                order[0, s + k] = np.int32(best_keys[k] & _LOW32)
        else:
            for k in range(s, s + nl):
                goes_left[order[best_f, k]] = 1
            for k in range(s + nl, e):
                goes_left[order[best_f, k]] = 0
            rows = p if max(nl, nr) > switch_size else 1
            for g in range(rows):
                if g == best_f:
                    continue
                og = order[g]
                lpos = s
                r = 0
                for k in range(s, e):
                    i = og[k]
                    gl = goes_left[i]
                    og[lpos] = i
                    tmp[r] = i
                    lpos += gl
                    r += 1 - gl
                for k in range(r):
                    og[lpos + k] = tmp[k]

        lnode = n_nodes
        rnode = n_nodes + 1
        n_nodes += 2
        left[node] = lnode
        right[node] = rnode
        # push right first so the left subtree is grown first
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


@njit(cache=True)
def bootstrap_counts(seeds, n, counts):
    """In-bag count of each of ``n`` samples in each tree: ``counts[t, i]`` = times sample i is drawn by the
    bootstrap of ``build_tree`` with ``seeds[t]`` (the same first n draws of its splitmix64 stream). (T, n)."""
    state = np.empty(1, dtype=np.uint64)
    for t in range(seeds.shape[0]):
        state[0] = seeds[t]
        for _ in range(n):
            counts[t, _randbelow(state, n)] += 1


@njit(cache=True, parallel=True)
def build_forest(XT, y, y_center, presorted, ranks, seeds, bootstrap, mtry, min_samples_leaf, max_depth,
                 switch_size, feature, threshold, left, right, value, n_samples, importance, n_nodes):
    """Grow ``len(seeds)`` trees in parallel (prange over trees); tree t writes row t of the (T, 2n - 1) output
    arrays, row t of ``importance`` (T, p) and ``n_nodes[t]``. See ``build_tree`` for the arguments."""
    for t in prange(seeds.shape[0]):
        n_nodes[t] = build_tree(XT, y, y_center, presorted, ranks, seeds[t], bootstrap, mtry, min_samples_leaf,
                                max_depth, switch_size, feature[t], threshold[t], left[t], right[t], value[t],
                                n_samples[t], importance[t])


@njit(cache=True)
def build_forest_serial(XT, y, y_center, presorted, ranks, seeds, bootstrap, mtry, min_samples_leaf, max_depth,
                        switch_size, feature, threshold, left, right, value, n_samples, importance, n_nodes):
    """``build_forest`` on the calling thread only: n_jobs=1 never starts the OpenMP runtime (GNU OpenMP is
    not fork-safe, and callers may fork worker processes)."""
    for t in range(seeds.shape[0]):
        n_nodes[t] = build_tree(XT, y, y_center, presorted, ranks, seeds[t], bootstrap, mtry, min_samples_leaf,
                                max_depth, switch_size, feature[t], threshold[t], left[t], right[t], value[t],
                                n_samples[t], importance[t])


@njit(cache=True)
def _predict_block(X, feature, threshold, left, right, value, out, lo, hi):
    """out[lo:hi] = mean leaf value over trees, walking one tree at a time over the rows lo..hi-1 (the tree's
    arrays stay in cache); the per-row sum runs over trees in order 0..T-1."""
    T = feature.shape[0]
    acc = np.zeros(hi - lo)
    for t in range(T):
        ft = feature[t]
        th = threshold[t]
        lt = left[t]
        rt = right[t]
        for i in range(lo, hi):
            acc[i - lo] += value[t, leaf_of(X, i, ft, th, lt, rt)]
    for i in range(lo, hi):
        out[i] = acc[i - lo] / T


_BLOCK = 64


@njit(cache=True, parallel=True)
def predict_forest(X, feature, threshold, left, right, value, out):
    """out[i] = mean over trees t of the value of the leaf that X[i] reaches in tree t. X (n, p); arrays (T, K).
    Rows in blocks of 64, prange over blocks."""
    n = X.shape[0]
    for b in prange((n + _BLOCK - 1) // _BLOCK):
        _predict_block(X, feature, threshold, left, right, value, out, b * _BLOCK, min(n, (b + 1) * _BLOCK))


@njit(cache=True)
def predict_forest_serial(X, feature, threshold, left, right, value, out):
    """``predict_forest`` on the calling thread only (no OpenMP runtime is started)."""
    n = X.shape[0]
    for b in range((n + _BLOCK - 1) // _BLOCK):
        _predict_block(X, feature, threshold, left, right, value, out, b * _BLOCK, min(n, (b + 1) * _BLOCK))
