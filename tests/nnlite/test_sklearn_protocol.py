"""scikit-learn as the oracle of the estimator protocol: check_estimator on every public nnlite estimator,
then clone / cross_val_score / GridSearchCV / Pipeline give the numbers of calling the estimator by hand."""
import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import nnlite  # noqa: E402

# nnlite's estimators follow the protocol without inheriting scikit-learn's base class (nnlite does not depend
# on scikit-learn); scikit-learn says so once per estimator when the checks are collected
pytestmark = pytest.mark.filterwarnings("ignore:Estimator .* does not inherit from")

FAST_NET = dict(widths=(8,), epochs=30, patience=None, batch_size=None)

ESTIMATORS = [
    nnlite.ElasticNet(alpha=0.01),
    nnlite.ElasticNetCV(n_alphas=10, cv=3),
    nnlite.LinearSVR(),
    nnlite.RFE(nnlite.LinearSVR(), n_features_to_select=1),
    nnlite.DecisionTreeRegressor(),
    nnlite.RandomForestRegressor(n_estimators=10),
    nnlite.HistGradientBoostingRegressor(max_iter=20),
    nnlite.MeanRegressor(),
    nnlite.NonNegativeStacker(),
    nnlite.NetworkRegressor(**FAST_NET, lr=1e-2),
    nnlite.SimpleANNRegressor(**FAST_NET, lr=1e-2),
]

# scikit-learn check -> why it does not apply to the estimator (keys: class name)
EXPECTED_FAILURES = {}


@pytest.mark.filterwarnings("ignore:Estimator .* does not inherit from `sklearn.base.BaseEstimator`")
@parametrize_with_checks(ESTIMATORS, expected_failed_checks=lambda est: EXPECTED_FAILURES.get(type(est).__name__, {}))
def test_check_estimator(estimator, check):
    check(estimator)


def regression_data(n=60, p=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = X @ rng.standard_normal(p) + 0.3 * rng.standard_normal(n)
    return X, y


def test_clone_keeps_parameters_and_drops_the_fit():
    X, y = regression_data()
    est = nnlite.RFE(nnlite.LinearSVR(C=0.5), n_features_to_select=3, step=1).fit(X, y)
    copy = clone(est)
    assert copy.get_params()["estimator__C"] == 0.5 and copy.n_features_to_select == 3
    assert not hasattr(copy, "support_")
    np.testing.assert_array_equal(copy.fit(X, y).support_, est.support_)


def test_cross_val_score_equals_fitting_each_fold_by_hand():
    X, y = regression_data()
    folds = KFold(4, shuffle=True, random_state=0)
    scores = cross_val_score(nnlite.ElasticNet(alpha=0.05), X, y, cv=folds)
    by_hand = [nnlite.ElasticNet(alpha=0.05).fit(X[tr], y[tr]).score(X[te], y[te]) for tr, te in folds.split(X)]
    np.testing.assert_array_equal(scores, by_hand)


def test_score_is_r2():
    from sklearn.metrics import r2_score
    X, y = regression_data()
    est = nnlite.DecisionTreeRegressor(max_depth=3).fit(X, y)
    assert est.score(X[:20], y[:20]) == pytest.approx(r2_score(y[:20], est.predict(X[:20])), rel=1e-12)


def test_grid_search_picks_the_alpha_with_the_best_mean_fold_score():
    X, y = regression_data(seed=1)
    folds = KFold(3, shuffle=True, random_state=1)
    grid = [0.001, 0.1, 1.0]
    search = GridSearchCV(nnlite.ElasticNet(), {"alpha": grid}, cv=folds).fit(X, y)
    by_hand = [np.mean([nnlite.ElasticNet(alpha=a).fit(X[tr], y[tr]).score(X[te], y[te])
                        for tr, te in folds.split(X)]) for a in grid]
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], by_hand, rtol=0, atol=1e-15)
    assert search.best_params_ == {"alpha": grid[int(np.argmax(by_hand))]}
    refit = nnlite.ElasticNet(alpha=search.best_params_["alpha"]).fit(X, y)
    np.testing.assert_array_equal(search.predict(X), refit.predict(X))


