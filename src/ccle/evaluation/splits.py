"""Every split of the pipeline: which rows train and which are tested, for every scheme and every inner fold.

- :func:`split_indices` is the one function that owns the split seeds (:func:`split_seed`): under the per-drug
  Monte Carlo scheme ("pairs", the paper's) every method asks it for the rows of (drug, split), so every
  method sees identical training and test rows.
- :func:`inner_split` (a held-out fraction) and :func:`kfold_splits` (k folds): the inner splits of a training
  set, the only ones every model and the width search use.
- :func:`held_out_sets` and :func:`drug_rows`: the schemes that hold out cell lines for every drug at once.

The per-drug Monte Carlo scheme ("pairs", :func:`split_indices`) draws each drug's test rows on
its own, so a cell line tested for one drug may be a training line for another; a model that learns across
drugs would then see test cell lines. The two schemes here decide, per split, one set of held-out cell lines
shared by every drug:

- ``"cell-lines"`` (:func:`cell_line_splits`): a random ``test_fraction`` of the cell lines;
- ``"tissues"`` (:func:`tissue_splits`): whole tissues, about ``test_fraction`` of the lines (what transfers to
  a cancer type the model has not seen; drevalpy's "LTO").

Each split's seed comes from :func:`split_seed` (SHA-256 of run seed, scheme key and split
number), so the one function that owns the split seeds also decides these rows; the held-out sets do not
depend on the order in which the cell lines are given. :func:`drug_rows` turns a held-out set into one drug's
``(train_idx, test_idx)``.
"""
import hashlib

import numpy as np

from ccle.data.align import normalize_cell_line
from ccle.errors import CCLEError

MIN_TRAIN_ROWS = 10
MIN_TEST_ROWS = 3


