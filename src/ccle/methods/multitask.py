"""``MT``: one network for all drugs, trained on the observed (cell line, drug) pairs only.

Input X (n_cells, genes) of the training cell lines and Y (n_cells, n_drugs) of responses with NaN where a
line was not measured on a drug. Everything below is fitted on those rows only:

1. min-max scaling of every gene (:class:`ccle.methods.preprocess.MinMaxScaler`, as PM);
2. gene filter: the ``n_genes`` genes with the largest mean over drugs of the squared Pearson correlation
   with the drug's response on its observed rows (all genes when there are fewer);
3. each drug's target standardized on its observed rows, t_ij = (y_ij - mu_j) / sd_j, so that every drug
   weighs alike in the loss whatever its ActArea spread;
4. a network [Dense(h_1), ReLU, Dropout] ... Dense(h_L, n_drugs): a shared trunk and one linear output per
   drug, L1 + L2 on every Dense layer, Adam, trained on the masked MSE
   (1 / |O|) sum_{(i, j) in O} (f_j(x_i) - t_ij)^2 over the observed pairs O (``nnlite.losses.MaskedMSELoss``);
5. inner cell-line folds: the training lines are cut into ``cv`` seeded folds; one network per fold is trained
   on the other folds and early-stopped on its own (cell lines, not pairs, are held out, so no inner
   validation line is seen through another drug), then optionally compressed like PM (pruning, weight
   sharing, Huffman; ``nnlite.compress.pipeline.compress_model`` on the same rows and the masked loss);
6. the fold networks predict as a committee: their mean, held as one network
   (``nnlite.networks.committee_network``), which is what ``predict`` runs and what ``save_multitask`` writes;
7. out-of-fold predictions of the training pairs (``oof_predictions_``, what the calibrated sensitivity rule
   is fitted on): fold network f never fitted the lines of fold f (it was early-stopped, and compressed, with
   them as validation), so it predicts them, for every drug, at the cost of one forward pass
   (``ccle.methods.oof.committee_oof_predictions``); per drug they are rescaled about their mean by
   ``ccle.methods.oof.committee_spread_ratio`` (the committee spreads less than one network), as PM+ does.

``predict(X)`` -> (n, n_drugs) in response units: f(x) * sd + mu.
Per-drug IQR thresholds of the observed training responses (``thresholds_``) give the paper's classes.

``save_multitask`` / ``load_multitask``: one ``.nnz`` for all drugs (``nnlite.compress.fileformat``), with the
drugs, the selected genes, their scaler, the per-drug target scaling and IQR thresholds in its metadata; the
loaded model takes X with exactly the stored genes, in the stored order (``genes_``). Metadata
(:func:`file_metadata`), format version 2::

    {"format": "ccle.methods.multitask", "version": 2, "drugs", "genes", "scaler", "y_mean", "y_scale", "params",
     "response", "direction": +1 | -1,                 # ccle.evaluation.thresholds.sensitive_direction(response)
     "thresholds": [per drug {"low", "high"[, "direction"]}],   # paper rule: IQR of the observed responses
     "calibrated_thresholds": [per drug {"low", "high"[, "direction"]}],  # IQR of the OOF predictions
     "oof_predictions": [per drug: sorted OOF predictions of its observed training pairs],
     "training_cell_lines": [names of the training lines] (when fit was given them)}

as the per-drug file (``ccle.deploy.per_drug``, version 2) stores them, one entry per drug. Version 2 added the
response, the direction, the calibrated rule, the OOF predictions and the training lines; version 1 files
still load (no calibrated rule: ``calibrated_thresholds_`` is None).
"""
import time

import numpy as np

from ccle.data.align import normalize_cell_line
from ccle.evaluation.thresholds import CalibratedThresholds, IQRThresholds, sensitive_direction
from ccle.methods.oof import committee_oof_predictions, committee_spread_ratio
from ccle.methods.preprocess import MinMaxScaler
from ccle.evaluation.splits import drug_rows
from nnlite.activations import Identity, ReLU, Tanh
from nnlite.compress.fileformat import load_compressed, read_metadata, save_compressed
from nnlite.compress.pipeline import compress_model
from nnlite.layers import Dense, Dropout
from nnlite.losses import MaskedMSELoss, observed_mse
from nnlite.model import Sequential
from nnlite.networks import committee_network
from nnlite.optim import Adam

