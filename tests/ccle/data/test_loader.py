"""load_data: format detection, real files, the default data set, and argument errors."""
import gzip

import numpy as np
import pytest

from ccle.data.align import drug_dataset
from ccle.data.expression import ExpressionMatrix
from ccle.data.gct import write_gct
from ccle.data.loader import expression_format, load_data, read_expression
from ccle.errors import CCLEError

DRUGS = ("CCLE Cell Line Name,Compound,ActArea,IC50 (uM)\n"
         "A549_LUNG,AZD6244,2.5,1\nMCF-7_BREAST,AZD6244,1.0,8\nHL60_BLOOD,AZD6244,0.5,8\n")


@pytest.fixture
def files(tmp_path):
    m = ExpressionMatrix(np.array([[1, 2], [3, 4], [5, 6]], dtype=np.float32), ["A549_LUNG", "MCF7_BREAST", "X_SKIN"],
                         ["G1", "G2"], ["d1", "d2"], "t")
    gct = write_gct(tmp_path / "e.gct.gz", m)
    csv = tmp_path / "e.csv"
    csv.write_text("DepMap_ID,G1,G2\nACH-000001,1,2\nACH-000002,3,4\n")
    info = tmp_path / "info.csv"
    info.write_text("DepMap_ID,CCLE_Name\nACH-000001,A549_LUNG\nACH-000002,MCF7_BREAST\n")
    drugs = tmp_path / "d.csv"
    drugs.write_text(DRUGS)
    return gct, csv, info, drugs


def test_format_detection(files):
    gct, csv, _, _ = files
    assert expression_format(gct) == "gct" and expression_format(csv) == "csv"


@pytest.mark.parametrize("first, kind", [("\ufeff#1.2", "gct"), ("#1.4", "gct"), ("1.2", "gct"), ("#1.3\t\t", "gct"),
                                         ("cell,G1", "csv"), ("\ufeffDepMap_ID\tG1", "csv")])
def test_format_detection_by_first_line(tmp_path, first, kind):
    path = tmp_path / "x.txt"
    path.write_text(first + "\n1\t2\n")
    assert expression_format(path) == kind


def test_not_a_gct_1_2_1_3_file_is_said_so(tmp_path):
    path = tmp_path / "v.gct"
    path.write_text("#1.4\n1\t1\nName\tDescription\tA_LUNG\ng\td\t1\n")
    with pytest.raises(CCLEError, match=r"v\.gct:1: not a GCT 1.2/1.3 file"):
        read_expression(path)


def test_missing_value_policy_reaches_the_readers(tmp_path, files):
    _, _, _, drugs = files
    gct = tmp_path / "na.gct"
    gct.write_text("#1.2\n2\t3\nName\tDescription\tA549_LUNG\tMCF7_BREAST\tX_SKIN\n"
                   "G1\td\t1\tNA\t3\nG2\td\t4\t5\t6\n")
    with pytest.raises(CCLEError, match=r"na\.gct:4: column 4 .*missing value"):
        load_data(gct, drugs)
    e, _ = load_data(gct, drugs, impute="median")
    assert e.values[1, 0] == 2.0 and e.quality.missing_policy == "median"
    e, _ = load_data(gct, drugs, drop_incomplete_genes=True)
    assert e.genes == ["G2"]
    kept = read_expression(gct)  # predict's entry point: NaN kept for the model's own check
    assert np.isnan(kept.values[1, 0]) and kept.quality.missing_policy == "keep"


def test_gct_and_csv_give_the_same_data_set(files):
    gct, csv, info, drugs = files
    e1, d1 = load_data(gct, drugs)
    e2, d2 = load_data(csv, drugs, sample_info=info)
    a, b = drug_dataset(e1, d1, "AZD6244"), drug_dataset(e2, d2, "AZD6244")
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, [2.5, 1.0])
    assert a.cell_lines == b.cell_lines == ["A549_LUNG", "MCF7_BREAST"]
    assert a.dropped["no_expression"] == ["HL60_BLOOD"]


def test_response_choice(files):
    gct, _, _, drugs = files
    _, table = load_data(gct, drugs, response="IC50 (uM)")
    assert table.response == "IC50 (uM)" and table.responses("AZD6244").tolist() == [1.0, 8.0, 8.0]


def test_argument_errors(files):
    gct, _, _, drugs = files
    with pytest.raises(CCLEError, match="no drug response file given"):
        load_data(gct)
    with pytest.raises(CCLEError, match="no expression file given"):
        load_data(drugs_path=drugs)
    with pytest.raises(CCLEError, match=r"options \['n_genes'\] only apply to the default data set"):
        load_data(gct, drugs, n_genes=100)
    with pytest.raises(CCLEError, match="absent.gct: no such file"):
        load_data(gct.parent / "absent.gct", drugs)


def test_empty_expression_file(tmp_path):
    path = tmp_path / "e.gct.gz"
    with gzip.open(path, "wt"):
        pass
    with pytest.raises(CCLEError, match=r"e\.gct\.gz:1: empty expression file"):
        read_expression(path)


def test_default_data_set_loads(tmp_path):
    expr, drugs = load_data(cache_dir=tmp_path, n_genes=80, seed=5)
    assert expr.shape == (1000, 80) and len(drugs.drugs) == 24 and drugs.response == "ActArea"
    ds = drug_dataset(expr, drugs, "Irinotecan")
    assert ds.X.shape == (317, 80) and ds.dropped["no_expression"] == []


def test_real_shared_files(shared_ccle):
    expr, drugs = load_data(shared_ccle / "expression" / "TGSA_DepMap_census706_expr_zscored.csv.gz",
                            shared_ccle / "drug" / "CCLE_dose_response_scores.tsv")
    assert expr.shape == (580, 706) and len(drugs.drugs) == 24 and len(drugs.cell_lines) == 504
    assert drug_dataset(expr, drugs, "Topotecan").X.shape == (316, 706)
