"""Which drug-response layout a file is, from its header -- no flag needed -- and the one reader entry point.

=========  ============================================  ============================  =====================
layout     recognised by (header columns)                reader                        default response
=========  ============================================  ============================  =====================
ccle2015   ``CCLE Cell Line Name`` or ``Compound``       :mod:`ccle.data.drugs`        ``ActArea``
gdsc       ``CELL_LINE_NAME``, ``DRUG_ID``, ``DRUG_NAME``  :mod:`ccle.data.gdsc`         ``LN_IC50``
ctrp       a folder, or ``experiment_id``,                :mod:`ccle.data.ctrp`         ``area_under_curve``
           ``master_cpd_id``, ``area_under_curve``
prism      ``broad_id``, ``depmap_id``, ``name``,          :mod:`ccle.data.prism`        ``auc``
           ``screen_id``
long       the user's column names (:class:`LongTableSpec`)  :mod:`ccle.data.longtable`   the named column
=========  ============================================  ============================  =====================

Any other header is a CCLEError naming the file, listing the layouts and how to read it as a long table.
"""
from __future__ import annotations

import os

from ccle.data.ctrp import is_ctrp_curves, read_ctrp
from ccle.data.drugs import CELL_COLUMN, DRUG_COLUMN, read_drug_table
from ccle.data.gdsc import is_gdsc, read_gdsc
from ccle.data.longtable import LongTableSpec, read_long_table
from ccle.data.prism import is_prism, read_prism
from ccle.data.tables import open_table
from ccle.errors import CCLEError

DEFAULT_RESPONSES = {"ccle2015": "ActArea", "gdsc": "LN_IC50", "ctrp": "area_under_curve", "prism": "auc"}


def drug_layout(path):
    """The layout of ``path`` (see the module table) -> "ccle2015" | "gdsc" | "ctrp" | "prism"."""
    path = os.fspath(path)
    if os.path.isdir(path):
        return "ctrp"
    with open_table(path, "a drug-response table") as table:
        header, kind = table.header, table.kind
    if CELL_COLUMN in header or DRUG_COLUMN in header:
        if kind == "xlsx":
            raise CCLEError(f"{path}: a CCLE pharmacology table in an Excel workbook: save the sheet as CSV")
        return "ccle2015"
    for layout, test in (("gdsc", is_gdsc), ("ctrp", is_ctrp_curves), ("prism", is_prism)):
        if test(header):
            return layout
    hint = (" The header has a single field: is the file separated by something other than ',', tab or ';'?"
            if len(header) == 1 else "")
    more = " ..." if len(header) > 6 else ""
    raise CCLEError(f"{path}:1: not a known drug-response layout (CCLE 2015 pharmacology, GDSC fitted dose "
                    f"response, CTRPv2, PRISM secondary screen); header {header[:6]}{more}."
                    f"{hint} To read another long table name its cell line, drug and response columns and whether "
                    f"high or low responses are sensitive (--cell-column, --drug-column, --response-column, "
                    f"--sensitive)")


def read_drugs(path, response=None, long_table=None):
    """Read any supported drug-response file -> :class:`~ccle.data.drugs.DrugTable`.

    Parameters
    ----------
    path : str, Path, or (CTRPv2) a folder or a list of the four files
    response : str or None
        The response column; None is the layout's default (:data:`DEFAULT_RESPONSES`).
    long_table : LongTableSpec, dict of its fields, or None
        Read ``path`` as a long table with these columns and direction, whatever its header.
    """
    if long_table is not None:
        spec = long_table if isinstance(long_table, LongTableSpec) else LongTableSpec(**long_table)
        return read_long_table(path, spec)
    if isinstance(path, (list, tuple)):
        return read_ctrp(path, response)
    layout = drug_layout(path)
    if layout == "ccle2015":
        return read_drug_table(path, response=response or DEFAULT_RESPONSES["ccle2015"])
    reader = {"gdsc": read_gdsc, "ctrp": read_ctrp, "prism": read_prism}[layout]
    return reader(path, response)
