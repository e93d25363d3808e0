"""Multitask model files with calls (version 2): per drug the paper rule, the calibrated thresholds of MT's
out-of-fold predictions, the direction, the training lines; predict's columns as for a per-drug file; version 1
files still predict with a note; train --multitask / predict / inspect through the CLI."""
import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ccle.evaluation.calls import fit_call_rules, prediction_percentile
from ccle.data.expression import ExpressionMatrix
from ccle.data.gct import write_gct
from ccle.data.loader import load_data
from ccle.deploy.multitask import V1_NOTE, inspect_multitask, predict_multitask_file, train_multitask_model
from ccle.evaluation.thresholds import CalibratedThresholds
from ccle.methods.multitask import call_rules, file_metadata, load_multitask, response_matrix, save_multitask
from nnlite.compress.fileformat import dumps_compressed, read_metadata

REPO = Path(__file__).resolve().parents[3]
TINY = {"hidden": (16,), "dropout": 0.1, "l2": 1e-4, "lr": 3e-3, "epochs": 80, "patience": 15, "cv": 2,
        "n_genes": 12, "retrain_epochs": 1}
DRUGS = ("DrugA", "DrugB", "DrugC")
NEW_KEYS = ("calibrated_thresholds", "direction", "oof_predictions", "training_cell_lines")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """z-scored expression of 90 cell lines x 20 genes (the last 10 lines never measured); three drugs each
    measured on a different ~85 % of the first 80 lines, ActArea driven by genes 0 and 3 (+ one own gene), IC50
    falling as ActArea rises (as in the CCLE assays). One MT file per response."""
    root = tmp_path_factory.mktemp("mtcalls")
    rng = np.random.default_rng(7)
    X = rng.normal(size=(90, 20))
    cells, genes = [f"C{i}_LUNG" for i in range(90)], [f"G{j}" for j in range(20)]
    expr = write_gct(root / "expr.gct", ExpressionMatrix(X.astype(np.float32), cells, genes, None, "<t>"),
                     fmt="%.9g")
    with open(root / "drugs.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["CCLE Cell Line Name", "Compound", "ActArea", "IC50 (uM)"])
        for k, drug in enumerate(DRUGS):
            act = X[:, 0] - 0.7 * X[:, 3] + 0.4 * X[:, 5 + k] + 0.3 * rng.normal(size=90) + k
            for i in np.flatnonzero(rng.random(80) < 0.85):
                w.writerow([cells[i], drug, f"{act[i]:.5f}", f"{8 * np.exp(-act[i] - 2):.5f}"])
    out = {"root": root, "expr": expr, "drugs": root / "drugs.csv", "cells": cells}
    for response in ("ActArea", "IC50 (uM)"):
        expression, table = load_data(expr, root / "drugs.csv", response=response)
        path = root / f"mt_{response.split()[0]}.nnz"
        out[response] = (train_multitask_model(expression, table, seed=3, path=path, options=TINY, log2=False),
                         path, expression, table)
    return out


def _observed(table, expression, response_drug_order):
    from ccle.data.align import drug_dataset
    return response_matrix([drug_dataset(expression, table, d) for d in response_drug_order])


def test_file_stores_each_drugs_rules_as_fit_call_rules_fits_them(files):
    trained, path, expression, table = files["ActArea"]
    meta, model = read_metadata(path), trained.model
    assert meta["version"] == 2 and meta["direction"] == 1 and meta["response"] == "ActArea"
    _, Y, cells, _, names = _observed(table, expression, model.drugs_)
    assert names == model.drugs_ == list(DRUGS)
    assert meta["training_cell_lines"] == list(cells) == model.cell_lines_
    assert not set(cells) & set(files["cells"][80:])
    for j in range(len(DRUGS)):
        seen = np.isfinite(Y[:, j])
        oof = model.oof_predictions_[seen, j]
        assert np.isfinite(oof).all() and np.isnan(model.oof_predictions_[~seen, j]).all()
        paper, cal = fit_call_rules(Y[seen, j], oof, "ActArea")
        assert meta["thresholds"][j] == paper.to_dict()
        assert meta["calibrated_thresholds"][j] == cal.to_dict()
        assert meta["oof_predictions"][j] == sorted(oof.tolist())
        assert cal.low_ < cal.high_ and (cal.low_, cal.high_) != (paper.low_, paper.high_)


def test_predict_round_trip_bit_identical_with_the_calibrated_classes(files):
    trained, path, expression, _ = files["ActArea"]
    df = predict_multitask_file(path, files["expr"])
    assert list(df.columns) == ["cell_line", "drug", "predicted_ActArea", "percentile_among_training_ActArea",
                                "class_calibrated", "class_paper_rule", "in_training_set"]
    assert df.attrs["note"] is None and len(df) == 3 * 90
    # save -> load -> predict: bit for bit the in-memory model on the training transform (log2 off, no
    # constant gene: the raw values)
    X = np.asarray(expression.values)
    model, loaded = trained.model, load_multitask(path)
    pos = {g: i for i, g in enumerate(expression.genes)}
    np.testing.assert_array_equal(loaded.predict(X[:, [pos[g] for g in loaded.genes_]]), model.predict(X))
    # the file path (ccle.deploy.per_drug.model_inputs, shared with the per-drug file) min-max scales in float32 where
    # MultiTaskModel.transform scales in float64: the network's outputs from the float32-scaled inputs, bit for
    # bit, and within float32 rounding of model.predict
    Z = model.scaler_.transform(X[:, model.support_].astype(np.float32))
    P = np.asarray(model.network_.predict(Z), dtype=np.float64) * model.y_scale_ + model.y_mean_
    np.testing.assert_allclose(P, model.predict(X), rtol=0, atol=1e-6)
    meta = read_metadata(path)
    training = set(meta["training_cell_lines"])
    for j, drug in enumerate(DRUGS):
        rows = df[df["drug"] == drug]
        pred = rows["predicted_ActArea"].to_numpy()
        np.testing.assert_array_equal(pred, P[:, j])   # ... and the file: bit for bit
        cal = CalibratedThresholds.from_dict(meta["calibrated_thresholds"][j])
        assert rows["class_calibrated"].tolist() == cal.classify(pred).tolist()
        assert rows["class_calibrated"].tolist() == call_rules(trained.model)[j][1].classify(pred).tolist()
        assert rows["class_paper_rule"].tolist() == trained.model.thresholds_[j].classify(pred).tolist()
        assert set(rows["class_calibrated"]) == {"sensitive", "moderate", "resistant"}
        np.testing.assert_array_equal(rows["percentile_among_training_ActArea"],
                                      prediction_percentile(pred, meta["oof_predictions"][j]))
        assert rows["in_training_set"].tolist() == [c in training for c in files["cells"]]
    assert not df[df["cell_line"] == "C85_LUNG"]["in_training_set"].any()
    text = inspect_multitask(path)
    cal0 = CalibratedThresholds.from_dict(meta["calibrated_thresholds"][0])
    assert f"calibrated low {cal0.low_:.4g}, high {cal0.high_:.4g}" in text and "multitask metadata version 2" in text


def test_ic50_file_calls_low_values_sensitive(files):
    trained, path, _, _ = files["IC50 (uM)"]
    meta = read_metadata(path)
    assert meta["direction"] == -1 and all(t["direction"] == -1 for t in meta["calibrated_thresholds"])
    df = predict_multitask_file(path, files["expr"])
    for drug in DRUGS:
        rows = df[df["drug"] == drug].reset_index(drop=True)
        pred = rows["predicted_IC50 (uM)"].to_numpy()
        low, high = rows.loc[pred.argmin()], rows.loc[pred.argmax()]
        assert low.class_calibrated == "sensitive" and high.class_calibrated == "resistant"
        assert low.class_paper_rule != "resistant" and high.class_paper_rule != "sensitive"
    assert "resistant >= high" in inspect_multitask(path)


def _version_1(meta):
    old = {k: v for k, v in meta.items() if k not in NEW_KEYS}
    old["version"] = 1
    old["thresholds"] = [{"low": t["low"], "high": t["high"]} for t in meta["thresholds"]]
    return old


@pytest.mark.parametrize("response", ["ActArea", "IC50 (uM)"])
def test_version_1_file_predicts_as_before_with_a_note(files, tmp_path, response):
    trained, path, _, _ = files[response]
    v1 = tmp_path / "v1.nnz"
    v1.write_bytes(dumps_compressed(trained.model.network_, metadata=_version_1(read_metadata(path))))
    loaded = load_multitask(v1)
    assert loaded.file_version_ == 1 and loaded.calibrated_thresholds_ is None and loaded.cell_lines_ is None
    a, b = predict_multitask_file(v1, files["expr"]), predict_multitask_file(path, files["expr"])
    col = f"predicted_{response}"
    np.testing.assert_array_equal(a[col], b[col])
    # the paper rule of an old file is oriented by its response's name, as ccle.deploy.per_drug reads version 1
    assert a["class_paper_rule"].tolist() == b["class_paper_rule"].tolist()
    assert (a["class_calibrated"] == "").all() and (a["in_training_set"] == "").all()
    assert a[f"percentile_among_training_{response}"].isna().all() and a.attrs["note"] == V1_NOTE
    assert "calibrated: none (multitask file version 1)" in inspect_multitask(v1)


def test_save_multitask_writes_version_2_and_without_line_names_leaves_the_flag_empty(files, tmp_path):
    trained, path, expression, table = files["ActArea"]
    model = trained.model
    names, model.cell_lines_ = model.cell_lines_, None
    try:
        meta = file_metadata(model)
    finally:
        model.cell_lines_ = names
    assert "training_cell_lines" not in meta and meta["calibrated_thresholds"] == read_metadata(path)[
        "calibrated_thresholds"]
    assert save_multitask(model, tmp_path / "plain.nnz") > 0
    assert read_metadata(tmp_path / "plain.nnz")["training_cell_lines"] == names
    nolines = tmp_path / "nolines.nnz"
    full = read_metadata(path)
    nolines.write_bytes(dumps_compressed(model.network_, metadata={k: v for k, v in full.items()
                                                                   if k != "training_cell_lines"}))
    df = predict_multitask_file(nolines, files["expr"])
    assert (df["in_training_set"] == "").all() and "cell-line names" in df.attrs["note"]
    assert set(df["class_calibrated"]) == {"sensitive", "moderate", "resistant"}
    with pytest.raises(ValueError, match="out-of-fold"):
        file_metadata(load_multitask(path))   # a loaded model cannot refit the calibrated rule


def _cli(*args, cwd):
    return subprocess.run([sys.executable, str(REPO / "cli.py"), *args], capture_output=True, text=True, cwd=cwd)


@pytest.mark.slow
def test_cli_train_multitask_then_predict_writes_the_calibrated_classes(files, tmp_path):
    model, out = tmp_path / "mt.nnz", tmp_path / "p.csv"
    data = ["--expression", str(files["expr"]), "--drugs", str(files["drugs"])]
    proc = _cli("train", "--multitask", "--quick", *data, "--log2", "no", "--out", str(model), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    proc = _cli("predict", str(model), "--expression", str(files["expr"]), "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "calibrated: " in proc.stderr and "in the training set" in proc.stderr and "note" not in proc.stderr
    df = pd.read_csv(out)
    meta = read_metadata(model)
    for j, drug in enumerate(DRUGS):
        rows = df[df["drug"] == drug]
        assert set(rows["class_calibrated"]) == {"sensitive", "moderate", "resistant"}
        cal = CalibratedThresholds.from_dict(meta["calibrated_thresholds"][j])
        assert rows["class_calibrated"].tolist() == cal.classify(rows["predicted_ActArea"].to_numpy()).tolist()
    assert df["in_training_set"].sum() == 3 * len(meta["training_cell_lines"])
    proc = _cli("inspect", str(model), cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.count("calibrated low") == 3
    v1 = tmp_path / "v1.nnz"
    v1.write_bytes(dumps_compressed(load_multitask(model).network_, metadata=_version_1(meta)))
    proc = _cli("predict", str(v1), "--expression", str(files["expr"]), "--out", str(tmp_path / "p1.csv"),
                cwd=tmp_path)
    assert proc.returncode == 0 and "note: multitask model file version 1" in proc.stderr
    old = pd.read_csv(tmp_path / "p1.csv")
    np.testing.assert_array_equal(old["predicted_ActArea"], df["predicted_ActArea"])
    assert old["class_calibrated"].isna().all()
