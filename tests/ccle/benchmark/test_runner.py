"""Task runner: resume file, identical splits for every method, the strict protocol's data access, --jobs."""
import json

import numpy as np
import pytest

import ccle.methods.estimators as model_mod
import ccle.methods.gene_selection as selection_mod
import ccle.methods.paper_model as paper_mod
from ccle.methods import names
import ccle.methods.preprocess as preprocess_mod
import ccle.benchmark.warmup as warmup_mod
from ccle.errors import CCLEError
from ccle.evaluation.splits import split_indices
from ccle.report import table1
from ccle.benchmark.runner import run_benchmark, task_list
from ccle.benchmark.store import ResultStore
from ccle.benchmark.datasets import DrugData
from ccle.benchmark.config import RunConfig

TINY = {"PM+": {"cv": 2, "epochs": 15, "patience": 5, "l2": (1e-2,), "retrain_epochs": 1},
        "PM": {"epochs": 5, "patience": 2, "max_layers": 2, "max_width": 20, "retrain_epochs": 1,
               "finetune_epochs": 1},
        "ANN": {"epochs": 10, "patience": 5}, "EN": {"n_alphas": 8, "cv": 3, "l1_ratio": (1.0,)},
        "RF": {"n_estimators": 5}}


def _datasets(n=60, p=12):
    rng = np.random.default_rng(0)
    out = []
    for k, drug in enumerate(("drugA", "drugB")):
        X = rng.normal(size=(n, p)).astype(np.float32)
        X[:, 0] = np.arange(n)  # row ids: the spy reads them back
        y = X[:, 1] - X[:, 2] + 0.1 * rng.normal(size=n) + k
        out.append(DrugData(drug, X, y, [f"c{i}" for i in range(n)], [f"g{j}" for j in range(p)]))
    return out


def _cfg(**kw):
    base = dict(n_features=6, widths=(4,), options=TINY)
    base.update(kw)
    return RunConfig(**base)


def test_result_store_skips_torn_lines(tmp_path):
    store = ResultStore(tmp_path)
    store.append({"drug": "a", "split": 0, "method": "PM", "config_key": "k", "mse": 1.0})
    with open(store.path, "ab") as fh:
        fh.write(b'{"drug": "a", "split": 1, "meth')  # an interrupted write
    assert store.done("k") == {("a", 0, "PM")}
    assert store.done("other") == set()


def test_tasks_are_drug_major_and_complete():
    tasks = task_list(["a", "b"], 2, ["mean", "SVR", "PM"])
    assert len(tasks) == 12 and tasks[0] == ("a", 0, "PM") and tasks[-1][0] == "b"


def test_resume_gives_the_same_tables_as_one_run(tmp_path):
    data, cfg, methods = _datasets(), _cfg(), ["PM", "SVR", "EN", "mean"]
    full = run_benchmark(data, cfg, tmp_path / "full", n_splits=2, methods=methods, progress=False)
    assert len(full) == 16
    part = tmp_path / "part"
    first = run_benchmark(data, cfg, part, n_splits=2, methods=methods, progress=False, max_tasks=5)
    assert len(first) == 5
    with open(part / "results.jsonl", "ab") as fh:
        fh.write(b'{"drug": "drugB", "spl')  # killed mid-write
    calls = []
    import ccle.benchmark.tasks as tasks_mod
    orig = tasks_mod.make_method
    counting_make = lambda *a, **k: (calls.append(a[0]), orig(*a, **k))[1]  # noqa: E731
    tasks_mod.make_method, saved = counting_make, tasks_mod.make_method
    try:
        resumed = run_benchmark(data, cfg, part, n_splits=2, methods=methods, progress=False)
    finally:
        tasks_mod.make_method = saved
    assert len(calls) == 11  # only what was missing ran
    h, a = table1(full, ["drugA", "drugB"], methods)
    _, b = table1(resumed, ["drugA", "drugB"], methods)
    assert a == b


