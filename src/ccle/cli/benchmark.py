"""``cli.py benchmark``: run (or resume) the per-drug benchmark and print / write its report."""
import shutil
import sys
import time

from ccle.evaluation.audit import LEAKING_STEPS
from ccle.cli.common import (QUICK_DRUGS, QUICK_GENES, QUICK_SPLITS, add_data_arguments, cpu_count, data_quality,
                             expression_banner, layer_widths, load_inputs, positive_int, resolve_drugs, versions)
from ccle.evaluation.thresholds import sensitive_direction
from ccle.errors import CCLEError
from ccle.evaluation.genes import GENES_FILE, genes_table
from ccle.methods import default_methods, load_plugins, names, parse_methods, specs
from ccle.methods.estimators import DEFAULT_WIDTHS
from ccle.benchmark.predictions import PREDICTIONS_FILE
from ccle.report import write_genes_csv, write_report
from ccle.report.cross_study import consistency_text
from ccle.benchmark.runner import run_benchmark, splittable
from ccle.benchmark.shared_data import shared_drug_rows, shared_folder
from ccle.evaluation.splits import SCHEMES
from ccle.benchmark.store import RESULTS_FILE
from ccle.files import OutputLock, make_output_folder
from ccle.benchmark.config import RunConfig
from ccle.benchmark.datasets import data_fingerprint, lineages_of, split_fingerprint, with_splits
from ccle.cli.predict import level
from ccle.evaluation.intervals import DEFAULT_LEVEL
from ccle.benchmark.cross_study import (LINE_CHOICES, match_lines, require_matches, run_cross_study,
                                        write_consistency)
from ccle.benchmark.inputs import input_lines, input_meta
from ccle.data.loader import load_data
from ccle.evaluation.cross_study import match_drugs
from ccle.methods.preprocess import decide_log2

NAME = "benchmark"
PROTOCOL_CHOICES = ("strict", "paper", "both")

# what a report and the banner call each split scheme
SCHEME_TEXT = {"pairs": "per-drug Monte Carlo 70/30 (pairs)",
               "cell-lines": "leave-cell-line-out: the same 30% of the cell lines held out for every drug",
               "tissues": "leave-tissue-out: whole tissues (~30% of the lines) held out for every drug"}
QUICK_SEARCH = {"scorer": {"epochs": 60, "patience": 8}, "greedy": {"max_layers": 3}}


