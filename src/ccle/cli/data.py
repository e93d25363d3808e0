"""``cli.py data``: write a default-style generated data set of any size (GCT + drug CSV + truth.json).

The same generator as the embedded default data (:mod:`ccle.data.synthetic`), so that ``benchmark --expression
DIR/expression.gct --drugs DIR/drugs.csv`` on ``--genes 2000 --cells 1000 --seed 0`` gives the default run's
data, and ``--genes 56318`` the paper's gene count (the CCLE RNA-seq matrix).
"""
import sys
from pathlib import Path

from ccle.cli.common import positive_int
from ccle.data.synthetic import MAX_GENES, generate
from ccle.errors import CCLEError

NAME = "data"


def add_parser(subparsers):
    """Register ``data`` on ``subparsers`` (from ``add_subparsers``)."""
    data = subparsers.add_parser(
        NAME, help="write a generated CCLE-like data set (GCT + drug CSV + truth.json) of any size",
        description="Generate a default-style data set: expression.gct (genes x cell lines, RPKM-like), "
                    "drugs.csv (the CCLE pharmacology layout, 24 drugs) and truth.json (the driver genes).")
    data.add_argument("--genes", type=positive_int, default=2000,
                      help=f"genes (50 to {MAX_GENES}, the paper's count; default 2000 as the embedded data)")
    data.add_argument("--cells", type=positive_int, default=1000, help="cell lines (504 to 5000; default 1000)")
    data.add_argument("--seed", type=int, default=0, help="generator seed (default 0)")
    data.add_argument("--out", metavar="DIR", required=True, help="output folder (created; files overwritten)")
    return data


def run(args):
    """Write the data set of ``args`` into ``args.out``; returns the exit code."""
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise CCLEError(f"--out {out} exists and is not a folder")
    written = generate(out, n_genes=args.genes, n_cells=args.cells, seed=args.seed)
    for path in (written.expression_path, written.drugs_path, written.truth_path):
        print(path)
    print(f"ccle data: {args.genes} genes x {args.cells} cell lines, seed {args.seed} -> {out}; run it with "
          f"`cli.py benchmark --expression {written.expression_path} --drugs {written.drugs_path}`",
          file=sys.stderr)
    return 0