def test_every_method_sees_the_same_rows_and_strict_never_fits_on_test_rows(tmp_path, monkeypatch):
    data = _datasets()
    seen = []  # (what, drug rows seen)

    def spy(cls, name="fit"):
        orig = getattr(cls, name)

        def wrapped(self, X, *args, **kw):
            seen.append((f"{cls.__name__}.{name}", frozenset(np.asarray(X)[:, 0].astype(int).tolist())))
            return orig(self, X, *args, **kw)
        monkeypatch.setattr(cls, name, wrapped)

    for cls in (selection_mod.GeneSelector, model_mod.PerDrugModel, model_mod.SVRModel, model_mod.ElasticNetModel,
                model_mod.RandomForestModel, model_mod.SimpleANNModel, model_mod.MeanModel,
                preprocess_mod.MinMaxScaler):
        spy(cls)
    # the kernel warm-up fits on a seeded random matrix, not on any drug row (tests/ccle/test_warmup.py)
    monkeypatch.setattr(warmup_mod, "_WARMED", {(m, dt) for m in names() for dt in ("<f4", "<f8")})
    spy(paper_mod.PaperModel)
    spy(paper_mod.PaperModel, "search")
    methods = ["PM", "PM+", "EN", "RF", "SVR", "ANN", "mean"]
    recs = run_benchmark(data[:1], _cfg(), tmp_path / "strict", n_splits=2, methods=methods, progress=False)
    assert len(recs) == 14
    train_sets = [frozenset(split_indices(60, "drugA", s)[0].tolist()) for s in range(2)]
    assert seen and all(rows in train_sets for _, rows in seen), "a fit saw rows outside a training set"
    assert {what for what, _ in seen} >= {"GeneSelector.fit", "MinMaxScaler.fit", "PerDrugModel.fit",
                                          "PaperModel.fit", "ElasticNetModel.fit", "MeanModel.fit"}
    for s in range(2):
        rs = [r for r in recs if r["split"] == s]
        assert len({(r["n_train"], r["n_test"]) for r in rs}) == 1
    # the paper protocol fits scaling and RFE on all rows of the drug, once, and PM's width search too
    seen.clear()
    paper = run_benchmark(data[:1], _cfg(protocol="paper"), tmp_path / "paper", n_splits=2,
                          methods=["PM", "SVR"], progress=False)
    selector_rows = [rows for what, rows in seen if what == "GeneSelector.fit"]
    assert selector_rows == [frozenset(range(60))]
    assert [rows for what, rows in seen if what == "PaperModel.search"] == [frozenset(range(60))]
    assert sorted(rows for what, rows in seen if what == "PaperModel.fit") == sorted(train_sets)
    pm = [r for r in paper if r["method"] == "PM"]
    assert all(r["train_seconds"] >= r["search_seconds"] > 0 for r in pm)
    assert pm[0]["widths"] == pm[1]["widths"]   # one search per drug


def test_search_is_cached_and_used(tmp_path, monkeypatch):
    data = _datasets()[:1]
    cfg = _cfg(search=True)
    calls = []
    orig = paper_mod.PaperModel.search

    def counting(self, *a, **k):
        calls.append(1)
        return orig(self, *a, **k)
    monkeypatch.setattr(paper_mod.PaperModel, "search", counting)
    recs = run_benchmark(data, cfg, tmp_path, n_splits=1, methods=["PM+", "ANN"], progress=False)
    assert len(calls) == 1  # PM+ and the simple ANN share the split's paper search
    pm = [r for r in recs if r["method"] == "PM+"][0]
    ann = [r for r in recs if r["method"] == "ANN"][0]
    assert pm["widths"] == ann["widths"] and 1 <= len(pm["widths"]) <= 2 and max(pm["widths"]) <= 20
    assert list((tmp_path / "cache").glob("search_*.json"))


def test_too_few_cell_lines(tmp_path):
    d = _datasets(n=9)[:1]
    with pytest.raises(CCLEError, match="too few"):
        run_benchmark(d, _cfg(), tmp_path, n_splits=1, methods=["mean"], progress=False)


@pytest.mark.slow
def test_two_processes_give_the_same_results(tmp_path):
    data, cfg = _datasets(), _cfg()
    one = run_benchmark(data, cfg, tmp_path / "one", n_splits=2, methods=["SVR", "mean"], progress=False)
    two = run_benchmark(data, cfg, tmp_path / "two", n_splits=2, methods=["SVR", "mean"], progress=False, jobs=2)
    key = lambda r: (r["drug"], r["split"], r["method"])  # noqa: E731
    assert [(key(r), r["mse"]) for r in sorted(one, key=key)] == [(key(r), r["mse"]) for r in sorted(two, key=key)]
    lines = (tmp_path / "two" / "results.jsonl").read_text().splitlines()
    assert len(lines) == 8 and all(json.loads(line)["config_key"] == cfg.key() for line in lines)
