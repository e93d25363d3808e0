"""LinearSVR (dual coordinate descent, liblinear's L1-loss SVR) against scikit-learn's liblinear."""
import numpy as np
import pytest
from sklearn.svm import LinearSVR as SkLinearSVR

from nnlite.linear.svr import LinearSVR


def primal_objective(coef, intercept, X, y, C, epsilon, intercept_scaling=1.0, fit_intercept=True):
    """0.5 (||w||^2 + w_b^2) + C sum max(0, |y - Xw - b| - eps), w_b = b / B (liblinear's bias)."""
    wb = intercept / intercept_scaling if fit_intercept else 0.0
    r = y - X @ coef - intercept
    return 0.5 * (coef @ coef + wb * wb) + C * np.maximum(0.0, np.abs(r) - epsilon).sum()


def make_problem(n, p, seed, correlated=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    if correlated:
        X += 0.7 * rng.standard_normal((n, 1))
    q = min(5, p)
    y = X[:, :q] @ rng.standard_normal(q) + 0.3 * rng.standard_normal(n) + 1.5
    return X, y


@pytest.mark.parametrize("n,p,correlated", [(60, 15, False), (150, 30, True), (50, 200, True)])
@pytest.mark.parametrize("C", [0.1, 1.0])
@pytest.mark.parametrize("solver", ["gram", "primal"])
def test_objective_matches_sklearn(n, p, correlated, C, solver):
    # tol=1e-6 on both sides: at liblinear's default 1e-4 the relative stopping rule leaves either
    # solver up to ~1% above the optimum on n < p problems (it varies with the permutation seed)
    X, y = make_problem(n, p, seed=n + p, correlated=correlated)
    sk = SkLinearSVR(loss="epsilon_insensitive", dual=True, epsilon=0.1, C=C, tol=1e-6,
                     max_iter=100_000, random_state=0).fit(X, y)
    ours = LinearSVR(epsilon=0.1, C=C, tol=1e-6, max_iter=100_000, solver=solver).fit(X, y)
    f_sk = primal_objective(sk.coef_, sk.intercept_[0], X, y, C, 0.1)
    f_ours = primal_objective(ours.coef_, ours.intercept_, X, y, C, 0.1)
    assert abs(f_ours - f_sk) <= 1e-3 * f_sk


@pytest.mark.parametrize("fit_intercept,scaling", [(False, 1.0), (True, 3.0)])
def test_intercept_options_match_sklearn(fit_intercept, scaling):
    X, y = make_problem(80, 10, seed=3)
    sk = SkLinearSVR(epsilon=0.2, C=0.5, tol=1e-6, fit_intercept=fit_intercept, intercept_scaling=scaling,
                     max_iter=100_000, random_state=0).fit(X, y)
    ours = LinearSVR(epsilon=0.2, C=0.5, tol=1e-6, fit_intercept=fit_intercept, intercept_scaling=scaling,
                     max_iter=100_000).fit(X, y)
    sk_b = float(np.ravel(sk.intercept_)[0]) if fit_intercept else 0.0
    f_sk = primal_objective(sk.coef_, sk_b, X, y, 0.5, 0.2, scaling, fit_intercept)
    f_ours = primal_objective(ours.coef_, ours.intercept_, X, y, 0.5, 0.2, scaling, fit_intercept)
    assert abs(f_ours - f_sk) <= 1e-3 * f_sk
    if not fit_intercept:
        assert ours.intercept_ == 0.0


def test_gram_and_primal_solvers_take_the_same_steps():
    X, y = make_problem(70, 40, seed=5)
    a = LinearSVR(C=0.3, solver="gram", seed=7).fit(X, y)
    b = LinearSVR(C=0.3, solver="primal", seed=7).fit(X, y)
    assert a.n_iter_ == b.n_iter_
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-9)
    assert a.intercept_ == pytest.approx(b.intercept_, abs=1e-9)


def test_dual_solution_satisfies_kkt_and_w_equals_xt_beta():
    X, y = make_problem(60, 8, seed=11)
    m = LinearSVR(epsilon=0.1, C=1.0, tol=1e-8, max_iter=100_000).fit(X, y)
    beta = m.dual_coef_
    np.testing.assert_allclose(m.coef_, X.T @ beta, atol=1e-10)
    assert np.all(np.abs(beta) <= 1.0 + 1e-12)
    r = y - m.predict(X)
    # beta_i = +C where r_i > eps, -C where r_i < -eps, 0 strictly inside the tube
    outside = np.abs(r) > 0.1 + 1e-4
    np.testing.assert_allclose(beta[outside], np.sign(r[outside]), atol=1e-6)
    inside = np.abs(r) < 0.1 - 1e-4
    np.testing.assert_allclose(beta[inside], 0.0, atol=1e-6)


def test_seed_makes_fit_deterministic_and_predict_shape():
    X, y = make_problem(40, 6, seed=2)
    a = LinearSVR(seed=1).fit(X, y)
    b = LinearSVR(seed=1).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert a.predict(X[:7]).shape == (7,)
    assert a.coef_.shape == (6,) and isinstance(a.intercept_, float) and a.n_iter_ >= 1


@pytest.mark.parametrize("bad, match", [
    (lambda X, y: (np.where(np.arange(X.size).reshape(X.shape) == 3, np.nan, X), y), "NaN"),
    (lambda X, y: (X, np.r_[y[:-1], np.inf]), "NaN or infinity"),
    (lambda X, y: (X, y[:-1]), "samples"),
    (lambda X, y: (X[:, :0], y), "0 feature"),
    (lambda X, y: (X[:0], y[:0]), "no samples"),
    (lambda X, y: (X[:, 0], y), "2-D"),
])
def test_bad_input_raises_value_error(bad, match):
    X, y = make_problem(20, 4, seed=0)
    with pytest.raises(ValueError, match=match):
        LinearSVR().fit(*bad(X, y))


def test_bad_parameters_and_predict_shape_raise():
    X, y = make_problem(20, 4, seed=0)
    with pytest.raises(ValueError, match="C must be positive"):
        LinearSVR(C=0).fit(X, y)
    with pytest.raises(ValueError, match="epsilon"):
        LinearSVR(epsilon=-1).fit(X, y)
    m = LinearSVR().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        m.predict(X[:, :3])
