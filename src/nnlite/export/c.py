"""Dependency-free C99 export of a :class:`~nnlite.export.model.ModelDescription`.

:func:`export_c` writes ``DIR/NAME.h``, ``DIR/NAME.c`` and ``DIR/genes.txt`` (the input order, one gene a
line). The code needs a C99 compiler and libm (``log2f``, ``tanhf``) at most, allocates nothing (static const
data, working arrays on the stack: ``NAME_STACK_BYTES``), and every external symbol and macro starts with
``NAME_``, so several models link into one program. The header declares::

    int NAME_predict(const float *expression, float *response, int *call);
    int NAME_predict_full(const float *expression, float *response, int *call,
                          float *lower, float *upper, float *domain);     /* interval or training range */

``expression`` holds ``NAME_N_GENES`` raw values in the order of genes.txt. The return value is 0, or
``NAME_ERR_NONFINITE`` (a NaN or infinite input), ``NAME_ERR_NEGATIVE`` (a negative input to a model
trained on log2(x + 1) values) or ``NAME_ERR_OVERFLOW`` (the response is not finite); the outputs are then
left untouched. Any output pointer may be NULL. ``call`` is 0 resistant, 1 moderate, 2 sensitive, or -1 for
a model without call thresholds; ``lower`` / ``upper`` (NaN without an interval) bound the response;
``domain`` is the share of genes outside their training range (NaN without one).

Storage of each model kind:

* committee of dense networks: a pruned, weight-shared layer stays compressed. Its nonzero weights, in
  row-major order, are one bit-packed stream of fixed-width entries ``gap | cluster << b`` (LSB first): the
  gap code of :mod:`nnlite.compress.sparse` (b bits; M = 2**b - 1 is a filler step of M without a weight,
  else a step of code + 1 to the next weight) and the weight's index into the layer's codebook of shared
  float values (c = ceil(log2 k) bits). The forward pass walks the stream once per layer and adds
  ``x[i] * codebook[cluster]`` to output j; no weight matrix exists in flash or RAM. b is the width that
  makes the stream smallest. A layer whose stream would not be smaller than its dense float matrix (one not
  weight-shared) is stored dense instead.
* linear model: float coefficients (with their input indices when at most half are nonzero), summed in double.
* forest: per node a feature (int16/int32), a float threshold, left and right child (a leaf's left holds
  the index of its double value); only nodes reachable from the roots are kept. A float32 input x satisfies
  ``x <= t`` for a double threshold t exactly when ``x <= t32``, t32 the largest float <= t, so the float
  thresholds take the same branches and the leaf values are the same doubles: the prediction is the
  numpy value rounded to float.
* constant: one double.

The generated code follows :meth:`ModelDescription.predict` operation by operation in the same float
types; networks differ only by the summation order of the dot products (float32 rounding).
"""
import re
from pathlib import Path

import numpy as np

from nnlite.compress.sparse import encode_gaps
from nnlite.export.model import ModelDescription

_C_KEYWORDS = {"auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum",
               "extern", "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return",
               "short", "signed", "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void",
               "volatile", "while", "_Bool", "_Complex", "_Imaginary"}
_INTERNAL = "nnlx_"          # file-static helpers of every generated .c
MAX_ENTRY_BITS = 25          # the bit reader loads 4 bytes: an entry plus its bit offset must fit 32 bits
_ACT_CODES = {"identity": 0, "relu": 1, "tanh": 2}


def check_name(name):
    """``name`` when it is a C identifier usable as the prefix of every exported symbol, else ValueError."""
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
        raise ValueError(f"model name {name!r} must be a C identifier (a letter, then letters, digits, _)")
    if name in _C_KEYWORDS or name.lower().startswith(_INTERNAL):
        raise ValueError(f"model name {name!r} is reserved")
    return name


# ---------------------------------------------------------------------------------------------- literals
def _f32(v):
    """A C float literal that converts back to exactly np.float32(v)."""
    text = f"{float(np.float32(v)):.9g}"
    return (text if any(ch in text for ch in ".en") else text + ".0") + "f"


