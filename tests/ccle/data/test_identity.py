"""Cell-line identity: DepMap Model.csv and the current expression layouts (model-indexed, profile-indexed with a
default-entry flag), the join of drug-file lines to expression lines by ids then names with every ambiguity
refused by name, and that join on real CCLE / DepMap names."""
import csv
from pathlib import Path

import numpy as np
import pytest

from ccle.data.depmap import read_depmap_matrix, read_lineages, read_sample_info
from ccle.data.drug_formats import read_drugs
from ccle.data.drugs import read_drug_table
from ccle.data.identity import (LineIdentity, join_lines, link_cell_lines, model_identities, read_models,
                                split_ccle_name, stripped_key, table_identities)
from ccle.data.loader import load_data
from ccle.errors import CCLEError

DATA = Path(__file__).parent / "fixtures"
MODEL = DATA / "Model.csv"
PROFILES = DATA / "OmicsExpressionTPMLogp1HumanProteinCodingGenes.csv"
MODELS_MATRIX = DATA / "OmicsExpressionProteinCodingGenesTPMLogp1.csv"
GDSC = DATA / "GDSC2_fitted_dose_response.csv"
# DepMap Model.csv columns, in the order of the DepMap 25Q3 release notes
MODEL_COLUMNS = next(csv.reader(open(MODEL)))


def test_names_and_keys():
    assert split_ccle_name("A549_LUNG") == ("A549", "LUNG")
    assert split_ccle_name("HL60_HAEMATOPOIETIC_AND_LYMPHOID_TISSUE") == ("HL60", "HAEMATOPOIETIC_AND_LYMPHOID_TISSUE")
    assert split_ccle_name("NCI-H460") == ("NCI-H460", "")
    assert stripped_key("A549") == stripped_key("A549_LUNG") == stripped_key("a-549") == "A549"
    assert stripped_key("T.T") == stripped_key("TT_THYROID") == "TT"


def test_model_csv_names_ids_and_lineages():
    assert len(MODEL_COLUMNS) == 49 and MODEL_COLUMNS[:4] == ["ModelID", "PatientID", "CellLineName",
                                                              "StrippedCellLineName"]
    mapping = read_sample_info(MODEL)
    assert mapping["ACH-000681"] == "A549_LUNG" and mapping["ACH-003001"] == "NEW1"  # no CCLEName: stripped
    lineages = read_lineages(MODEL)
    assert lineages["TT_OESOPHAGUS"] == "Esophagus/Stomach" and lineages["NEW1"] == "Lung"
    models = {m.depmap: m for m in read_models(MODEL)}
    assert models["ACH-000561"].cell_line_name == "T.T" and models["ACH-000561"].cosmic == "1299064"
    assert models["ACH-001321"].cosmic == "" and models["ACH-001321"].sanger == "SIDM00484"


def test_profile_indexed_matrix_keeps_the_default_profile():
    x = read_depmap_matrix(PROFILES, sample_info=MODEL)
    assert x.genes == ["TSPAN6", "TNMD", "DPM1", "SCYL3"] and x.descriptions[0] == "7105"
    assert x.cell_lines[:2] == ["A549_LUNG", "MCF7_BREAST"] and x.cell_lines[-1] == "NEW1"
    np.testing.assert_array_equal(x.values[0], np.float32([4.33, 0.0, 6.12, 2.01]))  # the "Yes" A549 profile
    assert x.quality.non_default_profiles == 1 and x.quality.unnamed_rows == 0
    assert "1 non-default profiles left out" in x.quality.summary()


