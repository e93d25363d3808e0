"""DepMap-style CSV matrices: id mapping through sample info, CCLE_Name column, gene headers, bad input."""
import gzip

import numpy as np
import pytest

from ccle.data.depmap import read_depmap_matrix, read_sample_info
from ccle.errors import CCLEError

MATRIX = (",TP53 (7157),KRAS (3845),EGFR (1956)\n"
          "ACH-000001,1.5,0,2.25\n"
          "ACH-000002,0.5,3,0\n"
          "ACH-000003,7,8,9\n")
SAMPLE_INFO = ("DepMap_ID,cell_line_name,CCLE_Name,lineage\n"
               "ACH-000001,NIH:OVCAR-3,NIHOVCAR3_OVARY,ovary\n"
               "ACH-000002,HL-60,HL60_HAEMATOPOIETIC_AND_LYMPHOID_TISSUE,blood\n")


def _write(path, text):
    path.write_text(text)
    return path


def test_depmap_ids_mapped_by_sample_info(tmp_path):
    m = read_depmap_matrix(_write(tmp_path / "e.csv", MATRIX), sample_info=_write(tmp_path / "s.csv", SAMPLE_INFO))
    # ACH-000003 is not in the sample info: dropped
    assert m.cell_lines == ["NIHOVCAR3_OVARY", "HL60_HAEMATOPOIETIC_AND_LYMPHOID_TISSUE"]
    assert m.genes == ["TP53", "KRAS", "EGFR"] and m.descriptions == ["7157", "3845", "1956"]
    assert m.values.dtype == np.float32 and m.values.flags.c_contiguous
    np.testing.assert_array_equal(m.values, [[1.5, 0, 2.25], [0.5, 3, 0]])


def test_sample_info_as_dict_and_reader(tmp_path):
    mapping = read_sample_info(_write(tmp_path / "s.csv", SAMPLE_INFO))
    assert mapping == {"ACH-000001": "NIHOVCAR3_OVARY", "ACH-000002": "HL60_HAEMATOPOIETIC_AND_LYMPHOID_TISSUE"}
    m = read_depmap_matrix(_write(tmp_path / "e.csv", MATRIX), sample_info={"ACH-000003": "X_LUNG"})
    assert m.cell_lines == ["X_LUNG"]


def test_ccle_name_column_gzip_and_plain_gene_names(tmp_path):
    path = tmp_path / "e.csv.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("DepMap_ID,CCLE_Name,TP53,KRAS\nACH-1,A549_LUNG,1,2\nACH-2,MCF7_BREAST,3,4\n")
    m = read_depmap_matrix(path)
    assert m.cell_lines == ["A549_LUNG", "MCF7_BREAST"] and m.genes == ["TP53", "KRAS"]
    assert m.descriptions is None
    np.testing.assert_array_equal(m.values, [[1, 2], [3, 4]])


def test_ccle_names_as_index_tab_separated(tmp_path):
    m = read_depmap_matrix(_write(tmp_path / "e.tsv", "cell\tG1\tG2\nA549_LUNG\t1\t2\n"))
    assert m.cell_lines == ["A549_LUNG"] and m.genes == ["G1", "G2"]


def test_duplicate_symbols_keep_full_headers(tmp_path):
    m = read_depmap_matrix(_write(tmp_path / "e.csv", "c,A (1),A (2)\nX_LUNG,1,2\n"))
    assert m.genes == ["A (1)", "A (2)"]


@pytest.mark.parametrize("text, pattern", [
    (MATRIX, r"e\.csv:2: rows are DepMap ids .* pass sample_info"),
    ("c,G1,G2\nA_LUNG,1,2\nB_LUNG,3,x\n", r"e\.csv:3: non-numeric value 'x' in column 3 \('G2'\)"),
    ("c,G1\nA_LUNG,1\nB_LUNG,2\nA_LUNG,3\n", r"e\.csv:4: duplicated cell line 'A_LUNG' \(first at .*e\.csv:2\)"),
    ("c\nA_LUNG\n", r"e\.csv:1: no gene columns"),
])
def test_bad_matrices(tmp_path, text, pattern):
    with pytest.raises(CCLEError, match=pattern):
        read_depmap_matrix(_write(tmp_path / "e.csv", text))


def test_bad_sample_info(tmp_path):
    with pytest.raises(CCLEError, match=r"s\.csv:1: sample info needs columns"):
        read_depmap_matrix(_write(tmp_path / "e.csv", MATRIX), sample_info=_write(tmp_path / "s.csv", "a,b\n1,2\n"))


