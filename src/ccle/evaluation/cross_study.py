"""Cross-study evaluation: the same compounds in two screens, matched by name, and how well they agree.

Haibe-Kains et al. (Nature 504:389, 2013) asked whether CCLE and GDSC agree: the same drugs on the same cell
lines gave responses whose rank correlations were often weak. Two screens report different quantities
(CCLE's ``ActArea``, high = sensitive; GDSC's ``LN_IC50``, low = sensitive) on different scales, so only
measures that survive a monotone change of scale and a change of direction compare them:

- Spearman's rho and Pearson's r per drug, each *sign-aligned*: the first study's values are multiplied by
  ``sign = direction_train * direction_test`` (+1 when both call the same end sensitive, -1 otherwise), so a
  positive aligned correlation always means "the studies agree on which lines are sensitive".
- For a model trained on one study: its predictions (in the training study's units) against the other
  study's measurements of the held-out lines (:func:`consistency`).
- For the measurements themselves: the two studies' responses on the lines both measured (the 2013 question).

Compounds are matched by :func:`match_drugs`: the published name (``DrugTable.drug_names``, else the label)
compared case-, space- and punctuation-insensitively (:func:`drug_key`: ``PD-0325901`` = ``PD0325901``), then
through the small synonym table :data:`SYNONYMS` (code names and generic names of the CCLE 24 compounds as
GDSC and CTRP publish them), each entry with its source.
"""
import re
from dataclasses import dataclass

import numpy as np
from scipy import stats

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")

# (name, synonym, source): the two names are one compound
SYNONYMS = (
    ("17-AAG", "Tanespimycin", "PubChem synonyms"),
    ("AZD6244", "Selumetinib", "PubChem synonyms; GDSC screened compounds (SYNONYMS AZD6244)"),
    ("AZD0530", "Saracatinib", "PubChem synonyms; GDSC screened compounds"),
    ("ZD-6474", "Vandetanib", "PubChem synonyms (ZD6474)"),
    ("PF2341066", "Crizotinib", "PubChem synonyms (PF-02341066)"),
    ("TKI258", "Dovitinib", "PubChem synonyms (TKI-258, CHIR-258)"),
    ("PD-0332991", "Palbociclib", "PubChem synonyms (PD0332991)"),
    ("RAF265", "CHIR-265", "PubChem synonyms"),
    ("TAE684", "NVP-TAE684", "PubChem synonyms; GDSC drug name NVP-TAE684"),
    ("AEW541", "NVP-AEW541", "PubChem synonyms; GDSC drug name NVP-AEW541"),
    ("Nutlin-3", "Nutlin-3a (-)", "GDSC screens the active enantiomer of the CCLE racemate; matched as in "
                                  "Haibe-Kains et al. 2013"),
)


def drug_key(name):
    """A compound name's matching key: case folded, every character other than a letter or digit removed
    (``"PD-0325901"``, ``"pd 0325901"`` -> ``"pd0325901"``)."""
    return _NOT_ALNUM.sub("", str(name).casefold())


def _synonym_index(synonyms=SYNONYMS):
    """``{drug_key: (group key, entry)}``: every name of an entry points at the entry's first name."""
    index = {}
    for entry in synonyms:
        a, b = drug_key(entry[0]), drug_key(entry[1])
        index[a] = (a, entry)
        index[b] = (a, entry)
    return index


@dataclass(frozen=True)
class DrugMatch:
    """One compound of the training study matched to one of the test study: the two labels, their
    published names and ``how`` ("same name", "same name ignoring case, spaces and punctuation", or
    "synonym: A = B (source)")."""

    train: str
    test: str
    train_name: str
    test_name: str
    how: str


def match_drugs(train_drugs, test_drugs, train_names=None, test_names=None, synonyms=SYNONYMS):
    """Match the compounds of two studies -> ``(matches, unmatched_train)``.

    ``train_drugs`` / ``test_drugs``: drug labels; ``*_names``: label -> published name (``DrugTable.drug_names``;
    a label without one is its own name). A training compound matches every test compound with the same
    :func:`drug_key` of its name or label, else those linked by a :data:`SYNONYMS` entry (a GDSC name screened
    under two ids gives two matches, one per test drug). ``matches``: list of :class:`DrugMatch` in training
    order, then test order; ``unmatched_train``: the training labels without a match."""
    train_names, test_names = dict(train_names or {}), dict(test_names or {})
    index = _synonym_index(synonyms)
    by_key, by_group = {}, {}
    for label in test_drugs:
        name = test_names.get(label, label)
        for key in {drug_key(name), drug_key(label)}:
            by_key.setdefault(key, []).append(label)
            if key in index:
                by_group.setdefault(index[key][0], []).append((label, index[key][1]))
    matches, unmatched = [], []
    for label in train_drugs:
        name = train_names.get(label, label)
        found = {}
        for key in (drug_key(name), drug_key(label)):
            for t in by_key.get(key, []):
                tname = test_names.get(t, t)
                exact = name == tname or label == t
                found.setdefault(t, "same name" if exact else "same name ignoring case, spaces and punctuation")
        if not found:
            for key in (drug_key(name), drug_key(label)):
                if key in index:
                    for t, entry in by_group.get(index[key][0], []):
                        found.setdefault(t, f"synonym: {entry[0]} = {entry[1]} ({entry[2]})")
        if not found:
            unmatched.append(label)
        for t, how in found.items():
            matches.append(DrugMatch(label, t, name, test_names.get(t, t), how))
    return matches, unmatched


def direction_sign(train_direction, test_direction):
    """+1 when both studies call the same end of their response sensitive, -1 when they disagree."""
    for d in (train_direction, test_direction):
        if d not in (1, -1):
            raise ValueError(f"a response direction is +1 or -1, got {d!r}")
    return int(train_direction) * int(test_direction)


def aligned_correlations(a, b, sign):
    """Spearman's rho and Pearson's r of ``sign * a`` against ``b`` -> dict ``n``, ``spearman``, ``pearson``
    (NaN with fewer than 3 pairs or a constant side). ``a``, ``b``: (n,) arrays, pairs in the same order."""
    a = np.asarray(a, dtype=np.float64) * float(sign)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"{a.shape} values against {b.shape}")
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    out = {"n": int(a.size), "spearman": float("nan"), "pearson": float("nan")}
    if a.size >= 3 and np.ptp(a) > 0 and np.ptp(b) > 0:
        out["spearman"] = float(stats.spearmanr(a, b)[0])
        out["pearson"] = float(np.corrcoef(a, b)[0, 1])
    return out


def consistency(predicted, measured, sign):
    """How a model trained on one study ranks another study's measurements of held-out lines:
    :func:`aligned_correlations` of its ``predicted`` responses (training units) against ``measured``."""
    return aligned_correlations(predicted, measured, sign)


def shared_lines(train_lines, train_y, test_lines, test_y, key):
    """The responses of the lines both studies measured -> ``(keys, train values, test values)`` in the
    training study's line order; ``key`` maps a line name to its cross-study identity."""
    test_at = {key(c): float(v) for c, v in zip(test_lines, test_y)}
    keys, a, b = [], [], []
    for c, v in zip(train_lines, train_y):
        k = key(c)
        if k in test_at:
            keys.append(k)
            a.append(float(v))
            b.append(test_at[k])
    return keys, np.asarray(a), np.asarray(b)