def test_profile_layout_variants(tmp_path):
    rows = list(csv.reader(open(PROFILES)))
    # the release notes' spelling of the flag, and a leading row number written by pandas
    variant = [["", "ProfileID", "is_default_entry", "ModelID"] + rows[0][3:]]
    variant += [[str(i), r[0], r[1], r[2]] + r[3:] for i, r in enumerate(rows[1:])]
    path = tmp_path / "v.csv"
    csv.writer(open(path, "w", newline=""), lineterminator="\n").writerows(variant)
    a, b = read_depmap_matrix(path, sample_info=MODEL), read_depmap_matrix(PROFILES, sample_info=MODEL)
    assert a.cell_lines == b.cell_lines and a.genes == b.genes and np.array_equal(a.values, b.values)
    variant[3][2] = "maybe"
    csv.writer(open(path, "w", newline=""), lineterminator="\n").writerows(variant)
    with pytest.raises(CCLEError, match=r"v.csv:4: column 'is_default_entry' is 'maybe', expected Yes or No"):
        read_depmap_matrix(path, sample_info=MODEL)


def test_model_indexed_matrix_named_by_model_csv():
    x = read_depmap_matrix(MODELS_MATRIX, sample_info=MODEL)
    assert x.cell_lines == ["A549_LUNG", "MCF7_BREAST", "NCIH460_LUNG", "TT_THYROID", "TT_OESOPHAGUS", "NEW1"]


def test_semicolon_decimal_comma_matrix_is_read(tmp_path):
    rows = list(csv.reader(open(MODELS_MATRIX)))
    text = "".join(";".join(v.replace(".", ",") if i else v for i, v in enumerate(r)) + "\r\n" for r in rows)
    (tmp_path / "excel.csv").write_text(text)
    a, b = read_depmap_matrix(tmp_path / "excel.csv", sample_info=MODEL), read_depmap_matrix(MODELS_MATRIX,
                                                                                             sample_info=MODEL)
    assert a.cell_lines == b.cell_lines and np.array_equal(a.values, b.values)
    (tmp_path / "piped.csv").write_text("id|TP53\nA549_LUNG|1.0\n")
    with pytest.raises(CCLEError, match=r"piped.csv:1: no gene columns found: the header has 1 field\(s\) with "
                                        r"separator ','; save the file comma-, tab- or ';'-separated"):
        read_depmap_matrix(tmp_path / "piped.csv")


def test_gdsc_joins_to_depmap_expression_by_ids():
    expression, table = load_data(PROFILES, GDSC, sample_info=MODEL)
    report = table.join
    assert report.matches == {"A549": "A549_LUNG", "MCF7": "MCF7_BREAST", "NCI-H460": "NCIH460_LUNG",
                              "T-T": "TT_OESOPHAGUS", "TT": "TT_THYROID"}
    # TT has no COSMIC id in the model table: its Sanger id decides; T-T and TT never collapse
    assert report.keys == {"A549": "cosmic", "MCF7": "cosmic", "NCI-H460": "cosmic", "T-T": "cosmic", "TT": "sanger"}
    assert report.counts() == {"cosmic": 4, "sanger": 1} and not report.by_name_only()
    assert report.unmatched == [] and report.unmatched_right == ["HL60_HAEMATOPOIETIC_AND_LYMPHOID_TISSUE", "NEW1"]
    assert table.responses("Camptothecin")["TT_OESOPHAGUS"] == pytest.approx(-5.04494)
    assert table.tissues["TT_THYROID"] == "THCA" and table.cell_ids["A549_LUNG"]["cosmic"] == "905949"
    assert table.missing.values.tolist() == [["TT_OESOPHAGUS", "Selumetinib (1062)"]]
    assert "5 of 5 matched (cosmic 4, sanger 1)" in report.summary()


def test_without_ids_names_join_and_ambiguous_lines_are_refused_by_name():
    gdsc = read_drugs(GDSC)
    gdsc.cell_ids = {}  # as if the file had no COSMIC / Sanger columns
    expression = read_depmap_matrix(PROFILES, sample_info=MODEL)
    linked = link_cell_lines(gdsc, expression.cell_lines, read_models(MODEL), "expr")
    report = linked.join
    assert report.matches == {"A549": "A549_LUNG", "MCF7": "MCF7_BREAST", "NCI-H460": "NCIH460_LUNG"}
    assert report.keys == dict.fromkeys(report.matches, "stripped")
    assert report.ambiguous == {"T-T": ["TT_THYROID", "TT_OESOPHAGUS"], "TT": ["TT_THYROID", "TT_OESOPHAGUS"]}
    assert "TT" not in set(linked.frame["cell_line"]) and "T-T" not in set(linked.frame["cell_line"])
    assert "2 ambiguous, left out: T-T (TT_THYROID, TT_OESOPHAGUS)" in report.summary()
    assert linked.notes == ["2 cell lines left out as ambiguous: T-T, TT"]


