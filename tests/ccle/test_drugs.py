"""CCLE drug-response files: the original 13-column CSV, column subsets, response choice and bad input."""
import csv
import io

import numpy as np
import pandas as pd
import pytest

from ccle.data.drugs import ORIGINAL_COLUMNS, read_drug_table
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
    assert t.frame["response"].dtype == np.float64 and len(t) == 3
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
    (ROWS[:2] + [("MCF7_BREAST", "AZD6244", "1", "1", "-1", "high")], r"d\.csv:4: non-numeric ActArea value 'high'"),
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


@pytest.fixture(scope="module")
def real_table(shared_ccle):
    return read_drug_table(shared_ccle / "drug" / "CCLE_dose_response_scores.tsv")


def test_real_file_24_drugs_504_lines(real_table):
    assert len(real_table.drugs) == 24 and len(real_table.cell_lines) == 504 and len(real_table) == 11670
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
    assert len(read_drug_table(path, response="IC50 (uM)")) == 11670
    ec50 = read_drug_table(path, response="EC50")
    assert len(ec50) == 7200 and len(ec50.missing) == 4470
    with pytest.raises(CCLEError, match="no response column 'Amax'"):
        read_drug_table(path, response="Amax")
