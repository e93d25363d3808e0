"""Report pieces about trusting the numbers: undefined values print as n/a, the gene heat map never falls back
to alphabetical order, the coverage section's figures, the leakage headline with the published values."""
import numpy as np
import pandas as pd

from ccle.report.paper_values import PAPER_TABLE1, paper_mse
from ccle.report.sections import f3
from ccle.report.sections_extra import genes_section
from ccle.report.sections_trust import coverage_section, leakage_headline_section


def test_undefined_and_negative_zero_cells():
    assert f3(float("nan")) == "n/a" and f3(None) == "–"
    assert f3(-0.0001) == "0.000" and f3(-0.02) == "-0.020" and f3(0.5) == "0.500"


def _genes(tmp_path, vary):
    rows = []
    for d in ("D1", "D2"):
        for k, g in enumerate(["AAA", "BBB", "ZZZ", "YYY"]):
            rows.append({"drug": d, "source": "RFE", "gene": g, "selection_frequency": 1.0, "mean_rank": k + 1})
            if vary:   # the elastic net picks ZZZ and YYY most often
                rows.append({"drug": d, "source": "EN", "gene": g, "selection_frequency": [0.2, 0.2, 1.0, 0.8][k],
                             "mean_rank": [4, 3, 1, 2][k]})
    path = tmp_path / "genes.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_gene_heat_map_uses_informative_rankings_only(tmp_path):
    sec = genes_section(_genes(tmp_path, vary=True), ["D1", "D2"], heat_genes=2)
    assert "Left out of the heat map: RFE" in sec["paragraphs"][0] and sec["figures"]
    sec = genes_section(_genes(tmp_path, vary=False), ["D1", "D2"], heat_genes=2)
    assert "No stability heat map" in sec["paragraphs"][0] and not sec.get("figures")


def _rec(drug, method, split, protocol="strict", **extra):
    return {"drug": drug, "method": method, "split": split, "protocol": protocol, "mse": 0.3 + 0.1 * split,
            "n_train": 70, "n_test": 30, **extra}


def test_coverage_section_averages_per_drug_then_over_drugs():
    recs = [_rec(d, "EN", s, interval_level=0.9, interval_coverage=c + 0.02 * s, interval_width=1.0,
                 confident_share=0.1, confident_acc=1.0)
            for d, c in (("A", 0.80), ("B", 0.90)) for s in range(2)]
    sec = coverage_section(recs, ["A", "B"], ["EN"])
    row = sec["tables"][0]["rows"][0]
    assert row[:5] == ["EN", "0.860", "0.810", "0", "1.000"]
    assert sec["figures"][0]["name"] == "fig_interval_coverage"
    assert "Not in this run" in coverage_section([_rec("A", "EN", 0)], ["A"], ["EN"])["absent"]


def test_leakage_headline_pairs_protocols_and_marks_the_paper():
    assert paper_mse("Nilotinib", "PM") == 0.215 and paper_mse("Nilotinib", "PM+") is None and len(PAPER_TABLE1) == 24
    recs = [_rec("Nutlin-3", m, s, p) for m in ("PM", "PM+") for s in range(2) for p in ("strict", "paper")]
    recs = [dict(r, mse=r["mse"] - 0.1) if r["protocol"] == "paper" and r["method"] == "PM" else r for r in recs]
    sec = leakage_headline_section(recs, ["Nutlin-3"], ["PM", "PM+"])
    rows = {r[0]: r for r in sec["tables"][0]["rows"]}
    assert rows["PM (paper, as described)"][-1] == "0.123" and rows["PM+ (regularized committee)"][-1] == "–"
    assert "Not in this run" in leakage_headline_section([_rec("A", "PM", 0)], ["A"], ["PM"])["absent"]
    np.testing.assert_allclose(float(rows["PM+ (regularized committee)"][4]), 0.0)
    # PM: the paper protocol 0.1 lower on both splits -> strict - paper = 0.1, one drug where the leak helps
    assert rows["PM (paper, as described)"][4:6] == ["0.100", "1"]
