"""Reader of any long drug-response table whose columns the user names.

One row per (cell line, drug) with a numeric response, in a comma-, tab- or ``;``-separated file (or an
``.xlsx`` sheet); the user gives the three column names and whether a high or a low response means
sensitive (command line: ``--cell-column``, ``--drug-column``, ``--response-column``, ``--sensitive``).
Example (``--cell-column line --drug-column compound --response-column score --sensitive high``)::

    line,compound,score,batch
    A549_LUNG,Drug A,0.82,1
    A549_LUNG,Drug B,0.15,1
    MCF7_BREAST,Drug A,0.40,2
    MCF7_BREAST,Drug B,,2

The table's ``response`` is ``"score (high = sensitive)"``: the direction travels with the name. As for the
CCLE file, a (cell line, drug) pair given twice and two drug names that differ only in case are refused.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from ccle.data.drugs import response_label
from ccle.data.response_table import Rows, build_table, parse_value
from ccle.data.tables import check_width, column_positions, open_table
from ccle.errors import CCLEError

SENSITIVE_CHOICES = ("high", "low")


@dataclass(frozen=True)
class LongTableSpec:
    """The columns of a long table and its direction (``sensitive``: "high" or "low")."""

    cell_column: str
    drug_column: str
    response_column: str
    sensitive: str

    def __post_init__(self):
        if self.sensitive not in SENSITIVE_CHOICES:
            raise CCLEError(f"sensitive must be 'high' or 'low', got {self.sensitive!r}")
        if not all(str(c).strip() for c in (self.cell_column, self.drug_column, self.response_column)):
            raise CCLEError("a long table needs non-empty cell, drug and response column names")

    @property
    def direction(self):
        return 1 if self.sensitive == "high" else -1


def read_long_table(path, spec):
    """Read ``path`` with the columns of ``spec`` (:class:`LongTableSpec`) -> ``DrugTable``.

    Raises :class:`CCLEError` naming file and line for a missing column, a short or long row, an empty cell
    line or drug, a non-numeric response, a pair given twice and drug names differing only in case.
    """
    path = os.fspath(path)
    rows = Rows()
    spelling = {}
    with open_table(path, "a drug-response table") as table:
        cols = (spec.cell_column, spec.drug_column, spec.response_column)
        pos = column_positions(table.header, path, cols)
        for lineno, row in table.rows:
            check_width(path, lineno, row, table.header)
            cell, drug = row[pos[spec.cell_column]].strip(), row[pos[spec.drug_column]].strip()
            if not cell or not drug:
                raise CCLEError(f"{path}:{lineno}: empty cell line or drug name")
            other, other_line = spelling.setdefault(drug.casefold(), (drug, lineno))
            if other != drug:
                raise CCLEError(f"{path}:{lineno}: drug {drug!r} differs from {other!r} (line {other_line}) only "
                                f"in case: ambiguous, write one spelling")
            rows.add(lineno, cell, drug, "", parse_value(row[pos[spec.response_column]], path, lineno,
                                                         spec.response_column, table.decimal_comma))
    return build_table(path, rows, response=response_label(spec.response_column, spec.direction),
                       direction=spec.direction, layout="long")