def test_pipeline_with_standard_scaler_equals_scaling_by_hand():
    X, y = regression_data(seed=2)
    X = X * [1, 10, 100, 0.1, 5, 2] + 3
    pipe = make_pipeline(StandardScaler(), nnlite.ElasticNet(alpha=0.1)).fit(X[:40], y[:40])
    scaler = StandardScaler().fit(X[:40])
    est = nnlite.ElasticNet(alpha=0.1).fit(scaler.transform(X[:40]), y[:40])
    np.testing.assert_array_equal(pipe.predict(X[40:]), est.predict(scaler.transform(X[40:])))


def test_network_in_a_pipeline_with_cross_val_score():
    X, y = regression_data(n=40)
    net = nnlite.SimpleANNRegressor(**FAST_NET, seed=3)
    scores = cross_val_score(make_pipeline(StandardScaler(), net), X, y, cv=2)
    assert scores.shape == (2,) and np.isfinite(scores).all()


def test_dataframe_columns_are_checked_by_name():
    pd = pytest.importorskip("pandas")
    X, y = regression_data()
    frame = pd.DataFrame(X, columns=[f"gene{i}" for i in range(X.shape[1])])
    est = nnlite.LinearSVR().fit(frame, y)
    np.testing.assert_array_equal(est.feature_names_in_, frame.columns.to_numpy(dtype=object))
    np.testing.assert_allclose(est.predict(frame), est.predict(X), rtol=1e-13)  # same columns, other memory order
    with pytest.raises(ValueError, match="same order as they were in fit"):
        est.predict(frame[frame.columns[::-1]])
    with pytest.raises(ValueError, match="yet now missing:\n- gene5"):
        est.predict(frame.drop(columns="gene5"))


@pytest.mark.parametrize("est", [nnlite.ElasticNet(), nnlite.ElasticNetCV(), nnlite.LinearSVR(),
                                 nnlite.RFE(nnlite.LinearSVR()), nnlite.MeanRegressor(),
                                 nnlite.DecisionTreeRegressor(), nnlite.RandomForestRegressor(),
                                 nnlite.HistGradientBoostingRegressor(), nnlite.NonNegativeStacker(),
                                 nnlite.NetworkRegressor(), nnlite.SimpleANNRegressor()],
                         ids=lambda e: type(e).__name__)
def test_predict_before_fit_raises_not_fitted_error(est):
    from sklearn.exceptions import NotFittedError as SklearnNotFitted
    from nnlite.base import NotFittedError
    with pytest.raises(NotFittedError, match=f"This {type(est).__name__} instance is not fitted yet"):
        est.predict(np.zeros((2, 3)))
    with pytest.raises(SklearnNotFitted):
        est.predict(np.zeros((2, 3)))


def test_repr_shows_non_default_parameters_only():
    assert repr(nnlite.ElasticNet()) == "ElasticNet()"
    assert repr(nnlite.ElasticNet(alpha=0.1, l1_ratio=0.9)) == "ElasticNet(alpha=0.1, l1_ratio=0.9)"
    assert repr(nnlite.RFE(nnlite.LinearSVR(C=2.0), n_features_to_select=5)) == \
        "RFE(estimator=LinearSVR(C=2.0), n_features_to_select=5)"


def test_set_params_rejects_unknown_names_and_reaches_nested_ones():
    rfe = nnlite.RFE(nnlite.LinearSVR())
    assert rfe.set_params(estimator__C=3.0, step=2) is rfe
    assert rfe.estimator.C == 3.0 and rfe.step == 2
    with pytest.raises(ValueError, match="invalid parameter 'bogus'"):
        rfe.set_params(bogus=1)
