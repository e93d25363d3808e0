"""Prediction intervals of one benchmark task and their record fields: how sure each prediction is.

Every method that has out-of-fold (OOF) predictions of its training rows (:mod:`ccle.methods.oof`) gets split-conformal
intervals from their absolute residuals (:func:`nnlite.conformal.split_interval`): at level 1 - alpha the
half-width is the ``ceil((n + 1)(1 - alpha))``-th smallest ``|y_i - oof_i|`` of the n training rows with an
OOF prediction. Test rows get ``prediction -+ q``, training rows ``oof -+ q`` (NaN where a row has no OOF
prediction, or for a method without any). The guarantee is marginal over exchangeable rows and approximate
(the residuals are those of fold models, the test rows are predicted by the final model): see
:mod:`nnlite.conformal`.

``call_confident`` (per row): the whole interval lies in one class region of the paper rule (the IQR of the
observed training responses), so, at the interval's level, the observed class is the called one.

Record fields (:func:`interval_fields`): ``interval_level``, ``interval_coverage`` (share of test rows whose
observed response lies in its interval), ``interval_width`` (median test width), ``confident_share`` (share
of test rows called confidently) and ``confident_acc`` (paper-rule accuracy among them; NaN when none).
"""
import numpy as np

from nnlite.conformal import DEFAULT_LEVEL, conformal_quantile, coverage, same_region

FIELDS = ("interval_level", "interval_coverage", "interval_width", "confident_share", "confident_acc")


def task_intervals(y_train, oof_train, predicted, level=DEFAULT_LEVEL):
    """``(lower, upper)`` (m,) each for ``predicted`` (m,) (test predictions or OOF predictions, NaN allowed)
    from the absolute residuals of the training rows ``y_train`` (n,) against ``oof_train`` (n, NaN where a
    row has none). All NaN when fewer than one training row has an OOF prediction; -inf / inf when too few
    rows for the level (``ceil((n + 1) level) > n``)."""
    y = np.asarray(y_train, dtype=np.float64).ravel()
    oof = np.asarray(oof_train, dtype=np.float64).ravel()
    pred = np.asarray(predicted, dtype=np.float64).ravel()
    known = np.isfinite(oof)
    if not known.any():
        return np.full(pred.shape, np.nan), np.full(pred.shape, np.nan)
    q = conformal_quantile(np.abs(y[known] - oof[known]), level)
    return pred - q, pred + q


def confident(lower, upper, paper_rule):
    """``call_confident`` (m,) bool: both ends of the interval get the same class code of ``paper_rule``
    (an :class:`ccle.evaluation.thresholds.IQRThresholds`); NaN or infinite ends -> False."""
    return same_region(lower, upper, paper_rule.codes)


def interval_fields(y_test, pred_test, lower, upper, paper_rule, level=DEFAULT_LEVEL):
    """The record fields of :data:`FIELDS` for one task's test rows (see the module docstring); NaN when
    the method has no intervals."""
    y = np.asarray(y_test, dtype=np.float64).ravel()
    lower = np.asarray(lower, dtype=np.float64).ravel()
    upper = np.asarray(upper, dtype=np.float64).ravel()
    out = {"interval_level": float(level)}
    if not np.isfinite(lower).any() and not np.isinf(lower).any():
        out.update({k: float("nan") for k in FIELDS[1:]})
        return out
    sure = confident(lower, upper, paper_rule)
    called = paper_rule.codes(np.asarray(pred_test, dtype=np.float64).ravel())
    observed = paper_rule.codes(y)
    out["interval_coverage"] = coverage(y, lower, upper)
    out["interval_width"] = float(np.median(upper - lower)) if y.size else float("nan")
    out["confident_share"] = float(np.mean(sure)) if y.size else float("nan")
    out["confident_acc"] = float(np.mean(called[sure] == observed[sure])) if sure.any() else float("nan")
    return out
