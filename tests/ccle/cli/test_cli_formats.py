"""The command line on the new layouts: a GDSC2 table with a DepMap profile-indexed expression matrix and
Model.csv runs the benchmark; --drug takes a label, an id or an unambiguous name; the long-table flags; bad
files are one line naming file and line, exit code 2."""
import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ccle.cli import main

REPO = Path(__file__).resolve().parents[3]
DATA = Path(__file__).parents[1] / "data" / "fixtures"
MODEL_COLUMNS = next(csv.reader(open(DATA / "Model.csv")))
GDSC_COLUMNS = next(csv.reader(open(DATA / "GDSC2_fitted_dose_response.csv")))


def _write(path, header, rows):
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return path


def _study(tmp_path, n_lines=36, n_genes=40, seed=0):
    """A GDSC2 table, a profile-indexed expression matrix and a Model.csv, in the published layouts, for
    ``n_lines`` lines; LN_IC50 follows gene G0 (so a model has something to find)."""
    rng = np.random.default_rng(seed)
    ids = [f"ACH-{100 + i:06d}" for i in range(n_lines)]
    names = [f"LINE-{i}" for i in range(n_lines)]
    tissues = ["LUNG", "BREAST", "SKIN"]
    models = []
    for i, (mid, name) in enumerate(zip(ids, names)):
        row = dict.fromkeys(MODEL_COLUMNS, "")
        row.update(ModelID=mid, CellLineName=name, StrippedCellLineName=name.replace("-", ""),
                   OncotreeLineage=tissues[i % 3].title(), CCLEName=f"{name.replace('-', '')}_{tissues[i % 3]}",
                   COSMICID=str(900000 + i), SangerModelID=f"SIDM{i:05d}")
        models.append([row[c] for c in MODEL_COLUMNS])
    _write(tmp_path / "Model.csv", MODEL_COLUMNS, models)
    genes = [f"G{g} ({1000 + g})" for g in range(n_genes)]
    x = rng.normal(size=(n_lines, n_genes))
    profiles = [[f"PR-{i:04d}", "Yes", mid] + [f"{v:.4f}" for v in x[i]] for i, mid in enumerate(ids)]
    profiles.append(["PR-9999", "No", ids[0]] + ["0"] * n_genes)
    _write(tmp_path / "expr.csv", ["ProfileID", "IsDefaultEntryForModel", "ModelID"] + genes, profiles)
    drugs = [("1062", "Selumetinib"), ("1736", "Selumetinib"), ("1003", "Camptothecin")]
    rows = []
    for d, (drug_id, drug) in enumerate(drugs):
        for i, name in enumerate(names):
            ln_ic50 = 1.5 * x[i, 0] + 0.3 * rng.normal() + d
            rows.append(["GDSC2", "343", str(15946000 + 100 * d + i), str(900000 + i), name, f"SIDM{i:05d}",
                         "LUAD", drug_id, drug, "MEK1, MEK2", "ERK MAPK signaling", "1046", "Y", "0.0078", "2",
                         f"{ln_ic50:.5f}", "0.9", "0.08", "0.1"])
    _write(tmp_path / "GDSC2_fitted_dose_response.csv", GDSC_COLUMNS, rows)
    return tmp_path / "GDSC2_fitted_dose_response.csv", tmp_path / "expr.csv", tmp_path / "Model.csv"


@pytest.mark.slow
def test_benchmark_runs_on_gdsc2_with_depmap_expression_and_model_csv(tmp_path):
    drugs, expr, model = _study(tmp_path)
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, str(REPO / "cli.py"), "benchmark", "--quick", "--quiet",
                           "--drugs", str(drugs), "--expression", str(expr), "--sample-info", str(model),
                           "--drug", "1062", "--drug", "Camptothecin", "--splits", "1", "--methods", "mean,SVR",
                           "--jobs", "1", "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "note: --drug 1062 is Selumetinib (1062)" in proc.stderr
    assert "cell lines: 36 of 36 matched (cosmic 36)" in proc.stderr
    run = json.loads((out / "run.json").read_text())
    assert run["drugs"] == ["Selumetinib (1062)", "Camptothecin"]
    assert run["n_cell_lines"] == {"Selumetinib (1062)": 36, "Camptothecin": 36}
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert {r["drug"] for r in records} == {"Selumetinib (1062)", "Camptothecin"}


@pytest.mark.slow
def test_malformed_gdsc_is_one_line_naming_file_and_line_exit_2(tmp_path):
    drugs, expr, model = _study(tmp_path, n_lines=6, n_genes=5)
    rows = list(csv.reader(open(drugs)))
    rows[4][15] = "n/a?"
    _write(drugs, rows[0], rows[1:])
    proc = subprocess.run([sys.executable, str(REPO / "cli.py"), "benchmark", "--quick", "--quiet",
                           "--drugs", str(drugs), "--expression", str(expr), "--sample-info", str(model),
                           "--out", str(tmp_path / "o")], capture_output=True, text=True, timeout=120)
    err = proc.stderr.strip()
    assert proc.returncode == 2 and "\n" not in err and "Traceback" not in err
    assert err == f"error: {drugs}:5: non-numeric value 'n/a?' in column 'LN_IC50'"


def test_drug_name_under_two_ids_is_refused_by_the_cli(tmp_path, capsys):
    drugs, expr, model = _study(tmp_path, n_lines=6, n_genes=5)
    code = main(["benchmark", "--quick", "--quiet", "--drugs", str(drugs), "--expression", str(expr),
                 "--sample-info", str(model), "--drug", "Selumetinib", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "'Selumetinib' is ambiguous: Selumetinib (1062), Selumetinib (1736)" in err


@pytest.mark.parametrize("flags, message", [
    (["--cell-column", "line"], "a long drug table needs all four of --cell-column, --drug-column, "
                                "--response-column, --sensitive: missing --drug-column, --response-column, "
                                "--sensitive"),
    (["--cell-column", "line", "--drug-column", "compound", "--response-column", "dose", "--sensitive", "high"],
     ":1: required column(s) 'dose' not in the header"),
])
def test_long_table_flags(tmp_path, capsys, flags, message):
    table = _write(tmp_path / "long.csv", ["line", "compound", "score"], [["A549_LUNG", "X", "1"]])
    code = main(["benchmark", "--quick", "--quiet", "--drugs", str(table), "--expression",
                 str(DATA / "OmicsExpressionTPMLogp1HumanProteinCodingGenes.csv"), "--sample-info",
                 str(DATA / "Model.csv"), "--out", str(tmp_path / "o")] + flags)
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and "\n" not in err


def test_unknown_layout_through_the_cli(tmp_path, capsys):
    table = _write(tmp_path / "other.csv", ["line", "compound", "score"], [["A549_LUNG", "X", "1"]])
    code = main(["benchmark", "--quick", "--quiet", "--drugs", str(table), "--expression",
                 str(DATA / "OmicsExpressionTPMLogp1HumanProteinCodingGenes.csv"), "--sample-info",
                 str(DATA / "Model.csv"), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and f"{table}:1: not a known drug-response layout" in err
