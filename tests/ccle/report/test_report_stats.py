"""Ranks, Friedman, Nemenyi critical difference and the Benjamini-Hochberg paired tests of the report."""
import math

import numpy as np
import pytest
from scipy import stats as sps

from ccle.evaluation.metrics import corrected_resampled_ttest
from ccle.report.stats import cliques, critical_difference, paired_tests, rank_matrix


def _records(mse, n_splits=3, noise=0.0, seed=0):
    """``mse[drug][method]`` -> records with that MSE (+ noise per split)."""
    rng = np.random.default_rng(seed)
    return [{"drug": d, "split": s, "method": m, "mse": v + noise * rng.standard_normal(), "n_train": 70,
             "n_test": 30} for d, row in mse.items() for s in range(n_splits) for m, v in row.items()]


def test_ranks_and_friedman_match_scipy():
    rng = np.random.default_rng(1)
    table = {f"d{i}": {"A": 1.0 + rng.random(), "B": 1.2 + rng.random(), "C": 2.0 + rng.random(),
                       "D": 1.1 + rng.random()} for i in range(8)}
    recs = _records(table, n_splits=1)
    drugs, methods, ranks = rank_matrix(recs)
    assert drugs == list(table) and methods == ["A", "B", "C", "D"]
    np.testing.assert_allclose(ranks, [sps.rankdata([table[d][m] for m in methods]) for d in drugs])
    res = critical_difference(recs)
    ref = sps.friedmanchisquare(*[[table[d][m] for d in drugs] for m in methods])
    assert res["friedman_stat"] == pytest.approx(ref.statistic) and res["friedman_p"] == pytest.approx(ref.pvalue)
    np.testing.assert_allclose(res["avg_ranks"], ranks.mean(axis=0))


@pytest.mark.parametrize("k,q", [(2, 1.960), (3, 2.343), (4, 2.569), (5, 2.728), (6, 2.850), (10, 3.164)])
def test_nemenyi_critical_difference_uses_demsar_q_values(k, q):
    # Demsar (2006), Table 5(a): q_0.05 of the Nemenyi test; CD = q * sqrt(k (k+1) / (6 N))
    n = 24
    table = {f"d{i}": {f"m{j}": float((i * 7 + j * 3) % (k + 1)) + j * 1e-3 for j in range(k)} for i in range(n)}
    res = critical_difference(_records(table, n_splits=1))
    assert res["cd"] == pytest.approx(q * math.sqrt(k * (k + 1) / (6 * n)), rel=2e-3)


def test_cliques_join_methods_closer_than_cd():
    assert cliques([1.0, 1.5, 3.0, 3.2], cd=1.0) == [[0, 1], [2, 3]]
    assert cliques([1.0, 1.9, 2.8], cd=1.0) == [[0, 1], [1, 2]]
    assert cliques([1.0, 3.0], cd=1.0) == []
    assert cliques([2.0, 1.0, 1.2], cd=5.0) == [[1, 2, 0]]


def test_too_few_methods_or_drugs_give_none():
    assert critical_difference(_records({"d": {"A": 1.0, "B": 2.0}})) is None
    assert critical_difference(_records({"d": {"A": 1.0}, "e": {"A": 2.0}})) is None


def test_paired_tests_apply_benjamini_hochberg_across_drugs():
    table = {f"d{i}": {"PM": 1.0, "EN": 1.0 + 0.02 * i, "mean": 1.5} for i in range(6)}
    recs = _records(table, n_splits=5, noise=0.02, seed=3)
    rows, summary = paired_tests(recs, "PM", alpha=0.05)
    en = [r for r in rows if r[0] == "EN"]
    assert [r[1] for r in en] == list(table)
    by = {(r["drug"], r["method"], r["split"]): r["mse"] for r in recs}
    ps = []
    for r in en:
        diffs = [by[(r[1], "PM", s)] - by[(r[1], "EN", s)] for s in range(5)]
        ref = corrected_resampled_ttest(diffs, 70, 30)
        assert r[2] == pytest.approx(ref["mean"]) and r[4] == pytest.approx(ref["p"])
        ps.append(ref["p"])
    np.testing.assert_allclose([r[5] for r in en], sps.false_discovery_control(ps, method="bh"))
    # BH q >= p, and the counts use q
    assert all(r[5] >= r[4] - 1e-12 for r in en)
    s_en = next(s for s in summary if s[0] == "EN")
    assert s_en[3] == sum(1 for r in en if r[5] < 0.05 and r[2] < 0)
    s_mean = next(s for s in summary if s[0] == "mean")
    assert s_mean[1:] == [6, 6, 6, 0]   # PM is 0.5 lower everywhere: significant on every drug


def test_paired_tests_without_reference_are_empty():
    assert paired_tests(_records({"d": {"EN": 1.0, "mean": 2.0}}), "PM") == ([], [])
