"""The drugs' expression matrices shared with worker processes through memory-mapped files, not pickled copies.

At the paper's scale (56,318 genes) the 24 drugs' matrices are ~2.6 GB of float32. Sent to each ``--jobs``
worker as pickled arguments, or ``scatter(..., broadcast=True)`` to each Dask worker, every worker held its own
copy (and a Dask worker that died lost the scattered data, which cannot be recovered). Instead each matrix is
written once into the run's cache folder (:func:`ccle.files.mapped_array`, named by its content hash) and a
worker opens it memory-mapped: one copy in the page cache for every process of the machine, read lazily, and
a restarted worker simply opens the file again.

- :func:`shared_folder`: ``<out>/cache/arrays``, beside the run's other caches.
- :func:`share_datasets`: the datasets with each ``X`` replaced by its memory-mapped file (the caller can drop
  its in-memory copies).
- :func:`handles` -> small picklable :class:`DrugDataHandle` objects; :meth:`DrugDataHandle.load` (worker side,
  once per process and file) gives the :class:`ccle.benchmark.datasets.DrugData` back.
"""
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ccle.files import mapped_array, open_mapped
from ccle.benchmark.datasets import DrugData

_OPENED = {}  # path -> the array memory-mapped from it in this process


def shared_folder(cache_dir):
    """Where a run's expression matrices are shared with its workers: ``cache_dir/arrays``."""
    return Path(cache_dir) / "arrays"


def _mapped_path(X, folder):
    """The file ``X`` is memory-mapped from when that file is in ``folder``, else None."""
    if isinstance(X, np.memmap) and X.filename and Path(X.filename).parent == Path(folder).resolve():
        return Path(X.filename)
    return None


def share_datasets(datasets, folder):
    """``datasets`` (DrugData) with every ``X`` stored in ``folder`` and memory-mapped (same values)."""
    out = []
    for ds in datasets:
        if _mapped_path(ds.X, folder) is None:
            ds = replace(ds, X=mapped_array(folder, ds.X))
        out.append(ds)
    return out


@dataclass(frozen=True)
class DrugDataHandle:
    """What a worker needs to open one drug's data: the ``.npy`` of ``X`` and every other field of the
    :class:`DrugData` (``data``, with ``X`` None)."""
    path: str
    data: DrugData

    @property
    def drug(self):
        return self.data.drug

    def load(self):
        """The :class:`DrugData`, ``X`` memory-mapped read-only (each file opened once per process; drugs
        measured on the same cell lines share one file)."""
        X = _OPENED.get(self.path)
        if X is None:
            X = _OPENED[self.path] = open_mapped(self.path)
        return replace(self.data, X=X)


def handles(datasets, folder):
    """One :class:`DrugDataHandle` per dataset (writing its ``X`` into ``folder`` when it is not there yet)."""
    return [DrugDataHandle(path=str(_mapped_path(ds.X, folder)), data=replace(ds, X=None))
            for ds in share_datasets(datasets, folder)]