def _f64(v):
    text = repr(float(v))
    return text if any(ch in text for ch in ".en") else text + ".0"


def _array(ctype, name, values, fmt, per_line=8):
    values = list(values)
    if not values:
        values = [0]          # C forbids empty arrays; the length is never read past the real count
        fmt = (lambda _: "0") if ctype not in ("float", "double") else (lambda _: "0.0")
    rows = [", ".join(fmt(v) for v in values[i:i + per_line]) for i in range(0, len(values), per_line)]
    return f"static const {ctype} {name}[{len(values)}] = {{\n    " + ",\n    ".join(rows) + "\n};\n"


def _floor_f32(t):
    """Largest float32 <= t (float64): ``x <= t`` equals ``x <= floor_f32(t)`` for every float32 x."""
    t = np.asarray(t, dtype=np.float64)
    f = t.astype(np.float32)
    down = f.astype(np.float64) > t
    f[down] = np.nextafter(f[down], np.float32(-np.inf))
    return f


def _ceil_f32(t):
    """Smallest float32 >= t: ``x < t`` equals ``x < ceil_f32(t)`` for every float32 x."""
    return -_floor_f32(-np.asarray(t, dtype=np.float64))


def _int_type(lo, hi):
    for ctype, a, b in (("signed char", -128, 127), ("short", -32768, 32767)):
        if lo >= a and hi <= b:
            return ctype
    return "long"


def _uint_type(hi):
    for ctype, b in (("unsigned char", 255), ("unsigned short", 65535)):
        if hi <= b:
            return ctype
    return "unsigned long"


# ---------------------------------------------------------------------------------------------- layers
def pack_bits(values, width):
    """Fixed-width unsigned ``values`` (n,) packed LSB first -> bytes, plus 3 zero bytes for the reader's
    4-byte loads."""
    values = np.asarray(values, dtype=np.uint64)
    if values.size == 0:
        return b"\0\0\0"
    bits = ((values[:, None] >> np.arange(width, dtype=np.uint64)) & np.uint64(1)).astype(np.uint8).ravel()
    return np.packbits(bits, bitorder="little").tobytes() + b"\0\0\0"


def encode_layer(W):
    """The compressed form of one weight matrix (n_in, n_out) -> dict: ``codebook`` float32 (k,),
    ``gap_bits`` b, ``index_bits`` c, ``n_entries`` m, ``stream`` (bytes of the m packed entries) -- or
    ``{"dense": W float32}`` when the stream plus codebook would not be smaller than the matrix."""
    W = np.asarray(W, dtype=np.float32)
    flat = W.ravel()
    positions = np.flatnonzero(flat)
    codebook, clusters = np.unique(flat[positions], return_inverse=True)
    k = codebook.size
    c = int(k - 1).bit_length() if k > 1 else 0
    dense = {"dense": W}
    if c > 16:
        return dense
    best = None
    for b in range(1, MAX_ENTRY_BITS - c + 1):
        gaps = encode_gaps(positions, b)
        bits = gaps.size * (b + c)
        if best is None or bits < best[0]:
            best = (bits, b, gaps)
    bits, b, gaps = best
    if (bits + 7) // 8 + 4 * k >= 4 * W.size:
        return dense
    M = (1 << b) - 1
    cl = np.zeros(gaps.size, dtype=np.uint64)
    cl[gaps != M] = clusters
    entries = gaps.astype(np.uint64) | (cl << np.uint64(b))
    return {"codebook": codebook, "gap_bits": b, "index_bits": c, "n_entries": int(gaps.size),
            "stream": pack_bits(entries, b + c)}


# ---------------------------------------------------------------------------------------------- code
_BIT_READER = """\
/* w (<= 25) bits of the LSB-first stream s from bit pos */
static unsigned long nnlx_bits(const unsigned char *s, unsigned long pos, unsigned w)
{
    const unsigned char *p = s + (pos >> 3);
    unsigned long v = (unsigned long)p[0] | (unsigned long)p[1] << 8 | (unsigned long)p[2] << 16
                      | (unsigned long)p[3] << 24;
    return (v >> (pos & 7u)) & ((1ul << w) - 1ul);
}
"""

