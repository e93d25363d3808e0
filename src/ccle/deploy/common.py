"""What the per-drug and the multitask model files share: name lists for messages, the library versions a
file records, JSON-safe copies of training options, reading the expression to predict, and the description
lines of a network's dense layers."""
import json
import platform

import numpy as np

import nnlite
from ccle.data.expression import ExpressionMatrix
from ccle.data.loader import read_expression

SHOW = 20


def short_list(names, show=SHOW):
    """``"a, b, c, ... (n more)"``: at most ``show`` names."""
    names = list(names)
    text = ", ".join(map(str, names[:show]))
    return text + (f", ... ({len(names) - show} more)" if len(names) > show else "")


def versions():
    """The interpreter and library versions a model file records."""
    return {"python": platform.python_version(), "numpy": np.__version__, "nnlite": nnlite.__version__}


def jsonable(obj):
    """``obj`` with numpy values as lists and anything else unknown as its text: what JSON can hold."""
    return json.loads(json.dumps(obj, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))


def as_expression(expression, sample_info=None):
    """``expression`` itself when it is an :class:`ExpressionMatrix`, else the file it names, read."""
    if isinstance(expression, ExpressionMatrix):
        return expression
    return read_expression(expression, sample_info=sample_info)


def dense_layer_lines(net):
    """One description line per dense layer of a loaded runtime network: shape, activation, nonzero weights,
    weight clusters and index bits of its codec."""
    dense_entries = [e for e in net.layers if e["type"] == "Dense"]
    lines = []
    for i, ((W, _, act), entry) in enumerate(zip(net.steps, dense_entries)):
        c = entry["codec"]
        lines.append(f"  dense {i}: {W.shape[0]} x {W.shape[1]} {act:<8} {c['n_nonzero']:>7} nonzero "
                     f"({100.0 * c['n_nonzero'] / max(W.size, 1):.1f}%), {c['n_clusters']} clusters, "
                     f"{c['index_bits']}-bit gaps")
    return lines
