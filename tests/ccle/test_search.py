"""The greedy width/depth search on score functions with known optima, and its cache."""
import numpy as np
import pytest

from ccle.search import cached_search, greedy_search, network_scorer


def test_widens_until_no_improvement_then_adds_a_layer():
    # best first layer at 30 nodes; a second layer helps, best at 20; a third layer does not help
    def score(widths):
        s = (widths[0] - 30) ** 2
        if len(widths) >= 2:
            s += -500 + (widths[1] - 20) ** 2
        if len(widths) >= 3:
            s += 1000
        return float(s)

    best, history = greedy_search(score)
    assert best == (30, 20)
    tried = [tuple(h["widths"]) for h in history]
    assert tried == [(10,), (20,), (30,), (40,), (30, 10), (30, 20), (30, 30), (30, 20, 10)]


def test_width_and_depth_caps():
    best, history = greedy_search(lambda w: -float(sum(w)), max_width=50, max_layers=2)
    assert best == (50, 50)
    assert max(len(h["widths"]) for h in history) == 2
    assert all(max(h["widths"]) <= 50 for h in history)
    with pytest.raises(ValueError):
        greedy_search(lambda w: 0.0, max_layers=0)


def test_cached_search_computes_once(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return (20, 10), [{"widths": [20, 10], "mse": 0.5}]

    first = cached_search(tmp_path, "drug A/split0", compute)
    second = cached_search(tmp_path, "drug A/split0", compute)
    assert first["widths"] == second["widths"] == [20, 10]
    assert not first["cached"] and second["cached"]
    assert len(calls) == 1


def test_network_scorer_returns_a_validation_mse():
    rng = np.random.default_rng(0)
    Z = rng.random((80, 12)).astype(np.float32)
    ys = (Z[:, 0] - Z[:, 1]) * 3
    ys = (ys - ys.mean()) / ys.std()
    score = network_scorer(Z, ys, seed=0, epochs=30, patience=5)
    mse = score((10,))
    assert np.isfinite(mse) and mse >= 0
    assert score((10,)) == pytest.approx(mse)  # seeded: the same widths give the same score
