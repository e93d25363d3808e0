"""Running the benchmark's (drug, split, method) tasks on a Dask distributed cluster.

:func:`run_dask` has the contract of the process pool of :mod:`ccle.benchmark.runner`: it runs ``tasks`` and, as each one
finishes, appends its predictions rows and record to the output folder **in this (the client) process** and updates the progress
line, so everything finished is on disk whatever happens to the cluster. Each task is the same pure function as in a
serial run (:func:`ccle.benchmark.tasks.run_task`), so results are identical to ``--jobs 1``.

Fault tolerance: a worker that dies mid-task makes the scheduler run the task again elsewhere (Dask's
``distributed.scheduler.allowed-failures``, default 3); a task that raises is resubmitted ``retries`` times
(``client.submit(..., retries=)``). Only when both are exhausted does the error reach here; the records already
appended stay, and rerunning the command resumes.

``scheduler``: ``"local"`` starts a :class:`distributed.LocalCluster` on 127.0.0.1 (worker processes, one thread
each, BLAS limited to one thread); anything else is the address of a running scheduler (``tcp://host:8786``).
On a real cluster the workers need ``ccle``/``nnlite`` importable (the same versions) and the output folder on a
shared file system: the expression matrices reach the workers as memory-mapped files in ``<out>/cache/arrays``
(:mod:`ccle.benchmark.shared_data`; a worker that cannot read them fails its task with a message saying so). The RFE/search
cache lives beside them; a worker that cannot create that folder computes without it (same results either
way: a cached selector or search result equals a fresh one; only work is repeated). The results file is
written by the client only.
"""
import logging
import os
from pathlib import Path

from ccle.benchmark.progress import summary_record
from ccle.benchmark.shared_data import handles, shared_folder
from ccle.benchmark.tasks import THREAD_ENV, execute, limit_threads, save_task, task_drugs
from ccle.errors import CCLEError
from ccle.methods import load_plugins


def _dask():
    # imported on demand: Dask is an optional extra (``pip install -e '.[distributed]'``)
    try:
        import distributed
    except ImportError:
        raise CCLEError("--scheduler needs Dask distributed: pip install 'dask[distributed]' "
                        "(or the project's [distributed] extra)") from None
    return distributed


def _task(ctx, task):
    """Worker side: one task of the run context ``ctx`` (its datasets as shared-file handles, opened once per
    worker process) with BLAS/OpenMP limited to one thread, as in a ``--jobs`` process -> ``(records,
    predictions rows)``; the plugin files of the run are loaded first (a worker starts with the built-in methods)."""
    load_plugins(ctx.plugins)
    if ctx.cache_dir is not None:
        try:
            Path(ctx.cache_dir).mkdir(parents=True, exist_ok=True)
        except OSError:
            ctx = ctx.replace(cache_dir=None)  # a worker that cannot reach the client's folder computes without it
    limiter = limit_threads()
    try:
        return execute(task, ctx)
    finally:
        if limiter is not None:
            limiter.restore_original_limits()


def start_local_cluster(n_workers=2, threads_per_worker=1, **kw):
    """A LocalCluster of ``n_workers`` worker processes on 127.0.0.1 (no dashboard), with BLAS/OpenMP/Numba
    threads set to 1 in the workers' environment (not in this process: changing ``NUMBA_NUM_THREADS`` here
    after Numba has started its threads would break its next compilation)."""
    distributed = _dask()
    kw.setdefault("env", {name: "1" for name in THREAD_ENV})
    kw.setdefault("dashboard_address", None)
    kw.setdefault("silence_logs", logging.ERROR)
    # Dask's nannies start workers with MALLOC_TRIM_THRESHOLD_=65536; setting it switches off glibc's dynamic mmap
    # threshold, so every array above 128 KB is fresh pages from mmap, page-faulted in on first touch and given
    # back on free: at the paper's scale the tasks spent 2-3x the system time of a --jobs worker and ran 1.3-2x
    # slower. Unset it (None removes a variable from the pre-spawn environment); a user's own value still wins.
    import dask  # on demand, as distributed (an optional extra); _dask() above has checked it is there

    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        return distributed.LocalCluster(n_workers=int(n_workers), threads_per_worker=int(threads_per_worker),
                                        processes=True, host="127.0.0.1", **kw)


