"""Which cell line is which across files: identifiers first, then names, every ambiguity refused by name.

Drug files and expression files name their lines differently: CCLE writes ``A549_LUNG``, GDSC ``A549`` with
COSMIC id 905949 and Sanger id SIDM00903, CTRP ``A549`` with primary site ``lung``, PRISM and DepMap the model
id ``ACH-000681``. A DepMap model table (``Model.csv`` -- ``ModelID``, ``CCLEName``, ``CellLineName``,
``StrippedCellLineName``, ``OncotreeLineage``, ``COSMICID``, ``SangerModelID`` -- or the older
``sample_info.csv`` -- ``DepMap_ID``, ``CCLE_Name``, ``cell_line_name``, ``stripped_cell_line_name``,
``lineage``, ``COSMICID``, ``Sanger_Model_ID``) gives the expression lines their identifiers and aliases.

:func:`join_lines` matches each line of one side (the drug file) to at most one line of the other (the
expression data), trying in turn:

1. ``depmap``, ``cosmic``, ``sanger``: the same identifier on both sides;
2. ``name``: the same CCLE name after :func:`ccle.data.align.normalize_cell_line` (the rule the pipeline has
   always used: ``NCI-H460_LUNG`` = ``NCIH460_LUNG``);
3. ``stripped``: the same name once the CCLE tissue suffix is removed and only letters and digits are kept,
   upper-cased (``A549`` = ``A549_LUNG`` = ``a-549``), also against the model table's aliases.

A candidate is only accepted when nothing contradicts it: an identifier both sides have must be equal, and
so must the CCLE tissue suffixes both sides have (``TT_THYROID`` is never ``TT_OESOPHAGUS``). A line with two
or more candidates at the first step that finds any, a candidate already matched to another line, or two
lines claiming one candidate is *ambiguous*: it is left unmatched and listed, never resolved by a guess --
``TT`` against CCLE's ``TT_THYROID`` and ``T.T`` (``TT_OESOPHAGUS``) is such a case. The
:class:`JoinReport` says how many lines matched by which key, which did not match and which were ambiguous.
"""
from __future__ import annotations

import dataclasses
import os
import re
from collections import Counter
from dataclasses import dataclass, field

from ccle.data.align import normalize_cell_line
from ccle.data.response_table import normalize_id
from ccle.data.textio import csv_rows, open_text, read_header, reading
from ccle.errors import CCLEError

KINDS = ("depmap", "cosmic", "sanger", "name", "stripped")
ID_KINDS = ("depmap", "cosmic", "sanger")
_CCLE_NAME = re.compile(r"^([A-Za-z0-9]+)_([A-Za-z][A-Za-z_]*)$")
_NOT_ALNUM = re.compile(r"[^A-Z0-9]+")
# column names of the model table: Model.csv first, sample_info.csv second
_MODEL_FIELDS = {"depmap": ("ModelID", "DepMap_ID"), "ccle_name": ("CCLEName", "CCLE_Name"),
                 "cell_line_name": ("CellLineName", "cell_line_name"),
                 "stripped": ("StrippedCellLineName", "stripped_cell_line_name"),
                 "cosmic": ("COSMICID",), "sanger": ("SangerModelID", "Sanger_Model_ID"),
                 "lineage": ("OncotreeLineage", "lineage")}


def split_ccle_name(name):
    """``"A549_LUNG"`` -> ``("A549", "LUNG")``; a name that is not CCLE-style -> ``(name, "")``."""
    m = _CCLE_NAME.match(str(name).strip())
    return (m.group(1), m.group(2).upper()) if m else (str(name).strip(), "")


def stripped_key(name):
    """Letters and digits of a name without its CCLE tissue suffix, upper-cased: ``"a-549"`` -> ``"A549"``."""
    return _NOT_ALNUM.sub("", split_ccle_name(name)[0].upper())


@dataclass(frozen=True)
class LineIdentity:
    """What a file says about one cell line: its ``name`` there, the identifiers it gives (empty when not),
    its CCLE tissue ``suffix`` and other names (``aliases``)."""

    name: str
    depmap: str = ""
    cosmic: str = ""
    sanger: str = ""
    suffix: str = ""
    aliases: tuple = ()

    def keys(self, kind):
        """The matching keys of this line for one of :data:`KINDS`."""
        if kind in ID_KINDS:
            value = getattr(self, kind)
            return {value} if value else set()
        if kind == "name":
            key = normalize_cell_line(self.name)
            return {key} if key else set()
        return {k for k in (stripped_key(n) for n in (self.name, *self.aliases)) if k}

    def compatible(self, other):
        """False when an identifier or the tissue suffix, given on both sides, differs."""
        for kind in (*ID_KINDS, "suffix"):
            a, b = getattr(self, kind), getattr(other, kind)
            if a and b and a != b:
                return False
        return True


