"""Histogram gradient boosting: known answers, the same trees as scikit-learn's HistGradientBoostingRegressor
where the binning is exact, test MSE within a few percent of it where it is not, early stopping, determinism."""
import numpy as np
import pytest
from sklearn.datasets import make_friedman1
from sklearn.ensemble import HistGradientBoostingRegressor as SkHGB
from threadpoolctl import threadpool_limits

from nnlite import HistGradientBoostingRegressor
from nnlite import gbm


@pytest.fixture(autouse=True)
def one_openmp_thread():
    """scikit-learn's boosting on one thread: on a busy machine its OpenMP threads spin and crawl."""
    with threadpool_limits(1):
        yield


def friedman(n, p, n_test=0, seed=0):
    X, y = make_friedman1(n_samples=n + n_test, n_features=p, noise=1.0, random_state=seed)
    return X[:n], y[:n], X[n:], y[n:]


def leaves_and_depth(model, t):
    """(number of leaves, depth) of tree t."""
    feature, left, right = model.feature_[t], model.left_[t], model.right_[t]
    depth = {0: 0}
    for node in range(model.node_counts_[t]):  # children have larger ids than their parent
        if feature[node] >= 0:
            depth[left[node]] = depth[right[node]] = depth[node] + 1
    leaves = [node for node in depth if feature[node] < 0]
    return len(leaves), max(depth[node] for node in leaves)


# ---- known answers --------------------------------------------------------------------------------------------

def test_a_step_function_is_one_split_at_the_step():
    X = np.arange(40, dtype=float)[:, None]
    y = np.where(X[:, 0] < 13, 2.0, 5.0)
    model = HistGradientBoostingRegressor(max_iter=1, learning_rate=1.0, max_leaf_nodes=2,
                                          min_samples_leaf=1).fit(X, y)
    assert model.node_counts_.tolist() == [3]
    assert model.feature_[0, 0] == 0 and model.threshold_[0, 0] == 12.5
    np.testing.assert_allclose(model.predict(X), y, rtol=0, atol=1e-12)
    np.testing.assert_allclose(model.predict([[12.4], [12.6], [-1e6], [1e6]]), [2, 5, 2, 5], atol=1e-12)
    assert model.feature_importances_.tolist() == [1.0]


def test_leaf_values_are_shrunk_newton_steps():
    """Leaf value -learning_rate * G / (n + lambda), G the sum of the gradients F_0 - y = mean(y) - y."""
    X = np.arange(40, dtype=float)[:, None]
    y = np.where(X[:, 0] < 10, 1.0, 3.0)
    lam, lr = 7.0, 0.3
    model = HistGradientBoostingRegressor(max_iter=1, learning_rate=lr, max_leaf_nodes=2, min_samples_leaf=1,
                                          l2_regularization=lam).fit(X, y)
    g = y.mean() - y
    left, right = g[:10], g[10:]
    expected = y.mean() + np.where(X[:, 0] < 10, -lr * left.sum() / (10 + lam), -lr * right.sum() / (30 + lam))
    np.testing.assert_allclose(model.predict(X), expected, rtol=1e-12)


def test_constant_target_gives_constant_predictions_and_no_split():
    X, _, X_test, _ = friedman(100, 5, n_test=50)
    model = HistGradientBoostingRegressor(max_iter=10, min_samples_leaf=1).fit(X, np.full(100, 3.7))
    assert model.node_counts_.tolist() == [1] * 10
    np.testing.assert_allclose(model.predict(X_test), 3.7, rtol=1e-15)
    assert model.feature_importances_.tolist() == [0.0] * 5


def test_growth_limits_are_respected():
    X, y, _, _ = friedman(500, 5)
    limits = [({"max_leaf_nodes": 5}, 5, None), ({"max_depth": 2, "max_leaf_nodes": None}, 4, 2),
              ({"max_leaf_nodes": 31, "min_samples_leaf": 100}, 5, None)]
    for kwargs, max_leaves, max_depth in limits:
        model = HistGradientBoostingRegressor(max_iter=5, **kwargs).fit(X, y)
        for t in range(model.n_iter_):
            leaves, depth = leaves_and_depth(model, t)
            assert leaves <= max_leaves and (max_depth is None or depth <= max_depth)
    # min_samples_leaf = 100 of 500 rows: every leaf of the first tree holds at least 100 training rows
    model = HistGradientBoostingRegressor(max_iter=1, min_samples_leaf=100).fit(X, y)
    leaf_values, counts = np.unique(model.predict(X), return_counts=True)
    assert len(leaf_values) > 1 and counts.min() >= 100


