"""MT's rows of predictions.csv.gz and its calibrated calls: every drug x split x (train + test) has its rows,
every record metric is recomputed from them, the training rows' predictions are out-of-fold (each line predicted
by the fold network that never trained on it), --jobs 2 writes the serial rows, a resumed run does not
duplicate them, --null permutes MT's responses too, and the report builds with MT's calibrated calls."""
import gzip
import io

import numpy as np
import pandas as pd
import pytest

from ccle.evaluation.audit import permuted_responses
from ccle.benchmark.datasets import with_splits
from ccle.data.align import normalize_cell_line
from ccle.evaluation.splits import split_seed
from ccle.methods.multitask import MultiTaskModel, drug_oof_predictions, fit_predict_split
from ccle.benchmark.predictions import COLUMNS, PredictionsStore, metrics_from_rows
from ccle.benchmark.runner import run_benchmark
from ccle.benchmark.store import ResultStore
from ccle.benchmark.tasks import ALL_DRUGS, run_multitask_task_with_predictions, task_rows
from ccle.benchmark.config import RunConfig
from ccle.benchmark.datasets import split_fingerprint
from tests.multidrug import multidrug_datasets

TINY = {"MT": {"hidden": (8,), "epochs": 20, "patience": 5, "cv": 3, "n_genes": 8, "retrain_epochs": 1}}
SCALARS = ("mse", "rmse", "r2", "pearson", "spearman", "sens_acc", "paper_bal_acc", "paper_kappa", "cal_acc",
           "cal_bal_acc", "cal_macro_f1", "cal_kappa", "auroc_sensitive", "auroc_resistant", "n_train", "n_test")
METHODS = ["MT", "mean"]


def _datasets(n=70, p=12, drugs=("drugA", "drugB", "drugC")):
    """Drugs measured on overlapping cell lines of 4 tissues; each drug sees a different subset of them."""
    return multidrug_datasets(n, p, drugs, seed=1, noise=0.3)


def _setup(null=False):
    data = _datasets()
    data, held = with_splits(data, "cell-lines", 2, 0, 0.3, None)
    cfg = RunConfig(options=TINY, split_scheme="cell-lines", split_fingerprint=split_fingerprint(held), null=null)
    return data, cfg, held


def _same(a, b):
    if isinstance(a, float) and np.isnan(a):
        return isinstance(b, float) and np.isnan(b)
    return a == pytest.approx(b, abs=1e-12)


def _raw_rows(path):
    """Every row physically in the file (no last-member-wins), header lines dropped."""
    with gzip.open(path, "rb") as fh:
        df = pd.read_csv(io.BytesIO(fh.read()), dtype={"drug": str, "method": str, "cell_line": str, "set": str})
    return df[df["drug"] != "drug"]


