"""``cli.py train``: fit one drug's model (any per-drug method) on all its cell lines and write the self-contained
``.nnz`` file; ``--multitask`` fits every drug at once."""
import sys
from pathlib import Path

from ccle.cli.common import (QUICK_GENES, add_data_arguments, layer_widths, load_inputs, log2_banner, positive_int,
                             resolve_drugs)
from ccle.deploy.multitask import train_multitask_model
from ccle.deploy.training import DEFAULT_METHOD, train_drug_model
from ccle.errors import CCLEError
from ccle.files import check_writable_file
from ccle.methods import names, spec

NAME = "train"

# Shorter training for ``train --quick`` (PerDrugModel keyword arguments), as ``benchmark --quick``.
QUICK_TRAIN = {"epochs": 100, "patience": 10, "retrain_epochs": 3, "cv": 3, "l2": (1e-2,)}
# Shorter search for ``train --search --quick`` (PaperModel keyword arguments).
QUICK_TRAIN_SEARCH = {"epochs": 60, "patience": 8, "max_layers": 3}
# the same for train --multitask --quick (MultiTaskModel keyword arguments), as benchmark --quick's MT
QUICK_MULTITASK = {"hidden": (32,), "epochs": 60, "patience": 10, "cv": 2, "n_genes": 200, "retrain_epochs": 2}


def add_parser(subparsers):
    """Register ``train`` on ``subparsers``."""
    per_drug = [n for n in names() if not (spec(n).cross_drug or spec(n).needs_tissues)]
    train = subparsers.add_parser(
        NAME, help="train one drug's model on all its cell lines",
        description="One per-drug method (default PM+: scaling, SVR-RFE, network committee, Deep Compression) "
                    "on every cell line with a response to the drug; writes a self-contained .nnz file (the "
                    "model, its input genes, scaler, target scaling, the paper and calibrated call rules).")
    train.add_argument("--method", default=DEFAULT_METHOD, metavar="NAME",
                       help=f"per-drug method: {', '.join(per_drug)} (default {DEFAULT_METHOD})")
    train.add_argument("--drug", action="append", metavar="NAME",
                       help="compound name as in the drug table (required; with --multitask repeatable, "
                            "default all drugs)")
    train.add_argument("--multitask", action="store_true",
                       help="train the multitask network (MT) on every cell line and drug at once: one file that "
                            "predicts every drug")
    add_data_arguments(train)
    train.add_argument("--out", required=True, metavar="FILE", help="model file to write (.nnz)")
    train.add_argument("--seed", type=int, default=0, help="seed of RFE, initializations, folds (default 0)")
    train.add_argument("--genes", type=positive_int, default=None,
                       help=f"genes kept by SVR-RFE (default 1000, or all when fewer; {QUICK_GENES} with --quick)")
    train.add_argument("--widths", type=layer_widths, default=None, metavar="W1,W2,...",
                       help="hidden layer widths (default: the benchmark's fixed architecture)")
    train.add_argument("--search", action="store_true",
                       help="choose the hidden widths with the paper's greedy width/depth search (10 nodes, +10 "
                            "while the validation MSE of a 70/30 split of the rows improves, up to 200; new layers "
                            "grown before they are judged; at most 12) instead of --widths")
    train.add_argument("--quick", action="store_true", help="shorter training (as benchmark --quick)")
    return train


def run(args):
    out = Path(args.out)
    check_writable_file(out, "model file (such as model.nnz)")  # before the training, not after it
    if args.multitask:
        if args.method != DEFAULT_METHOD:
            raise CCLEError("--multitask trains the multitask network; --method picks a per-drug method")
        return _run_multitask(args, out)
    if not args.drug or len(args.drug) != 1:
        raise CCLEError("train needs exactly one --drug NAME (or --multitask for all drugs at once)")
    args.drug = args.drug[0]
    expression, table, log2, source = load_inputs(args)
    drug = resolve_drugs(table, [args.drug])[0]  # unknown, case-only or constant response: refused now
    method = _method(args.method)
    n_features = args.genes or (QUICK_GENES if args.quick else 1000)
    n_genes = len(expression.genes)
    kept = (f"{n_features} of {n_genes} genes" if n_features < n_genes
            else f"all {n_genes} genes (the file has no more than the {n_features} asked for)")
    print(f"ccle train: {method} for {drug} on {source}, {kept}, seed {args.seed}, "
          f"{log2_banner(log2, args.log2)}", file=sys.stderr)
    quick = (QUICK_TRAIN if method == DEFAULT_METHOD else spec(method).quick_options) if args.quick else None
    trained = train_drug_model(expression, table, drug, method=method, seed=args.seed, path=out,
                               widths=args.widths, n_features=n_features, options=quick, source=source,
                               log2=log2, search=bool(getattr(args, "search", False)),
                               search_options=QUICK_TRAIN_SEARCH if args.quick else None)
    meta = trained.metadata
    tr = meta["training"]
    what = f"{meta['model_kind']}"
    if tr.get("n_networks"):
        what += f" of {tr['n_networks']} networks"
    widths = tr.get("widths")
    if widths:
        what += f", widths {','.join(map(str, widths))}"
    print(f"wrote {out} ({trained.n_bytes} bytes): {method} for {meta['drug']}, {tr['n_cell_lines']} cell lines, "
          f"{len(meta['genes'])} genes, {what}{' (searched)' if tr.get('search') else ''}, "
          f"{tr['fit_seconds']:.1f}s")
    return 0


def _method(name):
    """The registered per-drug method called ``name`` (case-insensitive)."""
    canon = {n.lower(): n for n in names()}
    if name.lower() not in canon:
        raise CCLEError(f"unknown method {name!r} for --method; choose from {', '.join(names())}")
    return canon[name.lower()]


def _run_multitask(args, out):
    if args.widths is not None or args.genes is not None:
        raise CCLEError("--widths and --genes are per-drug model settings; the multitask network has its own")
    expression, table, log2, source = load_inputs(args)
    drugs = list(args.drug) if args.drug else list(table.drugs)
    print(f"ccle train --multitask: {len(drugs)} drugs on {source}, seed {args.seed}, "
          f"{log2_banner(log2, args.log2)}", file=sys.stderr)
    trained = train_multitask_model(expression, table, drugs, seed=args.seed, path=out,
                                    options=QUICK_MULTITASK if args.quick else None, source=source, log2=log2)
    tr = trained.metadata["training"]
    print(f"wrote {out} ({trained.n_bytes} bytes): multitask model for {len(trained.model.drugs_)} drugs, "
          f"{tr['n_cell_lines']} cell lines, {tr['n_genes_selected']} genes, {tr['n_networks']} inner networks "
          f"in one, {tr['fit_seconds']:.1f}s")
    return 0
