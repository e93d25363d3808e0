"""The embedded default data set: a seeded, CCLE-like expression matrix and 24-drug response table.
Long on purpose: the generator's steps (cell lines, tissues, modules, expression, responses, the cache)
are one recipe whose order decides the bytes of the default data.

Generated once into a cache folder (``$CCLE_CACHE_DIR`` or ``~/.cache/ccle-nnlite/``), keyed by the generator
parameters and seed, in the real file formats: a GCT 1.2 expression file (genes x cell lines, RPKM-like) and the
13-column CCLE drug CSV (``CCLE_NP24.2009_Drug_data_2015.02.24.csv`` layout). The ground truth (which genes
drive which drug, through which function) is saved beside them as ``truth.json``.

Model of the data
-----------------
Expression, on the ``L = log2(RPKM + 1)`` scale, for cell line ``i`` of tissue ``t(i)`` and gene ``g``::

    L[i, g] = base[g] + T[t(i), g] + (S[i] @ W)[g] + sd[g] * eps[i, g]

with ``base`` a bimodal gene baseline (about a third of the genes barely expressed), ``T`` sparse tissue
effects, ``S @ W`` a low-rank co-expression structure (``S`` cell scores with tissue-dependent means, ``W``
sparse module loadings), then RPKM ``= 2**L - 1``, a logistic drop-out to exact zeros that hits lowly expressed
values hardest, and a few genes zero in every cell line. RPKM is heavy-tailed (log-normal upper tail).

Responses: drug ``d`` is driven by a sparse gene set ``G_d`` (drugs with the same target share part of it).
With ``z`` the standardized ``log2(x + 1)`` of the written values, the signal is a sum of nonlinear terms
(tanh, hinge, sigmoid step, bump ``exp(-z^2)``, pairwise ``tanh * tanh`` interactions, one linear term),
standardized to ``s``; the latent response is ``r = sqrt(f) s + sqrt(1 - f) e`` with ``e ~ N(0, 1)`` and a
per-drug signal fraction ``f``. Responses are ``y = Q_d(rank(r) / (n - 1))``: a monotone map onto a quantile
function ``Q_d`` that passes through the real ActArea min, quartiles and max of the drug, with exponential-ramp
outer segments whose shapes are chosen to reproduce the real mean and standard deviation
(:data:`ACTAREA_SUMMARY`, Barretina et al. 2012, 2015-02-24 release). So each drug has its real number of
cell lines and (to 4 decimals) its real ActArea quartiles and range; means and standard deviations are within
about 5% of the real ones.

Learnability (default 2,000 genes, seed 0, one 80/20 split, log2(x+1) + min-max features, 8 drugs, measured
with scikit-learn): a random forest on all genes reaches held-out R^2 0.11-0.50 depending on the drug
(heavy-tailed drugs such as Sorafenib and Nilotinib are the hardest), an elastic net with its penalty tuned on
the test rows 0.17-0.45, a random forest on the true driver genes 0.35-0.74, a linear model on the true driver
genes only 0.21-0.40: feature selection pays, and nonlinearity pays once the right genes are found.
"""
from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ccle.data.drugs import ORIGINAL_COLUMNS
from ccle.data.expression import ExpressionMatrix
from ccle.data.gct import write_gct
from ccle.errors import CCLEError

GENERATOR_VERSION = 1
MAX_GENES = 56318

