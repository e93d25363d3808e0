"""Prediction intervals for a regression model from its out-of-fold (OOF) residuals (conformal prediction).

Two constructions, both at a nominal level ``level`` = 1 - alpha (e.g. 0.9):

- **Split conformal from OOF residuals** (:func:`conformal_quantile`, :func:`split_interval`): with
  ``R_i = |y_i - oof_i|`` the absolute OOF residuals of the n training rows, ``q`` = the
  ``ceil((n + 1)(1 - alpha))``-th smallest R_i (infinite when that rank exceeds n), and the interval of a new
  prediction ``mu(x)`` is ``[mu(x) - q, mu(x) + q]``. Needs nothing but the OOF predictions, so it serves every
  model that has them and a deployed model file (the sorted residuals are stored).
- **CV+ / jackknife+** (Barber, Candes, Ramdas & Tibshirani 2021, "Predictive inference with the
  jackknife+", Ann. Statist. 49(1)) where the per-fold models are available (:func:`cv_plus_interval`):
  with ``mu_{-k(i)}`` the model that never saw row i (fold k(i)) and ``R_i = |y_i - mu_{-k(i)}(x_i)|``,
  the interval of x is ``[q_lo{mu_{-k(i)}(x) - R_i}, q_hi{mu_{-k(i)}(x) + R_i}]``, q_lo the
  ``floor(alpha (n + 1))``-th smallest and q_hi the ``ceil((1 - alpha)(n + 1))``-th smallest value
  (jackknife+ is the case of n folds of one row).
- **Locally adaptive** (normalized) intervals (:func:`normalized_interval`): scores ``R_i / s_i`` with s a
  spread estimate (e.g. the disagreement of a committee's members), interval ``mu(x) +- q * s(x)``. Same
  guarantee as split conformal; narrower where the spread is informative, wider where it is not.

What the guarantee is, and is not:

- It is **marginal**: over the draw of the training rows and of the new row together,
  P(y in interval) >= 1 - alpha. It says nothing about a given x or a subgroup (one tissue may be covered
  80 % of the time and another 98 %), and nothing about one particular interval.
- It needs **exchangeability**: the new row must come from the same distribution as the training rows. Rows
  from another platform, scale or population break it; that is what :mod:`nnlite.domain` flags.
- For split conformal the exact guarantee (and the upper bound 1 - alpha + 1 / (n + 1)) holds when the model
  that predicts the new row is independent of the calibration residuals. Residuals out of fold are the
  residuals of the **fold models**, while the new row is predicted by the final model (fitted on all rows, or
  the committee of the fold models): an approximation that is conservative when the final model is better
  than a fold model (a committee, more data) and optimistic when it overfits. CV+ gives the proven but weaker
  bound 1 - 2 alpha - sqrt(2 / n) (jackknife+: 1 - 2 alpha); in practice both cover close to 1 - alpha.
  Hyper-parameters chosen on the same folds add a mild optimism.

Which one the ccle benchmark and model files use, measured (PM+, the regularized committee, on the shared CCLE
data: Nutlin-3, PD-0325901, Lapatinib x 2 splits, 90 %): split conformal covered 91.4 % of the test rows on
average (lowest 88.4 %) at median width 2.21; CV+ with the committee's fold networks 91.6 % (88.4 %) at 2.25, no
better; normalized by the committee's disagreement 78.4 % (lowest 68.4 %) at 1.75: the networks agree more on the
training rows most of them fitted than on new rows, so the scores are not exchangeable and the intervals are too
narrow. Split conformal from OOF residuals is therefore the one used (it needs only the OOF predictions).

Numpy only (used by :mod:`nnlite.runtime`).
"""
import math

import numpy as np

DEFAULT_LEVEL = 0.9   # the nominal level of the intervals the ccle commands write


def _alpha(level):
    level = float(level)
    if not 0.0 < level < 1.0:
        raise ValueError(f"the interval level must lie strictly between 0 and 1, got {level!r}")
    return 1.0 - level


def _finite_vector(a, name):
    a = np.asarray(a, dtype=np.float64).ravel()
    if a.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or inf")
    return a


def upper_rank(n, level):
    """``ceil((n + 1) * level)``: the rank (1-based) of the conformal quantile among n scores (may be n + 1,
    meaning an infinite quantile). Rounded to 9 digits first so that e.g. (19 + 1) * 0.9 is rank 18, not 19."""
    _alpha(level)
    return int(math.ceil(round((int(n) + 1) * float(level), 9)))


