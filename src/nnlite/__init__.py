"""nnlite: a from-scratch NumPy/Numba numerical toolkit.

Public names are resolved lazily (PEP 562), so that ``import nnlite.runtime`` stays numpy-only
and a command pays the Numba import and compile time only for what it uses.
The table below is the one place that says which module defines which public name.
"""
from importlib import import_module

__version__ = "0.1.0"

_EXPORTS = {
    # the network engine
    "Dense": "nnlite.layers",
    "Layer": "nnlite.layers",
    "Tanh": "nnlite.activations",
    "ReLU": "nnlite.activations",
    "Identity": "nnlite.activations",
    "Dropout": "nnlite.layers",
    "MSELoss": "nnlite.losses",
    "Adam": "nnlite.optim",
    "SGD": "nnlite.optim",
    "Sequential": "nnlite.model",
    "paper_network": "nnlite.networks",
    "simple_ann_network": "nnlite.networks",
    "NetworkRegressor": "nnlite.ann",
    "SimpleANNRegressor": "nnlite.ann",
    # linear estimators and feature selection
    "LinearSVR": "nnlite.linear.svr",
    "ElasticNet": "nnlite.linear.enet",
    "ElasticNetCV": "nnlite.linear.enet",
    "enet_path": "nnlite.linear.enet",
    "RFE": "nnlite.selection",
    "nnls": "nnlite.linear.nnls",
    # trees and simple baselines
    "DecisionTreeRegressor": "nnlite.tree",
    "RandomForestRegressor": "nnlite.forest",
    "HistGradientBoostingRegressor": "nnlite.gbm",
    "MeanRegressor": "nnlite.baselines",
    # stacking
    "NonNegativeStacker": "nnlite.stacking",
    "cross_fit_predict": "nnlite.stacking",
    # compression (Han et al., Deep Compression)
    "prune_model": "nnlite.compress.prune",
    "quantize_model": "nnlite.compress.quantize",
    "kmeans_1d": "nnlite.compress.quantize",
    "HuffmanCode": "nnlite.compress.huffman",
    "save_compressed": "nnlite.compress.fileformat",
    "load_compressed": "nnlite.compress.fileformat",
    "compress_model": "nnlite.compress.pipeline",
    "read_metadata": "nnlite.compress.fileformat",
    "iterative_prune": "nnlite.compress.prune",
    "finetune_centroids": "nnlite.compress.quantize",
    "quantize_layer": "nnlite.compress.quantize",
    "GapCSR": "nnlite.compress.sparse",
    "CompressionReport": "nnlite.compress.report",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'nnlite' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
