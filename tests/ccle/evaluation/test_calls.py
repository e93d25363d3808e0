"""Classification metrics against scikit-learn (oracle) and the call_metrics record fragment."""
import math
import warnings

import numpy as np
import pytest
from sklearn.metrics import (balanced_accuracy_score, cohen_kappa_score, confusion_matrix, f1_score,
                             roc_auc_score)

from ccle.evaluation.calls import (auroc, balanced_accuracy, call_metrics, confusion, macro_f1, quadratic_kappa)


def _random_pairs():
    rng = np.random.default_rng(1)
    for n in (1, 2, 5, 17, 200):
        yield rng.integers(0, 3, n), rng.integers(0, 3, n)
    # degenerate: one class absent, all one class, predictions in a class never observed
    yield np.array([0, 0, 2, 2, 2]), np.array([0, 1, 2, 1, 2])
    yield np.array([1, 1, 1, 1]), np.array([0, 1, 2, 1])
    yield np.array([2, 2, 2]), np.array([1, 1, 1])
    yield np.array([0, 1, 2, 1]), np.array([1, 1, 1, 1])


@pytest.mark.parametrize("pair", list(_random_pairs()))
def test_class_metrics_match_scikit_learn(pair):
    a, b = pair
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert confusion(a, b).tolist() == confusion_matrix(a, b, labels=[0, 1, 2]).tolist()
        assert balanced_accuracy(a, b) == pytest.approx(balanced_accuracy_score(a, b), abs=1e-12)
        assert macro_f1(a, b) == pytest.approx(f1_score(a, b, average="macro", zero_division=0), abs=1e-12)
        ref = cohen_kappa_score(a, b, weights="quadratic")
    ours = quadratic_kappa(a, b)
    assert (math.isnan(ours) and math.isnan(ref)) or ours == pytest.approx(ref, abs=1e-12)


def test_kappa_is_nan_when_both_sides_are_one_class():
    assert math.isnan(quadratic_kappa([1, 1, 1], [1, 1, 1]))
    assert quadratic_kappa([0, 1, 2], [0, 1, 2]) == 1.0


def test_always_moderate_scores_chance_on_the_metrics_that_cannot_be_gamed():
    obs = np.array([0] * 25 + [1] * 50 + [2] * 25)
    pred = np.ones(100, dtype=int)
    assert balanced_accuracy(obs, pred) == pytest.approx(1 / 3)
    assert quadratic_kappa(obs, pred) == 0.0
    assert np.mean(obs == pred) == 0.5  # what the paper's accuracy gives it


@pytest.mark.parametrize("seed", range(4))
def test_auroc_matches_scikit_learn_with_ties(seed):
    rng = np.random.default_rng(seed)
    labels = rng.random(60) < 0.3
    score = np.round(rng.normal(size=60) + labels, 1)  # rounding makes ties
    assert auroc(labels, score) == pytest.approx(roc_auc_score(labels, score), abs=1e-12)


def test_auroc_is_nan_with_one_class():
    assert math.isnan(auroc([True, True], [0.1, 0.2]))
    assert math.isnan(auroc([False, False, False], [0.1, 0.2, 0.3]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ref = roc_auc_score([1, 1], [0.1, 0.2])  # scikit-learn >= 1.6 warns and returns NaN
        except ValueError:  # older releases refuse
            ref = math.nan
    assert math.isnan(ref)


def _fake_task(seed, n_train=150, n_test=70):
    rng = np.random.default_rng(seed)
    y_train, y_test = rng.normal(size=n_train), rng.normal(size=n_test)
    oof = 0.4 * y_train + 0.2 * rng.normal(size=n_train)
    pred = 0.4 * y_test + 0.2 * rng.normal(size=n_test)
    return y_test, pred, y_train, oof


def test_call_metrics_fields_and_values():
    y_test, pred, y_train, oof = _fake_task(0)
    rec = call_metrics(y_test, pred, y_train, oof, "ActArea")
    assert set(rec) == {"sens_acc", "paper_bal_acc", "paper_kappa", "cal_acc", "cal_bal_acc", "cal_macro_f1",
                        "cal_kappa", "auroc_sensitive", "auroc_resistant", "confusion_paper",
                        "confusion_calibrated"}
    lo, hi = np.percentile(y_train, [25, 75])
    obs = np.where(y_test >= hi, 2, np.where(y_test <= lo, 0, 1))
    clo, chi = np.percentile(oof, [25, 75])
    cal = np.where(pred > chi, 2, np.where(pred < clo, 0, 1))
    assert rec["cal_acc"] == np.mean(obs == cal)
    assert rec["confusion_calibrated"] == confusion_matrix(obs, cal, labels=[0, 1, 2]).tolist()
    assert rec["auroc_sensitive"] == pytest.approx(roc_auc_score(obs == 2, pred))
    assert rec["auroc_resistant"] == pytest.approx(roc_auc_score(obs == 0, -pred))
    assert rec["auroc_sensitive"] > 0.6 and rec["cal_kappa"] > 0.1  # the signal is there
    # the shrunk predictions almost never leave "moderate" under the paper rule; the calibrated rule does
    assert sum(row[0] + row[2] for row in rec["confusion_paper"]) < sum(
        row[0] + row[2] for row in rec["confusion_calibrated"])


def test_call_metrics_direction_minus_one_mirrors_actarea():
    y_test, pred, y_train, oof = _fake_task(3)
    up = call_metrics(y_test, pred, y_train, oof, "ActArea")
    down = call_metrics(-y_test, -pred, -y_train, -oof, "IC50 (uM)")
    for key in up:
        assert down[key] == pytest.approx(up[key]) if not isinstance(up[key], list) else down[key] == up[key]


def test_call_metrics_of_the_mean_predictor():
    y_test, _, y_train, _ = _fake_task(5)
    mean = float(y_train.mean())
    rec = call_metrics(y_test, np.full(y_test.size, mean), y_train, np.full(y_train.size, mean), "ActArea")
    assert np.sum(rec["confusion_calibrated"], axis=0).tolist() == [0, y_test.size, 0]  # all moderate
    assert rec["cal_bal_acc"] == pytest.approx(1 / 3) and rec["cal_kappa"] == 0.0
    assert rec["auroc_sensitive"] == 0.5 and rec["auroc_resistant"] == 0.5


def test_prediction_percentile_known_answers_and_consistency_with_calibrated_rule():
    from ccle.evaluation.calls import prediction_percentile
    from ccle.evaluation.thresholds import CalibratedThresholds

    assert prediction_percentile([0.0, 2.0, 5.0, 10.0], [1.0, 2.0, 3.0, 4.0]).tolist() == [0.0, 37.5, 100.0,
                                                                                           100.0]
    ref = np.random.default_rng(4).normal(size=401)
    pct = prediction_percentile(ref, ref)
    codes = CalibratedThresholds().fit(ref).codes(ref)
    assert (pct[codes == 2] > 75).all() and (pct[codes == 0] < 25).all()
