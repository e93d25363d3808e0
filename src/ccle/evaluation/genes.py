"""The genes behind each model: per-(drug, split) ranked gene lists and their stability over splits.

Per (drug, split), as [[gene, value], ...] lists ordered by |value| descending (fields of the result records):
- ``genes_rfe``: the genes RFE kept with the final linear SVR's weights on them (:func:`rfe_genes`);
- ``genes_enet``: the elastic net's non-zero coefficients (:func:`enet_genes`);
- ``genes_importance``: the top 100 of a network's permutation importance (:func:`permutation_importance`).

Why permutation importance and not gradient x input for the network: it is measured where the network was not
fitted (each committee network on its own held-out inner fold of the training rows), in the units of the loss
(increase of MSE when a gene's values are shuffled among those rows), and it needs no baseline input -- gradient
x input on min-max scaled genes measures the change from the *minimum* expression, a baseline with no biological
meaning, and only locally. The cost is one forward pass per gene and repeat, on ~1/4 of the training rows.
The benchmark and ``train`` use :func:`committee_permutation_importance`: the same measure with one repeat,
computed for all genes at once (the first layer is linear, so shuffling gene j changes its pre-activations by
``(x_perm - x)_j * W[j]``; only the layers after it are evaluated per gene, in large batches): ~0.1 s per PM
fit instead of ~3 s for :func:`committee_importance` with 3 repeats.

Per drug over splits (:func:`gene_stability`): selection frequency (fraction of splits whose list holds the gene;
RFE is known to be unstable), mean rank over the splits that selected it (1 = largest |value|), mean value and
sign agreement; :func:`ccle.report.write_genes_csv` writes them to ``genes.csv``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ccle.data.markers import load_markers

GENES_FILE = "genes.csv"
GENES_COLUMNS = ("drug", "source", "gene", "selection_frequency", "mean_rank", "n_splits", "n_selected",
                 "mean_value", "sign_agreement", "top20")
# record field -> the "source" of its rows in genes.csv
GENE_FIELDS = {"genes_rfe": "RFE", "genes_enet": "EN", "genes_importance": "PM", "genes_gain": "GB"}


def ranked(genes, values, keep=None, top=None):
    """[[gene, value], ...] ordered by |value| descending (ties by gene name), optionally only where ``keep``
    (bool, same length) and only the first ``top``."""
    genes = np.asarray(genes, dtype=object)
    values = np.asarray(values, dtype=np.float64).ravel()
    if genes.shape[0] != values.shape[0]:
        raise ValueError(f"{genes.shape[0]} gene names for {values.shape[0]} values")
    idx = np.arange(values.size) if keep is None else np.flatnonzero(np.asarray(keep, dtype=bool))
    order = sorted(idx, key=lambda i: (-abs(values[i]), str(genes[i])))
    if top is not None:
        order = order[:int(top)]
    return [[str(genes[i]), float(values[i])] for i in order]


def rfe_genes(gene_names, support, coef):
    """``genes_rfe``: the kept genes (``support`` bool over ``gene_names``) with the final SVR weights ``coef``
    (one per kept gene, in gene order; e.g. SVRModel: ``svr.selector_.support_``, ``svr.model_.coef_``)."""
    support = np.asarray(support, dtype=bool)
    kept = np.asarray(gene_names, dtype=object)[support]
    return ranked(kept, coef)


def enet_genes(gene_names, coef):
    """``genes_enet``: the elastic net's non-zero coefficients (``en.model_.coef_`` over all genes)."""
    coef = np.asarray(coef, dtype=np.float64).ravel()
    return ranked(gene_names, coef, keep=coef != 0)


def permutation_importance(predict, X, y, n_repeats=3, seed=0):
    """Mean increase of MSE (p,) when column j of X (n, p) is permuted among the rows, over ``n_repeats``
    seeded permutations: ``mean_r mse(y, predict(X with column j shuffled)) - mse(y, predict(X))``.
    ``predict`` maps (n, p) -> (n,). Use rows the model did not fit (held-out inner folds)."""
    X = np.array(X, copy=True)
    y = np.asarray(y, dtype=np.float64).ravel()
    rng = np.random.default_rng(seed)
    base = float(np.mean((np.asarray(predict(X), dtype=np.float64).ravel() - y) ** 2))
    out = np.zeros(X.shape[1])
    for j in range(X.shape[1]):
        col = X[:, j].copy()
        for _ in range(int(n_repeats)):
            X[:, j] = col[rng.permutation(col.size)]
            out[j] += float(np.mean((np.asarray(predict(X), dtype=np.float64).ravel() - y) ** 2)) - base
        X[:, j] = col
    return out / int(n_repeats)


