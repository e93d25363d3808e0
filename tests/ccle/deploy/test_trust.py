"""Predictions a biologist can trust, on the real CCLE data: predict refuses input unlike the training data
(another scale, a transposed matrix) with one line naming the cause, and the numpy runtime's whole pipeline
gives predict's answer (response, calls, intervals, domain flags)."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ccle.deploy import per_drug as deploy
from ccle.data.loader import read_expression

REPO = Path(__file__).resolve().parents[3]
ZSCORED = "TGSA_DepMap_census706_expr_zscored.csv.gz"
INFO = "DepMap_sample_info_from_TGSA.csv"

pytestmark = pytest.mark.slow


def _cli(*args):
    return subprocess.run([sys.executable, str(REPO / "cli.py"), *map(str, args)], capture_output=True, text=True,
                          env={"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin"})


def _refused(proc, *words):
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert all(w in lines[0] for w in words), lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def real(shared_ccle, tmp_path_factory):
    """A Nutlin-3 model trained (--quick) on the z-scored expression, and the first 40 lines of that file as
    TPM-like values (2 ** (2 z + 4) - 1) and transposed (genes as rows)."""
    root = tmp_path_factory.mktemp("trust")
    expr = shared_ccle / "expression" / ZSCORED
    model = root / "nutlin.nnz"
    proc = _cli("train", "--drug", "Nutlin-3", "--expression", expr, "--sample-info", shared_ccle / "expression" / INFO,
                "--drugs", shared_ccle / "drug" / "CCLE_dose_response_scores.tsv", "--quick", "--out", model)
    assert proc.returncode == 0, proc.stderr
    df = pd.read_csv(expr, index_col=0).head(40)
    genes = df.columns[1:]
    tpm = df.copy()
    tpm[genes] = np.maximum(2.0 ** (2.0 * df[genes].to_numpy() + 4.0) - 1.0, 0.0)
    tpm.to_csv(root / "tpm.csv")
    t = df.set_index("CCLE_Name")[genes].T
    t.index.name = "gene"
    t.to_csv(root / "transposed.csv")
    return {"root": root, "model": model, "expr": expr, "info": shared_ccle / "expression" / INFO,
            "shared": shared_ccle}


def test_a_z_score_model_refuses_tpm_input(real):
    out = real["root"] / "p.csv"
    for extra in ([], ["--fill-missing"]):
        _refused(_cli("predict", real["model"], "--expression", real["root"] / "tpm.csv", "--out", out, *extra),
                 "tpm.csv", "40 of 40 samples", "unlogged", "z-scored", "--allow-out-of-domain")
    assert not out.exists()
    proc = _cli("predict", real["model"], "--expression", real["root"] / "tpm.csv", "--out", out,
                "--allow-out-of-domain")
    assert proc.returncode == 0 and "out of the training domain" in proc.stderr
    assert not pd.read_csv(out)["in_domain"].any()


def test_a_transposed_matrix_is_refused_with_and_without_fill_missing(real):
    for extra in ([], ["--fill-missing"], ["--fill-missing", "--allow-out-of-domain"]):
        _refused(_cli("predict", real["model"], "--expression", real["root"] / "transposed.csv", *extra),
                 "transposed.csv", "looks transposed", "row names are genes")


def test_a_log_scale_model_refuses_unlogged_input(real, tmp_path):
    """Expression on a log2 scale (>= 0, up to ~25, as log2(TPM + 1)); the model is given 2 ** x - 1."""
    df = pd.read_csv(real["expr"], index_col=0)
    genes = df.columns[1:]
    logs = df.copy()
    logs[genes] = np.clip(2.0 * df[genes].to_numpy() + 6.0, 0.0, None).round(4)
    logs.to_csv(tmp_path / "log.csv")
    model = tmp_path / "log.nnz"
    proc = _cli("train", "--drug", "Nutlin-3", "--expression", tmp_path / "log.csv", "--sample-info", real["info"],
                "--drugs", real["shared"] / "drug" / "CCLE_dose_response_scores.tsv", "--quick", "--out", model)
    assert proc.returncode == 0, proc.stderr
    unlogged = logs.head(30).copy()
    unlogged[genes] = 2.0 ** unlogged[genes].to_numpy() - 1.0
    unlogged.to_csv(tmp_path / "unlogged.csv")
    _refused(_cli("predict", model, "--expression", tmp_path / "unlogged.csv"), "unlogged", "log2(x + 1)")
    # the same rows on their own scale are in domain
    proc = _cli("predict", model, "--expression", tmp_path / "log.csv", "--out", tmp_path / "p.csv")
    assert proc.returncode == 0, proc.stderr
    assert pd.read_csv(tmp_path / "p.csv")["in_domain"].mean() > 0.95


def test_the_runtime_pipeline_gives_predicts_answer(real):
    import nnlite.runtime as rt

    e = read_expression(real["expr"], sample_info=real["info"])
    ref = deploy.predict_file(real["model"], e, runtime=True)
    frame = pd.DataFrame(e.values, index=e.cell_lines, columns=e.genes)
    got = rt.load(real["model"]).predict_samples(frame, level=0.9)
    assert list(got.samples) == list(ref["cell_line"])
    np.testing.assert_array_equal(got.response, ref["predicted_ActArea"].to_numpy())
    for mine, theirs in (("lower", "lower"), ("upper", "upper"), ("domain_outside_share", "domain_outside_share"),
                         ("domain_distance", "domain_distance")):
        np.testing.assert_array_equal(getattr(got, mine), ref[theirs].to_numpy())
    for mine, theirs in (("call_paper", "class_paper_rule"), ("call_calibrated", "class_calibrated"),
                         ("call_confident", "call_confident"), ("in_domain", "in_domain")):
        assert list(getattr(got, mine)) == list(ref[theirs]), mine
    # the raw array in the model's gene order gives the same answer
    X = e.values[:, [e.genes.index(g) for g in rt.load(real["model"]).metadata["genes"]]]
    np.testing.assert_array_equal(rt.load(real["model"]).predict_samples(X).response, got.response)
    # 90 % intervals of the training lines' own predictions are no narrower than their out-of-fold residuals say
    assert ((got.upper - got.lower) > 0).all() and got.in_domain.mean() > 0.95
