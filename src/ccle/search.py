"""The paper's greedy width/depth search for the per-drug network, and its per-drug cache.

Paper, Sec. III-B-1: start with one hidden layer of 10 ReLU nodes; split the rows 70/30 (train/validation);
widen the current layer by 10 nodes while the validation MSE improves (at most 200 nodes); when it stops
improving, try one more hidden layer of 10 nodes and keep it if the validation MSE improves, then widen it in
turn; stop when adding a layer does not help or ``max_layers`` is reached.

Without ``--search`` the pipeline uses :data:`ccle.model.DEFAULT_WIDTHS`, a fixed architecture (see its comment
for how it was chosen).
"""
import time

import numpy as np

from ccle.evaluate import inner_split
from ccle.store import cached
from nnlite.networks import paper_network
from nnlite.optim import Adam


def greedy_search(score, *, start=10, step=10, max_width=200, max_layers=12):
    """Greedy width/depth search; ``score(widths) -> validation MSE`` (lower is better).

    Returns ``(best_widths: tuple, history: list[dict(widths, mse)])``. The number of ``score`` calls is at
    most ``max_layers * (max_width - start) / step + max_layers``.
    """
    if start < 1 or step < 1 or max_width < start or max_layers < 1:
        raise ValueError("greedy_search needs start >= 1, step >= 1, max_width >= start, max_layers >= 1")
    history = []

    def run(widths):
        mse = float(score(tuple(widths)))
        history.append({"widths": list(widths), "mse": mse})
        return mse

    best = [start]
    best_mse = run(best)
    while True:
        while best[-1] + step <= max_width:
            cand = best[:-1] + [best[-1] + step]
            mse = run(cand)
            if mse < best_mse:
                best, best_mse = cand, mse
            else:
                break
        if len(best) >= max_layers:
            break
        cand = best + [start]
        mse = run(cand)
        if mse < best_mse:
            best, best_mse = cand, mse
        else:
            break
    return tuple(best), history


def network_scorer(Z, ys, *, seed=0, validation_fraction=0.3, dropout=0.4, n_dropout=3, l1=1e-5, l2=1e-3,
                   lr=1e-3, epochs=200, batch_size=32, patience=20):
    """``score(widths)``: train a paper network on a seeded 70/30 split of ``(Z, ys)`` and return its validation
    MSE (early stopping on the same validation rows, as in the paper's heuristic). ``Z`` (n, p) are the scaled
    selected genes of the *training rows* of a split, ``ys`` (n,) the standardized responses."""
    Z = np.asarray(Z, dtype=np.float32)
    ys = np.asarray(ys, dtype=np.float32).ravel()
    tr, va = inner_split(Z.shape[0], validation_fraction, seed)

    def score(widths):
        net = paper_network(Z.shape[1], list(widths), dropout=dropout, n_dropout=n_dropout, l1=l1, l2=l2,
                            seed=seed)
        net.fit(Z[tr], ys[tr], epochs=epochs, batch_size=batch_size, optimizer=Adam(lr=lr),
                validation=(Z[va], ys[va]), patience=patience)
        pred = np.asarray(net.predict(Z[va]), dtype=np.float64).ravel()
        return float(np.mean((pred - ys[va]) ** 2))

    return score


def _check_entry(entry):
    """Raise when a stored search entry is not one (a damaged cache file is then recomputed)."""
    if not isinstance(entry, dict) or not entry.get("widths") or min(int(w) for w in entry["widths"]) < 1:
        raise ValueError("not a width-search entry")
    float(entry["seconds"])


def cached_search(cache_dir, key, compute):
    """Return the widths stored under ``key`` in ``cache_dir`` or ``compute() -> (widths, history)`` and store
    them (:func:`ccle.store.cached`: locked, written atomically). Returns ``dict(widths, history, seconds,
    cached)``."""
    def run():
        t0 = time.perf_counter()
        widths, history = compute()
        return {"key": key, "widths": [int(w) for w in widths], "history": history,
                "seconds": time.perf_counter() - t0}

    entry, was_cached = cached(cache_dir, f"search_{key}", run, check=_check_entry)
    entry["cached"] = was_cached
    return entry
