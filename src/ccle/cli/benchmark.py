"""``cli.py benchmark``: run (or resume) the per-drug benchmark and print / write its report."""
import shutil
import sys
import time
from pathlib import Path

from ccle.cli.common import (QUICK_DRUGS, QUICK_GENES, QUICK_SPLITS, add_data_arguments, cpu_count, load_inputs,
                             log2_banner, positive_int, versions)
from ccle.data.align import drug_dataset
from ccle.discretize import sensitive_direction
from ccle.errors import CCLEError
from ccle.genes import GENES_FILE, genes_table, write_genes_csv
from ccle.model import DEFAULT_WIDTHS, METHODS, parse_methods
from ccle.preprocess import ExpressionTransform
from ccle.report import write_report
from ccle.runner import run_benchmark
from ccle.predictions import PREDICTIONS_FILE
from ccle.store import RESULTS_FILE
from ccle.tasks import DrugData, RunConfig, data_fingerprint

NAME = "benchmark"

# Shorter training for --quick (the method constructors' keyword arguments).
QUICK_OPTIONS = {
    "PM": {"lr": 1e-3, "batch_size": 32, "epochs": 150, "patience": 20, "retrain_epochs": 3, "cv": 3,
           "l2": (1e-2,)},
    "ANN": {"lr": 1e-3, "batch_size": 32, "epochs": 120, "patience": 15},
    "EN": {"n_alphas": 20, "l1_ratio": (0.5, 1.0), "cv": 3},
    "RF": {"n_estimators": 30},
}
QUICK_SEARCH = {"scorer": {"epochs": 60, "patience": 8}, "greedy": {"max_layers": 3}}


def add_parser(subparsers):
    """Register ``benchmark`` on ``subparsers`` (from ``add_subparsers``)."""
    bench = subparsers.add_parser(
        NAME, help="the paper's experiment: Table I, Table II, Fig. 3",
        description="Per-drug Monte Carlo benchmark of PM (the paper's model) against EN, RF, SVR, the simple ANN "
                    "and the per-drug mean. Resumable: rerunning the same command skips finished results.")
    bench.add_argument("--quick", action="store_true",
                       help=f"{QUICK_DRUGS} drugs, {QUICK_SPLITS} splits, {QUICK_GENES} genes, shorter training "
                            "(< 1 minute; for CI and first contact)")
    add_data_arguments(bench)
    bench.add_argument("--drug", action="append", metavar="NAME", help="run this drug (repeatable); default all")
    bench.add_argument("--splits", type=positive_int, default=None, help="Monte Carlo 70/30 splits per drug "
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
    bench.add_argument("--genes", type=positive_int, default=None,
                       help="genes kept by SVR-RFE (default 1000, or all when fewer; 200 with --quick)")
    bench.add_argument("--out", metavar="DIR", default=None,
                       help="output folder (default results/benchmark-<protocol>[-quick])")
    bench.add_argument("--jobs", type=positive_int, default=cpu_count(),
                       help="worker processes (one task each, BLAS limited to one thread per process; "
                            "default: the CPUs this process may use, here %(default)s)")
    bench.add_argument("--scheduler", metavar="ADDRESS", default=None,
                       help="run the tasks on a Dask cluster: a scheduler address (tcp://host:8786) or 'local' "
                            "(a LocalCluster on this machine, --jobs workers); needs the distributed extra")
    bench.add_argument("--fresh", action="store_true", help="discard finished results in --out and start over")
    bench.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    return bench


def drug_datasets(expression, table, drugs, log2):
    """One :class:`ccle.runner.DrugData` per drug, after the label-free :class:`ExpressionTransform` of the
    drug's rows -> ``(datasets, description of the transforms)``."""
    datasets, transforms = [], set()
    for drug in drugs:
        ds = drug_dataset(expression, table, drug)
        transform = ExpressionTransform.fit(ds.X, ds.genes, log2)
        transforms.add(transform.describe())
        datasets.append(DrugData(drug=ds.drug, X=transform.apply(ds.X, ds.genes), y=ds.y,
                                 cell_lines=list(ds.cell_lines), genes=list(transform.genes)))
    return datasets, ", ".join(sorted(transforms))


def run(args):
    """Run the benchmark of ``args`` (parsed by :func:`add_parser`'s parser); returns the exit code."""
    n_splits = args.splits or (QUICK_SPLITS if args.quick else 5)
    methods = parse_methods(args.methods) if args.methods else list(METHODS)
    out = Path(args.out or f"results/benchmark-{args.protocol}{'-quick' if args.quick else ''}")
    if out.exists() and not out.is_dir():
        raise CCLEError(f"--out {out} exists and is not a folder")
    t_load = time.perf_counter()
    expression, table, log2, description = load_inputs(args)
    drugs = list(args.drug) if args.drug else list(table.drugs)
    if args.quick and not args.drug:
        drugs = drugs[:QUICK_DRUGS]
    datasets, transforms = drug_datasets(expression, table, drugs, log2)
    description += "; expression: " + transforms
    load_seconds = time.perf_counter() - t_load
    fingerprint = data_fingerprint(datasets)
    cfg = RunConfig(protocol=args.protocol, seed=args.seed, search=bool(args.search),
                    n_features=args.genes or 1000, widths=tuple(DEFAULT_WIDTHS),
                    options=QUICK_OPTIONS if args.quick else {},
                    search_options=QUICK_SEARCH if args.quick else {},
                    data_fingerprint=fingerprint, response=table.response)
    sensitive_direction(table.response)  # an unknown response is refused before any work
    if args.fresh:
        for name in (RESULTS_FILE, PREDICTIONS_FILE, GENES_FILE):
            (out / name).unlink(missing_ok=True)
        shutil.rmtree(out / "cache", ignore_errors=True)
    print(f"ccle benchmark: {len(datasets)} drugs x {n_splits} splits x {len(methods)} methods "
          f"({', '.join(methods)}), protocol {args.protocol}, {description}, {log2_banner(log2, args.log2)}, "
          f"out {out}", file=sys.stderr)
    t0 = time.perf_counter()
    records = run_benchmark(datasets, cfg, out, n_splits=n_splits, methods=methods, jobs=args.jobs,
                            progress=not args.quiet, scheduler=args.scheduler)
    run_seconds = time.perf_counter() - t0
    meta = {"command": NAME, "args": dict(vars(args)), "argv": sys.argv,
            "protocol": args.protocol, "seed": args.seed, "n_splits": n_splits, "data": description,
            "drugs": [d.drug for d in datasets], "methods": list(methods),
            "log2": log2, "data_fingerprint": fingerprint, "config_key": cfg.key(),
            "config": {"n_features": cfg.n_features, "widths": list(cfg.widths), "search": cfg.search,
                       "options": cfg.options, "test_fraction": cfg.test_fraction},
            "n_cell_lines": {d.drug: int(len(d.y)) for d in datasets},
            "n_genes": int(datasets[0].X.shape[1]) if datasets else 0,
            "versions": versions(), "load_seconds": load_seconds, "run_seconds_this_invocation": run_seconds,
            "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    write_genes_csv(out, [genes_table(records)])  # beside the report, which shows its top genes and markers
    print(write_report(records, out, meta, [d.drug for d in datasets], methods))
    return 0