def committee_importance(networks, Z, y, folds, n_repeats=3, seed=0):
    """Permutation importance (p,) of a committee: network f scored on its own held-out fold ``folds == f``
    of Z (n, p) / y (n,), weighted by the fold sizes. For PM: ``networks_``, ``selector_.transform(X_train)``,
    the standardized targets ``(y - y_mean_) / y_scale_`` and :func:`ccle.methods.oof.fold_ids` (n, cv, seed)."""
    return _fold_weighted(networks, Z, y, folds, lambda net, Zf, yf, s: permutation_importance(
        lambda A: net.predict(A), Zf, yf, n_repeats, s), seed)


def _fold_weighted(networks, Z, y, folds, importance_of, seed):
    """sum_f |fold f| importance_of(network f, Z[fold f], y[fold f], seed + f) / n -> (p,): each committee
    network scored on the fold it never fitted."""
    Z = np.asarray(Z)
    y = np.asarray(y, dtype=np.float64).ravel()
    folds = np.asarray(folds).ravel()
    total = np.zeros(Z.shape[1])
    for f, net in enumerate(networks):
        held = folds == f
        total += held.sum() * importance_of(net, Z[held], y[held], seed + f)
    return total / Z.shape[0]


IMPORTANCE_METHOD = "permutation (1 repeat, each committee network on its held-out inner fold)"


def network_permutation_importance(net, Z, y, seed=0, chunk=32):
    """:func:`permutation_importance` of ``net.predict`` with ``n_repeats=1`` and the same ``seed`` (the same
    permutations, equal up to float32 rounding), for a network whose first layer is a Dense ``x W + b``.

    Z (m, p), y (m,) -> (p,). Gene j's shuffled column changes the first pre-activations by the rank-one term
    ``(Z[perm_j, j] - Z[:, j]) outer W[j]``, so only the layers after the first run on the (chunk * m) rows of
    ``chunk`` genes at a time (dropout off)."""
    Z = np.asarray(Z)
    y = np.asarray(y, dtype=np.float64).ravel()
    first, rest = net.layers[0], net.layers[1:]
    W, b = first.params()["W"], first.params()["b"]
    Z = Z.astype(W.dtype)
    m, p = Z.shape
    rng = np.random.default_rng(seed)
    perms = np.array([rng.permutation(m) for _ in range(p)]).reshape(p, m)
    h0 = Z @ W + b

    def tail(h):
        for layer in rest:
            h = layer.forward(h, False)
        return np.asarray(h, dtype=np.float64).reshape(-1)

    base = float(np.mean((tail(h0) - y) ** 2))
    out = np.empty(p)
    for s in range(0, p, int(chunk)):
        J = np.arange(s, min(s + int(chunk), p))
        delta = Z[perms[J], J[:, None]] - Z[:, J].T                 # (|J|, m)
        h = h0[None, :, :] + delta[:, :, None] * W[J][:, None, :]   # (|J|, m, width)
        pred = tail(h.reshape(-1, h0.shape[1])).reshape(J.size, m)
        out[J] = np.mean((pred - y[None, :]) ** 2, axis=1) - base
    return out


def committee_permutation_importance(networks, Z, y, folds, seed=0):
    """:func:`committee_importance` with one repeat through :func:`network_permutation_importance` (network
    f on its held-out fold ``folds == f``, seed ``seed + f``, weighted by the fold sizes) -> (p,)."""
    return _fold_weighted(networks, Z, y, folds, network_permutation_importance, seed)


def importance_genes(gene_names, importance, top=100):
    """``genes_importance``: the ``top`` genes (None: all) by importance, largest first (signed: a negative
    permutation importance means shuffling the gene did not hurt, i.e. noise, so it ranks last)."""
    genes = np.asarray(gene_names, dtype=object)
    values = np.asarray(importance, dtype=np.float64).ravel()
    if genes.shape[0] != values.shape[0]:
        raise ValueError(f"{genes.shape[0]} gene names for {values.shape[0]} values")
    order = sorted(range(values.size), key=lambda i: (-values[i], str(genes[i])))
    if top is not None:
        order = order[:int(top)]
    return [[str(genes[i]), float(values[i])] for i in order]


