"""How far the deployable PM+ compresses, and what it costs: one PM+ fit per (drug, split) of the real CCLE data
with ``train``'s settings (:data:`ccle.deploy.training.DEPLOY_OPTIONS`: the compression setting chosen on the
training folds), the test MSE of the committee before and after compression, and the bytes of its networks
against dense float32.

    PYTHONPATH=src python benchmarks/deploy_compression.py --data ../shared/data/ccle --splits 5 \\
        --out deploy_compression.jsonl [--drugs N]

Appends one JSON line per (drug, split) to ``--out`` (a rerun skips the pairs already there) and prints the
summary: pairs, median and pooled compression ratio, the relative test-MSE change (mean over pairs and
pooled), the settings kept.
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np

from ccle.data.align import drug_dataset
from ccle.data.loader import load_data
from ccle.deploy.training import DEPLOY_OPTIONS
from ccle.evaluation.splits import monte_carlo_splits
from ccle.methods import make_method
from ccle.methods.estimators import committee_mean
from ccle.methods.preprocess import ExpressionTransform, decide_log2


def _data(root):
    root = Path(root)
    return load_data(root / "expression" / "TGSA_DepMap_census706_expr_zscored.csv.gz",
                     root / "drug" / "CCLE_dose_response_scores.tsv",
                     sample_info=root / "expression" / "DepMap_sample_info_from_TGSA.csv")


def run_pair(expression, table, drug, split, n_splits, log2):
    ds = drug_dataset(expression, table, drug)
    transform = ExpressionTransform.fit(ds.X, ds.genes, log2)
    X, y = transform.apply(ds.X, ds.genes), np.asarray(ds.y, dtype=np.float64)
    tr, te = monte_carlo_splits(X.shape[0], drug, n_splits=n_splits)[split]
    t0 = time.perf_counter()
    est = make_method("PM+", seed=split, options={"PM+": dict(DEPLOY_OPTIONS["PM+"])}).fit(X[tr], y[tr])
    Z = est.selector_.transform(X[te])
    mse = {}
    for name, nets in (("uncompressed", est.uncompressed_networks_), ("compressed", est.networks_)):
        pred = committee_mean(nets, Z) * est.y_scale_ + est.y_mean_
        mse[name] = float(np.mean((pred - y[te]) ** 2))
    dense = sum(c["dense_bytes"] for c in est.compression_)
    huff = sum(c["huffman_bytes"] for c in est.compression_)
    return {"drug": drug, "split": split, "n_train": int(len(tr)), "n_test": int(len(te)),
            "n_genes": int(Z.shape[1]), "test_mse": mse, "dense_bytes": int(dense), "huffman_bytes": int(huff),
            "ratio": dense / huff, "choice": est.compress_choice_, "seconds": time.perf_counter() - t0}


def summary(rows):
    ratios = np.array([r["ratio"] for r in rows])
    rel = np.array([r["test_mse"]["compressed"] / r["test_mse"]["uncompressed"] - 1 for r in rows])
    pooled = (sum(r["test_mse"]["compressed"] * r["n_test"] for r in rows)
              / sum(r["test_mse"]["uncompressed"] * r["n_test"] for r in rows) - 1)
    kept = {}
    for r in rows:
        key = str(r["choice"]["kept"])
        kept[key] = kept.get(key, 0) + 1
    return {"pairs": len(rows), "drugs": len({r["drug"] for r in rows}),
            "ratio_median": float(np.median(ratios)), "ratio_min": float(ratios.min()),
            "ratio_pooled": sum(r["dense_bytes"] for r in rows) / sum(r["huffman_bytes"] for r in rows),
            "mse_change_mean": float(rel.mean()), "mse_change_median": float(np.median(rel)),
            "mse_change_pooled": float(pooled), "kept": kept}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--splits", type=int, default=5)
    ap.add_argument("--drugs", type=int, default=None, help="the first N drugs only")
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    expression, table = _data(args.data)
    log2 = decide_log2(expression.values)
    out = Path(args.out)
    done = {(r["drug"], r["split"]) for r in map(json.loads, out.read_text().splitlines())} if out.exists() else set()
    drugs = list(table.drugs)[:args.drugs] if args.drugs else list(table.drugs)
    for split in range(args.splits):            # split-major: every drug is measured before the next split
        for drug in drugs:
            if (drug, split) in done:
                continue
            row = run_pair(expression, table, drug, split, args.splits, log2)
            with open(out, "a") as fh:
                fh.write(json.dumps(row) + "\n")
            print(f"{drug} split {split}: ratio {row['ratio']:.1f}x, test MSE {row['test_mse']['uncompressed']:.4f}"
                  f" -> {row['test_mse']['compressed']:.4f}, kept {row['choice']['kept']}, {row['seconds']:.0f}s",
                  flush=True)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    print(json.dumps(summary(rows), indent=1))


if __name__ == "__main__":
    main()
