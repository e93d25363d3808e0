"""``GB``: least-squares gradient boosting per drug (:class:`nnlite.HistGradientBoostingRegressor`) on all scaled
genes, its number of trees chosen by early stopping inside the training rows only.

Why cross-fitting: the calibrated calls and the prediction intervals need an out-of-fold prediction of every
training row, and a boosted model's in-sample predictions are far too good for that. The training rows are cut
into ``cv`` seeded folds; on each, a model is fitted on the other folds, early-stopped on a random
``validation_fraction`` of them, and predicts its own fold. The final model is refitted on every training row
with the median number of trees the folds chose (no early stopping, so no row is held back from it).
"""
import numpy as np

from ccle.evaluation.splits import kfold_splits
from ccle.evaluation.thresholds import IQRThresholds
from ccle.methods.gene_selection import scaler_only
from ccle.methods.preprocess import check_xy
from nnlite.gbm import HistGradientBoostingRegressor


class GradientBoostingModel:
    """Gradient boosting of small trees on one drug's scaled genes, with cross-fitted out-of-fold predictions.

    Parameters
    ----------
    learning_rate : float
        Shrinkage of every tree.
    max_iter : int
        Most trees of a fold's model (early stopping usually stops far sooner).
    max_leaf_nodes : int
        Leaves per tree (grown best first).
    min_samples_leaf : int
        Fewest training rows in a leaf.
    l2_regularization : float
        L2 penalty on the leaf values (the lambda of the split gain and of ``-G / (H + lambda)``).
    validation_fraction : float
        Share of a fold's training rows its early stopping scores on.
    n_iter_no_change : int
        Trees without improvement before a fold's model stops.
    cv : int
        Folds of the cross-fitting.
    seed : int
        Seeds the folds and the early-stopping rows.
    selector : GeneSelector, optional
        A fitted scaling (the paper protocol's all-rows one); default: min-max scaling of the training rows.

    Attributes
    ----------
    model_ : HistGradientBoostingRegressor
        The model refitted on every training row with ``n_iter_`` trees.
    n_iter_ : int
        Median of the folds' early-stopped number of trees.
    fold_n_iter_ : list of int
        Trees each fold's model kept.
    oof_predictions_ : ndarray of shape (n_train,)
        Each training row predicted by the fold model that never fitted it.
    feature_importances_ : ndarray of shape (n_genes,)
        Total split gain per gene of the final model, normalized to sum to 1.
    """

    def __init__(self, learning_rate=0.05, max_iter=300, max_leaf_nodes=8, min_samples_leaf=10,
                 l2_regularization=1.0, validation_fraction=0.15, n_iter_no_change=15, cv=5, seed=0, selector=None):
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.cv = cv
        self.seed = seed
        self.selector = selector

    def _booster(self, max_iter, early_stopping, seed):
        return HistGradientBoostingRegressor(
            learning_rate=self.learning_rate, max_iter=int(max_iter), max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf, l2_regularization=self.l2_regularization,
            early_stopping=early_stopping, validation_fraction=self.validation_fraction,
            n_iter_no_change=self.n_iter_no_change, random_state=int(seed) % (2 ** 31))

    def fit(self, X, y):
        """Cross-fit the out-of-fold predictions, then refit on every row of ``X`` (n, genes), ``y`` (n,)."""
        X, y = check_xy(X, y)
        self.selector_ = self.selector if self.selector is not None else scaler_only(X)
        Z = np.ascontiguousarray(self.selector_.scale(X), dtype=np.float64)
        self.oof_predictions_ = np.empty(X.shape[0])
        self.fold_n_iter_ = []
        for f, (tr, va) in enumerate(kfold_splits(X.shape[0], self.cv, self.seed)):
            fold = self._booster(self.max_iter, True, self.seed * 100 + f).fit(Z[tr], y[tr])
            self.oof_predictions_[va] = fold.predict(Z[va])
            self.fold_n_iter_.append(int(fold.n_iter_))
        self.n_iter_ = max(1, int(np.median(self.fold_n_iter_)))
        self.model_ = self._booster(self.n_iter_, False, self.seed).fit(Z, y)
        self.feature_importances_ = np.asarray(self.model_.feature_importances_, dtype=np.float64)
        self.thresholds_ = IQRThresholds().fit(y)
        return self

    def predict(self, X):
        """Predicted responses (n,) of the final model."""
        Z = np.ascontiguousarray(self.selector_.scale(X), dtype=np.float64)
        return np.asarray(self.model_.predict(Z), dtype=np.float64)
