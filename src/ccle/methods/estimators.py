"""The per-drug estimators of the paper's baselines and of PM+, on one drug's raw expression X.
One module for the per-drug estimators so that they are read together; each class is short. Which method name
builds which estimator is the registry's (:mod:`ccle.methods.builtin`).

Method names: "PM" is the paper's model as its text describes it
(:class:`ccle.methods.paper_model.PaperModel`: one network whose widths the paper's greedy search chooses);
"PM+" is the regularized committee below (:class:`PerDrugModel`), this project's improvement of it.

PM+ (paper, Sec. III, with a fixed architecture, an inner-CV L2 and a committee): min-max scaling -> SVR-RFE (epsilon 0.1) to 1000 genes (all genes when fewer) -> dense
network (ReLU/Tanh alternating, dropout 0.4 on the first 3 hidden layers, L1 + L2, Adam, early stopping on an
inner validation split of the training rows, y standardized inside) -> Deep Compression (prune, quantize,
Huffman) -> prediction -> IQR classes with the thresholds of the observed training responses.

Baselines on the same rows: elastic net (alpha and l1_ratio by CV inside the training rows), random forest,
linear epsilon-SVR on the RFE genes, the "simple ANN" (Identity activations, the same number of dense layers,
randomly chosen genes, as many as RFE keeps), the per-drug mean and the per-drug tissue mean
(:class:`ccle.methods.tissue.TissueMeanModel`, fitted with ``tissues=``). ``MT`` (:class:`ccle.methods.multitask.MultiTaskModel`)
learns all drugs at once and runs as one task per split (:func:`ccle.benchmark.tasks.run_multitask_task`).

Every estimator takes the raw X (n, genes) of one drug and fits its scaling (and RFE, :mod:`ccle.methods.gene_selection`) on the
rows it is given, unless a pre-fitted :class:`GeneSelector` is passed as ``selector`` -- which is how the paper
protocol (scaling and RFE fitted on all rows of the drug before the splits) and the per-split cache
(:func:`ccle.benchmark.tasks.fit_pipeline`) are plugged in.
:func:`ccle.evaluation.splits.preprocessing_rows` is the one protocol switch.
"""
import numpy as np

from ccle.evaluation.thresholds import IQRThresholds
from ccle.evaluation.splits import kfold_splits
from ccle.methods.gene_selection import GeneSelector, scaler_only
from ccle.methods.oof import (committee_oof_predictions, committee_spread_ratio, fold_ids_from_splits, mean_oof_predictions,
                              refit_oof_predictions)
from ccle.methods.preprocess import check_xy, standardize
from nnlite.ann import SimpleANNRegressor
from nnlite.committee import fit_committee
from nnlite.compress.pipeline import auto_prune_percent, compress_model
from nnlite.forest import RandomForestRegressor
from nnlite.linear.enet import ElasticNetCV
from nnlite.linear.svr import LinearSVR
from nnlite.networks import paper_network
from nnlite.optim import Adam

# Fixed architecture used without --search: four tapering hidden layers (ReLU, Tanh, ReLU, Tanh), chosen without
# looking at any benchmark test row. A handful of shapes -- (32,16,8), (16,8), (16,)*12, (8,)*12,
# (64,32,16,8), (64,32,16,8,4), (128,64,32,16,8,4) -- were compared on a development target that the benchmark
# never scores: log IC50 (not ActArea) of the real CCLE subset, one Monte Carlo split per drug with a seed of its
# own, and on the generated default data. (64,32,16,8) was among the best on both and cheaper than the deeper
# stacks; the 12-layer narrow stacks trained worse on ~220 rows. The same development target chose PM's training
# settings (Adam lr 3e-4, batches of 64, patience 50: a slower, smoother descent made early stopping on small
# folds much more reliable than lr 1e-3). The L2 strength is not fixed: PM picks it per fit by inner
# cross-validation on its training rows (ccle.methods.estimators.PerDrugModel).
DEFAULT_WIDTHS = (64, 32, 16, 8)


