"""The audit wiring: PM (the paper's model) and PM+ in the method list, --widths, the paper protocol's leaking
steps (scaling, RFE, width search, IQR thresholds on all rows), the permutation control (--null), --protocol
both with its inflation table, and the report sections (widths, inflation, per-drug compression change)."""
import pytest
import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from ccle.evaluation.audit import LEAKING_STEPS, permuted_responses
from ccle.evaluation.thresholds import IQRThresholds
from ccle.evaluation.splits import split_indices
from ccle.methods import make_method, names
from ccle.methods.estimators import PerDrugModel
from ccle.methods.paper_model import PaperModel
from ccle.report import build_report, write_report
from ccle.benchmark.datasets import DrugData
from ccle.benchmark.config import RunConfig
from ccle.benchmark.tasks import fit_pipeline, run_task, task_dataset

ROOT = Path(__file__).resolve().parents[3]
FAST_PM = {"epochs": 5, "patience": 2, "max_layers": 2, "max_width": 20, "retrain_epochs": 1, "finetune_epochs": 1}
OPTIONS = {"PM": FAST_PM, "PM+": {"cv": 2, "epochs": 10, "patience": 3, "l2": (1e-2,), "retrain_epochs": 1}}


def _drug(n=60, p=12, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)).astype(np.float32)
    y = X[:, 1] - X[:, 2] + 0.1 * rng.normal(size=n)
    return DrugData("drugA", X, y, [f"c{i}" for i in range(n)], [f"g{j}" for j in range(p)])


def _cfg(**kw):
    return RunConfig(**dict(dict(n_features=6, widths=(4,), options=OPTIONS), **kw))


def test_pm_is_the_paper_model_and_pm_plus_the_committee():
    assert names()[:2] == ("PM", "PM+")
    pm = make_method("PM")
    assert isinstance(pm, PaperModel) and pm.widths is None   # searches by default
    assert make_method("PM", widths=(8, 4)).widths == (8, 4)
    assert isinstance(make_method("PM+"), PerDrugModel)


def test_strict_pm_searches_in_its_training_rows_and_records_widths_and_stages():
    ds = _drug()
    rec = run_task(ds, 0, "PM", _cfg())
    assert rec["search_calls"] >= 2 and 0 < rec["search_seconds"] <= rec["train_seconds"]
    assert 1 <= len(rec["widths"]) <= 2 and max(rec["widths"]) <= 20
    assert set(rec["test_mse_stages"]) == {"dense", "pruned", "quantized", "huffman"}
    assert np.isclose(rec["test_mse_stages"]["huffman"], rec["mse"])   # the Huffman-decoded network predicts
    assert rec["null"] is False and rec["protocol"] == "strict"
    # --widths fixes PM's architecture: no search
    fixed = run_task(ds, 0, "PM", _cfg(widths=(7, 3), fixed_widths=True))
    assert fixed["widths"] == [7, 3] and fixed["search_calls"] == 0 and fixed["search_seconds"] == 0
    assert run_task(ds, 0, "ANN", _cfg(widths=(7, 3), fixed_widths=True))["widths"] == [7, 3]


def test_paper_protocol_thresholds_and_search_see_all_rows_strict_only_training_rows():
    ds = _drug()
    train, _ = split_indices(len(ds.y), ds.drug, 1, 0, 0.3)
    for method in ("mean", "EN"):
        strict, _ = fit_pipeline(ds, 1, method, _cfg())
        paper, _ = fit_pipeline(ds, 1, method, _cfg(protocol="paper"))
        assert strict.thresholds_.to_dict() == IQRThresholds().fit(ds.y[train]).to_dict()
        assert paper.thresholds_.to_dict() == IQRThresholds().fit(ds.y).to_dict()
        assert paper.thresholds_.to_dict() != strict.thresholds_.to_dict()
    est, fields = fit_pipeline(ds, 1, "PM", _cfg(protocol="paper"))
    expected = PaperModel(n_features=6, seed=0, selector=est.selector_, **FAST_PM).search(ds.X, ds.y)
    assert tuple(fields["widths"]) == tuple(expected.widths) and est.search_calls_ == 0


def test_null_permutes_responses_once_for_every_method_and_changes_the_key():
    ds = _drug()
    cfg = _cfg(null=True)
    assert np.array_equal(task_dataset(ds, cfg).y, permuted_responses(ds.y, ds.drug, 0))
    assert task_dataset(ds, _cfg()) is ds
    rec = run_task(ds, 0, "mean", cfg)
    y = permuted_responses(ds.y, ds.drug, 0)
    train, test = split_indices(len(y), ds.drug, 0, 0, 0.3)
    assert rec["null"] is True and np.isclose(rec["mse"], np.mean((y[test] - y[train].mean()) ** 2))
    keys = {_cfg().key(), cfg.key(), _cfg(protocol="paper").key(), _cfg(protocol="paper", null=True).key()}
    assert len(keys) == 4


