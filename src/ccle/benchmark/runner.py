"""Schedules the benchmark tasks (drug, split, method) and stores their records, resumably, in one process or
several; what a task computes is :func:`ccle.benchmark.tasks.run_task`, where its records go :class:`ccle.benchmark.store.ResultStore`.

- Rerunning the same command skips the tasks whose result is already in ``results.jsonl`` (same drug, split,
  method and the same :meth:`ccle.benchmark.config.RunConfig.key`).
- ``jobs > 1``: a pool of ``spawn``-ed processes, one task each, with BLAS/OpenMP/Numba limited to one thread
  per process (set in the environment before the children import numpy); ``scheduler``: Dask
  (:mod:`ccle.benchmark.distributed`).
- A cross-drug method (MT) is one task per split, ``(ALL_DRUGS, split, "MT")``, scheduled like any other; its
  per-drug predictions rows are appended as one member of ``predictions.csv.gz`` (each drug's rows under its
  own (drug, split, "MT") key), then its per-drug records together, and it counts as done only when every drug
  of the run has its record (so a rerun after a crash between the two writes the rows again: the last wins).
"""
import multiprocessing
import os
import signal
import sys
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

from ccle.benchmark.config import RunContext
from ccle.benchmark.distributed import run_dask
from ccle.benchmark.predictions import PredictionsStore
from ccle.benchmark.processes import deferred_interrupts, die_with_parent
from ccle.benchmark.progress import Progress, summary_record
from ccle.benchmark.shared_data import handles, shared_folder
from ccle.benchmark.store import ResultStore, latest_records
from ccle.benchmark.tasks import ALL_DRUGS, THREAD_ENV, execute, limit_threads, save_task, task_drugs, task_rows
from ccle.errors import CCLEError
from ccle.methods import load_plugins, names, spec


def task_list(drugs, n_splits, methods):
    """All (drug, split, method) tasks, drug-major, a drug's methods by their ``schedule_rank`` (long fits
    first; methods that share a split's RFE not adjacent). A cross-drug method's tasks, ``(ALL_DRUGS, split,
    method)``, come first (each is one long fit)."""
    cross = [m for m in methods if spec(m).cross_drug]
    order = sorted((m for m in methods if not spec(m).cross_drug),
                   key=lambda m: (spec(m).schedule_rank, names().index(m)))
    return ([(ALL_DRUGS, s, m) for s in range(int(n_splits)) for m in cross]
            + [(d, s, m) for d in drugs for s in range(int(n_splits)) for m in order])


def pending_tasks(tasks, done, drugs):
    """The tasks of ``tasks`` not finished in ``done`` (a set of (drug, split, method)); a cross-drug task is
    finished when every drug of ``drugs`` has its record."""
    return [t for t in tasks if any((d, t[1], t[2]) not in done for d in task_drugs(t, drugs))]


def splittable(datasets, cfg, n_splits):
    """The datasets whose every split has enough training and test rows under ``cfg`` (:func:`task_rows`), and
    ``{drug: reason}`` for the others -> ``(datasets, skipped)``. A run over every drug of a large file leaves
    out such a drug with its reason; :func:`run_benchmark` refuses one."""
    kept, skipped = [], {}
    for ds in datasets:
        try:
            for s in range(1 if cfg.split_scheme == "pairs" else int(n_splits)):
                task_rows(ds, s, cfg)
        except CCLEError as exc:
            skipped[ds.drug] = str(exc).split(": ", 1)[-1].split(" in this split")[0] + " in a split"
            continue
        kept.append(ds)
    return kept, skipped


# ----------------------------------------------------------------------------------------- the task loop
_WORKER = {}


def _init_worker(ctx, parent_pid=None):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    if parent_pid is not None:
        die_with_parent(parent_pid)  # no orphan keeps appending to results.jsonl after a SIGKILL of the run
    limit_threads(env=True)
    load_plugins(ctx.plugins)   # a spawned process starts with the built-in methods only
    # handles: a task opens its drug's matrix from the shared file (ccle.benchmark.config.RunContext.dataset)
    _WORKER["ctx"] = ctx


def _worker_task(task):
    """Run one task in a worker and append its predictions and records there, so a result is on disk as soon
    as it exists."""
    ctx = _WORKER["ctx"]
    records, rows = execute(task, ctx)
    save_task(ctx.out_dir, records, rows)
    return summary_record(records)


