"""Regression metrics and the corrected resampled t-test.

- :func:`regression_metrics`: MSE, RMSE, R^2, Pearson r, Spearman rho.
- :func:`corrected_resampled_ttest`: Nadeau & Bengio (2003), "Inference for the generalization error",
  Machine Learning 52:239-281 -- the paired t-test over random train/test splits with the variance inflated by
  n_test / n_train to account for the overlap of the training sets.
"""
import math

import numpy as np
from scipy import stats

from ccle.errors import CCLEError

def _check_pair(y_true, y_pred):
    y_true = np.asarray(y_true, dtype=np.float64).ravel()
    y_pred = np.asarray(y_pred, dtype=np.float64).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {y_true.size} values but y_pred has {y_pred.size}")
    if y_true.size == 0:
        raise ValueError("metrics need at least one value (got empty arrays)")
    if not (np.all(np.isfinite(y_true)) and np.all(np.isfinite(y_pred))):
        raise ValueError("metrics got NaN or inf values")
    return y_true, y_pred


def _pearson(a, b):
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")   # undefined: a centred constant is rounding noise, whose correlation means nothing
    a = a - a.mean()
    b = b - b.mean()
    den = math.sqrt(float(a @ a) * float(b @ b))
    return float(a @ b) / den if den > 0 else 0.0


def regression_metrics(y_true, y_pred):
    """The regression metrics of predictions against observed responses.

    ``mse = mean((y - yhat)^2)``, ``rmse = sqrt(mse)``, ``r2 = 1 - SSE / SST`` (0 when ``y_true`` is constant),
    ``pearson`` = Pearson correlation, ``spearman`` = Pearson correlation of the average ranks; a correlation is
    NaN when either side is constant (e.g. the mean predictor), where it is undefined (the report shows "n/a").

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n,)
        Observed and predicted responses.

    Returns
    -------
    dict
        ``mse``, ``rmse``, ``r2``, ``pearson``, ``spearman`` (floats).

    Examples
    --------
    >>> from ccle.evaluation.metrics import regression_metrics
    >>> m = regression_metrics([1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
    >>> round(m["mse"], 4), round(m["spearman"], 4)
    (0.3333, 1.0)
    """
    y_true, y_pred = _check_pair(y_true, y_pred)
    resid = y_true - y_pred
    mse = float(np.mean(resid ** 2))
    sst = float(np.sum((y_true - y_true.mean()) ** 2))
    r2 = 1.0 - float(np.sum(resid ** 2)) / sst if sst > 0 else 0.0
    return {
        "mse": mse,
        "rmse": math.sqrt(mse),
        "r2": r2,
        "pearson": _pearson(y_true, y_pred),
        "spearman": _pearson(stats.rankdata(y_true), stats.rankdata(y_pred)),
    }


def corrected_resampled_ttest(differences, n_train, n_test):
    """Corrected resampled paired t-test (Nadeau & Bengio 2003) over ``k`` random train/test splits.

    ``differences`` (k,) holds, per split, score(A) - score(B) measured on the same test rows. With mean ``d`` and
    sample variance ``s^2`` (ddof 1), ``t = d / sqrt((1/k + n_test/n_train) * s^2)`` with ``k - 1`` degrees of
    freedom; the ``n_test/n_train`` term corrects the naive test for the overlap between training sets.

    Parameters
    ----------
    differences : array-like of shape (k,)
        Per split, score(A) - score(B) on the same test rows.
    n_train, n_test : int
        Training and test rows of one split.

    Returns
    -------
    dict
        ``mean``, ``t``, ``p`` (two-sided) and ``k``; ``t`` and ``p`` are NaN for ``k < 2``, and when all
        differences are equal ``t`` is 0 (p = 1) if they are zero, else +-inf (p = 0).

    Raises
    ------
    ValueError
        Empty or non-finite differences, or a non-positive row count.

    Examples
    --------
    >>> from ccle.evaluation.metrics import corrected_resampled_ttest
    >>> r = corrected_resampled_ttest([-0.02, -0.03, -0.01, -0.02, -0.04], n_train=70, n_test=30)
    >>> r["k"], round(r["t"], 2), round(r["p"], 3)   # the naive t-test would give p = 0.009
    (5, -2.65, 0.057)
    """
    d = np.asarray(differences, dtype=np.float64).ravel()
    if d.size == 0 or not np.all(np.isfinite(d)):
        raise ValueError("the t-test needs finite differences (got empty or NaN/inf)")
    if n_train <= 0 or n_test <= 0:
        raise ValueError(f"n_train and n_test must be positive, got {n_train} and {n_test}")
    k = d.size
    mean = float(d.mean())
    if k < 2:
        return {"mean": mean, "t": float("nan"), "p": float("nan"), "k": k}
    var = float(d.var(ddof=1))
    if var == 0.0:
        if mean == 0.0:
            return {"mean": mean, "t": 0.0, "p": 1.0, "k": k}
        return {"mean": mean, "t": math.copysign(math.inf, mean), "p": 0.0, "k": k}
    t = mean / math.sqrt((1.0 / k + n_test / n_train) * var)
    p = float(2.0 * stats.t.sf(abs(t), df=k - 1))
    return {"mean": mean, "t": float(t), "p": p, "k": k}
