"""NetworkRegressor and SimpleANNRegressor: estimator contract, scaling, early stopping, input checks."""
import numpy as np
import pytest

from nnlite.ann import NetworkRegressor, SimpleANNRegressor
from nnlite.model import Sequential


def data(n=200, d=20, seed=0, scale=50.0, offset=300.0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 1, size=(n, d)).astype(np.float32)
    z = np.tanh(2 * X[:, 0] - 1) + X[:, 1] * X[:, 2] + 0.5 * X[:, 3]
    return X, offset + scale * z


def r2(y, p):
    return 1 - np.mean((y - p) ** 2) / np.var(y)


def test_fit_predict_on_a_scaled_target():
    X, y = data()
    est = NetworkRegressor(widths=(32, 32), dropout=0.0, lr=3e-3, epochs=300, patience=30, seed=0)
    assert est.fit(X[:160], y[:160]) is est
    pred = est.predict(X[160:])
    assert pred.shape == (40,) and pred.dtype == np.float64
    assert r2(y[160:], pred) > 0.9
    assert est.y_mean_ == pytest.approx(np.mean(y[:160]), rel=0.05)
    assert est.y_scale_ == pytest.approx(np.std(y[:160]), rel=0.2)
    assert isinstance(est.model_, Sequential)
    assert 1 <= est.best_epoch_ <= est.n_epochs_ <= 300
    assert est.validation_mse_ == pytest.approx(min(est.model_.history["val"]))
    assert est.n_features_in_ == 20


def test_simple_ann_fits_a_linear_target():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((150, 8))
    y = X @ rng.standard_normal(8) + 2.0
    est = SimpleANNRegressor(widths=(16, 16), lr=3e-3, epochs=200, patience=30, l1=0, l2=0, seed=0).fit(X, y)
    assert r2(y, est.predict(X)) > 0.99
    kinds = {type(layer).__name__ for layer in est.model_.layers}
    assert kinds == {"Dense", "Identity"}
    assert not {"activation", "dropout", "n_dropout"} & set(est.get_params())


def test_same_seed_same_model_and_hyperparameters_untouched():
    X, y = data(n=80)
    kw = dict(widths=(16, 8), epochs=15, patience=None, seed=4)
    a, b = NetworkRegressor(**kw).fit(X, y), NetworkRegressor(**kw).fit(X, y)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    assert a.get_params() == NetworkRegressor(**kw).get_params()
    assert a.n_epochs_ == 15
    c = NetworkRegressor(**{**kw, "seed": 5}).fit(X, y)
    assert not np.array_equal(a.predict(X), c.predict(X))


def test_no_validation_split_and_full_batch():
    X, y = data(n=60)
    est = NetworkRegressor(widths=(8,), validation_fraction=0.0, batch_size=None, epochs=10, patience=None)
    est.fit(X, y)
    assert est.validation_mse_ is None and est.predict(X).shape == (60,)


def test_default_hyperparameters_are_the_documented_ones():
    est = NetworkRegressor()
    assert est.widths == (200, 200, 200) and est.lr == 1e-3 and est.batch_size == 32 and est.patience == 20
    assert est.epochs == 300 and est.dropout == 0.4 and est.n_dropout == 3 and est.validation_fraction == 0.2


@pytest.mark.parametrize("X,y,match", [
    (np.zeros((10, 3)), np.zeros(9), "y has 9 rows but X has 10"),
    (np.zeros(10), np.zeros(10), "2-D"),
    (np.zeros((0, 3)), np.zeros(0), "empty"),
    (np.full((10, 3), np.nan), np.zeros(10), "X contains NaN"),
    (np.zeros((10, 3)), np.full(10, np.inf), "y contains NaN or infinity"),
    (np.zeros((10, 3)), np.zeros((10, 2)), r"y must have shape \(n,\)"),
])
def test_bad_input(X, y, match):
    with pytest.raises(ValueError, match=match):
        NetworkRegressor(widths=(4,), epochs=1).fit(X, y)


def test_predict_checks():
    with pytest.raises(ValueError, match="not fitted"):
        NetworkRegressor().predict(np.zeros((2, 3)))
    X, y = data(n=30, d=5)
    est = NetworkRegressor(widths=(4,), epochs=2).fit(X, y)
    with pytest.raises(ValueError, match="5 features|expects 5"):
        est.predict(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="validation_fraction"):
        NetworkRegressor(validation_fraction=1.0, widths=(4,)).fit(X, y)