def committee_mean(networks, Z):
    """The committee's prediction: the float64 mean of the networks' outputs for ``Z`` (n, p) -> (n,).
    (:class:`nnlite.runtime.RuntimeModel` holds the numpy-only copy, tested against this one.)"""
    return np.mean([np.asarray(net.predict(Z), dtype=np.float64).ravel() for net in networks], axis=0)


class _Estimator:
    """Shared bits: IQR thresholds of the observed training responses.

    Every estimator also sets ``oof_predictions_`` (n_train,) in ``fit``: an out-of-fold prediction of each
    training row (made by a model that never fitted that row), NaN for rows that have none; the calibrated
    sensitivity calls are fitted on them (:mod:`ccle.methods.oof` says which source each method uses and why).
    """

    def _fit_thresholds(self, y):
        self.thresholds_ = IQRThresholds().fit(y)


class PerDrugModel(_Estimator):
    """The regularized per-drug committee ("PM+"); see the module docstring.

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
    compressed networks predict. ``compress_grid`` (``(keep_scale, bits)`` settings, most compressive first)
    lets the training folds choose the setting instead: the first whose compressed committee's out-of-fold MSE
    is within ``compress_tolerance`` (relative) of the uncompressed committee's is kept.

    Attributes: ``selector_``, ``networks_`` (the committee, list of Sequential), ``folds_`` (n_train,) the
    inner fold of each training row (network f never fitted fold f), ``oof_predictions_`` (n_train,) each row
    predicted by the network that was validated on it, rescaled about their mean by ``committee_shrink_`` (std
    of the committee's predictions of the training rows / root-mean variance of the single networks' ones:
    the committee's predictions spread less than one network's), ``l2_``, ``cv_mse_`` (dict
    L2 -> out-of-fold MSE in standardized units), ``y_mean_``, ``y_scale_``, ``thresholds_``, ``compression_``
    (per network: dense/Huffman/file bytes, ratio, validation MSE per stage, or None), ``n_epochs_`` (epochs
    run per committee network before compression), ``encoded_`` (per compressed network its
    ``nnlite.compress.fileformat.encode_network``, for writing it without encoding it again; else None),
    ``uncompressed_networks_`` (the committee before compression), ``compress_choice_`` (with
    ``compress_grid``: the setting kept and, per setting tried, its out-of-fold MSE ratio to the uncompressed
    committee and its Huffman bytes; else None).
    """

    def __init__(self, widths=DEFAULT_WIDTHS, n_features=1000, dropout=0.4, n_dropout=3, l1=1e-5,
                 l2=(3e-3, 3e-2), lr=3e-4, epochs=400, batch_size=64, patience=50, cv=4, compress=True,
                 prune_percent=50.0, bits=5, retrain_epochs=5, compress_grid=None, compress_tolerance=0.01,
                 seed=0, selector=None):
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
        self.compress_grid = compress_grid
        self.compress_tolerance = compress_tolerance
        self.seed = seed
        self.selector = selector

    def _train(self, Z, ys, splits, candidates):
        """The networks of every (L2 candidate, fold), candidate-major, trained together as one committee
        (:func:`nnlite.committee.fit_committee`): each on the other folds, early-stopped on its own fold."""
        nets = [paper_network(Z.shape[1], list(self.widths), dropout=self.dropout, n_dropout=self.n_dropout,
                              l1=self.l1, l2=l2, seed=int(self.seed) * 100 + f)
                for l2 in candidates for f in range(len(splits))]
        return fit_committee(nets, Z, ys, [tr for _ in candidates for tr, _ in splits],
                             [va for _ in candidates for _, va in splits], epochs=self.epochs,
                             batch_size=self.batch_size, optimizers=[Adam(lr=self.lr) for _ in nets],
                             patience=self.patience)

    def _compress(self, net, Z, ys, tr, va, seed, prune_percent=None, bits=None):
        net, rep = compress_model(net, Z[tr], ys[tr], Z[va], ys[va],
                                  prune_percent=self.prune_percent if prune_percent is None else prune_percent,
                                  bits=self.bits if bits is None else bits, retrain_epochs=self.retrain_epochs,
                                  finetune_epochs=self.retrain_epochs, seed=seed)
        d = rep.to_dict()
        return net, {"dense_bytes": int(d["totals"]["dense"]), "huffman_bytes": int(d["totals"]["huffman"]),
                     "file_bytes": d.get("file_bytes"), "ratio": float(d["ratio"]),
                     "val_mse": d.get("val_mse", {})}, rep.encoded

    def fit(self, X, y):
        X, y = check_xy(X, y)
        k = int(self.cv)
        if k < 2 or X.shape[0] < 2 * k:
            raise ValueError(f"PerDrugModel needs cv >= 2 and at least 2*cv rows, got cv={self.cv} and "
                             f"{X.shape[0]} rows")
        self.selector_ = self.selector if self.selector is not None else GeneSelector(
            n_features=self.n_features, seed=self.seed).fit(X, y)
        Z = self.selector_.transform(X)
        ys, self.y_mean_, self.y_scale_ = standardize(y)
        ys = ys.astype(np.float32)
        splits = kfold_splits(X.shape[0], k, self.seed)
        candidates = [float(v) for v in np.atleast_1d(self.l2)]
        self.cv_mse_, committees = {}, {}
        trained = iter(self._train(Z, ys, splits, candidates))
        for l2 in candidates:
            nets, sq = [], 0.0
            for f, (tr, va) in enumerate(splits):
                net = next(trained)
                pred = np.asarray(net.predict(Z[va]), dtype=np.float64).ravel()
                sq += float(np.sum((pred - ys[va]) ** 2))
                nets.append(net)
            self.cv_mse_[l2] = sq / X.shape[0]
            committees[l2] = nets
        self.l2_ = min(candidates, key=lambda v: (self.cv_mse_[v], candidates.index(v)))
        self.networks_ = committees[self.l2_]
        self.n_epochs_ = [int(getattr(n, "epochs_run", 0)) for n in self.networks_]
        self.compression_, self.encoded_ = [None] * k, [None] * k
        self.uncompressed_networks_ = list(self.networks_)
        self.compress_choice_ = None
        if self.compress:
            self._compress_committee(Z, ys, splits)
        # compression fine-tunes each network on its training folds only, so its own fold stays held out
        self.folds_ = fold_ids_from_splits(splits, X.shape[0])
        oof = committee_oof_predictions(self.networks_, Z, self.folds_)
        # The committee averages k networks, so its predictions spread less than one network's (their errors
        # partly cancel): rescale the held-out predictions about their mean by the committee / single-network
        # spread ratio on the training rows, so that the calibrated thresholds sit on the committee's scale.
        each = np.array([np.asarray(net.predict(Z), dtype=np.float64).ravel() for net in self.networks_])
        self.committee_shrink_ = committee_spread_ratio(each)
        oof = oof.mean() + self.committee_shrink_ * (oof - oof.mean())
        self.oof_predictions_ = oof * self.y_scale_ + self.y_mean_
        self._fit_thresholds(y)
        return self

    def _compress_committee(self, Z, ys, splits):
        """Compress every committee network on its training folds. Without ``compress_grid``: with
        ``prune_percent`` and ``bits``. With it: the settings ``(keep_scale, bits)`` of the grid, most
        compressive first, each pruning a layer of N weights to ``keep_scale * sqrt(N)``
        (:func:`nnlite.compress.pipeline.auto_prune_percent`); the first whose compressed committee's
        out-of-fold MSE (each network on its own held-out fold) is at most ``1 + compress_tolerance`` times
        the uncompressed committee's is kept, else the last. Training rows only: no test row is seen."""
        base = self.uncompressed_networks_
        grid = [(None, None)] if not self.compress_grid else [
            (list(auto_prune_percent([layer.W.size for layer in base[0].dense_layers()], float(scale))), int(b))
            for scale, b in self.compress_grid]
        reference = sum(float(np.sum((np.asarray(net.predict(Z[va]), dtype=np.float64).ravel() - ys[va]) ** 2))
                        for net, (_, va) in zip(base, splits))
        tried = []
        for g, (percent, bits) in enumerate(grid):
            out = [self._compress(net, Z, ys, tr, va, int(self.seed) * 100 + f, percent, bits)
                   for f, (net, (tr, va)) in enumerate(zip(base, splits))]
            sq = sum(float(np.sum((np.asarray(o[0].predict(Z[va]), dtype=np.float64).ravel() - ys[va]) ** 2))
                     for o, (_, va) in zip(out, splits))
            tried.append({"setting": list(self.compress_grid[g]) if self.compress_grid else None,
                          "oof_mse_ratio": sq / reference if reference > 0 else 1.0,
                          "bytes": int(sum(o[1]["huffman_bytes"] for o in out))})
            if sq <= (1.0 + float(self.compress_tolerance)) * reference or g == len(grid) - 1:
                break
        self.networks_ = [o[0] for o in out]
        self.compression_ = [o[1] for o in out]
        self.encoded_ = [o[2] for o in out]
        if self.compress_grid:
            self.compress_choice_ = {"kept": tried[-1]["setting"], "tried": tried}

    def predict(self, X):
        """Mean of the committee's predictions, mapped back to the response scale -> (n,)."""
        return committee_mean(self.networks_, self.selector_.transform(X)) * self.y_scale_ + self.y_mean_


