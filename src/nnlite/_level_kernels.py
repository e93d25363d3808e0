"""Numba kernels growing binned CART trees level by level (breadth first), for wide data (p >> n).
Long on purpose: the level-wise grower keeps every open node of a depth in flat arrays, and its per-(node,
feature) histogram search is written out inside the pass over the code rows (called as a function, Numba
reference-counts its array arguments on every call, which cost ~12 % of a tree).

``build_tree_levels`` grows the same tree as ``_hist_kernels.build_tree_binned`` (same bootstrap, same per-node
feature streams, same split rule, same tie rule; node ids renumbered to the depth-first order at the end), but
it examines the drawn features of all the open nodes of a depth at once: each node draws its features into a
bit mask per feature (one bit per node, up to 64 nodes per pass) and a draw-rank table, then the bin-code rows
are read once per pass, in index order, and each row feeds the histogram of every node that drew it. The
node-wise search reads a code row once per (node, feature), i.e. ~depth x more rows per tree, and at 55,000
features the code matrix (19 MB) does not stay in cache, so most of those reads were cache misses.

Per node and drawn feature the level-wise pass runs a screen: does some split of the feature reach the node's
best score so far? Only the first feature of a node and the few that set or nearly tie a new best (~ln mtry
records in a random order) pass; those are rescanned by the exact sequential rule (``_best_bin_split``: per-bin
count + weight packed in one int64 and a float sum of w y, bins in order), so every split, score and tie is
the exact rule's. The screen itself is integer work:

* each in-node sample is one int64: its count (1) in the low ``c_bits``, its bootstrap weight in the next
  ``w_bits`` and q = trunc(w y 2**e) above them, with the node's power of two 2**e putting sum |q| below
  2**(61 - c_bits - w_bits); sums of these words are exact and add the three fields independently (the lower
  fields never carry), so a histogram is one int64 per bin and its prefix sums need no fixed order;
* the histogram marks its touched bins in a 256-bit map (32 bytes; nodes of more than ``_LEVEL_DENSE_SCAN``
  samples take all 256 bins), a walk over the map writes the prefix sums of the touched bins, and one
  branch-free loop over them (vectorized) asks whether any split "code <= b" with at least ``min_samples_leaf``
  samples per side has sl**2 wr + sr**2 wl >= (best (1 - 1e-9) - E) wl wr, everything in units of 2**e.

E bounds how far the fixed-point score can fall below the exact rule's float score. Per split, sl and sr are
off by at most delta = nn (1 + 2**-52 A) in units of 2**e (truncation, plus the float sums' rounding), A = the
node's sum |w y| in those units; d(sl**2/wl + sr**2/wr) <= 2 (|sl| + |sr|) delta + 2 delta**2 <= 7 A delta for
wl, wr >= 1, and E = 16 A nn (1 + 1e-15 A) leaves a factor two. On the 350 x 55,000 benchmark data E is 1e-9
(typical node) to 6e-7 (root) of the node's best score, so it only adds rescans of features scoring that close
to the best.
Nodes where every drawn feature is constant (rare) draw more features one at a time from their stream, as in
the node-wise search. The pass over the code rows prefetches the rows a few drawn rows ahead.
"""
import math

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core.extending import intrinsic
from numba.cpython.unsafe.numbers import trailing_zeros

from nnlite._hist_kernels import _LOW32, MAX_BINS
from nnlite._tree_kernels import _TIE, _child_key, _next_u64, _randbelow, _undo_draws

# open nodes examined per pass over the code rows (bits of the per-feature draw mask)
_SLOTS = 64
# nodes above this size scan all bins branch-free, smaller ones walk the bit mask of touched bins (measured on
# the 350 x 55,000 benchmark data for the exact rule: 120 beats 60, 90 and 300 by 3-15 %; the screen is within
# 3 % at 60 to 400)
_LEVEL_DENSE_SCAN = 120
# a feature is rescanned by the exact rule when some split reaches this fraction of the node's best proxy: looser
# than the tie margin (1e-12) and the rounding of the division-free comparison (~1e-16)
_SCREEN = 1.0 - 1e-9
# drawn rows prefetched ahead of the one being screened (1, 3 and 6 measured within 3 %)
_AHEAD = 3


