"""Learning across drugs wired into the benchmark: --split schemes, the tissue baseline and the MT task in the runner, and
train --multitask / predict / inspect through the CLI."""
import json
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ccle.benchmark.datasets import with_splits
from ccle.data.align import normalize_cell_line
from ccle.errors import CCLEError
from ccle.methods import default_methods, parse_methods
from ccle.methods.multitask import MultiTaskModel, fit_predict_split, load_multitask
from ccle.benchmark.runner import pending_tasks, run_benchmark, task_list
from ccle.benchmark.store import ResultStore
from ccle.benchmark.tasks import ALL_DRUGS, run_multitask_task, run_multitask_task_with_predictions, task_rows
from ccle.benchmark.config import RunConfig
from ccle.methods.tissue import TissueMeanModel
from tests.multidrug import multidrug_datasets

REPO = Path(__file__).resolve().parents[3]
TINY = {"MT": {"hidden": (8,), "epochs": 20, "patience": 5, "cv": 2, "n_genes": 8, "retrain_epochs": 1},
        "EN": {"n_alphas": 8, "cv": 3, "l1_ratio": (1.0,)}}
TIMING = {"fit_seconds", "selector_seconds", "search_seconds", "train_seconds", "predict_seconds",
          "multitask_train_seconds", "warmup_seconds"}


def _datasets(n=80, p=12, drugs=("drugA", "drugB", "drugC")):
    """Drugs measured on overlapping cell lines of 4 tissues; each drug sees a different subset of the lines."""
    return multidrug_datasets(n, p, drugs, seed=0, noise=0.1)


def _run(scheme, n_splits=2, seed=0, lineages=None):
    data = _datasets()
    data, held = with_splits(data, scheme, n_splits, seed, 0.3, lineages)
    from ccle.benchmark.datasets import split_fingerprint
    cfg = RunConfig(seed=seed, options=TINY, split_scheme=scheme, split_fingerprint=split_fingerprint(held))
    return data, cfg, held


def test_the_default_scheme_keeps_the_resume_key_of_earlier_runs():
    cfg = RunConfig()
    d = asdict(cfg)
    d.pop("split_scheme")
    d.pop("split_fingerprint")
    d.pop("response")   # likewise left out for ActArea (the fields an earlier run did not have)
    d.pop("interval_level")   # and the default interval level
    d["widths"] = list(d["widths"])
    import hashlib
    expected = hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:16]
    assert cfg.key() == expected
    assert RunConfig(split_scheme="cell-lines").key() != cfg.key()


def test_every_drug_tests_exactly_the_held_out_lines():
    data, cfg, held = _run("cell-lines")
    for s in range(2):
        for ds in data:
            tr, te = task_rows(ds, s, cfg)
            keys = [normalize_cell_line(c) for c in ds.cell_lines]
            assert {keys[i] for i in te} == held[s] & set(keys)
            assert not {keys[i] for i in tr} & held[s]
            assert tr.size + te.size == len(ds.y)


def test_tissue_scheme_holds_out_whole_tissues():
    data, cfg, held = _run("tissues")
    for s in range(2):
        test_tissues = {ds.tissues[i] for ds in data for i in task_rows(ds, s, cfg)[1]}
        train_tissues = {ds.tissues[i] for ds in data for i in task_rows(ds, s, cfg)[0]}
        assert test_tissues and not test_tissues & train_tissues


def test_mt_needs_a_shared_scheme():
    with pytest.raises(CCLEError, match="--split cell-lines"):
        parse_methods("EN,MT", "pairs")
    assert parse_methods("EN,MT", "tissues") == ["EN", "MT"]
    assert "MT" not in default_methods("pairs") and "tissue" in default_methods("pairs")
    assert "MT" in default_methods("cell-lines") and "MT" in default_methods("tissues")
    data, cfg, _ = _run("cell-lines")
    with pytest.raises(ValueError):
        run_multitask_task(data, 0, RunConfig(options=TINY))