class ElasticNetModel(_Estimator):
    """Elastic net on all scaled genes; ``alpha`` and ``l1_ratio`` chosen by ``cv``-fold CV on the training rows.
    ``oof_predictions_``: each row's held-out prediction at the chosen (alpha, l1_ratio) from the CV paths
    themselves (``ElasticNetCV.cv_predictions_``: the fold solutions the CV scored, no refit)."""

    def __init__(self, l1_ratio=(0.1, 0.5, 0.9, 1.0), n_alphas=50, cv=5, seed=0, selector=None):
        self.l1_ratio = l1_ratio
        self.n_alphas = n_alphas
        self.cv = cv
        self.seed = seed
        self.selector = selector

    def fit(self, X, y):
        X, y = check_xy(X, y)
        self.selector_ = self.selector if self.selector is not None else scaler_only(X)
        Zs = self.selector_.scale(X).astype(np.float64)
        m = self.model_ = ElasticNetCV(l1_ratio=list(self.l1_ratio), n_alphas=self.n_alphas, cv=self.cv,
                                       seed=self.seed).fit(Zs, y)
        self.oof_predictions_ = m.cv_predictions_
        self._fit_thresholds(y)
        return self

    def predict(self, X):
        return np.asarray(self.model_.predict(self.selector_.scale(X).astype(np.float64)), dtype=np.float64)