# Real ActArea per drug (CCLE 2015-02-24 release, 504 cell lines): count, mean, std, min, 25%, 50%, 75%, max.
ACTAREA_SUMMARY = {
    "17-AAG": (503, 3.3989, 1.03, 0.4375, 2.6712, 3.4082, 4.1378, 6.5863),
    "AEW541": (503, 1.0312, 0.5983, 0.0097, 0.5881, 0.9258, 1.3796, 3.717),
    "AZD0530": (504, 0.9869, 0.7632, 0.0, 0.4196, 0.8111, 1.452, 4.2714),
    "AZD6244": (503, 1.3283, 1.156, 0.0, 0.4354, 1.0545, 1.8773, 6.4934),
    "Erlotinib": (503, 0.6207, 0.6307, 0.0, 0.1789, 0.4157, 0.892, 4.4132),
    "Irinotecan": (317, 3.0762, 1.1302, 0.5537, 2.2821, 2.9901, 3.7926, 5.8889),
    "L-685458": (491, 0.411, 0.5444, 0.0, 0.0302, 0.1955, 0.6168, 3.6396),
    "LBW242": (503, 0.7244, 0.6905, 0.0, 0.2874, 0.5257, 0.9344, 5.445),
    "Lapatinib": (504, 0.6861, 0.6536, 0.0, 0.2442, 0.4877, 0.9555, 4.381),
    "Nilotinib": (420, 0.6286, 0.7875, 0.0, 0.2072, 0.4718, 0.7624, 7.0051),
    "Nutlin-3": (504, 0.5225, 0.4563, 0.0, 0.1991, 0.407, 0.7236, 3.1439),
    "PD-0325901": (504, 1.884, 1.4497, 0.0, 0.7452, 1.5244, 2.7284, 7.3807),
    "PD-0332991": (434, 0.6175, 0.6235, 0.0, 0.1543, 0.4476, 0.874, 3.2376),
    "PF2341066": (504, 0.7382, 0.593, 0.0, 0.3469, 0.6178, 0.9441, 4.497),
    "PHA-665752": (503, 0.5158, 0.5235, 0.0, 0.1392, 0.3567, 0.7474, 3.0544),
    "PLX4720": (496, 0.4892, 0.6039, 0.0, 0.1142, 0.2965, 0.6217, 5.2178),
    "Paclitaxel": (503, 5.2117, 1.2955, 1.0722, 4.3188, 5.3362, 6.1938, 7.7957),
    "Panobinostat": (500, 4.3835, 0.8139, 1.8786, 3.8083, 4.3317, 4.8698, 6.84),
    "RAF265": (460, 1.551, 0.7381, 0.0128, 1.0124, 1.4814, 2.0164, 4.4472),
    "Sorafenib": (503, 0.5624, 0.5236, 0.0, 0.2014, 0.4633, 0.7772, 5.7935),
    "TAE684": (504, 1.3187, 0.8359, 0.0, 0.7288, 1.2187, 1.7534, 5.9893),
    "TKI258": (504, 0.9431, 0.5863, 0.0, 0.5429, 0.8432, 1.2526, 5.4525),
    "Topotecan": (504, 2.9353, 1.25, 0.0205, 2.0624, 2.9836, 3.7898, 6.526),
    "ZD-6474": (496, 1.18, 0.698, 0.0272, 0.671, 1.0974, 1.5636, 4.1439),
}
N_SCREENED = 504  # cell lines with at least one drug response in the real release
SIGNAL_FRACTION = (0.85, 0.95)  # share of the latent response variance explained by the genes, per drug

# Primary targets as listed in the CCLE drug file; drugs sharing a target share part of their driver genes.
TARGETS = {
    "17-AAG": "HSP90", "AEW541": "IGF1R", "AZD0530": "ABL", "AZD6244": "MEK", "Erlotinib": "EGFR",
    "Irinotecan": "TOP1", "L-685458": "GS", "LBW242": "XIAP", "Lapatinib": "EGFR", "Nilotinib": "ABL",
    "Nutlin-3": "MDM2", "PD-0325901": "MEK", "PD-0332991": "CDK4", "PF2341066": "c-MET", "PHA-665752": "c-MET",
    "PLX4720": "RAF", "Paclitaxel": "TUBB1", "Panobinostat": "HDAC", "RAF265": "RAF", "Sorafenib": "RTK",
    "TAE684": "ALK", "TKI258": "FGFR", "Topotecan": "TOP1", "ZD-6474": "EGFR",
}

