"""Reader of the CCLE pharmacological profiling file (Barretina et al. 2012, 2015-02-24 release).

The original ``CCLE_NP24.2009_Drug_data_2015.02.24.csv`` is comma-separated with the 13 columns of
:data:`ORIGINAL_COLUMNS`; column subsets (e.g. a tab-separated copy with 7 of them) are read the same way.
Only the cell line, compound and the chosen response column are required.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ccle.data.textio import csv_rows, open_text, parse_float, read_header, reading
from ccle.errors import CCLEError

ORIGINAL_COLUMNS = ("CCLE Cell Line Name", "Primary Cell Line Name", "Compound", "Target", "Doses (uM)",
                    "Activity Data (median)", "Activity SD", "Num Data", "FitType", "EC50 (uM)", "IC50 (uM)",
                    "Amax", "ActArea")
CELL_COLUMN = "CCLE Cell Line Name"
DRUG_COLUMN = "Compound"
RESPONSES = ("ActArea", "IC50 (uM)", "EC50 (uM)", "Amax")
# CCLE 2015: ActArea is the area above the curve (more activity = more sensitive); the others are
# concentrations or the (negative) maximal activity, where low = sensitive
_CCLE_DIRECTIONS = {"actarea": 1, "ic50": -1, "ec50": -1, "amax": -1}
_EXPLICIT_DIRECTION = re.compile(r"\((high|low) = sensitive\)\s*$")


def response_label(column, direction):
    """The response name a table carries when its direction is not the CCLE one of its column:
    ``"LN_IC50 (low = sensitive)"`` -- the direction travels with the name into every result and model file."""
    return f"{column} ({'high' if direction == 1 else 'low'} = sensitive)"


def label_direction(label):
    """+1 / -1 for a label written by :func:`response_label`, else None."""
    m = _EXPLICIT_DIRECTION.search(str(label))
    return None if m is None else (1 if m.group(1) == "high" else -1)


def _canon(name):
    return "".join(ch for ch in name.lower().replace("(um)", "") if ch.isalnum())


@dataclass
class DrugTable:
    """Drug responses in long format.

    Attributes
    ----------
    frame : pandas.DataFrame with columns ``cell_line`` (str), ``drug`` (str), ``response`` (float64);
        one row per measured (cell line, drug) pair, in file order; rows without a response are not here.
    drugs : list[str], the compounds, sorted.
    response : str, name of the response column that was read (``ActArea``, ``IC50 (uM)``, ...).
    source : str, the file path.
    missing : DataFrame of the (cell_line, drug) rows dropped because the response was empty.
    direction : +1 when a high response means sensitive, -1 when a low one does (default: from the CCLE
        column name, or from a ``response_label`` suffix).
    tissues : dict cell line -> tissue, for files that give one per line (GDSC ``TCGA_DESC``, CTRP
        ``ccle_primary_site``); empty otherwise.
    drug_ids : dict drug label -> the source's drug id (GDSC ``DRUG_ID``, CTRP ``master_cpd_id``, PRISM
        ``broad_id``); drug_names : dict drug label -> the published name. A name published under two ids is
        two drugs labelled ``"name (id)"``; a name under one id is labelled by the name alone.
    cell_ids : dict cell line -> {"depmap": "ACH-...", "cosmic": "...", "sanger": "SIDM...", "suffix": CCLE
        tissue suffix}, the identifiers the file gives (only non-empty ones), for :mod:`ccle.data.identity`.
    layout : str, the file layout read ("ccle2015", "gdsc", "ctrp", "prism", "long").
    notes : list[str], what the reader did that a user should know (replicates averaged, rows left out).
    join : ccle.data.identity.JoinReport or None, how the cell lines were matched to the expression data.
    """

    frame: pd.DataFrame
    drugs: list
    response: str = "ActArea"
    source: str = "<memory>"
    missing: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["cell_line", "drug"]))
    direction: int | None = None
    tissues: dict = field(default_factory=dict)
    drug_ids: dict = field(default_factory=dict)
    drug_names: dict = field(default_factory=dict)
    cell_ids: dict = field(default_factory=dict)
    layout: str = "ccle2015"
    notes: list = field(default_factory=list)
    join: object = None

    def __post_init__(self):
        if self.direction is None:
            explicit = label_direction(self.response)
            self.direction = explicit if explicit is not None else _CCLE_DIRECTIONS.get(_canon(self.response), 1)

    @property
    def cell_lines(self):
        """Sorted cell line names with at least one response."""
        return sorted(set(self.frame["cell_line"]))

    def responses(self, drug):
        """``pandas.Series`` of the responses to ``drug`` indexed by cell line; unknown drug -> CCLEError."""
        if drug not in self.drugs:
            raise CCLEError(f"{self.source}: unknown drug {drug!r}; known: {', '.join(self.drugs)}")
        rows = self.frame[self.frame["drug"] == drug]
        return pd.Series(rows["response"].to_numpy(dtype=np.float64), index=rows["cell_line"].to_list(),
                         name=drug)

    def __repr__(self):
        return (f"DrugTable({len(self.frame)} responses ({self.response}), {len(self.drugs)} drugs, "
                f"{len(self.cell_lines)} cell lines, source={self.source!r})")


def resolve_response(columns, response, path="<drug file>"):
    """The column of ``columns`` matching ``response`` (exact, else case/punctuation/'(uM)'-insensitive)."""
    if response in columns:
        return response
    matches = [c for c in columns if _canon(c) == _canon(response)]
    if len(matches) == 1:
        return matches[0]
    present = [c for c in columns if _canon(c) in {_canon(r) for r in RESPONSES}]
    raise CCLEError(f"{path}:1: no response column {response!r} in the header; response columns present: "
                    f"{present or 'none'}")


def _parse_response(token, path, lineno, column, decimal_comma=False):
    """A response field -> float (NaN when missing); CCLEError for text, inf or a float32-overflowing value."""
    try:
        return parse_float(token, decimal_comma)
    except ValueError as exc:
        raise CCLEError(f"{path}:{lineno}: {exc} in column {column!r}") from None


def read_drug_table(path, response="ActArea"):
    """Read a CCLE drug-response file into a :class:`DrugTable` holding one ``response`` column.

    Comma- or tab-separated (sniffed from the header), gzip by magic bytes, a UTF-8 BOM and CRLF lines are
    fine. Empty / NA responses are the file's way of saying "not measured": those rows are kept out of the
    table and listed in ``.missing``. Raises :class:`CCLEError` naming file and line for: a file that cannot
    be read (permission, damaged gzip), a missing required column, a row whose field count differs from the
    header's (a damaged row is not a missing response), a non-numeric, infinite or float32-overflowing
    response (``1e300``), an empty cell line or compound, a (cell line, drug) pair given twice, and two
    compound names that differ only in case (``AEW541`` / ``aew541``: refused as ambiguous, not merged).
    """
    path = os.fspath(path)
    cells, drugs, values, lines = [], [], [], []
    with reading(path), open_text(path) as fh:
        header, sep = read_header(fh, path, "a drug table")
        for col in (CELL_COLUMN, DRUG_COLUMN):
            if col not in header:
                raise CCLEError(f"{path}:1: required column {col!r} not in the header {header[:8]}")
        resp_col = resolve_response(header, response, path)
        cell_pos, drug_pos, resp_pos = header.index(CELL_COLUMN), header.index(DRUG_COLUMN), header.index(resp_col)
        for lineno, row in csv_rows(fh, sep, path):
            if len(row) != len(header):
                raise CCLEError(f"{path}:{lineno}: expected {len(header)} fields (as in the header), "
                                f"found {len(row)}")
            cell, drug = row[cell_pos].strip(), row[drug_pos].strip()
            if not cell or not drug:
                raise CCLEError(f"{path}:{lineno}: empty cell line or compound name")
            cells.append(cell)
            drugs.append(drug)
            values.append(_parse_response(row[resp_pos], path, lineno, resp_col, sep == ";"))
            lines.append(lineno)
    _check_keys(path, cells, drugs, lines)
    values = np.asarray(values, dtype=np.float64)
    ok = ~np.isnan(values)
    frame = pd.DataFrame({"cell_line": np.array(cells, dtype=object)[ok], "drug": np.array(drugs, dtype=object)[ok],
                          "response": values[ok]})
    if frame.empty:
        raise CCLEError(f"{path}: no {resp_col} values in the file")
    dropped = pd.DataFrame({"cell_line": np.array(cells, dtype=object)[~ok],
                            "drug": np.array(drugs, dtype=object)[~ok]})
    return DrugTable(frame, sorted(set(frame["drug"])), resp_col, path, dropped)


def _check_keys(path, cells, drugs, lines):
    """Refuse a (cell line, drug) pair given twice and compound names that differ only in case."""
    seen = {}
    for cell, drug, lineno in zip(cells, drugs, lines):
        first = seen.setdefault((cell, drug), lineno)
        if first != lineno:
            raise CCLEError(f"{path}:{lineno}: duplicated response for cell line {cell!r} and drug {drug!r} "
                            f"(also on line {first})")
    spelling = {}
    for drug, lineno in zip(drugs, lines):
        other, other_line = spelling.setdefault(drug.casefold(), (drug, lineno))
        if other != drug:
            raise CCLEError(f"{path}:{lineno}: compound {drug!r} differs from {other!r} (line {other_line}) only "
                            f"in case: ambiguous, write one spelling")


def check_drug_responses(table, drugs):
    """Check, before any work, that every drug in ``drugs`` can be fitted and scored -> the drugs, each once.

    A drug unknown to ``table``, with fewer than 2 responses, or whose responses are all equal (no model can
    be fitted or scored on a constant target) is a CCLEError naming drug and file. A drug named twice is kept
    once, in first-seen order (running it twice would count it twice in every mean).
    """
    unique = list(dict.fromkeys(drugs))
    for drug in unique:
        y = table.responses(drug).to_numpy()
        if y.size < 2:
            raise CCLEError(f"{table.source}: drug {drug!r} has {y.size} {table.response} value(s); at least 2 "
                            f"are needed")
        if np.ptp(y) == 0:
            raise CCLEError(f"{table.source}: drug {drug!r}: all {y.size} {table.response} values are {y[0]:g} "
                            f"(a constant response cannot be fitted or scored)")
    return unique


def resolve_drug(table, selector):
    """The drug label of ``table`` that ``selector`` names -> ``(label, how)``; ``how`` is None for the label
    itself, else a short note ("id 1062", "name Selumetinib", "case") for the caller to show.

    Tried in order: the label (``Selumetinib (1062)``), the source's drug id (``1062``), the published name
    (``Selumetinib``) when exactly one drug carries it, then the same case-insensitively. A name carried by
    several drugs (one name under two ids) is a CCLEError listing their labels; an unknown selector is a
    CCLEError listing the known drugs.
    """
    text = str(selector).strip()
    if text in table.drugs:
        return text, None
    by_id = [label for label, i in table.drug_ids.items() if str(i) == text]
    if len(by_id) == 1:
        return by_id[0], f"id {text}"
    for fold in (False, True):
        def same(a, b):
            return a.casefold() == b.casefold() if fold else a == b
        hits = [label for label in table.drugs if same(table.drug_names.get(label, label), text)]
        if len(hits) > 1:
            raise CCLEError(f"{table.source}: drug {text!r} is ambiguous: {', '.join(hits)} (one name under "
                            f"several ids: give the label or the id)")
        if not hits and fold:
            hits = [label for label in table.drugs if same(label, text)]
        if len(hits) == 1:
            return hits[0], ("case" if fold else f"name {text}")
    raise CCLEError(f"{table.source}: unknown drug {text!r}; known: {', '.join(table.drugs)}")
