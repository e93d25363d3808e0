"""The per-drug model ("PM") of the paper and its baselines, as estimators on one drug's raw expression X.

PM (paper, Sec. III): min-max scaling -> SVR-RFE (epsilon 0.1) to 1000 genes (all genes when fewer) -> dense
network (ReLU/Tanh alternating, dropout 0.4 on the first 3 hidden layers, L1 + L2, Adam, early stopping on an
inner validation split of the training rows, y standardized inside) -> Deep Compression (prune, quantize,
Huffman) -> prediction -> IQR classes with the thresholds of the observed training responses.

Baselines on the same rows: elastic net (alpha and l1_ratio by CV inside the training rows), random forest,
linear epsilon-SVR on the RFE genes, the "simple ANN" (Identity activations, the same number of dense layers,
randomly chosen genes, as many as RFE keeps) and the per-drug mean.

Every estimator takes the raw X (n, genes) of one drug and fits its scaling (and RFE) on the rows it is given,
unless a pre-fitted :class:`GeneSelector` is passed as ``selector`` -- which is how the paper protocol (scaling
and RFE fitted on all rows of the drug before the splits) and the per-split cache are plugged in.
:func:`preprocessing_rows` is the one protocol switch.
"""
import time

import numpy as np

from ccle.errors import CCLEError

PROTOCOLS = ("strict", "paper")
METHODS = ("PM", "EN", "RF", "SVR", "ANN", "mean")
METHODS_USING_RFE = ("PM", "SVR")

# The fixed architecture used without --search (see README / DESIGN notes in ccle.search.DEFAULT_WIDTHS).
from ccle.search import DEFAULT_WIDTHS  # noqa: E402


def preprocessing_rows(protocol, n_rows, train_idx):
    """Row indices on which scaling and RFE are fitted: the one place that implements the protocol switch.

    ``"strict"``: the training rows of the split only. ``"paper"``: all ``n_rows`` rows of the drug, before the
    splits (the paper's text allows it; test rows then leak into the feature selection).
    """
    if protocol == "strict":
        return np.asarray(train_idx)
    if protocol == "paper":
        return np.arange(int(n_rows))
    raise ValueError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")


def _check_xy(X, y=None):
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X must be a non-empty 2-D array (cells x genes), got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or inf")
    if y is None:
        return X
    y = np.asarray(y, dtype=np.float64).ravel()
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]} values")
    if not np.all(np.isfinite(y)):
        raise ValueError("y contains NaN or inf")
    return X, y


class GeneSelector:
    """Min-max scaling then SVR-RFE: ``transform(X) = minmax(X)[:, support_]``.

    ``fit(X, y)`` fits :class:`ccle.preprocess.MinMaxScaler` on the rows given, then, when the drug has more
    than ``n_features`` genes, recursive feature elimination with a linear epsilon-SVR (``epsilon`` = 0.1 as in
    the paper) down to ``n_features`` genes, dropping ``step`` (fraction) of the remaining genes per round.
    Attributes: ``scaler_``, ``support_`` (bool, genes), ``n_features_`` (kept), ``fit_seconds_``.
    """

    def __init__(self, n_features=1000, epsilon=0.1, C=1.0, step=0.1, seed=0):
        self.n_features = n_features
        self.epsilon = epsilon
        self.C = C
        self.step = step
        self.seed = seed

    def fit(self, X, y):
        from ccle.preprocess import MinMaxScaler

        X, y = _check_xy(X, y)
        if int(self.n_features) < 1:
            raise ValueError(f"n_features must be >= 1, got {self.n_features}")
        t0 = time.perf_counter()
        self.scaler_ = MinMaxScaler().fit(X)
        n_genes = X.shape[1]
        if n_genes <= int(self.n_features):
            self.support_ = np.ones(n_genes, dtype=bool)
        else:
            from nnlite.linear.svr import LinearSVR
            from nnlite.selection import RFE

            Xs = np.asarray(self.scaler_.transform(X), dtype=np.float64)
            svr = LinearSVR(epsilon=self.epsilon, C=self.C, seed=self.seed)
            rfe = RFE(svr, n_features_to_select=int(self.n_features), step=self.step).fit(Xs, y)
            self.support_ = np.asarray(rfe.support_, dtype=bool)
        self.n_features_ = int(self.support_.sum())
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    def scale(self, X):
        """All genes, min-max scaled with the training minima/ranges (clipped to [0, 1]) -> (n, genes)."""
        return np.asarray(self.scaler_.transform(_check_xy(X)), dtype=np.float32)

    def transform(self, X):
        """Scaled RFE genes -> (n, n_features_)."""
        return self.scale(X)[:, self.support_]

    def to_dict(self):
        return {"scaler": self.scaler_.to_dict(), "support": np.flatnonzero(self.support_).tolist(),
                "n_genes": int(self.support_.size), "fit_seconds": float(self.fit_seconds_),
                "params": {"n_features": int(self.n_features), "epsilon": self.epsilon, "C": self.C,
                           "step": self.step, "seed": self.seed}}

    @classmethod
    def from_dict(cls, d):
        from ccle.preprocess import MinMaxScaler

        self = cls(**d["params"])
        self.scaler_ = MinMaxScaler.from_dict(d["scaler"])
        support = np.zeros(int(d["n_genes"]), dtype=bool)
        support[np.asarray(d["support"], dtype=np.int64)] = True
        self.support_ = support
        self.n_features_ = int(support.sum())
        self.fit_seconds_ = float(d.get("fit_seconds", 0.0))
        return self