@dataclass
class ModelRecord:
    """One row of a DepMap model table (empty strings for what the file does not give)."""

    depmap: str
    ccle_name: str = ""
    cell_line_name: str = ""
    stripped: str = ""
    cosmic: str = ""
    sanger: str = ""
    lineage: str = ""


def read_models(path):
    """Rows of a DepMap ``Model.csv`` or ``sample_info.csv`` -> list of :class:`ModelRecord`.

    Only the model id column is required; the others are read when present (see the module text). A row
    without a model id is skipped; a model id given twice is a CCLEError naming both lines.
    """
    path = os.fspath(path)
    records, seen = [], {}
    with reading(path), open_text(path) as fh:
        header, sep = read_header(fh, path, "a DepMap model table")
        pos = {f: next((header.index(c) for c in cols if c in header), None) for f, cols in _MODEL_FIELDS.items()}
        if pos["depmap"] is None:
            raise CCLEError(f"{path}:1: a model table needs a 'ModelID' (Model.csv) or 'DepMap_ID' (sample_info.csv) "
                            f"column, found {header[:6]}")
        width = max(p for p in pos.values() if p is not None)
        for lineno, row in csv_rows(fh, sep, path):
            if len(row) <= width:
                raise CCLEError(f"{path}:{lineno}: {len(row)} fields, the header has {len(header)}")
            values = {f: (normalize_id(row[p]) if p is not None else "") for f, p in pos.items()}
            if not values["depmap"]:
                continue
            first = seen.setdefault(values["depmap"], lineno)
            if first != lineno:
                raise CCLEError(f"{path}:{lineno}: model {values['depmap']!r} given twice (also on line {first})")
            records.append(ModelRecord(**values))
    return records


def model_identities(names, models=()):
    """:class:`LineIdentity` of each name (an expression matrix's cell lines), with the identifiers and aliases
    of its row in ``models`` (matched by model id, CCLE name or -- for a model named by it -- stripped name)."""
    by_key = {}
    for m in models:
        for key in (m.depmap, normalize_cell_line(m.ccle_name) if m.ccle_name else "",
                    "" if m.ccle_name else normalize_cell_line(m.stripped)):
            if key:
                by_key.setdefault(key, []).append(m)
    out = []
    for name in names:
        hits = by_key.get(name) or by_key.get(normalize_cell_line(name)) or []
        suffix = split_ccle_name(name)[1]
        if len(hits) == 1:
            m = hits[0]
            suffix = suffix or split_ccle_name(m.ccle_name)[1]
            aliases = tuple(a for a in (m.ccle_name, m.cell_line_name, m.stripped) if a and a != name)
            out.append(LineIdentity(name, m.depmap, m.cosmic, m.sanger, suffix, aliases))
        else:
            out.append(LineIdentity(name, suffix=suffix))
    return out


def table_identities(table):
    """:class:`LineIdentity` of each cell line of a :class:`~ccle.data.drugs.DrugTable` (its ``cell_ids``)."""
    out = []
    for name in table.cell_lines:
        ids = table.cell_ids.get(name, {})
        out.append(LineIdentity(name, ids.get("depmap", ""), ids.get("cosmic", ""), ids.get("sanger", ""),
                                ids.get("suffix", "") or split_ccle_name(name)[1]))
    return out


@dataclass
class JoinReport:
    """How the lines of one side (``left``: a drug file) were matched to the other (``right``: expression).

    matches : dict left name -> right name; keys : dict left name -> the key that matched (:data:`KINDS`);
    unmatched : list of left names with no candidate; ambiguous : dict left name -> list of the candidates
    (or the reason) that made it ambiguous -- these lines are left out, never guessed;
    contradicted : dict left name -> the right names that share a key with it but contradict it (another
    identifier or CCLE tissue: ``HS895T_SKIN`` against DepMap's ``HS895T_FIBROBLAST``), for unmatched lines;
    unmatched_right : list of right names no left line matched.
    """

    left_source: str
    right_source: str
    matches: dict = field(default_factory=dict)
    keys: dict = field(default_factory=dict)
    unmatched: list = field(default_factory=list)
    ambiguous: dict = field(default_factory=dict)
    contradicted: dict = field(default_factory=dict)
    unmatched_right: list = field(default_factory=list)

    def counts(self):
        """``{kind: number of lines matched by it}`` for the kinds that matched any, in :data:`KINDS` order."""
        c = Counter(self.keys.values())
        return {k: c[k] for k in KINDS if c[k]}

    def by_name_only(self):
        """True when every match is an exact (normalised) CCLE name and nothing was ambiguous: the join the
        pipeline always made."""
        return not self.ambiguous and set(self.keys.values()) <= {"name"}

    def summary(self):
        """One line: matched (by key), without a match, ambiguous (named, up to 5)."""
        n = len(self.matches) + len(self.unmatched) + len(self.ambiguous)
        by = ", ".join(f"{k} {v}" for k, v in self.counts().items())
        text = f"cell lines: {len(self.matches)} of {n} matched ({by or 'none'}), {len(self.unmatched)} without a match"
        if self.contradicted:
            text += f" ({len(self.contradicted)} of them share a name with a line of another tissue or id)"
        if self.ambiguous:
            shown = "; ".join(f"{k} ({', '.join(v)})" for k, v in list(self.ambiguous.items())[:5])
            more = ", ..." if len(self.ambiguous) > 5 else ""
            text += f", {len(self.ambiguous)} ambiguous, left out: {shown}{more}"
        return text


