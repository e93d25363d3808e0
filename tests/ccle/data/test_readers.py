"""Drug-response layouts recognised from the header: GDSC fitted dose response (CSV and XLSX), CTRPv2, PRISM
secondary screen, named long tables, the CCLE 2015 file unchanged; ';'-separated files with decimal commas;
bad input named by file and line. Fixtures in tests/ccle/data follow the published layouts column for column."""
import builtins
import csv
import gzip
import shutil
from pathlib import Path

import pytest

from ccle.data.ctrp import CURVE_COLUMNS, read_ctrp
from ccle.data.drug_formats import drug_layout, read_drugs
from ccle.data.drugs import ORIGINAL_COLUMNS, read_drug_table, resolve_drug
from ccle.data.gdsc import GDSC_COLUMNS, read_gdsc
from ccle.data.longtable import LongTableSpec
from ccle.data.prism import PRISM_COLUMNS
from ccle.evaluation.thresholds import sensitive_direction
from ccle.errors import CCLEError

DATA = Path(__file__).parent / "fixtures"
GDSC = DATA / "GDSC2_fitted_dose_response.csv"
PRISM = DATA / "secondary-screen-dose-response-curve-parameters.csv"
CTRP = DATA / "ctrpv2"


def _rows(path, delimiter=","):
    with open(path, newline="") as fh:
        return list(csv.reader(fh, delimiter=delimiter))


