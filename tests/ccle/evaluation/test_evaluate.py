"""Monte Carlo splits, metrics against scipy/scikit-learn, and the corrected resampled t-test."""
import math

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import mean_squared_error, r2_score

from ccle.errors import CCLEError
from ccle.evaluation.metrics import corrected_resampled_ttest, regression_metrics
from ccle.evaluation.splits import monte_carlo_splits, split_indices, split_seed


def test_split_is_a_70_30_partition():
    train, test = split_indices(200, "17-AAG", 0, seed=0)
    assert test.size == 60 and train.size == 140
    assert np.intersect1d(train, test).size == 0
    assert np.array_equal(np.union1d(train, test), np.arange(200))
    assert np.all(np.diff(train) > 0) and np.all(np.diff(test) > 0)


def test_split_seeds_are_deterministic_and_distinct():
    a = split_indices(100, "drugA", 1, seed=3)
    b = split_indices(100, "drugA", 1, seed=3)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    others = [split_indices(100, "drugA", 2, seed=3)[1], split_indices(100, "drugB", 1, seed=3)[1],
              split_indices(100, "drugA", 1, seed=4)[1]]
    assert all(not np.array_equal(a[1], o) for o in others)
    # independent of how many splits are asked for
    assert np.array_equal(monte_carlo_splits(100, "drugA", 5, seed=3)[1][1], a[1])
    assert split_seed(0, "x", 0) == split_seed(0, "x", 0) != split_seed(0, "x", 1)


def test_too_few_cell_lines_is_a_user_error():
    with pytest.raises(CCLEError, match="too few"):
        split_indices(8, "tiny", 0)
    with pytest.raises(ValueError):
        split_indices(100, "d", 0, test_fraction=1.5)


def test_metrics_match_references():
    rng = np.random.default_rng(0)
    y = rng.normal(size=50)
    p = y + rng.normal(scale=0.5, size=50)
    p[:5] = p[5]  # ties for the ranks
    m = regression_metrics(y, p)
    assert m["mse"] == pytest.approx(mean_squared_error(y, p), rel=1e-12)
    assert m["rmse"] == pytest.approx(math.sqrt(mean_squared_error(y, p)), rel=1e-12)
    assert m["r2"] == pytest.approx(r2_score(y, p), rel=1e-12)
    assert m["pearson"] == pytest.approx(stats.pearsonr(y, p)[0], rel=1e-10)
    assert m["spearman"] == pytest.approx(stats.spearmanr(y, p)[0], rel=1e-10)


def test_constant_prediction_has_undefined_correlation_and_bad_input_raises():
    m = regression_metrics([1.0, 2.0, 3.0], [2.0, 2.0, 2.0])
    assert np.isnan(m["pearson"]) and np.isnan(m["spearman"]) and m["mse"] == pytest.approx(2 / 3)
    # a constant whose mean is not exactly representable: rounding noise must not become a correlation
    m = regression_metrics(np.arange(7.0), np.full(7, 0.1 + 0.2))
    assert np.isnan(m["pearson"]) and np.isnan(m["spearman"])
    with pytest.raises(ValueError, match="values"):
        regression_metrics([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="NaN"):
        regression_metrics([1.0, np.nan], [1.0, 2.0])
    with pytest.raises(ValueError, match="empty"):
        regression_metrics([], [])


def test_corrected_ttest_known_answer():
    d = np.array([-0.10, -0.05, -0.08, -0.12, -0.02])
    res = corrected_resampled_ttest(d, n_train=140, n_test=60)
    mean, var = d.mean(), d.var(ddof=1)
    t = mean / math.sqrt((1 / 5 + 60 / 140) * var)
    assert res["mean"] == pytest.approx(mean)
    assert res["t"] == pytest.approx(t)
    assert res["p"] == pytest.approx(2 * stats.t.sf(abs(t), 4))
    assert res["k"] == 5


def test_corrected_ttest_reduces_to_one_sample_t_without_overlap_term():
    d = np.array([0.3, -0.1, 0.2, 0.4, 0.1, 0.0])
    res = corrected_resampled_ttest(d, n_train=10 ** 12, n_test=1)
    ref = stats.ttest_1samp(d, 0.0)
    assert res["t"] == pytest.approx(ref.statistic, rel=1e-6)
    assert res["p"] == pytest.approx(ref.pvalue, rel=1e-5)
    # the correction makes the test more conservative
    assert corrected_resampled_ttest(d, 70, 30)["p"] > ref.pvalue


def test_corrected_ttest_degenerate_cases():
    assert math.isnan(corrected_resampled_ttest([0.1], 70, 30)["t"])
    assert corrected_resampled_ttest([0.0, 0.0], 70, 30)["p"] == 1.0
    assert corrected_resampled_ttest([-1.0, -1.0], 70, 30)["p"] == 0.0
    with pytest.raises(ValueError):
        corrected_resampled_ttest([np.nan, 1.0], 70, 30)