# ---- parity with scikit-learn ---------------------------------------------------------------------------------

def test_same_trees_as_scikit_learn_when_the_binning_is_exact():
    """n = 200 rows: every feature has < 255 distinct values, so both libraries bin exactly and grow the same
    trees; predictions agree to 1e-6 (scikit-learn keeps gradients in float32; measured max 2e-8)."""
    X, y, _, _ = friedman(200, 10)
    params = dict(max_iter=50, early_stopping=False, l2_regularization=0.5, min_samples_leaf=10)
    ours = HistGradientBoostingRegressor(**params).fit(X, y)
    ref = SkHGB(**params).fit(X, y)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=0, atol=1e-6)
    nodes = ref._predictors[0][0].nodes
    theirs = sorted((int(r["feature_idx"]), float(r["num_threshold"])) for r in nodes if not r["is_leaf"])
    mine = sorted((int(f), float(t)) for f, t in zip(ours.feature_[0], ours.threshold_[0]) if f >= 0)
    assert [f for f, _ in mine] == [f for f, _ in theirs]
    np.testing.assert_allclose([t for _, t in mine], [t for _, t in theirs], rtol=1e-6)


@pytest.mark.parametrize("n,p,params,ratio_tol", [
    # test MSE ours / scikit-learn measured at seed 0: 1.0002 (exact bins), 0.9983, 1.0008, 1.0046; over seeds
    # 0-4 the ratios span 1.0000-1.0004, 0.998-1.004, 0.998-1.002, 0.979-1.005 (p >> n: the bins differ most)
    (200, 10, {}, 0.01),
    (2000, 10, {}, 0.02),
    (1000, 20, {"learning_rate": 0.05, "max_leaf_nodes": 15, "l2_regularization": 1.0}, 0.03),
    (300, 400, {"max_iter": 50}, 0.05),
])
def test_test_mse_within_a_few_percent_of_scikit_learn(n, p, params, ratio_tol):
    X, y, X_test, y_test = friedman(n, p, n_test=2000)
    params = dict(params, early_stopping=False)
    ours = HistGradientBoostingRegressor(**params).fit(X, y).predict(X_test)
    ref = SkHGB(**params).fit(X, y).predict(X_test)
    ratio = np.mean((ours - y_test) ** 2) / np.mean((ref - y_test) ** 2)
    assert abs(ratio - 1) < ratio_tol, ratio


def test_subtraction_route_grows_the_same_tree_as_building_every_histogram(monkeypatch):
    """Integer targets on 4096 rows: the gradients mean(y) - y are multiples of 1/4096, so every histogram sum is
    exact whichever route computes it, and the trees must be identical (with rounding, near-tied splits may
    flip between the routes)."""
    X, y, X_test, _ = friedman(4096, 6, n_test=500)
    y = np.round(4 * y)
    params = dict(max_iter=1, max_leaf_nodes=63, min_samples_leaf=5, early_stopping=False)
    pooled = HistGradientBoostingRegressor(**params).fit(X, y)
    retain_min, hist = gbm._pool(4096, 6 * 255, 6, 63)
    assert hist.shape[0] >= 2 and retain_min < 1000  # the root and the large nodes keep their histograms
    monkeypatch.setattr(gbm, "POOL_BYTES", 0)
    direct = HistGradientBoostingRegressor(**params).fit(X, y)
    assert pooled.node_counts_[0] == 2 * 63 - 1
    np.testing.assert_array_equal(pooled.feature_, direct.feature_)
    np.testing.assert_array_equal(pooled.threshold_, direct.threshold_)
    np.testing.assert_array_equal(pooled.predict(X_test), direct.predict(X_test))


# ---- early stopping -------------------------------------------------------------------------------------------

def test_early_stopping_auto_switches_on_above_ten_thousand_rows():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(10_001, 2))
    y = X[:, 0] + rng.normal(size=10_001)
    params = dict(max_iter=3, max_leaf_nodes=4)
    assert HistGradientBoostingRegressor(**params).fit(X, y).do_early_stopping_
    model = HistGradientBoostingRegressor(**params).fit(X[:10_000], y[:10_000])
    assert not model.do_early_stopping_ and model.n_iter_ == 3
    assert model.train_score_.shape == (0,) and model.validation_score_.shape == (0,)


