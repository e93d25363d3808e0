"""``PaperModel`` ("PM"): the paper's per-drug model as its text describes it (Sec. III-B), one network.

Pipeline on one drug's raw expression ``X`` (n, genes):

1. min-max scaling + SVR-RFE to ``n_features`` genes (:class:`ccle.methods.estimators.GeneSelector`, fitted on the rows
   given to ``fit`` unless a pre-fitted ``selector`` is passed -- that is how the paper protocol plugs in);
2. the response is standardized with the training rows' mean and standard deviation;
3. a seeded 70/30 inner split of the training rows (``validation_fraction``): the paper's greedy width/depth
   search (:func:`ccle.methods.paper_search.paper_greedy_search`: 10 ReLU nodes, +10 while the validation MSE
   improves up to 200, new layers grown to their best width before they are judged, at most 12) runs on it,
   unless ``widths`` is given;
4. the final network is the search's best candidate itself: every candidate was trained with the final
   network's settings (ReLU/Tanh alternating, dropout 0.4 on the first 3 hidden layers, L1 + L2, Adam,
   early stopping on the inner validation rows), so it is not trained a second time;
5. Deep Compression (Han, Mao & Dally 2016): magnitude pruning + retraining, trained quantization (k-means
   weight sharing, centroid fine-tuning), Huffman coding; the network decoded from the Huffman-coded bytes
   predicts. Every stage is kept so that :meth:`PaperModel.stage_predictions` can report the test MSE after
   each one;
6. IQR thresholds of the observed training responses (paper Sec. III-C) for :meth:`classify`.

The search's seconds are part of ``fit`` (and of ``fit_seconds_``).
"""
import copy
import time

import numpy as np

from ccle.evaluation.thresholds import IQRThresholds
from ccle.evaluation.splits import inner_split
from ccle.methods.gene_selection import GeneSelector
from ccle.methods.paper_search import SEARCH_DEFAULTS, paper_greedy_search, paper_network_scorer, train_paper_network
from nnlite.compress.fileformat import dumps_compressed, loads_compressed
from nnlite.compress.pipeline import auto_prune_percent
from nnlite.compress.prune import iterative_prune, sparsity
from nnlite.compress.quantize import finetune_centroids, quantize_model
from nnlite.optim import Adam

STAGES = ("dense", "pruned", "quantized", "huffman")


def _check_xy(X, y):
    X = np.asarray(X)
    y = np.asarray(y, dtype=np.float64).ravel()
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X must be a non-empty 2-D array (cells x genes), got shape {X.shape}")
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]} values")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise ValueError("X or y contains NaN or inf")
    return X, y


def _dense_bytes(net):
    return int(sum(layer.W.size + layer.b.size for layer in net.dense_layers()) * 4)


