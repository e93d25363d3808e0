"""predictions.csv.gz: atomic appends, torn-member recovery, and every metric recomputed from the rows."""
import gzip
import math
import os

import numpy as np
import pandas as pd
import pytest

from ccle.evaluation.calls import call_classes, call_metrics, fit_call_rules
from ccle.evaluation.metrics import regression_metrics
from ccle.benchmark.predictions import COLUMNS, PredictionsStore, metrics_from_rows, task_rows


def _task(drug, split, method, seed, response="ActArea"):
    rng = np.random.default_rng(seed)
    n_train, n_test = 40, 17
    y_train, y_test = rng.normal(size=n_train), rng.normal(size=n_test)
    oof = 0.5 * y_train + 0.3 * rng.normal(size=n_train)
    pred = 0.5 * y_test + 0.3 * rng.normal(size=n_test)
    paper, cal = fit_call_rules(y_train, oof, response)
    observed, predicted = np.r_[y_train, y_test], np.r_[oof, pred]
    classes = call_classes(observed, predicted, paper, cal)
    rows = task_rows(drug, split, method, [f"CL{i}_TISSUE" for i in range(n_train + n_test)],
                     ["train"] * n_train + ["test"] * n_test, observed, predicted, classes)
    rec = regression_metrics(y_test, pred)
    rec.update(call_metrics(y_test, pred, y_train, oof, response))
    return rows, rec


def _same(a, b):
    return (isinstance(a, float) and math.isnan(a) and math.isnan(b)) or a == b


def test_round_trip_and_every_metric_recomputed_exactly(tmp_path):
    store = PredictionsStore(tmp_path)
    expected = {}
    for i, (drug, split, method) in enumerate([("Nutlin-3", 0, "PM"), ("Nutlin-3", 0, "EN"),
                                                ("Lapatinib", 1, "mean")]):
        rows, rec = _task(drug, split, method, seed=i)
        store.append(rows)
        expected[(drug, split, method)] = (rows, rec)
    df = store.load()
    assert list(df.columns) == list(COLUMNS) and len(df) == 3 * 57
    assert store.done() == set(expected)
    for key, (rows, rec) in expected.items():
        got = df[(df.drug == key[0]) & (df.split == key[1]) & (df.method == key[2])].reset_index(drop=True)
        pd.testing.assert_frame_equal(got, rows.reset_index(drop=True), check_dtype=False)
        again = metrics_from_rows(got, "ActArea")
        for field, value in rec.items():
            assert _same(again[field], value), field
        assert again["n_train"] == 40 and again["n_test"] == 17
    # a plain reader sees one header and all rows
    assert len(pd.read_csv(store.path)) == 3 * 57


def test_ic50_rows_recompute_with_their_direction(tmp_path):
    rows, rec = _task("Erlotinib", 2, "RF", seed=9, response="IC50 (uM)")
    store = PredictionsStore(tmp_path)
    store.append(rows)
    again = metrics_from_rows(store.load(), "IC50 (uM)")
    assert all(_same(again[k], v) for k, v in rec.items())