def gene_stability(drug, source, lists, top=20):
    """Stability of one drug's gene lists over its splits -> DataFrame (:data:`GENES_COLUMNS`), ordered by
    selection frequency (desc), then mean rank (asc).

    ``lists``: one [[gene, value], ...] list per split (as :func:`ranked` returns; an empty list is a split that
    selected nothing). selection_frequency = n_selected / n_splits; mean_rank = mean of the gene's 1-based
    position over the splits that selected it; mean_value over those splits; sign_agreement = |mean sign| (1 =
    the same sign every time); top20 = True for the first ``top`` rows.
    """
    n_splits = len(lists)
    if n_splits == 0:
        raise ValueError("gene_stability needs the lists of at least one split")
    seen = {}
    for lst in lists:
        for rank, (gene, value) in enumerate(lst, start=1):
            seen.setdefault(str(gene), []).append((rank, float(value)))
    genes = list(seen)
    if not genes:   # every split selected nothing (an elastic net with no non-zero coefficient)
        df = pd.DataFrame([], columns=list(GENES_COLUMNS[:-1]))
        df["top20"] = df.index < int(top)
        return df
    n_hits = np.array([len(seen[g]) for g in genes], dtype=np.int64)
    mean_rank, mean_value, sign = (np.empty(len(genes)) for _ in range(3))
    # the genes selected in h splits together: a row-wise mean of an (n genes, h) C-contiguous array sums each row
    # as numpy sums one gene's h values alone, so the values are those of a per-gene mean (tens of thousands of
    # genes over a run's drugs, each a numpy call otherwise)
    for h in np.unique(n_hits):
        idx = np.flatnonzero(n_hits == h)
        hits = np.array([seen[genes[i]] for i in idx], dtype=np.float64)   # (genes, h, [rank, value])
        ranks, vals = np.ascontiguousarray(hits[:, :, 0]), np.ascontiguousarray(hits[:, :, 1])
        mean_rank[idx] = ranks.mean(axis=1)
        mean_value[idx] = vals.mean(axis=1)
        sign[idx] = np.abs(np.sign(vals).mean(axis=1))
    df = pd.DataFrame({"drug": [str(drug)] * len(genes), "source": [str(source)] * len(genes), "gene": genes,
                       "selection_frequency": n_hits / n_splits, "mean_rank": mean_rank, "n_splits": n_splits,
                       "n_selected": n_hits, "mean_value": mean_value, "sign_agreement": sign},
                      columns=list(GENES_COLUMNS[:-1]))
    df = df.sort_values(["selection_frequency", "mean_rank", "gene"], ascending=[False, True, True],
                        kind="mergesort").reset_index(drop=True)
    df["top20"] = df.index < int(top)
    return df


def stability_from_records(records, field, source, top=20):
    """:func:`gene_stability` of every drug from result records: ``field`` (``genes_rfe`` / ``genes_enet`` /
    ``genes_importance``) of the records that have it, one list per split -> one concatenated DataFrame."""
    by_drug = {}
    for r in records:
        if r.get(field) is not None:
            by_drug.setdefault(r["drug"], []).append(r[field])
    frames = [gene_stability(d, source, lists, top) for d, lists in sorted(by_drug.items())]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(GENES_COLUMNS))


def genes_table(records, markers=None, top=20):
    """``genes.csv`` of a benchmark run: :func:`stability_from_records` of every gene field present
    (:data:`GENE_FIELDS`: source "GB" = gradient boosting's split gain, "RFE" = SVR-RFE genes with the SVR
    weights, "EN" = elastic-net non-zero
    coefficients, "PM" = the network's permutation importance), plus ``rank`` (1-based position within its
    (drug, source), the order of :func:`gene_stability`), ``known_marker`` (the gene is in the cited marker table
    for that drug, :mod:`ccle.data.markers`) and ``marker_direction`` (its direction there, else empty)."""
    markers = load_markers() if markers is None else markers
    frames = [stability_from_records(records, field, source, top) for field, source in GENE_FIELDS.items()]
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=list(GENES_COLUMNS) + ["rank", "known_marker", "marker_direction"])
    df = pd.concat(frames, ignore_index=True)
    df["rank"] = df.groupby(["drug", "source"], sort=False).cumcount() + 1
    known = {(m.drug, m.gene): m.direction for m in markers.itertuples(index=False)}
    keys = list(zip(df["drug"], df["gene"]))
    df["known_marker"] = [k in known for k in keys]
    df["marker_direction"] = [known.get(k, "") for k in keys]
    return df
