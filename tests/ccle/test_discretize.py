"""IQR discretization (paper Sec. III.C): thresholds from observed values, applied unchanged to predictions."""
import json

import numpy as np
import pytest

from ccle.discretize import IQRThresholds, classify, sensitivity_accuracy


def test_thresholds_are_numpy_percentiles():
    y = np.random.default_rng(0).lognormal(size=101)
    t = IQRThresholds().fit(y)
    assert t.low_ == np.percentile(y, 25) and t.high_ == np.percentile(y, 75)
    low, high = t  # unpacks
    assert (low, high) == (t.low_, t.high_)


def test_fit_on_class_or_instance():
    a = IQRThresholds.fit([1.0, 2.0, 3.0, 4.0, 5.0])
    b = IQRThresholds().fit([1.0, 2.0, 3.0, 4.0, 5.0])
    assert isinstance(a, IQRThresholds) and (a.low_, a.high_) == (b.low_, b.high_) == (2.0, 4.0)


def test_classify_with_ties_at_the_thresholds():
    t = IQRThresholds.fit([1.0, 2.0, 3.0, 4.0, 5.0])  # low 2, high 4
    out = t.classify([1.0, 2.0, 2.5, 3.9, 4.0, 9.0])
    assert out.tolist() == ["resistant", "resistant", "moderate", "moderate", "sensitive", "sensitive"]
    assert t.codes([2.0, 3.0, 4.0]).tolist() == [0, 1, 2]
    assert classify([2.0, 3.0, 4.0], (2.0, 4.0)).tolist() == ["resistant", "moderate", "sensitive"]


def test_thresholds_stay_fixed_for_predictions():
    t = IQRThresholds.fit(np.arange(9.0))  # low 2, high 6
    preds = np.full(10, 7.0)
    assert (t.classify(preds) == "sensitive").all()  # not re-fitted on the predictions


def test_sensitivity_accuracy_known_answer():
    t = IQRThresholds(2.0, 6.0)
    y_true = [1.0, 3.0, 5.0, 7.0]
    y_pred = [1.5, 6.5, 4.0, 8.0]  # R R | M S | M M | S S -> 3 of 4
    assert sensitivity_accuracy(y_true, y_pred, t) == 0.75
    assert sensitivity_accuracy(y_true, y_pred, (2.0, 6.0)) == 0.75
    assert sensitivity_accuracy(np.array(y_true)[:, None], y_true, t) == 1.0


def test_dict_round_trip():
    t = IQRThresholds.fit([0.1, 0.4, 0.9, 2.0])
    back = IQRThresholds.from_dict(json.loads(json.dumps(t.to_dict())))
    assert (back.low_, back.high_) == (t.low_, t.high_)


def test_bad_input():
    with pytest.raises(ValueError, match="empty"):
        IQRThresholds.fit([])
    with pytest.raises(ValueError, match="NaN"):
        IQRThresholds.fit([1.0, np.nan])
    with pytest.raises(ValueError, match="not fitted"):
        IQRThresholds().classify([1.0])
    with pytest.raises(ValueError, match="y_true has 2 values, y_pred has 3"):
        sensitivity_accuracy([1, 2], [1, 2, 3], (1, 2))
    with pytest.raises(ValueError, match="above"):
        IQRThresholds(3.0, 1.0)
    with pytest.raises(ValueError, match="1-D"):
        IQRThresholds.fit(np.ones((2, 2)))