def add_parser(subparsers):
    """Register ``benchmark`` on ``subparsers`` (from ``add_subparsers``)."""
    bench = subparsers.add_parser(
        NAME, help="the paper's experiment: Table I, Table II, Fig. 3",
        description="Per-drug Monte Carlo benchmark of PM (the paper's model as described) and PM+ (the "
                    "regularized committee) against EN, RF, SVR, the simple ANN and the per-drug mean. "
                    "Resumable: rerunning the same command skips finished results.")
    bench.add_argument("--quick", action="store_true",
                       help=f"{QUICK_DRUGS} drugs, {QUICK_SPLITS} splits, {QUICK_GENES} genes, shorter training "
                            "(< 1 minute; for CI and first contact)")
    bench.add_argument("--scale", choices=("default", "paper"), default="default",
                       help="size of the embedded data: default (2,000 genes) or paper (56,318 genes x 1,000 cell "
                            "lines, the paper's RNA-seq matrix; generated once into the cache, ~270 MB)")
    add_data_arguments(bench)
    bench.add_argument("--drug", action="append", metavar="NAME", help="run this drug (repeatable); default all")
    bench.add_argument("--splits", type=positive_int, default=None, help="Monte Carlo 70/30 splits per drug "
                                                                          "(default 5; 2 with --quick)")
    bench.add_argument("--seed", type=int, default=0, help="run seed: splits, initializations (default 0)")
    bench.add_argument("--methods", default=None, help=f"comma-separated subset of {','.join(names())} "
                                                       "(default all; MT only with --split cell-lines or tissues; PM = the paper's "
                                                       "model as described, PM+ = the regularized committee)")
    bench.add_argument("--plugin", action="append", default=[], metavar="FILE.py",
                       help="import FILE.py, which registers methods of its own (ccle.methods.register); "
                            "repeatable; name them in --methods")
    bench.add_argument("--split", choices=SCHEMES, default="pairs", dest="split_scheme",
                       help="pairs (default): per-drug Monte Carlo 70/30 as the paper; cell-lines: each split holds "
                            "out one random 30%% of the cell lines for every drug at once; tissues: whole tissues "
                            "(the --sample-info lineage, else the CCLE name's suffix) held out, ~30%% of the lines")
    bench.add_argument("--protocol", choices=PROTOCOL_CHOICES, default="strict",
                       help="strict (default): every step that learns sees the training rows of each split only. "
                            "paper: fitted on all rows of the drug before the splits (test rows leak): "
                            + "; ".join(s.replace("%", "%%") for s in LEAKING_STEPS["paper"]) +
                            ". both: strict and paper on identical splits, plus the inflation table")
    bench.add_argument("--null", action="store_true",
                       help="permutation control: responses permuted within each drug (seeded, the same for every "
                            "method) before anything is fitted; no method can truly beat the per-drug mean")
    bench.add_argument("--widths", type=layer_widths, default=None, metavar="W1,W2,...",
                       help="fix the hidden layer widths of every method that has them (PM: no search; PM+, ANN; "
                            "default: PM searches them as the paper says, PM+ and ANN use "
                            f"{','.join(map(str, DEFAULT_WIDTHS))})")
    bench.add_argument("--search", action="store_true",
                       help="PM+ and ANN also take their widths from the paper's greedy width/depth search "
                            "(cached per drug/split)")
    bench.add_argument("--genes", type=positive_int, default=None,
                       help="genes kept by SVR-RFE (default 1000, or all when fewer; 200 with --quick)")
    bench.add_argument("--out", metavar="DIR", default=None,
                       help="output folder (default results/benchmark-<protocol>[-null][-quick|-paper])")
    bench.add_argument("--jobs", type=positive_int, default=cpu_count(),
                       help="worker processes (one task each, BLAS limited to one thread per process; "
                            "default: the CPUs this process may use, here %(default)s)")
    bench.add_argument("--scheduler", metavar="ADDRESS", default=None,
                       help="run the tasks on a Dask cluster: a scheduler address (tcp://host:8786) or 'local' "
                            "(a LocalCluster on this machine, --jobs workers); needs the distributed extra")
    bench.add_argument("--fresh", action="store_true", help="discard finished results in --out and start over")
    bench.add_argument("--wait", action="store_true",
                       help="when another run holds --out, wait for it to finish instead of refusing")
    bench.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    bench.add_argument("--interval-level", type=level, default=DEFAULT_LEVEL, metavar="LEVEL",
                       help="nominal coverage of the prediction intervals in predictions.csv.gz "
                            f"(default {DEFAULT_LEVEL})")
    cross = bench.add_argument_group("cross-study test: train on --drugs, score on another study's measurements")
    cross.add_argument("--test-drugs", metavar="FILE", default=None,
                       help="a second drug-response file (any layout of --drugs); its compounds are matched to "
                            "the training ones by name (case, spaces and punctuation ignored) and known synonyms, "
                            "and every method trained on all training lines of a drug is scored on this file's "
                            "lines (sign-aligned Spearman and Pearson; cross-study/consistency.csv)")
    cross.add_argument("--test-expression", metavar="FILE", default=None,
                       help="the test study's expression (default: --expression)")
    cross.add_argument("--test-lines", choices=LINE_CHOICES, default="held-out",
                       help="held-out (default): the test study's lines that are not training lines of the drug; "
                            "shared: the lines both studies measured")
    return bench


