"""The per-drug mean baseline.

``MeanRegressor`` predicts the training mean of y for every sample: R^2 = 0 on the training data by
construction, so a model that does not beat it on held-out data has learned nothing.
"""
import numpy as np

from nnlite.base import BaseEstimator, RegressorMixin


class MeanRegressor(RegressorMixin, BaseEstimator):
    """Predict the training mean: ``f(x) = mean(y_train)`` for every x (the per-drug mean baseline).

    Attributes
    ----------
    mean_ : float
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from nnlite import MeanRegressor
    >>> MeanRegressor().fit(np.zeros((3, 2)), [1.0, 2.0, 6.0]).predict(np.ones((2, 2)))
    array([3., 3.])
    """

    _poor_score = True  # by design: R^2 = 0 on the training rows

    def fit(self, X, y):
        X, y = self._check_fit_data(X, y, dtype=None, accept_bool=True)
        self.mean_ = float(y.mean())
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        """An array filled with ``mean_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples, with the columns seen in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples,)
            Predictions.
        """
        X = self._check_predict_data(X, dtype=None, accept_bool=True)
        return np.full(X.shape[0], self.mean_, dtype=np.float64)