class _ScaledScaler:
    """Scale-only stand-in for a GeneSelector (methods that use all genes need no RFE)."""

    def __init__(self, scaler):
        self.scaler_ = scaler
        self.fit_seconds_ = 0.0

    def scale(self, X):
        return np.asarray(self.scaler_.transform(_check_xy(X)), dtype=np.float32)


def _scaler_only(X):
    from ccle.preprocess import MinMaxScaler

    return _ScaledScaler(MinMaxScaler().fit(X))


def inner_split(n_rows, fraction, seed):
    """Inner (train, validation) row indices of the training rows: a seeded random ``fraction`` held out."""
    n_val = max(2, int(round(fraction * n_rows)))
    if n_rows - n_val < 2:
        raise ValueError(f"{n_rows} training rows are too few for an inner validation split")
    perm = np.random.default_rng(seed).permutation(n_rows)
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


class _Estimator:
    """Shared bits: IQR thresholds of the observed training responses, classify(), fit timing."""

    def _fit_thresholds(self, y):
        from ccle.discretize import IQRThresholds

        self.thresholds_ = IQRThresholds().fit(y)

    def classify(self, X):
        """Predicted classes ("sensitive" / "moderate" / "resistant") with the training IQR thresholds."""
        return self.thresholds_.classify(self.predict(X))


