"""What the commands share: argument types, the data arguments, the data loading and the --quick sizes.

One copy of each, so that ``benchmark`` and ``train`` read the same files the same way and apply the same
label-free expression transform (:mod:`ccle.methods.preprocess`).
"""
import argparse
import dataclasses
import os
import platform
import sys

import numba
import numpy
import scipy

import ccle
import nnlite
from ccle.data.drugs import check_drug_responses, resolve_drug
from ccle.data.expression import DUPLICATE_GENE_CHOICES
from ccle.data.loader import load_data
from ccle.errors import CCLEError
from ccle.methods.preprocess import LOG2_CHOICES, decide_log2

QUICK_DRUGS = 3
QUICK_SPLITS = 2
QUICK_GENES = 200
PAPER_GENES = 56318  # --scale paper: the paper's CCLE RNA-seq gene count


def positive_int(text):
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def layer_widths(text):
    """argparse type: ``"64,32"`` -> ``(64, 32)`` (positive widths)."""
    try:
        widths = tuple(int(w) for w in text.split(",") if w.strip())
    except ValueError:
        widths = ()
    if not widths or min(widths) < 1:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive layer widths, got {text!r}")
    return widths


def cpu_count():
    """CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def add_data_arguments(parser):
    """``--expression``, ``--drugs``, ``--sample-info``, ``--response``, ``--log2`` (benchmark and train)."""
    parser.add_argument("--expression", metavar="FILE", help="expression matrix (GCT 1.2/1.3 or DepMap CSV, "
                                                             "gzip ok); default: the embedded data set")
    parser.add_argument("--drugs", metavar="FILE", help="drug response table, layout recognised from its header: "
                                                        "CCLE pharmacology, GDSC fitted dose response (CSV/XLSX), "
                                                        "CTRPv2 (folder or curves file), PRISM secondary screen")
    parser.add_argument("--sample-info", metavar="FILE", help="DepMap Model.csv or sample_info.csv (ACH- ids to "
                                                              "CCLE names; ids that join the drug file's lines)")
    parser.add_argument("--response", default=None, help="drug-table response column (default: the layout's: "
                                                          "ActArea, LN_IC50, area_under_curve, auc)")
    long = parser.add_argument_group("a long drug table of another layout (all four together)")
    long.add_argument("--cell-column", metavar="NAME", help="the drug table's cell line column")
    long.add_argument("--drug-column", metavar="NAME", help="the drug table's drug column")
    long.add_argument("--response-column", metavar="NAME", help="the drug table's response column")
    long.add_argument("--sensitive", choices=("high", "low"), help="which responses mean sensitive")
    parser.add_argument("--log2", choices=LOG2_CHOICES, default="auto",
                        help="put the expression on the log2(x + 1) scale: auto (default: when the whole matrix "
                             "is non-negative with a maximum above 50, i.e. RPKM/TPM-like), yes or no")
    missing = parser.add_mutually_exclusive_group()
    missing.add_argument("--impute", choices=("none", "median"), default="none",
                         help="missing expression values (empty, NA, nan): none (default: an error naming file, "
                              "line and column) or median (the gene's median over the file's cell lines; "
                              "label-free, but it uses the test rows' expression)")
    missing.add_argument("--drop-incomplete-genes", action="store_true",
                         help="leave out the genes with a missing expression value (counted in the banner and "
                              "the report)")
    parser.add_argument("--duplicate-genes", choices=DUPLICATE_GENE_CHOICES, default="error",
                        help="a gene name given more than once: error (default, naming them) or mean (average "
                             "the columns into one)")


# the reader's advice names its keyword arguments; on the command line they are these flags
_FLAG_ADVICE = (("impute='median' or drop_incomplete_genes=True", "--impute median or --drop-incomplete-genes"),
                ("drop_incomplete_genes", "--drop-incomplete-genes"), ("duplicate_genes='mean'",
                                                                        "--duplicate-genes mean"))


def _cli_advice(exc):
    text = str(exc)
    for api, flag in _FLAG_ADVICE:
        text = text.replace(api, flag)
    return CCLEError(text)


def data_quality(expression):
    """What the expression reader found and did (missing values, merged genes, unnamed rows) -> dict for
    run.json (``summary`` is the banner's text, '' for a clean file)."""
    quality = expression.quality
    out = dataclasses.asdict(quality)
    out["n_incomplete_genes"] = len(quality.incomplete_genes)
    out["n_merged_genes"] = len(quality.merged_genes)
    out["summary"] = quality.summary()
    return out


def resolve_drugs(table, names):
    """The compounds of ``table`` named by ``--drug`` (each once, in the order given): a name that differs from
    exactly one compound of the file only in case is that compound (the readers refuse a file where two
    compounds differ only in case, so this is never ambiguous), with a note; then
    :func:`ccle.data.drugs.check_drug_responses` (unknown, fewer than 2 or constant responses -> CCLEError naming
    drug and file, before any work)."""
    resolved = []
    for name in names:
        label, how = resolve_drug(table, name)
        if how is not None:
            print(f"note: --drug {name} is {label} in {table.source}", file=sys.stderr)
        resolved.append(label)
    unique = list(dict.fromkeys(resolved))
    if len(unique) < len(resolved):
        repeated = sorted({d for d in resolved if resolved.count(d) > 1})
        print(f"note: --drug {', '.join(repeated)} given more than once; each drug runs once", file=sys.stderr)
    return check_drug_responses(table, unique)


def long_table_spec(args):
    """The ``--cell-column/--drug-column/--response-column/--sensitive`` flags -> dict for
    :func:`ccle.data.loader.load_data` (None when none is given; CCLEError when only some are)."""
    flags = {"cell_column": "--cell-column", "drug_column": "--drug-column",
             "response_column": "--response-column", "sensitive": "--sensitive"}
    given = {k: getattr(args, k, None) for k in flags}
    if all(v is None for v in given.values()):
        return None
    missing = [flag for k, flag in flags.items() if given[k] is None]
    if missing:
        raise CCLEError(f"a long drug table needs all four of {', '.join(flags.values())}: missing "
                        f"{', '.join(missing)}")
    return given


def load_inputs(args):
    """The expression matrix and drug table of the data arguments (given files or the embedded default data,
    200 genes with ``--quick``, 56,318 with ``--scale paper``) and the log2 decision for the whole matrix.

    Returns ``(expression, table, log2: bool, description)``."""
    policy = {"impute": getattr(args, "impute", "none"),
              "drop_incomplete_genes": getattr(args, "drop_incomplete_genes", False),
              "duplicate_genes": getattr(args, "duplicate_genes", "error")}
    try:
        if args.expression is None and args.drugs is None:
            n_genes = (PAPER_GENES if getattr(args, "scale", None) == "paper" else QUICK_GENES if args.quick
                       else None)
            kw = {"n_genes": n_genes} if n_genes else {}
            expression, table = load_data(response=args.response, **policy, **kw)
            description = "embedded default data" + (f" ({n_genes} genes)" if n_genes else "")
        else:
            if args.expression is None or args.drugs is None:
                raise CCLEError("give both --expression FILE and --drugs FILE (or neither, for the default data)")
            expression, table = load_data(args.expression, args.drugs, sample_info=args.sample_info,
                                          response=args.response, long_table=long_table_spec(args), **policy)
            description = f"{args.expression} + {args.drugs}"
            if table.join is not None and not table.join.by_name_only():
                description += f" ({table.join.summary()})"
            if table.notes:
                description += f" ({'; '.join(table.notes)})"
    except CCLEError as exc:
        raise _cli_advice(exc) from None
    summary = expression.quality.summary()
    if summary:
        description += f" ({summary})"
    log2 = decide_log2(expression.values, args.log2)
    finite = expression.values[numpy.isfinite(expression.values)]
    if log2 and finite.size and finite.min() < 0:
        raise CCLEError(f"{expression.source}: --log2 yes, but the expression has negative values "
                        f"(already log-scaled or z-scored?)")
    return expression, table, log2, description


def log2_banner(log2, choice):
    """How the run banner names the log2 decision."""
    return f"log2(x+1) {'on' if log2 else 'off'} ({choice})"


def expression_banner(transforms, log2, choice):
    """The expression's part of a run's description: the log2 decision once, then the rest of the drugs'
    transform text (:func:`ccle.benchmark.datasets.transforms_text`, which also starts with "log2(x+1)" when it
    was applied)."""
    rest = transforms.removeprefix("log2(x+1), ") if log2 else transforms
    return f"expression: {log2_banner(log2, choice)}" + (f", {rest}" if rest else "")


def versions():
    """Versions of the interpreter and the libraries that decide a result (for run.json)."""
    return {"python": platform.python_version(), "platform": platform.platform(), "numpy": numpy.__version__,
            "scipy": scipy.__version__, "numba": numba.__version__, "ccle": ccle.__version__,
            "nnlite": nnlite.__version__}
