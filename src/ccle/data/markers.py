"""The cited table of known expression markers of the 24 CCLE drugs (``markers.csv`` beside this module).

Columns: drug (CCLE compound name), gene (HUGO symbol), direction ("sensitive": higher expression goes with
sensitivity; "resistant": with resistance; "unknown": a drug target whose expression direction is not
established), source (the citation). :func:`marker_ranks` places each marker in a drug's gene ranking.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ccle.errors import CCLEError

MARKERS_FILE = Path(__file__).with_name("markers.csv")
MARKER_COLUMNS = ("drug", "gene", "direction", "source")
DIRECTIONS = ("sensitive", "resistant", "unknown")


def load_markers(path=MARKERS_FILE):
    """DataFrame of the marker table (:data:`MARKER_COLUMNS`); a malformed file -> CCLEError naming it."""
    path = Path(path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise CCLEError(f"{path}: cannot read the marker table ({exc})") from None
    if tuple(df.columns) != MARKER_COLUMNS:
        raise CCLEError(f"{path}: line 1: expected columns {', '.join(MARKER_COLUMNS)}")
    for i, row in enumerate(df.itertuples(index=False), start=2):
        if not row.drug or not row.gene or not row.source:
            raise CCLEError(f"{path}: line {i}: drug, gene and source must not be empty")
        if row.direction not in DIRECTIONS:
            raise CCLEError(f"{path}: line {i}: direction {row.direction!r} is not one of {', '.join(DIRECTIONS)}")
    if df.duplicated(["drug", "gene"]).any():
        first = df[df.duplicated(["drug", "gene"])].iloc[0]
        raise CCLEError(f"{path}: the marker {first.gene} of {first.drug} is listed twice")
    return df


def marker_ranks(genes, genes_in_data, markers=None):
    """Each marker's place in its drug's gene ranking -> DataFrame, one row per (marker, source of ranking).

    genes: the stability table of :func:`ccle.evaluation.genes.gene_stability` (drug, source, gene, selection_frequency,
    mean_rank, ...; rows in rank order within each (drug, source)); genes_in_data: the gene names of the
    expression matrix; markers: :func:`load_markers` by default. Columns: drug, gene, direction, marker_source,
    source (RFE / EN / PM ranking), in_data, rank (1-based position among the drug's ranked genes, NaN when the
    gene is absent from the data or was never selected), n_ranked, selection_frequency, mean_rank, mean_value.
    Only drugs present in ``genes`` are reported.
    """
    markers = load_markers() if markers is None else markers
    present = set(map(str, genes_in_data))
    rows = []
    for (drug, source), group in genes.groupby(["drug", "source"], sort=True):
        group = group.reset_index(drop=True)
        position = {g: i + 1 for i, g in enumerate(group["gene"])}
        for m in markers[markers["drug"] == drug].itertuples(index=False):
            hit = position.get(m.gene)
            row = group.iloc[hit - 1] if hit else None
            rows.append({"drug": drug, "gene": m.gene, "direction": m.direction, "marker_source": m.source,
                         "source": source, "in_data": m.gene in present,
                         "rank": float(hit) if hit else float("nan"), "n_ranked": len(group),
                         "selection_frequency": float(row["selection_frequency"]) if hit else 0.0,
                         "mean_rank": float(row["mean_rank"]) if hit else float("nan"),
                         "mean_value": float(row["mean_value"]) if hit else float("nan")})
    return pd.DataFrame(rows, columns=["drug", "gene", "direction", "marker_source", "source", "in_data", "rank",
                                       "n_ranked", "selection_frequency", "mean_rank", "mean_value"])