_LAYER_TYPE = """\
typedef struct {
    unsigned long n_in, n_out, n_entries;
    unsigned gap_bits, index_bits, act;   /* act: 0 identity, 1 ReLU, 2 tanh */
    const float *codebook;                /* shared weights of a packed layer */
    const unsigned char *stream;          /* n_entries packed entries gap | cluster << gap_bits */
    const float *dense;                   /* n_in x n_out row-major, for a dense layer */
    const float *bias;
} nnlx_layer;
"""

_PACKED_PRODUCT = """\
/* z += x W of a packed layer: one pass over its entries */
static void nnlx_packed(const nnlx_layer *L, const float *x, float *z)
{
    const unsigned long M = (1ul << L->gap_bits) - 1ul;
    const unsigned w = L->gap_bits + L->index_bits;
    unsigned long e, pos = 0, row = 0, col = 0;   /* (row, col) of the flat position after the last one */
    for (e = 0; e < L->n_entries; ++e, pos += w) {
        const unsigned long v = nnlx_bits(L->stream, pos, w);
        const unsigned long code = v & M;
        col += code == M ? M - 1ul : code;
        while (col >= L->n_out) {
            col -= L->n_out;
            ++row;
        }
        if (code != M)
            z[col] += x[row] * L->codebook[v >> L->gap_bits];
        ++col;
    }
}
"""

_DENSE_PRODUCT = """\
/* z += x W of a dense layer */
static void nnlx_full(const nnlx_layer *L, const float *x, float *z)
{
    unsigned long i, j;
    for (i = 0; i < L->n_in; ++i) {
        const float xi = x[i];
        const float *w = L->dense + i * L->n_out;
        for (j = 0; j < L->n_out; ++j)
            z[j] += xi * w[j];
    }
}
"""

_LAYER_STEP = """\
/* z = act(x W + b) */
static void nnlx_dense(const nnlx_layer *L, const float *x, float *z)
{
    unsigned long j;
    for (j = 0; j < L->n_out; ++j)
        z[j] = 0.0f;
    PRODUCT
    for (j = 0; j < L->n_out; ++j) {
        float t = z[j] + L->bias[j];
        if (L->act == 1u)
            t = t > 0.0f ? t : 0.0f;
        else if (L->act == 2u)
            t = tanhf(t);
        z[j] = t;
    }
}
"""


