"""CCLE drug-response files: the original 13-column CSV, column subsets, response choice and bad input."""
import csv
import io

import numpy as np
import pandas as pd
import pytest

import gzip

from ccle.data.drugs import ORIGINAL_COLUMNS, check_drug_responses, read_drug_table
from ccle.errors import CCLEError

DOSES = ".0025,.0080,.025,.080,.25,.80,2.53,8"


def _original(rows):
    """Original-layout CSV text; rows are (cell, drug, ec50, ic50, amax, actarea) strings."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(ORIGINAL_COLUMNS)
    for cell, drug, ec50, ic50, amax, act in rows:
        w.writerow([cell, cell.split("_")[0], drug, "MEK", DOSES, "1,2,3,4,5,6,7,8", "1,1,1,1,1,1,1,1", "8",
                    "Sigmoid", ec50, ic50, amax, act])
    return buf.getvalue()


ROWS = [("A549_LUNG", "AZD6244", "0.5", "1.2", "-80", "2.5"),
        ("A549_LUNG", "Nutlin-3", "", "8", "-30", "0.25"),
        ("MCF7_BREAST", "AZD6244", "1.5", "8", "-60", "1"),
        ("MCF7_BREAST", "Nutlin-3", "2", "3", "-55", "")]


def _write(path, text):
    path.write_text(text)
    return path


def test_original_13_columns_actarea(tmp_path):
    t = read_drug_table(_write(tmp_path / "d.csv", _original(ROWS)))
    assert t.drugs == ["AZD6244", "Nutlin-3"] and t.response == "ActArea"
    assert list(t.frame.columns) == ["cell_line", "drug", "response"]
    assert t.frame["response"].dtype == np.float64 and len(t.frame) == 3
    assert t.cell_lines == ["A549_LUNG", "MCF7_BREAST"]
    assert t.responses("AZD6244").to_dict() == {"A549_LUNG": 2.5, "MCF7_BREAST": 1.0}
    # the empty ActArea row is reported, not kept
    assert t.missing.values.tolist() == [["MCF7_BREAST", "Nutlin-3"]]


@pytest.mark.parametrize("response, column, expected", [
    ("IC50 (uM)", "IC50 (uM)", {"A549_LUNG": 8.0, "MCF7_BREAST": 3.0}),
    ("ic50", "IC50 (uM)", {"A549_LUNG": 8.0, "MCF7_BREAST": 3.0}),
    ("EC50 (uM)", "EC50 (uM)", {"MCF7_BREAST": 2.0}),
    ("Amax", "Amax", {"A549_LUNG": -30.0, "MCF7_BREAST": -55.0}),
])
def test_response_choice(tmp_path, response, column, expected):
    t = read_drug_table(_write(tmp_path / "d.csv", _original(ROWS)), response=response)
    assert t.response == column
    assert t.responses("Nutlin-3").to_dict() == expected


def test_tab_separated_column_subset(tmp_path):
    text = ("CCLE Cell Line Name\tCompound\tDoses (uM)\tIC50 (uM)\tActArea\n"
            f"A549_LUNG\tAZD6244\t{DOSES}\t1.2\t2.5\n"
            f"MCF7_BREAST\tAZD6244\t{DOSES}\t8\t1\n")
    t = read_drug_table(_write(tmp_path / "d.tsv", text))
    assert t.responses("AZD6244").tolist() == [2.5, 1.0]
    with pytest.raises(CCLEError, match=r"d\.tsv:1: no response column 'Amax'.*'IC50 \(uM\)', 'ActArea'"):
        read_drug_table(tmp_path / "d.tsv", response="Amax")


@pytest.mark.parametrize("rows, pattern", [
    (ROWS + [("A549_LUNG", "AZD6244", "1", "1", "-1", "3")], r"d\.csv:6: duplicated response for cell line "
                                                              r"'A549_LUNG' and drug 'AZD6244' \(also on line 2\)"),
    (ROWS[:2] + [("MCF7_BREAST", "AZD6244", "1", "1", "-1", "high")], r"d\.csv:4: non-numeric value 'high' in column 'ActArea'"),
    ([("", "AZD6244", "1", "1", "-1", "3")], r"d\.csv:2: empty cell line or compound name"),
    ([("A_LUNG", "AZD6244", "1", "1", "-1", "")], r"d\.csv: no ActArea values"),
])
def test_bad_rows(tmp_path, rows, pattern):
    with pytest.raises(CCLEError, match=pattern):
        read_drug_table(_write(tmp_path / "d.csv", _original(rows)))


def test_missing_columns_and_unknown_drug(tmp_path):
    with pytest.raises(CCLEError, match=r"d\.csv:1: no response column 'ActArea'"):
        read_drug_table(_write(tmp_path / "d.csv", "CCLE Cell Line Name,Compound,IC50 (uM)\nA_LUNG,X,1\n"))
    with pytest.raises(CCLEError, match=r"e\.csv:1: required column 'Compound'"):
        read_drug_table(_write(tmp_path / "e.csv", "CCLE Cell Line Name,Drug,ActArea\nA_LUNG,X,1\n"))
    with pytest.raises(CCLEError, match=r"f\.csv:1: empty file"):
        read_drug_table(_write(tmp_path / "f.csv", ""))
    t = read_drug_table(_write(tmp_path / "g.csv", _original(ROWS)))
    with pytest.raises(CCLEError, match=r"g\.csv: unknown drug 'Aspirin'; known: AZD6244, Nutlin-3"):
        t.responses("Aspirin")


SHORT = "CCLE Cell Line Name,Compound,ActArea\n"


@pytest.mark.parametrize("body, pattern", [
    ("A_LUNG,X,1\nB_LUNG,X\n", r"d\.csv:3: expected 3 fields \(as in the header\), found 2"),
    ("A_LUNG,X,1\nB_LUNG,X,2,9\n", r"d\.csv:3: expected 3 fields \(as in the header\), found 4"),
    ("A_LUNG,X,1e300\n", r"d\.csv:2: value '1e300' overflows float32 .* in column 'ActArea'"),
    ("A_LUNG,X,inf\n", r"d\.csv:2: infinite value 'inf' in column 'ActArea'"),
    ("A_LUNG,AEW541,1\nB_LUNG,aew541,2\n", r"d\.csv:3: compound 'aew541' differs from 'AEW541' \(line 2\) only in case"),
    ('A_LUNG,X,"1\n', r"d\.csv:2: cannot parse the line \(unexpected end of data\)"),
])
def test_damaged_rows_name_the_line(tmp_path, body, pattern):
    with pytest.raises(CCLEError, match=pattern):
        read_drug_table(_write(tmp_path / "d.csv", SHORT + body))


def test_bom_crlf_and_gzip_by_content(tmp_path):
    text = SHORT.replace("\n", "\r\n") + "A_LUNG,X,1.5\r\nB_LUNG,X,2\r\n"
    bom = tmp_path / "b.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode())
    gz = tmp_path / "g.csv"  # gzip without .gz in the name
    gz.write_bytes(gzip.compress(text.encode()))
    for path in (bom, gz):
        t = read_drug_table(path)
        assert t.frame["cell_line"].tolist() == ["A_LUNG", "B_LUNG"] and t.frame["response"].tolist() == [1.5, 2.0]
    truncated = tmp_path / "t.csv.gz"
    many = SHORT + "".join(f"C{i}_LUNG,X,{i}\n" for i in range(500))
    truncated.write_bytes(gzip.compress(many.encode())[:-20])
    with pytest.raises(CCLEError, match=r"t\.csv\.gz: truncated or corrupt gzip"):
        read_drug_table(truncated)
    with pytest.raises(CCLEError, match=r"is a directory"):
        read_drug_table(tmp_path)


def test_check_drug_responses_before_any_work(tmp_path):
    t = read_drug_table(_write(tmp_path / "d.csv", SHORT + "A_LUNG,X,1\nB_LUNG,X,1\nA_LUNG,Y,1\nB_LUNG,Y,2\n"
                                                    "A_LUNG,Z,3\n"))
    assert check_drug_responses(t, ["Y", "Y"]) == ["Y"]
    with pytest.raises(CCLEError, match=r"d\.csv: drug 'X': all 2 ActArea values are 1 \(a constant response"):
        check_drug_responses(t, ["Y", "X"])
    with pytest.raises(CCLEError, match=r"d\.csv: drug 'Z' has 1 ActArea value"):
        check_drug_responses(t, ["Z"])
    with pytest.raises(CCLEError, match=r"d\.csv: unknown drug 'W'"):
        check_drug_responses(t, ["W"])


def test_real_file_passes_the_up_front_check(real_table):
    assert check_drug_responses(real_table, real_table.drugs) == real_table.drugs


@pytest.fixture(scope="module")
def real_table(shared_ccle):
    return read_drug_table(shared_ccle / "drug" / "CCLE_dose_response_scores.tsv")


def test_real_file_24_drugs_504_lines(real_table):
    assert len(real_table.drugs) == 24 and len(real_table.cell_lines) == 504 and len(real_table.frame) == 11670
    assert "PD-0325901" in real_table.drugs and "17-AAG" in real_table.drugs


def test_real_file_matches_published_summary(real_table, shared_ccle):
    summary = pd.read_csv(shared_ccle / "drug" / "ActArea_summary_per_drug.csv", index_col=0)
    for drug in real_table.drugs:
        y = real_table.responses(drug).to_numpy()
        row = summary.loc[drug]
        assert len(y) == row["count"]
        np.testing.assert_allclose([y.mean(), np.percentile(y, 25), np.percentile(y, 75), y.max()],
                                   row[["mean", "25%", "75%", "max"]].to_numpy(dtype=float), atol=1e-3)


def test_real_file_other_responses(shared_ccle):
    path = shared_ccle / "drug" / "CCLE_dose_response_scores.tsv"
    assert len(read_drug_table(path, response="IC50 (uM)").frame) == 11670
    ec50 = read_drug_table(path, response="EC50")
    assert len(ec50.frame) == 7200 and len(ec50.missing) == 4470
    with pytest.raises(CCLEError, match="no response column 'Amax'"):
        read_drug_table(path, response="Amax")
