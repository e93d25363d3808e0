"""IQR discretization (paper Sec. III.C): thresholds from observed values, applied unchanged to predictions."""
import json

import numpy as np
import pytest

from ccle.evaluation.thresholds import IQRThresholds, classify, sensitivity_accuracy


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


# ------------------------------------------------------------------------------------ direction of "sensitive"
from ccle.evaluation.thresholds import CalibratedThresholds, sensitive_direction  # noqa: E402
from ccle.errors import CCLEError  # noqa: E402


@pytest.mark.parametrize("name, sign", [("ActArea", 1), ("actarea", 1), ("IC50 (uM)", -1), ("EC50 (uM)", -1),
                                        ("IC50", -1), ("ec50", -1), ("Amax", -1)])
def test_sensitive_direction_per_response(name, sign):
    assert sensitive_direction(name) == sign


def test_sensitive_direction_unknown_name_is_a_user_error():
    with pytest.raises(CCLEError, match="LogIC50"):
        sensitive_direction("LogIC50")


def test_low_is_sensitive_for_direction_minus_one():
    y = np.arange(9.0)  # p25 = 2, p75 = 6
    t = IQRThresholds(direction=-1).fit(y)
    assert t.codes([2.0, 2.1, 5.9, 6.0]).tolist() == [2, 1, 1, 0]
    assert t.classify([0.0, 8.0]).tolist() == ["sensitive", "resistant"]
    up = IQRThresholds(direction=1).fit(y)
    assert up.codes([2.0, 6.0]).tolist() == [0, 2]
    # flipping the sign of the values and the direction gives the same calls
    assert (IQRThresholds(direction=1).fit(-y).codes(-y) == t.codes(y)).all()


def test_direction_survives_the_dict_round_trip_and_old_files_mean_actarea():
    t = IQRThresholds(direction=-1).fit([1.0, 2.0, 3.0, 4.0])
    back = IQRThresholds.from_dict(json.loads(json.dumps(t.to_dict())))
    assert back.direction == -1 and (back.low_, back.high_) == (t.low_, t.high_)
    assert IQRThresholds.from_dict({"low": 1.0, "high": 2.0}).direction == 1
    with pytest.raises(ValueError):
        IQRThresholds(direction=0)


def test_calibrated_thresholds_split_oof_predictions_25_50_25():
    oof = np.random.default_rng(0).normal(size=400)
    c = CalibratedThresholds().fit(oof)
    counts = np.bincount(c.codes(oof), minlength=3)
    assert counts.tolist() == [100, 200, 100]
    down = CalibratedThresholds(direction=-1).fit(oof)
    assert (down.codes(oof) == 2 - c.codes(oof)).all()
    back = CalibratedThresholds.from_dict(c.to_dict())
    assert isinstance(back, CalibratedThresholds) and (back.codes(oof) == c.codes(oof)).all()


def test_calibrated_constant_oof_calls_everything_moderate():
    c = CalibratedThresholds().fit(np.full(50, 0.37))
    assert c.low_ == c.high_ == 0.37
    assert c.codes(np.full(10, 0.37)).tolist() == [1] * 10
    assert c.codes([0.36, 0.38]).tolist() == [0, 2]


def test_capped_ic50_at_both_quartiles_is_resistant():
    ic50 = np.r_[np.full(30, 8.0), [0.5, 1.0, 2.0, 8.0]]  # most lines at the 8 uM cap: p25 == p75 == 8
    t = IQRThresholds(direction=-1).fit(ic50)
    assert t.low_ == t.high_ == 8.0
    assert t.codes([8.0, 7.9, 0.1]).tolist() == [0, 2, 2]
    # the same tie rule for direction +1 (an ActArea floor holding both quartiles)
    assert IQRThresholds(direction=1).fit(np.r_[np.zeros(30), [1.0, 2.0]]).codes([0.0, 0.5]).tolist() == [0, 2]


def test_actarea_dict_keeps_the_old_two_keys():
    assert IQRThresholds.fit([1.0, 2.0, 3.0]).to_dict() == {"low": 1.5, "high": 2.5}
