"""Reader of the CCLE pharmacological profiling file (Barretina et al. 2012, 2015-02-24 release).

The original ``CCLE_NP24.2009_Drug_data_2015.02.24.csv`` is comma-separated with the 13 columns of
:data:`ORIGINAL_COLUMNS`; column subsets (e.g. a tab-separated copy with 7 of them) are read the same way.
Only the cell line, compound and the chosen response column are required.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ccle.data.gct import open_text
from ccle.errors import CCLEError

ORIGINAL_COLUMNS = ("CCLE Cell Line Name", "Primary Cell Line Name", "Compound", "Target", "Doses (uM)",
                    "Activity Data (median)", "Activity SD", "Num Data", "FitType", "EC50 (uM)", "IC50 (uM)",
                    "Amax", "ActArea")
CELL_COLUMN = "CCLE Cell Line Name"
DRUG_COLUMN = "Compound"
RESPONSES = ("ActArea", "IC50 (uM)", "EC50 (uM)", "Amax")


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
    """

    frame: pd.DataFrame
    drugs: list
    response: str = "ActArea"
    source: str = "<memory>"
    missing: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["cell_line", "drug"]))

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

    # convenience: behave like the DataFrame for simple use (table["drug"], len(table), table.loc, ...)
    @property
    def df(self):
        return self.frame

    data = df

    def __getitem__(self, key):
        return self.frame[key]

    def __len__(self):
        return len(self.frame)

    def __repr__(self):
        return (f"DrugTable({len(self.frame)} responses ({self.response}), {len(self.drugs)} drugs, "
                f"{len(self.cell_lines)} cell lines, source={self.source!r})")


def _sniff_sep(path):
    with open_text(path) as fh:
        first = fh.readline()
    if not first.strip():
        raise CCLEError(f"{path}:1: empty file, expected a header line")
    return "\t" if first.count("\t") > first.count(",") else ","


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


def read_drug_table(path, response="ActArea"):
    """Read a CCLE drug-response file into a :class:`DrugTable` holding one ``response`` column.

    Comma- or tab-separated (sniffed from the header), gzip allowed. Empty / NA responses are dropped into
    ``.missing``. Raises :class:`CCLEError` naming file and line for a missing required column, a non-numeric
    response, or a (cell line, drug) pair given twice.
    """
    path = os.fspath(path)
    sep = _sniff_sep(path)
    try:
        with open_text(path) as fh:
            raw = pd.read_csv(fh, sep=sep, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise CCLEError(f"{path}: cannot parse the drug table: {str(exc).splitlines()[0]}") from None
    raw.columns = [str(c).strip() for c in raw.columns]
    for col in (CELL_COLUMN, DRUG_COLUMN):
        if col not in raw.columns:
            raise CCLEError(f"{path}:1: required column {col!r} not in the header {list(raw.columns)[:8]}")
    resp_col = resolve_response(list(raw.columns), response, path)
    cells = raw[CELL_COLUMN].str.strip()
    drugs = raw[DRUG_COLUMN].str.strip()
    text = raw[resp_col].str.strip()
    missing = text.str.lower().isin(["", "na", "nan", "n/a", "null"])
    values = pd.to_numeric(text.where(~missing), errors="coerce")
    bad = np.flatnonzero(values.isna().to_numpy() & ~missing.to_numpy())
    if bad.size:
        raise CCLEError(f"{path}:{bad[0] + 2}: non-numeric {resp_col} value {text.iloc[bad[0]]!r}")
    if not np.isfinite(values[~missing]).all():
        row = np.flatnonzero(~np.isfinite(values.to_numpy()) & ~missing.to_numpy())[0]
        raise CCLEError(f"{path}:{row + 2}: non-finite {resp_col} value {text.iloc[row]!r}")
    empty_key = np.flatnonzero((cells == "").to_numpy() | (drugs == "").to_numpy())
    if empty_key.size:
        raise CCLEError(f"{path}:{empty_key[0] + 2}: empty cell line or compound name")
    key = cells + "\x00" + drugs
    dup = key.duplicated(keep=False).to_numpy()
    if dup.any():
        rows = np.flatnonzero(dup)
        first = rows[0]
        other = next(r for r in rows[1:] if key.iloc[r] == key.iloc[first])
        raise CCLEError(f"{path}:{other + 2}: duplicated response for cell line {cells.iloc[first]!r} and drug "
                        f"{drugs.iloc[first]!r} (also on line {first + 2})")
    ok = ~missing.to_numpy()
    frame = pd.DataFrame({"cell_line": cells[ok].to_numpy(dtype=object), "drug": drugs[ok].to_numpy(dtype=object),
                          "response": values[ok].to_numpy(dtype=np.float64)})
    if frame.empty:
        raise CCLEError(f"{path}: no {resp_col} values in the file")
    dropped = pd.DataFrame({"cell_line": cells[~ok].to_numpy(dtype=object),
                            "drug": drugs[~ok].to_numpy(dtype=object)})
    return DrugTable(frame, sorted(set(frame["drug"])), resp_col, path, dropped)
