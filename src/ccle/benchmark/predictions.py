"""``predictions.csv.gz``: every prediction of a benchmark run, one row per (drug, split, method, cell line).

Columns: drug, split, method, cell_line, set ("train" / "test"), observed, predicted,
class_observed, class_paper, class_calibrated. For ``set == "test"`` ``predicted`` is the model's prediction; for
``set == "train"`` it is the row's *out-of-fold* prediction (what the calibrated thresholds were fitted on), empty
when the method has none for that row. Classes are codes 0 resistant, 1 moderate, 2 sensitive.

File discipline (the same as results.jsonl): the file appears already holding a first gzip member with the CSV
header alone (hard-linked into place); then each task's rows are one gzip member, written with a single
``os.write`` on an O_APPEND descriptor and fsynced, so a multi-member gzip file is always valid up to its last
complete member; ``zcat`` / ``pandas.read_csv`` read a clean file directly. A crash mid-write leaves a torn last member: :meth:`PredictionsStore.load` drops it (and any undecodable member,
resynchronising on the next gzip magic), and :meth:`PredictionsStore.repair` truncates it before appending again.
When a task was written twice (a rerun after a crash) the last member of each (drug, split, method) wins. A
cross-drug task (MT) writes every drug's rows as one member, so they are on disk all or none.
"""
from __future__ import annotations

import gzip
import io
import os
import tempfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from ccle.evaluation.calls import call_metrics, fit_call_rules
from ccle.evaluation.thresholds import sensitivity_accuracy
from ccle.evaluation.metrics import regression_metrics
from ccle.evaluation.intervals import interval_fields

PREDICTIONS_FILE = "predictions.csv.gz"
COLUMNS = ("drug", "split", "method", "cell_line", "set", "observed", "predicted", "class_observed",
           "class_paper", "class_calibrated", "lower", "upper", "call_confident")
# files written before the prediction intervals: read (lower / upper NaN, call_confident 0) and appended to as such
LEGACY_COLUMNS = COLUMNS[:10]
_MAGIC = b"\x1f\x8b\x08"
_DTYPES = {"drug": str, "method": str, "cell_line": str, "set": str}


def task_rows(drug, split, method, cell_lines, sets, observed, predicted, classes, intervals=None):
    """DataFrame of one task's rows in :data:`COLUMNS` order. ``cell_lines``, ``sets``, ``observed``,
    ``predicted`` (n,); ``classes`` a dict with class_observed / class_paper / class_calibrated (n,) codes (as
    :func:`ccle.evaluation.calls.call_classes` returns; for train rows without an OOF prediction pass -1 there);
    ``intervals`` a dict with lower / upper (n,) floats and call_confident (n,) bools (None: NaN and 0)."""
    n = len(cell_lines)
    df = pd.DataFrame({"drug": [str(drug)] * n, "split": np.full(n, int(split)), "method": [str(method)] * n,
                       "cell_line": [str(c) for c in cell_lines], "set": [str(s) for s in sets],
                       "observed": np.asarray(observed, dtype=np.float64),
                       "predicted": np.asarray(predicted, dtype=np.float64)})
    for key in COLUMNS[7:10]:
        df[key] = np.asarray(classes[key], dtype=np.int64)
    intervals = intervals or {}
    for key in ("lower", "upper"):
        df[key] = np.asarray(intervals.get(key, np.full(n, np.nan)), dtype=np.float64)
    df["call_confident"] = np.asarray(intervals.get("call_confident", np.zeros(n, bool)), dtype=np.int64)
    bad = set(df["set"]) - {"train", "test"}
    if bad:
        raise ValueError(f"set must be 'train' or 'test', got {sorted(bad)}")
    return df


def _head(path, size=4096):
    """The first ``size`` bytes of ``path`` (the header member is far smaller)."""
    with open(path, "rb") as fh:
        return fh.read(size)


