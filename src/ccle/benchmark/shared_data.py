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

Over hundreds of drugs (a GDSC file: 265+ compounds on ~900 lines) one file per drug would be hundreds of
copies of nearly the same rows. There the whole transformed expression matrix is shared once
(:func:`share_matrix`) and each drug is a :class:`DrugRows`: its row and column indices into that file plus its
responses. :meth:`DrugRows.load` gathers the drug's matrix in the process that runs its task (the last one
gathered is kept, so a drug's consecutive tasks gather it once: memory of one drug per process);
:meth:`DrugRows.lazy` gives the drug with a :class:`RowsView` instead, which reads single rows from the file --
what the cross-drug method needs to assemble its own lines x genes matrix without every drug's copy.
"""
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ccle.benchmark.datasets import DrugData, drug_digest, response_problem, transforms_text
from ccle.data.align import drug_dataset
from ccle.errors import CCLEError
from ccle.files import mapped_array, open_mapped
from ccle.methods.preprocess import ExpressionTransform

_OPENED = {}  # path -> the array memory-mapped from it in this process
_GATHERED = {}  # the one DrugRows matrix this process gathered last: {"key": ..., "X": ...}


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
        return replace(self.data, X=_opened(self.path))

    def lazy(self):
        """:meth:`load`: a memory-mapped ``X`` is read on demand already."""
        return self.load()


def handles(datasets, folder):
    """One picklable handle per dataset: a :class:`DrugRows` stays as it is; an in-memory :class:`DrugData`
    becomes a :class:`DrugDataHandle` (its ``X`` written into ``folder`` when it is not there yet)."""
    out = []
    for ds in datasets:
        if isinstance(ds, DrugRows):
            out.append(ds)
        else:
            (ds,) = share_datasets([ds], folder)
            out.append(DrugDataHandle(path=str(_mapped_path(ds.X, folder)), data=replace(ds, X=None)))
    return out


def share_matrix(values, folder):
    """The whole (n_lines, n_genes) float32 matrix stored once in ``folder`` and memory-mapped
    (:func:`ccle.files.mapped_array`: a rerun with the same values reuses the file)."""
    return mapped_array(folder, np.ascontiguousarray(values, dtype=np.float32))


def _opened(path):
    X = _OPENED.get(path)
    if X is None:
        X = _OPENED[path] = open_mapped(path)
    return X


class RowsView:
    """Read-only rows ``rows`` and columns ``cols`` (None: all) of a memory-mapped matrix, without a copy.

    Indexing with ``[i, cols2]`` (one row, then columns of the view) reads that row only; ``np.asarray(view)``
    gathers the whole view. ``shape``, ``dtype`` and ``ndim`` are those of the gathered matrix."""

    def __init__(self, base, rows, cols=None):
        self.base, self.rows, self.cols = base, np.asarray(rows, dtype=np.intp), cols

    @property
    def shape(self):
        return (self.rows.size, self.base.shape[1] if self.cols is None else len(self.cols))

    @property
    def dtype(self):
        return self.base.dtype

    @property
    def ndim(self):
        return 2

    def __len__(self):
        return int(self.rows.size)

    def _row(self, i):
        row = np.asarray(self.base[self.rows[i]])
        return row if self.cols is None else row[self.cols]

    def __getitem__(self, key):
        if isinstance(key, tuple) and len(key) == 2 and np.ndim(key[0]) == 0:
            return self._row(int(key[0]))[key[1]]
        if np.ndim(key) == 0 and not isinstance(key, (slice, tuple)):
            return self._row(int(key))
        return np.asarray(self)[key]

    def __array__(self, dtype=None, copy=None):
        X = np.take(self.base, self.rows, axis=0)
        if self.cols is not None:
            X = np.take(X, self.cols, axis=1)
        X = np.ascontiguousarray(X)
        return X if dtype is None else X.astype(dtype, copy=False)


@dataclass(frozen=True)
class DrugRows:
    """One drug of a run over a shared matrix: ``path`` (the ``.npy`` of :func:`share_matrix`), ``rows`` and
    ``cols`` (tuples of indices into it; ``cols`` None: every column) and every other field of the
    :class:`DrugData` (``data``, with ``X`` None). Small and picklable: what the run keeps per drug."""
    path: str
    rows: tuple
    cols: tuple = None
    data: DrugData = field(default=None, compare=False)

    @property
    def drug(self):
        return self.data.drug

    @property
    def y(self):
        return self.data.y

    @property
    def cell_lines(self):
        return self.data.cell_lines

    @property
    def genes(self):
        return self.data.genes

    @property
    def tissues(self):
        return self.data.tissues

    @property
    def held_out(self):
        return self.data.held_out

    @property
    def n_genes(self):
        return len(self.data.genes)

    def with_data(self, **changes):
        """A copy whose :class:`DrugData` fields ``changes`` are replaced (tissues, held-out sets)."""
        return replace(self, data=replace(self.data, **changes))

    def view(self):
        """The drug's matrix as a :class:`RowsView` of the shared file (nothing gathered)."""
        return RowsView(_opened(self.path), self.rows, None if self.cols is None else np.asarray(self.cols))

    def load(self):
        """The :class:`DrugData` with ``X`` gathered into memory (float32, C order). The matrix gathered last
        in this process is kept, so the tasks of one drug that follow each other gather it once."""
        key = (self.path, self.rows, self.cols)
        if _GATHERED.get("key") != key:
            _GATHERED.clear()  # the previous drug's matrix goes before the next one is gathered
            _GATHERED["X"] = np.asarray(self.view())
            _GATHERED["key"] = key
        return replace(self.data, X=_GATHERED["X"])

    def lazy(self):
        """The :class:`DrugData` with ``X`` a :class:`RowsView` (single rows read on demand)."""
        return replace(self.data, X=self.view())