def test_mt_tasks_come_first_and_count_as_done_only_with_every_drug():
    tasks = task_list(["a", "b"], 2, ["mean", "MT"])
    assert tasks[:2] == [(ALL_DRUGS, 0, "MT"), (ALL_DRUGS, 1, "MT")] and len(tasks) == 6
    done = {("a", 0, "MT"), ("b", 0, "MT"), ("a", 1, "MT"), ("a", 0, "mean")}
    assert pending_tasks(tasks, done, ["a", "b"]) == [(ALL_DRUGS, 1, "MT"), ("a", 1, "mean"), ("b", 0, "mean"),
                                                      ("b", 1, "mean")]


def test_benchmark_records_use_the_same_rows_and_match_the_components(tmp_path):
    data, cfg, held = _run("cell-lines")
    recs = run_benchmark(data, cfg, tmp_path, n_splits=2, methods=["mean", "tissue", "MT"], progress=False)
    assert len(recs) == 3 * 2 * 3
    by = {(r["drug"], r["split"], r["method"]): r for r in recs}
    assert all(r["split_scheme"] == "cell-lines" for r in recs)
    for s in range(2):
        # MT: one fit per split; its records equal the component's own predictions with the task's seed
        from ccle.evaluation.splits import split_seed
        model = MultiTaskModel(seed=split_seed(cfg.seed, ALL_DRUGS, s) % (2 ** 31), **TINY["MT"])
        _, preds = fit_predict_split(data, held[s], model)
        for ds in data:
            tr, te = task_rows(ds, s, cfg)
            assert {by[(ds.drug, s, m)]["n_test"] for m in ("mean", "tissue", "MT")} == {te.size}
            idx, p = preds[ds.drug]
            assert np.array_equal(idx, te)
            assert by[(ds.drug, s, "MT")]["mse"] == pytest.approx(float(np.mean((p - ds.y[te]) ** 2)), rel=1e-12)
            tm = TissueMeanModel().fit(None, ds.y[tr], tissues=[ds.tissues[i] for i in tr])
            expected = tm.predict(None, tissues=[ds.tissues[i] for i in te])
            assert by[(ds.drug, s, "tissue")]["mse"] == pytest.approx(float(np.mean((expected - ds.y[te]) ** 2)))
    # the tissue baseline knows something here (responses depend on the tissue); the mean does not
    assert np.mean([by[(d.drug, s, "tissue")]["mse"] for d in data for s in range(2)]) < \
        np.mean([by[(d.drug, s, "mean")]["mse"] for d in data for s in range(2)])
    # the report covers the run's scheme and names it
    from ccle.report import write_report
    meta = {"config_key": cfg.key(), "protocol": "strict", "seed": 0, "split_scheme": "cell-lines",
            "split_scheme_text": "leave-cell-line-out"}
    text = write_report(recs, tmp_path, meta, [d.drug for d in data], ["MT", "tissue", "mean"])
    assert "multitask network" in text and "per-drug tissue mean" in text
    md = (tmp_path / "report.md").read_text()
    assert "split: cell-lines" in md and "Split scheme **cell-lines**: leave-cell-line-out" in md


def test_a_dask_worker_runs_the_mt_task_from_every_drug():
    from ccle.benchmark.config import RunContext
    from ccle.benchmark.distributed import _task
    from ccle.benchmark.tasks import ALL_DRUGS
    data, cfg, _ = _run("cell-lines")
    ctx = RunContext(cfg=cfg, out_dir=None, datasets=tuple(data), cache_dir=None)
    records, rows = _task(ctx, (ALL_DRUGS, 1, "MT"))
    assert [r["drug"] for r in records] == [d.drug for d in data]
    serial, serial_rows = run_multitask_task_with_predictions(data, 1, cfg)
    assert _without_nan(records) == _without_nan([dict(r, **{k: records[i][k] for k in TIMING})
                                                  for i, r in enumerate(serial)])
    pd.testing.assert_frame_equal(rows, serial_rows)   # every drug's rows, the worker's as the serial task's
    assert list(rows["drug"].unique()) == [d.drug for d in data]


def _without_nan(records):
    """The records with NaN metrics (an undefined kappa or AUROC) made comparable with ==."""
    return [{k: ("nan" if isinstance(v, float) and v != v else v) for k, v in r.items()} for r in records]