def conformal_quantile(scores, level):
    """The split-conformal quantile of ``scores`` (n,) (e.g. absolute OOF residuals) at ``level``: the
    :func:`upper_rank`-th smallest score, ``inf`` when that rank exceeds n (too few rows for the level)."""
    s = np.sort(_finite_vector(scores, "scores"))
    k = upper_rank(s.size, level)
    return float("inf") if k > s.size else float(s[k - 1])


def split_interval(predicted, abs_residuals, level):
    """``(lower, upper)`` (n,) each: ``predicted -+ q``, q = :func:`conformal_quantile` of the absolute OOF
    residuals (m,) at ``level`` (see the module docstring for what this guarantees)."""
    pred = np.asarray(predicted, dtype=np.float64).ravel()
    q = conformal_quantile(abs_residuals, level)
    return pred - q, pred + q


def normalized_interval(predicted, spread, abs_residuals, train_spread, level):
    """Locally adaptive ``(lower, upper)``: scores ``abs_residuals / train_spread`` (m,), q their conformal
    quantile, interval ``predicted -+ q * spread`` (n,). Spreads must be > 0 (a floor is the caller's choice)."""
    s_tr = _finite_vector(train_spread, "train_spread")
    s_new = np.asarray(spread, dtype=np.float64).ravel()
    if (s_tr <= 0).any() or (s_new <= 0).any():
        raise ValueError("spreads must be > 0")
    r = _finite_vector(abs_residuals, "abs_residuals")
    if r.size != s_tr.size:
        raise ValueError(f"{r.size} residuals for {s_tr.size} spreads")
    q = conformal_quantile(r / s_tr, level)
    pred = np.asarray(predicted, dtype=np.float64).ravel()
    return pred - q * s_new, pred + q * s_new


def cv_plus_interval(fold_predictions, folds, oof_residuals, level):
    """CV+ intervals (Barber et al. 2021) -> ``(lower, upper)`` (m,) each.

    ``fold_predictions`` (k, m): the prediction of each of the m new rows by each of the k fold models (model
    f never fitted the training rows of fold f); ``folds`` (n,) the fold id (0..k-1) of each training row;
    ``oof_residuals`` (n,) ``|y_i - mu_{-folds[i]}(x_i)|``. Lower end: the ``floor(alpha (n + 1))``-th smallest
    of ``mu_{-folds[i]}(x) - R_i`` over i (``-inf`` when that rank is 0); upper end: the
    ``ceil((1 - alpha)(n + 1))``-th smallest of ``mu_{-folds[i]}(x) + R_i`` (``inf`` past n).
    """
    alpha = _alpha(level)
    F = np.asarray(fold_predictions, dtype=np.float64)
    if F.ndim == 1:
        F = F[:, None]
    folds = np.asarray(folds).ravel()
    r = _finite_vector(oof_residuals, "oof_residuals")
    if folds.size != r.size:
        raise ValueError(f"{folds.size} fold ids for {r.size} residuals")
    if folds.min() < 0 or folds.max() >= F.shape[0]:
        raise ValueError(f"fold ids must lie in 0..{F.shape[0] - 1}")
    n = r.size
    k_hi = upper_rank(n, 1.0 - alpha)
    k_lo = int(math.floor(round(alpha * (n + 1), 9)))
    per_row = F[folds]                       # (n, m): mu_{-k(i)}(x_j)
    lower = np.full(F.shape[1], -np.inf)
    upper = np.full(F.shape[1], np.inf)
    if k_lo >= 1:
        lower = np.partition(per_row - r[:, None], k_lo - 1, axis=0)[k_lo - 1]
    if k_hi <= n:
        upper = np.partition(per_row + r[:, None], k_hi - 1, axis=0)[k_hi - 1]
    return lower, upper


def coverage(observed, lower, upper):
    """Share (float) of ``observed`` (n,) within ``[lower, upper]`` (ends included); NaN for n = 0."""
    y = np.asarray(observed, dtype=np.float64).ravel()
    if y.size == 0:
        return float("nan")
    return float(np.mean((y >= np.asarray(lower)) & (y <= np.asarray(upper))))


def same_region(lower, upper, codes):
    """Boolean (n,): both ends of each interval fall in the same region of a monotone rule ``codes`` (a
    function values -> integer region, non-decreasing or non-increasing in the value), i.e. the whole
    interval lies in one region. Infinite or NaN ends -> False."""
    lo = np.asarray(lower, dtype=np.float64).ravel()
    hi = np.asarray(upper, dtype=np.float64).ravel()
    ok = np.isfinite(lo) & np.isfinite(hi)
    out = np.zeros(lo.shape, dtype=bool)
    if ok.any():
        out[ok] = np.asarray(codes(lo[ok])) == np.asarray(codes(hi[ok]))
    return out
