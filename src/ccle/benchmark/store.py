"""``results.jsonl``, the resume store of a benchmark run: one JSON line per finished task.

Every finished task is one JSON line appended with a single ``write`` on a file opened with ``O_APPEND`` and
then fsync'ed: a reader sees whole lines only (a torn last line from a crash is ignored), and Ctrl-C loses
nothing that finished. A line that is JSON but not a result (``null``, ``[1, 2]``, a record without ``drug``, a
split that is not a non-negative integer) is skipped with one warning on stderr naming the file and line (not
refused: the file is ours, appended to by many processes, and one foreign line must not make the finished
results unreadable).
"""
import json
import os
from pathlib import Path

from ccle.files import warn

RESULTS_FILE = "results.jsonl"
# the fields every result record has, with the check of each (a record failing one is skipped, see the module text)
_KEY_FIELDS = {"drug": lambda v: isinstance(v, str) and v != "",
               "split": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
               "method": lambda v: isinstance(v, str) and v != ""}


def result_problem(rec):
    """Why ``rec`` (a parsed JSON line) is not a result record, or None when it is one."""
    if not isinstance(rec, dict):
        return f"not a JSON object ({type(rec).__name__})"
    for name, ok in _KEY_FIELDS.items():
        if name not in rec:
            return f"no {name!r} field"
        if not ok(rec[name]):
            return f"bad {name!r} field {rec[name]!r}"
    return None


class ResultStore:
    """The JSON-lines results file of one output folder."""

    def __init__(self, out_dir):
        self.out_dir = Path(out_dir)
        self.path = self.out_dir / RESULTS_FILE

    def load(self, config_key=None):
        """Records (dicts) in file order; a torn or unparsable line is skipped; with ``config_key`` (one key or a
        list of keys), only the records of that configuration."""
        if not self.path.exists():
            return []
        keys = None if config_key is None else ({config_key} if isinstance(config_key, str) else set(config_key))
        records = []
        with open(self.path, "rb") as fh:
            for lineno, raw in enumerate(fh, start=1):
                if not raw.endswith(b"\n"):
                    continue  # torn last line of an interrupted write (repair() ends it with a newline)
                if not raw.strip():
                    continue
                try:
                    rec = json.loads(raw)
                except ValueError:
                    continue  # a line torn by a crash and ended by repair(): expected, no warning
                problem = result_problem(rec)
                if problem is not None:
                    warn(f"{self.path}:{lineno}: not a result record ({problem}); line skipped")
                    continue
                if keys is None or rec.get("config_key") in keys:
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


