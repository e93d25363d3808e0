"""``Stack``: per drug, a non-negative combination of other methods' predictions, built from what they computed.

The members (EN, RF, GB, PM+, tissue; MT under the cross-drug split schemes: :data:`MEMBERS`) are not fitted
again: the stacked model takes, for the training rows, each member's out-of-fold predictions (each row predicted
by a model of that member that never fitted it) and, for the test rows, each member's predictions, as the
benchmark wrote them. Weights ``w >= 0`` and an intercept are fitted by non-negative least squares on the
centred training rows (:class:`nnlite.NonNegativeStacker`), on the training rows only.

Its own out-of-fold predictions are cross-fitted (:func:`nnlite.cross_fit_predict`): a training row's stacked
prediction uses weights fitted without the row's fold, so the calibrated calls and the intervals built on them
are honest. A member without an out-of-fold prediction for a training row (e.g. a line no RF tree left out of
its bootstrap) leaves that row out of the weights' fit; a member with none at all is left out of the stack.
"""
import numpy as np

from ccle.evaluation.splits import kfold_splits
from ccle.evaluation.thresholds import IQRThresholds
from ccle.methods.oof import fold_ids_from_splits
from nnlite.stacking import NonNegativeStacker, cross_fit_predict

MEMBERS = ("EN", "RF", "GB", "PM+", "tissue", "MT")


class StackedModel:
    """Non-negative stacking of the members' predictions of one drug (see the module docstring).

    Parameters
    ----------
    cv : int
        Folds of the cross-fitted out-of-fold predictions.
    seed : int
        Seeds the folds.
    selector : object, optional
        Ignored (the members did their own preprocessing); accepted like every method's.

    Attributes
    ----------
    members_ : list of str
        The members used (those with out-of-fold predictions).
    weights_ : dict
        Member -> non-negative weight.
    intercept_ : float
        The intercept.
    oof_predictions_ : ndarray of shape (n_train,)
        Cross-fitted stacked predictions of the training rows (NaN where a member had none).
    """

    def __init__(self, cv=5, seed=0, selector=None):
        self.cv = cv
        self.seed = seed
        self.selector = selector

    def fit(self, X, y, members=None):
        """Fit the weights on the training rows.

        Parameters
        ----------
        X : array of shape (n, genes)
            The training rows' expression (unused: the members saw it).
        y : array of shape (n,)
            Their responses.
        members : dict
            Member name -> (n,) out-of-fold predictions of these rows (NaN where it has none).

        Returns
        -------
        StackedModel
            ``self``.
        """
        y = np.asarray(y, dtype=np.float64).ravel()
        if not members:
            raise ValueError("Stack needs the predictions of at least one member method in the same run")
        self.members_ = [m for m, p in members.items() if np.isfinite(np.asarray(p, dtype=float)).any()]
        if not self.members_:
            raise ValueError("no member method of Stack has out-of-fold predictions")
        P = np.column_stack([np.asarray(members[m], dtype=np.float64) for m in self.members_])
        rows = np.isfinite(P).all(axis=1)
        if rows.sum() < 2 * int(self.cv):
            raise ValueError(f"Stack: only {int(rows.sum())} training rows have every member's out-of-fold "
                             f"prediction")
        stacker = NonNegativeStacker().fit(P[rows], y[rows])
        self.weights_ = {m: float(w) for m, w in zip(self.members_, stacker.coef_)}
        self.intercept_ = float(stacker.intercept_)
        self.stacker_ = stacker
        folds = fold_ids_from_splits(kfold_splits(int(rows.sum()), int(self.cv), self.seed), int(rows.sum()))
        self.oof_predictions_ = np.full(y.size, np.nan)
        self.oof_predictions_[rows] = cross_fit_predict(P[rows], y[rows], folds)
        self.thresholds_ = IQRThresholds().fit(y)
        return self

    def predict(self, X, members=None):
        """Stacked predictions (n,) from the members' predictions of these rows (``members``: name -> (n,))."""
        P = np.column_stack([np.asarray(members[m], dtype=np.float64) for m in self.members_])
        return np.asarray(self.stacker_.predict(P), dtype=np.float64)