def test_join_rules_one_to_one_and_no_contradiction():
    right = [LineIdentity("A549_LUNG", cosmic="905949", suffix="LUNG"), LineIdentity("TT_THYROID", suffix="THYROID"),
             LineIdentity("TT_OESOPHAGUS", suffix="OESOPHAGUS")]
    # the same line twice in the left file (two spellings): both refused, not counted twice
    r = join_lines([LineIdentity("A549"), LineIdentity("a-549")], right)
    assert r.matches == {} and set(r.ambiguous) == {"A549", "a-549"}
    # a contradicting COSMIC id is never overridden by a name
    r = join_lines([LineIdentity("A549", cosmic="1")], right)
    assert r.unmatched == ["A549"] and r.contradicted == {"A549": ["A549_LUNG"]}
    # a tissue suffix on both sides must agree
    r = join_lines([LineIdentity("TT", suffix="THYROID")], right)
    assert r.matches == {"TT": "TT_THYROID"} and r.keys == {"TT": "stripped"}
    # exact CCLE name wins before the stripped name
    r = join_lines([LineIdentity("TT_OESOPHAGUS")], right)
    assert r.keys == {"TT_OESOPHAGUS": "name"}
    # a line already matched by id is not taken again by another line's name
    r = join_lines([LineIdentity("X", cosmic="905949"), LineIdentity("A549_LUNG")], right)
    assert r.matches == {"X": "A549_LUNG"} and r.ambiguous == {"A549_LUNG": ["A549_LUNG, already matched to X"]}


def test_ctrp_and_prism_join_and_load_data_keeps_ccle_behaviour(tmp_path):
    _, ctrp = load_data(PROFILES, DATA / "ctrpv2", sample_info=MODEL)
    assert ctrp.join.matches == {"A549": "A549_LUNG", "MCF7": "MCF7_BREAST", "TT_OESOPHAGUS": "TT_OESOPHAGUS",
                                 "TT_THYROID": "TT_THYROID"}
    _, prism = load_data(MODELS_MATRIX, DATA / "secondary-screen-dose-response-curve-parameters.csv",
                         sample_info=MODEL)
    assert prism.join.counts() == {"depmap": 3} and prism.join.unmatched == ["ACH-000842"]
    ccle = tmp_path / "ccle.csv"
    ccle.write_text("CCLE Cell Line Name,Compound,ActArea\nA549_LUNG,X,1\nNCI-H460_LUNG,X,2\nA549,Y,3\nHEL_BLOOD,X,4\n")
    _, table = load_data(MODELS_MATRIX, ccle, sample_info=MODEL)
    assert table.join.keys == {"A549_LUNG": "name", "NCI-H460_LUNG": "name"}
    assert table.join.matches == {"A549_LUNG": "A549_LUNG", "NCI-H460_LUNG": "NCIH460_LUNG"}
    assert table.join.ambiguous == {"A549": ["A549_LUNG, already matched to A549_LUNG"]}
    assert table.join.unmatched == ["HEL_BLOOD"] and table.response == "ActArea" and table.direction == 1


def _depmap_model_csv(sample_info, out):
    """A DepMap Model.csv (the published columns) holding the lines of an older DepMap sample_info.csv."""
    fields = {"ModelID": "DepMap_ID", "CellLineName": "cell_line_name", "StrippedCellLineName":
              "stripped_cell_line_name", "OncotreeLineage": "lineage", "RRID": "RRID", "CCLEName": "CCLE_Name",
              "SangerModelID": "Sanger_Model_ID", "COSMICID": "COSMICID", "WTSIMasterCellID": "WTSI_Master_Cell_ID"}
    with open(sample_info, newline="") as fh, open(out, "w", newline="") as w:
        writer = csv.writer(w, lineterminator="\n")
        writer.writerow(MODEL_COLUMNS)
        for row in csv.DictReader(fh):
            values = {k: row[v] for k, v in fields.items()}
            values["COSMICID"] = values["COSMICID"].removesuffix(".0")  # Model.csv writes the ids as integers
            writer.writerow([values.get(c, "") for c in MODEL_COLUMNS])
    return out