class PerDrugModel(_Estimator):
    """The paper's per-drug model (PM); see the module docstring.

    Network: :func:`nnlite.networks.paper_network` with hidden ``widths`` (ReLU, Tanh, ReLU, ...), dropout
    ``dropout`` after the first ``n_dropout`` hidden layers, L1 ``l1`` and L2 penalties on every Dense layer,
    Adam with learning rate ``lr``, mini-batches of ``batch_size``, early stopping with ``patience`` epochs
    (best weights kept). The target is standardized (``(y - mean) / std`` of the training rows) for the network
    and mapped back in ``predict``.

    Inner validation, on the training rows only: the rows are cut into ``cv`` seeded folds; for every L2
    strength in ``l2`` (one value or a tuple of candidates) one network per fold is trained on the other folds
    and early-stopped on its own fold. The candidate with the lowest out-of-fold MSE is kept (``l2_``), and its
    ``cv`` fold networks -- each of which saw ``(cv-1)/cv`` of the rows -- predict together as a committee (the
    mean of their outputs); no network ever sees a test row. With ``compress=True`` each committee network goes
    through :func:`nnlite.compress.pipeline.compress_model` (pruning ``prune_percent``, ``bits``-bit weight
    sharing, Huffman coding; retraining and fine-tuning on its training folds, checked on its own fold) and the
    compressed networks predict.

    Attributes: ``selector_``, ``networks_`` (the committee, list of Sequential), ``l2_``, ``cv_mse_`` (dict
    L2 -> out-of-fold MSE in standardized units), ``y_mean_``, ``y_scale_``, ``thresholds_``, ``compression_``
    (per network: dense/Huffman/file bytes, ratio, validation MSE per stage, or None), ``n_epochs_`` (epochs
    run per committee network before compression).
    """

    def __init__(self, widths=DEFAULT_WIDTHS, n_features=1000, dropout=0.4, n_dropout=3, l1=1e-5,
                 l2=(3e-3, 3e-2), lr=3e-4, epochs=400, batch_size=64, patience=50, cv=4, compress=True,
                 prune_percent=50.0, bits=5, retrain_epochs=5, seed=0, selector=None):
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
        self.cv = cv
        self.compress = compress
        self.prune_percent = prune_percent
        self.bits = bits
        self.retrain_epochs = retrain_epochs
        self.seed = seed
        self.selector = selector

    def _train(self, Z, ys, tr, va, l2, seed):
        from nnlite.networks import paper_network
        from nnlite.optim import Adam

        net = paper_network(Z.shape[1], list(self.widths), dropout=self.dropout, n_dropout=self.n_dropout,
                            l1=self.l1, l2=l2, seed=seed)
        net.fit(Z[tr], ys[tr], epochs=self.epochs, batch_size=self.batch_size, optimizer=Adam(lr=self.lr),
                validation=(Z[va], ys[va]), patience=self.patience)
        return net

    def _compress(self, net, Z, ys, tr, va, seed):
        from nnlite.compress.pipeline import compress_model

        net, rep = compress_model(net, Z[tr], ys[tr], Z[va], ys[va], prune_percent=self.prune_percent,
                                  bits=self.bits, retrain_epochs=self.retrain_epochs,
                                  finetune_epochs=self.retrain_epochs, seed=seed)
        d = rep.to_dict()
        return net, {"dense_bytes": int(d["totals"]["dense"]), "huffman_bytes": int(d["totals"]["huffman"]),
                     "file_bytes": d.get("file_bytes"), "ratio": float(d["ratio"]),
                     "val_mse": d.get("val_mse", {})}

    def fit(self, X, y):
        X, y = _check_xy(X, y)
        k = int(self.cv)
        if k < 2 or X.shape[0] < 2 * k:
            raise ValueError(f"PerDrugModel needs cv >= 2 and at least 2*cv rows, got cv={self.cv} and "
                             f"{X.shape[0]} rows")
        self.selector_ = self.selector if self.selector is not None else GeneSelector(
            n_features=self.n_features, seed=self.seed).fit(X, y)
        Z = self.selector_.transform(X)
        self.y_mean_ = float(y.mean())
        self.y_scale_ = float(y.std()) or 1.0
        ys = ((y - self.y_mean_) / self.y_scale_).astype(np.float32)
        folds = np.random.default_rng(self.seed).permutation(X.shape[0]) % k
        splits = [(np.flatnonzero(folds != f), np.flatnonzero(folds == f)) for f in range(k)]
        candidates = [float(v) for v in np.atleast_1d(self.l2)]
        self.cv_mse_, committees = {}, {}
        for l2 in candidates:
            nets, sq = [], 0.0
            for f, (tr, va) in enumerate(splits):
                net = self._train(Z, ys, tr, va, l2, seed=int(self.seed) * 100 + f)
                pred = np.asarray(net.predict(Z[va]), dtype=np.float64).ravel()
                sq += float(np.sum((pred - ys[va]) ** 2))
                nets.append(net)
            self.cv_mse_[l2] = sq / X.shape[0]
            committees[l2] = nets
        self.l2_ = min(candidates, key=lambda v: (self.cv_mse_[v], candidates.index(v)))
        self.networks_ = committees[self.l2_]
        self.n_epochs_ = [int(getattr(n, "epochs_run", 0)) for n in self.networks_]
        self.compression_ = [None] * k
        if self.compress:
            for f, (tr, va) in enumerate(splits):
                self.networks_[f], self.compression_[f] = self._compress(self.networks_[f], Z, ys, tr, va,
                                                                         seed=int(self.seed) * 100 + f)
        self._fit_thresholds(y)
        return self

    def predict(self, X):
        """Mean of the committee's predictions, mapped back to the response scale -> (n,)."""
        Z = self.selector_.transform(X)
        out = np.mean([np.asarray(net.predict(Z), dtype=np.float64).ravel() for net in self.networks_], axis=0)
        return out * self.y_scale_ + self.y_mean_