FORMAT = "ccle.methods.multitask"
FORMAT_VERSION = 2
SUPPORTED_VERSIONS = (1, 2)
MIN_ROWS_PER_DRUG = 4
# "linear" (Identity): a reduced-rank linear model, x -> x W_1 W_2 (rank = the narrowest width), the linear
# multitask anchor; "relu"; "alternate": ReLU, Tanh, ReLU, ... as the paper's per-drug network
ACTIVATIONS = ("relu", "alternate", "linear")


def check_xy_multi(X, Y=None):
    """X (n, p) finite; Y (n, k) finite or NaN, every column with at least MIN_ROWS_PER_DRUG observed values."""
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X must be a non-empty 2-D array (cells x genes), got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or inf")
    if Y is None:
        return X
    Y = np.asarray(Y, dtype=np.float64)
    if Y.ndim == 1:
        Y = Y[:, None]
    if Y.ndim != 2 or Y.shape[0] != X.shape[0]:
        raise ValueError(f"Y must have shape (n_cells, n_drugs) with n_cells = {X.shape[0]}, got {Y.shape}")
    if np.any(np.isinf(Y)):
        raise ValueError("Y contains inf (use NaN for a missing response)")
    counts = np.isfinite(Y).sum(axis=0)
    if np.any(counts < MIN_ROWS_PER_DRUG):
        bad = [int(j) for j in np.flatnonzero(counts < MIN_ROWS_PER_DRUG)]
        raise ValueError(f"drug columns {bad} have fewer than {MIN_ROWS_PER_DRUG} observed responses")
    return X, Y


def correlation_scores(Z, Y):
    """Per gene, the mean over drugs j of r_j^2, r_j the Pearson correlation of the gene with drug j's
    response over the rows where it is observed -> (p,). Constant genes score 0."""
    Z = np.asarray(Z, dtype=np.float64)
    score = np.zeros(Z.shape[1])
    for j in range(Y.shape[1]):
        seen = np.isfinite(Y[:, j])
        z = Z[seen] - Z[seen].mean(axis=0)
        y = Y[seen, j] - Y[seen, j].mean()
        den = np.sqrt((z * z).sum(axis=0) * float(y @ y))
        r = np.divide(z.T @ y, den, out=np.zeros(Z.shape[1]), where=den > 0)
        score += r * r
    return score / Y.shape[1]


def response_matrix(datasets):
    """The multitask data of per-drug :class:`ccle.data.align.DrugDataset` s (one per drug, all from the same
    expression matrix) -> ``(X, Y, cell_lines, genes, drugs)``: X (n_cells, genes) float32 over the union of
    their cell lines (first-seen order), Y (n_cells, n_drugs) with NaN where a line has no response to a drug,
    genes = those present in every data set (a drug drops genes that are non-finite on its rows)."""
    datasets = list(datasets)
    if not datasets:
        raise ValueError("response_matrix needs at least one drug data set")
    common = set(datasets[0].genes).intersection(*(ds.genes for ds in datasets[1:]))
    genes = [g for g in datasets[0].genes if g in common]
    rows, cells, X_rows = {}, [], []
    for ds in datasets:
        cols = [ds.genes.index(g) for g in genes] if ds.genes != genes else slice(None)
        for i, c in enumerate(ds.cell_lines):
            key = normalize_cell_line(c)
            if key not in rows:
                rows[key] = len(cells)
                cells.append(c)
                X_rows.append(np.asarray(ds.X[i, cols], dtype=np.float32))
    Y = np.full((len(cells), len(datasets)), np.nan)
    for j, ds in enumerate(datasets):
        idx = [rows[normalize_cell_line(c)] for c in ds.cell_lines]
        Y[idx, j] = ds.y
    return np.stack(X_rows), Y, cells, genes, [ds.drug for ds in datasets]


