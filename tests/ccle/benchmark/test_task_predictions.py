"""The benchmark's per-cell-line predictions: every metric of every record is recomputable from
predictions.csv.gz, for --jobs 1 and --jobs 2 alike; the OOF rows are out-of-fold; the response direction."""
import gzip
import json

import numpy as np
import pandas as pd
import pytest

from ccle.methods import default_methods

METHODS = default_methods("pairs")   # the methods of a default (per-drug Monte Carlo) run
from ccle.benchmark.predictions import PredictionsStore, metrics_from_rows
from ccle.benchmark.runner import run_benchmark
from ccle.benchmark.store import ResultStore
from ccle.benchmark.datasets import DrugData
from ccle.benchmark.config import RunConfig
from ccle.benchmark.tasks import run_task_with_predictions

TINY = {"PM+": {"cv": 2, "epochs": 15, "patience": 5, "l2": (1e-2,), "retrain_epochs": 1},
        "PM": {"epochs": 15, "patience": 5, "max_layers": 2, "retrain_epochs": 1, "finetune_epochs": 1},
        "ANN": {"epochs": 10, "patience": 5}, "EN": {"n_alphas": 8, "cv": 3, "l1_ratio": (1.0,)},
        "RF": {"n_estimators": 8}}
SCALARS = ("mse", "rmse", "r2", "pearson", "spearman", "sens_acc", "paper_bal_acc", "paper_kappa", "cal_acc",
           "cal_bal_acc", "cal_macro_f1", "cal_kappa", "auroc_sensitive", "auroc_resistant", "n_train", "n_test",
           "interval_coverage", "interval_width", "confident_share", "confident_acc")


def _datasets(n=70, p=12):
    rng = np.random.default_rng(0)
    out = []
    for k, drug in enumerate(("drugA", "drugB")):
        X = rng.normal(size=(n, p)).astype(np.float32)
        y = X[:, 1] - X[:, 2] + 0.3 * rng.normal(size=n) + k
        out.append(DrugData(drug, X, y, [f"c{i}" for i in range(n)], [f"g{j}" for j in range(p)]))
    return out


def _cfg(**kw):
    return RunConfig(n_features=6, widths=(4,), options=TINY, **kw)


def _same(a, b):
    return (np.isnan(a) and np.isnan(b)) if isinstance(a, float) and np.isnan(a) else a == pytest.approx(b, abs=1e-12)


@pytest.fixture(scope="module")
def serial_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial")
    records = run_benchmark(_datasets(), _cfg(), out, n_splits=2, methods=list(METHODS), progress=False)
    return out, records


def test_every_record_metric_is_recomputed_from_its_rows(serial_run):
    out, records = serial_run
    rows = PredictionsStore(out).load()
    assert len(records) == 2 * 2 * len(METHODS)
    assert set(map(tuple, rows[["drug", "split", "method"]].drop_duplicates().astype(str).values)) == \
        {(r["drug"], str(r["split"]), r["method"]) for r in records}
    for rec in records:
        part = rows[(rows.drug == rec["drug"]) & (rows.split == rec["split"]) & (rows.method == rec["method"])]
        again = metrics_from_rows(part, "ActArea")
        for key in SCALARS:
            assert _same(rec[key], again[key]), (rec["method"], key, rec[key], again[key])
        assert rec["confusion_paper"] == again["confusion_paper"]
        assert rec["confusion_calibrated"] == again["confusion_calibrated"]
        assert len(part) == rec["n_train"] + rec["n_test"]


