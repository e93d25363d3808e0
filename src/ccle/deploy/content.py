"""What a model file holds for each kind of fitted per-drug estimator, and how a file's model predicts.

The kind is read from the fitted estimator's attributes, not from the method's name, so a plugin method
whose estimator has one of these shapes is written like a built-in one (:data:`KINDS`):

``committee``
    ``networks_`` (PM+: the compressed fold networks, their mean predicts) or ``network_`` (PM: one
    network), on the scaled genes of a :class:`ccle.methods.gene_selection.GeneSelector` (``selector_``
    with ``support_``), target standardized with ``y_mean_`` / ``y_scale_``. The networks are pruned and
    weight-shared, stored in the container's Huffman codec (:func:`nnlite.compress.fileformat.dumps_committee`).
``dense``
    ``model_.model_`` a network of plain float weights on the genes ``genes_`` (the simple ANN, target
    ``model_.y_mean_`` / ``model_.y_scale_``); its layers are float32 arrays (:func:`nnlite.runtime.array_model`).
``linear``
    ``model_.coef_`` / ``model_.intercept_`` (elastic net, linear SVR) on the scaled genes; genes with a zero
    coefficient are left out (they add nothing), coefficients are stored as float32.
``forest``
    ``model_.feature_`` ... (the random forest, :mod:`nnlite.forest` layout) on the scaled genes: the trees
    in preorder with the genes they split on only; a threshold t becomes the largest float32 <= t (every
    float32 input takes the same branch), leaf values are float32.
``constant``
    ``mean_``: one value, no input gene.

:func:`file_content` extracts a :class:`Content`; :func:`raw_output` is the model's output on the scaled
inputs Z of a read file (the committee mean, or the numpy runtime's array model), before the target scale.
"""
from dataclasses import dataclass, field

import numpy as np

from ccle.deploy.schema import MODEL_KINDS as KINDS
from ccle.errors import CCLEError
from ccle.evaluation.genes import IMPORTANCE_METHOD, committee_permutation_importance
from ccle.methods.estimators import committee_mean
from nnlite import runtime
from nnlite.compress.fileformat import MAX_CLUSTERS, encode_network

LINEAR_IMPORTANCE = "absolute coefficient on the min-max scaled gene"
FOREST_IMPORTANCE = "impurity decrease (forest)"
# a network whose layers hold more distinct weights than this is not weight-shared: stored as plain floats
_SHARED_MAX = 4096


@dataclass
class Content:
    """One fitted estimator as a model file holds it.

    ``kind`` (one of :data:`KINDS`); ``columns`` (k,) the model's inputs as indices into the transformed
    genes, in input order; ``networks`` / ``encoded`` the committee (Sequentials and their
    ``encode_network``; empty for the other kinds); ``model`` the ``metadata["model"]`` of an array kind
    (None for a committee); ``target_mean`` / ``target_scale`` (response = output * scale + mean);
    ``importance`` (k,) per input or None, ``importance_method``; ``details``: the fit's own facts (JSON).
    """
    kind: str
    columns: np.ndarray
    target_mean: float = 0.0
    target_scale: float = 1.0
    networks: list = field(default_factory=list)
    encoded: list = field(default_factory=list)
    model: dict = None
    importance: np.ndarray = None
    importance_method: str = None
    details: dict = field(default_factory=dict)


def floor_f32(t):
    """The largest float32 <= t, elementwise (float64 in, float32 out): ``x <= t`` equals ``x <= floor_f32(t)``
    for every float32 x."""
    t = np.asarray(t, dtype=np.float64)
    f = t.astype(np.float32)
    down = f.astype(np.float64) > t
    f[down] = np.nextafter(f[down], np.float32(-np.inf))
    return f


def _support(est):
    sel = getattr(est, "selector_", None)
    if sel is None:
        return None
    support = getattr(sel, "support_", None)
    if support is None:
        return np.arange(sel.scaler_.n_features_in_)
    return np.flatnonzero(support)


def _weight_shared(net):
    return all(np.unique(layer.W[layer.W != 0]).size <= min(_SHARED_MAX, MAX_CLUSTERS) for layer in net.dense_layers())


def _dense_state(net):
    layers = []
    for layer in net.layers:
        kind = type(layer).__name__
        if kind == "Dense":
            layers.append({"W": np.asarray(layer.W, dtype=np.float32), "b": np.asarray(layer.b, dtype=np.float32),
                           "activation": "Identity"})
        elif kind in ("ReLU", "Tanh", "Identity"):
            layers[-1]["activation"] = kind
    return {"kind": "dense", "n_in": int(layers[0]["W"].shape[0]), "layers": layers}