def load_test_study(args, table):
    """The test study of ``--test-drugs`` (its responses joined to ``--test-expression`` or ``--expression``)
    and its compounds matched to ``table``'s -> dict ``table``, ``expression``, ``log2``, ``matches``,
    ``unmatched``."""
    path = args.test_expression or args.expression
    if path is None:
        raise CCLEError("--test-drugs needs the test lines' expression: give --test-expression FILE or --expression")
    expression, test_table = load_data(path, args.test_drugs, sample_info=args.sample_info,
                                       impute=getattr(args, "impute", "none"),
                                       drop_incomplete_genes=getattr(args, "drop_incomplete_genes", False),
                                       duplicate_genes=getattr(args, "duplicate_genes", "error"))
    matches, unmatched = match_drugs(table.drugs, test_table.drugs, table.drug_names, test_table.drug_names)
    require_matches(matches, table.source, test_table.source)
    return {"table": test_table, "expression": expression, "log2": decide_log2(expression.values, args.log2),
            "matches": matches, "unmatched": unmatched}


def quick_options():
    """``--quick``'s shorter training: each registered method's ``quick_options`` (constructor arguments)."""
    return {s.name: dict(s.quick_options) for s in specs() if s.quick_options}


def run(args):
    """Run the benchmark of ``args`` (parsed by :func:`add_parser`'s parser); returns the exit code."""
    n_splits = args.splits or (QUICK_SPLITS if args.quick else 5)
    scheme = args.split_scheme
    load_plugins(args.plugin)   # before --methods is read: a plugin's method is named there like a built-in one
    methods = (parse_methods(args.methods, scheme) if args.methods is not None
               else list(default_methods(scheme)))
    null = bool(getattr(args, "null", False))
    protocols = ("strict", "paper") if args.protocol == "both" else (args.protocol,)
    if args.out is not None and not args.out.strip():
        raise CCLEError("--out is empty: give an output folder")
    if args.drug is not None and any(not d.strip() for d in args.drug):
        raise CCLEError("--drug is empty: give a compound name")
    tag = "" if scheme == "pairs" else f"-{scheme}"
    if args.scale == "paper" and (args.quick or args.expression or args.drugs):
        raise CCLEError("--scale paper is the embedded data at the paper's size: not with --quick or given files")
    suffix = "-quick" if args.quick else "-paper" if args.scale == "paper" else ""
    out = make_output_folder(args.out or f"results/benchmark-{args.protocol}{tag}{'-null' if null else ''}{suffix}")
    # held until this process ends: a second run on the same folder refuses (or waits, --wait)
    lock = OutputLock(out, wait=args.wait).acquire()
    try:
        return _run_locked(args, out, n_splits, methods, scheme, null, protocols)
    finally:
        lock.release()


