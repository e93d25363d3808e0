"""Hand-edited model headers with a valid checksum are refused by the one schema (ccle.deploy.schema), with one
line naming the file and the field, by predict (both engines) and inspect -- in a subprocess, as a user sees it."""
import csv
import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from ccle.deploy import inspection, training
from ccle.deploy import per_drug as deploy
from ccle.cli import main
from ccle.data.expression import ExpressionMatrix
from ccle.data.gct import write_gct
from ccle.data.loader import load_data
from ccle.errors import CCLEError
from ccle.deploy.schema import validate_metadata
from nnlite.compress._layout import ENSEMBLE_COMBINE, PREFIX, parse_container

REPO = Path(__file__).resolve().parents[3]
TINY = {"cv": 2, "epochs": 10, "patience": 3, "l2": (1e-2,), "retrain_epochs": 1}


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A 2-network committee model of 8 genes trained on 40 cell lines, and the expression file."""
    root = tmp_path_factory.mktemp("schema")
    rng = np.random.default_rng(5)
    X = rng.normal(size=(40, 8)).astype(np.float32)
    cells, genes = [f"C{i}_LUNG" for i in range(40)], [f"G{j}" for j in range(8)]
    expr = write_gct(root / "e.gct", ExpressionMatrix(X, cells, genes, None, "<t>"), fmt="%.9g")
    with open(root / "d.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["CCLE Cell Line Name", "Compound", "ActArea"])
        w.writerows([c, "DrugA", f"{X[i, 0] - X[i, 1] + 0.1 * rng.normal():.4f}"] for i, c in enumerate(cells))
    expression, table = load_data(expr, root / "d.csv")
    path = root / "m.nnz"
    trained = training.train_drug_model(expression, table, "DrugA", path=path, widths=(4,), n_features=6,
                                      options=TINY)
    assert trained.metadata["training"]["n_networks"] == 2
    return {"path": path, "expr": expr, "root": root}


def rewrite_metadata(src, dst, edit):
    """Copy the .nnz file ``src`` to ``dst`` with ``edit(metadata)`` applied and a valid CRC-32."""
    header, body = parse_container(Path(src).read_bytes())
    edit(header["metadata"])
    packed = zlib.compress(json.dumps(header, separators=(",", ":")).encode("utf-8"), 9)
    out = PREFIX.pack(b"\x89NNZ\r\n\x1a\n", 1, len(packed)) + packed + body
    Path(dst).write_bytes(out + struct.pack("<I", zlib.crc32(out)))
    return dst


def _set(key, value):
    return lambda m: m.__setitem__(key, value)


def _drop(key, sub):
    return lambda m: m[key].pop(sub)


CASES = {
    "scaler not a dict": (_set("scaler", [0.0, 1.0]), "scaler must be an object"),
    "genes not a list": (_set("genes", "G0"), "genes must be a list"),
    "target without mean": (_drop("target", "mean"), "target.mean is missing"),
    "thresholds without high": (_drop("thresholds", "high"), "thresholds.high is missing"),
    "scaler of the wrong length": (lambda m: m["scaler"]["data_min"].pop(), "scaler.data_min has 5 values"),
    "target scale a string": (lambda m: m["target"].__setitem__("scale", "2"), "target.scale must be a number"),
    "training not a dict": (_set("training", 3), "training must be an object"),
    "unknown ensemble combine": (_set("ensemble", {"combine": "median", "members": []}), "'median'"),
    "negative interval residual": (lambda m: m["intervals"]["abs_residuals"].__setitem__(0, -1.0),
                                   "intervals.abs_residuals[0] must be >= 0"),
    "domain of the wrong length": (lambda m: m["domain"]["max"].pop(), "domain.max has 5 values"),
}


def _cli(*argv):
    proc = subprocess.run([sys.executable, str(REPO / "cli.py"), *argv], capture_output=True, text=True,
                          timeout=120)
    return proc.returncode, proc.stderr.strip()


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.slow
def test_hand_edited_header_is_one_line_naming_file_and_field(model, tmp_path, case, capsys):
    edit, message = CASES[case]
    bad = rewrite_metadata(model["path"], tmp_path / "bad.nnz", edit)
    code, err = _cli("predict", str(bad), "--expression", str(model["expr"]))
    assert code == 2 and len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert err.startswith(f"error: {bad}:") and message in err, err
    # the numpy-only runtime and inspect refuse it with the same line
    for argv in (["predict", str(bad), "--expression", str(model["expr"]), "--numpy-runtime"],
                 ["inspect", str(bad)]):
        assert main(argv) == 2
        assert capsys.readouterr().err.strip() == err, argv


def test_unedited_model_passes_the_schema_and_predicts(model, capsys):
    assert main(["inspect", str(model["path"])]) == 0
    assert "committee: 2 network(s)" in capsys.readouterr().out
    assert main(["predict", str(model["path"]), "--expression", str(model["expr"])]) == 0


def test_a_file_written_before_intervals_and_domain_still_predicts(model, tmp_path):
    """Files without the ``domain`` and ``intervals`` fields predict as before; their trust columns are empty."""
    def strip(meta):
        meta.pop("domain")
        meta.pop("intervals")

    old = rewrite_metadata(model["path"], tmp_path / "old.nnz", strip)
    new_df = deploy.predict_file(model["path"], model["expr"])
    old_df = deploy.predict_file(old, model["expr"])
    np.testing.assert_array_equal(old_df["predicted_ActArea"], new_df["predicted_ActArea"])
    assert old_df["lower"].isna().all() and old_df["in_domain"].all() and not old_df["call_confident"].any()
    assert new_df["lower"].notna().all()


def test_schema_takes_the_ensemble_values_from_the_layout():
    meta = {"kind": "ccle.drug_model", "version": 1, "drug": "D", "genes": ["a"], "expression_transform": {},
            "scaler": {"data_min": [0.0], "data_max": [1.0]}, "target": {"mean": 0.0, "scale": 1.0},
            "thresholds": {"low": 0.0, "high": 1.0}, "ensemble": {"combine": ENSEMBLE_COMBINE[0], "members": []}}
    assert validate_metadata(meta, "m.nnz") is meta
    meta["thresholds"] = {"low": 2.0, "high": 1.0}
    with pytest.raises(CCLEError, match="^m.nnz: bad model metadata: thresholds.low 2.0 is above"):
        validate_metadata(meta, "m.nnz")


def test_unreadable_model_file_is_one_line(model, tmp_path, capsys, monkeypatch):
    # a PermissionError as from a file without read permission (chmod 0 does not stop root, who runs CI here)
    bad = tmp_path / "locked.nnz"
    bad.write_bytes(model["path"].read_bytes())
    real = Path.read_bytes

    def refuse(self):
        if self == bad:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    assert main(["inspect", str(bad)]) == 2
    assert capsys.readouterr().err.strip() == f"error: {bad}: cannot read the model file (Permission denied)"
