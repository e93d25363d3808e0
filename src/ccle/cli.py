"""Command-line interface: benchmark, train, predict, inspect, data.

Every user-facing failure is a :class:`ccle.errors.CCLEError` (or ValueError from input checks) printed
as one line on stderr with exit code 2; no traceback from deep inside numpy.
"""
import argparse
import os
import sys
import time

from ccle.errors import CCLEError

QUICK_DRUGS = 3
QUICK_SPLITS = 2
QUICK_GENES = 200


def _positive(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _cpu_count():
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def build_parser():
    parser = argparse.ArgumentParser(prog="cli.py", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    bench = sub.add_parser(
        "benchmark", help="the paper's experiment: Table I, Table II, Fig. 3",
        description="Per-drug Monte Carlo benchmark of PM (the paper's model) against EN, RF, SVR, the simple ANN "
                    "and the per-drug mean. Resumable: rerunning the same command skips finished results.")
    bench.add_argument("--quick", action="store_true",
                       help=f"{QUICK_DRUGS} drugs, {QUICK_SPLITS} splits, {QUICK_GENES} genes, shorter training "
                            "(< 1 minute; for CI and first contact)")
    bench.add_argument("--expression", metavar="FILE", help="expression matrix (GCT 1.2/1.3 or DepMap CSV, "
                                                            "gzip ok); default: the embedded data set")
    bench.add_argument("--drugs", metavar="FILE", help="drug response table (CCLE pharmacology CSV/TSV)")
    bench.add_argument("--sample-info", metavar="FILE", help="DepMap sample_info.csv (ACH- ids to CCLE names)")
    bench.add_argument("--response", default="ActArea", help="drug-table response column (default ActArea)")
    bench.add_argument("--drug", action="append", metavar="NAME", help="run this drug (repeatable); default all")
    bench.add_argument("--splits", type=_positive, default=None, help="Monte Carlo 70/30 splits per drug "
                                                                       "(default 5; 2 with --quick)")
    bench.add_argument("--seed", type=int, default=0, help="run seed: splits, initializations (default 0)")
    bench.add_argument("--methods", default=None, help="comma-separated subset of PM,EN,RF,SVR,ANN,mean "
                                                       "(default all)")
    bench.add_argument("--protocol", choices=("strict", "paper"), default="strict",
                       help="strict (default): scaling, RFE, search and early stopping see training rows only; "
                            "paper: scaling and RFE fitted on all rows of the drug before the splits")
    bench.add_argument("--search", action="store_true",
                       help="the paper's greedy width/depth search (cached per drug/split) instead of the fixed "
                            "architecture")
    bench.add_argument("--genes", type=_positive, default=None,
                       help="genes kept by SVR-RFE (default 1000, or all when fewer; 200 with --quick)")
    bench.add_argument("--out", metavar="DIR", default=None,
                       help="output folder (default results/benchmark-<protocol>[-quick])")
    bench.add_argument("--jobs", type=_positive, default=_cpu_count(),
                       help="worker processes (one task each, BLAS limited to one thread per process; "
                            "default: the CPUs this process may use, here %(default)s)")
    bench.add_argument("--scheduler", metavar="ADDRESS", default=None,
                       help="run the tasks on a Dask cluster: a scheduler address (tcp://host:8786) or 'local' "
                            "(a LocalCluster on this machine, --jobs workers); needs the distributed extra")
    bench.add_argument("--fresh", action="store_true", help="discard finished results in --out and start over")
    bench.add_argument("--quiet", action="store_true", help="no progress lines on stderr")

    from ccle.cli_model import add_commands

    COMMANDS.update(add_commands(sub))
    return parser


# Shorter training for --quick (the method constructors' keyword arguments).
QUICK_OPTIONS = {
    "PM": {"lr": 1e-3, "batch_size": 32, "epochs": 150, "patience": 20, "retrain_epochs": 3, "cv": 3,
           "l2": (1e-2,)},
    "ANN": {"lr": 1e-3, "batch_size": 32, "epochs": 120, "patience": 15},
    "EN": {"n_alphas": 20, "l1_ratio": (0.5, 1.0), "cv": 3},
    "RF": {"n_estimators": 30},
}


def _load_datasets(args):
    """Load the expression matrix and drug table (given files or the default data) and build one
    :class:`ccle.runner.DrugData` per requested drug. Returns ``(datasets, description)``."""
    from ccle.data.align import drug_dataset
    from ccle.data.loader import load_data
    from ccle.runner import DrugData

    if args.expression is None and args.drugs is None:
        kw = {"n_genes": QUICK_GENES} if args.quick else {}
        expression, table = load_data(response=args.response, **kw)
        description = "embedded default data" + (f" ({QUICK_GENES} genes)" if args.quick else "")
    else:
        if args.expression is None or args.drugs is None:
            raise CCLEError("give both --expression FILE and --drugs FILE (or neither, for the default data)")
        expression, table = load_data(args.expression, args.drugs, sample_info=args.sample_info,
                                      response=args.response)
        description = f"{args.expression} + {args.drugs}"
    drugs = list(args.drug) if args.drug else list(table.drugs)
    if args.quick and not args.drug:
        drugs = drugs[:QUICK_DRUGS]
    datasets = []
    transforms = set()
    for drug in drugs:
        ds = drug_dataset(expression, table, drug)
        X, genes, transform = _expression_transform(ds.X, ds.genes)
        transforms.add(transform)
        datasets.append(DrugData(drug=ds.drug, X=X, y=ds.y, cell_lines=list(ds.cell_lines), genes=genes))
    return datasets, description + "; expression: " + ", ".join(sorted(transforms))


def _expression_transform(X, genes):
    """Label-free, row-wise preprocessing of one drug's expression (paper Sec. IV-A): genes constant over all
    cell lines (e.g. zero everywhere) are dropped, and non-negative RPKM/TPM-like values (max > 50) are put on
    the ``log2(x + 1)`` scale; already log-scaled or z-scored matrices are left as they are. Nothing here looks
    at a response, and no statistic is carried from one row to another, so it cannot leak test labels."""
    import numpy as np

    from ccle.preprocess import drop_constant_genes, log2p1

    X, genes, dropped = drop_constant_genes(X, genes)
    what = f"{len(dropped)} constant genes dropped" if dropped else "no constant gene"
    if X.min() >= 0 and X.max() > 50:
        X = log2p1(X)
        what = "log2(x+1), " + what
    return np.asarray(X, dtype=np.float32), list(genes), what


def _versions():
    import platform

    import numba
    import numpy
    import scipy

    import ccle
    import nnlite

    return {"python": platform.python_version(), "platform": platform.platform(), "numpy": numpy.__version__,
            "scipy": scipy.__version__, "numba": numba.__version__, "ccle": ccle.__version__,
            "nnlite": nnlite.__version__}


def cmd_benchmark(args):
    """``cli.py benchmark``: run (or resume) the per-drug benchmark and print/write its report."""
    import shutil
    from pathlib import Path

    from ccle.model import METHODS, parse_methods
    from ccle.report import write_report
    from ccle.runner import RESULTS_FILE, RunConfig, data_fingerprint, run_benchmark
    from ccle.search import DEFAULT_WIDTHS

    n_splits = args.splits or (QUICK_SPLITS if args.quick else 5)
    methods = parse_methods(args.methods) if args.methods else list(METHODS)
    out = Path(args.out or f"results/benchmark-{args.protocol}{'-quick' if args.quick else ''}")
    if out.exists() and not out.is_dir():
        raise CCLEError(f"--out {out} exists and is not a folder")
    t_load = time.perf_counter()
    datasets, description = _load_datasets(args)
    load_seconds = time.perf_counter() - t_load
    fingerprint = data_fingerprint(datasets)
    cfg = RunConfig(protocol=args.protocol, seed=args.seed, search=bool(args.search),
                    n_features=args.genes or 1000, widths=tuple(DEFAULT_WIDTHS),
                    options=QUICK_OPTIONS if args.quick else {},
                    search_options=({"scorer": {"epochs": 60, "patience": 8}, "greedy": {"max_layers": 3}}
                                    if args.quick else {}),
                    data_fingerprint=fingerprint)
    if args.fresh:
        (out / RESULTS_FILE).unlink(missing_ok=True)
        shutil.rmtree(out / "cache", ignore_errors=True)
    print(f"ccle benchmark: {len(datasets)} drugs x {n_splits} splits x {len(methods)} methods "
          f"({', '.join(methods)}), protocol {args.protocol}, {description}, out {out}", file=sys.stderr)
    t0 = time.perf_counter()
    records = run_benchmark(datasets, cfg, out, n_splits=n_splits, methods=methods, jobs=args.jobs,
                            progress=not args.quiet, scheduler=args.scheduler)
    run_seconds = time.perf_counter() - t0
    meta = {"command": "benchmark", "args": {k: v for k, v in vars(args).items()}, "argv": sys.argv,
            "protocol": args.protocol, "seed": args.seed, "n_splits": n_splits, "data": description,
            "data_fingerprint": fingerprint, "config_key": cfg.key(),
            "config": {"n_features": cfg.n_features, "widths": list(cfg.widths), "search": cfg.search,
                       "options": cfg.options, "test_fraction": cfg.test_fraction},
            "n_cell_lines": {d.drug: int(len(d.y)) for d in datasets},
            "n_genes": int(datasets[0].X.shape[1]) if datasets else 0,
            "versions": _versions(), "load_seconds": load_seconds, "run_seconds_this_invocation": run_seconds,
            "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    print(write_report(records, out, meta, [d.drug for d in datasets], methods))
    return 0


COMMANDS = {"benchmark": cmd_benchmark}


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    # Before numpy is imported (if it is not yet): one BLAS thread is faster for our small-batch training.
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    try:
        return COMMANDS[args.command](args)
    except (CCLEError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: finished results are kept; rerun the same command to resume", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader of our standard output went away (`predict ... | head`): not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
