"""The data of a benchmark run: one :class:`DrugData` per drug, built from the inputs by the label-free
transform, with its tissues and the run's held-out cell-line sets, and the fingerprints that key a run's results.
"""
import hashlib
import json
from dataclasses import dataclass, field, replace

import numpy as np

from ccle.data.align import drug_dataset, normalize_cell_line
from ccle.data.depmap import read_lineages
from ccle.errors import CCLEError
from ccle.evaluation.splits import held_out_sets, tissues_of
from ccle.methods.preprocess import ExpressionTransform


@dataclass
class DrugData:
    """One drug's rows: ``X`` (n, genes) expression after the label-free transform, ``y`` (n,) responses,
    names of rows and genes."""
    drug: str
    X: np.ndarray
    y: np.ndarray
    cell_lines: list = field(default_factory=list)
    genes: list = field(default_factory=list)
    # one tissue per row (ccle.evaluation.splits.tissues_of), for the "tissue" method
    tissues: list = field(default_factory=list)
    # per split, the run's held-out cell-line keys (ccle.evaluation.splits.held_out_sets); empty under "pairs"
    held_out: list = field(default_factory=list)


def drug_digest(ds):
    """SHA-256 (hex) of one drug's name, X (float32), y (float64), cell lines and genes."""
    h = hashlib.sha256()
    h.update(ds.drug.encode())
    h.update(np.ascontiguousarray(ds.X, dtype=np.float32).tobytes())
    h.update(np.ascontiguousarray(ds.y, dtype=np.float64).tobytes())
    h.update("\x00".join(map(str, ds.cell_lines)).encode())
    h.update("\x00".join(map(str, ds.genes)).encode())
    return h.hexdigest()


def data_fingerprint(datasets, digests=None):
    """SHA-256 (first 16 hex digits) over the drugs' :func:`drug_digest` s in drug order. ``digests``: ``{drug:
    digest}`` already computed (a run over shared rows hashes each drug while it builds it, never all at once)."""
    h = hashlib.sha256()
    for ds in datasets:
        h.update((digests[ds.drug] if digests is not None else drug_digest(ds)).encode())
    return h.hexdigest()[:16]


def split_fingerprint(held_out):
    """SHA-256 (first 16 hex digits) of a run's held-out sets (list of sets of cell-line keys); "" for None."""
    if not held_out:
        return ""
    blob = json.dumps([sorted(h) for h in held_out]).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def drug_datasets(expression, table, drugs, log2):
    """One in-memory :class:`DrugData` per drug, after the label-free :class:`ExpressionTransform` of the drug's
    rows -> ``(datasets, description of the transforms)``. A run over many drugs uses :func:`shared_drug_rows`
    (:func:`ccle.benchmark.shared_data.shared_drug_rows`: the same values, one shared matrix)."""
    datasets, transforms = [], set()
    for drug in drugs:
        ds = drug_dataset(expression, table, drug)
        transform = ExpressionTransform.fit(ds.X, ds.genes, log2)
        transforms.add(transform.describe())
        datasets.append(DrugData(drug=ds.drug, X=transform.apply(ds.X, ds.genes), y=ds.y,
                                 cell_lines=list(ds.cell_lines), genes=list(transform.genes)))
    return datasets, transforms_text(transforms)


def transforms_text(transforms):
    """One drug's transform as it is, several drugs' as one range: "log2(x+1), 124-642 constant genes dropped per
    drug" (a list of near-identical phrases would read as three separate steps)."""
    if len(transforms) <= 1:
        return next(iter(transforms), "")
    counts = sorted(0 if "no constant gene" in t else int(t.split(" constant")[0].split()[-1]) for t in transforms)
    logged = {t.startswith("log2") for t in transforms}
    log2 = "log2(x+1), " if logged == {True} else "log2(x+1) for some drugs, " if True in logged else ""
    return f"{log2}{counts[0]}-{counts[-1]} constant genes dropped per drug"


def response_problem(y, drug, response):
    """Why a drug's responses ``y`` cannot be fitted and scored (fewer than 2, all equal), or None."""
    if y.size < 2:
        return f"{y.size} {response} value(s) on lines with expression; at least 2 are needed"
    if np.ptp(y) == 0:
        return f"all {y.size} {response} values are {y[0]:g} (a constant response cannot be fitted or scored)"
    return None


def lineages_of(sample_info, table_tissues=None):
    """``{cell line: tissue}`` for the tissue splits and the tissue baseline -> ``(lineages or None,
    description)``: the lineage column of a sample-info file when given, else the drug file's own tissue per
    line (``table_tissues``: GDSC ``TCGA_DESC``, CTRP primary site), else None (tissues are then the CCLE names'
    suffixes)."""
    if sample_info is not None:
        try:
            return read_lineages(sample_info), "tissue = sample-info lineage"
        except CCLEError:   # a sample info without a lineage column still maps ids to names
            if table_tissues:
                return dict(table_tissues), "tissue = the drug file's tissue per line (no lineage column in --sample-info)"
            return None, "tissue = CCLE name suffix (no lineage column in --sample-info)"
    if table_tissues:
        return dict(table_tissues), "tissue = the drug file's tissue per line"
    return None, "tissue = CCLE name suffix"


def run_cell_lines(datasets):
    """Every cell line of the run, once (by normalized name), in first-seen order."""
    seen, cells = set(), []
    for ds in datasets:
        for c in ds.cell_lines:
            key = normalize_cell_line(c)
            if key not in seen:
                seen.add(key)
                cells.append(c)
    return cells


def with_splits(datasets, scheme, n_splits, seed, test_fraction, lineages):
    """The datasets with their rows' tissues and, unless ``scheme`` is "pairs", the run's held-out cell-line
    sets (one per split, shared by all drugs: :func:`ccle.evaluation.splits.held_out_sets` over every cell line
    of the run) -> ``(datasets, held-out sets or None)``; the given datasets are not changed. Works on
    :class:`DrugData` and on the handles of :mod:`ccle.benchmark.shared_data` that have ``with_data``."""
    held = None
    if scheme != "pairs":
        held = held_out_sets(scheme, run_cell_lines(datasets), n_splits, seed, test_fraction, lineages=lineages)
    out = []
    for ds in datasets:
        changes = {"tissues": tissues_of(ds.cell_lines, lineages), "held_out": list(held) if held else []}
        out.append(ds.with_data(**changes) if hasattr(ds, "with_data") else replace(ds, **changes))
    return out, held