def _run_locked(args, out, n_splits, methods, scheme, null, protocols):
    if args.fresh:  # before the data are shared into out/cache
        for name in (RESULTS_FILE, PREDICTIONS_FILE, GENES_FILE):
            (out / name).unlink(missing_ok=True)
        shutil.rmtree(out / "cache", ignore_errors=True)
    t_load = time.perf_counter()
    expression, table, log2, description = load_inputs(args)
    explicit = bool(args.drug)
    drugs = resolve_drugs(table, args.drug) if explicit else list(table.drugs)
    cross = load_test_study(args, table) if getattr(args, "test_drugs", None) else None
    if cross is not None and not explicit:
        drugs = [d for d in drugs if d in {m.train for m in cross["matches"]}]
    if args.quick and not explicit:
        drugs = drugs[:QUICK_DRUGS]
    # one shared matrix, each drug its rows of it (memory of one drug at a time); a drug the user did not name
    # that cannot be run is left out with its reason, a named one is an error before any work
    datasets, transforms, digests, skipped = shared_drug_rows(expression, table, drugs, log2,
                                                              shared_folder(out / "cache"), skip=not explicit)
    quality = data_quality(expression)
    del expression  # the drugs' rows are in the shared file now
    description += "; " + expression_banner(transforms, log2, args.log2)
    lineages, tissue_text = lineages_of(args.sample_info, table.tissues)
    datasets, held = with_splits(datasets, scheme, n_splits, args.seed, RunConfig().test_fraction, lineages)
    if not explicit:
        datasets, unsplit = splittable(datasets, RunConfig(seed=args.seed, split_scheme=scheme), n_splits)
        skipped.update(unsplit)
    if not datasets:
        raise CCLEError(f"{table.source}: no drug can be run ({len(skipped)} left out: "
                        f"{'; '.join(f'{d}: {r}' for d, r in list(skipped.items())[:3])})")
    load_seconds = time.perf_counter() - t_load
    fingerprint = data_fingerprint(datasets, digests)
    widths = getattr(args, "widths", None)
    configs = [RunConfig(protocol=protocol, seed=args.seed, search=bool(args.search),
                         n_features=args.genes or 1000, widths=tuple(widths or DEFAULT_WIDTHS),
                         options=quick_options() if args.quick else {},
                         search_options=QUICK_SEARCH if args.quick else {},
                         data_fingerprint=fingerprint, response=table.response, null=null,
                         fixed_widths=widths is not None, split_scheme=scheme,
                         split_fingerprint=split_fingerprint(held),
                         interval_level=getattr(args, "interval_level", DEFAULT_LEVEL))
               for protocol in protocols]
    cfg = configs[0]
    sensitive_direction(table.response)  # an unknown response is refused before any work
    print(f"ccle benchmark: {len(datasets)} drugs x {n_splits} splits x {len(methods)} methods "
          f"({', '.join(methods)}), protocol {args.protocol}{', permuted responses (null)' if null else ''}, "
          f"split {scheme}, {tissue_text}, {description}, out {out}",
          file=sys.stderr)
    for line in input_lines(table, skipped):
        print(line, file=sys.stderr)
    if cross is not None:
        print(f"cross-study: test {args.test_drugs} ({cross['table'].response}), {args.test_lines} lines; "
              f"compounds matched:", file=sys.stderr)
        for line in match_lines(cross["matches"], cross["unmatched"]):
            print(line, file=sys.stderr)
    t0 = time.perf_counter()
    records = []
    for c in configs:   # the splits depend on seed, drug and split only: both protocols see identical splits
        records += run_benchmark(datasets, c, out, n_splits=n_splits, methods=methods, jobs=args.jobs,
                                 progress=not args.quiet, scheduler=args.scheduler, plugins=args.plugin)
    if cross is not None:
        rows = run_cross_study(datasets, cross["matches"], table, cross["table"], cross["expression"], cfg, methods,
                               out, log2=cross["log2"], lines=args.test_lines, lineages=lineages,
                               progress=not args.quiet)
        write_consistency(out, rows, cross["matches"], cross["unmatched"])
    run_seconds = time.perf_counter() - t0
    meta = {"command": NAME, "args": dict(vars(args)), "argv": sys.argv,
            "protocol": cfg.protocol, "protocols": list(protocols), "null": null,
            "config_keys": [c.key() for c in configs], "seed": args.seed, "n_splits": n_splits, "data": description,
            "split_scheme": scheme, "split_scheme_text": SCHEME_TEXT[scheme], "tissues": tissue_text,
            "drugs": [d.drug for d in datasets], "methods": list(methods),
            "log2": log2, "data_quality": quality,
            "data_fingerprint": fingerprint, "config_key": cfg.key(),
            "config": {"n_features": cfg.n_features, "widths": list(cfg.widths), "search": cfg.search,
                       "fixed_widths": cfg.fixed_widths,
                       "options": cfg.options, "test_fraction": cfg.test_fraction},
            "n_cell_lines": {d.drug: int(len(d.y)) for d in datasets},
            "n_genes": len(datasets[0].genes) if datasets else 0,
            "inputs": input_meta(table, skipped),
            "cross_study": None if cross is None else {
                "test_drugs": args.test_drugs, "test_expression": args.test_expression or args.expression,
                "lines": args.test_lines, "test_inputs": input_meta(cross["table"]),
                "sign": int(table.direction) * int(cross["table"].direction),
                "matches": len(cross["matches"]), "unmatched": cross["unmatched"]},
            "versions": versions(), "load_seconds": load_seconds, "run_seconds_this_invocation": run_seconds,
            "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    write_genes_csv(out, [genes_table(records)])  # beside the report, which shows its top genes and markers
    print(write_report(records, out, meta, [d.drug for d in datasets], methods, jobs=args.jobs))
    if cross is not None:
        print(consistency_text(out))
    return 0