class ElasticNetModel(_Estimator):
    """Elastic net on all scaled genes; ``alpha`` and ``l1_ratio`` chosen by ``cv``-fold CV on the training rows."""

    def __init__(self, l1_ratio=(0.1, 0.5, 0.9, 1.0), n_alphas=50, cv=5, seed=0, selector=None):
        self.l1_ratio = l1_ratio
        self.n_alphas = n_alphas
        self.cv = cv
        self.seed = seed
        self.selector = selector

    def fit(self, X, y):
        from nnlite.linear.enet import ElasticNetCV

        X, y = _check_xy(X, y)
        self.selector_ = self.selector if self.selector is not None else _scaler_only(X)
        self.model_ = ElasticNetCV(l1_ratio=list(self.l1_ratio), n_alphas=self.n_alphas, cv=self.cv,
                                   seed=self.seed).fit(self.selector_.scale(X).astype(np.float64), y)
        self._fit_thresholds(y)
        return self

    def predict(self, X):
        return np.asarray(self.model_.predict(self.selector_.scale(X).astype(np.float64)), dtype=np.float64)


class RandomForestModel(_Estimator):
    """Random forest regression (``n_estimators`` trees, ``max_features`` of the genes per split) on all genes."""

    def __init__(self, n_estimators=100, max_features=1 / 3, min_samples_leaf=5, seed=0, selector=None):
        self.n_estimators = n_estimators
        self.max_features = max_features
        self.min_samples_leaf = min_samples_leaf
        self.seed = seed
        self.selector = selector

    def fit(self, X, y):
        from nnlite.forest import RandomForestRegressor

        X, y = _check_xy(X, y)
        self.selector_ = self.selector if self.selector is not None else _scaler_only(X)
        self.model_ = RandomForestRegressor(n_estimators=self.n_estimators, max_features=self.max_features,
                                            min_samples_leaf=self.min_samples_leaf, seed=self.seed,
                                            n_jobs=1).fit(self.selector_.scale(X), y)
        self._fit_thresholds(y)
        return self

    def predict(self, X):
        return np.asarray(self.model_.predict(self.selector_.scale(X)), dtype=np.float64)


class SVRModel(_Estimator):
    """Linear epsilon-SVR (``epsilon``) on the scaled RFE genes (the same genes PM gets); ``C`` is one value or
    a tuple of candidates chosen by ``cv``-fold CV (MSE) inside the training rows, then refitted on all of them.
    Attributes: ``selector_``, ``model_``, ``C_``, ``cv_mse_`` (dict C -> CV MSE; empty for one C)."""

    def __init__(self, n_features=1000, epsilon=0.1, C=(0.001, 0.01, 0.1, 1.0), cv=3, seed=0, selector=None):
        self.n_features = n_features
        self.epsilon = epsilon
        self.C = C
        self.cv = cv
        self.seed = seed
        self.selector = selector

    def _svr(self, C):
        from nnlite.linear.svr import LinearSVR

        return LinearSVR(epsilon=self.epsilon, C=C, seed=self.seed, max_iter=5000)

    def fit(self, X, y):
        X, y = _check_xy(X, y)
        self.selector_ = self.selector if self.selector is not None else GeneSelector(
            n_features=self.n_features, seed=self.seed).fit(X, y)
        Z = self.selector_.transform(X).astype(np.float64)
        candidates = [float(c) for c in np.atleast_1d(self.C)]
        self.cv_mse_ = {}
        if len(candidates) > 1:
            folds = np.random.default_rng(self.seed).permutation(X.shape[0]) % int(self.cv)
            for C in candidates:
                sq = 0.0
                for f in range(int(self.cv)):
                    tr, va = folds != f, folds == f
                    sq += float(np.sum((self._svr(C).fit(Z[tr], y[tr]).predict(Z[va]) - y[va]) ** 2))
                self.cv_mse_[C] = sq / X.shape[0]
        self.C_ = min(candidates, key=lambda c: (self.cv_mse_.get(c, 0.0), candidates.index(c)))
        self.model_ = self._svr(self.C_).fit(Z, y)
        self._fit_thresholds(y)
        return self

    def predict(self, X):
        return np.asarray(self.model_.predict(self.selector_.transform(X).astype(np.float64)), dtype=np.float64)