def _sorted(df):
    return df.sort_values(["drug", "split", "method", "set", "cell_line"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    data, cfg, held = _setup()
    out = tmp_path_factory.mktemp("mt_serial")
    records = run_benchmark(data, cfg, out, n_splits=2, methods=METHODS, progress=False)
    return data, cfg, held, out, records


def test_rows_for_every_drug_split_and_set_and_every_metric_recomputed(serial):
    data, cfg, _, out, records = serial
    rows = PredictionsStore(out).load()
    mt = rows[rows["method"] == "MT"]
    by = {(r["drug"], r["split"], r["method"]): r for r in records}
    for ds in data:
        for s in range(2):
            tr, te = task_rows(ds, s, cfg)
            part = mt[(mt["drug"] == ds.drug) & (mt["split"] == s)]
            for name, idx in (("train", tr), ("test", te)):
                sub = part[part["set"] == name]
                assert list(sub["cell_line"]) == [ds.cell_lines[i] for i in idx]
                np.testing.assert_array_equal(sub["observed"].to_numpy(), ds.y[idx])
                assert np.isfinite(sub["predicted"]).all() and (sub["class_calibrated"] >= 0).all()
            rec = by[(ds.drug, s, "MT")]
            again = metrics_from_rows(part, "ActArea")
            for key in SCALARS:
                assert _same(rec[key], again[key]), (ds.drug, s, key)
            assert rec["confusion_calibrated"] == again["confusion_calibrated"]
            assert sum(map(sum, rec["confusion_calibrated"])) == te.size
    # the records' calibrated calls are those of the training rows' out-of-fold predictions, not the paper rule's
    assert any(r["cal_acc"] != r["sens_acc"] for r in records if r["method"] == "MT")


def test_test_predictions_are_the_models_and_the_train_rows_out_of_fold(serial):
    data, cfg, held, out, _ = serial
    rows = PredictionsStore(out).load()
    s = 1
    model = MultiTaskModel(seed=split_seed(cfg.seed, ALL_DRUGS, s) % (2 ** 31), **TINY["MT"])
    _, preds = fit_predict_split(data, held[s], model)
    oofs = drug_oof_predictions(model, data, held[s])
    Z = model.transform(_training_matrix(data, held[s], model))
    each = np.stack([np.asarray(net.predict(Z), dtype=np.float64) for net in model.networks_])  # (k, n, drugs)
    k = len(model.networks_)
    for j, ds in enumerate(data):
        part = rows[(rows["method"] == "MT") & (rows["drug"] == ds.drug) & (rows["split"] == s)]
        te, pred = preds[ds.drug]
        np.testing.assert_array_equal(part[part["set"] == "test"]["predicted"].to_numpy(), pred)
        tr, oof = oofs[ds.drug]
        np.testing.assert_array_equal(part[part["set"] == "train"]["predicted"].to_numpy(), oof)
        line = [model.cell_lines_.index(ds.cell_lines[i]) for i in tr]
        folds = model.folds_[line]
        # each line's OOF value is the (rescaled) prediction of its own fold's network, and of no other
        own = each[folds, line, j]
        seen = np.isfinite(model.oof_predictions_[:, j])
        centre = np.mean(each[model.folds_[seen], np.flatnonzero(seen), j])
        expected = (centre + model.committee_shrink_[j] * (own - centre)) * model.y_scale_[j] + model.y_mean_[j]
        np.testing.assert_allclose(oof, expected, rtol=1e-12, atol=1e-12)
        for other in range(1, k):
            trained = each[(folds + other) % k, line, j]   # a network whose training folds held the line
            assert not np.allclose(own, trained)
        assert 0 < model.committee_shrink_[j] < 1.5


def _training_matrix(data, held, model):
    """X of MT's training lines in the model's own row order (its cell_lines_)."""
    by_line = {}
    for ds in data:
        for i, c in enumerate(ds.cell_lines):
            by_line.setdefault(normalize_cell_line(c), ds.X[i])
    return np.stack([by_line[normalize_cell_line(c)] for c in model.cell_lines_])


def test_each_fold_network_never_trains_on_its_own_fold(monkeypatch):
    data, cfg, held = _setup()
    seen = []
    original = MultiTaskModel._train_fold

    def recording(self, Z, T, tr, va, seed):
        seen.append((np.array(tr), np.array(va)))
        return original(self, Z, T, tr, va, seed)

    monkeypatch.setattr(MultiTaskModel, "_train_fold", recording)
    model, _ = fit_predict_split(data, held[0], MultiTaskModel(seed=3, **TINY["MT"]))
    assert len(seen) == len(model.networks_) == 3
    for f, (tr, va) in enumerate(seen):
        np.testing.assert_array_equal(va, np.flatnonzero(model.folds_ == f))
        assert not set(tr) & set(va) and len(tr) + len(va) == len(model.cell_lines_)
    # held-out lines are not among the training lines at all, and every observed pair has an OOF value
    assert not {normalize_cell_line(c) for c in model.cell_lines_} & held[0]
    assert model.oof_predictions_.shape == (len(model.cell_lines_), len(data))
    observed = np.zeros_like(model.oof_predictions_, dtype=bool)
    for j, ds in enumerate(data):
        for i, c in enumerate(ds.cell_lines):
            if normalize_cell_line(c) not in held[0]:
                observed[model.cell_lines_.index(c), j] = True
    np.testing.assert_array_equal(np.isfinite(model.oof_predictions_), observed)


@pytest.mark.slow
def test_jobs_2_writes_the_serial_rows_and_a_resumed_run_no_duplicates(serial, tmp_path):
    data, cfg, _, out, _ = serial
    expected = _sorted(PredictionsStore(out).load())
    run_benchmark(data, cfg, tmp_path / "pool", n_splits=2, methods=METHODS, progress=False, jobs=2)
    pooled = _sorted(PredictionsStore(tmp_path / "pool").load())
    pd.testing.assert_frame_equal(pooled, expected)

    # a finished run rerun: nothing is appended
    raw_before = _raw_rows(tmp_path / "pool" / "predictions.csv.gz")
    run_benchmark(data, cfg, tmp_path / "pool", n_splits=2, methods=METHODS, progress=False)
    assert len(_raw_rows(tmp_path / "pool" / "predictions.csv.gz")) == len(raw_before)
    # a crash after the rows of MT's split 1 but before one of its records: the task runs again, its second
    # member wins, and the loaded file holds each MT row once
    path = ResultStore(tmp_path / "pool").path
    lines = path.read_text().splitlines()
    kept = [ln for ln in lines if not ('"method": "MT"' in ln and '"split": 1' in ln and '"drugB"' in ln)]
    assert len(kept) == len(lines) - 1
    path.write_text("\n".join(kept) + "\n")
    run_benchmark(data, cfg, tmp_path / "pool", n_splits=2, methods=METHODS, progress=False)
    raw = _raw_rows(tmp_path / "pool" / "predictions.csv.gz")
    n_mt_split1 = int(((expected["method"] == "MT") & (expected["split"] == 1)).sum())
    assert len(raw) == len(raw_before) + n_mt_split1
    again = PredictionsStore(tmp_path / "pool").load()
    assert not again.duplicated(["drug", "split", "method", "cell_line", "set"]).any()
    pd.testing.assert_frame_equal(_sorted(again), expected)


def test_null_permutes_mt_responses_too():
    data, cfg, held = _setup(null=True)
    records, rows = run_multitask_task_with_predictions(data, 0, cfg)
    assert list(rows.columns) == list(COLUMNS) and all(r["null"] for r in records)
    for ds, rec in zip(data, records):
        y = permuted_responses(ds.y, ds.drug, cfg.seed)
        tr, te = task_rows(ds, 0, cfg)
        part = rows[rows["drug"] == ds.drug]
        np.testing.assert_array_equal(part[part["set"] == "test"]["observed"].to_numpy(), y[te])
        np.testing.assert_array_equal(part[part["set"] == "train"]["observed"].to_numpy(), y[tr])
        assert rec["mse"] == pytest.approx(metrics_from_rows(part, "ActArea")["mse"], abs=1e-12)


def test_the_report_has_mt_calibrated_calls(serial):
    data, cfg, _, out, records = serial
    from ccle.report import write_report
    from ccle.report.sections_extra import sensitivity_section
    drugs = [d.drug for d in data]
    table = sensitivity_section(records, drugs, ["MT"])["tables"][0]
    column = table["header"].index("Accuracy (calibrated)")
    mt_row = next(r for r in table["rows"] if r[0] == "multitask network")
    expected = np.mean([np.mean([r["cal_acc"] for r in records if r["method"] == "MT" and r["drug"] == d])
                        for d in drugs])
    assert float(mt_row[column]) == pytest.approx(expected, abs=5e-4)
    meta = {"config_key": cfg.key(), "protocol": "strict", "seed": 0, "split_scheme": "cell-lines",
            "split_scheme_text": "leave-cell-line-out"}
    write_report(records, out, meta, drugs, METHODS)
    md = (out / "report.md").read_text()
    assert "Sensitivity calls" in md and "multitask network" in md
