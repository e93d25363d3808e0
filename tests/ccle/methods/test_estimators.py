"""The per-drug model and the baselines on small problems with a known signal."""
import numpy as np
import pytest

from ccle.errors import CCLEError
from ccle.evaluation.splits import preprocessing_rows
from ccle.methods import make_method, names, parse_methods
from ccle.methods.estimators import (ElasticNetModel, GeneSelector, MeanModel, PerDrugModel, RandomForestModel,
                                     SimpleANNModel, SVRModel)


def _data(n=120, p=20, seed=0, noise=0.3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)).astype(np.float32) * 3 + 10
    y = (X[:, 0] - 10) - 0.7 * (X[:, 1] - 10) + 0.5 * (X[:, 2] - 10) + noise * rng.normal(size=n)
    return X, y


def _mse(model, X, y):
    return float(np.mean((model.predict(X) - y) ** 2))


def test_protocol_switch():
    train = np.array([0, 2, 5])
    assert np.array_equal(preprocessing_rows("strict", 8, train), train)
    assert np.array_equal(preprocessing_rows("paper", 8, train), np.arange(8))
    with pytest.raises(ValueError, match="protocol"):
        preprocessing_rows("loose", 8, train)


def test_gene_selector_keeps_all_when_fewer_and_rfe_finds_signal():
    X, y = _data()
    sel = GeneSelector(n_features=1000).fit(X, y)
    assert sel.n_features_ == 20 and sel.support_.all()
    Z = sel.transform(X)
    assert Z.shape == (120, 20) and Z.dtype == np.float32 and Z.min() >= 0 and Z.max() <= 1
    sel = GeneSelector(n_features=3).fit(X, y)
    assert sel.n_features_ == 3 and set(np.flatnonzero(sel.support_)) == {0, 1, 2}
    again = GeneSelector.from_dict(sel.to_dict())
    assert np.array_equal(again.transform(X), sel.transform(X))


def test_mean_model_and_iqr_classes_use_training_responses():
    X, y = _data()
    m = MeanModel().fit(X[:80], y[:80])
    assert np.allclose(m.predict(X[80:]), y[:80].mean())
    assert m.thresholds_.low_ == pytest.approx(np.percentile(y[:80], 25))
    assert set(m.thresholds_.classify(m.predict(X[80:]))) == {"moderate"}


@pytest.mark.parametrize("make", [
    lambda: ElasticNetModel(l1_ratio=(0.5, 1.0), n_alphas=20, cv=3),
    lambda: RandomForestModel(n_estimators=30, min_samples_leaf=2),
    lambda: SVRModel(),
    lambda: SimpleANNModel(widths=(8, 4), epochs=150, patience=20, lr=1e-3, batch_size=32, n_features=20),
])
def test_baselines_learn_a_linear_signal(make):
    X, y = _data()
    model = make().fit(X[:90], y[:90])
    assert model.predict(X[90:]).shape == (30,)
    assert _mse(model, X[90:], y[90:]) < 0.6 * float(np.mean((y[:90].mean() - y[90:]) ** 2))


def test_simple_ann_uses_random_genes_of_the_rfe_count():
    X, y = _data()
    m = SimpleANNModel(widths=(4,), epochs=5, n_features=7, seed=3).fit(X, y)
    assert m.genes_.size == 7 and np.unique(m.genes_).size == 7
    assert np.array_equal(m.genes_, SimpleANNModel(widths=(4,), epochs=5, n_features=7, seed=3).fit(X, y).genes_)


def test_per_drug_model_committee_selection_and_compression():
    X, y = _data(n=150)
    pm = PerDrugModel(widths=(16, 8), l2=(1e-3, 1e-1), cv=3, epochs=200, patience=20, batch_size=32, lr=3e-3,
                      prune_percent=50.0, retrain_epochs=3, seed=0)
    pm.fit(X[:110], y[:110])
    assert pm.widths == (16, 8) and pm.l2 == (1e-3, 1e-1)  # hyper-parameters untouched by fit
    assert pm.l2_ in (1e-3, 1e-1) and set(pm.cv_mse_) == {1e-3, 1e-1}
    assert pm.l2_ == min(pm.cv_mse_, key=pm.cv_mse_.get)
    assert len(pm.networks_) == 3 and len(pm.compression_) == 3
    assert all(r["ratio"] > 1 for r in pm.compression_)
    # the pruned layers keep their masks: about half of each first-layer weight matrix is zero
    W = pm.networks_[0].dense_layers()[0].W
    assert 0.3 < np.mean(W == 0) < 0.7
    base = float(np.mean((y[:110].mean() - y[110:]) ** 2))
    assert _mse(pm, X[110:], y[110:]) < 0.5 * base
    assert set(pm.thresholds_.classify(pm.predict(X[110:]))) <= {"sensitive", "moderate", "resistant"}
    # same seed -> same predictions
    pm2 = PerDrugModel(widths=(16, 8), l2=(1e-3, 1e-1), cv=3, epochs=200, patience=20, batch_size=32, lr=3e-3,
                       prune_percent=50.0, retrain_epochs=3, seed=0).fit(X[:110], y[:110])
    assert np.array_equal(pm.predict(X[110:]), pm2.predict(X[110:]))


def test_prefitted_selector_is_used_as_is():
    X, y = _data()
    sel = GeneSelector(n_features=5).fit(X, y)
    pm = PerDrugModel(widths=(4,), cv=2, l2=(1e-2,), epochs=3, compress=False, selector=sel).fit(X[:60], y[:60])
    assert pm.selector_ is sel and pm.networks_[0].dense_layers()[0].W.shape == (5, 4)


def test_bad_input_and_names():
    X, y = _data()
    with pytest.raises(ValueError, match="rows"):
        MeanModel().fit(X, y[:5])
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        SVRModel().fit(bad, y)
    with pytest.raises(ValueError, match="2-D"):
        MeanModel().fit(X[0], y[:1])
    with pytest.raises(CCLEError, match="unknown method"):
        make_method("XGB")
    assert parse_methods("pm, EN,mean,PM") == ["PM", "EN", "mean"]
    with pytest.raises(CCLEError, match="unknown method"):
        parse_methods("PM,foo")
    assert all(type(make_method(m)).__name__ for m in names())


def test_gradient_boosting_learns_and_its_out_of_fold_predictions_never_saw_their_row():
    from ccle.methods.boosting import GradientBoostingModel

    rng = np.random.default_rng(4)
    X = rng.normal(size=(150, 30)).astype(np.float32)
    y = 2 * X[:, 0] - X[:, 1] + 0.3 * rng.normal(size=150)
    est = GradientBoostingModel(max_iter=60, cv=3, seed=1).fit(X[:120], y[:120])
    mse = np.mean((est.predict(X[120:]) - y[120:]) ** 2)
    assert mse < 0.5 * np.var(y[120:])
    assert est.feature_importances_[:2].sum() > 0.5 and np.isclose(est.feature_importances_.sum(), 1.0)
    # a row's out-of-fold prediction does not depend on its own response
    y2 = y[:120].copy()
    y2[5] += 100.0
    again = GradientBoostingModel(max_iter=60, cv=3, seed=1).fit(X[:120], y2)
    assert again.oof_predictions_[5] == est.oof_predictions_[5]
    assert make_method("GB", seed=1).__class__ is GradientBoostingModel
