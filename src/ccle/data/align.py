"""Matching cell lines between an expression matrix and a drug table, and building one drug's data set.

Cell lines are matched on :func:`normalize_cell_line` keys (CCLE names, upper-cased, punctuation removed),
so ``NCI-H460_LUNG``, ``NCIH460_LUNG`` and ``nci-h460_lung`` are the same line. Following the paper
(Sec. IV.A), cell lines without a measured response or without expression are removed; what was removed is
reported in ``DrugDataset.dropped``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ccle.errors import CCLEError

_NOT_WORD = re.compile(r"[^A-Z0-9_]+")
_UNDERSCORES = re.compile(r"_+")


def normalize_cell_line(name):
    """Matching key of a cell line name: upper case, characters other than A-Z, 0-9 and ``_`` removed,
    runs of ``_`` collapsed, surrounding ``_`` stripped. ``"nci-h460_Lung " -> "NCIH460_LUNG"``."""
    key = _NOT_WORD.sub("", str(name).strip().upper())
    return _UNDERSCORES.sub("_", key).strip("_")


def _index(names, source, what):
    """``{normalized key: position}``; two names with the same key -> CCLEError."""
    out = {}
    for pos, name in enumerate(names):
        key = normalize_cell_line(name)
        if not key:
            continue
        if key in out:
            raise CCLEError(f"{source}: {what} {names[out[key]]!r} and {name!r} are the same cell line after "
                            f"normalisation ({key})")
        out[key] = pos
    return out


@dataclass
class DrugDataset:
    """One drug's supervised data set.

    X : float32 (n, n_genes) expression of the matched cell lines (rows in expression-matrix order);
    y : float64 (n,) responses; cell_lines : list[str] (expression names) of length n; genes : list[str];
    drug : str; dropped : dict with ``no_expression`` (cell lines with a response but no expression),
    ``no_response`` (cell lines with expression but no response to this drug) and ``nonfinite_genes``
    (genes with NaN/inf among the matched rows, removed).
    """

    X: np.ndarray
    y: np.ndarray
    cell_lines: list
    genes: list
    drug: str
    dropped: dict = field(default_factory=dict)

    @property
    def n(self):
        return self.X.shape[0]

    def __repr__(self):
        return f"DrugDataset({self.drug!r}: {self.X.shape[0]} cell lines x {self.X.shape[1]} genes)"


def matched_cell_lines(expression, drug_table):
    """Expression cell line names that have at least one response in ``drug_table`` (expression order)."""
    expr_idx = _index(expression.cell_lines, expression.source, "cell lines")
    keys = {normalize_cell_line(c) for c in drug_table.frame["cell_line"]}
    return [expression.cell_lines[p] for k, p in expr_idx.items() if k in keys]


def drug_dataset(expression, drug_table, drug):
    """Assemble ``(X, y)`` for ``drug``: expression rows of the cell lines that have a response to it.

    Raises :class:`CCLEError` for an unknown drug, duplicated cell lines, or no overlapping cell lines.
    """
    if drug not in drug_table.drugs:
        raise CCLEError(f"{drug_table.source}: unknown drug {drug!r}; known drugs: {', '.join(drug_table.drugs)}")
    responses = drug_table.responses(drug)
    expr_idx = _index(expression.cell_lines, expression.source, "cell lines")
    resp_idx = _index(list(responses.index), drug_table.source, f"responses to {drug} for")
    rows, resp_rows = [], []
    for key, pos in expr_idx.items():
        if key in resp_idx:
            rows.append(pos)
            resp_rows.append(resp_idx[key])
    order = np.argsort(rows, kind="stable")
    rows = np.asarray(rows, dtype=np.intp)[order]
    resp_rows = np.asarray(resp_rows, dtype=np.intp)[order]
    if rows.size == 0:
        raise CCLEError(f"{drug_table.source}: no cell line with a {drug} response is in the expression data "
                        f"{expression.source} (e.g. {responses.index[0]!r} vs {expression.cell_lines[0]!r})")
    X = np.asarray(expression.values[rows], dtype=np.float32)
    y = responses.to_numpy(dtype=np.float64)[resp_rows]
    genes = list(expression.genes)
    finite = np.isfinite(X).all(axis=0)
    nonfinite_genes = [g for g, ok in zip(genes, finite) if not ok]
    if nonfinite_genes:
        X = np.ascontiguousarray(X[:, finite])
        genes = [g for g, ok in zip(genes, finite) if ok]
    matched_expr = set(rows.tolist())
    matched_resp = set(resp_rows.tolist())
    dropped = {
        "no_expression": [c for i, c in enumerate(responses.index) if i not in matched_resp],
        "no_response": [c for i, c in enumerate(expression.cell_lines) if i not in matched_expr],
        "nonfinite_genes": nonfinite_genes,
    }
    return DrugDataset(X, y, [expression.cell_lines[i] for i in rows], genes, drug, dropped)