def _committee_code(model):
    parts, layers, starts, max_width = [], [], [0], 1
    stats = {"layers": []}
    for k, net in enumerate(model.networks):
        for i, layer in enumerate(net):
            enc = encode_layer(layer.W)
            tag = f"{_INTERNAL}n{k}l{i}"
            n_in, n_out = layer.W.shape
            max_width = max(max_width, n_out)
            parts.append(_array("float", f"{tag}_b", layer.b.astype(np.float32), _f32))
            if "dense" in enc:
                parts.append(_array("float", f"{tag}_w", enc["dense"].ravel(), _f32))
                layers.append(f"{{{n_in}ul, {n_out}ul, 0ul, 0u, 0u, {_ACT_CODES[layer.activation]}u, NULL, NULL, "
                              f"{tag}_w, {tag}_b}}")
                stats["layers"].append({"storage": "dense", "bytes": 4 * layer.W.size + 4 * n_out})
            else:
                parts.append(_array("float", f"{tag}_cb", enc["codebook"], _f32))
                parts.append(_array("unsigned char", f"{tag}_s", enc["stream"], lambda v: f"0x{v:02x}", 16))
                layers.append(f"{{{n_in}ul, {n_out}ul, {enc['n_entries']}ul, {enc['gap_bits']}u, "
                              f"{enc['index_bits']}u, {_ACT_CODES[layer.activation]}u, {tag}_cb, {tag}_s, NULL, "
                              f"{tag}_b}}")
                stats["layers"].append({"storage": "packed", "gap_bits": enc["gap_bits"],
                                        "index_bits": enc["index_bits"], "n_entries": enc["n_entries"],
                                        "n_clusters": int(enc["codebook"].size),
                                        "bytes": len(enc["stream"]) + 4 * enc["codebook"].size + 4 * n_out})
        starts.append(len(layers))
    K = len(model.networks)
    parts.append(f"static const nnlx_layer {_INTERNAL}layers[{len(layers)}] = {{\n    "
                 + ",\n    ".join(layers) + "\n};\n")
    parts.append(_array("unsigned", f"{_INTERNAL}net_start", starts, str))
    parts.append(f"""\
#define NNLX_MAX_WIDTH {max_width}

/* mean of the networks' outputs */
static double {_INTERNAL}model(const float *x)
{{
    float a[NNLX_MAX_WIDTH], b[NNLX_MAX_WIDTH];
    double sum = 0.0;
    unsigned k, l;
    for (k = 0; k < {K}u; ++k) {{
        const float *in = x;
        float *out = a;
        for (l = {_INTERNAL}net_start[k]; l < {_INTERNAL}net_start[k + 1]; ++l) {{
            {_INTERNAL}dense(&{_INTERNAL}layers[l], in, out);
            in = out;
            out = out == a ? b : a;
        }}
        sum += (double)in[0];
    }}
    return sum / {K}.0;
}}
""")
    storage = {s["storage"] for s in stats["layers"]}
    code = _LAYER_TYPE
    if "packed" in storage:
        code += _BIT_READER + _PACKED_PRODUCT
    if "dense" in storage:
        code += _DENSE_PRODUCT
    product = {"packed": "nnlx_packed(L, x, z);", "dense": "nnlx_full(L, x, z);"}
    code += _LAYER_STEP.replace("PRODUCT", product[storage.pop()] if len(storage) == 1 else
                                "if (L->dense != NULL)\n        nnlx_full(L, x, z);\n    else\n"
                                "        nnlx_packed(L, x, z);")
    stats["stack_bytes"] = 2 * 4 * max_width
    return code + "\n" + "\n".join(parts), stats


def _linear_code(model):
    coef = model.coef
    nz = np.flatnonzero(coef)
    sparse = nz.size <= coef.size // 2
    if sparse:
        idx_type = _uint_type(max(coef.size - 1, 0))
        data = (_array(idx_type, f"{_INTERNAL}idx", nz, str, 12)
                + _array("float", f"{_INTERNAL}coef", coef[nz].astype(np.float32), _f32))
        loop = (f"    for (i = 0; i < {nz.size}u; ++i)\n"
                f"        sum += (double){_INTERNAL}coef[i] * (double)x[{_INTERNAL}idx[i]];\n")
        bytes_ = nz.size * (4 + {"unsigned char": 1, "unsigned short": 2}.get(idx_type, 4))
    else:
        data = _array("float", f"{_INTERNAL}coef", coef.astype(np.float32), _f32)
        loop = (f"    for (i = 0; i < {coef.size}u; ++i)\n"
                f"        sum += (double){_INTERNAL}coef[i] * (double)x[i];\n")
        bytes_ = 4 * coef.size
    code = data + f"""
/* z . coef + intercept, summed in double */
static double {_INTERNAL}model(const float *x)
{{
    double sum = {_f64(model.intercept)};
    unsigned long i;
{loop}    return sum;
}}
"""
    return code, {"storage": "sparse" if sparse else "dense", "n_nonzero": int(nz.size), "bytes": bytes_}


