"""Model files with calls (version 2): calibrated and paper-rule thresholds, direction, training lines, their
out-of-fold predictions, ranked genes; predict's columns; version 1 files; the calls on the shared real data."""
import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ccle.deploy import inspection, training
from ccle.deploy import per_drug as deploy
from ccle.data.expression import ExpressionMatrix
from ccle.data.gct import write_gct
from ccle.data.loader import load_data

TINY = {"cv": 3, "epochs": 150, "patience": 20, "l2": (1e-3,), "lr": 3e-3, "retrain_epochs": 1}
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """z-scored expression of 80 cell lines x 20 genes; DrugA's ActArea and IC50 for the first 64 lines
    (IC50 falls as ActArea rises, as in the CCLE assays)."""
    root = tmp_path_factory.mktemp("calls")
    rng = np.random.default_rng(5)
    X = rng.normal(size=(80, 20))
    cells, genes = [f"C{i}_LUNG" for i in range(80)], [f"G{j}" for j in range(20)]
    expr = write_gct(root / "expr.gct", ExpressionMatrix(X.astype(np.float32), cells, genes, None, "<t>"),
                     fmt="%.9g")
    act = X[:, 0] - 0.7 * X[:, 3] + 0.3 * rng.normal(size=80)
    with open(root / "drugs.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["CCLE Cell Line Name", "Compound", "ActArea", "IC50 (uM)"])
        for i in range(64):
            w.writerow([cells[i], "DrugA", f"{act[i]:.5f}", f"{8 * np.exp(-act[i] - 2):.5f}"])
    out = {"root": root, "expr": expr, "drugs": root / "drugs.csv"}
    for response in ("ActArea", "IC50 (uM)"):
        expression, table = load_data(expr, root / "drugs.csv", response=response)
        path = root / f"{response.split()[0]}.nnz"
        out[response] = (training.train_drug_model(expression, table, "DrugA", seed=1, path=path, widths=(8, 4),
                                                 n_features=10, options=TINY, log2=False), path)
    return out


def test_model_file_stores_both_rules_training_lines_and_ranked_genes(files):
    trained, path = files["ActArea"]
    meta, est = deploy.read_model_metadata(path), trained.estimator
    assert meta["version"] == 3 and meta["direction"] == 1 and meta["method"] == "PM+"
    oof = est.oof_predictions_
    assert meta["oof_predictions"] == np.sort(oof).astype(np.float32).tolist()   # float32 in the file
    residuals = np.sort(np.abs(trained.y - oof)).astype(np.float32)
    np.testing.assert_array_equal(meta["intervals"]["abs_residuals"], residuals)
    assert meta["calibrated_thresholds"]["low"] == pytest.approx(np.percentile(oof, 25))
    assert meta["thresholds"]["high"] == pytest.approx(np.percentile(trained.y, 75))
    assert meta["training_cell_lines"] == trained.cell_lines and len(meta["training_cell_lines"]) == 64
    ranked = [meta["genes"][j] for j in np.argsort(-np.asarray(meta["importance"]), kind="stable")]
    assert sorted(ranked) == sorted(meta["genes"]) and {"G0", "G3"} & set(ranked[:3])
    text = inspection.inspect_model(path)
    assert "top genes by importance" in text and ranked[0] in text and "classes, calibrated" in text


def test_predict_writes_percentile_both_classes_and_the_training_flag(files):
    trained, path = files["ActArea"]
    df = deploy.predict_file(path, files["expr"])
    assert df.attrs["note"] is None
    assert df["in_training_set"].tolist() == [i < 64 for i in range(80)]
    pct = df["percentile_among_training_ActArea"].to_numpy()
    assert ((0 <= pct) & (pct <= 100)).all()
    pred = df["predicted_ActArea"].to_numpy()
    assert (np.diff(pct[np.argsort(pred)]) >= 0).all()  # a step function of the prediction
    assert set(df["class_calibrated"]) == {"sensitive", "moderate", "resistant"}
    top = df.loc[pred.argmax()]
    assert top.class_calibrated == "sensitive" and pct[pred.argmax()] > 75


def test_ic50_model_calls_low_values_sensitive(files):
    trained, path = files["IC50 (uM)"]
    meta = deploy.read_model_metadata(path)
    assert meta["direction"] == -1 and meta["thresholds"]["direction"] == -1
    df = deploy.predict_file(path, files["expr"])
    pred = df["predicted_IC50 (uM)"].to_numpy()
    low, high = df.loc[pred.argmin()], df.loc[pred.argmax()]
    assert low.class_calibrated == "sensitive" and high.class_calibrated == "resistant"
    assert low.class_paper_rule != "resistant" and high.class_paper_rule != "sensitive"
    assert "resistant >= " in inspection.inspect_model(path)   # the paper rule printed the IC50 way round


@pytest.mark.slow
def test_version_1_files_still_predict_with_a_note(files, tmp_path):
    trained, path = files["IC50 (uM)"]
    v2 = deploy.read_model_metadata(path)
    old = {k: v for k, v in v2.items() if k not in ("calibrated_thresholds", "direction", "training_cell_lines",
                                                    "oof_predictions", "intervals", "domain", "importance",
                                                    "importance_method", "method", "model_kind")}
    old["version"], old["thresholds"] = 1, {"low": v2["thresholds"]["low"], "high": v2["thresholds"]["high"]}
    v1 = tmp_path / "v1.nnz"
    training.write_model(trained.estimator.networks_, old, v1)
    a, b = deploy.predict_file(v1, files["expr"]), deploy.predict_file(path, files["expr"])
    assert np.array_equal(a["predicted_IC50 (uM)"], b["predicted_IC50 (uM)"])
    # the old IC50 file is read the right way round: the direction comes from the response name
    assert a["class_paper_rule"].tolist() == b["class_paper_rule"].tolist()
    assert (a["class_calibrated"] == "").all() and (a["in_training_set"] == "").all()
    assert a["percentile_among_training_IC50 (uM)"].isna().all() and "version 1" in a.attrs["note"]
    proc = subprocess.run([sys.executable, str(REPO / "cli.py"), "predict", str(v1), "--expression",
                           str(files["expr"]), "--out", str(tmp_path / "p.csv")], capture_output=True, text=True)
    assert proc.returncode == 0 and "note: model file version 1" in proc.stderr
    assert "classes, calibrated: none" in inspection.inspect_model(v1)


@pytest.mark.slow
def test_train_predict_on_real_data_calls_all_three_classes(shared_ccle, tmp_path):
    expr = shared_ccle / "expression" / "TGSA_DepMap_census706_expr_zscored.csv.gz"
    info = shared_ccle / "expression" / "DepMap_sample_info_from_TGSA.csv"
    drugs = shared_ccle / "drug" / "CCLE_dose_response_scores.tsv"
    model, out = tmp_path / "nutlin.nnz", tmp_path / "pred.csv"
    common = ["--expression", str(expr), "--sample-info", str(info)]
    run = lambda *a: subprocess.run([sys.executable, str(REPO / "cli.py"), *a], capture_output=True, text=True)
    proc = run("train", "--drug", "Nutlin-3", *common, "--drugs", str(drugs), "--quick", "--out", str(model))
    assert proc.returncode == 0, proc.stderr
    proc = run("predict", str(model), *common, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    import pandas as pd
    df = pd.read_csv(out)
    assert set(df["class_calibrated"]) == {"sensitive", "moderate", "resistant"}
    train = df[df["in_training_set"]]
    share = train["class_calibrated"].value_counts(normalize=True)
    # the rule puts 25 % of the out-of-fold predictions at each end; the committee's own predictions of the
    # same lines land near that (measured: 16 % sensitive, 19 % resistant with --quick), the paper rule ~2 %
    assert share["sensitive"] > 0.1 and share["resistant"] > 0.1
    assert (train["class_paper_rule"] != "moderate").mean() < share["sensitive"] + share["resistant"]
