"""Sensitivity calls of one (drug, split, method) and the classification metrics a trivial classifier cannot game.

Classes are the ordered codes 0 resistant, 1 moderate, 2 sensitive (:mod:`ccle.evaluation.thresholds`). The observed class
of a test row is its observed value under the paper's IQR thresholds of the observed training responses. Two
rules classify a prediction: the paper rule (the same observed thresholds) and the calibrated rule (thresholds
on the predicted scale, 25 / 50 / 25 % of the training rows' out-of-fold predictions).

Undefined values are NaN, never a made-up number: balanced accuracy needs one observed class, Cohen's kappa is
NaN when observed and predicted classes are both one and the same class (0 / 0), and an AUROC is NaN when the test
rows hold only the positive or only the negative class. The report shows NaN as "n/a" and averages over splits
with NaN skipped (saying how many splits were defined).
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

from ccle.evaluation.thresholds import CalibratedThresholds, IQRThresholds, sensitive_direction

N_CLASSES = 3
RESISTANT_CODE, MODERATE_CODE, SENSITIVE_CODE = 0, 1, 2


def _codes(y, name):
    y = np.asarray(y).ravel()
    if y.size and (not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= N_CLASSES):
        raise ValueError(f"{name} must hold integer class codes 0, 1, 2")
    return y.astype(np.int64)


def _pair(y_true, y_pred):
    a, b = _codes(y_true, "y_true"), _codes(y_pred, "y_pred")
    if a.shape != b.shape:
        raise ValueError(f"y_true has {a.size} classes, y_pred has {b.size}")
    if a.size == 0:
        raise ValueError("classification metrics need at least one row")
    return a, b


def confusion(y_true, y_pred):
    """3x3 integer counts ``C[observed][predicted]`` over codes 0, 1, 2 (absent classes give zero rows)."""
    a, b = _pair(y_true, y_pred)
    return np.bincount(a * N_CLASSES + b, minlength=N_CLASSES ** 2).reshape(N_CLASSES, N_CLASSES)


def accuracy(y_true, y_pred):
    """Fraction of rows whose predicted class equals the observed class."""
    a, b = _pair(y_true, y_pred)
    return float(np.mean(a == b))


def balanced_accuracy(y_true, y_pred):
    """Mean over the classes present in ``y_true`` of the recall ``C[k, k] / sum_j C[k, j]`` (as scikit-learn's
    balanced_accuracy_score). Always "moderate" scores 1/3 when all three classes are observed."""
    c = confusion(y_true, y_pred)
    support = c.sum(axis=1)
    present = support > 0
    return float(np.mean(np.diag(c)[present] / support[present]))


def macro_f1(y_true, y_pred):
    """Unweighted mean of per-class F1 = 2 TP / (2 TP + FP + FN) over the classes present in ``y_true`` or
    ``y_pred`` (scikit-learn's f1_score(average="macro"); a present class with TP = 0 counts as F1 0)."""
    c = confusion(y_true, y_pred)
    tp = np.diag(c).astype(np.float64)
    denom = c.sum(axis=0) + c.sum(axis=1)  # = 2 TP + FP + FN
    present = denom > 0
    return float(np.mean(2.0 * tp[present] / denom[present]))


def quadratic_kappa(y_true, y_pred):
    """Cohen's kappa with quadratic weights ``w_ij = (i - j)^2`` on the ordered classes:
    ``1 - sum(w * O) / sum(w * E)``, O the observed confusion, E the outer product of its marginals / n
    (scikit-learn's cohen_kappa_score(weights="quadratic")). NaN when ``sum(w * E) = 0`` (observed and predicted
    are one and the same class)."""
    o = confusion(y_true, y_pred).astype(np.float64)
    n = o.sum()
    e = np.outer(o.sum(axis=1), o.sum(axis=0)) / n
    idx = np.arange(N_CLASSES)
    w = (idx[:, None] - idx[None, :]) ** 2
    den = float(np.sum(w * e))
    if den == 0.0:
        return math.nan
    return 1.0 - float(np.sum(w * o)) / den


def auroc(positive, score):
    """Area under the ROC curve of ``score`` (n,) for the boolean labels ``positive`` (n,), Mann-Whitney form:
    ``(R_pos - n_pos (n_pos + 1) / 2) / (n_pos n_neg)`` with ``R_pos`` the sum of the average ranks of the
    positives, i.e. P(score_pos > score_neg) + 0.5 P(tie). NaN when either class is absent."""
    positive = np.asarray(positive, dtype=bool).ravel()
    score = np.asarray(score, dtype=np.float64).ravel()
    if positive.shape != score.shape:
        raise ValueError(f"labels have {positive.size} rows, scores {score.size}")
    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return math.nan
    ranks = stats.rankdata(score)
    return (float(ranks[positive].sum()) - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)


def fit_call_rules(y_train, oof_pred_train, response):
    """The two rules of one fit: ``(paper, calibrated)`` = (:class:`IQRThresholds` of the observed training
    responses, :class:`CalibratedThresholds` of the training rows' out-of-fold predictions), both oriented by
    :func:`sensitive_direction` of ``response``. ``oof_pred_train`` may cover all or only some training rows
    (e.g. a network's validation rows); only its distribution matters."""
    direction = sensitive_direction(response)
    return (IQRThresholds(direction=direction).fit(y_train),
            CalibratedThresholds(direction=direction).fit(oof_pred_train))


def call_classes(observed, predicted, paper, calibrated):
    """Codes (n,) ``class_observed`` (observed values, paper thresholds), ``class_paper`` (predictions, paper
    thresholds), ``class_calibrated`` (predictions, calibrated thresholds), as a dict of int8 arrays."""
    return {"class_observed": paper.codes(observed), "class_paper": paper.codes(predicted),
            "class_calibrated": calibrated.codes(predicted)}


def call_metrics(y_test, pred_test, y_train, oof_pred_train, response):
    """The sensitivity-call fragment of a result record for one (drug, split, method).

    y_test, pred_test (n_test,): observed and predicted test responses; y_train (n_train,): observed training
    responses (paper thresholds); oof_pred_train (m,): out-of-fold predictions of training rows (calibrated
    thresholds); response: the response column name (direction).
    Returns sens_acc, paper_bal_acc, paper_kappa (paper rule), cal_acc, cal_bal_acc, cal_macro_f1, cal_kappa
    (calibrated rule), auroc_sensitive, auroc_resistant (rule-free: observed class vs the continuous prediction
    oriented so that higher = more sensitive), confusion_paper, confusion_calibrated (3x3 lists
    [observed][predicted], order resistant, moderate, sensitive). NaN where undefined (module docstring).
    """
    y_test = np.asarray(y_test, dtype=np.float64).ravel()
    pred_test = np.asarray(pred_test, dtype=np.float64).ravel()
    paper, calibrated = fit_call_rules(y_train, oof_pred_train, response)
    cls = call_classes(y_test, pred_test, paper, calibrated)
    obs, by_paper, by_cal = cls["class_observed"], cls["class_paper"], cls["class_calibrated"]
    oriented = paper.direction * pred_test
    return {
        "sens_acc": accuracy(obs, by_paper),
        "paper_bal_acc": balanced_accuracy(obs, by_paper),
        "paper_kappa": quadratic_kappa(obs, by_paper),
        "cal_acc": accuracy(obs, by_cal),
        "cal_bal_acc": balanced_accuracy(obs, by_cal),
        "cal_macro_f1": macro_f1(obs, by_cal),
        "cal_kappa": quadratic_kappa(obs, by_cal),
        "auroc_sensitive": auroc(obs == SENSITIVE_CODE, oriented),
        "auroc_resistant": auroc(obs == RESISTANT_CODE, -oriented),
        "confusion_paper": confusion(obs, by_paper).tolist(),
        "confusion_calibrated": confusion(obs, by_cal).tolist(),
    }


def prediction_percentile(predicted, reference):
    """Percentile (0-100) of each prediction (n,) among ``reference`` (m,), the training rows' out-of-fold
    predictions (the scale the calibrated thresholds live on): ``100 * (#{r < p} + 0.5 #{r == p}) / m``. On the
    response's own scale, so for direction -1 a low percentile means sensitive; 25 / 75 are the calibrated
    thresholds up to ties. ``predict`` stores the sorted reference in the model file (m floats)."""
    ref = np.sort(np.asarray(reference, dtype=np.float64).ravel())
    if ref.size == 0:
        raise ValueError("the reference predictions are empty")
    p = np.asarray(predicted, dtype=np.float64).ravel()
    below = np.searchsorted(ref, p, side="left")
    upto = np.searchsorted(ref, p, side="right")
    return 100.0 * (below + 0.5 * (upto - below)) / ref.size
