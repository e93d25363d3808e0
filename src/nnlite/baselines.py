"""The per-drug mean baseline.

``MeanRegressor`` predicts the training mean of y for every sample: R^2 = 0 on the training data by
construction, so a model that does not beat it on held-out data has learned nothing.
"""
import numpy as np

from nnlite.base import BaseEstimator, RegressorMixin


class MeanRegressor(RegressorMixin, BaseEstimator):
    """Predict the training mean: f(x) = mean(y_train) for all x. Attributes: ``mean_`` (float),
    ``n_features_in_``."""

    _poor_score = True  # by design: R^2 = 0 on the training rows

    def fit(self, X, y):
        X, y = self._check_fit_data(X, y, dtype=None, accept_bool=True)
        self.mean_ = float(y.mean())
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        """Return (n,) float64 filled with ``mean_``."""
        X = self._check_predict_data(X, dtype=None, accept_bool=True)
        return np.full(X.shape[0], self.mean_, dtype=np.float64)