class MultiTaskModel:
    """The cross-drug network; see the module docstring.

    Parameters: ``hidden`` widths of the shared trunk (activations ReLU, Tanh, ReLU, ... when ``activation``
    is "alternate", all ReLU when "relu", none when "linear": reduced-rank regression), ``dropout`` after every hidden layer, ``l1``/``l2`` on every Dense
    layer, Adam ``lr``, ``batch_size``, at most ``epochs`` epochs, early stopping with ``patience``, ``cv``
    inner cell-line folds (>= 2), ``n_genes`` kept by the correlation filter, ``compress`` with
    ``prune_percent``/``bits``/``retrain_epochs`` as PM, ``input_dropout`` (dropout on the genes), ``seed``.

    Attributes after ``fit``: ``support_`` (bool, input genes kept), ``scaler_`` (MinMaxScaler of the kept
    genes), ``genes_`` / ``drugs_`` (names when given to fit, else indices as strings), ``y_mean_``,
    ``y_scale_`` (n_drugs,), ``thresholds_`` (list of IQRThresholds), ``networks_`` (the fold networks),
    ``network_`` (their committee, used by ``predict``), ``n_epochs_``, ``inner_mse_`` (out-of-fold masked MSE
    in standardized units, before compression), ``compression_`` (per fold: dense and Huffman bytes, ratio,
    validation MSE per stage; None without compression), ``folds_`` (n_cells,) the inner fold of each
    training line (network f never fitted fold f), ``oof_predictions_`` (n_cells, n_drugs) in response units,
    each line predicted by the network of its fold, rescaled per drug by ``committee_shrink_`` (n_drugs,),
    NaN where the pair is not observed, ``cell_lines_`` (the training lines' names when given to fit, else
    None).
    """

    def __init__(self, hidden=(128,), activation="relu", dropout=0.3, l1=3e-4, l2=1e-3, lr=3e-4,
                 batch_size=32, epochs=400, patience=40, cv=4, n_genes=1000, compress=True, prune_percent=50.0,
                 bits=5, retrain_epochs=5, input_dropout=0.0, seed=0):
        self.hidden = hidden
        self.input_dropout = input_dropout
        self.activation = activation
        self.dropout = dropout
        self.l1 = l1
        self.l2 = l2
        self.lr = lr
        self.batch_size = batch_size
        self.epochs = epochs
        self.patience = patience
        self.cv = cv
        self.n_genes = n_genes
        self.compress = compress
        self.prune_percent = prune_percent
        self.bits = bits
        self.retrain_epochs = retrain_epochs
        self.seed = seed

    # -- the network -----------------------------------------------------------------------------------------
    def _network(self, n_in, n_out, seed):
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {self.activation!r}")
        layers, d = [], n_in
        if self.input_dropout > 0:   # masking noise on the genes (denoising-style regularization)
            layers.append(Dropout(self.input_dropout))
        for k, w in enumerate(self.hidden):
            layers.append(Dense(d, int(w), l1=self.l1, l2=self.l2))
            if self.activation == "linear":
                layers.append(Identity())
            else:
                layers.append(Tanh() if self.activation == "alternate" and k % 2 else ReLU())
            if self.dropout > 0:
                layers.append(Dropout(self.dropout))
            d = int(w)
        layers.append(Dense(d, n_out, l1=self.l1, l2=self.l2))
        return Sequential(layers, seed=seed)

    def _train_fold(self, Z, T, tr, va, seed):
        net = self._network(Z.shape[1], T.shape[1], seed)
        net.fit(Z[tr], T[tr], epochs=self.epochs, batch_size=self.batch_size, optimizer=Adam(lr=self.lr),
                validation=(Z[va], T[va]), patience=self.patience, loss=MaskedMSELoss())
        return net

    # -- estimator API ---------------------------------------------------------------------------------------
    def fit(self, X, Y, genes=None, drugs=None, cell_lines=None):
        """Fit on the training cell lines: X (n_cells, p), Y (n_cells, n_drugs) with NaN for missing pairs.
        ``genes`` (p names) and ``drugs`` (n_drugs names) are stored for saving, ``cell_lines`` (n_cells
        names) to find a line's row of ``oof_predictions_``. Returns self."""
        X, Y = check_xy_multi(X, Y)
        k = int(self.cv)
        if k < 2 or X.shape[0] < 2 * k:
            raise ValueError(f"MultiTaskModel needs cv >= 2 and at least 2*cv cell lines, got cv={self.cv} "
                             f"and {X.shape[0]}")
        genes = [str(g) for g in (genes if genes is not None else range(X.shape[1]))]
        drugs = [str(d) for d in (drugs if drugs is not None else range(Y.shape[1]))]
        if len(genes) != X.shape[1] or len(drugs) != Y.shape[1]:
            raise ValueError(f"{len(genes)} gene names for {X.shape[1]} columns or {len(drugs)} drug names for "
                             f"{Y.shape[1]} columns")
        if cell_lines is not None and len(cell_lines) != X.shape[0]:
            raise ValueError(f"{len(cell_lines)} cell-line names for {X.shape[0]} rows")
        self.cell_lines_ = None if cell_lines is None else [str(c) for c in cell_lines]
        full = MinMaxScaler().fit(X)
        Xs = full.transform(np.asarray(X, dtype=np.float64))
        if X.shape[1] > int(self.n_genes):
            score = correlation_scores(Xs, Y)
            keep = np.sort(np.argsort(-score, kind="stable")[:int(self.n_genes)])
        else:
            keep = np.arange(X.shape[1])
        self.support_ = np.zeros(X.shape[1], dtype=bool)
        self.support_[keep] = True
        self.scaler_ = MinMaxScaler.from_dict({"clip": True, "data_min": full.data_min_[keep].tolist(),
                                               "data_max": full.data_max_[keep].tolist()})
        self.genes_ = [genes[i] for i in keep]
        self.drugs_ = drugs
        self.n_features_in_ = X.shape[1]
        Z = np.ascontiguousarray(Xs[:, keep], dtype=np.float32)
        self.y_mean_ = np.nanmean(Y, axis=0)
        sd = np.nanstd(Y, axis=0)
        self.y_scale_ = np.where(sd > 0, sd, 1.0)
        T = ((Y - self.y_mean_) / self.y_scale_).astype(np.float32)
        self.thresholds_ = [IQRThresholds().fit(Y[np.isfinite(Y[:, j]), j]) for j in range(Y.shape[1])]

        folds = np.random.default_rng(self.seed).permutation(X.shape[0]) % k
        splits = [(np.flatnonzero(folds != f), np.flatnonzero(folds == f)) for f in range(k)]
        nets, sq, n_seen, epochs_run = [], 0.0, 0, []
        self.compression_ = [None] * k
        for f, (tr, va) in enumerate(splits):
            seed = int(self.seed) * 100 + f
            net = self._train_fold(Z, T, tr, va, seed)
            epochs_run.append(int(net.epochs_run))   # before compression retrains it
            seen = np.isfinite(T[va])
            sq += observed_mse(net.predict(Z[va]), T[va]) * int(seen.sum())
            n_seen += int(seen.sum())
            if self.compress:
                net, rep = compress_model(net, Z[tr], T[tr], Z[va], T[va], prune_percent=self.prune_percent,
                                          bits=self.bits, retrain_epochs=self.retrain_epochs,
                                          finetune_epochs=self.retrain_epochs, lr=self.lr, seed=seed)
                d = rep.to_dict()
                self.compression_[f] = {"dense_bytes": int(d["totals"]["dense"]),
                                        "huffman_bytes": int(d["totals"]["huffman"]),
                                        "ratio": float(d["ratio"]), "val_mse": d.get("val_mse", {})}
            nets.append(net)
        self.inner_mse_ = sq / max(n_seen, 1)
        self.networks_ = nets
        self.n_epochs_ = epochs_run
        self.network_ = committee_network(nets)
        self.folds_ = folds
        self._fit_oof(Z, Y)
        return self

    def _fit_oof(self, Z, Y):
        oof = committee_oof_predictions(self.networks_, Z, self.folds_).reshape(Z.shape[0], -1)
        each = np.stack([np.asarray(net.predict(Z), dtype=np.float64).reshape(Z.shape[0], -1)
                         for net in self.networks_])
        seen = np.isfinite(Y)
        self.committee_shrink_ = np.ones(Y.shape[1])
        for j in range(Y.shape[1]):
            rows = seen[:, j]
            self.committee_shrink_[j] = committee_spread_ratio(each[:, rows, j])
            centre = oof[rows, j].mean()
            oof[:, j] = centre + self.committee_shrink_[j] * (oof[:, j] - centre)
        self.oof_predictions_ = np.where(seen, oof * self.y_scale_ + self.y_mean_, np.nan)

    def transform(self, X):
        """The network input: the kept genes of X (n, n_features_in_), min-max scaled -> (n, len(genes_))."""
        X = check_xy_multi(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} genes, the model was fitted on {self.n_features_in_}")
        return np.ascontiguousarray(self.scaler_.transform(np.asarray(X, dtype=np.float64)[:, self.support_]),
                                    dtype=np.float32)

    def predict(self, X):
        """Responses of every drug for X (n, n_features_in_) -> (n, n_drugs), in response units."""
        out = np.asarray(self.network_.predict(self.transform(X)), dtype=np.float64).reshape(X.shape[0], -1)
        return out * self.y_scale_ + self.y_mean_

    def classify(self, X):
        """(n, n_drugs) classes ("sensitive" / "moderate" / "resistant"), each drug with its own thresholds."""
        P = self.predict(X)
        return np.stack([t.classify(P[:, j]) for j, t in enumerate(self.thresholds_)], axis=1)