class SimpleANNModel(_Estimator):
    """The paper's "simple ANN": Identity activations, the same dense layers (``widths``) as PM, no dropout,
    on ``n_features`` randomly chosen scaled genes (as many as RFE keeps; seeded by ``seed``). Trained like PM's
    networks (Adam, the same learning rate, batch size and early-stopping patience, y standardized)."""

    def __init__(self, widths=DEFAULT_WIDTHS, n_features=1000, l1=1e-5, l2=3e-3, lr=3e-4, epochs=400,
                 batch_size=64, patience=50, validation_fraction=0.2, seed=0, selector=None):
        self.widths = widths
        self.n_features = n_features
        self.l1 = l1
        self.l2 = l2
        self.lr = lr
        self.epochs = epochs
        self.batch_size = batch_size
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.seed = seed
        self.selector = selector

    def fit(self, X, y):
        from nnlite.ann import SimpleANNRegressor

        X, y = _check_xy(X, y)
        self.selector_ = self.selector if self.selector is not None else _scaler_only(X)
        n_genes = X.shape[1]
        k = min(int(self.n_features), n_genes)
        self.genes_ = np.sort(np.random.default_rng(self.seed).choice(n_genes, size=k, replace=False))
        self.model_ = SimpleANNRegressor(widths=tuple(self.widths), l1=self.l1, l2=self.l2, lr=self.lr,
                                         epochs=self.epochs, batch_size=self.batch_size, patience=self.patience,
                                         validation_fraction=self.validation_fraction, seed=self.seed)
        self.model_.fit(self.selector_.scale(X)[:, self.genes_], y)
        self._fit_thresholds(y)
        return self

    def predict(self, X):
        return np.asarray(self.model_.predict(self.selector_.scale(X)[:, self.genes_]), dtype=np.float64)


class MeanModel(_Estimator):
    """The per-drug mean predictor: predicts the mean training response for every cell line."""

    def __init__(self, seed=0, selector=None):
        self.seed = seed
        self.selector = selector

    def fit(self, X, y):
        X, y = _check_xy(X, y)
        self.mean_ = float(y.mean())
        self._fit_thresholds(y)
        return self

    def predict(self, X):
        X = _check_xy(X)
        return np.full(X.shape[0], self.mean_, dtype=np.float64)


def make_method(name, *, widths=DEFAULT_WIDTHS, n_features=1000, seed=0, selector=None, options=None):
    """A fresh, unfitted estimator for method ``name`` (one of :data:`METHODS`).

    ``options`` maps a method name to extra keyword arguments for its constructor (e.g. fewer epochs in
    ``--quick``).
    """
    kw = dict((options or {}).get(name, {}))
    if name == "PM":
        return PerDrugModel(widths=tuple(widths), n_features=n_features, seed=seed, selector=selector, **kw)
    if name == "EN":
        return ElasticNetModel(seed=seed, selector=selector, **kw)
    if name == "RF":
        return RandomForestModel(seed=seed, selector=selector, **kw)
    if name == "SVR":
        return SVRModel(n_features=n_features, seed=seed, selector=selector, **kw)
    if name == "ANN":
        return SimpleANNModel(widths=tuple(widths), n_features=n_features, seed=seed, selector=selector, **kw)
    if name == "mean":
        return MeanModel(seed=seed, selector=selector)
    raise CCLEError(f"unknown method {name!r}; choose from {', '.join(METHODS)}")


def parse_methods(text):
    """``"PM,EN"`` -> ``["PM", "EN"]`` (case-insensitive names, canonical order kept as given, no repeats)."""
    canon = {m.lower(): m for m in METHODS}
    out = []
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        if part.lower() not in canon:
            raise CCLEError(f"unknown method {part!r} in --methods; choose from {', '.join(METHODS)}")
        if canon[part.lower()] not in out:
            out.append(canon[part.lower()])
    if not out:
        raise CCLEError("--methods lists no method")
    return out