def run_benchmark(datasets, cfg, out_dir, *, n_splits=5, methods=None, jobs=1, progress=True, max_tasks=None,
                  scheduler=None, plugins=()):
    """Run every missing (drug, split, method) task and return all records of this configuration.

    ``datasets``: list of :class:`ccle.benchmark.datasets.DrugData`; ``methods``: method names (default: every
    registered one); ``plugins``: the plugin files that registered methods (worker processes load them too).
    Splits are validated for every drug before anything runs (too few cell lines -> :class:`CCLEError`).
    ``max_tasks`` stops after that many new tasks (tests use it to simulate an interrupted run).
    """
    methods = list(names() if methods is None else methods)
    for m in methods:
        if spec(m).members and not set(spec(m).members) & set(methods):
            raise CCLEError(f"method {m} is built from the predictions of {', '.join(spec(m).members)}: "
                            f"name at least one of them in --methods")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ctx = RunContext(cfg=cfg, out_dir=out_dir, datasets=tuple(datasets), cache_dir=out_dir / "cache",
                     plugins=tuple(str(p) for p in plugins))
    store = ResultStore(out_dir)
    store.repair()
    PredictionsStore(out_dir).repair()
    for ds in datasets:
        for s in range(1 if cfg.split_scheme == "pairs" else int(n_splits)):
            task_rows(ds, s, cfg)  # raises on too few rows
    key = cfg.key()
    done = store.done(key)
    drugs = ctx.drugs
    tasks = pending_tasks(task_list(drugs, n_splits, methods), done, drugs)
    if max_tasks is not None:
        tasks = tasks[:int(max_tasks)]
    if progress and done:
        print(f"resuming: {len(done)} finished results found in {store.path}, {len(tasks)} to run",
              file=sys.stderr, flush=True)
    bar = Progress(len(tasks), enabled=progress, tasks=tasks)
    # a method built from its members' predictions (stacking) runs after every other task, in this process,
    # from the rows the members wrote: it refits nothing, and each of its tasks is a small fit
    derived = [t for t in tasks if spec(t[2]).members]
    tasks = [t for t in tasks if not spec(t[2]).members]
    try:
        if scheduler is not None:
            run_dask(tasks, ctx, bar, scheduler, n_workers=jobs if jobs > 1 else None)
        elif jobs > 1 and len(tasks) > 1:
            _run_pool(tasks, ctx, bar, jobs)
        else:
            derived = tasks + derived
        limiter = limit_threads()
        try:
            for task in derived:
                records, rows = execute(task, ctx, methods)
                save_task(out_dir, records, rows)
                bar.update(summary_record(records))
        finally:
            if limiter is not None:
                limiter.restore_original_limits()
    finally:
        bar.close()  # ends a live progress line, also when interrupted
    wanted = set(drugs)
    return [r for r in latest_records(store.load(key))
            if r["drug"] in wanted and r["method"] in methods and int(r["split"]) < n_splits]


def _run_pool(tasks, ctx, bar, jobs):
    # The thread variables are inherited by the spawned children before they import numpy; this process gets
    # its own values back afterwards (a changed NUMBA_NUM_THREADS would break Numba's next compilation here).
    saved = {name: os.environ.get(name) for name in THREAD_ENV}
    os.environ.update({name: "1" for name in THREAD_ENV})
    try:
        _run_in_pool(tasks, ctx, bar, jobs)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _run_in_pool(tasks, ctx, bar, jobs):
    mp = multiprocessing.get_context("spawn")
    children_before = set(multiprocessing.active_children())
    shared = ctx.replace(datasets=tuple(handles(list(ctx.datasets), shared_folder(ctx.cache_dir))))
    pool = ProcessPoolExecutor(max_workers=int(jobs), mp_context=mp, initializer=_init_worker,
                               initargs=(shared, os.getpid()))
    pending = set()
    queue = list(tasks)
    try:
        # keep at most 2 tasks per worker queued so that an interruption leaves little in flight
        while queue or pending:
            while queue and len(pending) < 2 * int(jobs):
                with deferred_interrupts():  # a worker being started is registered before any interruption
                    pending.add(pool.submit(_worker_task, queue.pop(0)))
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                bar.update(fut.result())  # the worker has already appended it
    except BaseException:
        # Ctrl-C or a failed task: drop what has not started and stop the workers now. Every finished task is
        # already in the results file; a line torn by the termination is repaired on the next run.
        processes = [p for p in multiprocessing.active_children() if p not in children_before]
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in processes:
            proc.terminate()
        for proc in processes:  # gone before the parent's last message, none left to print after it
            proc.join(timeout=5)
        raise
    pool.shutdown(wait=True)