def fit_predict_split(datasets, held_out, model=None):
    """One leave-cell-line-out (or leave-tissue-out) split of MT: fit on every line not in ``held_out``
    (a set of ``normalize_cell_line`` keys, from ``ccle.evaluation.splits.held_out_sets``), predict the held-out lines.

    Returns ``(model, predictions)`` with ``predictions[drug] = (test_idx, y_pred)``: ``test_idx`` the drug's
    test rows as ``ccle.evaluation.splits.drug_rows`` gives them (indices into ``ds.y`` / ``ds.cell_lines``), ``y_pred``
    MT's predictions for those rows, (n_test,). ``model``: an unfitted MultiTaskModel (default settings if
    None). Also ``model.train_seconds_`` and ``model.predict_seconds_``.
    """
    X, Y, cells, genes, drugs = response_matrix(datasets)
    test = np.array([normalize_cell_line(c) in held_out for c in cells], dtype=bool)
    model = MultiTaskModel() if model is None else model
    t0 = time.perf_counter()
    model.fit(X[~test], Y[~test], genes=genes, drugs=drugs, cell_lines=[c for c, t in zip(cells, test) if not t])
    t1 = time.perf_counter()
    P = model.predict(X[test])
    model.train_seconds_, model.predict_seconds_ = t1 - t0, time.perf_counter() - t1
    pos = {normalize_cell_line(c): i for i, c in enumerate(np.asarray(cells, dtype=object)[test])}
    out = {}
    for j, ds in enumerate(datasets):
        _, te = drug_rows(ds.cell_lines, held_out, drug=ds.drug)
        out[ds.drug] = (te, P[[pos[normalize_cell_line(ds.cell_lines[i])] for i in te], j])
    return model, out


