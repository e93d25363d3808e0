"""Preprocessing: constant-gene filter, log2(x+1), MinMaxScaler (parity with scikit-learn, train-only fit)."""
import json

import numpy as np
import pytest
from sklearn.preprocessing import MinMaxScaler as SkMinMaxScaler

from ccle.methods.preprocess import ExpressionTransform, MinMaxScaler, decide_log2, drop_constant_genes, log2p1, standardize


def test_drop_constant_genes_known_answer():
    X = np.array([[0, 1, 5, 2], [0, 2, 5, 2], [0, 3, 5, 2.5]], dtype=np.float32)
    Xk, genes, dropped = drop_constant_genes(X, ["zero", "a", "five", "b"])
    assert genes == ["a", "b"] and dropped == ["zero", "five"]
    np.testing.assert_array_equal(Xk, X[:, [1, 3]])
    assert Xk.dtype == np.float32 and Xk.flags.c_contiguous


def test_drop_constant_genes_errors():
    with pytest.raises(ValueError, match="2 gene names for 3 columns"):
        drop_constant_genes(np.ones((2, 3)), ["a", "b"])
    with pytest.raises(ValueError, match="NaN or inf"):
        drop_constant_genes(np.array([[np.nan, 1.0]]), ["a", "b"])
    with pytest.raises(ValueError, match="empty"):
        drop_constant_genes(np.ones((0, 3)), ["a", "b", "c"])


def test_log2p1():
    X = np.array([[0, 1, 3, 1023]], dtype=np.float32)
    out = log2p1(X)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[0, 1, 2, 10]], rtol=1e-6)
    with pytest.raises(ValueError, match="non-negative"):
        log2p1(np.array([[-0.5, 1.0]]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_minmax_parity_with_sklearn_on_held_out_rows(dtype):
    rng = np.random.default_rng(0)
    X = rng.lognormal(0, 2, (60, 9)).astype(dtype)
    X[:, 4] = 3.0  # constant in training
    train, test = X[:40], X[40:] * 1.5  # test rows exceed the training range: clipped
    ours = MinMaxScaler().fit(train)
    ref = SkMinMaxScaler(clip=True).fit(train)
    np.testing.assert_allclose(ours.scale_, ref.scale_, rtol=1e-6)
    np.testing.assert_allclose(ours.min_, ref.min_, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(ours.data_min_, ref.data_min_, rtol=1e-6)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(ours.transform(test), ref.transform(test), atol=tol)
    np.testing.assert_allclose(ours.transform(train), ref.transform(train), atol=tol)
    out = ours.transform(test)
    assert out.dtype == dtype and out.min() >= 0.0 and out.max() <= 1.0
    np.testing.assert_allclose(ours.inverse_transform(ours.transform(train)), train, rtol=1e-5)


def test_minmax_is_fitted_on_training_rows_only():
    train = np.array([[0.0], [10.0]])
    scaler = MinMaxScaler().fit(train)
    np.testing.assert_allclose(scaler.transform(np.array([[5.0], [20.0], [-3.0]])), [[0.5], [1.0], [0.0]])
    assert scaler.fit_transform(np.array([[2.0], [4.0]])).ravel().tolist() == [0.0, 1.0]


def test_minmax_dict_round_trip_through_json():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(20, 5))
    scaler = MinMaxScaler().fit(X)
    back = MinMaxScaler.from_dict(json.loads(json.dumps(scaler.to_dict())))
    np.testing.assert_array_equal(back.transform(X), scaler.transform(X))


def test_minmax_errors():
    with pytest.raises(ValueError, match="not fitted"):
        MinMaxScaler().transform(np.ones((2, 2)))
    scaler = MinMaxScaler().fit(np.ones((3, 2)))
    with pytest.raises(ValueError, match="3 features, the scaler was fitted on 2"):
        scaler.transform(np.ones((1, 3)))
    with pytest.raises(ValueError, match="2-D"):
        MinMaxScaler().fit(np.ones(4))
    with pytest.raises(ValueError, match="NaN or inf"):
        MinMaxScaler().fit(np.array([[1.0], [np.inf]]))


def test_log2_decision_of_the_whole_matrix():
    rpkm = np.array([[0.0, 120.0], [3.0, np.nan]])
    assert decide_log2(rpkm) is True                        # non-negative, max > 50, NaN ignored
    assert decide_log2(rpkm / 10) is False                  # max 12: already on a log-like scale
    assert decide_log2(np.array([[-1.0, 80.0]])) is False   # z-scored / log values
    assert decide_log2(rpkm, "no") is False and decide_log2(rpkm / 10, "yes") is True
    with pytest.raises(ValueError, match="auto, yes, no"):
        decide_log2(rpkm, "maybe")


def test_expression_transform_records_and_replays_its_decisions():
    rng = np.random.default_rng(4)
    X = (rng.random((6, 5)) * 100).astype(np.float32)
    X[:, 2] = 0.0
    genes = ["a", "b", "c", "d", "e"]
    t = ExpressionTransform.fit(X, genes, log2p1=True)
    assert t.genes == ["a", "b", "d", "e"] and t.dropped == ["c"] and t.log2p1
    Xt = t.apply(X, genes)
    assert Xt.dtype == np.float32
    np.testing.assert_array_equal(Xt, log2p1(X[:, [0, 1, 3, 4]]).astype(np.float32))
    # replay on the same data with the columns shuffled, an extra gene and one gene missing
    order = [4, 0, 3, 2, 1]
    new = np.hstack([X[:, order], np.ones((6, 1), np.float32)])
    replayed = t.replay(new, [genes[j] for j in order] + ["zz"], ["b", "e", "missing"])
    np.testing.assert_array_equal(replayed[:, :2], Xt[:, [1, 3]])
    assert np.isnan(replayed[:, 2]).all()
    back = ExpressionTransform.from_dict(json.loads(json.dumps(t.to_dict())), t.genes)
    assert back == t
    with pytest.raises(ValueError, match="negative"):
        t.replay(-X, genes)


def test_standardize_known_answer():
    ys, mean, scale = standardize([1.0, 2.0, 3.0])
    assert mean == 2.0 and scale == pytest.approx(np.sqrt(2 / 3))
    np.testing.assert_allclose(ys, [-np.sqrt(1.5), 0.0, np.sqrt(1.5)])
    assert standardize([5.0, 5.0])[2] == 1.0
