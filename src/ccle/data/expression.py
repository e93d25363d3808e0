"""The in-memory expression matrix every reader returns: cell lines x genes, float32."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ccle.errors import CCLEError


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
    """

    values: np.ndarray
    cell_lines: list
    genes: list
    descriptions: list | None = None
    source: str = field(default="<memory>")

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
                                None if self.descriptions is None else list(self.descriptions), self.source)

    def select_genes(self, index):
        """A new matrix holding the genes at the integer positions (or boolean mask) ``index``."""
        index = np.asarray(index)
        index = np.flatnonzero(index) if index.dtype == bool else index.astype(np.intp)
        return ExpressionMatrix(self.values[:, index], list(self.cell_lines), [self.genes[i] for i in index],
                                None if self.descriptions is None else [self.descriptions[i] for i in index],
                                self.source)

    def __repr__(self):
        return (f"ExpressionMatrix({self.n_cells} cell lines x {self.n_genes} genes, "
                f"source={self.source!r})")
