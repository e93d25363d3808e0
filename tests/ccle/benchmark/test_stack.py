"""Stack: built after its members from the rows they wrote (no member refitted), honest out-of-fold predictions,
weights in the records and the report, resumable, the same with worker processes."""
import numpy as np
import pytest

from ccle.benchmark.config import RunConfig
from ccle.benchmark.datasets import DrugData
from ccle.benchmark.predictions import PredictionsStore
from ccle.benchmark.runner import run_benchmark
from ccle.errors import CCLEError
from ccle.methods.stacking import StackedModel

OPTIONS = {"EN": {"n_alphas": 8, "cv": 3, "l1_ratio": (1.0,)}, "RF": {"n_estimators": 20}}


def _datasets(n=80, p=12):
    rng = np.random.default_rng(1)
    out = []
    for k, drug in enumerate(("drugA", "drugB")):
        X = rng.normal(size=(n, p)).astype(np.float32)
        y = X[:, 1] - X[:, 2] + np.abs(X[:, 3]) + 0.2 * rng.normal(size=n) + k
        out.append(DrugData(drug, X, y, [f"c{i}_T{i % 3}" for i in range(n)], [f"g{j}" for j in range(p)]))
    return out


def test_weights_are_the_known_combination_and_oof_is_cross_fitted():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=200), rng.normal(size=200)
    y = 0.3 * a + 0.7 * b + 1.0
    est = StackedModel(cv=4, seed=0).fit(np.zeros((200, 1)), y, members={"A": a, "B": b, "C": np.full(200, np.nan)})
    assert est.members_ == ["A", "B"]
    assert est.weights_ == pytest.approx({"A": 0.3, "B": 0.7}, abs=1e-9)
    assert est.intercept_ == pytest.approx(1.0, abs=1e-9)
    assert np.allclose(est.predict(None, members={"A": a[:3], "B": b[:3]}), y[:3])
    # a row's out-of-fold prediction does not move when its own response does
    y2 = y.copy()
    y2[7] += 50.0
    again = StackedModel(cv=4, seed=0).fit(np.zeros((200, 1)), y2, members={"A": a, "B": b})
    assert again.oof_predictions_[7] == pytest.approx(est.oof_predictions_[7], abs=1e-12)


def test_stack_is_built_from_the_members_rows_and_resumes(tmp_path, monkeypatch):
    data, cfg = _datasets(), RunConfig(n_features=6, widths=(4,), options=OPTIONS)
    first = run_benchmark(data, cfg, tmp_path, n_splits=2, methods=["EN", "RF", "mean"], progress=False)
    assert len(first) == 12
    import ccle.benchmark.tasks as tasks_mod
    made = []
    real = tasks_mod.make_method
    monkeypatch.setattr(tasks_mod, "make_method", lambda name, **kw: (made.append(name), real(name, **kw))[1])
    recs = run_benchmark(data, cfg, tmp_path, n_splits=2, methods=["EN", "RF", "mean", "Stack"], progress=False)
    assert made == ["Stack"] * 4            # resumed: only Stack ran, and no member was fitted again
    stack = [r for r in recs if r["method"] == "Stack"]
    assert len(stack) == 4
    for r in stack:
        w = r["stack_weights"]
        assert set(w) == {"EN", "RF"} and all(v >= 0 for v in w.values())   # mean has no out-of-fold spread
        assert np.isfinite(r["mse"]) and 0 < r["interval_coverage"] <= 1
    rows = PredictionsStore(tmp_path).load()
    s = rows[rows["method"] == "Stack"]
    assert len(s) == 4 * 80 and s.loc[s["set"] == "test", "predicted"].notna().all()
    # a test prediction is the weighted members' test predictions
    r = stack[0]
    t = rows[(rows["drug"] == r["drug"]) & (rows["split"].astype(int) == r["split"]) & (rows["set"] == "test")]
    by = {m: t[t["method"] == m].set_index("cell_line")["predicted"].astype(float) for m in ("EN", "RF", "Stack")}
    combo = r["stack_intercept"] + sum(r["stack_weights"][m] * by[m] for m in ("EN", "RF"))
    assert np.allclose(combo.sort_index(), by["Stack"].sort_index())


def test_stack_without_any_member_is_refused(tmp_path):
    with pytest.raises(CCLEError, match="name at least one of them"):
        run_benchmark(_datasets(), RunConfig(options=OPTIONS), tmp_path, n_splits=1, methods=["mean", "Stack"],
                      progress=False)


@pytest.mark.slow
def test_stack_with_worker_processes_equals_the_serial_run(tmp_path):
    data, cfg = _datasets(), RunConfig(n_features=6, widths=(4,), options=OPTIONS)
    methods = ["EN", "RF", "Stack"]
    serial = run_benchmark(data, cfg, tmp_path / "serial", n_splits=2, methods=methods, progress=False)
    pooled = run_benchmark(data, cfg, tmp_path / "pool", n_splits=2, methods=methods, progress=False, jobs=2)

    def key(recs):
        return {(r["drug"], r["split"]): (round(r["mse"], 12), r["stack_weights"]) for r in recs
                if r["method"] == "Stack"}
    assert key(serial) == key(pooled) and len(key(serial)) == 4
