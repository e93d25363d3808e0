"""The batched one-repeat permutation importance of a network equals the plain permutation importance."""
import numpy as np
import pytest

from ccle.evaluation.genes import (committee_importance, committee_permutation_importance, network_permutation_importance,
                                   permutation_importance)
from ccle.methods.estimators import PerDrugModel


@pytest.fixture(scope="module")
def pm():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(160, 10))
    y = 2 * X[:, 3] - X[:, 7] + 0.2 * rng.normal(size=160)
    model = PerDrugModel(widths=(16, 8), n_features=10, epochs=150, patience=20, cv=4, l2=(1e-3,), lr=3e-3,
                         retrain_epochs=2, seed=1).fit(X, y)
    return model, model.selector_.transform(X), (y - model.y_mean_) / model.y_scale_


def test_network_importance_equals_permutation_importance_with_one_repeat(pm):
    model, Z, ys = pm
    net, held = model.networks_[0], model.folds_ == 0
    fast = network_permutation_importance(net, Z[held], ys[held], seed=7, chunk=3)
    plain = permutation_importance(net.predict, Z[held], ys[held], n_repeats=1, seed=7)
    assert np.allclose(fast, plain, rtol=1e-4, atol=1e-6)


def test_committee_importance_finds_the_genes_and_matches_the_plain_committee(pm):
    model, Z, ys = pm
    fast = committee_permutation_importance(model.networks_, Z, ys, model.folds_, seed=2)
    plain = committee_importance(model.networks_, Z, ys, model.folds_, n_repeats=1, seed=2)
    assert np.allclose(fast, plain, rtol=1e-4, atol=1e-6)
    assert set(np.argsort(-fast)[:2]) == {3, 7}
    assert np.isfinite(model.oof_predictions_).all() and model.oof_predictions_.shape == (160,)