# CCLE tissue suffixes with rough relative frequencies of the 1,019-line RNA-seq release.
TISSUES = {
    "LUNG": 0.18, "HAEMATOPOIETIC_AND_LYMPHOID_TISSUE": 0.17, "CENTRAL_NERVOUS_SYSTEM": 0.065, "SKIN": 0.06,
    "BREAST": 0.058, "LARGE_INTESTINE": 0.056, "OVARY": 0.05, "PANCREAS": 0.044, "STOMACH": 0.038,
    "UPPER_AERODIGESTIVE_TRACT": 0.032, "ENDOMETRIUM": 0.028, "KIDNEY": 0.035, "LIVER": 0.025,
    "URINARY_TRACT": 0.026, "BONE": 0.026, "SOFT_TISSUE": 0.02, "OESOPHAGUS": 0.025, "THYROID": 0.012,
    "AUTONOMIC_GANGLIA": 0.016, "PLEURA": 0.01, "PROSTATE": 0.008, "BILIARY_TRACT": 0.008,
}

DOSES_UM = np.array([0.0025, 0.0080, 0.025, 0.080, 0.25, 0.80, 2.53, 8.0])
DOSES_TEXT = ".0025,.0080,.025,.080,.25,.80,2.53,8"


@dataclass(frozen=True)
class DefaultData:
    """Paths of one generated default data set (all in the same cache folder)."""

    expression_path: Path
    drugs_path: Path
    truth_path: Path

    @property
    def folder(self):
        return self.expression_path.parent

    def truth(self):
        """The generator's ground truth (driver genes and terms per drug), as a dict."""
        with open(self.truth_path, encoding="utf-8") as fh:
            return json.load(fh)


# --------------------------------------------------------------------------- target quantile functions
def _ramp(t, c):
    """``(exp(c t) - 1) / (exp(c) - 1)`` on t in [0, 1] (``t`` for c = 0): 0 -> 0, 1 -> 1, convex for c > 0
    (stays low, then rises steeply: a long tail), concave for c < 0."""
    if abs(c) < 1e-9:
        return t
    return np.expm1(c * t) / np.expm1(c)


def _segment_quantiles(p, knots, a, b):
    """Q(p) through (0, min), (.25, q1), (.5, med), (.75, q3), (1, max): linear between the quartiles, and
    ``min + (q1 - min) ramp(p / .25, a)`` / ``q3 + (max - q3) ramp((p - .75) / .25, b)`` on the outer quarters
    (see :func:`_ramp`; a < 0 puts few values near the minimum, b > 0 a long upper tail)."""
    lo, q1, q2, q3, hi = knots
    p = np.asarray(p, dtype=np.float64)
    out = np.empty_like(p)
    s0 = p < 0.25
    s1 = (p >= 0.25) & (p < 0.5)
    s2 = (p >= 0.5) & (p < 0.75)
    s3 = p >= 0.75
    out[s0] = lo + (q1 - lo) * _ramp(p[s0] / 0.25, a)
    out[s1] = q1 + (q2 - q1) * (p[s1] - 0.25) / 0.25
    out[s2] = q2 + (q3 - q2) * (p[s2] - 0.5) / 0.25
    out[s3] = q3 + (hi - q3) * _ramp((p[s3] - 0.75) / 0.25, b)
    return out


@functools.lru_cache(maxsize=None)
def quantile_function(drug):
    """``(knots, a, b)`` of the target quantile function of ``drug``: the real min/quartiles/max, with the
    outer-segment shapes ``a``, ``b`` picked on a grid to bring the mean and standard deviation of ``count``
    evenly spaced quantiles closest to the real ones (sum of squared relative errors)."""
    count, mean, std, lo, q1, q2, q3, hi = ACTAREA_SUMMARY[drug]
    knots = (lo, q1, q2, q3, hi)
    p = np.arange(int(count)) / (int(count) - 1)
    grid = np.concatenate([-np.geomspace(150.0, 0.1, 40), [0.0], np.geomspace(0.1, 150.0, 45)])
    # a moves only the values with p < .25, b only those with p >= .75: sums and sums of squares add up
    low, up = p < 0.25, p >= 0.75
    mid = _segment_quantiles(p[~low & ~up], knots, 0.0, 0.0)
    lower = np.stack([_segment_quantiles(p[low], knots, a, 0.0) for a in grid])
    upper = np.stack([_segment_quantiles(p[up], knots, 0.0, b) for b in grid])
    total = lower.sum(1)[:, None] + mid.sum() + upper.sum(1)[None, :]
    squares = (lower ** 2).sum(1)[:, None] + (mid ** 2).sum() + (upper ** 2).sum(1)[None, :]
    n = p.size
    y_mean = total / n
    y_std = np.sqrt(np.maximum(squares - total ** 2 / n, 0.0) / (n - 1))
    err = ((y_mean - mean) / mean) ** 2 + ((y_std - std) / std) ** 2
    i, j = np.unravel_index(np.argmin(err), err.shape)
    return knots, float(grid[i]), float(grid[j])


