"""The file discipline: how the pipeline writes and reads back its own files (inputs are read in :mod:`ccle.data`).

- :func:`atomic_write`: temporary file in the same folder, fsync, ``os.replace``: a reader never sees half a file.
- :func:`cached`: lock, then read the cached JSON or compute and store it, so two processes never compute the
  same thing twice (the selector of a split, a width search); a cache file that does not parse (cut short,
  damaged) is recomputed with a warning.
- :func:`mapped_array` / :func:`open_mapped`: a matrix written once as ``.npy`` under its content hash and read
  back memory-mapped, so that worker processes share one copy through the page cache instead of each
  receiving a pickled one.
- :class:`OutputLock`: an exclusive lock on an output folder (``OUT/.lock``), so that two runs never write the
  same folder (the second refuses, naming the folder and the PID holding it, or waits); :class:`file_lock`.
- :func:`read_bytes`, :func:`check_writable_file`, :func:`make_output_folder`: one clear error line instead of
  a traceback when a path cannot be used.
"""
import errno
import hashlib
import json
import os
import re
import sys
import time
import zlib
from pathlib import Path

import numpy as np

from ccle.errors import CCLEError

try:  # advisory locks exist on POSIX only; elsewhere a lock is a no-op (the cache then may compute twice)
    import fcntl
except ImportError:  # pragma: no cover - non-POSIX
    fcntl = None

LOCK_FILE = ".lock"
_warned = set()


def warn(message):
    """One warning line on stderr, once per process for the same text (loads repeat; the warning need not)."""
    if message not in _warned:
        _warned.add(message)
        print(f"warning: {message}", file=sys.stderr, flush=True)


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
    except OSError as exc:  # PermissionError and the like
        raise CCLEError(f"{path}: cannot read the {what} ({exc.strerror or exc})") from None