def test_training_rows_carry_out_of_fold_predictions(serial_run):
    out, records = serial_run
    rows = PredictionsStore(out).load()
    train = rows[rows.set == "train"]
    have = train.groupby("method")["predicted"].apply(lambda s: float(np.isfinite(s).mean()))
    for m in ("PM+", "EN", "SVR", "mean", "tissue"):
        assert have[m] == 1.0
    assert 0.2 < have["PM"] < 0.4           # the paper's model: its 30 % inner validation rows
    assert 0.9 < have["RF"] <= 1.0          # out of bag: almost every row with 8 trees
    assert 0.1 < have["ANN"] < 0.35         # its 20 % early-stopping rows
    assert (train.loc[~np.isfinite(train.predicted), ["class_paper", "class_calibrated"]] == -1).all().all()
    assert all(np.isfinite(r["cal_kappa"]) for r in records if r["method"] != "mean")


def test_gene_fields_of_the_records(serial_run):
    _, records = serial_run
    by = {r["method"]: r for r in records if r["drug"] == "drugA" and r["split"] == 0}
    assert len(by["SVR"]["genes_rfe"]) == 6 and by["SVR"]["genes_rfe"][0][0].startswith("g")
    assert all(v != 0 for _, v in by["EN"]["genes_enet"])
    genes = [g for g, _ in by["PM+"]["genes_importance"]]
    assert len(genes) == 6 and set(genes) <= {f"g{j}" for j in range(12)} and "importance_method" in by["PM+"]


@pytest.mark.slow
def test_jobs_2_writes_the_same_predictions(serial_run, tmp_path):
    out, _ = serial_run
    run_benchmark(_datasets(), _cfg(), tmp_path, n_splits=2, methods=["EN", "RF", "mean"], jobs=2, progress=False)
    key = ["drug", "split", "method", "set", "cell_line"]
    a = PredictionsStore(out).load()
    a = a[a.method.isin(["EN", "RF", "mean"])].sort_values(key).reset_index(drop=True)
    b = PredictionsStore(tmp_path).load().sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    with gzip.open(tmp_path / "predictions.csv.gz", "rt") as fh:  # a plain reader sees one header
        assert sum(line.startswith("drug,split") for line in fh) == 1


def test_a_crash_between_rows_and_record_is_rerun_cleanly(tmp_path):
    data, cfg = _datasets(), _cfg()
    run_benchmark(data, cfg, tmp_path, n_splits=1, methods=["EN", "mean"], progress=False, max_tasks=1)
    with open(tmp_path / "predictions.csv.gz", "ab") as fh:
        fh.write(b"\x1f\x8b\x08\x00torn")  # a member torn by a crash after the record of the first task
    records = run_benchmark(data, cfg, tmp_path, n_splits=1, methods=["EN", "mean"], progress=False)
    rows = PredictionsStore(tmp_path).load()
    assert len(records) == 4 and len(rows[["drug", "method"]].drop_duplicates()) == 4
    for rec in records:
        part = rows[(rows.drug == rec["drug"]) & (rows.method == rec["method"])]
        assert metrics_from_rows(part, "ActArea")["mse"] == rec["mse"]


def test_ic50_calls_low_values_sensitive():
    ds = _datasets()[0]
    rec_act, rows_act = run_task_with_predictions(ds, 0, "EN", _cfg())
    rec_ic, rows_ic = run_task_with_predictions(ds, 0, "EN", _cfg(response="IC50 (uM)"))
    assert rec_act["config_key"] != rec_ic["config_key"]
    assert rec_act["mse"] == rec_ic["mse"]
    lowest = rows_ic.loc[rows_ic.observed.idxmin()]
    assert lowest.class_observed == 2 and rows_act.loc[rows_act.observed.idxmin()].class_observed == 0
    # the same ranking read the other way round: AUROC "sensitive" under IC50 = AUROC "resistant" under ActArea
    assert rec_ic["auroc_sensitive"] == pytest.approx(rec_act["auroc_resistant"])
    assert metrics_from_rows(rows_ic, "IC50 (uM)")["cal_kappa"] == pytest.approx(rec_ic["cal_kappa"])


def test_actarea_config_key_is_unchanged_by_the_response_field():
    assert _cfg().key() == _cfg(response="ActArea").key() != _cfg(response="IC50 (uM)").key()