def test_early_stopping_on_the_training_loss_stops_where_scikit_learn_does():
    """validation_fraction=None: both watch the training loss; with exact bins they stop at the same iteration
    with the same scores."""
    X, y, _, _ = friedman(200, 5)
    params = dict(max_iter=200, early_stopping=True, validation_fraction=None, n_iter_no_change=5, tol=1e-2)
    ours = HistGradientBoostingRegressor(**params).fit(X, y)
    ref = SkHGB(**params).fit(X, y)
    assert 5 < ours.n_iter_ == ref.n_iter_ < 200
    np.testing.assert_allclose(ours.train_score_, ref.train_score_, rtol=1e-6)
    assert ours.validation_score_.shape == (0,)


def test_early_stopping_on_held_out_rows_follows_the_rule():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(600, 5))
    y = X[:, 0] + rng.normal(size=600)  # little signal: the validation loss soon stops improving
    model = HistGradientBoostingRegressor(max_iter=500, early_stopping=True, n_iter_no_change=5,
                                          learning_rate=0.3).fit(X, y)
    k, scores = 5, model.validation_score_
    assert model.n_iter_ < 500 and scores.shape == model.train_score_.shape == (model.n_iter_ + 1,)
    assert not np.any(scores[-k:] > scores[-k - 1] + model.tol)  # the stop rule held at the end ...
    for m in range(k + 1, len(scores) - 1):                         # ... and at no earlier iteration
        assert np.any(scores[m - k + 1:m + 1] > scores[m - k] + model.tol)
    # the validation rows are 10 % (rounded up) and not trained on: the training loss keeps falling
    assert np.all(np.diff(model.train_score_) >= 0)
    assert model.train_score_[0] == pytest.approx(-0.5 * np.var(y[_train_rows(600, 0.1, 0)]), rel=1e-12)


def _train_rows(n, fraction, seed):
    return HistGradientBoostingRegressor(validation_fraction=fraction, random_state=seed)._validation_split(n)[0]


# ---- determinism, importances, parameters ---------------------------------------------------------------------

def test_same_random_state_same_model_other_state_other_split():
    X, y, X_test, _ = friedman(400, 8, n_test=100)
    params = dict(early_stopping=True, n_iter_no_change=3, max_iter=60)
    a = HistGradientBoostingRegressor(random_state=3, **params).fit(X, y)
    b = HistGradientBoostingRegressor(random_state=3, **params).fit(X, y)
    c = HistGradientBoostingRegressor(random_state=4, **params).fit(X, y)
    np.testing.assert_array_equal(a.predict(X_test), b.predict(X_test))
    np.testing.assert_array_equal(a.validation_score_, b.validation_score_)
    assert not np.array_equal(a.predict(X_test), c.predict(X_test))
    train_a, val_a = a._validation_split(400)
    assert len(val_a) == 40 and np.intersect1d(train_a, val_a).size == 0 and len(train_a) + len(val_a) == 400


def test_importances_are_normalized_total_gain_and_find_the_signal():
    X, y, _, _ = friedman(500, 30)
    X[:, 29] = 1.0  # a constant feature never splits
    model = HistGradientBoostingRegressor(max_iter=30).fit(X, y)
    imp = model.feature_importances_
    assert imp.shape == (30,) and np.all(imp >= 0) and imp.sum() == pytest.approx(1.0, rel=1e-12)
    assert imp[29] == 0.0
    assert set(np.argsort(imp)[-5:]) == {0, 1, 2, 3, 4}  # Friedman #1 depends on the first five only
    used = np.unique(model.feature_[model.feature_ >= 0])
    assert np.all(imp[np.setdiff1d(np.arange(30), used)] == 0) and np.all(imp[used] > 0)


@pytest.mark.parametrize("bad", [{"learning_rate": 0}, {"max_iter": 0}, {"max_leaf_nodes": 1}, {"max_depth": 0},
                                 {"min_samples_leaf": 0}, {"l2_regularization": -1.0}, {"max_bins": 1},
                                 {"max_bins": 257}, {"max_bins": None}, {"early_stopping": "yes"},
                                 {"validation_fraction": 1.0}, {"validation_fraction": 0}, {"n_iter_no_change": 0},
                                 {"tol": -1.0}, {"random_state": None}, {"random_state": 1.5}])
def test_bad_parameters_raise_value_error(bad):
    X, y, _, _ = friedman(30, 5)
    with pytest.raises(ValueError, match=next(iter(bad))):
        HistGradientBoostingRegressor(**bad).fit(X, y)


def test_validation_split_must_leave_rows_on_both_sides():
    X, y, _, _ = friedman(30, 5)
    with pytest.raises(ValueError, match="validation_fraction=30 leaves 0 of 30"):
        HistGradientBoostingRegressor(early_stopping=True, validation_fraction=30).fit(X, y)
