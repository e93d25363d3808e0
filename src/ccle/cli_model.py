"""Command-line commands around one drug's model file: ``train``, ``predict``, ``inspect``.

``add_commands(subparsers)`` registers them on the ``cli.py`` argument parser and returns
``{name: handler}``; a handler takes the parsed arguments and returns the exit code. Problems raise
:class:`ccle.errors.CCLEError`, which ``ccle.cli.main`` prints as one line with exit code 2.
"""
import sys
from pathlib import Path

from ccle.errors import CCLEError

# Shorter training for ``train --quick`` (PerDrugModel keyword arguments), as ``benchmark --quick``.
QUICK_TRAIN = {"epochs": 100, "patience": 10, "retrain_epochs": 3, "cv": 3, "l2": (1e-2,)}
QUICK_GENES = 200


def _positive(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        import argparse

        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _widths(text):
    import argparse

    try:
        widths = tuple(int(w) for w in text.split(",") if w.strip())
    except ValueError:
        widths = ()
    if not widths or min(widths) < 1:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive layer widths, got {text!r}")
    return widths


def add_commands(subparsers):
    """Register ``train``, ``predict`` and ``inspect`` on ``subparsers`` (from ``add_subparsers``);
    returns ``{"train": cmd_train, "predict": cmd_predict, "inspect": cmd_inspect}``."""
    train = subparsers.add_parser(
        "train", help="train one drug's compressed model on all its cell lines",
        description="The full per-drug pipeline (scaling, SVR-RFE, network committee, Deep Compression) on every "
                    "cell line with a response to the drug; writes a self-contained .nnz file (network weights, "
                    "selected genes, scaler, target scaling, IQR class thresholds).")
    train.add_argument("--drug", required=True, metavar="NAME", help="compound name as in the drug table")
    train.add_argument("--expression", metavar="FILE", help="expression matrix (GCT or DepMap CSV, gzip ok); "
                                                            "default: the embedded data set")
    train.add_argument("--drugs", metavar="FILE", help="drug response table (CCLE pharmacology CSV/TSV)")
    train.add_argument("--sample-info", metavar="FILE", help="DepMap sample_info.csv (ACH- ids to CCLE names)")
    train.add_argument("--response", default="ActArea", help="drug-table response column (default ActArea)")
    train.add_argument("--out", required=True, metavar="FILE", help="model file to write (.nnz)")
    train.add_argument("--seed", type=int, default=0, help="seed of RFE, initializations, folds (default 0)")
    train.add_argument("--genes", type=_positive, default=None,
                       help=f"genes kept by SVR-RFE (default 1000, or all when fewer; {QUICK_GENES} with --quick)")
    train.add_argument("--widths", type=_widths, default=None, metavar="W1,W2,...",
                       help="hidden layer widths (default: the benchmark's fixed architecture)")
    train.add_argument("--quick", action="store_true", help="shorter training (as benchmark --quick)")

    pred = subparsers.add_parser(
        "predict", help="predict responses and classes of new samples with a model file",
        description="Genes are matched by name (order and extra genes do not matter). Missing genes are an error "
                    "listing them, unless --fill-missing fills them with the training minimum.")
    pred.add_argument("model", metavar="MODEL.nnz", help="model file written by train")
    pred.add_argument("--expression", required=True, metavar="FILE",
                      help="expression of the samples (GCT or DepMap CSV, gzip ok), raw like the training data")
    pred.add_argument("--sample-info", metavar="FILE", help="DepMap sample_info.csv (ACH- ids to CCLE names)")
    pred.add_argument("--out", metavar="FILE", help="CSV to write (default: standard output)")
    pred.add_argument("--fill-missing", action="store_true",
                      help="fill missing genes and missing values with the training minimum (reported on stderr)")
    pred.add_argument("--numpy-runtime", action="store_true",
                      help="predict with nnlite.runtime (numpy only; equal to float32 rounding)")

    insp = subparsers.add_parser("inspect", help="describe a model file",
                                 description="Architecture, genes, sizes per compression stage, checksums.")
    insp.add_argument("model", metavar="MODEL.nnz", help="model file written by train")
    insp.add_argument("--all-genes", action="store_true", help="list every gene (default: the first 20)")
    return {"train": cmd_train, "predict": cmd_predict, "inspect": cmd_inspect}


def cmd_train(args):
    """``cli.py train``: fit the drug's model on all its cell lines and write the .nnz file."""
    from ccle.data.loader import load_data
    from ccle.deploy import train_drug_model

    out = Path(args.out)
    if out.is_dir():
        raise CCLEError(f"--out {out} is a folder, expected a file name such as model.nnz")
    if args.expression is None and args.drugs is None:
        kw = {"n_genes": QUICK_GENES} if args.quick else {}
        expression, table = load_data(response=args.response, **kw)
        source = "embedded default data"
    else:
        if args.expression is None or args.drugs is None:
            raise CCLEError("give both --expression FILE and --drugs FILE (or neither, for the default data)")
        expression, table = load_data(args.expression, args.drugs, sample_info=args.sample_info,
                                      response=args.response)
        source = f"{args.expression} + {args.drugs}"
    n_features = args.genes or (QUICK_GENES if args.quick else 1000)
    print(f"ccle train: {args.drug} on {source}, {n_features} genes, seed {args.seed}", file=sys.stderr)
    trained = train_drug_model(expression, table, args.drug, seed=args.seed, path=out, widths=args.widths,
                               n_features=n_features, options=QUICK_TRAIN if args.quick else None, source=source)
    meta = trained.metadata
    tr = meta["training"]
    print(f"wrote {out} ({trained.n_bytes} bytes): {meta['drug']}, {tr['n_cell_lines']} cell lines, "
          f"{len(meta['genes'])} genes, {tr['n_networks']} networks, {tr['fit_seconds']:.1f}s")
    return 0


def cmd_predict(args):
    """``cli.py predict``: responses and classes of the samples of --expression, as CSV."""
    from ccle.deploy import predict_file

    df = predict_file(args.model, args.expression, fill_missing=args.fill_missing,
                      runtime=args.numpy_runtime, sample_info=args.sample_info)
    filled = df.attrs.get("filled_genes") or []
    if filled:
        from ccle.deploy import _list

        print(f"filled {len(filled)} missing genes with the training minimum: {_list(filled)}", file=sys.stderr)
    if df.attrs.get("filled_values"):
        print(f"filled {df.attrs['filled_values']} missing values with the training minimum", file=sys.stderr)
    if args.out:
        out = Path(args.out)
        try:
            df.to_csv(out, index=False)
        except OSError as exc:
            raise CCLEError(f"{out}: cannot write the predictions ({exc.strerror or exc})") from None
        counts = df["class"].value_counts()
        print(f"wrote {out}: {len(df)} cell lines ("
              + ", ".join(f"{counts.get(c, 0)} {c}" for c in ("sensitive", "moderate", "resistant")) + ")",
              file=sys.stderr)
    else:
        df.to_csv(sys.stdout, index=False)
    return 0


def cmd_inspect(args):
    """``cli.py inspect``: print the model file's description."""
    from ccle.deploy import inspect_model

    print(inspect_model(args.model, all_genes=args.all_genes))
    return 0