@pytest.mark.slow
def test_mt_resumes_as_one_task_and_jobs_give_the_same_records(tmp_path):
    data, cfg, _ = _run("tissues")
    serial = run_benchmark(data, cfg, tmp_path / "a", n_splits=2, methods=["MT", "mean"], progress=False)
    lines = (tmp_path / "a" / "results.jsonl").read_text().splitlines()
    # drop one drug's MT record of split 1: the whole split-1 MT task runs again, nothing else
    kept = [ln for ln in lines if not (json.loads(ln)["method"] == "MT" and json.loads(ln)["split"] == 1
                                       and json.loads(ln)["drug"] == "drugB")]
    (tmp_path / "a" / "results.jsonl").write_text("\n".join(kept) + "\n")
    again = run_benchmark(data, cfg, tmp_path / "a", n_splits=2, methods=["MT", "mean"], progress=False)
    assert len(ResultStore(tmp_path / "a").load(cfg.key())) == len(kept) + 3
    pooled = run_benchmark(data, cfg, tmp_path / "b", n_splits=2, methods=["MT", "mean"], progress=False, jobs=2)

    def strip(records):
        return {(r["drug"], r["split"], r["method"]): {k: v for k, v in r.items() if k not in TIMING}
                for r in _without_nan(records)}
    assert strip(serial) == strip(again) == strip(pooled)


def _cli(*args, cwd):
    return subprocess.run([sys.executable, str(REPO / "cli.py"), *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


@pytest.mark.slow
def test_cli_refuses_mt_under_pairs(tmp_path):
    proc = _cli("benchmark", "--quick", "--quiet", "--methods", "MT,mean", "--out", str(tmp_path / "o"),
                cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "--split cell-lines" in proc.stderr.strip().splitlines()[-1]


@pytest.mark.slow
def test_train_multitask_predict_inspect_round_trip(tmp_path):
    from ccle.data.loader import load_data
    model = tmp_path / "mt.nnz"
    proc = _cli("train", "--multitask", "--quick", "--drug", "Nutlin-3", "--drug", "AEW541", "--drug", "PLX4720",
                "--out", str(model), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    expression, _ = load_data(n_genes=200)
    gct = Path(expression.source)
    out = tmp_path / "p.csv"
    proc = _cli("predict", str(model), "--expression", str(gct), "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    df = pd.read_csv(out)
    assert list(df.columns) == ["cell_line", "drug", "predicted_ActArea", "percentile_among_training_ActArea",
                                "class_calibrated", "class_paper_rule", "in_training_set"]
    assert set(df["drug"]) == {"Nutlin-3", "AEW541", "PLX4720"}
    assert len(df) == 3 * len(expression.cell_lines)
    # the file predicts what the loaded model predicts on the training transform of the same data
    mt = load_multitask(model)
    meta = json.loads(json.dumps(_meta(model)))
    log2 = meta["expression_transform"]["log2p1"]
    pos = {g: j for j, g in enumerate(expression.genes)}
    X = np.asarray(expression.values)[:, [pos[g] for g in mt.genes_]].astype(np.float32)
    X = np.log2(X + np.float32(1)) if log2 else X
    P = mt.predict(X)
    j = mt.drugs_.index("AEW541")
    got = df[df["drug"] == "AEW541"]["predicted_ActArea"].to_numpy()
    np.testing.assert_allclose(got, P[:, j], rtol=1e-6, atol=1e-6)
    rt = tmp_path / "p2.csv"
    assert _cli("predict", str(model), "--expression", str(gct), "--numpy-runtime", "--out", str(rt),
                cwd=tmp_path).returncode == 0
    np.testing.assert_allclose(pd.read_csv(rt)["predicted_ActArea"], df["predicted_ActArea"], rtol=1e-5, atol=1e-5)
    proc = _cli("inspect", str(model), cwd=tmp_path)
    assert proc.returncode == 0 and "multitask network for 3 drugs" in proc.stdout and "AEW541" in proc.stdout


def _meta(path):
    from nnlite.compress.fileformat import read_metadata
    return read_metadata(path)