def _forest_code(model):
    feats, thrs, lefts, rights, leaves, roots = [], [], [], [], [], []
    T = model.feature.shape[0]
    for t in range(T):
        # breadth-first renumbering of the nodes reachable from the root (padding and dead nodes dropped)
        order, index = [0], {0: 0}
        q = 0
        while q < len(order):
            node = order[q]
            q += 1
            if model.feature[t, node] >= 0:
                for child in (model.left[t, node], model.right[t, node]):
                    if child in index:
                        raise ValueError(f"tree {t} is not a tree (node {child} reached twice)")
                    index[int(child)] = len(order)
                    order.append(int(child))
        base = len(feats)
        roots.append(base)
        for node in order:
            f = int(model.feature[t, node])
            feats.append(f)
            if f >= 0:
                thrs.append(model.threshold[t, node])
                lefts.append(base + index[int(model.left[t, node])])
                rights.append(base + index[int(model.right[t, node])])
            else:
                thrs.append(0.0)
                lefts.append(len(leaves))
                rights.append(0)
                leaves.append(model.value[t, node])
    feat_type = _int_type(-1, max(feats))
    child_type = _uint_type(max(max(lefts), max(rights), len(leaves)))
    code = (_array(feat_type, f"{_INTERNAL}feat", feats, str, 16)
            + _array("float", f"{_INTERNAL}thr", _floor_f32(thrs), _f32)
            + _array(child_type, f"{_INTERNAL}left", lefts, str, 12)
            + _array(child_type, f"{_INTERNAL}right", rights, str, 12)
            + _array("double", f"{_INTERNAL}leaf", leaves, _f64, 4)
            + _array(_uint_type(max(roots)), f"{_INTERNAL}root", roots, str, 12))
    code += f"""
/* mean over the trees of the leaf each input reaches (x[feature] <= threshold: left) */
static double {_INTERNAL}model(const float *x)
{{
    double sum = 0.0;
    unsigned t;
    for (t = 0; t < {T}u; ++t) {{
        unsigned long n = {_INTERNAL}root[t];
        while ({_INTERNAL}feat[n] >= 0)
            n = x[{_INTERNAL}feat[n]] <= {_INTERNAL}thr[n] ? {_INTERNAL}left[n] : {_INTERNAL}right[n];
        sum += {_INTERNAL}leaf[{_INTERNAL}left[n]];
    }}
    return sum / {T}.0;
}}
"""
    sizes = {"signed char": 1, "short": 2, "long": 4, "unsigned char": 1, "unsigned short": 2, "unsigned long": 4}
    n = len(feats)
    return code, {"n_trees": T, "n_nodes": n, "n_leaves": len(leaves),
                  "bytes": n * (sizes[feat_type] + 4 + 2 * sizes[child_type]) + 8 * len(leaves)}


def _constant_code(model):
    return f"""
static double {_INTERNAL}model(const float *x)
{{
    (void)x;
    return {_f64(model.value)};
}}
""", {"bytes": 8}


_MODEL_CODE = {"committee": _committee_code, "linear": _linear_code, "forest": _forest_code,
               "constant": _constant_code}


def _info_comment(desc):
    lines = [f" * {k}: {v}" for k, v in desc.info.items() if "*/" not in f"{k}{v}" and "\n" not in f"{k}{v}"]
    return "\n".join(lines) + ("\n" if lines else "")


