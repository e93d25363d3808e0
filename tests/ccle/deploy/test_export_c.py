"""``export MODEL --c DIR`` for every per-drug method, compiled and run against ``predict`` (slow: compilers and
CLI processes).

Every method's file is exported (ccle.deploy.export), compiled with ``cc -std=c99 -O2 -Wall -Wextra -Werror
-pedantic`` with nnlite's test driver and run on generated rows and on real CCLE rows: responses within 1e-4
of the numpy ``predict`` (forests: the float32 of the same value), calibrated calls equal on at least 99 % of
the rows, and only where the response lies on a threshold (the calibrated thresholds are percentiles of the
training lines' out-of-fold predictions, so a training line's response can sit exactly on one: float32 rounding
then decides the side) -- and a non-finite input returns a non-zero code (the constant model reads no input: it
has none to refuse). All exports link into one program. The command line runs train --method X -> predict ->
inspect -> export for every method.
"""
import csv
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ccle.data.expression import ExpressionMatrix
from ccle.data.gct import write_gct
from ccle.data.loader import load_data
from ccle.deploy import training
from ccle.deploy.export import export_model_c, model_description
from ccle.deploy.per_drug import predict_file
from nnlite.export.c import driver_source

REPO = Path(__file__).resolve().parents[3]
CC = ["cc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic"]
FAST = {"PM+": {"cv": 2, "epochs": 30, "patience": 5, "l2": (1e-2,), "retrain_epochs": 2,
                "compress_grid": ((10, 4), (40, 5))},
        "PM": {"epochs": 30, "patience": 5, "retrain_epochs": 1, "finetune_epochs": 1},
        "ANN": {"epochs": 30, "patience": 5}, "EN": {"n_alphas": 8, "cv": 3}, "RF": {"n_estimators": 15},
        "SVR": {"cv": 3, "C": (0.01, 0.1)}, "mean": {}}