# --------------------------------------------------------------------------- generator
def _params(n_genes, n_cells, n_tissues, seed):
    if not 50 <= int(n_genes) <= MAX_GENES:
        raise CCLEError(f"default data: n_genes must be between 50 and {MAX_GENES}, got {n_genes}")
    if not N_SCREENED <= int(n_cells) <= 5000:
        raise CCLEError(f"default data: n_cells must be between {N_SCREENED} and 5000, got {n_cells}")
    if not 2 <= int(n_tissues) <= len(TISSUES):
        raise CCLEError(f"default data: n_tissues must be between 2 and {len(TISSUES)}, got {n_tissues}")
    return {"version": GENERATOR_VERSION, "n_genes": int(n_genes), "n_cells": int(n_cells),
            "n_tissues": int(n_tissues), "seed": int(seed)}


def _cell_names(rng, n_cells, n_tissues):
    """Unique CCLE-style names ``NAME_TISSUE`` and the primary names (``NAME`` with an optional hyphen)."""
    tissues = list(TISSUES)[:n_tissues]
    weights = np.array([TISSUES[t] for t in tissues])
    tissue_of = rng.choice(n_tissues, size=n_cells, p=weights / weights.sum())
    tissue_of[:n_tissues] = np.arange(n_tissues)  # every tissue present
    letters = np.array(list("ABCDEFGHIJKLMNOPRSTUVWXYZ"))
    names, primary, seen = [], [], set()
    while len(names) < n_cells:
        stem = "".join(rng.choice(letters, size=int(rng.integers(2, 5))))
        num = str(int(rng.integers(1, 10 ** int(rng.integers(1, 5)))))
        if stem + num in seen:
            continue
        seen.add(stem + num)
        names.append(stem + num)
        primary.append(f"{stem}-{num}" if rng.random() < 0.4 else stem + num)
    full = [f"{n}_{tissues[t]}" for n, t in zip(names, tissue_of)]
    return full, primary, tissue_of, tissues