def c_sources(desc, name):
    """The text of ``NAME.h`` and ``NAME.c`` for ``desc`` -> (header, source, stats): ``stats`` describes
    the storage chosen (per layer for committees) and ``stack_bytes``."""
    if not isinstance(desc, ModelDescription):
        raise TypeError(f"desc must be a ModelDescription, got {type(desc).__name__}")
    name = check_name(name)
    N = name.upper()
    pre = desc.preprocessing
    p = pre.n_genes
    full = desc.interval is not None or desc.has_domain
    model_code, stats = _MODEL_CODE[desc.kind](desc.model)
    stats = {"kind": desc.kind, **stats}
    stats["stack_bytes"] = 4 * p + stats.get("stack_bytes", 0)

    full_decl = (f"""
/* NAME_predict and, besides, the interval lower / upper bounds of the response (NaN without an interval) and
 * the share of genes outside their training range (NaN without one). */
int {name}_predict_full(const float *expression, float *response, int *call, float *lower, float *upper,
                        float *domain);
""" if full else "")
    header = f"""/* {name}: exported drug-response model ({desc.kind}), generated by nnlite.export.c.
{_info_comment(desc)} *
 * {name}_predict(expression, response, call): expression holds {N}_N_GENES raw values in the order of
 * genes.txt; response receives the predicted response, call 0 resistant, 1 moderate, 2 sensitive (-1: the
 * model has no call thresholds). Returns 0, or a {N}_ERR_* code (outputs untouched). Outputs may be NULL.
 * C99, no dynamic allocation; {N}_STACK_BYTES of stack.
 */
#ifndef {N}_H
#define {N}_H

#ifdef __cplusplus
extern "C" {{
#endif

#define {N}_N_GENES {p}
#define {N}_STACK_BYTES {stats['stack_bytes']}
#define {N}_HAS_CALLS {int(desc.calls is not None)}
#define {N}_HAS_INTERVAL {int(desc.interval is not None)}
#define {N}_HAS_DOMAIN {int(desc.has_domain)}
#define {N}_ERR_NONFINITE 1   /* an input is NaN or infinite */
#define {N}_ERR_NEGATIVE 2    /* a negative input, but the model takes log2(x + 1) */
#define {N}_ERR_OVERFLOW 3    /* the response is not finite */

int {name}_predict(const float *expression, float *response, int *call);
{full_decl}
#ifdef __cplusplus
}}
#endif

#endif
"""
    pre_data = (_array("float", f"{_INTERNAL}scale", pre.scale.astype(np.float32), _f32)
                + _array("float", f"{_INTERNAL}offset", pre.offset.astype(np.float32), _f32)) if p else ""
    domain_check = ""
    if desc.has_domain:
        pre_data += (_array("float", f"{_INTERNAL}tmin", _ceil_f32(pre.train_min), _f32)
                     + _array("float", f"{_INTERNAL}tmax", _floor_f32(pre.train_max), _f32))
        domain_check = (f"        if (t < {_INTERNAL}tmin[i] || t > {_INTERNAL}tmax[i])\n"
                        f"            ++outside;\n")
    log2 = ""
    if pre.log2p1:
        log2 = (f"        if (t < 0.0f)\n            return {N}_ERR_NEGATIVE;\n"
                f"        t = log2f(t + 1.0f);\n")
    clip = ""
    if pre.clip is not None:
        lo, hi = _f32(pre.clip[0]), _f32(pre.clip[1])
        clip = f"        z[i] = z[i] < {lo} ? {lo} : (z[i] > {hi} ? {hi} : z[i]);\n"
    if desc.calls is not None:
        c = desc.calls
        gt, lt = (">", "<") if c.strict else (">=", "<=")
        hi_test, lo_test = f"r {gt} {_f64(c.high)}", f"r {lt} {_f64(c.low)}"
        sens, res = (hi_test, lo_test) if c.direction == 1 else (lo_test, hi_test)
        call_code = f"        *call = ({res}) ? 0 : (({sens}) ? 2 : 1);\n"
    else:
        call_code = "        *call = -1;\n"
    if desc.interval is not None:
        lo_code = f"(float)(r + {_f64(desc.interval[0])})"
        hi_code = f"(float)(r + {_f64(desc.interval[1])})"
    else:
        lo_code = hi_code = "(float)NAN"
    dom_code = f"(float)outside / {p}.0f" if desc.has_domain else "(float)NAN"
    outside_decl = "    unsigned long outside = 0;\n" if desc.has_domain else ""
    if p:
        inputs = f"""    float z[{N}_N_GENES];
    double r;
    unsigned long i;
{outside_decl}    for (i = 0; i < {N}_N_GENES; ++i) {{
        float t = expression[i];
        if (!isfinite(t))
            return {N}_ERR_NONFINITE;
{log2}{domain_check}        z[i] = t * {_INTERNAL}scale[i] + {_INTERNAL}offset[i];
{clip}    }}
"""
    else:       # a constant model reads no input
        inputs = "    const float *z = expression;\n    double r;\n"
    public = f"""
static int {_INTERNAL}predict(const float *expression, float *response, int *call, float *lower, float *upper,
                         float *domain)
{{
{inputs}    r = {_INTERNAL}model(z) * {_f64(desc.target_scale)} + {_f64(desc.target_mean)};
    if (!isfinite(r))
        return {N}_ERR_OVERFLOW;
    if (response != NULL)
        *response = (float)r;
    if (call != NULL)
{call_code}    if (lower != NULL)
        *lower = {lo_code};
    if (upper != NULL)
        *upper = {hi_code};
    if (domain != NULL)
        *domain = {dom_code};
    return 0;
}}

int {name}_predict(const float *expression, float *response, int *call)
{{
    return {_INTERNAL}predict(expression, response, call, NULL, NULL, NULL);
}}
"""
    if full:
        public += f"""
int {name}_predict_full(const float *expression, float *response, int *call, float *lower, float *upper,
                        float *domain)
{{
    return {_INTERNAL}predict(expression, response, call, lower, upper, domain);
}}
"""
    source = f"""/* {name}: exported drug-response model ({desc.kind}), generated by nnlite.export.c; see {name}.h.
{_info_comment(desc)} */
#include <math.h>
#include <stddef.h>
#include "{name}.h"

{pre_data}
{model_code}{public}"""
    return header, source, stats