CODES = {"resistant": 0, "moderate": 1, "sensitive": 2}
pytestmark = [pytest.mark.slow, pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler (cc)")]


def _train_all(expression, table, drug, root, n_features, longer=None):
    out = {}
    for method, opts in FAST.items():
        opts = {**opts, **(longer or {}).get(method, {})}
        out[method] = training.train_drug_model(expression, table, drug, method=method, seed=1,
                                                path=root / f"{method}.nnz", n_features=n_features, options=opts,
                                                widths=(16, 8) if method in ("PM+", "PM", "ANN") else None)
    return out


def _prefix(method):
    return "m_" + method.replace("+", "plus").lower()


def _compile_run(tmp, models, rows_by_model):
    """Export ``models`` (method -> model file) and run each through its own driver on its rows (raw values in
    its genes.txt order) -> method -> array (n, 6) of rc, response, call, lower, upper, domain."""
    out = {}
    for method, path in models.items():
        name = _prefix(method)
        d = tmp / name
        export_model_c(path, d, name)
        (d / "driver.c").write_text(driver_source({name: model_description(path)}))
        exe = d / "driver"
        subprocess.run(CC + [f"-I{d}", "-o", str(exe), str(d / "driver.c"), str(d / f"{name}.c"), "-lm"],
                       check=True, capture_output=True, text=True)
        rows = rows_by_model[method]
        width = max(rows.shape[1], 1)
        rows = rows if rows.shape[1] else np.zeros((rows.shape[0], 1), np.float32)
        text = f"{len(rows)}\n" + "\n".join(" ".join(f"{v:.9g}" for v in row[:width]) for row in rows) + "\n"
        res = subprocess.run([str(exe)], input=text, capture_output=True, text=True, check=True).stdout
        out[method] = np.array([[float(v) for v in line.split()] for line in res.splitlines() if line])
    return out


def _check(models, expression, results, n_bad):
    """Compiled results against predict on ``expression`` (the last ``n_bad`` rows hold a NaN or inf)."""
    for method, path in models.items():
        got = results[method]
        df = predict_file(path, ExpressionMatrix(expression.values[:len(got) - n_bad], expression.cell_lines[
            :len(got) - n_bad], expression.genes, None, "<rows>"))
        good = got[:len(got) - n_bad]
        assert np.all(good[:, 0] == 0), method
        ref = df["predicted_ActArea"].to_numpy()
        if method == "RF":
            np.testing.assert_array_equal(good[:, 1].astype(np.float32), ref.astype(np.float32))
        else:
            np.testing.assert_allclose(good[:, 1], ref, rtol=0, atol=1e-4, err_msg=method)
        calls = df["class_calibrated"].map(CODES).to_numpy()
        desc = model_description(path)
        differ = good[:, 2] != calls
        at_threshold = np.minimum(np.abs(ref - desc.calls.low), np.abs(ref - desc.calls.high)) <= 1e-4
        assert np.all(at_threshold[differ]) and np.mean(~differ) >= 0.99, method
        if n_bad and method != "mean":
            assert np.all(got[len(got) - n_bad:, 0] != 0), method
        np.testing.assert_allclose(good[:, 4] - good[:, 1], desc.interval[1], atol=1e-4)


def _rows(expression, path, n_bad=0):
    genes = model_description(path).preprocessing.genes
    X = expression.values[:, [expression.genes.index(g) for g in genes]].astype(np.float32)
    if n_bad and genes:
        X = np.vstack([X, X[:n_bad]])
        X[-n_bad, 0] = np.nan
        if n_bad > 1:
            X[-1, -1] = np.inf
    elif n_bad:
        X = np.vstack([X, X[:n_bad]])
    return X


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    root = tmp_path_factory.mktemp("export_gen")
    rng = np.random.default_rng(8)
    L = rng.normal(3.0, 2.0, size=(80, 30))
    values = np.where(rng.random((80, 30)) < 0.1, 0.0, 2.0 ** L - 1).clip(0).astype(np.float32)
    cells, genes = [f"CELL{i}_LUNG" for i in range(80)], [f"G{j}" for j in range(30)]
    expr = write_gct(root / "expr.gct", ExpressionMatrix(values, cells, genes, None, "<t>"), fmt="%.9g")
    with open(root / "drugs.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["CCLE Cell Line Name", "Compound", "ActArea"])
        for i in range(64):
            w.writerow([cells[i], "DrugA", f"{np.tanh(L[i, 1] - 3) + 0.5 * L[i, 2] + 0.2 * rng.normal():.4f}"])
    expression, table = load_data(expr, root / "drugs.csv")
    return root, expression, _train_all(expression, table, "DrugA", root, 12)


def test_every_method_compiles_and_matches_predict_on_generated_rows(generated, tmp_path):
    root, expression, trained = generated
    v = expression.values
    expression = ExpressionMatrix(np.vstack([v, v * np.float32(1.05), v * np.float32(0.95)]),   # unseen rows too
                                  [f"{c}{s}" for s in ("", "_up", "_down") for c in expression.cell_lines],
                                  expression.genes, None, "<rows>")
    models = {m: t.path for m, t in trained.items()}
    results = _compile_run(tmp_path, models, {m: _rows(expression, p, n_bad=2) for m, p in models.items()})
    _check(models, expression, results, n_bad=2)


def test_every_method_matches_predict_on_real_rows(shared_ccle, tmp_path):
    expression, table = load_data(shared_ccle / "expression" / "TGSA_DepMap_census706_expr_zscored.csv.gz",
                                  shared_ccle / "drug" / "CCLE_dose_response_scores.tsv",
                                  sample_info=shared_ccle / "expression" / "DepMap_sample_info_from_TGSA.csv")
    # long enough that the single network does not stop before it learns (a constant output puts every
    # response on the calibrated thresholds, where float rounding decides each call)
    longer = {"PM": {"epochs": 200, "patience": 30}, "ANN": {"epochs": 200, "patience": 30}}
    trained = _train_all(expression, table, "Nutlin-3", tmp_path, 200, longer)
    models = {m: t.path for m, t in trained.items()}
    results = _compile_run(tmp_path / "c", models, {m: _rows(expression, p) for m, p in models.items()})
    _check(models, expression, results, n_bad=0)


def test_all_exports_link_into_one_program(generated, tmp_path):
    root, expression, trained = generated
    descs = {}
    for method, t in trained.items():
        name = _prefix(method)
        export_model_c(t.path, tmp_path / name, name)
        descs[name] = model_description(t.path)
    (tmp_path / "driver.c").write_text(driver_source(descs))
    cmd = CC + [f"-I{tmp_path / n}" for n in descs] + ["-o", str(tmp_path / "all"), str(tmp_path / "driver.c")]
    subprocess.run(cmd + [str(tmp_path / n / f"{n}.c") for n in descs] + ["-lm"], check=True, capture_output=True,
                   text=True)
    width = max(d.preprocessing.n_genes for d in descs.values())
    text = "1\n" + " ".join(["1.5"] * width) + "\n"
    res = subprocess.run([str(tmp_path / "all")], input=text, capture_output=True, text=True, check=True).stdout
    assert [int(line.split()[0]) for line in res.splitlines()] == [0] * len(descs)


def _cli(*args, cwd=REPO):
    env = {"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, str(REPO / "cli.py"), *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True)


@pytest.mark.parametrize("method", list(FAST))
def test_cli_train_predict_inspect_export(method, tmp_path):
    model = tmp_path / "m.nnz"
    extra = ["--widths", "8,4"] if method in ("PM+", "PM", "ANN") else []
    proc = _cli("train", "--drug", "Lapatinib", "--method", method, "--quick", "--out", model, *extra)
    assert proc.returncode == 0, proc.stderr
    assert f"{method} for Lapatinib" in proc.stdout
    expression = load_data(n_genes=200)[0]
    samples = tmp_path / "samples.csv"
    with open(samples, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["cell_line", *expression.genes])
        for i in range(0, 400, 10):
            w.writerow([expression.cell_lines[i], *(repr(float(v)) for v in expression.values[i])])
    proc = _cli("predict", model, "--expression", samples, "--out", tmp_path / "p.csv")
    assert proc.returncode == 0, proc.stderr
    df = pd.read_csv(tmp_path / "p.csv")
    assert len(df) == 40 and df["predicted_ActArea"].notna().all()
    proc = _cli("inspect", model)
    assert proc.returncode == 0 and f"model: {method} (" in proc.stdout and "bytes by part" in proc.stdout
    proc = _cli("export", model, "--c", tmp_path / "c", "--prefix", "lapatinib")
    assert proc.returncode == 0, proc.stderr
    assert {p.name for p in (tmp_path / "c").iterdir()} == {"lapatinib.h", "lapatinib.c", "genes.txt"}
    assert "int lapatinib_predict(const float *expression, float *response, int *call);" in \
        (tmp_path / "c" / "lapatinib.h").read_text()
    assert _cli("export", model, "--c", tmp_path / "c", "--prefix", "2bad").returncode == 2