def connect(scheduler, n_workers=None):
    """``(client, cluster)`` for ``scheduler`` ("local" -> a new LocalCluster, owned by the caller, with
    ``n_workers`` processes (default: CPU count); an address -> a client of that scheduler, cluster None)."""
    distributed = _dask()
    if scheduler == "local":
        cluster = start_local_cluster(n_workers or os.cpu_count() or 1)
        return distributed.Client(cluster), cluster
    try:
        return distributed.Client(scheduler, timeout="30s"), None
    except (OSError, TimeoutError) as exc:
        raise CCLEError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None


def run_dask(tasks, ctx, bar, scheduler="local", *, client=None, n_workers=None, retries=2, max_in_flight=None):
    """Run ``tasks`` ((drug, split, method) tuples) of the run context ``ctx``
    (:class:`ccle.benchmark.config.RunContext`) on Dask; append each finished task's predictions rows and records
    to ``ctx.out_dir`` and report it to ``bar`` (``Progress``) as soon as it completes.

    ``client``: an existing ``distributed.Client`` (then ``scheduler`` is ignored and nothing is shut down);
    otherwise one is made from ``scheduler`` (see :func:`connect`) and closed at the end. At most
    ``max_in_flight`` tasks (default: 2 per worker thread, at least 4) are submitted at a time, so that an
    interruption leaves little running. The expression matrices are not sent at all: each is written once
    into ``ctx.cache_dir/arrays`` and every worker memory-maps it (:mod:`ccle.benchmark.shared_data`), so a restarted worker
    reopens the file instead of needing data that died with its predecessor.
    Returns the list of records in completion order.
    """
    distributed = _dask()
    if not tasks:
        return []
    own = client is None
    cluster = None
    if own:
        client, cluster = connect(scheduler, n_workers)
    records = []
    futures = []
    try:
        data = {h.drug: h for h in handles(list(ctx.datasets), shared_folder(ctx.cache_dir))}
        if max_in_flight is None:
            threads = sum(client.nthreads().values()) or 1
            max_in_flight = max(4, 2 * threads)
        queue = list(tasks)
        ac = distributed.as_completed()
        in_flight = 0

        def submit():
            task = queue.pop(0)
            drug, split, method = task
            # a task carries the handles of the drugs it writes only (a cross-drug task: all, in the run's order)
            needed = tuple(data[d] for d in task_drugs(task, list(data)))
            fut = client.submit(_task, ctx.replace(datasets=needed), task, retries=int(retries), pure=False,
                                key=f"ccle-task-{drug}-{split}-{method}-{ctx.cfg.key()}-{os.urandom(4).hex()}")
            futures.append(fut)
            ac.add(fut)

        while queue and in_flight < max_in_flight:
            submit()
            in_flight += 1
        for fut in ac:
            try:
                recs, rows = fut.result()  # raises the task's error after its retries
            except distributed.KilledWorker as exc:
                raise CCLEError(f"a benchmark task kept killing its Dask workers ({exc}); the {len(records)} results "
                                f"finished so far are kept in {ctx.out_dir}: rerun the same command to resume") from None
            save_task(ctx.out_dir, recs, rows)  # predictions first, then the records (ccle.benchmark.tasks.save_task)
            bar.update(summary_record(recs))
            records.extend(recs)
            in_flight -= 1
            fut.release()
            if queue:
                submit()
                in_flight += 1
        return records
    except BaseException:
        for fut in futures:
            fut.cancel()
        raise
    finally:
        if own:
            client.close()
            if cluster is not None:
                cluster.close()
