"""Out-of-fold (OOF) predictions of the training rows, which the calibrated rule's thresholds are fitted on.

A prediction of a training row is out-of-fold when the model that made it never fitted that row. The cheapest
source per method (what each function here needs is given in its docstring):

- PM+ and MT: their committee -- fold network f was trained on the other folds and early-stopped on fold f,
  so it predicts fold f out-of-fold at the cost of one forward pass (:func:`committee_oof_predictions`; MT's
  folds are of cell lines, so one network predicts a held-out line for every drug at once), rescaled by
  :func:`committee_spread_ratio`.
- EN: the CV paths' own held-out predictions at the chosen (alpha, l1_ratio) (``ElasticNetCV.cv_predictions_``:
  no extra fit).
- SVR: refit at the chosen C on each CV fold when its CV kept no held-out predictions
  (:func:`refit_oof_predictions`; k single fits, far cheaper than the CV itself).
- RF, ANN or anything else: :func:`oof_predictions` (k extra fits of a fresh estimator; no hyper-parameter is
  chosen on the held-out fold).
- mean: :func:`mean_oof_predictions`, the training mean itself, so the calibrated rule calls everything
  "moderate" (leave-fold-out means would spread by noise alone and make the trivial predictor look calibrated).
"""
from __future__ import annotations

import numpy as np


def fold_ids(n_rows, n_folds, seed):
    """Seeded fold id (0 .. n_folds - 1) of each of ``n_rows`` rows: ``permutation(n_rows) % n_folds`` with
    ``np.random.default_rng(seed)`` -- the assignment PerDrugModel and SVRModel use for their inner CV."""
    if not 2 <= int(n_folds) <= int(n_rows):
        raise ValueError(f"need 2 <= n_folds <= n_rows, got n_folds={n_folds}, n_rows={n_rows}")
    return np.random.default_rng(seed).permutation(int(n_rows)) % int(n_folds)


def _check_folds(folds, n):
    folds = np.asarray(folds).ravel()
    if folds.shape[0] != n:
        raise ValueError(f"folds has {folds.shape[0]} entries for {n} rows")
    return folds


def oof_predictions(make_estimator, X, y, n_folds=5, seed=0, folds=None):
    """Generic OOF predictions (n,): for each fold f, ``make_estimator().fit(X[folds != f], y[folds != f])``
    predicts ``X[folds == f]``. ``folds`` (n,) fold ids, default :func:`fold_ids` (n, n_folds, seed)."""
    X = np.asarray(X)
    y = np.asarray(y, dtype=np.float64).ravel()
    folds = fold_ids(X.shape[0], n_folds, seed) if folds is None else _check_folds(folds, X.shape[0])
    out = np.empty(X.shape[0], dtype=np.float64)
    for f in np.unique(folds):
        held = folds == f
        est = make_estimator().fit(X[~held], y[~held])
        out[held] = np.asarray(est.predict(X[held]), dtype=np.float64).ravel()
    return out


def committee_oof_predictions(networks, Z, folds, y_mean=0.0, y_scale=1.0):
    """OOF predictions of a committee whose network f never fitted the rows of fold f: row i is predicted
    by ``networks[folds[i]]`` alone, mapped back as ``pred * y_scale + y_mean``. One output per network ->
    (n,); k outputs (a multitask network) -> (n, k), with ``y_mean`` / ``y_scale`` scalars or (k,).

    PerDrugModel: ``committee_oof_predictions(pm.networks_, pm.selector_.transform(X_train),
    fold_ids(n_train, pm.cv, pm.seed), pm.y_mean_, pm.y_scale_)`` (the compressed networks are fine-tuned on
    their training folds only, so this holds after compression too). MultiTaskModel: its fold networks on its
    inner cell-line folds (``mt.folds_``), every drug's column at once.
    """
    Z = np.asarray(Z)
    folds = _check_folds(folds, Z.shape[0])
    if len(networks) != len(np.unique(folds)) or folds.max() >= len(networks):
        raise ValueError(f"{len(networks)} networks for fold ids {np.unique(folds).tolist()}")
    out = None
    for f, net in enumerate(networks):
        held = folds == f
        pred = np.asarray(net.predict(Z[held]), dtype=np.float64).reshape(int(held.sum()), -1)
        if out is None:
            out = np.empty((Z.shape[0], pred.shape[1]), dtype=np.float64)
        out[held] = pred
    out = out * np.asarray(y_scale, dtype=np.float64) + np.asarray(y_mean, dtype=np.float64)
    return out[:, 0] if out.shape[1] == 1 else out


def committee_spread_ratio(each):
    """std of the committee's (mean) predictions / root-mean variance of its single networks' predictions,
    ``each`` (k networks, n rows) of one output -> float (1.0 when the networks predict constants). Below 1
    because the members' errors partly cancel in the mean: out-of-fold predictions, each made by one member,
    are rescaled about their mean by it so that thresholds fitted on them sit on the committee's scale."""
    each = np.asarray(each, dtype=np.float64)
    single = float(np.sqrt(np.mean(np.var(each, axis=1))))
    return float(np.std(each.mean(axis=0)) / single) if single > 0 else 1.0


def refit_oof_predictions(make_estimator, Z, y, folds):
    """OOF predictions (n,) from refits at already-chosen hyper-parameters on given folds (the CV folds of
    the method, so no new randomness): same loop as :func:`oof_predictions`.

    SVR: ``lambda: svr._svr(svr.C_)`` on ``svr.selector_.transform(X_train)`` with ``fold_ids(n, svr.cv,
    svr.seed)``. (The elastic net needs no refit: ``ElasticNetCV.cv_predictions_`` holds its CV paths'
    held-out predictions.)
    """
    return oof_predictions(make_estimator, Z, y, folds=folds)


def fold_ids_from_splits(splits, n_rows):
    """Fold ids (n,) from a list of (train, test) index arrays whose test parts partition the rows."""
    ids = np.full(int(n_rows), -1, dtype=np.int64)
    for f, (_, test) in enumerate(splits):
        ids[np.asarray(test, dtype=np.int64)] = f
    if (ids < 0).any():
        raise ValueError("the test parts of the splits do not cover every row")
    return ids


def mean_oof_predictions(y_train):
    """The mean predictor's OOF stand-in: the training mean for every row (n,) (see the module docstring)."""
    y = np.asarray(y_train, dtype=np.float64).ravel()
    return np.full(y.shape, float(y.mean()))