@pytest.mark.parametrize("text, pattern", [
    ("c,G1,G2\nA_LUNG,1,2\nB_LUNG,3\n", r"e\.csv:3: expected 3 fields \(as in the header\), found 2"),
    ("c,G1,G2\nA_LUNG,1,2,9\nB_LUNG,3,4\n", r"e\.csv:2: expected 3 fields \(as in the header\), found 4"),
    ("c,G1,G2\nA_LUNG,1,2\nB_LUNG,3,4,9\n", r"e\.csv:3: expected 3 fields \(as in the header\), found 4"),
    ("c,G1,G2\nA_LUNG,1,2\nB_LUNG,NA,4\n", r"e\.csv:3: column 2 \('G1'\): missing value for gene 'G1' in cell "
                                          r"line 'B_LUNG' \(1 missing values in 1 of 2 genes"),
    ("c,G1,G2\nA_LUNG,1,\nB_LUNG,3,4\n", r"e\.csv:2: column 3 \('G2'\): missing value"),
    ("c,G1,G2\nA_LUNG,1,inf\n", r"e\.csv:2: infinite value 'inf' in column 3 \('G2'\)"),
    ("c,G1,G2\nA_LUNG,1,1e300\n", r"e\.csv:2: value '1e300' overflows float32"),
    ("c,G1,G1\nA_LUNG,1,2\n", r"e\.csv:1: column 3: duplicated gene 'G1' \(first at .*e\.csv:1: column 2\)"),
    ("c,TP53 (7157),TP53 (7157)\nA_LUNG,1,2\n", r"duplicated gene 'TP53 \(7157\)'"),
    ("c,G1\n\n", r"e\.csv: no data rows after the header"),
    ("", r"e\.csv:1: empty file"),
])
def test_damaged_matrices_name_line_and_column(tmp_path, text, pattern):
    with pytest.raises(CCLEError, match=pattern):
        read_depmap_matrix(_write(tmp_path / "e.csv", text))


def test_missing_values_policies_and_merged_genes(tmp_path):
    path = _write(tmp_path / "e.csv", "c,G1,G2,G1\nA_LUNG,1,2,3\nB_LUNG,NA,4,5\nC_LUNG,5,6,7\n")
    m = read_depmap_matrix(path, impute="median", duplicate_genes="mean")
    assert m.genes == ["G1", "G2"] and m.quality.merged_genes == ["G1"] and m.quality.n_missing_values == 1
    np.testing.assert_array_equal(m.values, [[2, 2], [4, 4], [6, 6]])  # B's G1 imputed to 3, then (3+5)/2
    d = read_depmap_matrix(path, drop_incomplete_genes=True, duplicate_genes="mean")
    assert d.genes == ["G2", "G1"] and d.quality.incomplete_genes == ["G1"]
    np.testing.assert_array_equal(d.values[:, 0], [2, 4, 6])
    assert "1 missing values in 1 genes: those genes dropped" in d.quality.summary()


def test_bom_crlf_gzip_by_content_and_unnamed_rows(tmp_path):
    text = "\ufeffDepMap_ID,CCLE_Name,G1\r\nACH-1,A549_LUNG,1\r\nACH-2,,2\r\n"
    plain_name = tmp_path / "e.csv"  # gzip content, plain name
    plain_name.write_bytes(gzip.compress(text.encode()))
    m = read_depmap_matrix(plain_name)
    assert m.cell_lines == ["A549_LUNG"] and m.genes == ["G1"] and m.quality.unnamed_rows == 1
    not_gzip = _write(tmp_path / "f.csv.gz", text)
    assert read_depmap_matrix(not_gzip).cell_lines == ["A549_LUNG"]
    damaged = tmp_path / "g.csv.gz"
    many = "c,G1\n" + "".join(f"C{i}_LUNG,{i}\n" for i in range(2000))
    damaged.write_bytes(gzip.compress(many.encode())[:-30])
    with pytest.raises(CCLEError, match=r"g\.csv\.gz: truncated or corrupt gzip"):
        read_depmap_matrix(damaged)


@pytest.mark.parametrize("text, pattern", [
    ("", r"s\.csv:1: empty file, expected the header line of the sample info"),
    ("DepMap_ID,CCLE_Name\n", r"s\.csv: sample info names no cell line"),
    ("DepMap_ID,x,CCLE_Name\nACH-1,a\n", r"s\.csv:2: 2 fields, the header has 3"),
    ("DepMap_ID,CCLE_Name\nACH-1,A_LUNG\nACH-1,B_LUNG\n", r"s\.csv:3: DepMap id 'ACH-1' named 'B_LUNG' here and "
                                                         r"'A_LUNG' on line 2"),
])
def test_damaged_sample_info(tmp_path, text, pattern):
    with pytest.raises(CCLEError, match=pattern):
        read_sample_info(_write(tmp_path / "s.csv", text))


def test_real_tgsa_matrix(shared_ccle):
    m = read_depmap_matrix(shared_ccle / "expression" / "TGSA_DepMap_census706_expr_zscored.csv.gz")
    assert m.shape == (580, 706)
    assert m.cell_lines[0] == "NIHOVCAR3_OVARY" and m.genes[:3] == ["AKT3", "ABI1", "SH2B3"]
    assert np.isfinite(m.values).all()
    # TGSA z-scored every gene across its 580 lines
    np.testing.assert_allclose(m.values.mean(axis=0), 0.0, atol=0.02)


def test_real_sample_info_names_the_tgsa_ids(shared_ccle):
    mapping = read_sample_info(shared_ccle / "expression" / "DepMap_sample_info_from_TGSA.csv")
    assert len(mapping) > 1700 and mapping["ACH-000001"] == "NIHOVCAR3_OVARY"


def test_read_lineages_maps_ccle_names_and_needs_the_column(tmp_path):
    from ccle.data.depmap import read_lineages

    got = read_lineages(_write(tmp_path / "s.csv", SAMPLE_INFO))
    assert got == {"NIHOVCAR3_OVARY": "ovary", "HL60_HAEMATOPOIETIC_AND_LYMPHOID_TISSUE": "blood"}
    with pytest.raises(CCLEError, match="lineage"):
        read_lineages(_write(tmp_path / "t.csv", "DepMap_ID,CCLE_Name\nACH-1,X_LUNG\n"))