def drug_oof_predictions(model, datasets, held_out):
    """Per drug of ``datasets``, its training rows and MT's out-of-fold predictions of them:
    ``{drug: (train_idx, oof)}``, ``train_idx`` as ``ccle.evaluation.splits.drug_rows`` gives them (the drug's rows whose
    line is not in ``held_out``), ``oof`` (n_train,) from ``model.oof_predictions_`` -- ``model`` fitted by
    :func:`fit_predict_split` on the same data sets and ``held_out`` (it knows its training lines by name)."""
    if getattr(model, "cell_lines_", None) is None:
        raise ValueError("the multitask model was fitted without cell-line names (fit_predict_split sets them)")
    row = {normalize_cell_line(c): i for i, c in enumerate(model.cell_lines_)}
    out = {}
    for ds in datasets:
        j = model.drugs_.index(str(ds.drug))
        tr, _ = drug_rows(ds.cell_lines, held_out, drug=ds.drug)
        out[ds.drug] = (tr, model.oof_predictions_[[row[normalize_cell_line(ds.cell_lines[i])] for i in tr], j])
    return out


def call_rules(model, response="ActArea"):
    """Per drug of a fitted MultiTaskModel its two sensitivity rules, as :func:`ccle.evaluation.calls.fit_call_rules`
    fits them for a per-drug model: ``[(paper, calibrated), ...]`` with ``paper`` the IQR of the drug's observed
    training responses (``thresholds_``, fitted on exactly those values) and ``calibrated`` the
    :class:`ccle.evaluation.thresholds.CalibratedThresholds` of the out-of-fold predictions of the same pairs
    (``oof_predictions_``), both oriented by :func:`ccle.evaluation.thresholds.sensitive_direction` of ``response``."""
    if getattr(model, "oof_predictions_", None) is None:
        raise ValueError("the multitask model has no out-of-fold predictions (fit it; a loaded model has none)")
    direction = sensitive_direction(response)
    rules = []
    for j, t in enumerate(model.thresholds_):
        oof = model.oof_predictions_[:, j]
        rules.append((IQRThresholds(t.low_, t.high_, direction),
                      CalibratedThresholds(direction=direction).fit(oof[np.isfinite(oof)])))
    return rules