class RandomForestModel(_Estimator):
    """Random forest regression (``n_estimators`` trees, ``max_features`` of the genes per split) on all genes.
    ``oof_predictions_``: the forest's out-of-bag predictions (free: one tree pass per out-of-bag row)."""

    def __init__(self, n_estimators=100, max_features=1 / 3, min_samples_leaf=5, seed=0, selector=None):
        self.n_estimators = n_estimators
        self.max_features = max_features
        self.min_samples_leaf = min_samples_leaf
        self.seed = seed
        self.selector = selector

    def fit(self, X, y):
        X, y = check_xy(X, y)
        self.selector_ = self.selector if self.selector is not None else scaler_only(X)
        self.model_ = RandomForestRegressor(n_estimators=self.n_estimators, max_features=self.max_features,
                                            min_samples_leaf=self.min_samples_leaf, seed=self.seed,
                                            n_jobs=1, oob_score=True).fit(self.selector_.scale(X), y)
        self.oof_predictions_ = np.asarray(self.model_.oob_prediction_, dtype=np.float64)
        self._fit_thresholds(y)
        return self

    def predict(self, X):
        return np.asarray(self.model_.predict(self.selector_.scale(X)), dtype=np.float64)


class SVRModel(_Estimator):
    """Linear epsilon-SVR (``epsilon``) on the scaled RFE genes (the same genes PM gets); ``C`` is one value or
    a tuple of candidates chosen by ``cv``-fold CV (MSE) inside the training rows, then refitted on all of them.
    Attributes: ``selector_``, ``model_``, ``C_``, ``cv_mse_`` (dict C -> CV MSE; empty for one C),
    ``oof_predictions_`` (the C-CV's held-out predictions at ``C_``; with one C, ``cv`` refits on its folds)."""

    def __init__(self, n_features=1000, epsilon=0.1, C=(0.001, 0.01, 0.1, 1.0), cv=3, seed=0, selector=None):
        self.n_features = n_features
        self.epsilon = epsilon
        self.C = C
        self.cv = cv
        self.seed = seed
        self.selector = selector

    def _svr(self, C):
        return LinearSVR(epsilon=self.epsilon, C=C, seed=self.seed, max_iter=5000)

    def fit(self, X, y):
        X, y = check_xy(X, y)
        self.selector_ = self.selector if self.selector is not None else GeneSelector(
            n_features=self.n_features, seed=self.seed).fit(X, y)
        Z = self.selector_.transform(X).astype(np.float64)
        candidates = [float(c) for c in np.atleast_1d(self.C)]
        self.cv_mse_, held_out = {}, {}
        splits = kfold_splits(X.shape[0], self.cv, self.seed)
        if len(candidates) > 1:
            for C in candidates:
                held_out[C] = np.empty(X.shape[0])
                for tr, va in splits:
                    held_out[C][va] = self._svr(C).fit(Z[tr], y[tr]).predict(Z[va])
                self.cv_mse_[C] = float(np.sum((held_out[C] - y) ** 2)) / X.shape[0]
        self.C_ = min(candidates, key=lambda c: (self.cv_mse_.get(c, 0.0), candidates.index(c)))
        self.oof_predictions_ = held_out[self.C_] if held_out else refit_oof_predictions(
            lambda: self._svr(self.C_), Z, y, fold_ids_from_splits(splits, X.shape[0]))
        self.model_ = self._svr(self.C_).fit(Z, y)
        self._fit_thresholds(y)
        return self

    def predict(self, X):
        return np.asarray(self.model_.predict(self.selector_.transform(X).astype(np.float64)), dtype=np.float64)


