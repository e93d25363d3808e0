"""The paper's greedy width/depth search, done as its text says (Sec. III-B-1), for :class:`ccle.methods.paper_model.PaperModel`.

Rule (``score(widths)`` = validation MSE, lower is better):

1. start with one hidden layer of ``start`` (10) nodes;
2. widen the *current* (last) layer by ``step`` (10) nodes while the validation MSE strictly improves, up to
   ``max_width`` (200) nodes; the layer keeps its best width;
3. then add one hidden layer of ``start`` nodes and grow it by rule 2 to its best width **before** judging it;
4. keep the new layer when the network with it (at its best width) strictly beats the network without it,
   and go on with 3; otherwise drop it and stop. At most ``max_layers`` hidden layers (the paper's 12 dense
   layers).

Unlike a search that judges a new layer at 10 nodes (which stops at 1-2 layers), a layer is judged at its best width. Candidates are scored by :func:`paper_network_scorer`, which
trains every candidate with the very settings of the final network (same split, seed, optimizer, epochs,
batch size, patience, penalties), so the best candidate *is* the final network and can be kept as it is.

The number of ``score`` calls is at most ``max_layers * ((max_width - start) / step + 1)`` (every layer grown
to ``max_width``), e.g. 12 * 20 = 240 for the paper's settings.
"""
import time
from dataclasses import dataclass, field

import numpy as np

from nnlite.networks import paper_network
from nnlite.optim import Adam

# Training settings shared by the search's candidates and PaperModel's final network. The paper gives none of
# them: Adam's own default learning rate (Kingma & Ba), PM+'s batch size, and the longest epochs/patience that
# keep the default benchmark near its 10-minute budget on 2 cores. Measured on the default data (24 x 5 tasks,
# ~350 training rows, 1000 RFE genes, one thread): about 1.1 s per (drug, split), search and compression
# included (60, 8 cost ~0.7 s). Chosen on timing alone, never on test rows.
SEARCH_DEFAULTS = {"lr": 1e-3, "epochs": 200, "batch_size": 64, "patience": 20}


@dataclass
class SearchResult:
    """Outcome of :func:`paper_greedy_search`: the chosen hidden ``widths``, its validation ``mse``, the
    ``history`` of every call (dict(widths, mse, kept)), ``n_calls`` and wall ``seconds``."""

    widths: tuple
    mse: float
    history: list = field(default_factory=list)
    n_calls: int = 0
    seconds: float = 0.0

    def to_dict(self):
        return {"widths": [int(w) for w in self.widths], "mse": float(self.mse), "history": self.history,
                "n_calls": int(self.n_calls), "seconds": float(self.seconds)}


def paper_greedy_search(score, *, start=10, step=10, max_width=200, max_layers=12):
    """Run the paper's greedy search (module docstring) with ``score(widths: tuple) -> float``.

    Returns a :class:`SearchResult`. Ties never count as improvements (strictly lower MSE only), so the
    smaller network wins a tie.
    """
    if start < 1 or step < 1 or max_width < start or max_layers < 1:
        raise ValueError("paper_greedy_search needs start >= 1, step >= 1, max_width >= start, max_layers >= 1")
    t0 = time.perf_counter()
    history = []

    def run(widths):
        mse = float(score(tuple(int(w) for w in widths)))
        history.append({"widths": [int(w) for w in widths], "mse": mse})
        return mse

    def grow(base, base_mse):
        """Widen the last layer of ``base`` while the MSE strictly improves -> (widths, mse)."""
        best, best_mse = list(base), base_mse
        while best[-1] + step <= max_width:
            cand = best[:-1] + [best[-1] + step]
            mse = run(cand)
            if not mse < best_mse:
                break
            best, best_mse = cand, mse
        return best, best_mse

    best, best_mse = grow([start], run([start]))
    while len(best) < max_layers:
        cand, cand_mse = grow(best + [start], run(best + [start]))
        if not cand_mse < best_mse:
            break
        best, best_mse = cand, cand_mse
    return SearchResult(widths=tuple(best), mse=best_mse, history=history, n_calls=len(history),
                        seconds=time.perf_counter() - t0)


def train_paper_network(Z, ys, tr, va, widths, *, dropout=0.4, n_dropout=3, l1=1e-5, l2=1e-4, lr=1e-3,
                        epochs=60, batch_size=64, patience=8, seed=0):
    """One paper network (``nnlite.networks.paper_network``: ReLU/Tanh alternating from ReLU, dropout on the
    first ``n_dropout`` hidden layers, L1 + L2 on every Dense layer) trained with Adam on ``Z[tr], ys[tr]``
    (``Z`` (n, p) float32, ``ys`` (n,) standardized), early-stopped on ``Z[va], ys[va]`` (best weights kept).
    Returns ``(network, validation MSE)``."""
    net = paper_network(Z.shape[1], list(widths), dropout=dropout, n_dropout=n_dropout, l1=l1, l2=l2, seed=seed)
    net.fit(Z[tr], ys[tr], epochs=epochs, batch_size=batch_size, optimizer=Adam(lr=lr),
            validation=(Z[va], ys[va]), patience=patience)
    pred = np.asarray(net.predict(Z[va]), dtype=np.float64).ravel()
    return net, float(np.mean((pred - np.asarray(ys[va], dtype=np.float64)) ** 2))


class paper_network_scorer:
    """``score(widths) -> validation MSE`` for :func:`paper_greedy_search`: trains
    :func:`train_paper_network` on the inner split ``(tr, va)`` of ``(Z, ys)`` with ``train_kw`` (the final
    network's settings). It remembers the network of the lowest MSE seen (``best_network``, ``best_widths``,
    ``best_mse``) so that the caller need not train the winner a second time, and counts its calls."""

    def __init__(self, Z, ys, tr, va, **train_kw):
        self.Z = np.asarray(Z, dtype=np.float32)
        self.ys = np.asarray(ys, dtype=np.float32).ravel()
        self.tr, self.va = np.asarray(tr), np.asarray(va)
        self.train_kw = train_kw
        self.n_calls = 0
        self.best_network, self.best_widths, self.best_mse = None, None, np.inf

    def __call__(self, widths):
        self.n_calls += 1
        net, mse = train_paper_network(self.Z, self.ys, self.tr, self.va, widths, **self.train_kw)
        if mse < self.best_mse:
            self.best_network, self.best_widths, self.best_mse = net, tuple(widths), mse
        return mse
