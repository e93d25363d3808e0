"""Runs the benchmark tasks (drug, split, method), resumably, in one process or several.

- Every finished task is one JSON line appended to ``results.jsonl`` with a single ``write`` on a file opened
  with ``O_APPEND`` and then fsync'ed: a reader sees whole lines only (a torn last line from a crash is
  ignored), and Ctrl-C loses nothing that finished. Rerunning the same command skips the tasks whose result is
  already there (same drug, split, method and the same :meth:`RunConfig.key`).
- Work that several tasks share -- the scaling + SVR-RFE of a split (PM and SVR use it), the paper protocol's
  all-rows preprocessing, the width search -- is cached as JSON under ``cache/`` with a lock file, so two
  processes never compute the same thing twice.
- ``jobs > 1``: a pool of ``spawn``-ed processes, one task each, with BLAS/OpenMP/Numba limited to one thread
  per process (set in the environment before the children import numpy).
"""
import hashlib
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ccle.errors import CCLEError
from ccle.evaluate import regression_metrics, split_indices, split_seed
from ccle.model import METHODS, METHODS_USING_RFE, GeneSelector, make_method, preprocessing_rows
from ccle.search import DEFAULT_WIDTHS, atomic_write_text, cached_search, file_lock, greedy_search, network_scorer

THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
              "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS", "NUMBA_NUM_THREADS")
RESULTS_FILE = "results.jsonl"


@dataclass
class DrugData:
    """One drug's rows: ``X`` (n, genes) raw expression, ``y`` (n,) responses, names of rows and genes."""
    drug: str
    X: np.ndarray
    y: np.ndarray
    cell_lines: list = field(default_factory=list)
    genes: list = field(default_factory=list)


@dataclass
class RunConfig:
    """Everything that decides a task's result (the resume key is derived from it)."""
    protocol: str = "strict"
    seed: int = 0
    search: bool = False
    n_features: int = 1000
    widths: tuple = DEFAULT_WIDTHS
    test_fraction: float = 0.3
    options: dict = field(default_factory=dict)   # per-method constructor overrides (e.g. --quick)
    search_options: dict = field(default_factory=dict)
    data_fingerprint: str = ""

    def key(self):
        """Short hash of the settings a result depends on (not of which drugs/methods/how many splits)."""
        d = asdict(self)
        d["widths"] = list(d["widths"])
        blob = json.dumps(d, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def data_fingerprint(datasets):
    """SHA-256 (first 16 hex digits) over every drug's name, X, y, cell lines and genes, in drug order."""
    h = hashlib.sha256()
    for ds in datasets:
        h.update(ds.drug.encode())
        h.update(np.ascontiguousarray(ds.X, dtype=np.float32).tobytes())
        h.update(np.ascontiguousarray(ds.y, dtype=np.float64).tobytes())
        h.update("\x00".join(map(str, ds.cell_lines)).encode())
        h.update("\x00".join(map(str, ds.genes)).encode())
    return h.hexdigest()[:16]


def task_list(drugs, n_splits, methods):
    """All (drug, split, method) tasks, drug-major; methods that share a split's RFE are not adjacent."""
    order = sorted(methods, key=lambda m: (m not in ("PM",), m in ("SVR",), METHODS.index(m)))
    return [(d, s, m) for d in drugs for s in range(int(n_splits)) for m in order]


# ----------------------------------------------------------------------------------------------- results file
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
        self.out_dir.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(record, sort_keys=True, allow_nan=True) + "\n").encode()
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


# ----------------------------------------------------------------------------------------- one task's work
def _cache_path(cache_dir, name):
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return Path(cache_dir) / f"{safe}.json"


def fitted_selector(ds, rows, cfg, cache_dir, tag):
    """The scaling + SVR-RFE fitted on ``ds.X[rows]``, from the cache when another task already fitted it."""
    X, y = ds.X[rows], ds.y[rows]
    if cache_dir is None:
        return GeneSelector(n_features=cfg.n_features, seed=cfg.seed).fit(X, y)
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    path = _cache_path(cache_dir, f"selector_{cfg.key()}_{ds.drug}_{tag}")
    with file_lock(path.with_suffix(".lock")):
        if path.exists():
            with open(path) as fh:
                return GeneSelector.from_dict(json.load(fh))
        sel = GeneSelector(n_features=cfg.n_features, seed=cfg.seed).fit(X, y)
        atomic_write_text(path, json.dumps(sel.to_dict()))
        return sel