def _records(tmp_path):
    """Records of two drugs x 2 splits for PM, EN and mean under both protocols (real and permuted)."""
    recs, rng = [], np.random.default_rng(0)
    for null in (False, True):
        for protocol in ("strict", "paper"):
            for drug in ("d1", "d2"):
                for split in range(2):
                    for method, base in (("PM", 0.5), ("EN", 0.6), ("mean", 0.8)):
                        mse = base * (0.7 if protocol == "paper" and method == "PM" else 1.0) * (1.3 if null else 1)
                        rec = {"drug": drug, "split": split, "method": method, "protocol": protocol,
                               "null": null, "config_key": f"{protocol}{null}", "mse": mse, "rmse": mse ** .5,
                               "r2": 0.1, "pearson": 0.3, "spearman": 0.3, "sens_acc": 0.5,
                               "train_seconds": 1.0, "predict_seconds": 0.01, "n_train": 70, "n_test": 30}
                        if method == "PM":
                            rec.update({"widths": [int(rng.integers(1, 5)) * 10] * (1 + split), "search_calls": 5,
                                        "search_seconds": 0.5, "compression_ratio": 8.0, "compressed_bytes": 10.0,
                                        "dense_bytes": 80.0,
                                        "test_mse_stages": {"dense": mse, "pruned": mse * 1.1,
                                                            "quantized": mse * 1.1, "huffman": mse * 1.1}})
                        recs.append(rec)
    return recs


def test_report_shows_inflation_widths_and_compression_change_and_writes_the_csv(tmp_path):
    recs = _records(tmp_path)
    keys = sorted({r["config_key"] for r in recs})
    with open(tmp_path / "results.jsonl", "w") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in recs)
    meta = {"protocol": "strict", "config_key": "strictFalse", "config_keys": keys, "seed": 0}
    text = write_report([], tmp_path, meta, ["d1", "d2"], ["PM", "EN", "mean"])
    assert "Leakage audit" in text and "+30.0%" in text   # PM's paper MSE is 0.7 x strict
    with open(tmp_path / "inflation.csv") as fh:
        rows = list(csv.DictReader(fh))
    pm_real = [r for r in rows if r["method"] == "PM" and r["responses"] == "real"]
    assert len(pm_real) == 2 and all(np.isclose(float(r["gain"]), 0.3) for r in pm_real)
    with open(tmp_path / "null_ratio.csv") as fh:
        nulls = {(r["method"], r["protocol"]): float(r["ratio"]) for r in csv.DictReader(fh)}
    assert np.isclose(nulls[("PM", "paper")], 0.35 / 0.8) and np.isclose(nulls[("EN", "strict")], 0.75)
    md = (tmp_path / "report.md").read_text()
    for heading in ("Leakage audit: inflation from the paper protocol", "PM's searched architecture",
                    "PM's test MSE before and after compression, per drug", "PM (paper, as described)"):
        assert heading in md, heading
    assert "Worse after compression on 2 of 2 drugs" in md and "+10.0%" in md
    for step in LEAKING_STEPS["paper"]:
        assert step in md
    build_report(tmp_path)   # rebuilt from results.jsonl + run.json: both protocols again
    assert "Leakage audit: inflation" in (tmp_path / "report.md").read_text()


@pytest.mark.slow
def test_cli_protocol_both_null_prints_the_inflation_table_and_help_lists_the_leaks(tmp_path):
    env_cmd = [sys.executable, str(ROOT / "cli.py")]
    helptext = subprocess.run(env_cmd + ["benchmark", "--help"], capture_output=True, text=True, check=True).stdout
    flat = " ".join(helptext.split())
    for step in LEAKING_STEPS["paper"]:
        assert " ".join(step.split()) in flat, step
    out = tmp_path / "both"
    proc = subprocess.run(env_cmd + ["benchmark", "--quick", "--protocol", "both", "--null", "--methods",
                                     "PM,EN,mean", "--splits", "1", "--drug", "AEW541", "--out", str(out),
                                     "--quiet", "--jobs", "1"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "Leakage audit" in proc.stdout and "null MSE / per-drug mean MSE" in proc.stdout
    recs = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert {(r["protocol"], r["null"]) for r in recs} == {("strict", True), ("paper", True)}
    assert len(recs) == 6 and (out / "null_ratio.csv").exists() and (out / "inflation.csv").exists()
    run = json.loads((out / "run.json").read_text())
    assert run["protocols"] == ["strict", "paper"] and run["null"] is True