def make_expression(n_genes=2000, n_cells=1000, n_tissues=20, seed=0, *, with_truth=False):
    """Generate the RPKM-like expression matrix (see the module docstring) -> ExpressionMatrix (n_cells, n_genes).

    With ``with_truth=True`` also returns a dict with cell tissues and primary names."""
    params = _params(n_genes, n_cells, n_tissues, seed)
    ss = np.random.SeedSequence([params["seed"], 0xCC1E, GENERATOR_VERSION])
    rng_names, rng_expr = (np.random.default_rng(s) for s in ss.spawn(2))
    cells, primary, tissue_of, tissues = _cell_names(rng_names, n_cells, n_tissues)
    G, C = n_genes, n_cells
    rng = rng_expr
    low = rng.random(G) < 0.3
    base = np.where(low, rng.normal(0.4, 0.5, G), rng.normal(3.2, 1.6, G))
    tissue_eff = rng.normal(0.0, 1.4, (n_tissues, G)) * (rng.random((n_tissues, G)) < 0.12)
    n_modules = 24
    loadings = rng.normal(0.0, 0.7, (n_modules, G)) * (rng.random((n_modules, G)) < 0.12)
    module_tissue_mean = rng.normal(0.0, 0.8, (n_tissues, n_modules))
    scores = module_tissue_mean[tissue_of] + rng.standard_normal((C, n_modules))
    gene_sd = rng.gamma(4.0, 0.1, G)
    L = (base + tissue_eff[tissue_of]).astype(np.float32)
    L += (scores @ loadings).astype(np.float32)
    L += (rng.standard_normal((C, G), dtype=np.float32) * gene_sd.astype(np.float32))
    np.maximum(L, 0.0, out=L)
    dropout = rng.random((C, G), dtype=np.float32) < 1.0 / (1.0 + np.exp(3.0 * (L - 0.7)))
    rpkm = np.exp2(L) - 1.0
    rpkm[dropout] = 0.0
    dead = rng.choice(G, size=max(1, G // 50), replace=False)
    rpkm[:, dead] = 0.0
    # what GCT stores: 4 significant digits; values below 0.005 are written as zero (as in RPKM tables)
    rpkm[rpkm < 0.005] = 0.0
    rpkm = _round_sig(rpkm, 4)
    genes = [f"SYNG{g:05d}" for g in range(G)]
    descriptions = [f"SG{g}" for g in range(G)]
    matrix = ExpressionMatrix(rpkm, cells, genes, descriptions, "synthetic")
    if with_truth:
        return matrix, {"tissue_of": tissue_of, "tissues": tissues, "primary": primary,
                        "all_zero_genes": sorted(int(g) for g in dead)}
    return matrix


def _round_sig(x, digits):
    """Round float32 ``x`` to ``digits`` significant digits (so the GCT text round-trips exactly)."""
    out = x.astype(np.float32)
    nz = out > 0
    mag = np.floor(np.log10(out[nz], dtype=np.float64))
    scale = 10.0 ** (digits - 1 - mag)
    out[nz] = (np.round(out[nz] * scale) / scale).astype(np.float32)
    return out


_PHI = {
    "tanh": lambda z, c: np.tanh(1.5 * (z - c)),
    "hinge": lambda z, c: np.maximum(z - c, 0.0),
    "step": lambda z, c: 1.0 / (1.0 + np.exp(-4.0 * (z - c))),
    "bump": lambda z, c: np.exp(-((z - c) ** 2)),
    "linear": lambda z, c: z,
}


def _drug_truth(rng, z, eligible, drug, shared):
    """Random sparse nonlinear response function of one drug -> (signal (n_cells,), truth dict)."""
    target = TARGETS[drug]
    k = int(rng.integers(4, 9))
    own = list(shared.get(target, []))
    pool = np.setdiff1d(eligible, own)
    genes = own[:3] + [int(g) for g in rng.choice(pool, size=k - len(own[:3]), replace=False)]
    shared.setdefault(target, genes[:3])
    terms = []
    kinds = ["tanh", "hinge", "step", "bump", "linear"]
    for j, g in enumerate(genes):
        kind = "linear" if j == 1 else kinds[int(rng.integers(0, 4))]
        terms.append({"kind": kind, "genes": [g], "center": float(np.round(rng.uniform(-0.5, 0.8), 3)),
                      "weight": float(np.round(rng.choice([-1, 1]) * rng.uniform(0.6, 1.4), 3))})
    for _ in range(int(rng.integers(1, 3))):
        a, b = rng.choice(genes, size=2, replace=False)
        terms.append({"kind": "interaction", "genes": [int(a), int(b)], "center": 0.0,
                      "weight": float(np.round(rng.choice([-1, 1]) * rng.uniform(0.8, 1.5), 3))})
    signal = np.zeros(z.shape[0])
    for t in terms:
        if t["kind"] == "interaction":
            a, b = t["genes"]
            part = np.tanh(z[:, a]) * np.tanh(z[:, b])
        else:
            part = _PHI[t["kind"]](z[:, t["genes"][0]], t["center"])
        part = part - part.mean()
        sd = part.std()
        signal += t["weight"] * (part / sd if sd > 0 else part)
    signal = (signal - signal.mean()) / signal.std()
    return signal, genes, terms


def _dose_response(rng, act_area):
    """Plausible sigmoid fits for given ActArea values: A(d) = Amax / (1 + (EC50 / d)^h) (percent activity),
    with EC50 solved by bisection so that sum_d -A(d)/100 = ActArea over the 8 CCLE doses."""
    n = act_area.shape[0]
    amax = -100.0 * np.maximum(rng.uniform(0.45, 1.0, n), act_area / 7.9 + 0.01)
    h = rng.uniform(0.8, 2.5, n)
    lo, hi = np.full(n, np.log(1e-6)), np.full(n, np.log(1e5))
    area = lambda log_ec: (-amax[:, None] / 100.0 / (1.0 + (np.exp(log_ec)[:, None] / DOSES_UM) ** h[:, None])).sum(1)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        bigger = area(mid) > act_area  # area falls as EC50 rises
        lo = np.where(bigger, mid, lo)
        hi = np.where(bigger, hi, mid)
    ec50 = np.exp(0.5 * (lo + hi))
    activity = amax[:, None] / (1.0 + (ec50[:, None] / DOSES_UM) ** h[:, None])
    activity = activity + rng.normal(0.0, 4.0, activity.shape)
    sd = rng.uniform(1.0, 15.0, activity.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        ic50 = np.where(-amax > 50.0, ec50 * (1.0 / (-amax / 50.0 - 1.0)) ** (1.0 / h), 8.0)
    ic50 = np.minimum(ic50, 8.0)
    return activity, sd, ec50, ic50, amax


def _fmt(x):
    return f"{x:.3g}".replace("0.", ".", 1) if 0 < abs(x) < 1 else f"{x:.3g}"


def generate(folder, n_genes=2000, n_cells=1000, n_tissues=20, seed=0):
    """Write ``expression.gct``, ``drugs.csv`` and ``truth.json`` into ``folder`` -> :class:`DefaultData`."""
    params = _params(n_genes, n_cells, n_tissues, seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    matrix, info = make_expression(n_genes, n_cells, n_tissues, seed, with_truth=True)
    ss = np.random.SeedSequence([params["seed"], 0xD2, GENERATOR_VERSION])
    rng = np.random.default_rng(ss)
    logx = np.log2(matrix.values.astype(np.float64) + 1.0)
    mu, sd = logx.mean(0), logx.std(0)
    z = np.where(sd > 0, (logx - mu) / np.where(sd > 0, sd, 1.0), 0.0)
    nonzero = (matrix.values > 0).mean(0)
    eligible = np.flatnonzero((nonzero > 0.8) & (sd > 0.3))
    if eligible.size < 60:  # tiny gene counts: fall back to the most variable expressed genes
        eligible = np.argsort(-(nonzero * sd), kind="stable")[:60]
    screened = np.sort(rng.choice(n_cells, size=N_SCREENED, replace=False))
    shared, truth_drugs, rows = {}, {}, []
    for drug in sorted(ACTAREA_SUMMARY):
        count = ACTAREA_SUMMARY[drug][0]
        signal, genes, terms = _drug_truth(rng, z, eligible, drug, shared)
        measured = np.sort(rng.choice(screened, size=count, replace=False))
        frac = float(np.round(rng.uniform(*SIGNAL_FRACTION), 3))
        latent = np.sqrt(frac) * signal[measured] + np.sqrt(1.0 - frac) * rng.standard_normal(count)
        knots, a, b = quantile_function(drug)
        ranks = np.empty(count)
        ranks[np.argsort(latent, kind="stable")] = np.arange(count) / (count - 1)
        y = np.round(_segment_quantiles(ranks, knots, a, b), 4)
        activity, act_sd, ec50, ic50, amax = _dose_response(rng, y)
        for j, cell in enumerate(measured):
            rows.append((matrix.cell_lines[cell], info["primary"][cell], drug, TARGETS[drug], DOSES_TEXT,
                         ",".join(_fmt(v) for v in activity[j]), ",".join(_fmt(v) for v in act_sd[j]), "8",
                         "Sigmoid", f"{ec50[j]:.9g}" if ec50[j] <= 8.0 else "", f"{ic50[j]:.9g}",
                         f"{amax[j]:.4g}", f"{y[j]:.4f}".rstrip("0").rstrip(".") if y[j] else "0"))
        truth_drugs[drug] = {
            "genes": [matrix.genes[g] for g in genes], "gene_index": [int(g) for g in genes],
            "terms": [dict(t, genes=[matrix.genes[g] for g in t["genes"]]) for t in terms],
            "signal_fraction": frac, "n": int(count),
            "quantile_function": {"knots": list(knots), "a": a, "b": b},
        }
    rows.sort(key=lambda r: (r[0], r[2]))
    write_gct(folder / "expression.gct", matrix, fmt="%.4g")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(ORIGINAL_COLUMNS)
    writer.writerows(rows)
    _write_atomic(folder / "drugs.csv", buf.getvalue())
    truth = {
        "description": "ground truth of the synthetic CCLE-like default data set (ccle.data.synthetic)",
        "params": params,
        "signal": "z = standardized log2(x+1) of each gene; signal = standardized sum of weight * "
                  "standardized term; latent = sqrt(f) signal + sqrt(1-f) N(0,1); ActArea = Q(rank/(n-1))",
        "term_kinds": {"tanh": "tanh(1.5 (z - c))", "hinge": "max(z - c, 0)", "step": "1/(1+exp(-4 (z - c)))",
                       "bump": "exp(-(z - c)^2)", "linear": "z", "interaction": "tanh(z_a) tanh(z_b)"},
        "tissues": info["tissues"],
        "all_zero_genes": [matrix.genes[g] for g in info["all_zero_genes"]],
        "drugs": truth_drugs,
    }
    _write_atomic(folder / "truth.json", json.dumps(truth, indent=1, sort_keys=True) + "\n")
    return DefaultData(folder / "expression.gct", folder / "drugs.csv", folder / "truth.json")


def _write_atomic(path, text):
    tmp = Path(f"{path}.tmp{os.getpid()}")
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    os.replace(tmp, path)


def cache_root(cache_dir=None):
    """The cache folder: ``cache_dir``, else ``$CCLE_CACHE_DIR``, else ``~/.cache/ccle-nnlite``."""
    if cache_dir is not None:
        return Path(cache_dir)
    env = os.environ.get("CCLE_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "ccle-nnlite"


def default_data(cache_dir=None, n_genes=2000, seed=0, n_cells=1000, n_tissues=20):
    """The default data set for these parameters, generated on first use into the cache and reused after.

    The folder name carries a hash of ``(generator version, n_genes, n_cells, n_tissues, seed)``; it is built
    in a temporary folder and renamed into place, so a half-written data set is never picked up. The same
    parameters give byte-identical files.
    """
    params = _params(n_genes, n_cells, n_tissues, seed)
    key = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:12]
    root = cache_root(cache_dir)
    final = root / f"default-v{GENERATOR_VERSION}-g{n_genes}-c{n_cells}-s{seed}-{key}"
    data = DefaultData(final / "expression.gct", final / "drugs.csv", final / "truth.json")
    if all(p.is_file() for p in (data.expression_path, data.drugs_path, data.truth_path)):
        return data
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=root))
    except OSError as exc:
        raise CCLEError(f"{root}: cannot create the default data cache folder ({exc.strerror}); "
                        f"set CCLE_CACHE_DIR to a writable folder") from None
    try:
        generate(tmp, n_genes=n_genes, n_cells=n_cells, n_tissues=n_tissues, seed=seed)
        missing = [p.name for p in (data.expression_path, data.drugs_path, data.truth_path)
                   if not (tmp / p.name).is_file()]
        if missing:
            raise CCLEError(f"{tmp}: default data generation did not write {', '.join(missing)}")
        try:
            os.rename(tmp, final)
        except OSError:
            if not final.is_dir():  # not a lost race with another process: a real failure
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return data