def export_c(desc, directory, name, genes_file="genes.txt"):
    """Write ``directory/name.h``, ``directory/name.c`` and ``directory/genes_file`` (the input genes, one a
    line, in the order ``name_predict`` reads them) for the :class:`~nnlite.export.model.ModelDescription`
    ``desc`` (module docstring) -> dict: ``header``, ``source``, ``genes`` (paths) and ``stats`` (storage
    chosen per part, bytes of model data, ``stack_bytes``)."""
    header, source, stats = c_sources(desc, name)
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"header": out / f"{name}.h", "source": out / f"{name}.c", "genes": out / genes_file}
    paths["header"].write_text(header)
    paths["source"].write_text(source)
    paths["genes"].write_text("\n".join(desc.preprocessing.genes) + "\n")
    return {**paths, "stats": stats}


def driver_source(models):
    """A C99 test program for exported models: ``models`` maps each name to its ModelDescription. It reads
    the number of rows n, then n rows of as many values as the widest model takes (``strtod`` syntax, ``nan``
    and ``inf`` included; a model reads the first of them), and prints per row and model ``rc response call
    lower upper domain`` (``%.9g``; lower, upper and domain NaN for a model without NAME_predict_full). With
    an argument R, it instead times R passes over the rows per model and prints ``name nanoseconds`` per
    prediction."""
    width = max(1, max(d.preprocessing.n_genes for d in models.values()))
    includes = "".join(f'#include "{n}.h"\n' for n in models)
    calls = ""
    for n, d in models.items():
        if d.interval is not None or d.has_domain:
            call = f"{n}_predict_full(x + row * {width}, &r, &call, &lo, &hi, &dom)"
        else:
            call = f"{n}_predict(x + row * {width}, &r, &call)"
        calls += f"""
        {{
            float r = 0.0f, lo = (float)NAN, hi = (float)NAN, dom = (float)NAN;
            int call = -9;
            int rc = {call};
            printf("%d %.9g %d %.9g %.9g %.9g\\n", rc, r, call, lo, hi, dom);
        }}"""
    timed = "".join(f"""
        {{
            clock_t t0 = clock();
            for (rep = 0; rep < reps; ++rep)
                for (row = 0; row < n; ++row) {{
                    float r = 0.0f;
                    int call = 0;
                    sink += {n}_predict(x + row * {width}, &r, &call) + r;
                }}
            printf("{n} %.1f\\n", 1e9 * (double)(clock() - t0) / CLOCKS_PER_SEC / ((double)reps * (double)n));
        }}""" for n in models)
    return f"""#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
{includes}
#define MAX_ROWS 4096
static float x[{width} * MAX_ROWS];

int main(int argc, char **argv)
{{
    long n, row, i, rep, reps = argc > 1 ? atol(argv[1]) : 0;
    volatile double sink = 0.0;
    char buf[64];
    if (scanf("%ld", &n) != 1 || n < 1 || n > MAX_ROWS)
        return 2;
    for (i = 0; i < n * {width}; ++i) {{
        if (scanf("%63s", buf) != 1)
            return 2;
        x[i] = (float)strtod(buf, NULL);
    }}
    if (reps > 0) {{{timed}
        return 0;
    }}
    for (row = 0; row < n; ++row) {{{calls}
    }}
    return 0;
}}
"""
