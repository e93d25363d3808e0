"""The ``tissue`` baseline: how much of a model's skill is tissue identity.

Per drug, the prediction for a cell line of tissue t is the mean response of the training lines of tissue t,
and the drug's training mean when no training line has tissue t (always the case under leave-tissue-out, where
the baseline therefore equals the per-drug mean):

    yhat(x) = mean{ y_i : tissue_i = t(x) }   if that set is non-empty, else mean{ y_i }.

The tissues are passed to ``fit`` and ``predict`` as per-row data (``tissues=``, like scikit-learn's
``groups``/``sample_weight``) rather than to the constructor: ``__init__`` then keeps hyper-parameters only,
one fitted model predicts any rows (training, test, a new file) without being rebuilt, and the runner calls
it with the same ``fit(X, y)`` / ``predict(X)`` as every other method, plus one keyword.
"""
import numpy as np

from ccle.evaluation.thresholds import IQRThresholds


class TissueMeanModel:
    """Per-drug tissue mean (see the module docstring). ``min_lines``: a tissue needs at least this many
    training lines to get its own mean (1 = any). ``seed`` and ``selector`` are accepted for the runner's
    uniform constructor call and unused.

    Attributes: ``tissue_means_`` (dict tissue -> mean), ``tissue_counts_``, ``mean_`` (drug training mean),
    ``thresholds_`` (IQR thresholds of the observed training responses), ``oof_predictions_`` (n_train,): each
    training line's leave-one-out prediction (the mean of the *other* training lines of its tissue, the drug
    mean of the others where none is left), for the calibrated class calls.
    """

    def __init__(self, min_lines=1, seed=0, selector=None):
        self.min_lines = min_lines
        self.seed = seed
        self.selector = selector

    @staticmethod
    def _check(X, y, tissues):
        n = np.asarray(X).shape[0] if X is not None else len(tissues)
        if tissues is None:
            raise ValueError("TissueMeanModel needs tissues=[one tissue per row]")
        tissues = [str(t) for t in tissues]
        if len(tissues) != n:
            raise ValueError(f"X has {n} rows but {len(tissues)} tissues were given")
        if y is not None:
            y = np.asarray(y, dtype=np.float64).ravel()
            if y.shape[0] != n or not np.all(np.isfinite(y)):
                raise ValueError(f"y must hold {n} finite values")
        return y, tissues

    def fit(self, X, y, tissues=None):
        y, tissues = self._check(X, y, tissues)
        if y.size == 0:
            raise ValueError("cannot fit on 0 rows")
        self.mean_ = float(y.mean())
        sums, counts = {}, {}
        for t, v in zip(tissues, y):
            sums[t] = sums.get(t, 0.0) + float(v)
            counts[t] = counts.get(t, 0) + 1
        self.tissue_counts_ = counts
        self.tissue_means_ = {t: sums[t] / counts[t] for t in sums if counts[t] >= int(self.min_lines)}
        self.thresholds_ = IQRThresholds().fit(y)
        n = y.size
        loo = np.empty(n)
        for i, (t, v) in enumerate(zip(tissues, y)):
            c = counts[t] - 1
            if c >= int(self.min_lines) and c > 0:
                loo[i] = (sums[t] - v) / c
            else:
                loo[i] = (self.mean_ * n - v) / (n - 1) if n > 1 else self.mean_
        self.oof_predictions_ = loo
        return self

    def predict(self, X, tissues=None):
        """(n,) predictions for rows of the given ``tissues``."""
        _, tissues = self._check(X, None, tissues)
        return np.array([self.tissue_means_.get(t, self.mean_) for t in tissues], dtype=np.float64)

    def classify(self, X, tissues=None):
        return self.thresholds_.classify(self.predict(X, tissues=tissues))
