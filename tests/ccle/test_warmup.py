"""Compile time is not training time: a method's kernels are compiled (or loaded) before its first task's clock
starts, once per process, under a file lock shared by the workers."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

import ccle.warmup as warmup

SRC = Path(__file__).resolve().parents[2] / "src"

TWO_TASKS = """
import json, sys
from ccle.data.loader import load_data
from ccle.cli.benchmark import QUICK_OPTIONS, drug_datasets
from ccle.tasks import RunConfig, run_task
expression, table = load_data(n_genes=200)
(ds,), _ = drug_datasets(expression, table, ["17-AAG"], True)
cfg = RunConfig(options=QUICK_OPTIONS, n_features=200)
for method in sys.argv[1].split(","):
    for split in (0, 1):
        rec = run_task(ds, split, method, cfg)
        print(json.dumps({k: rec[k] for k in ("method", "split", "train_seconds", "warmup_seconds")}))
"""


def test_first_and_second_task_of_a_method_report_times_within_3x(tmp_path):
    # a fresh Numba cache: the first task of each method would otherwise pay the whole compilation
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba"), CCLE_CACHE_DIR=str(tmp_path / "ccle"),
               PYTHONPATH=str(SRC), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    run = subprocess.run([sys.executable, "-c", TWO_TASKS, "EN,RF"], env=env, capture_output=True, text=True,
                         timeout=900)
    assert run.returncode == 0, run.stderr[-2000:]
    recs = [json.loads(line) for line in run.stdout.splitlines()]
    for method in ("EN", "RF"):
        first, second = [r for r in recs if r["method"] == method]
        assert first["warmup_seconds"] > 0 and second["warmup_seconds"] == 0.0
        ratio = first["train_seconds"] / second["train_seconds"]
        assert 1 / 3 <= ratio <= 3, (method, first, second)


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