class SimpleANNModel(_Estimator):
    """The paper's "simple ANN": Identity activations, the same dense layers (``widths``) as PM, no dropout,
    on ``n_features`` randomly chosen scaled genes (as many as RFE keeps; seeded by ``seed``). Trained like PM's
    networks (Adam, the same learning rate, batch size and early-stopping patience, y standardized).
    ``oof_predictions_``: the network's predictions of its early-stopping validation rows (NaN elsewhere): it
    never fitted them (early stopping chose the epoch on them, a mild optimism that costs no extra fit)."""

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
        X, y = check_xy(X, y)
        self.selector_ = self.selector if self.selector is not None else scaler_only(X)
        n_genes = X.shape[1]
        k = min(int(self.n_features), n_genes)
        self.genes_ = np.sort(np.random.default_rng(self.seed).choice(n_genes, size=k, replace=False))
        self.model_ = SimpleANNRegressor(widths=tuple(self.widths), l1=self.l1, l2=self.l2, lr=self.lr,
                                         epochs=self.epochs, batch_size=self.batch_size, patience=self.patience,
                                         validation_fraction=self.validation_fraction, seed=self.seed)
        Zs = self.selector_.scale(X)[:, self.genes_]
        self.model_.fit(Zs, y)
        va = self.model_.validation_rows_
        self.oof_predictions_ = np.full(X.shape[0], np.nan)
        if va.size:
            self.oof_predictions_[va] = np.asarray(self.model_.predict(Zs[va]), dtype=np.float64)
        self._fit_thresholds(y)
        return self

    def predict(self, X):
        return np.asarray(self.model_.predict(self.selector_.scale(X)[:, self.genes_]), dtype=np.float64)


class MeanModel(_Estimator):
    """The per-drug mean predictor: predicts the mean training response for every cell line
    (``oof_predictions_``: that mean too, see :func:`ccle.methods.oof.mean_oof_predictions`)."""

    def __init__(self, seed=0, selector=None):
        self.seed = seed
        self.selector = selector

    def fit(self, X, y):
        X, y = check_xy(X, y)
        self.mean_ = float(y.mean())
        self.oof_predictions_ = mean_oof_predictions(y)
        self._fit_thresholds(y)
        return self

    def predict(self, X):
        X = check_xy(X)
        return np.full(X.shape[0], self.mean_, dtype=np.float64)