def join_lines(left, right, left_source="<left>", right_source="<right>"):
    """Match :class:`LineIdentity` lists ``left`` to ``right`` one-to-one (see the module text) -> JoinReport."""
    index = {kind: {} for kind in KINDS}
    for r, line in enumerate(right):
        for kind in KINDS:
            for key in line.keys(kind):
                index[kind].setdefault(key, set()).add(r)
    matched, taken, ambiguous, contradicted = {}, {}, {}, {}
    for kind in KINDS:
        claims = {}
        for i, line in enumerate(left):
            if i in matched or i in ambiguous:
                continue
            found = set()
            for key in line.keys(kind):
                found |= index[kind].get(key, set())
            clash = sorted(r for r in found if not line.compatible(right[r]))
            if clash:
                contradicted.setdefault(i, []).extend(right[r].name for r in clash)
            found = sorted(r for r in found if line.compatible(right[r]))
            if len(found) > 1:
                ambiguous[i] = [right[r].name for r in found]
            elif found and found[0] in taken:
                ambiguous[i] = [f"{right[found[0]].name}, already matched to {left[taken[found[0]]].name}"]
            elif found:
                claims.setdefault(found[0], []).append(i)
        for r, claimants in claims.items():
            if len(claimants) == 1:
                matched[claimants[0]] = (r, kind)
                taken[r] = claimants[0]
            else:
                for i in claimants:
                    others = ", ".join(left[j].name for j in claimants if j != i)
                    ambiguous[i] = [f"{right[r].name}, also claimed by {others}"]
    report = JoinReport(left_source, right_source)
    for i, line in enumerate(left):
        if i in matched:
            r, kind = matched[i]
            report.matches[line.name] = right[r].name
            report.keys[line.name] = kind
        elif i in ambiguous:
            report.ambiguous[line.name] = ambiguous[i]
        else:
            report.unmatched.append(line.name)
            if i in contradicted:
                report.contradicted[line.name] = list(dict.fromkeys(contradicted[i]))
    report.unmatched_right = [line.name for r, line in enumerate(right) if r not in taken]
    return report


def link_cell_lines(table, cell_lines, models=(), source="<expression>"):
    """``table`` (a DrugTable) with its cell lines renamed to the names of ``cell_lines`` (the expression's)
    they match, its ambiguous lines left out, and its ``join`` set to the :class:`JoinReport`.

    ``models``: :class:`ModelRecord` s (a DepMap model table) giving the expression lines their identifiers
    and aliases. Lines without a match keep their name (the aligner then reports them as lines without
    expression). The responses, tissues and identifiers follow the renaming.
    """
    report = join_lines(table_identities(table), model_identities(cell_lines, models), table.source, source)
    rename = dict(report.matches)
    final = {}
    for name in table.cell_lines:
        if name in report.ambiguous:
            continue
        target = rename.get(name, name)
        other = final.setdefault(normalize_cell_line(target), name)
        if other != name:
            raise CCLEError(f"{table.source}: cell lines {other!r} and {name!r} are both {target!r} in {source}")
    keep = ~table.frame["cell_line"].isin(list(report.ambiguous))
    frame = table.frame[keep].copy()
    frame["cell_line"] = [rename.get(c, c) for c in frame["cell_line"]]
    frame = frame.reset_index(drop=True)
    missing = table.missing[~table.missing["cell_line"].isin(list(report.ambiguous))].copy()
    missing["cell_line"] = [rename.get(c, c) for c in missing["cell_line"]]
    notes = list(table.notes)
    if report.ambiguous:
        notes.append(f"{len(report.ambiguous)} cell lines left out as ambiguous: {', '.join(report.ambiguous)}")
    if frame.empty:
        raise CCLEError(f"{table.source}: no response left after joining the cell lines to {source} "
                        f"({report.summary()})")
    return dataclasses.replace(
        table, frame=frame, drugs=sorted(set(frame["drug"])), missing=missing.reset_index(drop=True),
        tissues={rename.get(c, c): t for c, t in table.tissues.items() if c not in report.ambiguous},
        cell_ids={rename.get(c, c): v for c, v in table.cell_ids.items() if c not in report.ambiguous},
        notes=notes, join=report)