def _write_rows(path, rows, delimiter=","):
    with open(path, "w", newline="") as fh:
        csv.writer(fh, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return path


def test_fixtures_have_the_published_headers():
    assert tuple(_rows(GDSC)[0]) == GDSC_COLUMNS and len(GDSC_COLUMNS) == 19
    assert tuple(_rows(PRISM)[0]) == PRISM_COLUMNS
    assert tuple(_rows(CTRP / "v20.data.curves_post_qc.txt", "\t")[0]) == CURVE_COLUMNS


def test_layout_is_recognised_from_the_header(tmp_path):
    assert drug_layout(GDSC) == "gdsc" and drug_layout(PRISM) == "prism"
    assert drug_layout(CTRP) == drug_layout(CTRP / "v20.data.curves_post_qc.txt") == "ctrp"
    ccle = _write_rows(tmp_path / "ccle.csv", [["CCLE Cell Line Name", "Compound", "ActArea"], ["A549_LUNG", "X", "1"]])
    assert drug_layout(ccle) == "ccle2015"


def test_gdsc_ln_ic50_default_with_tissue_ids_and_two_ids_under_one_name():
    t = read_drugs(GDSC)
    assert t.layout == "gdsc" and t.response == "LN_IC50 (low = sensitive)" and t.direction == -1
    assert sensitive_direction(t.response) == -1
    assert t.drugs == ["Camptothecin", "Selumetinib (1062)", "Selumetinib (1736)"]
    assert t.drug_ids == {"Camptothecin": "1003", "Selumetinib (1062)": "1062", "Selumetinib (1736)": "1736"}
    assert t.drug_names["Selumetinib (1736)"] == "Selumetinib"
    assert t.tissues == {"A549": "LUAD", "MCF7": "BRCA", "NCI-H460": "LUAD", "T-T": "ESCA", "TT": "THCA"}
    assert t.cell_ids["T-T"] == {"cosmic": "1299064", "sanger": "SIDM00322"}
    # the two Selumetinib ids are two drugs, never merged
    assert t.responses("Selumetinib (1062)")["A549"] == 0.72 and t.responses("Selumetinib (1736)")["A549"] == 1.5
    assert t.responses("Camptothecin")["T-T"] == pytest.approx(-5.04494)
    assert t.missing.values.tolist() == [["T-T", "Selumetinib (1062)"]]  # empty LN_IC50: not measured


def test_gdsc_auc_response_and_only_the_chosen_column_is_required(tmp_path):
    t = read_drugs(GDSC, response="AUC")
    assert t.response == "AUC (low = sensitive)" and t.responses("Camptothecin")["MCF7"] == 0.61497
    assert sorted(map(tuple, t.missing.values.tolist())) == [("MCF7", "Selumetinib (1062)"),
                                                             ("T-T", "Selumetinib (1062)")]
    rows = _rows(GDSC)
    keep = [GDSC_COLUMNS.index(c) for c in ("CELL_LINE_NAME", "DRUG_ID", "DRUG_NAME", "AUC")]
    slim = _write_rows(tmp_path / "slim.csv", [[r[i] for i in keep] for r in rows])
    assert drug_layout(slim) == "gdsc"
    s = read_drugs(slim, response="AUC")
    assert s.frame.equals(t.frame) and s.tissues == {} and s.cell_ids == {}
    with pytest.raises(CCLEError, match=r"slim.csv:1: required column\(s\) 'LN_IC50'"):
        read_drugs(slim)


def test_drug_selector_resolves_label_id_and_unambiguous_name():
    t = read_drugs(GDSC)
    assert resolve_drug(t, "Selumetinib (1062)") == ("Selumetinib (1062)", None)
    assert resolve_drug(t, "1736") == ("Selumetinib (1736)", "id 1736")
    assert resolve_drug(t, "Camptothecin") == ("Camptothecin", None)
    assert resolve_drug(t, "camptothecin") == ("Camptothecin", "case")
    assert resolve_drug(t, "1003") == ("Camptothecin", "id 1003")
    with pytest.raises(CCLEError, match=r"'Selumetinib' is ambiguous: Selumetinib \(1062\), Selumetinib \(1736\)"):
        resolve_drug(t, "Selumetinib")
    with pytest.raises(CCLEError, match="unknown drug 'Trametinib'"):
        resolve_drug(t, "Trametinib")


def test_gdsc_xlsx_reads_like_the_csv(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    for row in _rows(GDSC):
        sheet.append([float(v) if v.replace(".", "", 1).lstrip("-").isdigit() else (v or None) for v in row])
    book.save(tmp_path / "GDSC2_fitted_dose_response.xlsx")
    x = read_drugs(tmp_path / "GDSC2_fitted_dose_response.xlsx")
    c = read_drugs(GDSC)
    assert x.frame.equals(c.frame) and x.drug_ids == c.drug_ids and x.cell_ids == c.cell_ids
    assert x.tissues == c.tissues and x.missing.equals(c.missing)


def test_xlsx_without_openpyxl_says_how_to_go_on(tmp_path, monkeypatch):
    (tmp_path / "g.xlsx").write_bytes(b"PK\x03\x04" + b"\0" * 60)
    real_import = builtins.__import__

    def no_openpyxl(name, *a, **kw):
        if name == "openpyxl":
            raise ImportError(name)
        return real_import(name, *a, **kw)

    monkeypatch.setattr(builtins, "__import__", no_openpyxl)
    with pytest.raises(CCLEError, match=r"g.xlsx: is an Excel workbook; reading it needs the optional package "
                                        r"openpyxl .*save the sheet as CSV"):
        read_drugs(tmp_path / "g.xlsx")


@pytest.mark.parametrize("edit, message", [
    (lambda rows: rows[3].__setitem__(15, "abc"), r"GDSC.csv:4: non-numeric value 'abc' in column 'LN_IC50'"),
    (lambda rows: rows[5].pop(), r"GDSC.csv:6: expected 19 fields \(as in the header\), found 18"),
    (lambda rows: rows[2].__setitem__(4, ""), r"GDSC.csv:3: empty CELL_LINE_NAME, DRUG_ID or DRUG_NAME"),
    (lambda rows: rows.append(list(rows[1])), r"GDSC.csv:17: duplicated response for cell line 'A549' and drug "
                                              r"'Camptothecin' \(also on line 2\)"),
    (lambda rows: rows[6].__setitem__(3, "111"), r"GDSC.csv:7: cell line 'A549' has cosmic id '111' here and "
                                                 r"'905949' on line 2"),
    (lambda rows: rows[6].__setitem__(6, "COAD"), r"GDSC.csv:7: cell line 'A549' has tissue 'COAD' here and "
                                                  r"'LUAD' on line 2"),
])
def test_gdsc_bad_rows_name_file_and_line(tmp_path, edit, message):
    rows = _rows(GDSC)
    edit(rows)
    with pytest.raises(CCLEError, match=message):
        read_gdsc(_write_rows(tmp_path / "GDSC.csv", rows))


def test_ctrp_folder_curves_file_or_the_four_files():
    t = read_drugs(CTRP)
    assert t.layout == "ctrp" and t.response == "area_under_curve (low = sensitive)" and t.direction == -1
    assert t.drug_ids == {"selumetinib": "1788", "camptothecin": "3588"}
    # A549 was screened in experiments 10 and 14: the two curves are averaged
    assert t.responses("selumetinib")["A549"] == pytest.approx((8.5 + 8.9) / 2)
    assert t.notes == ["1 (cell line, drug) pairs measured more than once: responses averaged"]
    # two lines named TT: named CCLE-style by their primary site, never merged
    assert t.responses("selumetinib")[["TT_THYROID", "TT_OESOPHAGUS"]].tolist() == [11.0, 10.2]
    assert t.tissues["TT_OESOPHAGUS"] == "oesophagus" and t.cell_ids["A549"] == {"suffix": "LUNG"}
    assert t.missing.values.tolist() == [["TT_OESOPHAGUS", "camptothecin"]]
    by_file = read_drugs(CTRP / "v20.data.curves_post_qc.txt")
    four = read_ctrp(sorted(CTRP.iterdir()))
    assert by_file.frame.equals(t.frame) and four.frame.equals(t.frame)
    ec50 = read_drugs(CTRP, response="apparent_ec50_umol")
    assert ec50.responses("camptothecin")["MCF7"] == 0.09


def test_ctrp_missing_file_and_unknown_experiment(tmp_path):
    folder = tmp_path / "ctrp"
    shutil.copytree(CTRP, folder)
    (folder / "v20.meta.per_compound.txt").unlink()
    with pytest.raises(CCLEError, match=r"CTRPv2 needs .* missing .*v20.meta.per_compound.txt"):
        read_drugs(folder)
    shutil.copy(CTRP / "v20.meta.per_compound.txt", folder)
    rows = _rows(folder / "v20.data.curves_post_qc.txt", "\t")
    rows[3][0] = "99"
    _write_rows(folder / "v20.data.curves_post_qc.txt", rows, "\t")
    with pytest.raises(CCLEError, match=r"v20.data.curves_post_qc.txt:4: experiment_id '99' is not in"):
        read_drugs(folder)


def test_prism_auc_keeps_the_latest_screen_and_drops_failed_str_profiling():
    t = read_drugs(PRISM)
    assert t.layout == "prism" and t.response == "auc (low = sensitive)" and t.direction == -1
    assert t.responses("8-bromo-cGMP")["A549_LUNG"] == 0.85   # MTS010 wins over HTS002 (0.9123)
    assert "NCIH460_LUNG" not in t.responses("trametinib").index  # passed_str_profiling FALSE
    assert t.responses("trametinib")["ACH-000842"] == 0.3  # no ccle_name: named by its model id
    assert t.cell_ids["A549_LUNG"] == {"depmap": "ACH-000681"}
    assert t.drug_ids["trametinib"] == "BRD-K12345678-001-01-1"
    assert t.notes == ["1 rows with passed_str_profiling FALSE left out",
                       "1 curves of an older screen left out (the pair was measured again)"]
    ic50 = read_drugs(PRISM, response="ic50")
    assert ic50.missing.values.tolist() == [["NCIH460_LUNG", "8-bromo-cGMP"]]


def test_long_table_with_named_columns_and_direction(tmp_path):
    rows = [["line", "compound", "score", "batch"], ["A549_LUNG", "Drug A", "0.82", "1"],
            ["A549_LUNG", "Drug B", "0.15", "1"], ["MCF7_BREAST", "Drug A", "0.40", "2"],
            ["MCF7_BREAST", "Drug B", "", "2"]]
    path = _write_rows(tmp_path / "long.tsv", rows, "\t")
    spec = LongTableSpec("line", "compound", "score", "high")
    t = read_drugs(path, long_table=spec)
    assert t.layout == "long" and t.response == "score (high = sensitive)" and t.direction == 1
    assert sensitive_direction(t.response) == 1
    assert t.responses("Drug A").to_dict() == {"A549_LUNG": 0.82, "MCF7_BREAST": 0.40}
    low = read_drugs(path, long_table=dict(cell_column="line", drug_column="compound", response_column="score",
                                           sensitive="low"))
    assert low.direction == -1 and sensitive_direction(low.response) == -1
    with pytest.raises(CCLEError, match=r"long.tsv:1: required column\(s\) 'dose' not in the header"):
        read_drugs(path, long_table=LongTableSpec("line", "compound", "dose", "high"))
    with pytest.raises(CCLEError, match="sensitive must be 'high' or 'low'"):
        LongTableSpec("line", "compound", "score", "up")
    _write_rows(path, [["line", "compound", "score"], ["A549_LUNG", "Drug A", "1"], ["MCF7_BREAST", "drug a", "2"]],
                "\t")
    with pytest.raises(CCLEError, match=r"long.tsv:3: drug 'drug a' differs from 'Drug A' \(line 2\) only in case"):
        read_drugs(path, long_table=spec)


def test_unknown_layout_names_the_file_and_the_long_table_flags(tmp_path):
    path = _write_rows(tmp_path / "other.csv", [["cell", "drug", "value"], ["A549", "X", "1"]])
    with pytest.raises(CCLEError, match=r"other.csv:1: not a known drug-response layout .* \(--cell-column, "
                                        r"--drug-column, --response-column, --sensitive\)"):
        read_drugs(path)
    piped = tmp_path / "piped.txt"
    piped.write_text("cell|drug|value\nA549|X|1\n")
    with pytest.raises(CCLEError, match="single field: is the file separated by something other than"):
        read_drugs(piped)


def test_ccle_2015_file_is_read_as_before(tmp_path):
    rows = [list(ORIGINAL_COLUMNS), ["A549_LUNG", "A549", "AZD6244", "MEK", "1", "1", "1", "8", "Sigmoid", "0.5", "1.2",
                                     "-80", "2.5"]]
    path = _write_rows(tmp_path / "ccle.csv", rows)
    new, old = read_drugs(path), read_drug_table(path)
    assert new.frame.equals(old.frame) and new.response == "ActArea" and new.direction == 1
    assert read_drugs(path, response="IC50 (uM)").direction == -1
    bad = _write_rows(tmp_path / "bad.csv", [["Compound", "ActArea"], ["X", "1"]])
    with pytest.raises(CCLEError, match="required column 'CCLE Cell Line Name'"):
        read_drugs(bad)


def _excel_csv(rows):
    """A ';'-separated file with decimal commas, as a spreadsheet saves CSV where ',' is the decimal mark."""
    return "".join(";".join(r) + "\r\n" for r in rows)


def test_semicolon_decimal_comma_drug_files(tmp_path):
    path = tmp_path / "ccle_excel.csv"
    path.write_text(_excel_csv([["CCLE Cell Line Name", "Compound", "ActArea"], ["A549_LUNG", "AZD6244", "2,5"],
                                ["MCF7_BREAST", "AZD6244", "0,75"]]), encoding="utf-8-sig")
    t = read_drugs(path)
    assert t.responses("AZD6244").to_dict() == {"A549_LUNG": 2.5, "MCF7_BREAST": 0.75}
    gdsc = [r for r in _rows(GDSC)]
    text = _excel_csv([[v.replace(".", ",") if i >= 13 else v for i, v in enumerate(r)] for r in gdsc])
    (tmp_path / "gdsc_excel.csv").write_text(text)
    assert read_drugs(tmp_path / "gdsc_excel.csv").frame.equals(read_drugs(GDSC).frame)
    path.write_text(_excel_csv([["CCLE Cell Line Name", "Compound", "ActArea"], ["A549_LUNG", "AZD6244", "1.234,5"]]))
    with pytest.raises(CCLEError, match=r"ccle_excel.csv:2: number '1.234,5' holds both '.' and ','"):
        read_drugs(path)


def test_decimal_comma_in_a_comma_file_gets_a_hint(tmp_path):
    path = tmp_path / "quoted.csv"
    path.write_text('CCLE Cell Line Name,Compound,ActArea\nA549_LUNG,AZD6244,"2,5"\n')
    with pytest.raises(CCLEError, match=r"quoted.csv:2: non-numeric value '2,5' \(a decimal comma\? save the file "
                                        r"with '.' as the decimal mark, or ';'-separated\)"):
        read_drugs(path)


def test_gzip_gdsc_is_read(tmp_path):
    gz = tmp_path / "GDSC2.csv.gz"
    with gzip.open(gz, "wb") as fh:
        fh.write(GDSC.read_bytes())
    assert read_drugs(gz).frame.equals(read_drugs(GDSC).frame)

