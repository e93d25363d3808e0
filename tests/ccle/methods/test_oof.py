"""Out-of-fold predictions: no row is ever predicted by a model that fitted it."""
import numpy as np
import pytest

from ccle.methods.oof import (committee_oof_predictions, committee_spread_ratio, fold_ids, fold_ids_from_splits,
                              mean_oof_predictions, oof_predictions, refit_oof_predictions)
from nnlite.linear.enet import ElasticNet, kfold_indices


class _Memorizer:
    """Predicts the training y of a row it saw (by its first column, an id), else -1."""

    def fit(self, X, y):
        self.seen_ = dict(zip(X[:, 0].tolist(), y.tolist()))
        return self

    def predict(self, X):
        return np.array([self.seen_.get(v, -1.0) for v in X[:, 0].tolist()])


def test_generic_oof_never_predicts_a_row_it_fitted():
    X = np.arange(40.0)[:, None]
    y = np.arange(40.0) + 100
    out = oof_predictions(_Memorizer, X, y, n_folds=4, seed=3)
    assert (out == -1.0).all()


def test_fold_ids_balanced_and_seeded():
    ids = fold_ids(10, 4, seed=0)
    assert sorted(np.bincount(ids).tolist()) == [2, 2, 3, 3]
    assert (ids == fold_ids(10, 4, seed=0)).all() and not (ids == fold_ids(10, 4, seed=1)).all()
    with pytest.raises(ValueError):
        fold_ids(3, 4, 0)


def test_committee_uses_the_network_of_each_rows_fold():
    class Const:
        def __init__(self, v):
            self.v = v

        def predict(self, Z):
            return np.full(Z.shape[0], self.v)

    folds = np.array([0, 1, 2, 0, 1, 2])
    out = committee_oof_predictions([Const(0.0), Const(1.0), Const(2.0)], np.zeros((6, 3)), folds,
                                    y_mean=10.0, y_scale=2.0)
    assert out.tolist() == [10.0, 12.0, 14.0, 10.0, 12.0, 14.0]


def test_committee_of_multi_output_networks_maps_every_column_back():
    class Rows:   # output (n, 2): the network's id and the row's first input
        def __init__(self, v):
            self.v = v

        def predict(self, Z):
            return np.stack([np.full(Z.shape[0], self.v), Z[:, 0]], axis=1)

    folds = np.array([1, 0, 1, 0])
    Z = np.arange(4.0)[:, None]
    out = committee_oof_predictions([Rows(0.0), Rows(1.0)], Z, folds, y_mean=[10.0, 0.0], y_scale=[2.0, 3.0])
    assert out.shape == (4, 2)
    assert out[:, 0].tolist() == [12.0, 10.0, 12.0, 10.0] and out[:, 1].tolist() == [0.0, 3.0, 6.0, 9.0]


def test_committee_spread_ratio_is_one_for_identical_members_and_below_for_independent_ones():
    rng = np.random.default_rng(0)
    base = rng.normal(size=200)
    assert committee_spread_ratio(np.stack([base, base, base])) == pytest.approx(1.0)
    noisy = rng.normal(size=(4, 20000))   # independent members: std of the mean = 1 / sqrt(4) of one's
    assert committee_spread_ratio(noisy) == pytest.approx(0.5, abs=0.02)
    assert committee_spread_ratio(np.ones((3, 5))) == 1.0


def test_enet_refit_oof_on_its_cv_folds_equals_a_manual_loop():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 8))
    y = X[:, 0] - 2 * X[:, 1] + 0.1 * rng.normal(size=60)
    splits = kfold_indices(60, 5, seed=7)
    ids = fold_ids_from_splits(splits, 60)
    out = refit_oof_predictions(lambda: ElasticNet(alpha=0.01, l1_ratio=0.5), X, y, ids)
    for tr, te in splits:
        ref = ElasticNet(alpha=0.01, l1_ratio=0.5).fit(X[tr], y[tr]).predict(X[te])
        assert np.allclose(out[te], ref)
    assert np.corrcoef(out, y)[0, 1] > 0.95


def test_mean_oof_is_the_training_mean():
    assert mean_oof_predictions([1.0, 2.0, 6.0]).tolist() == [3.0, 3.0, 3.0]
