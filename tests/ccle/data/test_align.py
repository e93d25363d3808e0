"""Cell-line matching between expression and drug tables, and one drug's data set."""
import numpy as np
import pandas as pd
import pytest

from ccle.data.align import drug_dataset, matched_cell_lines, normalize_cell_line
from ccle.data.drugs import DrugTable
from ccle.data.expression import ExpressionMatrix
from ccle.errors import CCLEError


@pytest.mark.parametrize("name, key", [
    ("NCI-H460_LUNG", "NCIH460_LUNG"), ("nci-h460_lung ", "NCIH460_LUNG"), ("NCIH460_LUNG", "NCIH460_LUNG"),
    ("HEL 92.1.7_HAEMATOPOIETIC_AND_LYMPHOID_TISSUE", "HEL9217_HAEMATOPOIETIC_AND_LYMPHOID_TISSUE"),
    ("NIH:OVCAR-3__OVARY", "NIHOVCAR3_OVARY"), ("_A549_", "A549"),
])
def test_normalize_cell_line(name, key):
    assert normalize_cell_line(name) == key


def _expr(names, genes=("G1", "G2", "G3")):
    values = np.arange(len(names) * len(genes), dtype=np.float32).reshape(len(names), len(genes))
    return ExpressionMatrix(values, names, list(genes), None, "expr.gct")


def _drugs(rows):
    frame = pd.DataFrame(rows, columns=["cell_line", "drug", "response"])
    return DrugTable(frame, sorted(set(frame["drug"])), "ActArea", "drugs.csv")


def test_drug_dataset_matches_case_and_punctuation():
    expr = _expr(["A549_LUNG", "NCIH460_LUNG", "MCF7_BREAST", "HL60_HAEMATOPOIETIC"])
    drugs = _drugs([("nci-h460_lung", "X", 2.0), ("A549_LUNG", "X", 1.0), ("ORPHAN_SKIN", "X", 5.0),
                    ("MCF7_BREAST", "Y", 3.0)])
    ds = drug_dataset(expr, drugs, "X")
    assert ds.cell_lines == ["A549_LUNG", "NCIH460_LUNG"]  # expression order
    assert ds.X.dtype == np.float32 and ds.y.dtype == np.float64
    np.testing.assert_array_equal(ds.X, expr.values[[0, 1]])
    np.testing.assert_array_equal(ds.y, [1.0, 2.0])
    assert ds.genes == ["G1", "G2", "G3"] and ds.drug == "X"
    assert ds.dropped["no_expression"] == ["ORPHAN_SKIN"]
    assert ds.dropped["no_response"] == ["MCF7_BREAST", "HL60_HAEMATOPOIETIC"]
    assert ds.dropped["nonfinite_genes"] == []
    assert matched_cell_lines(expr, drugs) == ["A549_LUNG", "NCIH460_LUNG", "MCF7_BREAST"]


def test_nonfinite_genes_are_dropped_and_reported():
    expr = _expr(["A_LUNG", "B_LUNG", "C_LUNG"])
    expr.values[2, 1] = np.nan  # C has no response: G2 stays
    expr.values[0, 2] = np.inf
    ds = drug_dataset(expr, _drugs([("A_LUNG", "X", 1.0), ("B_LUNG", "X", 2.0)]), "X")
    assert ds.genes == ["G1", "G2"] and ds.dropped["nonfinite_genes"] == ["G3"]
    assert ds.X.shape == (2, 2) and np.isfinite(ds.X).all()


def test_unknown_drug():
    with pytest.raises(CCLEError, match=r"drugs\.csv: unknown drug 'Z'; known drugs: X"):
        drug_dataset(_expr(["A_LUNG"]), _drugs([("A_LUNG", "X", 1.0)]), "Z")


def test_no_overlap():
    with pytest.raises(CCLEError, match=r"drugs\.csv: no cell line with a X response is in the expression data "
                                        r"expr\.gct"):
        drug_dataset(_expr(["A_LUNG"]), _drugs([("B_LUNG", "X", 1.0)]), "X")


def test_names_equal_after_normalisation_are_an_error():
    with pytest.raises(CCLEError, match=r"expr\.gct: cell lines 'NCI-H460_LUNG' and 'NCIH460_LUNG' are the same"):
        drug_dataset(_expr(["NCI-H460_LUNG", "NCIH460_LUNG"]), _drugs([("A_LUNG", "X", 1.0)]), "X")


@pytest.fixture(scope="module")
def real(shared_ccle):
    from ccle.data.depmap import read_depmap_matrix
    from ccle.data.drugs import read_drug_table
    expr = read_depmap_matrix(shared_ccle / "expression" / "TGSA_DepMap_census706_expr_zscored.csv.gz")
    drugs = read_drug_table(shared_ccle / "drug" / "CCLE_dose_response_scores.tsv")
    summary = pd.read_csv(shared_ccle / "drug" / "ActArea_summary_per_drug.csv", index_col=0)
    return expr, drugs, summary


def test_real_316_of_504_lines_matched(real):
    expr, drugs, _ = real
    assert len(drugs.cell_lines) == 504
    assert len(matched_cell_lines(expr, drugs)) == 316


def test_real_per_drug_counts_match_summary(real):
    expr, drugs, summary = real
    for drug in ("17-AAG", "Irinotecan", "Nilotinib", "PLX4720"):
        ds = drug_dataset(expr, drugs, drug)
        assert ds.X.shape == (summary.loc[drug, "n_with_TGSA_expr"], 706)
        assert len(ds.dropped["no_expression"]) + ds.X.shape[0] == summary.loc[drug, "count"]


def test_expression_matrix_checks_and_selection():
    m = ExpressionMatrix(np.arange(6).reshape(2, 3), ["A_LUNG", "B_LUNG"], ["x", "y", "z"], ["dx", "dy", "dz"], "m")
    assert m.values.dtype == np.float32 and m.shape == (2, 3)
    sub = m.select_genes([True, False, True])
    assert sub.genes == ["x", "z"] and sub.descriptions == ["dx", "dz"] and sub.values.tolist() == [[0, 2], [3, 5]]
    assert m.select_cells([1]).cell_lines == ["B_LUNG"]
    with pytest.raises(CCLEError, match="m: 1 cell line names for 2 rows"):
        ExpressionMatrix(np.zeros((2, 3)), ["A"], ["x", "y", "z"], None, "m")
    with pytest.raises(CCLEError, match="m: 2 gene names for 3 columns"):
        ExpressionMatrix(np.zeros((2, 3)), ["A", "B"], ["x", "y"], None, "m")
