"""Does gradient boosting with light inner-CV tuning beat the random forest per drug? (An experiment, not a method.)

Not collected by pytest (no ``bench_`` prefix). Run from the repository root:

    PYTHONPATH=src python benchmarks/gbm_experiment.py [--drugs AZD6244,Nilotinib,...] [--folds 5]

Real shared data (CCLE ActArea, the 706 z-scored Cancer Gene Census genes). Per drug, outer K-fold CV over the
drug's cell lines (shuffled, seed 0). Methods, each fitted on the outer training rows only:

* RF: ``nnlite.RandomForestRegressor`` as the pipeline fits it (100 trees, max_features 1/3, min_samples_leaf 5).
* GB: ``nnlite.HistGradientBoostingRegressor`` with scikit-learn's defaults (0.1, 100 iterations, 31 leaves, 20).
* GB-cv: learning rate 0.05, (max_leaf_nodes, min_samples_leaf) in {4, 16} x {10, 20} and the number of trees
  in {50, 100, 200, 400} chosen by 3-fold inner CV (MSE), the trees' prefix sums giving every count from one fit.
* Stack: ``nnlite.NonNegativeStacker`` on (RF out-of-bag, GB-cv inner out-of-fold) predictions of the training
  rows, applied to the two models' test predictions.

Prints per drug the out-of-fold test MSE of each method and R^2 = 1 - MSE / Var(y), and the mean over drugs.
"""
import argparse
import itertools
import os
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from ccle.data.align import drug_dataset  # noqa: E402
from ccle.data.loader import load_data  # noqa: E402
from nnlite import HistGradientBoostingRegressor, NonNegativeStacker, RandomForestRegressor  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "ccle"
DRUGS = "AZD6244,PD-0325901,Nilotinib,Irinotecan,Paclitaxel,Lapatinib"
GRID = list(itertools.product([4, 16], [10, 20]))
TREES = [50, 100, 200, 400]
LR = 0.05


def kfold(n, k, seed):
    """Fold id (n,) of a shuffled k-fold split."""
    folds = np.empty(n, dtype=np.int64)
    folds[np.random.default_rng(seed).permutation(n)] = np.arange(n) % k
    return folds


def staged(model, X, counts):
    """Predictions of the first m trees for each m in counts -> (len(counts), n)."""
    out = []
    for m in counts:
        head = HistGradientBoostingRegressor()
        head.__dict__.update(model.__dict__)
        for name in ("feature_", "threshold_", "left_", "right_", "value_"):
            setattr(head, name, getattr(model, name)[:m])
        out.append(head.predict(X))
    return np.array(out)


def gb_cv(X, y, seed):
    """(fitted GB at the inner-CV best setting, its inner out-of-fold predictions (n,), the setting)."""
    inner = kfold(len(y), 3, seed + 1)
    oof = np.zeros((len(GRID), len(TREES), len(y)))
    for g, (leaves, msl) in enumerate(GRID):
        for f in range(3):
            tr, te = inner != f, inner == f
            model = HistGradientBoostingRegressor(learning_rate=LR, max_iter=max(TREES), max_leaf_nodes=leaves,
                                                  min_samples_leaf=msl, early_stopping=False).fit(X[tr], y[tr])
            oof[g, :, te] = staged(model, X[te], TREES).T
    mse = ((oof - y) ** 2).mean(axis=2)
    g, t = np.unravel_index(np.argmin(mse), mse.shape)
    leaves, msl = GRID[g]
    best = HistGradientBoostingRegressor(learning_rate=LR, max_iter=TREES[t], max_leaf_nodes=leaves,
                                         min_samples_leaf=msl, early_stopping=False).fit(X, y)
    return best, oof[g, t], (leaves, msl, TREES[t])


def run_drug(ds, k):
    X, y = ds.X, ds.y
    folds = kfold(len(y), k, 0)
    pred = {name: np.empty(len(y)) for name in ("RF", "GB", "GB-cv", "Stack")}
    settings = []
    for f in range(k):
        tr, te = folds != f, folds == f
        rf = RandomForestRegressor(n_estimators=100, max_features=1 / 3, min_samples_leaf=5, seed=0,
                                   oob_score=True).fit(X[tr], y[tr])
        pred["RF"][te] = rf.predict(X[te])
        pred["GB"][te] = HistGradientBoostingRegressor().fit(X[tr], y[tr]).predict(X[te])
        gb, gb_oof, setting = gb_cv(X[tr], y[tr], seed=f)
        settings.append(setting)
        pred["GB-cv"][te] = gb.predict(X[te])
        oob = rf.oob_prediction_
        ok = np.isfinite(oob)
        stacker = NonNegativeStacker().fit(np.column_stack([oob, gb_oof])[ok], y[tr][ok])
        pred["Stack"][te] = stacker.predict(np.column_stack([pred["RF"][te], pred["GB-cv"][te]]))
    mse = {name: float(np.mean((p - y) ** 2)) for name, p in pred.items()}
    return mse, float(np.var(y)), settings


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drugs", default=DRUGS)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--data", default=str(SHARED))
    args = parser.parse_args(argv)
    data = Path(args.data)
    expr, table = load_data(data / "expression" / "TGSA_DepMap_census706_expr_zscored.csv.gz",
                            data / "drug" / "CCLE_dose_response_scores.tsv",
                            sample_info=data / "expression" / "DepMap_sample_info_from_TGSA.csv")
    names = ("RF", "GB", "GB-cv", "Stack")
    print(f"{'drug':12s} {'n':>4s}  " + "  ".join(f"{m:>14s}" for m in names) + "   (test MSE / R^2)  GB-cv settings")
    r2_all = []
    for drug in args.drugs.split(","):
        ds = drug_dataset(expr, table, drug)
        start = time.process_time()
        mse, var, settings = run_drug(ds, args.folds)
        r2 = {m: 1 - mse[m] / var for m in names}
        r2_all.append([r2[m] for m in names])
        cells = "  ".join(f"{mse[m]:7.4f}/{r2[m]:6.3f}" for m in names)
        print(f"{drug:12s} {len(ds.y):4d}  {cells}   {settings}  ({time.process_time() - start:.0f} s CPU)",
              flush=True)
    mean = np.mean(r2_all, axis=0)
    print(f"{'mean R^2':12s} {'':4s}  " + "  ".join(f"{v:14.3f}" for v in mean))
    wins = np.sum(np.array(r2_all)[:, 2] > np.array(r2_all)[:, 0])
    print(f"GB-cv beats RF on {wins} of {len(r2_all)} drugs")


if __name__ == "__main__":
    sys.exit(main())
