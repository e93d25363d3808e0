"""ElasticNet, enet_path and ElasticNetCV against scikit-learn (the oracle) and against their own duality gap."""
import warnings

import numpy as np
import pytest
from sklearn.linear_model import ElasticNet as SkElasticNet
from sklearn.linear_model import ElasticNetCV as SkElasticNetCV
from sklearn.linear_model import enet_path as sk_enet_path
from sklearn.model_selection import KFold

from nnlite.linear.enet import ElasticNet, ElasticNetCV, enet_path, kfold_indices


def objective(coef, intercept, X, y, alpha, l1_ratio):
    r = y - X @ coef - intercept
    return (0.5 * r @ r / len(y) + alpha * l1_ratio * np.abs(coef).sum()
            + 0.5 * alpha * (1 - l1_ratio) * coef @ coef)


def make_problem(n, p, seed, rho=0.8):
    """Columns sharing a common factor (pairwise correlation about rho^2 / (1 + rho^2)) and 5 true features."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + rho * rng.standard_normal((n, 1))
    y = X[:, :5] @ np.arange(1.0, 6.0) + rng.standard_normal(n) + 3.0
    return X, y


def alpha_max(X, y, l1_ratio):
    Xc, yc = X - X.mean(0), y - y.mean()
    return np.abs(Xc.T @ yc).max() / (len(y) * l1_ratio)


@pytest.mark.parametrize("n,p", [(40, 100), (100, 20)])
@pytest.mark.parametrize("l1_ratio", [0.01, 0.5, 1.0])
@pytest.mark.parametrize("alpha_frac", [0.3, 0.01])
def test_elastic_net_matches_sklearn(n, p, l1_ratio, alpha_frac):
    X, y = make_problem(n, p, seed=n + p)
    alpha = alpha_frac * alpha_max(X, y, l1_ratio)
    sk = SkElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-12, max_iter=100_000).fit(X, y)
    ours = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-12, max_iter=100_000).fit(X, y)
    f_sk = objective(sk.coef_, sk.intercept_, X, y, alpha, l1_ratio)
    f_ours = objective(ours.coef_, ours.intercept_, X, y, alpha, l1_ratio)
    assert f_ours <= f_sk + 1e-7
    np.testing.assert_allclose(ours.coef_, sk.coef_, atol=1e-4)
    assert ours.intercept_ == pytest.approx(sk.intercept_, abs=1e-4)
    assert -1e-12 <= ours.dual_gap_ <= 1e-12 * np.sum((y - y.mean()) ** 2) / n


def test_dual_gap_certifies_the_returned_point():
    """dual_gap_ <= tol ||y - mean(y)||^2 / n, <= scikit-learn's gap formula at the returned point
    (recomputed in NumPy: formulation A, l2 folded into X), and >= the true suboptimality."""
    X, y = make_problem(30, 50, seed=1)
    alpha, rho = 0.2, 0.7
    m = ElasticNet(alpha=alpha, l1_ratio=rho, tol=1e-3).fit(X, y)
    n = len(y)
    Xc, yc = X - X.mean(0), y - y.mean()
    l1, l2 = n * alpha * rho, n * alpha * (1 - rho)

    def primal(w):
        R = yc - Xc @ w
        return 0.5 * (R @ R + l2 * w @ w) + l1 * np.abs(w).sum()

    w = m.coef_
    R = yc - Xc @ w
    dual_norm = np.abs(Xc.T @ R - l2 * w).max()
    scale = min(1.0, l1 / dual_norm)
    dual = -0.5 * scale ** 2 * (R @ R + l2 * w @ w) + scale * R @ yc
    best = ElasticNet(alpha=alpha, l1_ratio=rho, tol=1e-14, max_iter=100_000).fit(X, y)
    assert m.dual_gap_ <= 1e-3 * yc @ yc / n
    assert m.dual_gap_ <= (primal(w) - dual) / n + 1e-12
    assert m.dual_gap_ >= (primal(w) - primal(best.coef_)) / n - 1e-12


@pytest.mark.parametrize("n,p", [(40, 100), (100, 20)])
@pytest.mark.parametrize("l1_ratio", [0.01, 0.5, 1.0])
def test_enet_path_matches_sklearn(n, p, l1_ratio):
    X, y = make_problem(n, p, seed=7 * n + p)
    X, y = X - X.mean(0), y - y.mean()
    a_sk, c_sk, _ = sk_enet_path(X, y, l1_ratio=l1_ratio, alphas=30, tol=1e-12, max_iter=100_000)
    a, c, gaps = enet_path(X, y, l1_ratio=l1_ratio, n_alphas=30, tol=1e-12, max_iter=100_000)
    np.testing.assert_allclose(a, a_sk, rtol=1e-12)
    np.testing.assert_allclose(c, c_sk, atol=1e-4)
    for k in range(len(a)):
        f = objective(c[:, k], 0.0, X, y, a[k], l1_ratio)
        f_sk = objective(c_sk[:, k], 0.0, X, y, a[k], l1_ratio)
        assert f <= f_sk + 1e-7
    assert np.all(gaps >= -1e-12)


def test_screening_and_warm_start_do_not_change_the_answer():
    X, y = make_problem(50, 80, seed=3)
    a1, c1, _ = enet_path(X, y, l1_ratio=0.5, n_alphas=20, tol=1e-12, max_iter=100_000, screening=True)
    a2, c2, _ = enet_path(X, y, l1_ratio=0.5, n_alphas=20, tol=1e-12, max_iter=100_000, screening=False)
    np.testing.assert_allclose(c1, c2, atol=1e-6)
    m = ElasticNet(alpha=0.05, l1_ratio=0.5, tol=1e-12, max_iter=100_000, warm_start=True)
    cold = ElasticNet(alpha=0.05, l1_ratio=0.5, tol=1e-12, max_iter=100_000).fit(X, y).coef_
    m.fit(X, y)
    first = m.coef_.copy()
    m.alpha = 0.05  # refit from its own solution: already optimal
    m.fit(X, y)
    np.testing.assert_allclose(m.coef_, cold, atol=1e-6)
    np.testing.assert_allclose(first, cold, atol=1e-6)


def test_ridge_limit_l1_ratio_zero_matches_sklearn():
    X, y = make_problem(30, 10, seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk = SkElasticNet(alpha=0.5, l1_ratio=0.0, tol=1e-12, max_iter=100_000).fit(X, y)
    ours = ElasticNet(alpha=0.5, l1_ratio=0.0, tol=1e-12, max_iter=100_000).fit(X, y)
    Xc, yc = X - X.mean(0), y - y.mean()
    exact = np.linalg.solve(Xc.T @ Xc + len(y) * 0.5 * np.eye(X.shape[1]), Xc.T @ yc)
    np.testing.assert_allclose(ours.coef_, exact, atol=1e-4)
    np.testing.assert_allclose(ours.coef_, sk.coef_, atol=1e-4)
    f_sk = objective(sk.coef_, sk.intercept_, X, y, 0.5, 0.0)
    assert objective(ours.coef_, ours.intercept_, X, y, 0.5, 0.0) <= f_sk + 1e-7


def test_elastic_net_cv_picks_sklearns_alpha_and_l1_ratio():
    X, y = make_problem(90, 60, seed=5)
    folds = list(KFold(5, shuffle=True, random_state=0).split(X))
    sk = SkElasticNetCV(l1_ratio=[0.1, 0.5, 0.9], alphas=40, cv=folds).fit(X, y)
    ours = ElasticNetCV(l1_ratio=[0.1, 0.5, 0.9], n_alphas=40, cv=folds).fit(X, y)
    assert ours.l1_ratio_ == sk.l1_ratio_
    assert ours.alpha_ == pytest.approx(sk.alpha_, rel=1e-12)
    np.testing.assert_allclose(ours.alphas_, sk.alphas_, rtol=1e-12)
    # both paths stop at the same duality-gap tolerance (1e-4), not at the same point
    np.testing.assert_allclose(ours.mse_path_.mean(axis=2), sk.mse_path_.mean(axis=2), rtol=0.05)
    # the refit is certified to the gap tolerance: objective within tol * ||y - mean(y)||^2 / n
    f_ours = objective(ours.coef_, ours.intercept_, X, y, sk.alpha_, sk.l1_ratio_)
    f_sk = objective(sk.coef_, sk.intercept_, X, y, sk.alpha_, sk.l1_ratio_)
    assert f_ours <= f_sk + 1e-4 * np.sum((y - y.mean()) ** 2) / len(y)
    assert ours.predict(X).shape == (90,)
    splitter = ElasticNetCV(l1_ratio=[0.1, 0.5, 0.9], n_alphas=40, cv=KFold(5, shuffle=True, random_state=0))
    assert splitter.fit(X, y).alpha_ == ours.alpha_


def test_kfold_indices_partition_the_rows():
    folds = kfold_indices(23, 5, seed=0)
    tests = np.concatenate([te for _, te in folds])
    assert sorted(tests.tolist()) == list(range(23))
    assert sorted(len(te) for _, te in folds) == [4, 4, 5, 5, 5]
    for tr, te in folds:
        assert not set(tr) & set(te) and len(tr) + len(te) == 23
    assert all((a[1] == b[1]).all() for a, b in zip(folds, kfold_indices(23, 5, seed=0)))


def test_elastic_net_cv_with_integer_cv_is_seeded():
    X, y = make_problem(60, 30, seed=6)
    a = ElasticNetCV(l1_ratio=0.5, n_alphas=20, cv=3, seed=1).fit(X, y)
    b = ElasticNetCV(l1_ratio=0.5, n_alphas=20, cv=3, seed=1).fit(X, y)
    assert a.alpha_ == b.alpha_ and np.array_equal(a.coef_, b.coef_)
    assert a.mse_path_.shape == (1, 20, 3) and a.alphas_.shape == (20,)


@pytest.mark.parametrize("make_bad, match", [
    (lambda X, y: (np.where(np.arange(X.size).reshape(X.shape) == 5, np.nan, X), y), "NaN"),
    (lambda X, y: (X[:, :0], y), "0 feature"),
    (lambda X, y: (X, y[:-2]), "samples"),
    (lambda X, y: (X, np.ones_like(y)), "constant"),
])
def test_cv_bad_input_raises_value_error(make_bad, match):
    X, y = make_problem(30, 8, seed=0)
    with pytest.raises(ValueError, match=match):
        ElasticNetCV(n_alphas=5, cv=3).fit(*make_bad(X, y))


def test_bad_parameters_raise_value_error():
    X, y = make_problem(30, 8, seed=0)
    with pytest.raises(ValueError, match="l1_ratio"):
        ElasticNet(alpha=1.0, l1_ratio=1.5).fit(X, y)
    with pytest.raises(ValueError, match="alpha"):
        ElasticNet(alpha=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="NaN"):
        ElasticNet().fit(X, np.r_[y[:-1], np.nan])
    with pytest.raises(ValueError, match="features"):
        ElasticNet().fit(X, y).predict(X[:, :3])
    with pytest.raises(ValueError, match="cv"):
        ElasticNetCV(cv=1).fit(X, y)


@pytest.mark.parametrize("l1_ratio", [0.05, 0.5, 0.95])
def test_both_gap_certificates_bound_the_suboptimality(l1_ratio):
    """For arbitrary w, gap A and the scaled formulation-B gap are >= P(w) - P(w*) (weak duality)."""
    from nnlite.linear._enet_gaps import _gap

    X, y = make_problem(40, 60, seed=8)
    X, y = X - X.mean(0), y - y.mean()
    n, alpha = len(y), 0.05
    l1, l2 = n * alpha * l1_ratio, n * alpha * (1 - l1_ratio)
    best = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-14, max_iter=100_000, fit_intercept=False).fit(X, y)

    def primal(w):
        R = y - X @ w
        return 0.5 * R @ R + l1 * np.abs(w).sum() + 0.5 * l2 * w @ w

    rng = np.random.default_rng(0)
    keep = np.ones(X.shape[1], dtype=bool)
    for scale in [1e-3, 1e-1, 1.0]:
        w = best.coef_ + scale * rng.standard_normal(X.shape[1]) * (rng.random(X.shape[1]) < 0.3)
        R = y - X @ w
        gap, gap_a, _ = _gap(w, R, y, X.T @ R, keep, l1, l2)
        sub = primal(w) - primal(best.coef_)
        assert gap_a >= sub - 1e-9 and gap >= sub - 1e-9
        assert gap <= gap_a


def test_span_kkt_products_are_exact_or_certified_bounds():
    """span_xt_dot: every entry is X_j.v exactly (always where w_j != 0), or an upper bound on |X_j.v| that is
    <= l1; a v close to the basis span gets mostly bounds, a v far from it adds its direction to the basis (one
    float32 pass) and is then bounded tightly."""
    from nnlite.linear._cd_kernels import add_basis_vector, new_basis, span_xt_dot

    rng = np.random.default_rng(4)
    n, p = 50, 400
    X = np.asfortranarray(rng.standard_normal((n, p)))
    X32 = X.astype(np.float32, order="F")
    norms = np.linalg.norm(X, axis=0)
    Q, B, kq = new_basis(p, n, 6)
    for _ in range(3):
        u = rng.standard_normal(n)
        u -= Q[:kq[0]].T @ (Q[:kq[0]] @ u)
        add_basis_vector(Q, B, kq, u, X.T @ u)
    assert kq[0] == 3
    np.testing.assert_allclose(Q[:3] @ Q[:3].T, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(B[:3], Q[:3] @ X, rtol=1e-6, atol=1e-6)
    keep = np.ones(p, dtype=bool)
    keep[7] = False
    w = np.zeros(p)
    w[:5] = 0.1  # nonzero weights: always the exact product
    in_ws = w != 0
    in_span = Q[:3].T @ rng.standard_normal(3)
    l1 = 0.8 * np.abs(X.T @ in_span).max()
    for step, refresh, grows in [(1e-4, 0.25, False), (1e-1, 1.0, False), (3.0, 0.25, True)]:
        v = in_span + step * rng.standard_normal(n)
        est, gapc = np.empty(p), np.empty(p)
        k0 = kq[0]
        span_xt_dot(X, X32, v, norms, keep, w, l1, Q, B, kq, est, gapc, refresh)
        assert kq[0] == k0 + grows
        exact = X.T @ v
        computed = (est == gapc) & keep
        assert computed[:5].all()
        np.testing.assert_allclose(est[computed], exact[computed], rtol=1e-12, atol=1e-12)
        bounded = ~computed & keep
        assert np.all(np.abs(exact[bounded]) <= gapc[bounded]) and np.all(gapc[bounded] <= l1)
        if step == 1e-4 or grows:  # tight: close to the span, or its direction just joined it
            clear = keep & ~in_ws & (np.abs(exact) < 0.99 * l1)
            assert clear.sum() > 50 and np.all(bounded[clear])
    # a full basis starts again from v: still exact-or-bounded
    while kq[0] < Q.shape[0]:
        u = rng.standard_normal(n)
        u -= Q[:kq[0]].T @ (Q[:kq[0]] @ u)
        add_basis_vector(Q, B, kq, u, X.T @ u)
    v = 5.0 * rng.standard_normal(n)
    span_xt_dot(X, X32, v, norms, keep, w, l1, Q, B, kq, est, gapc, 0.25)
    assert kq[0] == 1
    exact = X.T @ v
    bounded = (est != gapc) & keep
    assert np.all(np.abs(exact[bounded]) <= gapc[bounded]) and np.all(gapc[bounded] <= l1)


@pytest.mark.parametrize("l1_ratio", [0.1, 0.5, 1.0])
def test_screened_path_keeps_every_feature_active_in_sklearns_solution(l1_ratio):
    """Wide data (p >> n): along the path, the strong rule, the bounded KKT passes and gap safe screening never
    drop a feature that is nonzero in scikit-learn's unscreened solution (tight tolerances on both sides)."""
    X, y = make_problem(60, 1500, seed=5, rho=0.5)
    X, y = X - X.mean(0), y - y.mean()
    alphas = alpha_max(X, y, l1_ratio) * np.geomspace(1.0, 1e-2, 15)
    _, ours, _ = enet_path(X, y, l1_ratio=l1_ratio, alphas=alphas, tol=1e-12, max_iter=100_000)
    _, theirs, _ = sk_enet_path(X, y, l1_ratio=l1_ratio, alphas=alphas, tol=1e-12, max_iter=100_000)
    big = np.abs(theirs) > 1e-6
    assert big.sum() > 20
    assert np.all(ours[big] != 0.0)
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_extrapolated_and_anchored_lasso_dual_points_are_feasible_and_certify():
    """The lasso dual points of the solver (the Celer extrapolation of the last residuals, the best point on the
    segment from the anchor towards each candidate) stay feasible (|X_j.theta| <= l1, within the bounds the
    solver keeps), their gap P(w) - D(theta) is >= P(w) - P(w*) >= 0 (weak duality), never grows from one check
    to the next, and ends below the gap of the rescaled residual alone."""
    from nnlite.linear._cd_kernels import _extrapolated_residual, _sweep
    from nnlite.linear._enet_gaps import _lasso_dual_step

    X, y = make_problem(40, 80, seed=3)
    X, y = np.asfortranarray(X - X.mean(0)), y - y.mean()
    n, p = X.shape
    l1 = 0.05 * np.abs(X.T @ y).max()
    best = ElasticNet(alpha=l1 / n, l1_ratio=1.0, tol=1e-14, max_iter=100_000, fit_intercept=False).fit(X, y)
    p_star = 0.5 * np.sum((y - X @ best.coef_) ** 2) + l1 * np.abs(best.coef_).sum()

    def dual(theta):
        return theta @ y - 0.5 * theta @ theta

    def products(v):  # as span_xt_dot gives them: exact where they may exceed l1, a bound <= l1 elsewhere
        c = X.T @ v
        return np.where(np.abs(c) < 0.5 * l1, 0.9 * l1, c)

    w, R = np.zeros(p), y.copy()
    norms2, every, keep = np.sum(X * X, axis=0), np.arange(p, dtype=np.int64), np.ones(p, dtype=bool)
    theta, ub, d_theta = np.zeros(n), np.zeros(p), 0.0
    rbuf, gaps, n_ext = np.empty((6, n)), [], 0
    for sweep in range(60):
        _sweep(X, norms2, w, R, every, p, l1, 0.0)
        rbuf[sweep % 6] = R
        primal = 0.5 * R @ R + l1 * np.abs(w).sum()
        d_theta = _lasso_dual_step(theta, ub, d_theta, R, products(R), y, keep, l1)
        if sweep >= 5:
            v, ok = _extrapolated_residual(rbuf, sweep + 1)
            if ok:
                n_ext += 1
                d_theta = _lasso_dual_step(theta, ub, d_theta, v, products(v), y, keep, l1)
        c_theta = np.abs(X.T @ theta)
        assert np.all(c_theta <= l1 * (1 + 1e-12)) and np.all(c_theta <= ub + 1e-9 * l1)
        assert d_theta == pytest.approx(dual(theta), rel=1e-12, abs=1e-12)
        gaps.append(primal - d_theta)
        assert gaps[-1] >= max(primal - p_star, 0.0) - 1e-10 * p_star
    assert n_ext > 0 and np.all(np.diff(gaps) <= 1e-10 * p_star)
    rescaled = R * min(1.0, l1 / np.abs(X.T @ R).max())
    assert gaps[-1] <= primal - dual(rescaled) + 1e-12


def test_lasso_dual_segment_stays_put_where_the_anchor_is_on_a_constraint():
    """An anchor on (or past, by rounding) a constraint that the candidate violates allows no step: t = 0 and the
    anchor's own value, not a 0 / 0 step length."""
    from nnlite.linear._enet_gaps import _lasso_segment

    y, a, v = np.array([1.0, 2.0]), np.array([0.5, 0.5]), np.array([1.0, 2.0])
    keep = np.ones(2, dtype=bool)
    for ua0, c0 in [(1.0, 1.5), (1.0 + 2.0 ** -52, 1.0 + 2.0 ** -52)]:
        t, val = _lasso_segment(a, np.array([ua0, 0.2]), v, np.array([c0, 0.3]), y, keep, 1.0)
        assert t == 0.0 and val == pytest.approx(a @ y - 0.5 * a @ a)
    t, val = _lasso_segment(a, np.array([0.5, 0.2]), v, np.array([0.9, 0.8]), y, keep, 1.0)
    assert t == 1.0 and val == pytest.approx(v @ y - 0.5 * v @ v)  # feasible candidate: the whole step