def _umask():
    """The process's umask (set back at once: os.umask is the only portable way to read it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _members(data):
    """Decoded text of each complete gzip member of ``data`` (bytes); torn or corrupt members are skipped."""
    out, pos = [], 0
    while pos < len(data):
        start = data.find(_MAGIC, pos)
        if start < 0:
            break
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            text = d.decompress(data[start:])
        except zlib.error:
            pos = start + 1  # corrupt member: look for the next one
            continue
        if not d.eof:
            break  # torn last member (crash mid-write)
        out.append((start, len(data) - len(d.unused_data), text))
        pos = len(data) - len(d.unused_data)
    return out


class PredictionsStore:
    """The ``predictions.csv.gz`` of one output folder (see the module docstring)."""

    def __init__(self, out_dir):
        self.out_dir = Path(out_dir)
        self.path = self.out_dir / PREDICTIONS_FILE

    def append(self, rows):
        """Append one task's rows (a DataFrame with :data:`COLUMNS`, e.g. from :func:`task_rows`) as one gzip
        member, atomically: one ``os.write`` with O_APPEND, then fsync. Returns the bytes written."""
        self._create_with_header()
        rows = pd.DataFrame(rows)[list(self._file_columns())]
        # repr-precision floats, so that every metric recomputed from the file is bit-identical
        text = rows.to_csv(index=False, header=False, lineterminator="\n")
        payload = gzip.compress(text.encode(), mtime=0)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        try:
            written = os.write(fd, payload)
            if written != len(payload):  # pragma: no cover - only on a full disk
                raise OSError(f"short write to {self.path}")
            os.fsync(fd)
        finally:
            os.close(fd)
        return written

    def _create_with_header(self):
        """Make the file exist with its header member first. The header is written to a private temporary file
        and hard-linked into place, so the file appears already holding it: a worker that creates the file and
        one that appends to it at the same moment cannot put rows before the header (with an exclusive create
        followed by a header write they could, seen with 4 processes)."""
        if self.path.exists():
            return
        self.out_dir.mkdir(parents=True, exist_ok=True)
        header = gzip.compress((",".join(COLUMNS) + "\n").encode(), mtime=0)
        fd, tmp = tempfile.mkstemp(dir=self.out_dir, prefix=f".{PREDICTIONS_FILE}.", suffix=".tmp")
        try:
            os.fchmod(fd, 0o666 & ~_umask())   # mkstemp's 0600 -> the mode of every other output
            os.write(fd, header)
            os.fsync(fd)
            os.close(fd)
            try:
                os.link(tmp, self.path)
            except FileExistsError:
                pass  # another worker created it first, with the same header
            except OSError:  # a file system without hard links: exclusive create; load() still reads rows
                try:  # that a racing worker put before the header
                    with open(self.path, "xb") as fh:
                        fh.write(header)
                except FileExistsError:
                    pass
        finally:
            os.unlink(tmp)

    def _file_columns(self):
        """The columns of the file's header member: :data:`COLUMNS`, or :data:`LEGACY_COLUMNS` for a file
        written before the prediction intervals (so that rows appended to it stay readable)."""
        members = _members(_head(self.path)) if self.path.exists() else []
        first = members[0][2] if members else b""
        return LEGACY_COLUMNS if first.rstrip(b"\n") == ",".join(LEGACY_COLUMNS).encode() else COLUMNS

    def repair(self):
        """Truncate a torn last member (from a crash mid-write) so that the next append starts a clean member;
        when nothing readable is left (the header member itself was torn) the file is removed, and the next
        append writes the header again."""
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        members = _members(data)
        end = members[-1][1] if members else 0
        if end == 0:
            self.path.unlink()  # nothing readable: the next append creates the file and writes the header
        elif end < len(data):
            with open(self.path, "r+b") as fh:
                fh.truncate(end)

    def load(self):
        """DataFrame of all rows (columns :data:`COLUMNS`), the last written member of each (drug, split,
        method) only; empty (with the columns) when there is no file."""
        if not self.path.exists():
            return pd.DataFrame(columns=list(COLUMNS))
        columns = self._file_columns()
        header, frames = ",".join(columns).encode(), []
        for _, _, text in _members(self.path.read_bytes()):
            if text.startswith(header + b"\n"):
                text = text[len(header) + 1:]  # the header member (or a second header, from older files)
            elif text.startswith(b"drug,split,"):
                continue  # a header of other columns: rows this reader cannot place
            if text:
                frames.append(pd.read_csv(io.BytesIO(text), header=None, names=list(columns), dtype=_DTYPES,
                                          keep_default_na=False, na_values={"observed": [""], "predicted": [""],
                                                                            "lower": [""], "upper": [""]}))
        if not frames:
            return pd.DataFrame(columns=list(COLUMNS))
        for i, f in enumerate(frames):
            f["_member"] = i
        df = pd.concat(frames, ignore_index=True)
        if columns is LEGACY_COLUMNS:
            df["lower"], df["upper"], df["call_confident"] = np.nan, np.nan, 0
        last = df.groupby(["drug", "split", "method"])["_member"].transform("max")
        return df[df["_member"] == last].drop(columns="_member").reset_index(drop=True)

    def done(self):
        """Set of (drug, split, method) whose rows are in the file."""
        df = self.load()
        return {(d, int(s), m) for d, s, m in df[["drug", "split", "method"]].drop_duplicates().itertuples(
            index=False)}


def metrics_from_rows(rows, response):
    """Every metric of a result record for one (drug, split, method), recomputed from its rows alone:
    :func:`ccle.evaluation.metrics.regression_metrics` (test observed vs predicted) merged with
    :func:`ccle.evaluation.calls.call_metrics` (paper thresholds from the train rows' observed values, calibrated ones
    from their non-empty OOF predictions), the interval fields of :func:`ccle.evaluation.intervals.interval_fields`
    (but ``interval_level``) when the rows have intervals, plus n_train / n_test."""
    rows = pd.DataFrame(rows)
    keys = rows[["drug", "split", "method"]].drop_duplicates()
    if len(keys) != 1:
        raise ValueError(f"rows of exactly one (drug, split, method) expected, got {len(keys)}")
    test, train = rows[rows["set"] == "test"], rows[rows["set"] == "train"]
    oof = train["predicted"].to_numpy(dtype=np.float64)
    oof = oof[np.isfinite(oof)]
    rec = regression_metrics(test["observed"].to_numpy(), test["predicted"].to_numpy())
    if oof.size:
        rec.update(call_metrics(test["observed"].to_numpy(), test["predicted"].to_numpy(),
                                train["observed"].to_numpy(), oof, response))
    else:  # a method without out-of-fold predictions has the paper rule only (as ccle.benchmark.tasks records it)
        y_train = train["observed"].to_numpy()
        paper = fit_call_rules(y_train, y_train, response)[0]
        rec["sens_acc"] = float(sensitivity_accuracy(test["observed"].to_numpy(), test["predicted"].to_numpy(),
                                                     paper))
    if "lower" in rows.columns:   # the interval fields but the level (ccle.evaluation.intervals)
        y_train = train["observed"].to_numpy()
        fields = interval_fields(test["observed"].to_numpy(), test["predicted"].to_numpy(),
                                 test["lower"].to_numpy(dtype=np.float64), test["upper"].to_numpy(dtype=np.float64),
                                 fit_call_rules(y_train, y_train, response)[0])
        rec.update({k: v for k, v in fields.items() if k != "interval_level"})
    rec["n_train"], rec["n_test"] = int(len(train)), int(len(test))
    return rec
