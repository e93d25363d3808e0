"""A run over many drugs: one shared matrix and each drug's rows of it, drugs that cannot run left out with
their reason, the inputs' join and notes in the banner and run.json, the drug file's tissues for tissue splits."""
import pickle
import subprocess
import sys
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ccle.benchmark.config import RunConfig
from ccle.benchmark.datasets import data_fingerprint, drug_datasets, lineages_of, with_splits
from ccle.benchmark.inputs import input_lines, input_meta
from ccle.benchmark.runner import splittable
from ccle.benchmark.shared_data import DrugRows, RowsView, shared_drug_rows, shared_folder
from ccle.data.drugs import DrugTable
from ccle.data.expression import ExpressionMatrix
from ccle.data.identity import JoinReport
from ccle.errors import CCLEError
from ccle.methods.multitask import response_matrix

ROOT = Path(__file__).resolve().parents[3]


def _inputs(n=40, p=30, seed=0):
    rng = np.random.default_rng(seed)
    values = rng.gamma(2.0, 20.0, (n, p)).astype(np.float32)
    values[:, 3] = 0.0                      # constant on every line
    values[:20, 5] = 7.0                    # constant on the first half only
    cells = [f"L{i}_{'LUNG' if i % 2 else 'SKIN'}" for i in range(n)]
    expression = ExpressionMatrix(values, cells, [f"g{j}" for j in range(p)], source="expr.csv")
    frames = []
    for d, lines in (("A", range(n)), ("B", range(0, 20)), ("C", range(5, 35)), ("FLAT", range(n)),
                     ("FEW", range(4)), ("NONE", [])):
        y = rng.normal(size=len(lines)) if d != "FLAT" else np.ones(len(lines))
        frames.append(pd.DataFrame({"cell_line": [cells[i] for i in lines], "drug": d, "response": y}))
    frames.append(pd.DataFrame({"cell_line": ["NOEXPR_LUNG", "NOEXPR2_LUNG"], "drug": "NONE", "response": [1.0, 2.0]}))
    frame = pd.concat(frames, ignore_index=True)
    table = DrugTable(frame, sorted(set(frame["drug"])), "LN_IC50 (low = sensitive)", "drugs.csv",
                      tissues={c: ("Lung" if i % 3 else "Blood") for i, c in enumerate(cells)},
                      notes=["replicates averaged: 2 pairs"])
    return expression, table


def test_drug_rows_give_the_values_of_the_in_memory_build_and_the_same_fingerprint(tmp_path):
    expression, table = _inputs()
    folder = shared_folder(tmp_path / "cache")
    for log2 in (False, True):
        rows, text, digests, skipped = shared_drug_rows(expression, table, ["A", "B", "C"], log2, folder)
        memory, memory_text = drug_datasets(expression, table, ["A", "B", "C"], log2)
        assert skipped == {} and text == memory_text
        for h, ds in zip(rows, memory):
            got = pickle.loads(pickle.dumps(h)).load()
            np.testing.assert_array_equal(got.X, ds.X)
            assert got.X.dtype == np.float32 and got.genes == ds.genes and got.cell_lines == ds.cell_lines
            np.testing.assert_array_equal(got.y, ds.y)
        assert data_fingerprint(rows, digests) == data_fingerprint(memory)
    assert "g5" not in rows[1].genes and "g5" in rows[0].genes   # B's rows: g5 constant there
    assert len(list(folder.glob("*.npy"))) == 2  # one matrix per transform, not one per drug


def test_a_process_keeps_only_the_drug_it_gathered_last(tmp_path):
    expression, table = _inputs()
    rows, _, _, _ = shared_drug_rows(expression, table, ["A", "C"], False, tmp_path)
    a1 = rows[0].load().X
    assert rows[0].load().X is a1          # the same drug's next task gathers nothing
    c = rows[1].load().X
    assert c.shape == (30, 29) and rows[0].load().X is not a1


def test_rows_view_reads_single_rows_and_gathers_on_demand(tmp_path):
    expression, table = _inputs()
    (h,), _, _, _ = shared_drug_rows(expression, table, ["C"], False, tmp_path)
    view, full = h.view(), h.load().X
    assert isinstance(view, RowsView) and view.shape == full.shape and view.dtype == np.float32
    np.testing.assert_array_equal(view[3, [0, 2]], full[3, [0, 2]])
    np.testing.assert_array_equal(view[4, :], full[4])
    np.testing.assert_array_equal(np.asarray(view), full)
    np.testing.assert_array_equal(view[np.arange(3)], full[:3])