def searched_widths(ds, rows, selector, cfg, cache_dir, tag):
    """The greedy search's widths on the rows ``rows`` (cached); returns (widths, search_seconds, cached)."""
    def compute():
        Z = selector.transform(ds.X[rows])
        y = ds.y[rows]
        ys = (y - y.mean()) / (y.std() or 1.0)
        score = network_scorer(Z, ys, seed=cfg.seed, **cfg.search_options.get("scorer", {}))
        return greedy_search(score, **cfg.search_options.get("greedy", {}))

    if cache_dir is None:
        t0 = time.perf_counter()
        widths, _ = compute()
        return tuple(widths), time.perf_counter() - t0, False
    entry = cached_search(cache_dir, f"{cfg.key()}_{ds.drug}_{tag}", compute)
    return tuple(entry["widths"]), float(entry["seconds"]), bool(entry["cached"])


def run_task(ds, split, method, cfg, cache_dir=None):
    """Fit ``method`` on the training rows of ``split`` of drug ``ds`` and score it on the test rows.

    The protocol decides where scaling and RFE are fitted (:func:`ccle.model.preprocessing_rows`); under
    "strict" the estimator, its scaling, RFE, search and early stopping only ever receive ``X[train_idx]``.
    Returns the result record (a JSON-serializable dict).
    """
    from ccle.discretize import sensitivity_accuracy

    train_idx, test_idx = split_indices(len(ds.y), ds.drug, split, cfg.seed, cfg.test_fraction)
    task_seed = split_seed(cfg.seed, ds.drug, split) % (2 ** 31)
    prep_rows = preprocessing_rows(cfg.protocol, len(ds.y), train_idx)
    tag = f"split{split}" if cfg.protocol == "strict" else "allrows"

    # PM and SVR use the split's scaling + RFE; under the paper protocol every method gets the all-rows one.
    selector, selector_seconds = None, 0.0
    if method in METHODS_USING_RFE or cfg.protocol == "paper":
        selector = fitted_selector(ds, prep_rows, cfg, cache_dir, tag)
        selector_seconds = float(selector.fit_seconds_)

    widths, search_seconds = tuple(cfg.widths), 0.0
    if cfg.search and method in ("PM", "ANN"):
        sel = selector if selector is not None else fitted_selector(ds, prep_rows, cfg, cache_dir, tag)
        widths, search_seconds, _ = searched_widths(ds, prep_rows, sel, cfg, cache_dir, tag)

    est = make_method(method, widths=widths, n_features=cfg.n_features, seed=task_seed, selector=selector,
                      options=cfg.options)
    t0 = time.perf_counter()
    est.fit(ds.X[train_idx], ds.y[train_idx])
    fit_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    pred = np.asarray(est.predict(ds.X[test_idx]), dtype=np.float64)
    predict_seconds = time.perf_counter() - t0
    y_test = ds.y[test_idx]

    rec = {"drug": ds.drug, "split": int(split), "method": method, "protocol": cfg.protocol,
           "seed": int(cfg.seed), "config_key": cfg.key(), "n_train": int(train_idx.size),
           "n_test": int(test_idx.size), "fit_seconds": fit_seconds, "selector_seconds": selector_seconds,
           "search_seconds": search_seconds,
           "train_seconds": fit_seconds + (selector_seconds if method in METHODS_USING_RFE else 0.0),
           "predict_seconds": predict_seconds}
    rec.update(regression_metrics(y_test, pred))
    rec["sens_acc"] = float(sensitivity_accuracy(y_test, pred, est.thresholds_))
    if method in ("PM", "ANN"):
        rec["widths"] = [int(w) for w in widths]
    if method == "PM":
        rec["n_features"] = int(est.selector_.n_features_)
        rec["n_epochs"] = [int(e) for e in est.n_epochs_]
        reps = [r for r in est.compression_ if r]
        if reps:
            rec["compressed_bytes"] = float(np.mean([r["file_bytes"] or r["huffman_bytes"] for r in reps]))
            rec["dense_bytes"] = float(np.mean([r["dense_bytes"] for r in reps]))
            rec["compression_ratio"] = rec["dense_bytes"] / max(rec["compressed_bytes"], 1.0)
            rec["compression_val_mse"] = reps[0]["val_mse"]
    return rec


# ----------------------------------------------------------------------------------------- the task loop
def limit_threads(env=False):
    """Limit BLAS/OpenMP to one thread in this process: threadpoolctl for a numpy already imported, when that
    package exists (returns its limiter, else None); with ``env=True`` also set the thread variables of the
    environment, which is what a process that has not imported numpy yet (a spawned worker) obeys."""
    if env:
        for name in THREAD_ENV:
            os.environ[name] = "1"
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    return threadpool_limits(limits=1)


