"""The files the pipeline itself writes and reads back (the inputs are read in :mod:`ccle.data`): the resume
store ``results.jsonl``, the JSON cache of work that tasks share, atomic writes and model-file bytes.

- :class:`ResultStore`: every finished task is one JSON line appended with a single ``write`` on a file opened
  with ``O_APPEND`` and then fsync'ed: a reader sees whole lines only (a torn last line from a crash is
  ignored), and Ctrl-C loses nothing that finished.
- :func:`cached`: lock, then read the cached JSON or compute and store it, so two processes never compute the
  same thing twice (the selector of a split, a width search).
- :func:`atomic_write`: temporary file in the same folder, fsync, ``os.replace``: a reader never sees half a file.
"""
import json
import os
from pathlib import Path

from ccle.errors import CCLEError

try:  # advisory locks exist on POSIX only; elsewhere a lock is a no-op (the cache then may compute twice)
    import fcntl
except ImportError:  # pragma: no cover - non-POSIX
    fcntl = None

RESULTS_FILE = "results.jsonl"


def atomic_write(path, data):
    """Write ``data`` (bytes or str) to ``path`` via a temporary file in the same folder and ``os.replace``."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    try:
        with open(tmp, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return len(payload)


def read_bytes(path, what="file"):
    """The bytes of ``path``; a missing file or a folder -> CCLEError naming it (``what``: e.g. "model file")."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise CCLEError(f"{path}: no such {what}") from None
    except IsADirectoryError:
        raise CCLEError(f"{path}: is a directory, expected a {what}") from None


class file_lock:
    """Exclusive advisory lock on ``path`` (``fcntl.flock``; a no-op where fcntl does not exist)."""

    def __init__(self, path):
        self.path = Path(path)
        self.fh = None

    def __enter__(self):
        if fcntl is not None:
            self.fh = open(self.path, "a")
            fcntl.flock(self.fh.fileno(), fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        if self.fh is not None:
            fcntl.flock(self.fh.fileno(), fcntl.LOCK_UN)
            self.fh.close()
            self.fh = None
        return False


def cache_path(cache_dir, name):
    """``cache_dir/<name>.json`` with the characters of ``name`` a file name may not hold replaced."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return Path(cache_dir) / f"{safe}.json"


def cached(cache_dir, name, compute):
    """The JSON value stored under ``name`` in ``cache_dir``, or ``compute()`` (a JSON-serializable value),
    stored there. Concurrent processes asking for the same name wait on a lock file instead of computing
    twice. Returns ``(value, was_cached)``."""
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    path = cache_path(cache_dir, name)
    with file_lock(path.with_suffix(".lock")):
        if path.exists():
            return json.loads(path.read_text()), True
        value = compute()
        atomic_write(path, json.dumps(value))
        return value, False


class ResultStore:
    """The JSON-lines results file of one output folder."""

    def __init__(self, out_dir):
        self.out_dir = Path(out_dir)
        self.path = self.out_dir / RESULTS_FILE

    def load(self, config_key=None):
        """Records (dicts) in file order; a torn or unparsable line is skipped; with ``config_key``, only the
        records of that configuration."""
        if not self.path.exists():
            return []
        records = []
        with open(self.path, "rb") as fh:
            for raw in fh:
                if not raw.endswith(b"\n"):
                    continue  # torn last line of an interrupted write (repair() ends it with a newline)
                try:
                    rec = json.loads(raw)
                except ValueError:
                    continue
                if config_key is None or rec.get("config_key") == config_key:
                    records.append(rec)
        return records

    def done(self, config_key):
        """Set of (drug, split, method) already finished under ``config_key``."""
        return {(r["drug"], int(r["split"]), r["method"]) for r in self.load(config_key)}

    def repair(self):
        """End a torn last line (from a crash mid-write) with a newline, so the next record starts a line."""
        if self.path.exists() and self.path.stat().st_size > 0:
            with open(self.path, "rb") as fh:
                fh.seek(-1, os.SEEK_END)
                last = fh.read(1)
            if last != b"\n":
                with open(self.path, "ab") as fh:
                    fh.write(b"\n")

    def append(self, record):
        """Append one record as one line, atomically (one ``os.write`` with O_APPEND, then fsync)."""
        self.extend([record])

    def extend(self, records):
        """Append several records (one line each) together, in one ``os.write``: a cross-drug task's per-drug
        records are on disk all or none."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        line = "".join(json.dumps(r, sort_keys=True, allow_nan=True) + "\n" for r in records).encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            written = os.write(fd, line)
            if written != len(line):  # pragma: no cover - only on a full disk
                raise OSError(f"short write to {self.path}")
            os.fsync(fd)
        finally:
            os.close(fd)


def latest_records(records):
    """Keep the last record of each (drug, split, method) (a rerun after a crash may have written one twice)."""
    out = {}
    for r in records:
        out[(r["drug"], int(r["split"]), r["method"])] = r
    return list(out.values())
