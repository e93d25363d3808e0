"""Compile time is not training time: before a method's first task in a process, fit it once on a tiny problem.

Every nnlite kernel is ``@njit(cache=True)``: its first call in a process compiles it (tens of seconds for the
elastic net's or the forest's kernels on a cold cache) or loads it from Numba's cache (well under a second).
Without a warm-up that cost lands in the first task's ``train_seconds``, in the timing table and in Fig. 3.
:func:`warm_up` runs the method's whole pipeline (scaling + SVR-RFE for the RFE methods, the estimator's fit
and predict) on a tiny seeded random matrix of the task matrix's dtype -- never on the drug's rows, so no
test row is touched -- so that the same kernels with the same argument types are compiled, with training cut to
a few epochs / trees / alphas (the kernels do not depend on how long they run). Lazy and per method: a
process compiles only the kernels of the methods it runs.

Several worker processes (``--jobs 2``, Dask workers) must not compile the same kernels at the same time:
the warm-up holds an exclusive file lock in the data cache folder (:func:`ccle.data.synthetic.cache_root`,
per machine like Numba's cache), so a second worker waits, then finds the kernels in Numba's cache and loads
them. One lock per family of kernels (``MethodSpec.kernel_group``), so that a worker warming the forest does not
wait for one compiling the elastic net; the per-drug mean compiles nothing and is not warmed. No writable
folder: no lock (the workers may then compile in parallel; results are unchanged).
"""
import time

import numpy as np

from ccle.data.synthetic import cache_root
from ccle.methods import make_method, spec
from ccle.methods.gene_selection import GeneSelector
from ccle.files import file_lock

LOCK_NAME = "numba-warmup-{group}.lock"
TINY_ROWS, TINY_GENES, TINY_SELECTED = 48, 40, 20
_WARMED = set()  # (method, dtype of X) already warmed in this process


def _lock_path(method):
    try:
        root = cache_root()
        root.mkdir(parents=True, exist_ok=True)
        return root / LOCK_NAME.format(group=spec(method).kernel_group)
    except OSError:
        return None


def tiny_problem(dtype, seed=0):
    """A seeded ``(TINY_ROWS, TINY_GENES)`` C-contiguous matrix of ``dtype`` (log-expression-like values in
    [0, 8)) and a response that depends on three of its columns -> ``(X_tiny, y_tiny)``."""
    rng = np.random.default_rng(seed)
    X_tiny = np.ascontiguousarray(rng.uniform(0.0, 8.0, size=(TINY_ROWS, TINY_GENES)).astype(dtype))
    y = X_tiny[:, :3].astype(np.float64).sum(1) + rng.standard_normal(TINY_ROWS)
    return X_tiny, y


def warm_up(method, X, options=None):
    """Compile (or load from Numba's cache) every kernel ``method`` needs on data like ``X``, once per process
    and per dtype of ``X``. ``options``: the run's per-method constructor overrides (kept, then shortened).
    Returns the seconds spent (0.0 when this process had already warmed the method)."""
    key = (method, np.asarray(X).dtype.str)
    if key in _WARMED or spec(method).kernel_group is None:
        return 0.0
    t0 = time.perf_counter()
    lock = _lock_path(method)
    if lock is None:
        _fit_tiny(method, X, options)
    else:
        with file_lock(lock):
            _fit_tiny(method, X, options)
    _WARMED.add(key)
    return time.perf_counter() - t0


def _fit_tiny(method, X, options):
    X_tiny, y = tiny_problem(np.asarray(X).dtype)
    kw = {m: dict(o) for m, o in (options or {}).items()}
    kw.setdefault(method, {}).update(spec(method).warmup_options)
    n_selected = TINY_SELECTED
    selector = None
    if spec(method).uses_rfe:
        selector = GeneSelector(n_features=n_selected, seed=0).fit(X_tiny, y)
    est = make_method(method, n_features=n_selected, seed=0, selector=selector, options=kw)
    if spec(method).cross_drug:
        # two drugs with unmeasured pairs: the masked loss and the per-drug out-of-fold paths of the real fit
        Y = np.stack([y, y[::-1]], axis=1)
        Y[::7, 1] = np.nan
        est.fit(X_tiny, Y)
    else:
        est.fit(X_tiny, y)
    est.predict(X_tiny)