def test_the_cross_drug_matrix_from_lazy_rows_equals_the_in_memory_one(tmp_path):
    expression, table = _inputs()
    rows, _, _, _ = shared_drug_rows(expression, table, ["A", "B", "C"], True, tmp_path)
    memory, _ = drug_datasets(expression, table, ["A", "B", "C"], True)
    lazy = response_matrix([h.lazy() for h in rows])
    eager = response_matrix(memory)
    np.testing.assert_array_equal(lazy[0], eager[0])
    np.testing.assert_array_equal(lazy[1], eager[1])
    assert lazy[2:] == eager[2:]


def test_drugs_that_cannot_run_are_left_out_with_their_reason_or_refused_when_named(tmp_path):
    expression, table = _inputs()
    rows, _, _, skipped = shared_drug_rows(expression, table, table.drugs, False, tmp_path, skip=True)
    assert [h.drug for h in rows] == ["A", "B", "C", "FEW"]
    assert "constant response" in skipped["FLAT"] and "expression" in skipped["NONE"]
    with pytest.raises(CCLEError, match="FLAT"):
        shared_drug_rows(expression, table, ["FLAT"], False, tmp_path)
    kept, unsplit = splittable(rows, RunConfig(), 2)
    assert [h.drug for h in kept] == ["A", "B", "C"] and "too few" in unsplit["FEW"]


def test_tissues_come_from_the_drug_file_when_no_sample_info_lineage(tmp_path):
    expression, table = _inputs()
    lineages, text = lineages_of(None, table.tissues)
    assert text == "tissue = the drug file's tissue per line"
    rows, _, _, _ = shared_drug_rows(expression, table, ["A"], False, tmp_path)
    (h,), held = with_splits(rows, "tissues", 2, 0, 0.3, lineages)
    assert set(h.tissues) == {"LUNG", "BLOOD"}   # not the name suffixes LUNG / SKIN
    assert isinstance(h, DrugRows) and len(held) == 2
    assert lineages_of(None, {}) == (None, "tissue = CCLE name suffix")


def test_the_join_notes_and_skips_are_in_the_banner_lines_and_run_meta():
    _, table = _inputs()
    table.join = JoinReport("drugs.csv", "expr.csv", matches={"A549": "A549_LUNG"}, keys={"A549": "stripped"},
                            unmatched=["XYZ"], ambiguous={"TT": ["TT_THYROID", "TT_OESOPHAGUS"]})
    lines = input_lines(table, {"FLAT": "constant"})
    assert lines[0].startswith("join: cell lines: 1 of 3 matched (stripped 1)") and "TT" in lines[0]
    assert lines[1] == "note: replicates averaged: 2 pairs"
    assert lines[2].startswith("left out 1 drug(s) that cannot be run: FLAT (constant)")
    meta = json.loads(json.dumps(input_meta(table, {"FLAT": "constant"})))
    assert meta["direction"] == -1 and meta["join"]["unmatched"] == ["XYZ"]
    assert meta["join"]["ambiguous"] == {"TT": ["TT_THYROID", "TT_OESOPHAGUS"]}
    assert meta["skipped_drugs"] == {"FLAT": "constant"} and meta["notes"] == ["replicates averaged: 2 pairs"]


@pytest.mark.slow
def test_a_gdsc_run_of_many_drugs_skips_resumes_and_records_its_inputs(tmp_path):
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "make_gdsc_run.py"), str(tmp_path), "--drugs", "8",
                    "--genes", "120", "--lines", "520"], check=True, env=env, capture_output=True)
    cmd = [sys.executable, str(ROOT / "cli.py"), "benchmark", "--expression", str(tmp_path / "expression.csv"),
           "--drugs", str(tmp_path / "gdsc2.csv"), "--sample-info", str(tmp_path / "Model.csv"),
           "--methods", "mean,tissue", "--splits", "2", "--jobs", "2", "--split", "tissues",
           "--out", str(tmp_path / "run")]
    first = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "left out 2 drug(s) that cannot be run: Compound-000 (all " in first.stderr
    assert "Compound-001 (3 training and 0 test cell lines in a split)" in first.stderr
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["inputs"]["join"]["counts"] == {"cosmic": 520} and run["inputs"]["direction"] == -1
    assert sorted(run["inputs"]["skipped_drugs"]) == ["Compound-000", "Compound-001"]
    assert len(run["drugs"]) == 6 and run["n_genes"] > 100
    assert len(list((tmp_path / "run" / "cache" / "arrays").glob("*.npy"))) == 1
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "resuming: 24 finished results found" in again.stderr and ", 0 to run" in again.stderr
