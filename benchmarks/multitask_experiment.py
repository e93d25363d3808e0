"""MT (one network for all drugs) against per-drug elastic net on the same leave-cell-line-out rows.

Not collected by pytest (no ``bench_`` prefix). Run from the repository root:

    PYTHONPATH=src python benchmarks/multitask_experiment.py                       # real shared data
    PYTHONPATH=src python benchmarks/multitask_experiment.py --default             # the generated data
    PYTHONPATH=src python benchmarks/multitask_experiment.py --scheme tissues

Strict protocol: per split, the held-out cell lines (``ccle.evaluation.splits``) are the same for every drug; MT's scaling,
gene filter, target scaling, early stopping and compression, and each elastic net's scaling and CV, see the
training cell lines only. Prints per-drug mean test MSE over the splits, how many drugs MT beats EN on, and the
corrected resampled t-test (Nadeau & Bengio) per drug and on the per-split mean over drugs. Per-split results
are cached in ``--out`` (JSON) so that rerunning with another MT setting refits only MT.
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

# one BLAS thread, set before numpy loads: on the shared 2-core machine a threaded BLAS made the small matrix
# products of training ~15x slower (measured: 15 s vs 0.8 s for the same fits)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from ccle.data.align import drug_dataset  # noqa: E402
from ccle.data.align import normalize_cell_line as _key  # noqa: E402
from ccle.data.loader import load_data  # noqa: E402
from ccle.evaluation.metrics import corrected_resampled_ttest  # noqa: E402
from ccle.methods.estimators import ElasticNetModel  # noqa: E402
from ccle.methods.multitask import MultiTaskModel, response_matrix  # noqa: E402
from ccle.evaluation.splits import drug_rows, held_out_sets, tissues_of  # noqa: E402
from ccle.methods.tissue import TissueMeanModel  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "ccle"


def load(args):
    if args.default:
        expr, table = load_data()
        lineages = None
    else:
        from ccle.data.depmap import read_lineages

        info = SHARED / "expression" / "DepMap_sample_info_from_TGSA.csv"
        expr, table = load_data(SHARED / "expression" / "TGSA_DepMap_census706_expr_zscored.csv.gz",
                                SHARED / "drug" / "CCLE_dose_response_scores.tsv", sample_info=info)
        lineages = read_lineages(info) if args.lineage else None
    drugs = args.drug or table.drugs
    return [drug_dataset(expr, table, d) for d in drugs], lineages


def mt_params(args):
    return dict(hidden=tuple(args.hidden), dropout=args.dropout, l1=args.l1, l2=args.l2, lr=args.lr,
                batch_size=args.batch_size, epochs=args.epochs, patience=args.patience, cv=args.cv,
                n_genes=args.n_genes, compress=not args.no_compress, activation=args.activation, seed=args.seed)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--default", action="store_true", help="the generated default data instead of the real")
    ap.add_argument("--scheme", default="cell-lines", choices=("cell-lines", "tissues"))
    ap.add_argument("--lineage", action="store_true", help="tissues from the sample-info lineage column")
    ap.add_argument("--splits", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--drug", action="append")
    ap.add_argument("--hidden", type=int, nargs="+", default=[128])
    ap.add_argument("--activation", default="relu")
    ap.add_argument("--dropout", type=float, default=0.3)
    ap.add_argument("--l1", type=float, default=3e-4)
    ap.add_argument("--l2", type=float, default=1e-3)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=400)
    ap.add_argument("--patience", type=int, default=40)
    ap.add_argument("--cv", type=int, default=4)
    ap.add_argument("--n-genes", type=int, default=1000)
    ap.add_argument("--no-compress", action="store_true")
    ap.add_argument("--out", default="results/multitask-experiment")
    ap.add_argument("--tag", default="MT")
    args = ap.parse_args(argv)

    t_start = time.perf_counter()
    datasets, lineages = load(args)
    X, Y, cells, genes, drugs = response_matrix(datasets)
    held = held_out_sets(args.scheme, cells, args.splits, args.seed, lineages=lineages)
    out = Path(args.out) / f"{'default' if args.default else 'real'}-{args.scheme}-seed{args.seed}"
    out.mkdir(parents=True, exist_ok=True)
    cache_file = out / "baselines.json"
    cache = json.loads(cache_file.read_text()) if cache_file.exists() else {}
    mse = {m: np.full((len(drugs), args.splits), np.nan) for m in ("EN", "tissue", "mean", args.tag)}
    n_tr = np.zeros((len(drugs), args.splits))
    n_te = np.zeros((len(drugs), args.splits))
    mt_info = []
    for s, test_set in enumerate(held):
        test_rows = np.array([_key(c) in test_set for c in cells])
        tr = np.flatnonzero(~test_rows)
        t0 = time.perf_counter()
        mt = MultiTaskModel(**mt_params(args)).fit(X[tr], Y[tr], genes=genes, drugs=drugs)
        P = mt.predict(X[test_rows])
        mt_seconds = time.perf_counter() - t0
        mt_info.append({"split": s, "seconds": round(mt_seconds, 1), "inner_mse": mt.inner_mse_,
                        "epochs": mt.n_epochs_, "n_genes": len(mt.genes_),
                        "ratio": [c["ratio"] for c in mt.compression_] if mt.compression_[0] else None})
        test_pos = {_key(c): i for i, c in enumerate(np.asarray(cells)[test_rows])}
        for j, ds in enumerate(datasets):
            dtr, dte = drug_rows(ds.cell_lines, test_set, drug=ds.drug)
            n_tr[j, s], n_te[j, s] = dtr.size, dte.size
            y_te = ds.y[dte]
            p_mt = P[[test_pos[_key(ds.cell_lines[i])] for i in dte], j]
            mse[args.tag][j, s] = float(np.mean((p_mt - y_te) ** 2))
            key = f"{ds.drug}/{s}"
            if key not in cache:
                en = ElasticNetModel(seed=args.seed).fit(ds.X[dtr], ds.y[dtr])
                tis = tissues_of(ds.cell_lines, lineages)
                tm = TissueMeanModel().fit(ds.X[dtr], ds.y[dtr], tissues=[tis[i] for i in dtr])
                cache[key] = {
                    "EN": float(np.mean((en.predict(ds.X[dte]) - y_te) ** 2)),
                    "tissue": float(np.mean((tm.predict(ds.X[dte], tissues=[tis[i] for i in dte]) - y_te) ** 2)),
                    "mean": float(np.mean((ds.y[dtr].mean() - y_te) ** 2))}
                cache_file.write_text(json.dumps(cache))
            for m in ("EN", "tissue", "mean"):
                mse[m][j, s] = cache[key][m]
        print(f"split {s}: MT {mt_seconds:.0f} s, inner MSE {mt.inner_mse_:.4f}, test MSE MT "
              f"{np.mean(mse[args.tag][:, s]):.4f} EN {np.mean(mse['EN'][:, s]):.4f}", file=sys.stderr, flush=True)

    lines = [f"# {args.tag} vs EN, {'default' if args.default else 'real shared'} data, --split {args.scheme}, "
             f"{args.splits} splits, seed {args.seed}, strict", "",
             f"MT settings: {json.dumps(mt_params(args))}", "",
             f"| drug | {args.tag} | EN | tissue | mean | {args.tag}-EN | t | p |", "|---|---|---|---|---|---|---|---|"]
    wins = 0
    for j, d in enumerate(drugs):
        diff = mse[args.tag][j] - mse["EN"][j]
        test = corrected_resampled_ttest(diff, n_tr[j].mean(), n_te[j].mean())
        wins += int(mse[args.tag][j].mean() < mse["EN"][j].mean())
        lines.append(f"| {d} | {mse[args.tag][j].mean():.3f} | {mse['EN'][j].mean():.3f} | "
                     f"{mse['tissue'][j].mean():.3f} | {mse['mean'][j].mean():.3f} | {diff.mean():+.3f} | "
                     f"{test['t']:.2f} | {test['p']:.3f} |")
    means = {m: float(v.mean()) for m, v in mse.items()}
    overall = corrected_resampled_ttest(mse[args.tag].mean(axis=0) - mse["EN"].mean(axis=0),
                                        n_tr.mean(), n_te.mean())
    sig = sum(1 for j in range(len(drugs)) if corrected_resampled_ttest(
        mse[args.tag][j] - mse["EN"][j], n_tr[j].mean(), n_te[j].mean())["p"] < 0.05)
    lines.append(f"| Mean | {means[args.tag]:.3f} | {means['EN']:.3f} | {means['tissue']:.3f} | "
                 f"{means['mean']:.3f} | {means[args.tag] - means['EN']:+.3f} | {overall['t']:.2f} | "
                 f"{overall['p']:.3f} |")
    lines += ["", f"{args.tag} < EN on {wins} of {len(drugs)} drugs; {sig} per-drug differences significant at 0.05 "
              f"(corrected resampled t-test); mean over drugs per split: t = {overall['t']:.2f}, "
              f"p = {overall['p']:.3f}.", f"MT per split: {json.dumps(mt_info)}",
              f"wall {time.perf_counter() - t_start:.0f} s"]
    text = "\n".join(lines)
    print(text)
    (out / f"{args.tag}.md").write_text(text + "\n")
    np.savez(out / f"{args.tag}.npz", **{m: v for m, v in mse.items()}, n_train=n_tr, n_test=n_te)


if __name__ == "__main__":
    main()
