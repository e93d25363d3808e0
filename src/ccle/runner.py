"""Schedules the benchmark tasks (drug, split, method) and stores their records, resumably, in one process or
several; what a task computes is :func:`ccle.tasks.run_task`, where its records go :class:`ccle.store.ResultStore`.

- Rerunning the same command skips the tasks whose result is already in ``results.jsonl`` (same drug, split,
  method and the same :meth:`ccle.tasks.RunConfig.key`).
- ``jobs > 1``: a pool of ``spawn``-ed processes, one task each, with BLAS/OpenMP/Numba limited to one thread
  per process (set in the environment before the children import numpy); ``scheduler``: Dask
  (:mod:`ccle.distributed`).
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

from ccle.distributed import run_dask
from ccle.evaluate import split_indices
from ccle.model import CROSS_DRUG_METHODS, METHODS
from ccle.predictions import PredictionsStore
from ccle.processes import deferred_interrupts, die_with_parent
from ccle.progress import Progress, summary_record
from ccle.shared_data import handles, shared_folder
from ccle.store import ResultStore, latest_records
from ccle.tasks import (ALL_DRUGS, THREAD_ENV, limit_threads, run_multitask_task_with_predictions,
                        run_task_with_predictions, save_task, task_rows)


def task_list(drugs, n_splits, methods):
    """All (drug, split, method) tasks, drug-major; methods that share a split's RFE are not adjacent. A
    cross-drug method's tasks, ``(ALL_DRUGS, split, method)``, come first (each is one long fit)."""
    cross = [m for m in methods if m in CROSS_DRUG_METHODS]
    order = sorted((m for m in methods if m not in CROSS_DRUG_METHODS),
                   key=lambda m: (m not in ("PM",), m in ("SVR",), METHODS.index(m)))
    return ([(ALL_DRUGS, s, m) for s in range(int(n_splits)) for m in cross]
            + [(d, s, m) for d in drugs for s in range(int(n_splits)) for m in order])


def pending_tasks(tasks, done, drugs):
    """The tasks of ``tasks`` not finished in ``done`` (a set of (drug, split, method)); a cross-drug task is
    finished when every drug of ``drugs`` has its record."""
    return [t for t in tasks
            if (t not in done if t[0] != ALL_DRUGS else any((d, t[1], t[2]) not in done for d in drugs))]


def execute(task, by_drug, cfg, cache_dir):
    """Run one task -> ``(records, rows)``: its list of records (one for a per-drug task, one per drug for a
    cross-drug task) and its ``predictions.csv.gz`` rows (one DataFrame; a cross-drug task's holds every
    drug's rows). ``by_drug``: {drug: DrugData} of the run, in the run's drug order."""
    drug, split, method = task
    if drug == ALL_DRUGS:
        return run_multitask_task_with_predictions(list(by_drug.values()), split, cfg, method)
    rec, rows = run_task_with_predictions(by_drug[drug], split, method, cfg, cache_dir)
    return [rec], rows


# ----------------------------------------------------------------------------------------- the task loop
_WORKER = {}


def _init_worker(data_handles, cfg, cache_dir, out_dir, parent_pid=None):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    if parent_pid is not None:
        die_with_parent(parent_pid)  # no orphan keeps appending to results.jsonl after a SIGKILL of the run
    limit_threads(env=True)
    _WORKER["out_dir"] = out_dir
    # memory-mapped (one copy per machine); dicts keep the run's drug order
    _WORKER["datasets"] = {h.drug: h.load() for h in data_handles}
    _WORKER["cfg"] = cfg
    _WORKER["cache_dir"] = cache_dir


def _worker_task(task):
    """Run one task in a worker and append its predictions and records there, so a result is on disk as soon
    as it exists."""
    records, rows = execute(task, _WORKER["datasets"], _WORKER["cfg"], _WORKER["cache_dir"])
    save_task(_WORKER["out_dir"], records, rows)
    return summary_record(records)


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
    PredictionsStore(out_dir).repair()
    for ds in datasets:
        if cfg.split_scheme == "pairs":
            split_indices(len(ds.y), ds.drug, 0, cfg.seed, cfg.test_fraction)  # raises on too few rows
        else:
            for s in range(int(n_splits)):
                task_rows(ds, s, cfg)
    key = cfg.key()
    done = store.done(key)
    drugs = [d.drug for d in datasets]
    tasks = pending_tasks(task_list(drugs, n_splits, methods), done, drugs)
    if max_tasks is not None:
        tasks = tasks[:int(max_tasks)]
    if progress and done:
        print(f"resuming: {len(done)} finished results found in {store.path}, {len(tasks)} to run",
              file=sys.stderr, flush=True)
    bar = Progress(len(tasks), enabled=progress, tasks=tasks)
    try:
        by_drug = {ds.drug: ds for ds in datasets}
        if scheduler is not None:
            run_dask(tasks, datasets, cfg, cache_dir, store, bar, scheduler, n_workers=jobs if jobs > 1 else None)
        elif jobs <= 1 or len(tasks) <= 1:
            limiter = limit_threads()
            try:
                for task in tasks:
                    records, rows = execute(task, by_drug, cfg, cache_dir)
                    save_task(out_dir, records, rows)
                    bar.update(summary_record(records))
            finally:
                if limiter is not None:
                    limiter.restore_original_limits()
        else:
            _run_pool(tasks, datasets, cfg, cache_dir, store, bar, jobs)
    finally:
        bar.close()  # ends a live progress line, also when interrupted
    wanted = {d.drug for d in datasets}
    return [r for r in latest_records(store.load(key))
            if r["drug"] in wanted and r["method"] in methods and int(r["split"]) < n_splits]


def _run_pool(tasks, datasets, cfg, cache_dir, store, bar, jobs):
    # The thread variables are inherited by the spawned children before they import numpy; this process gets
    # its own values back afterwards (a changed NUMBA_NUM_THREADS would break Numba's next compilation here).
    saved = {name: os.environ.get(name) for name in THREAD_ENV}
    os.environ.update({name: "1" for name in THREAD_ENV})
    try:
        _run_in_pool(tasks, datasets, cfg, cache_dir, store, bar, jobs)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _run_in_pool(tasks, datasets, cfg, cache_dir, store, bar, jobs):
    ctx = multiprocessing.get_context("spawn")
    children_before = set(multiprocessing.active_children())
    pool = ProcessPoolExecutor(max_workers=int(jobs), mp_context=ctx, initializer=_init_worker,
                               initargs=(handles(datasets, shared_folder(cache_dir)), cfg, cache_dir,
                                         store.out_dir, os.getpid()))
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