def check_writable_file(path, what="file"):
    """Refuse, before any work, a destination file that cannot be written: its folder is missing, is not a
    folder or is not writable, or the path is a folder -> CCLEError naming it."""
    path = Path(path)
    if str(path) in ("", "."):
        raise CCLEError(f"an empty file name is not a {what}")
    if path.is_dir():
        raise CCLEError(f"{path}: is a folder, expected a {what} name")
    parent = path.parent
    if not parent.exists():
        raise CCLEError(f"{path}: the folder {parent} does not exist")
    if not parent.is_dir():
        raise CCLEError(f"{path}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise CCLEError(f"{path}: cannot write the {what} (permission denied)")


def make_output_folder(path):
    """Create the output folder ``path`` (and its parents) -> Path; one CCLEError line naming it when it cannot
    be created or written (``/sys/x``, a file on the way, a read-only parent)."""
    if str(path).strip() == "":
        raise CCLEError("--out is empty: give an output folder")
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise CCLEError(f"{path}: exists and is not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise CCLEError(f"{path}: cannot create the output folder (a file is in the way)") from None
    except OSError as exc:
        reason = "a file is in the way" if exc.errno == errno.ENOTDIR else (exc.strerror or str(exc))
        raise CCLEError(f"{path}: cannot create the output folder ({reason})") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise CCLEError(f"{path}: cannot write to the output folder (permission denied)")
    return path


class OutputLock:
    """Exclusive lock on an output folder: ``fcntl.flock`` on ``folder/.lock``, which holds the PID of the
    holder. ``acquire()`` refuses (CCLEError naming the folder and that PID) when another process holds it, or
    with ``wait=True`` waits for it. The operating system drops the lock when its holder dies, however it dies,
    so a crashed run never leaves the folder locked. A no-op where fcntl does not exist."""

    def __init__(self, folder, wait=False, poll_seconds=0.5):
        self.folder = Path(folder)
        self.path = self.folder / LOCK_FILE
        self.wait = wait
        self.poll_seconds = poll_seconds
        self.fh = None

    def holder(self):
        """The PID written by the process holding the lock (None when unknown)."""
        try:
            text = self.path.read_text().strip()
        except OSError:
            return None
        return int(text) if text.isdigit() else None

    def acquire(self):
        if fcntl is None:  # pragma: no cover - non-POSIX
            return self
        try:
            fh = open(self.path, "a+")
        except OSError as exc:
            raise CCLEError(f"{self.path}: cannot create the lock file of the output folder "
                            f"({exc.strerror or exc})") from None
        announced = False
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                pid = self.holder()
                who = f"PID {pid}" if pid else "another process"
                if not self.wait:
                    fh.close()
                    raise CCLEError(f"{self.folder}: output folder in use by another run ({who}); wait for it to "
                                    f"finish, use --wait, or choose another --out") from None
                if not announced:
                    print(f"waiting for the run holding {self.folder} ({who}) to finish", file=sys.stderr,
                          flush=True)
                    announced = True
                time.sleep(self.poll_seconds)
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        self.fh = fh
        return self

    def release(self):
        if self.fh is not None:
            fcntl.flock(self.fh.fileno(), fcntl.LOCK_UN)
            self.fh.close()
            self.fh = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
        return False


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


_CACHE_PREFIX = re.compile(rb'\{"crc32": (\d+), "value": ')


def encode_cache_entry(value):
    """The text of a cache file, ``{"crc32": N, "value": VALUE}`` where N is the CRC-32 of VALUE's JSON text as
    written, so that damage that still parses (a changed digit) is detected too; still one JSON object."""
    text = json.dumps(value)
    return f'{{"crc32": {zlib.crc32(text.encode("utf-8"))}, "value": {text}}}'


def decode_cache_entry(data):
    """The value of a cache file's bytes (see :func:`encode_cache_entry`); ValueError when damaged."""
    data = bytes(data)
    head = _CACHE_PREFIX.match(data)
    if head is None or not data.endswith(b"}"):
        raise ValueError("not a cache entry")
    text = data[head.end():-1]
    if zlib.crc32(text) != int(head.group(1)):
        raise ValueError("checksum mismatch")
    return json.loads(text)


def cached(cache_dir, name, compute, check=None):
    """The JSON value stored under ``name`` in ``cache_dir``, or ``compute()`` (a JSON-serializable value),
    stored there (with its CRC-32, :func:`encode_cache_entry`). Concurrent processes asking for the same name
    wait on a lock file instead of computing twice. ``check(value)``: raises (ValueError, KeyError, TypeError,
    ...) when a stored value is not what the caller can use. A stored file that cannot be read, does not
    parse, fails its checksum or ``check`` is recomputed and replaced, with a warning naming it.
    Returns ``(value, was_cached)``."""
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    path = cache_path(cache_dir, name)
    with file_lock(path.with_suffix(".lock")):
        if path.exists():
            try:
                value = decode_cache_entry(path.read_bytes())
                if check is not None:
                    check(value)
                return value, True
            except Exception as exc:  # noqa: BLE001 - any damage means: compute it again
                warn(f"{path}: damaged cache file ({type(exc).__name__}: {str(exc)[:80]}); recomputing it")
        value = compute()
        atomic_write(path, encode_cache_entry(value))
        return value, False


def open_mapped(path):
    """The ``.npy`` array at ``path``, memory-mapped read-only (missing or damaged -> CCLEError naming it)."""
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise CCLEError(f"{path}: cannot read the shared data array ({exc}); on a cluster the output folder "
                        f"must be on a file system the workers share") from None


def mapped_array(folder, array):
    """``array`` stored once as ``folder/<sha256 of dtype, shape and bytes>.npy`` (written atomically unless
    already there) and returned memory-mapped read-only: equal arrays share one file."""
    array = np.ascontiguousarray(array)
    h = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
    h.update(memoryview(array.reshape(-1)).cast("B"))
    path = Path(folder) / f"array-{h.hexdigest()[:24]}.npy"
    if not path.is_file():
        Path(folder).mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "wb") as fh:
                np.save(fh, array, allow_pickle=False)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    return open_mapped(path)
