"""Train on one study, score on another: the test rows, one (match, method) task, and a CLI run CCLE -> a
GDSC-layout file built from the same CCLE measurements (opposite direction, another scale, noise)."""
import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ccle.benchmark.config import RunConfig
from ccle.benchmark.cross_study import run_cross_task, scored_rows as cross_test_data
from ccle.benchmark.datasets import DrugData
from ccle.data.drugs import DrugTable
from ccle.data.expression import ExpressionMatrix

ROOT = Path(__file__).resolve().parents[3]


def _study(n=120, p=25, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)).astype(np.float32)
    signal = X[:, 0] - 0.5 * X[:, 1]
    cells = [f"C{i}_{'LUNG' if i % 2 else 'SKIN'}" for i in range(n)]
    expression = ExpressionMatrix(X, cells, [f"g{j}" for j in range(p)], source="expr")
    train = DrugData(drug="D", X=X[:70], y=signal[:70] + rng.normal(0, 0.3, 70), cell_lines=cells[:70],
                     genes=[f"g{j}" for j in range(p)])
    # the test study: the same compound, LN_IC50-like (low = sensitive), on every line
    test = DrugTable(pd.DataFrame({"cell_line": cells, "drug": "d", "response": 2.0 - 3.0 * signal}), ["d"],
                     "LN_IC50 (low = sensitive)", "gdsc.csv")
    return expression, train, test


def test_held_out_rows_are_the_test_lines_outside_training_and_shared_ones_the_others():
    expression, train, test = _study()
    X, y, cells, tissues, missing = cross_test_data(train, test, "d", expression, False, "held-out")
    assert cells == expression.cell_lines[70:] and X.shape == (50, 25) and missing == 0
    np.testing.assert_array_equal(X, expression.values[70:])
    assert tissues[:2] == ["SKIN", "LUNG"]
    _, y_shared, shared, _, _ = cross_test_data(train, test, "d", expression, False, "shared")
    assert shared == train.cell_lines and y_shared.size == 70


def test_a_gene_the_test_expression_lacks_takes_the_training_mean():
    expression, train, test = _study()
    fewer = ExpressionMatrix(expression.values[:, 1:], expression.cell_lines, expression.genes[1:], source="other")
    X, _, _, _, missing = cross_test_data(train, test, "d", fewer, False, "held-out")
    assert missing == 1
    np.testing.assert_allclose(X[:, 0], train.X[:, 0].mean(), rtol=1e-6)


def test_a_model_of_one_study_agrees_with_the_other_once_signs_are_aligned():
    expression, train, test = _study()
    rows = cross_test_data(train, test, "d", expression, False, "held-out")
    fields, pred = run_cross_task(train, rows, "EN", RunConfig(), sign=-1)
    assert fields["n_train"] == 70 and fields["n_test"] == 50 and pred.shape == (50,)
    assert fields["spearman"] > 0.8 and fields["pearson"] > 0.8
    assert fields["spearman_raw"] == pytest.approx(-fields["spearman"])


def _write_inputs(tmp_path, shared_ccle):
    """A CCLE file of every other line (training) and a GDSC-layout file of all lines built from the same
    CCLE ActArea: LN_IC50 = 1.5 - 0.8 ActArea + noise (low = sensitive), names as GDSC writes them."""
    rows = list(csv.DictReader(open(shared_ccle / "drug" / "CCLE_dose_response_scores.tsv"), delimiter="\t"))
    names = {"AZD6244": "Selumetinib", "PD-0325901": "PD0325901", "Lapatinib": "lapatinib"}
    lines = sorted({r["CCLE Cell Line Name"] for r in rows})
    train_lines = set(lines[::2])
    rng = np.random.default_rng(0)
    with open(tmp_path / "ccle.tsv", "w", newline="") as fh:
        w = csv.writer(fh, delimiter="\t")
        w.writerow(["CCLE Cell Line Name", "Compound", "ActArea"])
        for r in rows:
            if r["CCLE Cell Line Name"] in train_lines and r["Compound"] in names:
                w.writerow([r["CCLE Cell Line Name"], r["Compound"], r["ActArea"]])
    with open(tmp_path / "gdsc.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["CELL_LINE_NAME", "TCGA_DESC", "DRUG_ID", "DRUG_NAME", "LN_IC50"])
        for r in rows:
            if r["Compound"] in names and r["ActArea"]:
                stem, _, tissue = r["CCLE Cell Line Name"].partition("_")
                w.writerow([stem, tissue[:6], 1000 + list(names).index(r["Compound"]), names[r["Compound"]],
                            f"{1.5 - 0.8 * float(r['ActArea']) + rng.normal(0, 0.3):.4f}"])


@pytest.mark.slow
def test_ccle_to_gdsc_layout_gives_the_consistency_table_with_the_expected_signs(tmp_path, shared_ccle):
    _write_inputs(tmp_path, shared_ccle)
    expr = shared_ccle / "expression"
    base = [sys.executable, str(ROOT / "cli.py"), "benchmark", "--expression",
            str(expr / "TGSA_DepMap_census706_expr_zscored.csv.gz"), "--sample-info",
            str(expr / "DepMap_sample_info_from_TGSA.csv"), "--drugs", str(tmp_path / "ccle.tsv"),
            "--test-drugs", str(tmp_path / "gdsc.csv"), "--methods", "EN,tissue", "--splits", "1", "--jobs", "1",
            "--quiet"]
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(base + ["--out", str(tmp_path / "held")], env=env, capture_output=True, text=True,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "AZD6244    -> Selumetinib  (synonym: AZD6244 = Selumetinib (" in done.stderr
    assert "PD-0325901 -> PD0325901  (same name ignoring case, spaces and punctuation)" in done.stderr
    assert "Cross-study consistency" in done.stdout
    table = pd.read_csv(tmp_path / "held" / "cross-study" / "consistency.csv")
    assert set(table["sign"]) == {-1}   # ActArea: high = sensitive; LN_IC50: low = sensitive
    measured = table[table["method"] == "measured"]
    assert len(measured) == 3 and (measured["spearman"] > 0.6).all() and (measured["spearman_raw"] < -0.6).all()
    models = table[table["method"] == "EN"]
    assert set(models["lines"]) == {"held-out"} and (models["n"] >= 50).all()
    assert (models["spearman"] > 0).all() and (models["spearman_raw"] < 0).all()
    assert "Cross-study consistency" in (tmp_path / "held" / "report.md").read_text()
    matches = pd.read_csv(tmp_path / "held" / "cross-study" / "drug_matches.csv")
    assert set(matches["test_drug"]) == {"Selumetinib", "PD0325901", "lapatinib"}

    shared = subprocess.run(base + ["--test-lines", "shared", "--out", str(tmp_path / "shared")], env=env,
                            capture_output=True, text=True, cwd=tmp_path)
    assert shared.returncode == 0, shared.stderr
    table = pd.read_csv(tmp_path / "shared" / "cross-study" / "consistency.csv")
    models = table[table["method"] == "EN"]
    assert set(models["lines"]) == {"shared"} and (models["spearman"] > 0).all()