class PaperModel:
    """The paper's model (see the module docstring). Hyper-parameters:

    ``widths``: hidden widths, or None to search them; ``n_features``: RFE target; ``dropout``, ``n_dropout``,
    ``l1``, ``l2``: the network's regularization; ``lr``, ``epochs``, ``batch_size``, ``patience``: Adam and
    early stopping (the same for the search's candidates and the final network); ``validation_fraction``: the
    inner split; ``start``, ``step``, ``max_width``, ``max_layers``: the search; ``compress``,
    ``prune_percent`` (number, one per Dense layer, or "auto" = keep 20 sqrt(N) of N weights), ``bits``,
    ``retrain_epochs``, ``finetune_epochs``, ``finetune_lr``: Deep Compression; ``seed``; ``selector``: a
    fitted GeneSelector to use instead of fitting one.

    Attributes after ``fit``: ``selector_``, ``widths_`` (tuple), ``search_history_`` (list of
    dict(widths, mse); empty when ``widths`` was given), ``search_seconds_``, ``search_calls_``,
    ``val_mse_`` (inner validation MSE of the dense network, standardized units), ``n_epochs_``,
    ``stage_networks_`` (dict stage -> Sequential, :data:`STAGES`), ``network_`` (the one that predicts: the
    Huffman-decoded network, or the dense one with ``compress=False``), ``compression_`` (dict: dense_bytes,
    file_bytes, ratio, sparsity per Dense layer, val_mse per stage; None without compression), ``y_mean_``, ``y_scale_``,
    ``thresholds_``, ``fit_seconds_`` (search included), ``oof_predictions_`` (n_train,): the deployed
    network's predictions of the inner validation rows (never fitted; the search and early stopping chose on
    them, a mild optimism that costs no extra fit), NaN on the rows it was trained on.
    """

    def __init__(self, widths=None, n_features=1000, dropout=0.4, n_dropout=3, l1=1e-5, l2=1e-4,
                 lr=SEARCH_DEFAULTS["lr"], epochs=SEARCH_DEFAULTS["epochs"],
                 batch_size=SEARCH_DEFAULTS["batch_size"], patience=SEARCH_DEFAULTS["patience"],
                 validation_fraction=0.3, start=10, step=10, max_width=200, max_layers=12, compress=True,
                 prune_percent="auto", bits=5, retrain_epochs=10, finetune_epochs=10, finetune_lr=1e-4, seed=0,
                 selector=None):
        self.widths = widths
        self.n_features = n_features
        self.dropout = dropout
        self.n_dropout = n_dropout
        self.l1 = l1
        self.l2 = l2
        self.lr = lr
        self.epochs = epochs
        self.batch_size = batch_size
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.start = start
        self.step = step
        self.max_width = max_width
        self.max_layers = max_layers
        self.compress = compress
        self.prune_percent = prune_percent
        self.bits = bits
        self.retrain_epochs = retrain_epochs
        self.finetune_epochs = finetune_epochs
        self.finetune_lr = finetune_lr
        self.seed = seed
        self.selector = selector

    # ------------------------------------------------------------------ pieces shared by fit() and search()
    def _train_kw(self):
        return {"dropout": self.dropout, "n_dropout": self.n_dropout, "l1": self.l1, "l2": self.l2,
                "lr": self.lr, "epochs": self.epochs, "batch_size": self.batch_size, "patience": self.patience,
                "seed": int(self.seed)}

    def _prepare(self, X, y):
        """Selector (fitted here unless given), scaled RFE genes Z (n, k), standardized y, inner split."""
        X, y = _check_xy(X, y)
        selector = self.selector if self.selector is not None else GeneSelector(
            n_features=self.n_features, seed=self.seed).fit(X, y)
        Z = np.asarray(selector.transform(X), dtype=np.float32)
        y_mean, y_scale = float(y.mean()), float(y.std()) or 1.0
        ys = ((y - y_mean) / y_scale).astype(np.float32)
        tr, va = inner_split(X.shape[0], self.validation_fraction, int(self.seed))
        return selector, Z, ys, tr, va, y_mean, y_scale

    def _search(self, Z, ys, tr, va):
        scorer = paper_network_scorer(Z, ys, tr, va, **self._train_kw())
        result = paper_greedy_search(scorer, start=self.start, step=self.step, max_width=self.max_width,
                                     max_layers=self.max_layers)
        return result, scorer

    def search(self, X, y):
        """Only the width/depth search on ``(X, y)`` -> :class:`ccle.methods.paper_search.SearchResult`.

        For the paper protocol, where the search sees all rows of the drug: run it once on all rows, then
        ``PaperModel(widths=result.widths, selector=...)`` on each split's training rows.
        """
        _, Z, ys, tr, va, _, _ = self._prepare(X, y)
        return self._search(Z, ys, tr, va)[0]

    # ------------------------------------------------------------------ estimator API
    def fit(self, X, y):
        t_fit = time.perf_counter()
        self.selector_, Z, ys, tr, va, self.y_mean_, self.y_scale_ = self._prepare(X, y)
        if self.widths is None:
            result, scorer = self._search(Z, ys, tr, va)
            self.widths_ = tuple(int(w) for w in result.widths)
            self.search_history_ = result.history
            self.search_seconds_ = result.seconds
            self.search_calls_ = result.n_calls
            net, self.val_mse_ = scorer.best_network, scorer.best_mse
            if scorer.best_widths != self.widths_:  # only on exact ties; keep the search's answer
                net, self.val_mse_ = train_paper_network(Z, ys, tr, va, self.widths_, **self._train_kw())
        else:
            self.widths_ = tuple(int(w) for w in self.widths)
            self.search_history_, self.search_seconds_, self.search_calls_ = [], 0.0, 0
            net, self.val_mse_ = train_paper_network(Z, ys, tr, va, self.widths_, **self._train_kw())
        self.n_epochs_ = int(getattr(net, "epochs_run", 0))
        self.stage_networks_ = {"dense": net}
        self.compression_ = None
        if self.compress:
            self._deep_compress(net, Z, ys, tr, va)
        self.network_ = self.stage_networks_["huffman" if self.compress else "dense"]
        self.oof_predictions_ = np.full(Z.shape[0], np.nan)
        self.oof_predictions_[va] = np.asarray(self.network_.predict(Z[va]), dtype=np.float64).ravel() \
            * self.y_scale_ + self.y_mean_
        self.thresholds_ = IQRThresholds().fit(y)
        self.fit_seconds_ = time.perf_counter() - t_fit
        return self

    def _deep_compress(self, net, Z, ys, tr, va):
        """Han et al.'s three stages on a copy of ``net``, each stage kept (the same primitives as
        ``nnlite.compress.pipeline.compress_model``, which returns only the last stage)."""
        validation = (Z[va], ys[va])
        m = copy.deepcopy(net)
        if isinstance(self.prune_percent, str):
            percents = list(auto_prune_percent([layer.W.size for layer in m.dense_layers()]))
        else:
            percents = self.prune_percent
        iterative_prune(m, Z[tr], ys[tr], [percents], epochs=self.retrain_epochs, batch_size=self.batch_size,
                        lr=self.lr, validation=validation, patience=self.patience, adjust_dropout=True)
        self.stage_networks_["pruned"] = copy.deepcopy(m)
        books = quantize_model(m, bits=self.bits, seed=int(self.seed))
        if self.finetune_epochs:
            finetune_centroids(m, books, Z[tr], ys[tr], epochs=self.finetune_epochs, batch_size=self.batch_size,
                               optimizer=Adam(lr=self.finetune_lr), validation=validation, seed=int(self.seed))
        self.stage_networks_["quantized"] = m
        data = dumps_compressed(m)
        self.stage_networks_["huffman"] = loads_compressed(data)
        val = {}
        for stage, model in self.stage_networks_.items():
            pred = np.asarray(model.predict(Z[va]), dtype=np.float64).ravel()
            val[stage] = float(np.mean((pred - ys[va]) ** 2))
        dense = _dense_bytes(net)
        self.compression_ = {"dense_bytes": dense, "file_bytes": len(data), "ratio": dense / max(len(data), 1),
                             "sparsity": [float(s) for s in sparsity(m)], "val_mse": val}

    def _predict_with(self, model, X):
        Z = np.asarray(self.selector_.transform(X), dtype=np.float32)
        return np.asarray(model.predict(Z), dtype=np.float64).ravel() * self.y_scale_ + self.y_mean_

    def predict(self, X):
        """Predicted response (n,) of the deployed network (Huffman-decoded when compressed)."""
        return self._predict_with(self.network_, X)

    def stage_predictions(self, X):
        """dict stage -> predictions (n,) for "dense", "pruned", "quantized", "huffman" (the stages that exist:
        only "dense" with ``compress=False``). The runner records ``test_mse_stages`` from these."""
        return {stage: self._predict_with(model, X) for stage, model in self.stage_networks_.items()}

    def test_mse_stages(self, X, y):
        """dict stage -> MSE of :meth:`stage_predictions` against ``y`` (the record field ``test_mse_stages``)."""
        y = np.asarray(y, dtype=np.float64).ravel()
        return {stage: float(np.mean((pred - y) ** 2)) for stage, pred in self.stage_predictions(X).items()}

    def record_fields(self):
        """The fitted model's fields of a result record: widths, n_epochs, search_seconds,
        search_calls, and with compression compressed_bytes, dense_bytes, compression_ratio,
        compression_val_mse."""
        out = {"widths": [int(w) for w in self.widths_], "n_epochs": [int(self.n_epochs_)],
               "search_seconds": float(self.search_seconds_), "search_calls": int(self.search_calls_),
               "n_features": int(self.selector_.n_features_)}
        if self.compression_ is not None:
            c = self.compression_
            out.update({"compressed_bytes": float(c["file_bytes"]), "dense_bytes": float(c["dense_bytes"]),
                        "compression_ratio": float(c["ratio"]), "compression_val_mse": dict(c["val_mse"])})
        return out

    def classify(self, X):
        """Predicted classes ("sensitive" / "moderate" / "resistant") with the training IQR thresholds."""
        return self.thresholds_.classify(self.predict(X))