def test_torn_last_member_is_dropped_and_repaired(tmp_path):
    store = PredictionsStore(tmp_path)
    first, _ = _task("A", 0, "PM", 0)
    second, _ = _task("A", 1, "PM", 1)
    store.append(first)
    size = store.path.stat().st_size
    n = store.append(second)
    with open(store.path, "r+b") as fh:  # a crash in the middle of the second write
        fh.truncate(size + n // 2)
    assert store.done() == {("A", 0, "PM")}
    store.repair()
    assert store.path.stat().st_size == size
    store.append(second)
    assert store.done() == {("A", 0, "PM"), ("A", 1, "PM")}
    assert len(pd.read_csv(store.path)) == 2 * 57


def test_torn_member_in_the_middle_is_skipped_without_repair(tmp_path):
    store = PredictionsStore(tmp_path)
    a, _ = _task("A", 0, "PM", 0)
    b, _ = _task("A", 1, "PM", 1)
    c, _ = _task("A", 2, "PM", 2)
    store.append(a)
    size = store.path.stat().st_size
    n = store.append(b)
    with open(store.path, "r+b") as fh:
        fh.truncate(size + n - 9)  # the trailer (CRC, size) is lost
    store.append(c)
    assert store.done() == {("A", 0, "PM"), ("A", 2, "PM")}


def test_torn_header_member_leaves_an_empty_store_that_restarts(tmp_path):
    store = PredictionsStore(tmp_path)
    rows, _ = _task("A", 0, "PM", 0)
    n = store.append(rows)
    with open(store.path, "r+b") as fh:
        fh.truncate(n // 3)
    assert store.load().empty
    store.repair()
    store.append(rows)
    assert store.done() == {("A", 0, "PM")}
    with gzip.open(store.path, "rt") as fh:
        assert fh.readline().strip() == ",".join(COLUMNS)


def test_rerun_of_a_task_keeps_the_last_member(tmp_path):
    store = PredictionsStore(tmp_path)
    a, _ = _task("A", 0, "PM", 0)
    b, _ = _task("A", 0, "PM", 5)
    store.append(a)
    store.append(b)
    df = store.load()
    assert len(df) == 57 and np.allclose(df["predicted"], b["predicted"])


def test_train_rows_without_oof_prediction(tmp_path):
    rows, _ = _task("A", 0, "ANN", 0)
    rows.loc[rows.index[:10], "predicted"] = np.nan
    rows.loc[rows.index[:10], "class_calibrated"] = -1
    rows.loc[rows.index[:10], "class_paper"] = -1
    store = PredictionsStore(tmp_path)
    store.append(rows)
    df = store.load()
    assert df["predicted"].isna().sum() == 10
    rec = metrics_from_rows(df, "ActArea")
    assert rec["n_train"] == 40 and math.isfinite(rec["cal_acc"])


def test_bad_set_value_is_refused():
    with pytest.raises(ValueError, match="set"):
        task_rows("A", 0, "PM", ["x"], ["validation"], [1.0], [1.0],
                  {"class_observed": [1], "class_paper": [1], "class_calibrated": [1]})


def _append_many(args):
    out_dir, worker = args
    store = PredictionsStore(out_dir)
    for k in range(3):
        store.append(_task("drugA", worker * 10 + k, "EN", worker * 10 + k)[0])


@pytest.mark.parametrize("attempt", range(10))
def test_processes_appending_to_a_new_file_write_one_header(tmp_path, attempt):
    """Several processes start appending to a missing file at once: one header, every row read back as data."""
    import multiprocessing
    with multiprocessing.get_context("fork").Pool(4) as pool:
        pool.map(_append_many, [(tmp_path, w) for w in range(4)])
    with gzip.open(tmp_path / "predictions.csv.gz", "rt") as fh:
        assert sum(line.startswith("drug,split") for line in fh) == 1
    df = PredictionsStore(tmp_path).load()
    assert len(df) == 4 * 3 * 57 and set(df.split) == {w * 10 + k for w in range(4) for k in range(3)}


def test_repair_of_a_torn_header_member_removes_the_file(tmp_path):
    store = PredictionsStore(tmp_path)
    store.append(_task("drugA", 0, "EN", 0)[0])
    store.path.write_bytes(store.path.read_bytes()[:20])  # an older file, torn inside its header member
    store.repair()
    assert not store.path.exists()
    store.append(_task("drugA", 1, "EN", 1)[0])
    assert set(store.load().split) == {1}


def test_rows_written_before_the_header_are_still_read(tmp_path, monkeypatch):
    """A first member holding rows, not the header (the no-hard-link fallback can race so): load keeps them."""
    store = PredictionsStore(tmp_path)
    a, _ = _task("drugA", 0, "EN", 0)
    b, _ = _task("drugA", 1, "EN", 1)
    store.path.write_bytes(gzip.compress(a.to_csv(index=False, header=False).encode()))
    monkeypatch.setattr(os, "link", lambda *args: (_ for _ in ()).throw(OSError("no hard links")))
    store.append(b)
    assert store.done() == {("drugA", 0, "EN"), ("drugA", 1, "EN")}
    assert not list(tmp_path.glob(".*.tmp"))


def test_fallback_without_hard_links_creates_the_header(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "link", lambda *args: (_ for _ in ()).throw(OSError("no hard links")))
    store = PredictionsStore(tmp_path)
    store.append(_task("drugA", 0, "EN", 0)[0])
    assert len(pd.read_csv(store.path)) == 57 and not list(tmp_path.glob(".*.tmp"))