def _networks(est, X, y, seed):
    cols = _support(est)
    if hasattr(est, "networks_"):
        nets, details = list(est.networks_), {}
        choice = getattr(est, "compress_choice_", None)
        if choice:
            details["compress_choice"] = choice
    else:
        nets, details = [est.network_], {}
    mean, scale = float(est.y_mean_), float(est.y_scale_)
    importance = method = None
    if hasattr(est, "folds_"):
        Z = est.selector_.transform(X)
        importance = committee_permutation_importance(nets, Z, (np.asarray(y) - mean) / scale, est.folds_,
                                                      seed=int(seed))
        method = IMPORTANCE_METHOD
    if len(nets) == 1 and not _weight_shared(nets[0]):
        return Content("dense", cols, mean, scale, model=_dense_state(nets[0]), importance=importance,
                       importance_method=method, details=details)
    if not all(_weight_shared(n) for n in nets):
        raise CCLEError("a committee of networks that are not weight-shared cannot be written (compress it)")
    encoded = [enc if enc is not None else encode_network(net)
               for net, enc in zip(nets, getattr(est, "encoded_", None) or [None] * len(nets))]
    return Content("committee", cols, mean, scale, networks=nets, encoded=encoded, importance=importance,
                   importance_method=method, details=details)


def _linear(est):
    cols = _support(est)
    coef = np.asarray(est.model_.coef_, dtype=np.float64).ravel()
    keep = np.flatnonzero(coef != 0.0)
    coef32 = coef[keep].astype(np.float32)
    state = {"kind": "linear", "n_in": int(keep.size), "coef": coef32, "intercept": float(est.model_.intercept_)}
    details = {}
    for k in ("alpha_", "l1_ratio_"):
        if hasattr(est.model_, k):
            details[k.rstrip("_")] = float(getattr(est.model_, k))
    details["n_genes_nonzero"] = int(keep.size)
    return Content("linear", cols[keep], model=state, importance=np.abs(coef32),
                   importance_method=LINEAR_IMPORTANCE, details=details)


def forest_state(feature, threshold, left, right, value, n_in):
    """Padded tree tables (T, K) of :mod:`nnlite.forest` -> (``metadata["model"]`` of the forest kind, the
    inputs it splits on (sorted, indices into the ``n_in`` inputs)): preorder nodes, inputs renumbered."""
    feature, left, right = (np.asarray(a, dtype=np.int64) for a in (feature, left, right))
    threshold, value = np.asarray(threshold, dtype=np.float64), np.asarray(value, dtype=np.float64)
    used = np.unique(feature[feature >= 0])
    renumber = np.full(int(n_in), -1, dtype=np.int64)
    renumber[used] = np.arange(used.size)
    n_nodes, feats, splits, rights = [], [], [], []
    for t in range(feature.shape[0]):
        order, stack = [], [0]
        while stack:
            node = stack.pop()
            order.append(node)
            if feature[t, node] >= 0:
                stack.extend((right[t, node], left[t, node]))    # left popped first: it follows its parent
        position = {node: i for i, node in enumerate(order)}
        for node in order:
            f = feature[t, node]
            if f >= 0:
                feats.append(renumber[f])
                splits.append(floor_f32(threshold[t, node]))
                rights.append(position[right[t, node]])
            else:
                feats.append(-1)
                splits.append(np.float32(value[t, node]))
        n_nodes.append(len(order))
    state = {"kind": "forest", "n_in": int(used.size), "n_nodes": np.asarray(n_nodes, dtype=np.int64),
             "feature": np.asarray(feats, dtype=np.int64), "split": np.asarray(splits, dtype=np.float32),
             "right": np.asarray(rights, dtype=np.int64)}
    return state, used


def _forest(est):
    cols = _support(est)
    m = est.model_
    state, used = forest_state(m.feature_, m.threshold_, m.left_, m.right_, m.value_, m.n_features_in_)
    importance = np.asarray(m.feature_importances_, dtype=np.float32)[used]
    return Content("forest", cols[used], model=state, importance=importance, importance_method=FOREST_IMPORTANCE,
                   details={"n_trees": int(len(state["n_nodes"])), "n_nodes": int(state["feature"].size)})


def file_content(est, X, y, seed=0, method="?"):
    """The :class:`Content` of the fitted per-drug estimator ``est`` (fitted on ``X`` (n, genes), the
    transformed matrix, and ``y``); ``method`` names it in the error for an estimator of no known kind."""
    if hasattr(est, "networks_") or (hasattr(est, "network_") and hasattr(est, "y_mean_")):
        return _networks(est, X, y, seed)
    inner = getattr(est, "model_", None)
    if inner is not None and hasattr(inner, "model_") and hasattr(est, "genes_"):
        state = _dense_state(inner.model_)
        cols = _support(est)[np.asarray(est.genes_, dtype=np.intp)]
        return Content("dense", cols, float(inner.y_mean_), float(inner.y_scale_), model=state)
    if inner is not None and hasattr(inner, "coef_"):
        return _linear(est)
    if inner is not None and hasattr(inner, "feature_") and hasattr(inner, "value_"):
        return _forest(est)
    if hasattr(est, "mean_"):
        return Content("constant", np.zeros(0, dtype=np.intp),
                       model={"kind": "constant", "n_in": 0, "value": float(est.mean_)})
    raise CCLEError(f"method {method}: its fitted estimator ({type(est).__name__}) is none of the kinds a model "
                    f"file holds ({', '.join(KINDS)})")


def raw_output(meta, networks, Z):
    """The model's output (n,) float64 on the scaled inputs ``Z`` (n, k), before the target's scale: the
    committee mean of ``networks`` when the file has networks, else its array model (``meta["model"]``)."""
    if networks:
        return committee_mean(networks, Z)
    return np.asarray(runtime.array_model(meta["model"], Z.shape[1]).predict(Z), dtype=np.float64)