def shared_drug_rows(expression, table, drugs, log2, folder, skip=False):
    """The drugs of a run as :class:`ccle.benchmark.shared_data.DrugRows` over one shared matrix, built one
    drug at a time -> ``(drug rows, description of the transforms, {drug: digest}, {drug: why skipped}``).

    The expression (after log2(x + 1) when ``log2``, applied to the whole matrix once: elementwise, so each
    drug's rows get the values :func:`drug_datasets` gives them) is written once into ``folder``; per drug only
    its row and column indices (the :class:`ExpressionTransform`'s kept genes), responses and names are kept.
    Each drug's matrix exists only while its digest (:func:`drug_digest`) is computed, so building a run of
    hundreds of drugs needs the memory of one. ``skip``: a drug that cannot be run (no line with expression,
    fewer than 2 or constant responses) is left out with its reason instead of a CCLEError naming it."""
    values = np.asarray(expression.values, dtype=np.float32)
    if log2:
        with np.errstate(invalid="ignore"):  # NaN columns are dropped per drug below
            values = np.log2(values + np.float32(1))
    path = str(share_matrix(values, folder).filename)
    del values
    position = {name: i for i, name in enumerate(expression.cell_lines)}
    gene_position = {g: j for j, g in enumerate(expression.genes)}
    rows_of, transforms, digests, skipped = [], set(), {}, {}
    for drug in drugs:
        try:
            ds = drug_dataset(expression, table, drug)
        except CCLEError:
            if not skip:
                raise
            skipped[drug] = "no cell line with a response has expression"
            continue
        problem = response_problem(ds.y, drug, table.response)
        if problem is not None:
            if not skip:
                raise CCLEError(f"{table.source}: drug {drug!r}: {problem}")
            skipped[drug] = problem
            continue
        transform = ExpressionTransform.fit(ds.X, ds.genes, log2)
        transforms.add(transform.describe())
        cols = (None if list(transform.genes) == list(expression.genes)
                else tuple(gene_position[g] for g in transform.genes))
        handle = DrugRows(path=path, rows=tuple(position[c] for c in ds.cell_lines), cols=cols,
                          data=DrugData(drug=ds.drug, X=None, y=ds.y, cell_lines=list(ds.cell_lines),
                                        genes=list(transform.genes)))
        del ds
        digests[drug] = drug_digest(handle.load())
        rows_of.append(handle)
    return rows_of, transforms_text(transforms), digests, skipped

