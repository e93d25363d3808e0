"""The paper's greedy search (ccle.methods.paper_search) on score functions with known answers, and its scorer."""
import numpy as np
import pytest

from ccle.methods.paper_search import SearchResult, paper_greedy_search, paper_network_scorer


def test_a_new_layer_is_grown_to_its_best_width_before_it_is_judged():
    # first layer best at 30 (mse 0). A second layer is worse at 10 nodes (+100) but, grown to 40, better
    # (-200); the old rule (judge the new layer at 10 nodes) would stop at (30,). A third layer never helps.
    def score(w):
        s = (w[0] - 30) ** 2
        if len(w) >= 2:
            s += 100 - 300 * (1 - ((w[1] - 40) / 30) ** 2) if w[1] <= 70 else 500
        if len(w) >= 3:
            s += 1000
        return float(s)

    res = paper_greedy_search(score)
    assert isinstance(res, SearchResult)
    assert res.widths == (30, 40)
    assert res.mse == pytest.approx(-200.0)
    tried = [tuple(h["widths"]) for h in res.history]
    assert tried == [(10,), (20,), (30,), (40,),
                     (30, 10), (30, 20), (30, 30), (30, 40), (30, 50),
                     (30, 40, 10), (30, 40, 20)]
    assert res.n_calls == len(tried)
    assert res.seconds >= 0


def test_a_layer_that_does_not_beat_the_network_without_it_is_dropped():
    # second layer at its best width (20) reaches exactly the one-layer MSE: a tie is not an improvement
    def score(w):
        return float((w[0] - 20) ** 2 + (0 if len(w) == 1 else abs(w[1] - 20)))

    res = paper_greedy_search(score)
    assert res.widths == (20,)
    assert [tuple(h["widths"]) for h in res.history] == [(10,), (20,), (30,), (20, 10), (20, 20), (20, 30)]


def test_caps_at_twelve_layers_and_counts_its_calls():
    # always better when wider or deeper: every layer reaches max_width, depth stops at the 12-layer cap
    calls = []

    def score(w):
        calls.append(w)
        return -float(sum(w))

    res = paper_greedy_search(score, max_width=20)
    assert res.widths == (20,) * 12
    assert res.n_calls == len(calls) == 12 * 2
    assert max(len(w) for w in calls) == 12
    # the documented bound max_layers * ((max_width - start) / step + 1) is reached with the paper's settings
    res = paper_greedy_search(lambda w: -float(sum(w)))
    assert res.widths == (200,) * 12 and res.n_calls == 12 * 20
    assert all(max(h["widths"]) <= 200 for h in res.history)


def test_other_caps_and_bad_arguments():
    res = paper_greedy_search(lambda w: -float(sum(w)), start=5, step=5, max_width=15, max_layers=3)
    assert res.widths == (15, 15, 15) and res.n_calls == 9
    for bad in ({"max_layers": 0}, {"start": 0}, {"step": 0}, {"max_width": 5}):
        with pytest.raises(ValueError):
            paper_greedy_search(lambda w: 0.0, **bad)


def _toy(n=200, p=30, seed=0):
    rng = np.random.default_rng(seed)
    Z = rng.uniform(size=(n, p)).astype(np.float32)
    y = 2 * Z[:, 0] - Z[:, 1] + 0.1 * rng.normal(size=n)
    ys = ((y - y.mean()) / y.std()).astype(np.float32)
    perm = np.random.default_rng(1).permutation(n)
    return Z, ys, np.sort(perm[60:]), np.sort(perm[:60])


def test_scorer_keeps_the_best_network_and_is_deterministic():
    Z, ys, tr, va = _toy()
    kw = {"epochs": 100, "patience": 15, "batch_size": 32, "lr": 1e-2, "seed": 3}
    scorer = paper_network_scorer(Z, ys, tr, va, **kw)
    res = paper_greedy_search(scorer, max_width=30, max_layers=2)
    assert scorer.n_calls == res.n_calls
    assert scorer.best_widths == res.widths
    assert scorer.best_mse == pytest.approx(min(h["mse"] for h in res.history))
    # the kept network is the trained winner: its validation MSE is the score it got
    pred = scorer.best_network.predict(Z[va]).astype(np.float64).ravel()
    assert np.mean((pred - ys[va]) ** 2) == pytest.approx(scorer.best_mse, rel=1e-6)
    again = paper_network_scorer(Z, ys, tr, va, **kw)
    assert again(res.widths) == pytest.approx(scorer.best_mse, rel=1e-6)
    # the network learns the linear target (validation MSE of standardized y: 0.09 measured; the mean is ~1)
    assert scorer.best_mse < 0.3