def file_metadata(model, response="ActArea"):
    """The metadata :func:`save_multitask` writes (module docstring, version 2) for a fitted model whose
    responses are ``response`` (e.g. "ActArea"; it gives the rules' direction)."""
    rules = call_rules(model, response)
    meta = {"format": FORMAT, "version": FORMAT_VERSION, "drugs": list(model.drugs_), "genes": list(model.genes_),
            "scaler": model.scaler_.to_dict(), "y_mean": [float(v) for v in model.y_mean_],
            "y_scale": [float(v) for v in model.y_scale_],
            "response": str(response), "direction": sensitive_direction(response),
            "thresholds": [paper.to_dict() for paper, _ in rules],
            "calibrated_thresholds": [cal.to_dict() for _, cal in rules],
            "oof_predictions": [[float(v) for v in np.sort(col[np.isfinite(col)])]
                                for col in np.asarray(model.oof_predictions_).T],
            "params": {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(model).items()
                       if not k.endswith("_")}}
    if getattr(model, "cell_lines_", None) is not None:
        meta["training_cell_lines"] = list(model.cell_lines_)
    return meta


def save_multitask(model, path, response="ActArea"):
    """Write a fitted (compressed) MultiTaskModel to one ``.nnz`` file -> bytes written; ``response`` names
    what Y held (the direction of the sensitivity rules). An uncompressed model has too many distinct weights
    for the format's codebook: fit it with ``compress=True``."""
    if not hasattr(model, "network_"):
        raise ValueError("the multitask model is not fitted")
    return save_compressed(model.network_, path, metadata=file_metadata(model, response))


def load_multitask(path):
    """Rebuild the model written by :func:`save_multitask`; it predicts bit for bit what the saved one did,
    from X with exactly the columns ``genes_`` (in that order). Also ``calibrated_thresholds_`` (per drug, None
    for a version 1 file), ``cell_lines_`` (the training lines, None when the file has none) and
    ``file_version_``. A file of another kind -> ValueError."""
    meta = read_metadata(path)
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: not a multitask model file (format {meta.get('format')!r})")
    if meta.get("version") not in SUPPORTED_VERSIONS:
        raise ValueError(f"{path}: multitask format version {meta.get('version')} is not supported")
    params = dict(meta["params"])
    params["hidden"] = tuple(params.get("hidden", ()))
    model = MultiTaskModel(**params)
    model.network_ = load_compressed(path)
    model.drugs_, model.genes_ = list(meta["drugs"]), list(meta["genes"])
    model.scaler_ = MinMaxScaler.from_dict(meta["scaler"])
    model.support_ = np.ones(len(model.genes_), dtype=bool)
    model.n_features_in_ = len(model.genes_)
    model.y_mean_ = np.asarray(meta["y_mean"], dtype=np.float64)
    model.y_scale_ = np.asarray(meta["y_scale"], dtype=np.float64)
    model.thresholds_ = [IQRThresholds.from_dict(t) for t in meta["thresholds"]]
    model.file_version_ = int(meta["version"])
    cal = meta.get("calibrated_thresholds")
    model.calibrated_thresholds_ = None if cal is None else [CalibratedThresholds.from_dict(t) for t in cal]
    lines = meta.get("training_cell_lines")
    model.cell_lines_ = None if lines is None else [str(c) for c in lines]
    return model
