"""The in-memory expression matrix every reader returns (cell lines x genes, float32), and the checks and
missing-value policy that every reader applies to what it parsed (:func:`finalize`), so that GCT and CSV
files are held to the same rules.

Missing-value policy (a missing value is an empty field or NA/NaN/null; ``inf`` and values beyond the float32
range are refused by the readers themselves, never imputed):

* default (``impute="none"``, ``drop_incomplete_genes=False``): a CCLEError naming file, line and column of
  the first missing value, with the count of missing values and genes.
* ``drop_incomplete_genes=True``: genes with any missing value are removed (what the pipeline silently did
  before; the count is kept in ``ExpressionMatrix.quality``).
* ``impute="median"``: a missing value becomes the median of that gene over the file's other cell lines.
  The median, not the mean, because expression is heavy-tailed (RPKM); per gene, because genes differ in
  scale by orders of magnitude. It uses no response, but it does use every cell line of the file, test rows
  included, so it is label-free and the same for every split; ``drop_incomplete_genes`` is the option that
  leaves the training/test separation untouched.
* ``impute="keep"``: missing values stay NaN (counted in ``quality``) for a caller that resolves them per
  use -- ``predict`` needs only the model's genes and fills those with the training minimum on request.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from ccle.errors import CCLEError

IMPUTE_CHOICES = ("none", "median", "keep")
DUPLICATE_GENE_CHOICES = ("error", "mean")


@dataclass
class DataQuality:
    """What a reader found and did about it, for the run banner and the report.

    n_missing_values : int, missing values in the file; incomplete_genes : list[str], genes holding them;
    missing_policy : "none" (there were none), "median" (imputed), "drop" (those genes removed) or "keep"
    (left as NaN for the caller);
    merged_genes : list[str], gene names that occurred more than once and were averaged into one column;
    unnamed_rows : int, rows of a DepMap matrix left out because no CCLE name was found for them;
    non_default_profiles : int, rows of a profile-indexed DepMap matrix left out because another profile is
    the model's default entry.
    """

    n_missing_values: int = 0
    incomplete_genes: list = field(default_factory=list)
    missing_policy: str = "none"
    merged_genes: list = field(default_factory=list)
    unnamed_rows: int = 0
    non_default_profiles: int = 0

    def summary(self):
        """One line for the banner/report, or '' when the file was complete and had no repeated gene."""
        parts = []
        if self.n_missing_values:
            what = {"median": "imputed with the per-gene median", "drop": "those genes dropped",
                    "keep": "left missing"}[self.missing_policy]
            parts.append(f"{self.n_missing_values} missing values in {len(self.incomplete_genes)} genes: {what}")
        if self.merged_genes:
            parts.append(f"{len(self.merged_genes)} repeated gene names averaged into one column each")
        if self.unnamed_rows:
            parts.append(f"{self.unnamed_rows} rows without a CCLE cell line name left out")
        if self.non_default_profiles:
            parts.append(f"{self.non_default_profiles} non-default profiles left out")
        return "; ".join(parts)


@dataclass
class ExpressionMatrix:
    """Gene expression of ``n_cells`` cell lines over ``n_genes`` genes.

    Attributes
    ----------
    values : float32 ndarray, shape (n_cells, n_genes)
        One row per cell line, one column per gene (the transpose of the on-disk GCT layout).
    cell_lines : list[str], length n_cells
        Cell line names as written in the file (CCLE style ``NAME_TISSUE``).
    genes : list[str], length n_genes
        Gene identifiers (GCT ``Name`` column, or DepMap column header symbol).
    descriptions : list[str] or None, length n_genes
        GCT ``Description`` column (or the Entrez id of a DepMap header ``SYMBOL (ENTREZ)``).
    source : str
        Where the matrix came from (a path, or a short label), used in error messages.
    quality : DataQuality
        Missing values and merged genes the reader found (all zero/empty for a clean file).
    """

    values: np.ndarray
    cell_lines: list
    genes: list
    descriptions: list | None = None
    source: str = field(default="<memory>")
    quality: DataQuality = field(default_factory=DataQuality)

    def __post_init__(self):
        values = np.asarray(self.values)
        if values.ndim != 2:
            raise CCLEError(f"{self.source}: expression values must be 2-D (cells x genes), got shape {values.shape}")
        if values.dtype != np.float32:
            values = values.astype(np.float32)
        self.values = values
        self.cell_lines = [str(c) for c in self.cell_lines]
        self.genes = [str(g) for g in self.genes]
        n_cells, n_genes = values.shape
        if len(self.cell_lines) != n_cells:
            raise CCLEError(f"{self.source}: {len(self.cell_lines)} cell line names for {n_cells} rows of values")
        if len(self.genes) != n_genes:
            raise CCLEError(f"{self.source}: {len(self.genes)} gene names for {n_genes} columns of values")
        if self.descriptions is not None:
            self.descriptions = [str(d) for d in self.descriptions]
            if len(self.descriptions) != n_genes:
                raise CCLEError(f"{self.source}: {len(self.descriptions)} gene descriptions for {n_genes} genes")

    @property
    def shape(self):
        """``(n_cells, n_genes)``."""
        return self.values.shape

    @property
    def n_cells(self):
        return self.values.shape[0]

    @property
    def n_genes(self):
        return self.values.shape[1]

    def select_cells(self, index):
        """A new matrix holding the cell lines at the integer positions ``index`` (in that order)."""
        index = np.asarray(index, dtype=np.intp)
        return ExpressionMatrix(self.values[index], [self.cell_lines[i] for i in index], list(self.genes),
                                None if self.descriptions is None else list(self.descriptions), self.source,
                                self.quality)

    def select_genes(self, index):
        """A new matrix holding the genes at the integer positions (or boolean mask) ``index``."""
        index = np.asarray(index)
        index = np.flatnonzero(index) if index.dtype == bool else index.astype(np.intp)
        return ExpressionMatrix(self.values[:, index], list(self.cell_lines), [self.genes[i] for i in index],
                                None if self.descriptions is None else [self.descriptions[i] for i in index],
                                self.source, self.quality)

    def __repr__(self):
        return (f"ExpressionMatrix({self.n_cells} cell lines x {self.n_genes} genes, "
                f"source={self.source!r})")


def _first_repeat(names):
    """``(first position, repeated position)`` of the first name seen twice, or None."""
    seen = {}
    for pos, name in enumerate(names):
        if name in seen:
            return seen[name], pos
        seen[name] = pos
    return None


def check_names(names, what, locate):
    """Refuse empty or repeated names. ``locate(pos)`` -> the "file:line[: column c]" prefix of name ``pos``."""
    for pos, name in enumerate(names):
        if not name:
            raise CCLEError(f"{locate(pos)}: empty {what} name")
    rep = _first_repeat(names)
    if rep is not None:
        repeated = sorted(n for n, c in Counter(names).items() if c > 1)
        shown = ", ".join(repr(n) for n in repeated[:10]) + (", ..." if len(repeated) > 10 else "")
        raise CCLEError(f"{locate(rep[1])}: duplicated {what} {names[rep[1]]!r} (first at {locate(rep[0])}); "
                        f"repeated {what} names: {shown}")


def _merge_genes(values, genes, descriptions):
    """Average the columns of repeated gene names into the first one's position."""
    order, columns = {}, []
    for pos, name in enumerate(genes):
        order.setdefault(name, []).append(pos)
    merged = [name for name, cols in order.items() if len(cols) > 1]
    out = np.empty((values.shape[0], len(order)), dtype=np.float32)
    for k, cols in enumerate(order.values()):
        out[:, k] = values[:, cols].mean(axis=1, dtype=np.float64) if len(cols) > 1 else values[:, cols[0]]
        columns.append(cols[0])
    desc = None if descriptions is None else [descriptions[c] for c in columns]
    return out, list(order), desc, merged