_WORKER = {}


def _init_worker(datasets, cfg, cache_dir, out_dir):
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    limit_threads(env=True)
    _WORKER["out_dir"] = out_dir
    _WORKER["datasets"] = {ds.drug: ds for ds in datasets}
    _WORKER["cfg"] = cfg
    _WORKER["cache_dir"] = cache_dir


def _worker_task(task):
    """Run one task in a worker and append its record there, so a result is on disk as soon as it exists."""
    drug, split, method = task
    rec = run_task(_WORKER["datasets"][drug], split, method, _WORKER["cfg"], _WORKER["cache_dir"])
    ResultStore(_WORKER["out_dir"]).append(rec)
    return rec


class Progress:
    """One line per finished task on ``stream``: count, drug, split, method, task seconds, elapsed, ETA."""

    def __init__(self, total, stream=None, enabled=True):
        self.total = total
        self.done = 0
        self.t0 = time.perf_counter()
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled

    @staticmethod
    def _fmt(seconds):
        seconds = int(round(seconds))
        return f"{seconds // 60}m{seconds % 60:02d}s"

    def update(self, rec):
        self.done += 1
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.t0
        eta = elapsed / self.done * (self.total - self.done)
        print(f"[{self.done}/{self.total}] {rec['drug']} split {rec['split']} {rec['method']}: "
              f"mse {rec['mse']:.3f} ({rec['fit_seconds']:.1f}s) | elapsed {self._fmt(elapsed)} "
              f"| ETA {self._fmt(eta)}", file=self.stream, flush=True)


def run_benchmark(datasets, cfg, out_dir, *, n_splits=5, methods=METHODS, jobs=1, progress=True, max_tasks=None,
                  scheduler=None):
    """Run every missing (drug, split, method) task and return all records of this configuration.

    ``datasets``: list of :class:`DrugData`. Splits are validated for every drug before anything runs (too few
    cell lines -> :class:`CCLEError`). ``max_tasks`` stops after that many new tasks (tests use it to simulate
    an interrupted run).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cache_dir = out_dir / "cache"
    store = ResultStore(out_dir)
    store.repair()
    for ds in datasets:
        split_indices(len(ds.y), ds.drug, 0, cfg.seed, cfg.test_fraction)  # raises on too few rows
    key = cfg.key()
    done = store.done(key)
    tasks = [t for t in task_list([d.drug for d in datasets], n_splits, methods) if t not in done]
    if max_tasks is not None:
        tasks = tasks[:int(max_tasks)]
    if progress and done:
        print(f"resuming: {len(done)} finished results found in {store.path}, {len(tasks)} to run",
              file=sys.stderr, flush=True)
    bar = Progress(len(tasks), enabled=progress)
    by_drug = {ds.drug: ds for ds in datasets}
    if scheduler is not None:
        from ccle.distributed import run_dask

        run_dask(tasks, datasets, cfg, cache_dir, store, bar, scheduler, n_workers=jobs if jobs > 1 else None)
    elif jobs <= 1 or len(tasks) <= 1:
        limiter = limit_threads()
        try:
            for drug, split, method in tasks:
                rec = run_task(by_drug[drug], split, method, cfg, cache_dir)
                store.append(rec)
                bar.update(rec)
        finally:
            if limiter is not None:
                limiter.restore_original_limits()
    else:
        _run_pool(tasks, datasets, cfg, cache_dir, store, bar, jobs)
    wanted = {d.drug for d in datasets}
    return [r for r in latest_records(store.load(key))
            if r["drug"] in wanted and r["method"] in methods and int(r["split"]) < n_splits]


def _run_pool(tasks, datasets, cfg, cache_dir, store, bar, jobs):
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    for name in THREAD_ENV:  # inherited by the spawned children before they import numpy
        os.environ[name] = "1"
    ctx = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=int(jobs), mp_context=ctx, initializer=_init_worker,
                               initargs=(datasets, cfg, cache_dir, store.out_dir))
    pending = set()
    queue = list(tasks)
    try:
        # keep at most 2 tasks per worker queued so that an interruption leaves little in flight
        while queue or pending:
            while queue and len(pending) < 2 * int(jobs):
                pending.add(pool.submit(_worker_task, queue.pop(0)))
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                bar.update(fut.result())  # the worker has already appended it
    except BaseException:
        # Ctrl-C or a failed task: drop what has not started and stop the workers now. Every finished task is
        # already in the results file; a line torn by the termination is repaired on the next run.
        processes = list(getattr(pool, "_processes", {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in processes:
            proc.terminate()
        raise
    pool.shutdown(wait=True)
