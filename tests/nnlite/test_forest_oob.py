"""Out-of-bag predictions of RandomForestRegressor: the replayed in-bag counts are the trees' own bootstrap, the
OOB prediction is the mean over the trees that did not draw a row, and its accuracy matches scikit-learn's."""
import numpy as np
import pytest
from sklearn.datasets import make_friedman1
from sklearn.ensemble import RandomForestRegressor as SkForest

from nnlite import RandomForestRegressor
from nnlite.tree import bootstrap_counts, predict_trees

MASK = (1 << 64) - 1


def _splitmix_counts(seed, n):
    """NumPy-free twin of the kernel: splitmix64 (Steele et al. 2014) with Python integers, n draws, each
    floor(z n / 2**64) (the kernel's multiply-shift ``_randbelow``)."""
    state, counts = int(seed), np.zeros(n, dtype=np.int64)
    for _ in range(n):
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        z ^= z >> 31
        counts[(z * n) >> 64] += 1
    return counts


def test_bootstrap_counts_replay_the_kernel_stream():
    seeds = np.random.SeedSequence(5).generate_state(3, dtype=np.uint64)
    counts = bootstrap_counts(seeds, 37)
    for t, s in enumerate(seeds):
        assert counts[t].tolist() == _splitmix_counts(s, 37).tolist()
    assert (counts.sum(axis=1) == 37).all()


@pytest.mark.parametrize("max_bins", [None, 256])
def test_in_bag_counts_are_the_rows_each_tree_was_grown_on(max_bins):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(120, 6)), rng.normal(size=120)
    rf = RandomForestRegressor(n_estimators=8, seed=3, max_bins=max_bins, oob_score=True).fit(X, y)
    seeds = np.random.SeedSequence(3).generate_state(8, dtype=np.uint64)
    counts = bootstrap_counts(seeds, 120)
    # the root of tree t holds the distinct in-bag rows, and its value is their count-weighted mean response
    assert (rf.n_node_samples_[:, 0] == (counts > 0).sum(axis=1)).all()
    assert np.allclose(rf.value_[:, 0], counts @ y / counts.sum(axis=1))
    per_tree = np.array([predict_trees(X, rf.feature_[t:t + 1], rf.threshold_[t:t + 1], rf.left_[t:t + 1],
                                       rf.right_[t:t + 1], rf.value_[t:t + 1]) for t in range(8)])
    oob = counts == 0
    with np.errstate(invalid="ignore"):
        expected = np.where(oob.any(axis=0), (per_tree * oob).sum(axis=0) / oob.sum(axis=0), np.nan)
    assert np.allclose(rf.oob_prediction_, expected, equal_nan=True)
    assert np.isnan(rf.oob_prediction_).sum() == int((~oob.any(axis=0)).sum())


def test_oob_accuracy_matches_scikit_learn():
    X, y = make_friedman1(n_samples=400, n_features=20, noise=1.0, random_state=1)
    ours = RandomForestRegressor(n_estimators=100, min_samples_leaf=5, seed=0, oob_score=True).fit(X, y)
    sk = SkForest(n_estimators=100, min_samples_leaf=5, max_features=1 / 3, oob_score=True,
                  random_state=0).fit(X, y)
    assert not np.isnan(ours.oob_prediction_).any()  # 100 trees: every row is out of bag somewhere
    # different random streams, so the same estimator of the generalization error, not the same numbers
    assert abs(ours.oob_score_ - sk.oob_score_) < 0.03
    assert np.corrcoef(ours.oob_prediction_, sk.oob_prediction_)[0, 1] > 0.95


def test_oob_needs_bootstrap():
    with pytest.raises(ValueError, match="bootstrap"):
        RandomForestRegressor(n_estimators=2, bootstrap=False, oob_score=True).fit(np.eye(4), np.arange(4.0))
