"""Non-negative stacking: known weights, non-negativity, parity with scipy's NNLS, and cross-fitting that never
uses a row's own fold."""
import numpy as np
import pytest
from scipy.optimize import nnls as scipy_nnls

from nnlite import NonNegativeStacker, cross_fit_predict


def members(n=200, seed=0):
    """Three correlated members' predictions around a signal."""
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=n)
    return signal[:, None] + 0.5 * rng.normal(size=(n, 3)), signal


def test_y_equal_to_one_member_puts_weight_one_on_it():
    P, _ = members()
    stacker = NonNegativeStacker().fit(P, P[:, 1])
    np.testing.assert_allclose(stacker.coef_, [0.0, 1.0, 0.0], atol=1e-12)
    assert stacker.intercept_ == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(stacker.predict(P), P[:, 1], atol=1e-12)


@pytest.mark.parametrize("fit_intercept,offset", [(True, 0.0), (True, 5.0), (False, 0.0)])
def test_a_mix_of_two_members_is_recovered(fit_intercept, offset):
    P, _ = members()
    y = 0.3 * P[:, 0] + 0.7 * P[:, 1] + offset
    stacker = NonNegativeStacker(fit_intercept=fit_intercept).fit(P, y)
    np.testing.assert_allclose(stacker.coef_, [0.3, 0.7, 0.0], atol=1e-12)
    assert stacker.intercept_ == pytest.approx(offset, abs=1e-12)


def test_weights_stay_non_negative_where_least_squares_wants_a_negative_one():
    P, _ = members()
    y = P[:, 0] - 0.8 * P[:, 2]
    unconstrained = np.linalg.lstsq(np.column_stack([P, np.ones(len(y))]), y, rcond=None)[0]
    assert unconstrained[2] < -0.5
    stacker = NonNegativeStacker().fit(P, y)
    assert np.all(stacker.coef_ >= 0) and stacker.coef_[2] == 0.0


def test_parity_with_scipy_nnls():
    P, signal = members(seed=1)
    y = 2.0 * signal + 1.0
    plain = NonNegativeStacker(fit_intercept=False).fit(P, y)
    np.testing.assert_allclose(plain.coef_, scipy_nnls(P, y)[0], rtol=1e-10)
    assert plain.intercept_ == 0.0
    with_c = NonNegativeStacker().fit(P, y)
    w = scipy_nnls(P - P.mean(axis=0), y - y.mean())[0]
    np.testing.assert_allclose(with_c.coef_, w, rtol=1e-10)
    assert with_c.intercept_ == pytest.approx(y.mean() - P.mean(axis=0) @ w, rel=1e-12)
    # the free intercept is the optimum over c too: residuals have mean zero
    assert np.mean(y - with_c.predict(P)) == pytest.approx(0.0, abs=1e-12)


def test_cross_fitting_never_uses_a_rows_own_fold():
    """Fold 0's target is member 0, fold 1's is member 1, fold 2's member 2: a row's stacked prediction is built
    from the other folds only, so it can never equal its own target's member alone."""
    P, _ = members(n=300, seed=2)
    folds = np.repeat([0, 1, 2], 100)
    y = P[np.arange(300), folds]
    pred, labels, coef, intercept = cross_fit_predict(P, y, folds, return_weights=True)
    assert labels.tolist() == [0, 1, 2]
    for f in range(3):
        own = folds == f
        assert coef[f, f] == 0.0 or coef[f, f] < max(coef[f, g] for g in range(3) if g != f)
        ref = NonNegativeStacker().fit(P[~own], y[~own])
        np.testing.assert_allclose(coef[f], ref.coef_, rtol=1e-12)
        np.testing.assert_allclose(pred[own], ref.predict(P[own]), rtol=1e-12)
    # two folds: each fold's rows are predicted by the other fold's member exactly
    two = np.repeat([0, 1], 150)
    y2 = P[np.arange(300), two]
    pred2 = cross_fit_predict(P, y2, two)
    np.testing.assert_allclose(pred2[:150], P[:150, 1], atol=1e-12)
    np.testing.assert_allclose(pred2[150:], P[150:, 0], atol=1e-12)


def test_cross_fit_prediction_does_not_change_with_a_rows_own_target():
    P, signal = members(n=120, seed=3)
    y = signal.copy()
    folds = np.arange(120) % 4
    before = cross_fit_predict(P, y, folds)
    y[folds == 2] += 100.0  # only rows of fold 2 change
    after = cross_fit_predict(P, y, folds)
    np.testing.assert_array_equal(before[folds == 2], after[folds == 2])
    assert not np.allclose(before[folds != 2], after[folds != 2])


def test_bad_input():
    P, y = members(n=10)
    with pytest.raises(ValueError, match="at least two folds"):
        cross_fit_predict(P, y, np.zeros(10))
    with pytest.raises(ValueError, match="folds \\(n,\\)"):
        cross_fit_predict(P, y, np.zeros(9))
    with pytest.raises(ValueError, match="finite"):
        cross_fit_predict(np.where(P > 0, np.nan, P), y, np.arange(10) % 2)
