"""Reader of the PRISM Repurposing secondary screen dose-response parameters (Broad; Corsello et al., Nature
Cancer 2020).

Source: DepMap / figshare "PRISM Repurposing 19Q4", file ``secondary-screen-dose-response-curve-parameters.csv``
(comma-separated, one fitted curve per cell line, compound and screen), columns :data:`PRISM_COLUMNS`.
Example (the layout exact, the values illustrative)::

    broad_id,depmap_id,ccle_name,screen_id,upper_limit,lower_limit,slope,r2,auc,ec50,ic50,name,moa,target,disease.area,indication,smiles,phase,passed_str_profiling,row_name
    BRD-A00077618-236-07-6,ACH-000879,MFE296_ENDOMETRIUM,HTS002,1,0.925,-0.71,0.0307,0.9831,0.2398,NA,8-bromo-cGMP,PKG activator,PRKG1,NA,NA,C1=NC2=C(N1...)N,Preclinical,TRUE,MFE296_ENDOMETRIUM
    BRD-A00077618-236-07-6,ACH-000320,PSN1_PANCREAS,HTS002,1,0.891,-0.95,0.0781,0.9627,0.7754,NA,8-bromo-cGMP,PKG activator,PRKG1,NA,NA,C1=NC2=C(N1...)N,Preclinical,TRUE,PSN1_PANCREAS
    BRD-A00100033-001-08-9,ACH-000879,MFE296_ENDOMETRIUM,MTS010,1,0.012,-1.62,0.941,0.4121,1.0542,1.2093,nifurtimox,antiprotozoal,NA,infectious disease,Chagas disease,Cc1cc...,Launched,TRUE,MFE296_ENDOMETRIUM
    BRD-A00100033-001-08-9,ACH-000320,PSN1_PANCREAS,MTS010,1,0.653,-2.11,0.815,0.7709,2.771,NA,nifurtimox,antiprotozoal,NA,infectious disease,Chagas disease,Cc1cc...,Launched,TRUE,PSN1_PANCREAS

Responses: ``auc`` (default; area under the fitted viability curve, low = sensitive), ``ic50`` and ``ec50``
(concentrations, low = sensitive). Cell lines are named by ``ccle_name`` (by ``depmap_id`` when a line has
none) and carry their ``depmap_id``. Drugs are ``(name, broad_id)``; a name under two Broad ids is two drugs
(``name (BRD-...)``). Rows with ``passed_str_profiling`` FALSE (the line's identity was not confirmed) are left
out; a (line, compound) pair measured in several screens keeps the curve of the most recent screen, in the
order MTS010, MTS006, MTS005, HTS002 (the counts go to ``notes``).
"""
from __future__ import annotations

import os

from ccle.data.drugs import response_label
from ccle.data.response_table import Rows, build_table, parse_value
from ccle.data.tables import check_width, column_positions, open_table
from ccle.errors import CCLEError

PRISM_COLUMNS = ("broad_id", "depmap_id", "ccle_name", "screen_id", "upper_limit", "lower_limit", "slope", "r2",
                 "auc", "ec50", "ic50", "name", "moa", "target", "disease.area", "indication", "smiles", "phase",
                 "passed_str_profiling", "row_name")
PRISM_RESPONSES = {"auc": -1, "ic50": -1, "ec50": -1}
DEFAULT_RESPONSE = "auc"
SCREEN_ORDER = ("MTS010", "MTS006", "MTS005", "HTS002")
SIGNATURE = ("broad_id", "depmap_id", "name", "screen_id")


def is_prism(header):
    """True when ``header`` has the PRISM secondary-screen key columns."""
    return all(c in header for c in SIGNATURE)


def _rank(screen):
    return SCREEN_ORDER.index(screen) if screen in SCREEN_ORDER else len(SCREEN_ORDER)


def read_prism(path, response=None):
    """Read the PRISM secondary-screen dose-response parameters -> ``DrugTable`` (see the module text).

    Raises :class:`CCLEError` naming file and line for a missing required column, a short or long row, an
    empty id or name, a non-numeric response or a pair given twice within one screen.
    """
    path = os.fspath(path)
    column = response or DEFAULT_RESPONSE
    if column not in PRISM_RESPONSES:
        raise CCLEError(f"{path}: PRISM response must be one of {', '.join(PRISM_RESPONSES)}, got {column!r}")
    best, names, failed, passing = {}, {}, 0, 0
    with open_table(path, "a PRISM dose-response table") as table:
        pos = column_positions(table.header, path, (*SIGNATURE, column), ("ccle_name", "passed_str_profiling"))
        for lineno, row in table.rows:
            check_width(path, lineno, row, table.header)
            broad, depmap, name, screen = (row[pos[c]].strip() for c in SIGNATURE)
            if not broad or not depmap or not name:
                raise CCLEError(f"{path}:{lineno}: empty broad_id, depmap_id or name")
            if "passed_str_profiling" in pos and row[pos["passed_str_profiling"]].strip().upper() == "FALSE":
                failed += 1
                continue
            passing += 1
            ccle = row[pos["ccle_name"]].strip() if "ccle_name" in pos else ""
            if ccle and ccle.upper() != "NA":
                names.setdefault(depmap, ccle)
            value = parse_value(row[pos[column]], path, lineno, column, table.decimal_comma)
            key = (depmap, broad)
            entry = (_rank(screen), lineno, name, value, screen)
            if key in best and best[key][0] == entry[0]:
                raise CCLEError(f"{path}:{lineno}: duplicated response for {depmap} and {broad} in screen "
                                f"{screen} (also on line {best[key][1]})")
            if key not in best or entry[0] < best[key][0]:
                best[key] = entry
    rows = Rows()
    for (depmap, broad), (_, lineno, name, value, _) in sorted(best.items(), key=lambda kv: kv[1][1]):
        rows.add(lineno, names.get(depmap, depmap), name, broad, value, "", {"depmap": depmap})
    notes = [f"{failed} rows with passed_str_profiling FALSE left out"] if failed else []
    if passing > len(best):
        notes.append(f"{passing - len(best)} curves of an older screen left out (the pair was measured again)")
    return build_table(path, rows, response=response_label(column, PRISM_RESPONSES[column]),
                       direction=PRISM_RESPONSES[column], layout="prism", notes=notes)