@intrinsic
def _prefetch(typingctx, arr, offset):
    """Ask the cache for the line holding byte ``offset`` of the C-contiguous array ``arr`` (a hint: never faults,
    never waits)."""
    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        ptr = builder.gep(builder.bitcast(data, i8p), [args[1]])
        fn = builder.module.declare_intrinsic("llvm.prefetch", fnty=ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]))
        builder.call(fn, [ptr, i32(0), i32(3), i32(1)])
        return context.get_dummy_value()
    return types.void(arr, offset), codegen


@njit(cache=True)
def _bit_length(k):
    """Bits needed to hold the non-negative integer k."""
    bits = 0
    while k > 0:
        bits += 1
        k >>= 1
    return bits


@njit(cache=True)
def _best_bin_split(row, gidx, ncw, nwy, s, nn, S, W, min_samples_leaf, h_cw, h_wy, mask, dense_scan=_LEVEL_DENSE_SCAN):
    """Histogram of the node's samples (positions s..s+nn-1) on one code row, then the best "code <= b" split:
    returns (proxy, bin, left count, bins touched); proxy is -inf when no split respects min_samples_leaf.
    ``build_tree_levels`` screens every (node, feature) in its main pass and calls this, the exact sequential
    rule, for the features that pass the screen and for the rare extra draws."""
    one = np.uint64(1)
    nl = 0
    wl = 0.0
    sl = 0.0
    n_touched = 0
    fbest = -np.inf
    fbest_bin = 0
    fbest_pos = 0
    if nn > dense_scan:
        for k in range(s, s + nn):
            b = row[gidx[k]]
            h_cw[b] += ncw[k]
            h_wy[b] += nwy[k]
        # branch-free scan of every bin (no test for empty bins, whose outcome is unpredictable): the split
        # "code <= b" is scored after adding bin b; an empty bin repeats the previous split's score, which never
        # beats it (strict margin), so the best bin and score are the node-wise search's
        for b in range(MAX_BINS):
            cw = h_cw[b]
            nl += cw & _LOW32
            wl += np.float64(cw >> 32)
            sl += h_wy[b]
            h_cw[b] = 0
            h_wy[b] = 0.0
            n_touched += cw != 0
            if nl >= min_samples_leaf and nn - nl >= min_samples_leaf:
                sr = S - sl
                wr = W - wl
                lhs = sl * sl * wr + sr * sr * wl
                if lhs > fbest * _TIE * wl * wr:
                    fbest = lhs / (wl * wr)
                    fbest_bin = b
                    fbest_pos = nl
    else:
        # the 256-bit mask of touched bins lives in four registers (a mask in memory chains every sample's
        # update through a store and a reload of the same word)
        m0 = np.uint64(0)
        m1 = np.uint64(0)
        m2 = np.uint64(0)
        m3 = np.uint64(0)
        for k in range(s, s + nn):
            b = np.int64(row[gidx[k]])
            h_cw[b] += ncw[k]
            h_wy[b] += nwy[k]
            bit = one << np.uint64(b & 63)
            q = b >> 6
            m0 |= bit * np.uint64(q == 0)
            m1 |= bit * np.uint64(q == 1)
            m2 |= bit * np.uint64(q == 2)
            m3 |= bit * np.uint64(q == 3)
        # walk the touched bins in ascending order, clearing them; "code <= b" is scored after adding bin b
        for q in range(MAX_BINS // 64):
            word = m0 if q == 0 else (m1 if q == 1 else (m2 if q == 2 else m3))
            while word != np.uint64(0):
                b = q * 64 + np.int64(trailing_zeros(word))
                word &= word - one
                cw = h_cw[b]
                nl += cw & _LOW32
                wl += np.float64(cw >> 32)
                sl += h_wy[b]
                h_cw[b] = 0
                h_wy[b] = 0.0
                n_touched += 1
                if nl >= min_samples_leaf and nn - nl >= min_samples_leaf:
                    sr = S - sl
                    wr = W - wl
                    lhs = sl * sl * wr + sr * sr * wl
                    if lhs > fbest * _TIE * wl * wr:
                        fbest = lhs / (wl * wr)
                        fbest_bin = b
                        fbest_pos = nl
    return fbest, fbest_bin, fbest_pos, n_touched


@njit(cache=True)
def build_tree_levels(XB, XT, y, y_center, seed, bootstrap, mtry, min_samples_leaf, max_depth,
                      feature, threshold, left, right, value, n_samples, importance):
    """Grow one binned CART regression tree level by level; return its node count.

    Arguments and outputs are those of ``_hist_kernels.build_tree_binned`` (XB (p, n) uint8 codes, XT (p, n)
    float32); the tree is the same, its nodes numbered in the same depth-first order.
    Extra memory per tree: a (64, p) int32 draw-rank table and a (p,) uint64 draw mask.
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
    orig = np.empty(m, dtype=np.int64)
    k = 0
    for i in range(n):
        if w[i] > 0.0:
            orig[k] = i
            k += 1
    root_key = _next_u64(state)

    # nodes in breadth-first ids while growing, renumbered depth first at the end
    cap = 2 * m + 2
    b_feat = np.full(cap, -1, dtype=np.int64)
    b_thr = np.zeros(cap, dtype=np.float64)
    b_left = np.full(cap, -1, dtype=np.int64)
    b_right = np.full(cap, -1, dtype=np.int64)
    b_val = np.zeros(cap, dtype=np.float64)
    b_ns = np.zeros(cap, dtype=np.int64)

    # the current level: node id, sample segment [s, e) of ``idx``, stream seed
    cur_id = np.zeros(m + 1, dtype=np.int64)
    cur_s = np.zeros(m + 1, dtype=np.int64)
    cur_e = np.zeros(m + 1, dtype=np.int64)
    cur_key = np.zeros(m + 1, dtype=np.uint64)
    nxt_id = np.zeros(m + 1, dtype=np.int64)
    nxt_s = np.zeros(m + 1, dtype=np.int64)
    nxt_e = np.zeros(m + 1, dtype=np.int64)
    nxt_key = np.zeros(m + 1, dtype=np.uint64)
    cur_id[0] = 0
    cur_s[0] = 0
    cur_e[0] = m
    cur_key[0] = root_key
    n_cur = 1
    n_nodes = 1

    idx = np.arange(m)  # sample positions -> in-bag index (into orig), partitioned node by node
    gidx = np.empty(m, dtype=np.int64)  # position -> column of XB, for the current level
    ugidx = np.empty(m, dtype=np.uint64)
    ncw = np.empty(m, dtype=np.int64)
    nwy = np.empty(m, dtype=np.float64)
    tmp = np.empty(m, dtype=np.int64)
    feats = np.arange(p).astype(np.int64)
    jfs = np.empty(p, dtype=np.int64)
    rank_of = np.empty((_SLOTS, p), dtype=np.int32)
    dmask = np.zeros(p, dtype=np.uint64)
    rows = np.empty(p, dtype=np.int64)
    h_cw = np.zeros(MAX_BINS, dtype=np.int64)
    h_wy = np.zeros(MAX_BINS, dtype=np.float64)
    # the screen's packed sample: count (c_bits), weight (the next w_bits), fixed-point w y (the rest, signed)
    c_bits = _bit_length(m)
    w_bits = _bit_length(n)
    c_mask = (np.int64(1) << c_bits) - 1
    w_mask = (np.int64(1) << w_bits) - 1
    q_shift = c_bits + w_bits
    q_bits = 61 - q_shift
    packed = np.empty(m, dtype=np.int64)
    h_v = np.zeros(MAX_BINS, dtype=np.int64)
    pre = np.empty(MAX_BINS, dtype=np.int64)
    touched8 = np.zeros(MAX_BINS // 8, dtype=np.uint8)
    touched64 = touched8.view(np.uint64)
    node_Sq = np.empty(m + 1, dtype=np.int64)
    node_scale2 = np.empty(m + 1, dtype=np.float64)
    node_tol = np.empty(m + 1, dtype=np.float64)
    mask = np.zeros(MAX_BINS // 64, dtype=np.uint64)
    open_c = np.empty(m + 1, dtype=np.int64)
    node_W = np.empty(m + 1, dtype=np.float64)
    node_S = np.empty(m + 1, dtype=np.float64)
    sl_best = np.empty(_SLOTS, dtype=np.float64)
    sl_rank = np.empty(_SLOTS, dtype=np.int64)
    sl_f = np.empty(_SLOTS, dtype=np.int64)
    sl_bin = np.empty(_SLOTS, dtype=np.int64)
    sl_pos = np.empty(_SLOTS, dtype=np.int64)
    sl_found = np.zeros(_SLOTS, dtype=np.bool_)
    one = np.uint64(1)
    n_draw = min(mtry, p)
    depth = 0

    while n_cur > 0:
        n_open = 0
        for c in range(n_cur):
            s = cur_s[c]
            e = cur_e[c]
            nn = e - s
            W = 0.0
            S = 0.0
            SY = 0.0
            ymin = np.inf
            ymax = -np.inf
            for k in range(s, e):
                i = orig[idx[k]]
                gidx[k] = i
                ugidx[k] = i
                ncw[k] = 1 + (np.int64(w[i]) << 32)
                nwy[k] = wy[i]
                W += w[i]
                S += wy[i]
                SY += w[i] * y[i]
                if y[i] < ymin:
                    ymin = y[i]
                if y[i] > ymax:
                    ymax = y[i]
            node = cur_id[c]
            b_val[node] = SY / W
            b_ns[node] = nn
            if nn < 2 * min_samples_leaf or ymax <= ymin or (max_depth >= 0 and depth >= max_depth):
                continue
            open_c[n_open] = c
            node_W[n_open] = W
            node_S[n_open] = S
            # the screen's fixed-point copy of w y: q_k = trunc(w_k y_k 2**e) with the node's power of two 2**e
            # putting sum |q_k| below 2**q_bits, packed with the count and the weight into one int64 per sample
            a = 0.0
            for k in range(s, e):
                a += abs(nwy[k])
            scale = math.ldexp(1.0, q_bits - math.frexp(a)[1])
            sq = np.int64(0)
            for k in range(s, e):
                q = np.int64(nwy[k] * scale)
                sq += q
                packed[k] = (q << q_shift) + (np.int64(w[gidx[k]]) << c_bits) + 1
            a *= scale
            node_Sq[n_open] = sq
            node_scale2[n_open] = scale * scale
            node_tol[n_open] = 16.0 * a * (nn + 1e-15 * a * nn)
            n_open += 1

        n_nxt = 0
        for c0 in range(0, n_open, _SLOTS):
            n_slots = min(_SLOTS, n_open - c0)
            for slot in range(n_slots):
                state[0] = cur_key[open_c[c0 + slot]]
                bit = one << np.uint64(slot)
                for fi in range(n_draw):
                    jf = fi + _randbelow(state, p - fi)
                    f = feats[jf]
                    feats[jf] = feats[fi]
                    feats[fi] = f
                    jfs[fi] = jf
                    rank_of[slot, f] = fi
                    dmask[f] |= bit
                _undo_draws(feats, jfs, n_draw)
                sl_best[slot] = -np.inf
                sl_rank[slot] = p
                sl_f[slot] = -1
                sl_bin[slot] = 0
                sl_pos[slot] = 0
                sl_found[slot] = False

            # one pass over the code rows: each drawn row feeds every node of the pass that drew it
            n_rows = 0
            for f in range(p):
                rows[n_rows] = f
                n_rows += dmask[f] != np.uint64(0)
            for r in range(n_rows):
                f = rows[r]
                if r + _AHEAD < n_rows:
                    base = rows[r + _AHEAD] * n
                    for off in range(0, n, 64):
                        _prefetch(XB, base + off)
                    _prefetch(XB, base + n - 1)
                word = dmask[f]
                dmask[f] = np.uint64(0)
                row = XB[f]
                while word != np.uint64(0):
                    slot = np.int64(trailing_zeros(word))
                    word &= word - one
                    c = open_c[c0 + slot]
                    s = cur_s[c]
                    nn = cur_e[c] - s
                    S = node_S[c0 + slot]
                    W = node_W[c0 + slot]
                    # the screen: can any split of this feature reach the node's best so far, within the fixed-point
                    # error? Integer prefix sums (exact in any order, one add per bin) over the touched bins, then a
                    # branch-free, vectorized test of all of them against a loop-invariant bound; the rare features
                    # that pass (the first of each node, and the ~ln(mtry) new records) are rescanned by the exact
                    # sequential rule, so the result is the exact search's
                    sq = node_Sq[c0 + slot]
                    b_lo = (sl_best[slot] * _SCREEN * node_scale2[c0 + slot]) - node_tol[c0 + slot]
                    # unsigned indices: Numba adds no negative-index fix-up to the loads
                    acc = np.int64(0)
                    n_touch = np.uint64(0)
                    if nn > _LEVEL_DENSE_SCAN:
                        for k in range(np.uint64(s), np.uint64(s + nn)):
                            h_v[row[ugidx[k]]] += packed[k]
                        for b in range(np.uint64(MAX_BINS)):
                            v = h_v[b]
                            n_touch += np.uint64(v != 0)
                            acc += v
                            h_v[b] = 0
                            pre[b] = acc
                        n_pre = np.uint64(MAX_BINS)
                    else:
                        # the touched bins marked in a 256-bit map kept as 32 bytes (a map of four 64-bit words
                        # chains most samples' updates through a store and a reload of the same word)
                        for k in range(np.uint64(s), np.uint64(s + nn)):
                            b = row[ugidx[k]]
                            h_v[b] += packed[k]
                            touched8[b >> np.uint8(3)] |= np.uint8(1) << (b & np.uint8(7))
                        for q in range(np.uint64(MAX_BINS // 64)):
                            bits = touched64[q]
                            touched64[q] = 0
                            while bits != np.uint64(0):
                                b = np.uint64(q * np.uint64(64)) + np.uint64(trailing_zeros(bits))
                                bits &= bits - one
                                acc += h_v[b]
                                h_v[b] = 0
                                pre[n_touch] = acc
                                n_touch += one
                        n_pre = n_touch
                    hit = False
                    lo_n = min_samples_leaf
                    hi_n = nn - min_samples_leaf
                    for t in range(np.uint64(0), n_pre):
                        v = pre[t]
                        nl = v & c_mask
                        wl = np.float64((v >> c_bits) & w_mask)
                        ql = v >> q_shift
                        sl = np.float64(ql)
                        sr = np.float64(sq - ql)
                        wr = W - wl
                        lhs = sl * sl * wr + sr * sr * wl
                        hit |= (nl >= lo_n) & (nl <= hi_n) & (lhs >= b_lo * (wl * wr))
                    if n_touch > one:
                        sl_found[slot] = True
                    if hit:
                        fbest, fbin, fpos, touched = _best_bin_split(row, gidx, ncw, nwy, s, nn, S, W,
                                                                     min_samples_leaf, h_cw, h_wy, mask)
                        rank = rank_of[slot, f]
                        best = sl_best[slot]
                        if fbest > best * _TIE or (fbest * _TIE >= best and rank < sl_rank[slot]
                                                   and fbest > -np.inf):
                            sl_best[slot] = fbest
                            sl_rank[slot] = rank
                            sl_f[slot] = f
                            sl_bin[slot] = fbin
                            sl_pos[slot] = fpos

            for slot in range(n_slots):
                c = open_c[c0 + slot]
                s = cur_s[c]
                e = cur_e[c]
                S = node_S[c0 + slot]
                W = node_W[c0 + slot]
                if not sl_found[slot]:
                    # every drawn feature was constant in the node: replay its draws, then draw one more at a
                    # time until a non-constant feature turns up (the node-wise search's second phase)
                    state[0] = cur_key[c]
                    for fi in range(n_draw):
                        jf = fi + _randbelow(state, p - fi)
                        f = feats[jf]
                        feats[jf] = feats[fi]
                        feats[fi] = f
                        jfs[fi] = jf
                    fi = n_draw
                    while not sl_found[slot] and fi < p:
                        jf = fi + _randbelow(state, p - fi)
                        f = feats[jf]
                        feats[jf] = feats[fi]
                        feats[fi] = f
                        jfs[fi] = jf
                        fbest, fbin, fpos, touched = _best_bin_split(XB[f], gidx, ncw, nwy, s, e - s, S, W,
                                                                     min_samples_leaf, h_cw, h_wy, mask)
                        if touched > 1:
                            sl_found[slot] = True
                        best = sl_best[slot]
                        if fbest > best * _TIE or (fbest * _TIE >= best and fi < sl_rank[slot]
                                                   and fbest > -np.inf):
                            sl_best[slot] = fbest
                            sl_rank[slot] = fi
                            sl_f[slot] = f
                            sl_bin[slot] = fbin
                            sl_pos[slot] = fpos
                        fi += 1
                    _undo_draws(feats, jfs, fi)
                best_f = sl_f[slot]
                if best_f < 0:
                    continue
                best_bin = sl_bin[slot]
                row = XB[best_f]
                xf = XT[best_f]
                lo = -np.inf
                hi = np.inf
                for k in range(s, e):
                    i = gidx[k]
                    v = np.float64(xf[i])
                    if row[i] <= best_bin:
                        if v > lo:
                            lo = v
                    elif v < hi:
                        hi = v
                thr = 0.5 * (lo + hi)
                if thr >= hi:
                    thr = lo
                node = cur_id[c]
                b_feat[node] = best_f
                b_thr[node] = thr
                importance[best_f] += sl_best[slot] - S * S / W
                lpos = s
                r = 0
                for k in range(s, e):
                    if row[gidx[k]] <= best_bin:
                        idx[lpos] = idx[k]
                        lpos += 1
                    else:
                        tmp[r] = idx[k]
                        r += 1
                for k in range(r):
                    idx[lpos + k] = tmp[k]
                nl = sl_pos[slot]
                key = cur_key[c]
                b_left[node] = n_nodes
                b_right[node] = n_nodes + 1
                nxt_id[n_nxt] = n_nodes
                nxt_s[n_nxt] = s
                nxt_e[n_nxt] = s + nl
                nxt_key[n_nxt] = _child_key(key, 1)
                nxt_id[n_nxt + 1] = n_nodes + 1
                nxt_s[n_nxt + 1] = s + nl
                nxt_e[n_nxt + 1] = e
                nxt_key[n_nxt + 1] = _child_key(key, 2)
                n_nxt += 2
                n_nodes += 2

        cur_id, nxt_id = nxt_id, cur_id
        cur_s, nxt_s = nxt_s, cur_s
        cur_e, nxt_e = nxt_e, cur_e
        cur_key, nxt_key = nxt_key, cur_key
        n_cur = n_nxt
        depth += 1

    # depth-first ids, left subtree first, children numbered when their parent is reached (the node-wise order)
    new_id = np.empty(n_nodes, dtype=np.int64)
    stack = np.empty(n_nodes + 1, dtype=np.int64)
    new_id[0] = 0
    stack[0] = 0
    top = 1
    next_id = 1
    while top > 0:
        top -= 1
        old = stack[top]
        if b_left[old] >= 0:
            new_id[b_left[old]] = next_id
            new_id[b_right[old]] = next_id + 1
            next_id += 2
            stack[top] = b_right[old]
            stack[top + 1] = b_left[old]
            top += 2
    for old in range(n_nodes):
        j = new_id[old]
        feature[j] = b_feat[old]
        threshold[j] = b_thr[old]
        value[j] = b_val[old]
        n_samples[j] = b_ns[old]
        if b_left[old] >= 0:
            left[j] = new_id[b_left[old]]
            right[j] = new_id[b_right[old]]
        else:
            left[j] = -1
            right[j] = -1
    return n_nodes


@njit(cache=True, parallel=True)
def build_forest_levels(XB, XT, y, y_center, seeds, bootstrap, mtry, min_samples_leaf, max_depth,
                        feature, threshold, left, right, value, n_samples, importance, n_nodes):
    """Grow ``len(seeds)`` level-wise binned trees in parallel (prange over trees); outputs as ``build_forest``."""
    for t in prange(seeds.shape[0]):
        n_nodes[t] = build_tree_levels(XB, XT, y, y_center, seeds[t], bootstrap, mtry, min_samples_leaf,
                                       max_depth, feature[t], threshold[t], left[t], right[t], value[t],
                                       n_samples[t], importance[t])


@njit(cache=True)
def build_forest_levels_serial(XB, XT, y, y_center, seeds, bootstrap, mtry, min_samples_leaf, max_depth,
                               feature, threshold, left, right, value, n_samples, importance, n_nodes):
    """``build_forest_levels`` on the calling thread only (no OpenMP runtime is started)."""
    for t in range(seeds.shape[0]):
        n_nodes[t] = build_tree_levels(XB, XT, y, y_center, seeds[t], bootstrap, mtry, min_samples_leaf,
                                       max_depth, feature[t], threshold[t], left[t], right[t], value[t],
                                       n_samples[t], importance[t])
