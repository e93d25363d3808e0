"""Statistics over drugs for the report: average ranks with the Friedman test and the Nemenyi critical
difference (Demsar 2006), and per-drug paired corrected t-tests with Benjamini-Hochberg across drugs.

One multiple-testing rule for everything that counts significant drugs (the console, paired.csv /
paired_summary.csv, report.html and report.md): Benjamini-Hochberg across the drugs of each comparison,
q < alpha (:func:`paired_tests`, laid out as a table by :func:`paired_table`).
"""
import math

import numpy as np
from scipy import stats

from ccle.evaluation.metrics import corrected_resampled_ttest
from ccle.report.tables import _order, per_drug


def rank_matrix(records, metric="mse", drugs=None, methods=None, lower_is_better=True):
    """Ranks (n_drugs, n_methods) of the methods within each drug by the per-drug mean of ``metric`` over
    splits (1 = best, ties share the average rank). Drugs where a method is missing are left out. Returns
    ``(drugs_used, methods, ranks)``."""
    drugs = drugs or _order(records, "drug")
    methods = methods or _order(records, "method")
    t, _ = per_drug(records, metric, drugs, methods)
    used, rows = [], []
    for d in drugs:
        v = np.array([t[d][m] for m in methods])
        if not np.all(np.isfinite(v)):
            continue
        used.append(d)
        rows.append(stats.rankdata(v if lower_is_better else -v))
    return used, list(methods), np.array(rows).reshape(len(rows), len(methods))


def critical_difference(records, metric="mse", drugs=None, methods=None, alpha=0.05):
    """Friedman test over drugs of the methods' ranks and the Nemenyi critical difference
    ``CD = q_alpha * sqrt(k (k + 1) / (6 N))`` with ``q_alpha`` the studentized range quantile / sqrt(2)
    (k methods, N drugs; Demsar 2006, JMLR 7). Returns a dict (methods, avg_ranks, n_drugs, friedman_stat,
    friedman_p, cd, alpha) or None with fewer than 2 methods or 2 drugs."""
    used, methods, ranks = rank_matrix(records, metric, drugs, methods)
    k, n = len(methods), len(used)
    if k < 2 or n < 2:
        return None
    avg = ranks.mean(axis=0)
    chi2 = p = float("nan")
    if k >= 3 and np.ptp(ranks, axis=1).any():
        res = stats.friedmanchisquare(*ranks.T)  # ranks re-ranked within drug: the same statistic
        chi2, p = float(res.statistic), float(res.pvalue)
    q = float(stats.studentized_range.ppf(1.0 - alpha, k, np.inf)) / math.sqrt(2.0)
    cd = q * math.sqrt(k * (k + 1) / (6.0 * n))
    return {"methods": methods, "avg_ranks": [float(a) for a in avg], "n_drugs": n, "friedman_stat": float(chi2),
            "friedman_p": p, "cd": float(cd), "alpha": alpha}


def cliques(avg_ranks, cd):
    """Maximal groups (index lists in rank order) of methods whose average ranks differ by less than ``cd``:
    the bars of a critical-difference diagram (groups of one are not returned)."""
    order = list(np.argsort(avg_ranks, kind="stable"))
    r = [avg_ranks[i] for i in order]
    groups = []
    for i in range(len(order)):
        j = i
        while j + 1 < len(order) and r[j + 1] - r[i] < cd:
            j += 1
        if j > i and not any(g[0] <= i and j <= g[1] for g in groups):
            groups.append((i, j))
    return [[order[x] for x in range(a, b + 1)] for a, b in groups]


MIN_DRUGS_CD = 10   # Demsar (2006): the Friedman chi-square and the Nemenyi CD are meant for N > ~10 data sets


def paired_table(records, reference="PM", drugs=None, methods=None, alpha=0.05):
    """:func:`paired_tests` as CSV-ready tables -> ``(header, rows, summary_header, summary_rows)``: rows per
    (baseline, drug) ``[baseline, drug, mean diff, t, p, q, k]``; summary per baseline ``[baseline, drugs,
    reference lower, significantly better, significantly worse]`` (BH q < ``alpha``)."""
    rows, summary = paired_tests(records, reference, drugs, methods, alpha)
    return (["baseline", "drug", f"mean_mse_diff_{reference}_minus_baseline", "t", "p", "q_bh", "k"], rows,
            ["baseline", "drugs", f"{reference}_lower_mse", f"{reference}_significantly_better_bh",
             f"{reference}_significantly_worse_bh"], summary)


def paired_tests(records, reference="PM", drugs=None, methods=None, alpha=0.05):
    """``reference`` against each other method, per drug: the corrected resampled t-test (Nadeau & Bengio
    2003) on the per-split test-MSE differences (reference - other; negative = reference better), then the
    Benjamini-Hochberg adjusted p (q) across the drugs of each comparison. Returns ``(rows, summary)``:
    rows ``[other, drug, mean diff, t, p, q, k]``, summary ``[other, drugs, reference lower, significantly
    better (q < alpha), significantly worse]``; ``[]`` when ``reference`` is absent."""
    drugs = drugs or _order(records, "drug")
    methods = methods or _order(records, "method")
    if reference not in methods:
        return [], []
    by = {(r["drug"], r["method"], int(r["split"])): r for r in records}
    splits_of = {}
    for d, m, s in by:
        splits_of.setdefault((d, m), set()).add(s)
    rows, summary = [], []
    for other in [m for m in methods if m != reference]:
        block = []
        for d in drugs:
            splits = sorted(splits_of.get((d, reference), set()) & splits_of.get((d, other), set()))
            if not splits:
                continue
            diffs = [by[(d, reference, s)]["mse"] - by[(d, other, s)]["mse"] for s in splits]
            first = by[(d, reference, splits[0])]
            res = corrected_resampled_ttest(diffs, first["n_train"], first["n_test"])
            block.append([other, d, res["mean"], res["t"], res["p"], float("nan"), res["k"]])
        ps = np.array([b[4] for b in block], dtype=float)
        ok = np.isfinite(ps)
        if ok.any():
            qs = stats.false_discovery_control(ps[ok], method="bh")
            for b, q in zip([b for b, o in zip(block, ok) if o], qs):
                b[5] = float(q)
        better = sum(1 for b in block if b[5] < alpha and b[2] < 0)
        worse = sum(1 for b in block if b[5] < alpha and b[2] > 0)
        summary.append([other, len(block), sum(1 for b in block if b[2] < 0), better, worse])
        rows += block
    return rows, summary
