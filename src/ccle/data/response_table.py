"""From the parsed rows of any drug-response layout to one :class:`~ccle.data.drugs.DrugTable`.

The layout readers (:mod:`ccle.data.gdsc`, :mod:`ccle.data.ctrp`, :mod:`ccle.data.prism`,
:mod:`ccle.data.longtable`) only locate their columns; the rules every layout shares live here:

* drug labels: a drug is a (name, id) pair. A name published under a single id is labelled by the name; a
  name under several ids is that many drugs, labelled ``"name (id)"`` -- never merged.
* per cell line, the identifiers (COSMIC, Sanger, DepMap) and the tissue must not contradict each other
  between rows: a contradiction is a CCLEError naming both lines.
* a (cell line, drug) pair given twice is an error naming both lines (``replicates="error"``), or its
  responses are averaged (``replicates="mean"``: CTRP, where one line is screened in several experiments),
  the number of averaged pairs going to ``notes``.
* an empty response is "not measured": the row goes to ``missing``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ccle.data.drugs import DrugTable
from ccle.data.textio import parse_float
from ccle.errors import CCLEError

# the cell line identifiers a drug file may give (cell_ids keys); "suffix" (a CCLE tissue suffix) is shared
ID_KINDS = ("depmap", "cosmic", "sanger")


class Rows:
    """The rows a layout reader collects, one list per field (``add`` one row at a time)."""

    def __init__(self):
        self.cells, self.names, self.ids, self.values, self.lines = [], [], [], [], []
        self.tissues, self.cell_ids = [], []

    def add(self, lineno, cell, drug_name, drug_id, value, tissue="", cell_ids=None):
        self.lines.append(lineno)
        self.cells.append(cell)
        self.names.append(drug_name)
        self.ids.append(drug_id)
        self.values.append(value)
        self.tissues.append(tissue)
        self.cell_ids.append(cell_ids or {})

    def __len__(self):
        return len(self.lines)


def parse_value(token, path, lineno, column, decimal_comma=False):
    """A response field -> float (NaN when empty); CCLEError naming file, line and column otherwise."""
    try:
        return parse_float(token, decimal_comma)
    except ValueError as exc:
        raise CCLEError(f"{path}:{lineno}: {exc} in column {column!r}") from None


def normalize_id(token):
    """An identifier field as text: ``'905933.0'`` (a float-typed column) -> ``'905933'``; blanks and NA -> ''."""
    text = str(token).strip()
    if text.lower() in ("", "na", "nan", "none", "null"):
        return ""
    if text.endswith(".0") and text[:-2].isdigit():
        return text[:-2]
    return text


def _labels(names, ids):
    """``{(name, id): label}``: the name alone when it has one id, ``"name (id)"`` when it has several."""
    per_name = {}
    for name, drug_id in zip(names, ids):
        per_name.setdefault(name, set()).add(drug_id)
    return {(name, drug_id): name if len(per_name[name]) == 1 else f"{name} ({drug_id})"
            for name, drug_id in zip(names, ids)}


def _consistent(path, what, per_cell, cell, value, lineno):
    """Record ``value`` for ``cell``; a different non-empty value on another line is a CCLEError."""
    if not value:
        return
    seen = per_cell.setdefault(cell, (value, lineno))
    if seen[0] != value:
        raise CCLEError(f"{path}:{lineno}: cell line {cell!r} has {what} {value!r} here and {seen[0]!r} on line "
                        f"{seen[1]}")


def build_table(path, rows, *, response, direction, layout, replicates="error", notes=()):
    """A :class:`DrugTable` from collected :class:`Rows` (see the module text for the rules).

    ``response`` is the name the table carries (a :func:`ccle.data.drugs.response_label` for non-CCLE
    layouts); ``direction`` +1 / -1; ``layout`` the layout's name; ``notes`` what the reader already did.
    """
    notes = list(notes)
    if not len(rows):
        raise CCLEError(f"{path}: no data rows after the header")
    labels = _labels(rows.names, rows.ids)
    tissue_of, id_of = {}, {}
    for cell, tissue, ids, lineno in zip(rows.cells, rows.tissues, rows.cell_ids, rows.lines):
        _consistent(path, "tissue", tissue_of, cell, tissue, lineno)
        for kind, value in ids.items():
            _consistent(path, f"{kind} id", id_of.setdefault(kind, {}), cell, value, lineno)
    # one line per identifier: two names under one COSMIC id would be one line counted twice
    for kind, per_cell in id_of.items():
        if kind not in ID_KINDS:
            continue
        owner = {}
        for cell, (value, lineno) in per_cell.items():
            other = owner.setdefault(value, (cell, lineno))
            if other[0] != cell:
                raise CCLEError(f"{path}:{lineno}: {kind} id {value!r} belongs to cell line {cell!r} here and to "
                                f"{other[0]!r} on line {other[1]}")
    values = np.asarray(rows.values, dtype=np.float64)
    drug_labels = [labels[(n, i)] for n, i in zip(rows.names, rows.ids)]
    first, sums, counts = {}, {}, {}
    for k, (cell, label, lineno) in enumerate(zip(rows.cells, drug_labels, rows.lines)):
        key = (cell, label)
        if key in first:
            if replicates == "error":
                raise CCLEError(f"{path}:{lineno}: duplicated response for cell line {cell!r} and drug {label!r} "
                                f"(also on line {rows.lines[first[key]]})")
        else:
            first[key] = k
            sums[key], counts[key] = 0.0, 0
        if not np.isnan(values[k]):
            sums[key] += values[k]
            counts[key] += 1
    order = sorted(first.values())
    keys = [(rows.cells[k], drug_labels[k]) for k in order]
    merged = sum(1 for key in keys if counts[key] > 1)
    if merged:
        notes.append(f"{merged} (cell line, drug) pairs measured more than once: responses averaged")
    out_values = np.array([sums[key] / counts[key] if counts[key] else np.nan for key in keys], dtype=np.float64)
    ok = ~np.isnan(out_values)
    cells = np.array([c for c, _ in keys], dtype=object)
    drugs = np.array([d for _, d in keys], dtype=object)
    frame = pd.DataFrame({"cell_line": cells[ok], "drug": drugs[ok], "response": out_values[ok]})
    if frame.empty:
        raise CCLEError(f"{path}: no {response} values in the file")
    missing = pd.DataFrame({"cell_line": cells[~ok], "drug": drugs[~ok]})
    measured = set(frame["drug"])
    drug_ids = {label: drug_id for (_, drug_id), label in labels.items() if label in measured and drug_id}
    drug_names = {label: name for (name, _), label in labels.items() if label in measured}
    cell_ids = {}
    for kind, per_cell in id_of.items():
        for cell, (value, _) in per_cell.items():
            cell_ids.setdefault(cell, {})[kind] = value
    return DrugTable(frame, sorted(measured), response, path, missing, direction=direction,
                     tissues={c: t for c, (t, _) in tissue_of.items()}, drug_ids=drug_ids, drug_names=drug_names,
                     cell_ids=cell_ids, layout=layout, notes=notes)
