"""Compile time is not training time: a method's kernels are compiled (or loaded) before its first task's clock
starts, once per process, under a file lock shared by the workers."""
import sys
from pathlib import Path

import numpy as np
import pytest

import ccle.benchmark.warmup as warmup


def _compiled_signatures():
    """{dispatcher name: number of compiled signatures} of every Numba kernel of nnlite loaded in this process."""
    from numba.core.registry import CPUDispatcher

    out = {}
    for name, module in list(sys.modules.items()):
        if name.startswith("nnlite") and module is not None:
            for attr, value in vars(module).items():
                if isinstance(value, CPUDispatcher):
                    out[f"{name}.{attr}"] = len(value.signatures)
    return out


@pytest.mark.slow
def test_no_kernel_is_compiled_inside_a_tasks_clock():
    """After a method's warm-up, its tasks compile nothing: every kernel and argument type the task uses was
    compiled (or loaded from Numba's cache) by the warm-up, before the clock started."""
    from ccle.benchmark.config import RunConfig
    from ccle.benchmark.datasets import drug_datasets
    from ccle.benchmark.tasks import fit_pipeline
    from ccle.cli.benchmark import quick_options
    from ccle.data.loader import load_data

    expression, table = load_data(n_genes=200)
    (ds,), _ = drug_datasets(expression, table, ["17-AAG"], True)
    cfg = RunConfig(options=quick_options(), n_features=200)
    for method in ("EN", "RF", "SVR", "PM+"):
        warmup.warm_up(method, ds.X, cfg.options)
        before = _compiled_signatures()
        fit_pipeline(ds, 0, method, cfg)
        after = _compiled_signatures()
        new = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
        assert not new, f"{method} compiled inside its task: {new}"


def test_warm_up_is_once_per_method_and_process_under_the_lock(tmp_path, monkeypatch):
    locks, fits = [], []
    monkeypatch.setattr(warmup, "cache_root", lambda: tmp_path)
    real_lock = warmup.file_lock

    def recording_lock(path):
        locks.append(Path(path))
        return real_lock(path)

    monkeypatch.setattr(warmup, "file_lock", recording_lock)
    monkeypatch.setattr(warmup, "_fit_tiny", lambda method, X, options: fits.append(method))
    monkeypatch.setattr(warmup, "_WARMED", set())
    X = np.random.default_rng(0).random((60, 50)).astype(np.float32)
    assert warmup.warm_up("SVR", X) >= 0 and warmup.warm_up("SVR", X) == 0.0
    warmup.warm_up("EN", X)
    warmup.warm_up("EN", X.astype(np.float64))  # another dtype: other kernel signatures
    assert warmup.warm_up("mean", X) == 0.0  # no kernels
    assert fits == ["SVR", "EN", "EN"]
    assert locks == [tmp_path / "numba-warmup-networks-svr.lock"] + [tmp_path / "numba-warmup-enet.lock"] * 2


def test_the_tiny_problem_has_the_dtype_and_nothing_of_the_data():
    X_tiny, y = warmup.tiny_problem(np.float32)
    assert X_tiny.dtype == np.float32 and X_tiny.flags.c_contiguous
    assert X_tiny.shape == (warmup.TINY_ROWS, warmup.TINY_GENES) and y.shape == (warmup.TINY_ROWS,)
    assert np.ptp(X_tiny, axis=0).min() > 0 and np.isfinite(y).all()
    again, _ = warmup.tiny_problem(np.float64)
    assert again.dtype == np.float64 and np.allclose(again, X_tiny, atol=1e-6)  # seeded, data-independent


def test_every_method_warms_up_for_real():
    X = np.random.default_rng(2).random((80, 60))
    for method in ("PM", "EN", "RF", "SVR", "ANN", "mean"):
        warmup._fit_tiny(method, X, {})


def test_the_multitask_network_warms_up_for_real():
    X = np.random.default_rng(3).random((60, 30)).astype(np.float32)
    warmup._fit_tiny("MT", X, {"MT": {"hidden": (8,)}})


def test_an_mt_task_compiles_before_its_clock(monkeypatch):
    """The first MT task of a process reports its warm-up (split over the drugs' records), the second none."""
    from ccle.benchmark.datasets import with_splits
    from ccle.benchmark.datasets import DrugData, split_fingerprint
    from ccle.benchmark.config import RunConfig
    from ccle.benchmark.tasks import run_multitask_task

    rng = np.random.default_rng(1)
    X_all = rng.normal(size=(60, 10)).astype(np.float32)
    names = [f"C{i}_T{i % 3}" for i in range(60)]
    data = [DrugData(d, X_all, X_all[:, 1] - X_all[:, 2] + k, names, [f"g{j}" for j in range(10)])
            for k, d in enumerate(("drugA", "drugB"))]
    data, held = with_splits(data, "cell-lines", 2, 0, 0.3, None)
    tiny = {"MT": {"hidden": (8,), "epochs": 5, "patience": 2, "cv": 2, "n_genes": 8, "retrain_epochs": 1}}
    cfg = RunConfig(options=tiny, split_scheme="cell-lines", split_fingerprint=split_fingerprint(held))
    fits = []
    monkeypatch.setattr(warmup, "_WARMED", set())
    monkeypatch.setattr(warmup, "_fit_tiny", lambda method, X, options: fits.append(method))
    first = run_multitask_task(data, 0, cfg)
    second = run_multitask_task(data, 1, cfg)
    assert fits == ["MT"]
    assert all(r["warmup_seconds"] > 0 for r in first) and all(r["warmup_seconds"] == 0.0 for r in second)
