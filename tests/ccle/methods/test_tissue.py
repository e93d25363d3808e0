"""The tissue baseline: known answers, fallback to the drug mean, the oracle groupby, bad input."""
import numpy as np
import pandas as pd
import pytest

from ccle.methods.tissue import TissueMeanModel


def test_known_answer_and_fallback_to_the_drug_mean():
    X = np.zeros((5, 2))
    y = np.array([1.0, 3.0, 10.0, 0.0, 6.0])
    m = TissueMeanModel().fit(X, y, tissues=["LUNG", "LUNG", "SKIN", "BONE", "BONE"])
    pred = m.predict(np.zeros((4, 2)), tissues=["BONE", "LUNG", "SKIN", "LIVER"])
    np.testing.assert_allclose(pred, [3.0, 2.0, 10.0, 4.0])
    assert list(m.classify(np.zeros((1, 2)), tissues=["SKIN"])) == ["sensitive"]


def test_matches_a_pandas_groupby_and_min_lines():
    rng = np.random.default_rng(0)
    tissues = rng.choice(["A", "B", "C", "D"], size=80, p=[0.5, 0.3, 0.15, 0.05]).tolist()
    y = rng.standard_normal(80) + np.array([{"A": 0, "B": 1, "C": 2, "D": -1}[t] for t in tissues])
    m = TissueMeanModel(min_lines=5).fit(np.zeros((80, 1)), y, tissues=tissues)
    groups = pd.Series(y).groupby(pd.Series(tissues))
    means, counts = groups.mean(), groups.size()
    test = ["A", "B", "C", "D"]
    expected = [means[t] if counts[t] >= 5 else y.mean() for t in test]
    np.testing.assert_allclose(m.predict(np.zeros((4, 1)), tissues=test), expected)


def test_bad_input():
    with pytest.raises(ValueError, match="tissues"):
        TissueMeanModel().fit(np.zeros((3, 1)), np.zeros(3))
    with pytest.raises(ValueError, match="3 rows but 2"):
        TissueMeanModel().fit(np.zeros((3, 1)), np.zeros(3), tissues=["A", "B"])
    with pytest.raises(ValueError, match="finite"):
        TissueMeanModel().fit(np.zeros((2, 1)), [0.0, np.nan], tissues=["A", "B"])