def test_join_report_on_real_ccle_and_depmap_names(shared_ccle, tmp_path):
    sample_info = shared_ccle / "expression" / "DepMap_sample_info_from_TGSA.csv"
    model_csv = _depmap_model_csv(sample_info, tmp_path / "Model.csv")
    models = read_models(model_csv)
    assert len(models) == 1812
    drugs = read_drug_table(shared_ccle / "drug" / "CCLE_dose_response_scores.tsv")
    ccle_names = [m.ccle_name for m in models]
    report = join_lines(table_identities(drugs), model_identities(ccle_names, models), "drugs", "Model.csv")
    # what the report must say, derived without the join: exact CCLE names, then names without a tissue suffix
    exact = [c for c in drugs.cell_lines if c in set(ccle_names)]
    prefix = {n.split("_")[0]: n for n in ccle_names}
    bare = [c for c in drugs.cell_lines if c not in exact and "_" not in c and c in prefix]
    assert {c: report.matches[c] for c in exact} == {c: c for c in exact}
    assert {c: report.matches[c] for c in bare} == {c: prefix[c] for c in bare}
    assert report.counts() == {"name": len(exact), "stripped": len(bare)} == {"name": 492, "stripped": 3}
    assert len(report.unmatched) == 9 and report.ambiguous == {}
    # DepMap re-annotated the tissue of 7 of them (Hs 895.T: SKIN -> FIBROBLAST, ...): a name shared across
    # tissues is not the same line without an identifier saying so; the other 2 are absent under any spelling
    by_stripped = {}
    for m in models:
        by_stripped.setdefault(stripped_key(m.ccle_name), []).append(m.ccle_name)
    expected = {c: by_stripped[stripped_key(c)] for c in report.unmatched if stripped_key(c) in by_stripped}
    assert report.contradicted == expected and len(expected) == 7
    assert report.contradicted["HS895T_SKIN"] == ["HS895T_FIBROBLAST"]
    # names as GDSC writes them (CellLineName), without ids: the look-alikes are refused, not guessed
    gdsc_like = [LineIdentity(m.cell_line_name) for m in models]
    named = join_lines(gdsc_like, model_identities(ccle_names, models))
    assert named.ambiguous["TT"] == named.ambiguous["T.T"] == ["TT_OESOPHAGUS", "TT_THYROID"]
    assert named.ambiguous["KM-H2"] == ["KMH2_HAEMATOPOIETIC_AND_LYMPHOID_TISSUE", "KMH2_THYROID"]
    assert named.matches["NCI-H460"] == "NCIH460_LUNG" and named.matches["NIH:OVCAR-3"] == "NIHOVCAR3_OVARY"
    assert "TT_OESOPHAGUS" in named.unmatched_right and "TT_THYROID" in named.unmatched_right
    # with the COSMIC ids GDSC gives, T.T is TT_OESOPHAGUS; TT (no COSMIC id in DepMap) stays refused
    with_ids = [LineIdentity(m.cell_line_name, cosmic=m.cosmic) for m in models]
    ided = join_lines(with_ids, model_identities(ccle_names, models))
    assert ided.matches["T.T"] == "TT_OESOPHAGUS" and ided.keys["T.T"] == "cosmic" and "TT" in ided.ambiguous
    # the whole loader on the shared expression: the 316 lines of PROVENANCE.md, all by exact name
    _, table = load_data(shared_ccle / "expression" / "TGSA_DepMap_census706_expr_zscored.csv.gz",
                         shared_ccle / "drug" / "CCLE_dose_response_scores.tsv", sample_info=model_csv)
    assert table.join.counts() == {"name": 316} and table.join.by_name_only()
