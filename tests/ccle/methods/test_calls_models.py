"""The OOF recipes against the real estimators of ccle.methods.estimators, and the calibrated calls on the real CCLE data."""
import numpy as np
import pytest

from ccle.evaluation.calls import call_metrics
from ccle.methods.estimators import ElasticNetModel, PerDrugModel, SVRModel
from ccle.methods.oof import committee_oof_predictions, fold_ids, fold_ids_from_splits, refit_oof_predictions
from nnlite.linear.enet import ElasticNet, kfold_indices



@pytest.fixture(scope="module")
def real_drug(shared_ccle):
    """drug name -> DrugDataset of the shared DepMap 706-gene expression and the CCLE ActArea table."""
    from ccle.data.align import drug_dataset
    from ccle.data.loader import load_data

    expression, table = load_data(
        str(shared_ccle / "expression" / "TGSA_DepMap_census706_expr_zscored.csv.gz"),
        str(shared_ccle / "drug" / "CCLE_dose_response_scores.tsv"),
        sample_info=str(shared_ccle / "expression" / "DepMap_sample_info_from_TGSA.csv"))
    return lambda drug: drug_dataset(expression, table, drug)


def _data(n=80, p=12, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    return X, X[:, 0] - 0.5 * X[:, 1] + 0.3 * rng.normal(size=n)


def test_pm_committee_folds_are_the_folds_each_network_was_validated_on():
    X, y = _data()
    pm = PerDrugModel(widths=(8, 4), n_features=12, l2=3e-3, epochs=30, patience=5, cv=4, compress=False,
                      seed=2).fit(X, y)
    Z, folds = pm.selector_.transform(X), fold_ids(len(y), pm.cv, pm.seed)
    ys = (y - pm.y_mean_) / pm.y_scale_
    for f, net in enumerate(pm.networks_):
        held = folds == f
        mse = np.mean((np.asarray(net.predict(Z[held]), dtype=np.float64) - ys[held]) ** 2)
        assert mse == pytest.approx(min(net.history["val"]), rel=1e-4)  # the rows it early-stopped on
    oof = committee_oof_predictions(pm.networks_, Z, folds, pm.y_mean_, pm.y_scale_)
    assert oof.shape == y.shape and not np.allclose(oof, pm.predict(X))


def test_svr_refit_oof_reproduces_its_c_cv_mse():
    X, y = _data(seed=1)
    svr = SVRModel(n_features=12, C=(0.01, 1.0), cv=3, seed=4).fit(X, y)
    oof = refit_oof_predictions(lambda: svr._svr(svr.C_), svr.selector_.transform(X).astype(np.float64), y,
                                fold_ids(len(y), svr.cv, svr.seed))
    assert np.mean((oof - y) ** 2) == pytest.approx(svr.cv_mse_[svr.C_], rel=1e-9)


def test_enet_oof_predictions_are_its_cv_path_at_the_chosen_alpha():
    X, y = _data(seed=2)
    en = ElasticNetModel(l1_ratio=(0.5,), n_alphas=20, cv=5, seed=3).fit(X, y)
    m = en.model_
    ids = fold_ids_from_splits(kfold_indices(len(y), 5, 3), len(y))
    i = int(np.argmin(np.abs(m.alphas_ - m.alpha_)))
    per_fold = [np.mean((en.oof_predictions_[ids == f] - y[ids == f]) ** 2) for f in range(5)]
    assert np.allclose(per_fold, m.mse_path_[0, i], rtol=1e-12)  # the very solutions the CV scored
    refit = refit_oof_predictions(lambda: ElasticNet(alpha=m.alpha_, l1_ratio=m.l1_ratio_, tol=1e-10),
                                  en.selector_.scale(X).astype(np.float64), y, ids)
    assert np.allclose(en.oof_predictions_, refit, atol=1e-3 * np.std(y))  # and what a cold refit gives


def test_calibrated_calls_use_all_three_classes_on_real_data(real_drug):
    ds = real_drug("Nutlin-3")
    rng = np.random.default_rng(0)
    test = rng.permutation(len(ds.y))[: len(ds.y) * 3 // 10]
    train = np.setdiff1d(np.arange(len(ds.y)), test)
    en = ElasticNetModel(l1_ratio=(0.5,), n_alphas=20, cv=5, seed=0).fit(ds.X[train], ds.y[train])
    rec = call_metrics(ds.y[test], en.predict(ds.X[test]), ds.y[train], en.oof_predictions_, "ActArea")
    calibrated = np.sum(rec["confusion_calibrated"], axis=0)
    paper = np.sum(rec["confusion_paper"], axis=0)
    assert (calibrated > 0).all()  # every class is called (here 7 / 66 / 21 of 94)
    assert paper[1] > calibrated[1]  # the paper rule keeps more in the middle
    assert rec["auroc_sensitive"] > 0.5