def split_seed(seed, drug, split):
    """The integer seed of split ``split`` of ``drug`` under the run seed ``seed``.

    Derived from a SHA-256 of ``"{seed}/{drug}/{split}"``, so it is stable across processes and Python versions
    (unlike ``hash()``), independent of how many splits or drugs a run asks for, and different per drug.
    """
    digest = hashlib.sha256(f"{int(seed)}/{drug}/{int(split)}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


def split_indices(n_rows, drug, split, seed=0, test_fraction=0.3):
    """Rows of the Monte Carlo split ``split`` of one drug: ``(train_idx, test_idx)``, both sorted int arrays.

    A uniformly random permutation of ``range(n_rows)`` (seeded by :func:`split_seed`); the first
    ``round(test_fraction * n_rows)`` rows are the test set, the rest the training set (70/30 by default, as in
    the paper). Raises :class:`CCLEError` when the drug has too few cell lines for a useful split.
    """
    n_rows = int(n_rows)
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    n_test = int(round(test_fraction * n_rows))
    if n_test < MIN_TEST_ROWS or n_rows - n_test < MIN_TRAIN_ROWS:
        raise CCLEError(
            f"drug {drug!r} has {n_rows} cell lines: too few for a {1 - test_fraction:.0%}/{test_fraction:.0%} "
            f"split (needs at least {MIN_TRAIN_ROWS} training and {MIN_TEST_ROWS} test rows)")
    perm = np.random.default_rng(split_seed(seed, drug, split)).permutation(n_rows)
    return np.sort(perm[n_test:]), np.sort(perm[:n_test])


def monte_carlo_splits(n_rows, drug, n_splits=5, seed=0, test_fraction=0.3):
    """List of ``n_splits`` pairs ``(train_idx, test_idx)`` from :func:`split_indices`."""
    return [split_indices(n_rows, drug, s, seed, test_fraction) for s in range(int(n_splits))]


def inner_split(n_rows, fraction, seed):
    """Inner (train, validation) row indices of the training rows: a seeded random ``fraction`` held out."""
    n_val = max(2, int(round(fraction * n_rows)))
    if n_rows - n_val < 2:
        raise ValueError(f"{n_rows} training rows are too few for an inner validation split")
    perm = np.random.default_rng(seed).permutation(n_rows)
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def kfold_splits(n_rows, k, seed):
    """The seeded ``k``-fold cross-validation of ``n_rows`` training rows: a list of ``k`` pairs
    ``(train_idx, val_idx)``; row ``i`` is in fold ``permutation(n_rows)[i] % k`` (folds differ in size by at
    most one)."""
    folds = np.random.default_rng(seed).permutation(int(n_rows)) % int(k)
    return [(np.flatnonzero(folds != f), np.flatnonzero(folds == f)) for f in range(int(k))]


PROTOCOLS = ("strict", "paper")


def preprocessing_rows(protocol, n_rows, train_idx):
    """Row indices on which the protocol-dependent steps are fitted: the one place that implements the
    protocol switch. Those steps are :data:`ccle.evaluation.audit.LEAKING_STEPS` ["paper"]: scaling, RFE, PM's width
    search and the IQR thresholds of the sensitivity calls.

    ``"strict"``: the training rows of the split only. ``"paper"``: all ``n_rows`` rows of the drug, before the
    splits (the paper's text allows it; test rows then leak into those steps).
    """
    if protocol == "strict":
        return np.asarray(train_idx)
    if protocol == "paper":
        return np.arange(int(n_rows))
    raise ValueError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")


SCHEMES = ("pairs", "cell-lines", "tissues")
# the "drug" part of split_seed for the shared schemes: angle brackets never occur in a drug name
_SEED_KEYS = {"cell-lines": "<cell-lines>", "tissues": "<tissues>"}
UNKNOWN_TISSUE = "UNKNOWN"


def _check_fraction(test_fraction):
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")


def _sorted_keys(cell_lines):
    """Normalized, de-duplicated, sorted cell-line keys: the canonical order the permutations act on."""
    keys = sorted({normalize_cell_line(c) for c in cell_lines})
    if not keys:
        raise CCLEError("no cell lines to split")
    return keys


def cell_line_splits(cell_lines, n_splits=5, seed=0, test_fraction=0.3):
    """Leave-cell-line-out: per split, the frozenset of held-out cell-line keys (``normalize_cell_line``).

    Split ``s`` permutes the sorted keys with the generator seeded by ``split_seed(seed, "<cell-lines>", s)``
    and holds out the first ``round(test_fraction * n)``. The same set serves every drug.
    """
    _check_fraction(test_fraction)
    keys = np.array(_sorted_keys(cell_lines), dtype=object)
    n_test = int(round(test_fraction * keys.size))
    if n_test < 1 or n_test >= keys.size:
        raise CCLEError(f"{keys.size} cell lines are too few for a {test_fraction:.0%} leave-cell-line-out split")
    out = []
    for s in range(int(n_splits)):
        perm = np.random.default_rng(split_seed(seed, _SEED_KEYS["cell-lines"], s)).permutation(keys.size)
        out.append(frozenset(keys[perm[:n_test]].tolist()))
    return out


def tissue_of(ccle_name, lineages=None):
    """Tissue of a cell line: ``lineages[name]`` when a mapping (CCLE name -> lineage, e.g. from the DepMap
    sample info) is given and knows the line (matched on ``normalize_cell_line``), else the CCLE name's suffix
    after the first underscore (``"A549_LUNG" -> "LUNG"``), upper-cased; ``"UNKNOWN"`` without one."""
    if lineages:
        index = lineages if getattr(lineages, "_normalized", False) else _normalized(lineages)
        hit = index.get(normalize_cell_line(ccle_name))
        if hit:
            return str(hit).upper()
    key = normalize_cell_line(ccle_name)
    _, sep, suffix = key.partition("_")
    return suffix if sep and suffix else UNKNOWN_TISSUE


class _NormalizedMap(dict):
    _normalized = True


def _normalized(mapping):
    return _NormalizedMap({normalize_cell_line(k): v for k, v in mapping.items() if v})


def tissues_of(cell_lines, lineages=None):
    """``[tissue_of(c, lineages) for c in cell_lines]`` (the mapping is normalized once)."""
    index = _normalized(lineages) if lineages else None
    return [tissue_of(c, index) for c in cell_lines]


def tissue_splits(cell_lines, tissues, n_splits=5, seed=0, test_fraction=0.3):
    """Leave-tissue-out: per split, the frozenset of held-out cell-line keys, made of whole tissues.

    ``tissues`` (one per cell line, e.g. from :func:`tissues_of`). Split ``s`` permutes the sorted tissue names
    with the generator seeded by ``split_seed(seed, "<tissues>", s)`` and walks them in that order, holding out
    a tissue whenever that brings the number of held-out lines closer to ``round(test_fraction * n)``; so the
    held-out share is about ``test_fraction`` (whole tissues cannot hit it exactly) and at least one tissue
    stays for training. Needs at least two tissues.
    """
    _check_fraction(test_fraction)
    cell_lines, tissues = list(cell_lines), list(tissues)
    if len(cell_lines) != len(tissues):
        raise ValueError(f"{len(cell_lines)} cell lines but {len(tissues)} tissues")
    members = {}
    for c, t in zip(cell_lines, tissues):
        members.setdefault(str(t), set()).add(normalize_cell_line(c))
    names = sorted(members)
    if len(names) < 2:
        raise CCLEError(f"leave-tissue-out needs at least two tissues, got {names}")
    n = len({k for m in members.values() for k in m})
    target = test_fraction * n
    out = []
    for s in range(int(n_splits)):
        perm = np.random.default_rng(split_seed(seed, _SEED_KEYS["tissues"], s)).permutation(len(names))
        held, count = [], 0
        for i in perm:
            size = len(members[names[i]])
            if abs(count + size - target) < abs(count - target) and len(held) < len(names) - 1:
                held.append(names[i])
                count += size
        if not held:   # every tissue is larger than twice the target: hold out the first, smallest overshoot
            held = [min(names, key=lambda t: len(members[t]))]
        out.append(frozenset(k for t in held for k in members[t]))
    return out


def held_out_sets(scheme, cell_lines, n_splits=5, seed=0, test_fraction=0.3, lineages=None):
    """The held-out cell-line sets of a run: ``None`` for ``"pairs"`` (per-drug rows from
    ``ccle.evaluation.splits.split_indices``), else the list from :func:`cell_line_splits` / :func:`tissue_splits`
    over ``cell_lines`` (all cell lines of the run: those with expression and at least one response)."""
    if scheme == "pairs":
        return None
    if scheme == "cell-lines":
        return cell_line_splits(cell_lines, n_splits, seed, test_fraction)
    if scheme == "tissues":
        return tissue_splits(cell_lines, tissues_of(cell_lines, lineages), n_splits, seed, test_fraction)
    raise ValueError(f"unknown split scheme {scheme!r}; choose one of {', '.join(SCHEMES)}")


def drug_rows(drug_cell_lines, held_out, drug="?"):
    """One drug's ``(train_idx, test_idx)`` (sorted int arrays into ``drug_cell_lines``, the cell lines of the
    drug's rows in order): test rows are the lines in ``held_out``. Too few rows on either side -> CCLEError."""
    test = np.array([normalize_cell_line(c) in held_out for c in drug_cell_lines], dtype=bool)
    n_test, n_train = int(test.sum()), int((~test).sum())
    if n_test < MIN_TEST_ROWS or n_train < MIN_TRAIN_ROWS:
        raise CCLEError(f"drug {drug!r}: {n_train} training and {n_test} test cell lines in this split (needs at "
                        f"least {MIN_TRAIN_ROWS} and {MIN_TEST_ROWS})")
    return np.flatnonzero(~test), np.flatnonzero(test)


def split_rows(scheme, drug, n_rows, split, *, seed=0, test_fraction=0.3, cell_lines=(), held_out=()):
    """The training and test rows of one drug in one split: the one place that turns a scheme into rows.

    "pairs": the drug's own Monte Carlo split (:func:`split_indices`); "cell-lines" / "tissues": the run's shared
    held-out set ``held_out[split]`` (:func:`held_out_sets`) applied to the drug's ``cell_lines``
    (:func:`drug_rows`), so every method of a run uses the same rows.

    Parameters
    ----------
    scheme : {"pairs", "cell-lines", "tissues"}
        The split scheme.
    drug : str
        The drug (it seeds its "pairs" splits).
    n_rows : int
        The drug's number of cell lines.
    split : int
        The split number.
    seed : int
        The run seed.
    test_fraction : float
        Share of the rows tested under "pairs".
    cell_lines : sequence of str
        The drug's cell lines (the shared schemes).
    held_out : sequence of set
        The run's held-out cell-line keys per split (the shared schemes).

    Returns
    -------
    train_idx, test_idx : ndarray of int
        Sorted row indices.

    Raises
    ------
    ccle.errors.CCLEError
        Too few rows on either side.

    Examples
    --------
    >>> from ccle.evaluation.splits import split_rows
    >>> train, test = split_rows("pairs", "Nutlin-3", 100, 0)
    >>> len(train), len(test)
    (70, 30)
    """
    if scheme == "pairs":
        return split_indices(n_rows, drug, split, seed, test_fraction)
    if split >= len(held_out):
        raise ValueError(f"drug {drug!r}: no held-out set for split {split} under --split {scheme}")
    return drug_rows(cell_lines, held_out[split], drug=drug)
