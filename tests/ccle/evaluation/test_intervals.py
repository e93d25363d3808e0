"""Prediction intervals of benchmark tasks (ccle.evaluation.intervals) and their columns in
predictions.csv.gz: known answers, files written before the columns existed, the file's mode."""
import gzip
import os

import numpy as np
import pandas as pd
import pytest

from ccle.evaluation.thresholds import IQRThresholds
from ccle.evaluation.intervals import confident, interval_fields, task_intervals
from ccle.benchmark.predictions import COLUMNS, LEGACY_COLUMNS, PredictionsStore, task_rows


def test_task_intervals_use_the_conformal_rank_of_the_oof_residuals():
    y = np.arange(20.0)
    oof = y + np.r_[np.arange(1.0, 20.0), np.nan]       # residuals 1..19 and one row without OOF prediction
    lo, hi = task_intervals(y, oof, [0.0, np.nan], 0.9)  # n = 19: rank ceil(20 * 0.9) = 18
    np.testing.assert_array_equal(lo, [-18.0, np.nan])
    np.testing.assert_array_equal(hi, [18.0, np.nan])
    lo, hi = task_intervals(y, np.full(20, np.nan), [1.0], 0.9)
    assert np.isnan(lo).all() and np.isnan(hi).all()


def test_confident_calls_and_record_fields():
    rule = IQRThresholds(low=0.0, high=1.0)
    lo = np.array([-3.0, -0.5, 0.2, 0.5, 1.0])
    hi = np.array([-1.0, 0.5, 0.8, 1.5, 2.0])
    # resistant at <= 0 and sensitive at >= 1 are closed: [1, 2] is sensitive throughout, [-0.5, 0.5] is not
    np.testing.assert_array_equal(confident(lo, hi, rule), [True, False, True, False, True])
    y = np.array([-2.0, 0.3, 0.6, 5.0, 1.5])
    pred = (lo + hi) / 2
    rec = interval_fields(y, pred, lo, hi, rule, 0.9)
    assert rec["interval_level"] == 0.9
    assert rec["interval_coverage"] == pytest.approx(0.8)      # 5.0 lies outside [0.5, 1.5]
    assert rec["interval_width"] == pytest.approx(1.0)
    assert rec["confident_share"] == pytest.approx(0.6)
    assert rec["confident_acc"] == pytest.approx(1.0)
    none = interval_fields(y, pred, np.full(5, np.nan), np.full(5, np.nan), rule)
    assert np.isnan(none["interval_coverage"]) and np.isnan(none["confident_acc"])


def _rows(n=6, intervals=True):
    rng = np.random.default_rng(0)
    y = rng.normal(size=n)
    classes = {k: np.ones(n, dtype=int) for k in ("class_observed", "class_paper", "class_calibrated")}
    iv = {"lower": y - 1, "upper": y + 1, "call_confident": np.arange(n) % 2 == 0} if intervals else None
    return task_rows("D", 0, "EN", [f"c{i}" for i in range(n)], ["train"] * 3 + ["test"] * (n - 3), y, y + 0.1,
                     classes, iv)


def test_a_file_written_before_the_intervals_is_read_and_appended_to(tmp_path):
    path = tmp_path / "predictions.csv.gz"
    legacy = _rows()[list(LEGACY_COLUMNS)]
    path.write_bytes(gzip.compress((",".join(LEGACY_COLUMNS) + "\n").encode(), mtime=0)
                     + gzip.compress(legacy.to_csv(index=False, header=False).encode(), mtime=0))
    store = PredictionsStore(tmp_path)
    df = store.load()
    assert list(df.columns) == list(COLUMNS) and len(df) == 6 and df["lower"].isna().all()
    new = _rows()
    new["method"] = "RF"
    store.append(new)                                   # written in the file's own (legacy) columns
    df = store.load()
    assert len(df) == 12 and set(df["method"]) == {"EN", "RF"} and df["lower"].isna().all()
    assert len(pd.read_csv(path)) == 12


def test_new_files_carry_the_interval_columns_and_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        PredictionsStore(tmp_path).append(_rows())
    finally:
        os.umask(old)
    assert (tmp_path / "predictions.csv.gz").stat().st_mode & 0o777 == 0o644
    df = PredictionsStore(tmp_path).load()
    np.testing.assert_allclose(df["upper"] - df["lower"], 2.0)
    assert df["call_confident"].tolist() == [1, 0, 1, 0, 1, 0]
    assert list(pd.read_csv(tmp_path / "predictions.csv.gz").columns) == list(COLUMNS)