def finalize(values, cell_lines, genes, descriptions, source, locate_value, locate_gene, locate_cell, *,
             gene_major, impute="none", drop_incomplete_genes=False, duplicate_genes="error"):
    """Checks and policy shared by the readers -> :class:`ExpressionMatrix`.

    ``values`` float32 (n_cells, n_genes) with NaN where the file had a missing value. ``locate_value(i, g)``,
    ``locate_gene(g)`` and ``locate_cell(i)`` give the "file:line[: column]" prefix of a value / gene name /
    cell name; ``gene_major`` says whether the file is written gene by gene (GCT) or cell by cell (CSV), so
    that "first missing value" is the first in the file. Refuses an empty matrix, empty or repeated cell line
    names, repeated gene names (unless ``duplicate_genes="mean"``) and missing values (unless ``impute`` or
    ``drop_incomplete_genes``); see the module docstring for the policy.
    """
    if impute not in IMPUTE_CHOICES:
        raise CCLEError(f"impute must be one of {', '.join(IMPUTE_CHOICES)}, got {impute!r}")
    if duplicate_genes not in DUPLICATE_GENE_CHOICES:
        raise CCLEError(f"duplicate_genes must be one of {', '.join(DUPLICATE_GENE_CHOICES)}, "
                        f"got {duplicate_genes!r}")
    if impute != "none" and drop_incomplete_genes:
        raise CCLEError("choose one of impute and drop_incomplete_genes, not both")
    n_cells, n_genes = values.shape
    if n_cells == 0 or n_genes == 0:
        raise CCLEError(f"{source}: no expression values ({n_cells} cell lines x {n_genes} genes)")
    check_names(cell_lines, "cell line", locate_cell)
    quality = DataQuality()
    missing = np.isnan(values)
    if missing.any():
        per_gene = missing.sum(axis=0)
        bad = np.flatnonzero(per_gene)
        quality.n_missing_values = int(per_gene.sum())
        quality.incomplete_genes = [genes[g] for g in bad]
        counts = f"{quality.n_missing_values} missing values in {bad.size} of {n_genes} genes"
        if drop_incomplete_genes:
            keep = per_gene == 0
            if not keep.any():
                raise CCLEError(f"{source}: every gene has a missing value ({counts}): nothing left after "
                                f"dropping incomplete genes")
            values = np.ascontiguousarray(values[:, keep])
            genes = [g for g, k in zip(genes, keep) if k]
            descriptions = None if descriptions is None else [d for d, k in zip(descriptions, keep) if k]
            quality.missing_policy = "drop"
        elif impute == "median":
            empty = np.flatnonzero(per_gene == n_cells)
            if empty.size:
                raise CCLEError(f"{locate_gene(int(empty[0]))}: gene {genes[empty[0]]!r} has no value at all: "
                                f"nothing to impute from (drop_incomplete_genes removes it)")
            values = values.copy()
            for g in bad:
                column = values[:, g]
                column[np.isnan(column)] = np.median(column[~np.isnan(column)])
            quality.missing_policy = "median"
        elif impute == "keep":
            quality.missing_policy = "keep"
        else:
            if gene_major:
                g = int(bad[0])
                i = int(np.flatnonzero(missing[:, g])[0])
            else:
                i = int(np.flatnonzero(missing.any(axis=1))[0])
                g = int(np.flatnonzero(missing[i])[0])
            raise CCLEError(f"{locate_value(i, g)}: missing value for gene {genes[g]!r} in cell line "
                            f"{cell_lines[i]!r} ({counts}; impute='median' or drop_incomplete_genes=True to "
                            f"go on)")
    if duplicate_genes == "mean" and _first_repeat(genes) is not None:
        values, genes, descriptions, quality.merged_genes = _merge_genes(values, genes, descriptions)
    check_names(genes, "gene", locate_gene)
    return ExpressionMatrix(values, cell_lines, genes, descriptions, source, quality)
