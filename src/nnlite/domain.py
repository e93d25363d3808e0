"""Applicability domain of a model fitted on a feature matrix: is a new row like the rows the model was fitted on?

A model answers for any input, even for one unlike anything it has seen (values on another scale, another
platform, a matrix read the wrong way round); a min-max scaler that clips to the training range then turns
such rows into confident, wrong answers. This module measures, from statistics stored at fit time, how far a
new row lies from the training rows, and names the likely cause when a whole file is off. Numpy only (it is
used by the numpy-only :mod:`nnlite.runtime`).

What is stored (:meth:`DomainProfile.fit`, JSON state :meth:`DomainProfile.to_dict`):

- per feature, on the scale the model sees before its scaler (after any fixed transform such as
  ``log2(x + 1)``): minimum, maximum and the :data:`QUANTILES` (1, 25, 50, 75, 99 %) of the training rows;
- the raw scale of the whole training matrix before any transform (:func:`raw_scale_summary`): quantiles of
  all finite values, shares of negative and of zero values, and the spread of the per-row medians. This is
  what tells a z-scored matrix (centred, negatives, median ~0) from log2 values (>= 0, up to ~20) and from
  unlogged TPM / RPKM / counts (>= 0, up to thousands).

Per row (:meth:`DomainProfile.score`):

- ``outside_share``: share of the features outside the training range [min, max]. A new row drawn like the
  training rows has about ``2 / (n + 1)`` of its features outside per feature, about 1 % for n = 200;
- ``robust_distance``: the median over features of ``|x - median| / s``, s the robust spread
  ``IQR / 1.349`` (else ``(q99 - q01) / 4.653``, else the range, else 1): about 0.67 for a Gaussian row;
- ``in_domain``: ``outside_share <= OUTSIDE_SHARE_MAX`` (0.2) and ``robust_distance <= DISTANCE_MAX`` (2.0).
  On held-out rows of real expression data (CCLE, 706 genes, 70/30 splits) outside shares were below 5 % and
  distances below 1.2; input on another scale gives shares of 50-100 % and distances above 3.

Per file (:func:`diagnose`): when the raw scale of the new matrix is of another kind than the stored one, or
more than :data:`FILE_OUT_SHARE` (half) of the rows are out of domain, the likely cause is named: unlogged values given
to a model of log values, log values given to a model that takes unlogged ones, TPM given to a model of
z-scores, z-scores given to a model of non-negative values, else another platform or normalization.
:func:`looks_transposed` flags a matrix whose row names are the model's features (genes as rows).
"""
import numpy as np

QUANTILES = (0.01, 0.25, 0.5, 0.75, 0.99)
OUTSIDE_SHARE_MAX = 0.2     # in_domain: at most this share of the features outside the training range ...
DISTANCE_MAX = 2.0          # ... and a median robust |z| at most this
FILE_OUT_SHARE = 0.5        # a file is diagnosed when more than this share of its rows are out of domain
UNLOGGED_MAX = 50.0         # non-negative values above this are unlogged (TPM / RPKM / counts), as log2 decides
TRANSPOSED_SHARE = 0.5      # a matrix is transposed when this share of the model's features name its rows
_IQR_SD = 1.349             # IQR of a standard normal
_Q98_SD = 4.653             # q99 - q01 of a standard normal


def raw_scale_summary(values):
    """Scale of a raw matrix (any shape, NaN ignored) -> dict: ``min``, ``q01``, ``q50``, ``q99``, ``max`` of
    the finite values, ``negative_share``, ``zero_share``, ``row_median_spread`` (std of the per-row medians
    of a 2-D matrix, 0 otherwise) and ``n_values``. An empty or all-NaN matrix gives NaN quantiles."""
    a = np.asarray(values, dtype=np.float64)
    finite = a[np.isfinite(a)]
    out = {"n_values": int(finite.size)}
    if finite.size == 0:
        out.update({k: float("nan") for k in ("min", "q01", "q50", "q99", "max", "negative_share", "zero_share",
                                              "row_median_spread")})
        return out
    q = np.quantile(finite, [0.0, 0.01, 0.5, 0.99, 1.0])
    out.update({"min": float(q[0]), "q01": float(q[1]), "q50": float(q[2]), "q99": float(q[3]), "max": float(q[4]),
                "negative_share": float(np.mean(finite < 0)), "zero_share": float(np.mean(finite == 0))})
    spread = 0.0
    if a.ndim == 2 and a.shape[0] > 1:
        with np.errstate(all="ignore"):
            medians = np.array([np.median(r[np.isfinite(r)]) if np.isfinite(r).any() else np.nan for r in a])
        medians = medians[np.isfinite(medians)]
        spread = float(np.std(medians)) if medians.size else 0.0
    out["row_median_spread"] = spread
    return out


def scale_kind(summary):
    """The kind of scale a :func:`raw_scale_summary` describes: ``"centred"`` (more than 1 % negative values:
    z-scores or centred log ratios), ``"unlogged"`` (non-negative, 99th percentile above :data:`UNLOGGED_MAX`:
    TPM, RPKM, counts), ``"log"`` (non-negative, 99th percentile up to :data:`UNLOGGED_MAX`: log2 values) or
    ``"unknown"`` (no finite value). Percentiles, not extremes, so that one odd value does not decide."""
    if not summary.get("n_values") or not np.isfinite(summary.get("q99", np.nan)):
        return "unknown"
    # a few negative values (a rounding artefact, one bad cell) do not make a matrix centred
    if summary["negative_share"] > 0.01:
        return "centred"
    return "unlogged" if summary["q99"] > UNLOGGED_MAX else "log"


def _robust_spread(q01, q25, q75, q99, lo, hi):
    s = (q75 - q25) / _IQR_SD
    s = np.where(s > 0, s, (q99 - q01) / _Q98_SD)
    s = np.where(s > 0, s, hi - lo)
    return np.where(s > 0, s, 1.0)


class DomainProfile:
    """Per-feature training statistics and the raw scale of a training matrix (see the module docstring).

    Attributes (after :meth:`fit` or :meth:`from_dict`): ``min_``, ``max_`` (p,), ``quantiles_`` (len(QUANTILES), p),
    ``spread_`` (p,) the robust spread, ``raw_scale_`` (dict of :func:`raw_scale_summary`) or None,
    ``n_rows_`` (rows fitted on).
    """

    def fit(self, X, raw=None):
        """Statistics of ``X`` (n, p), the rows as the model sees them before its scaler (finite values);
        ``raw`` the untransformed matrix (any shape) whose :func:`raw_scale_summary` is kept. Returns self."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
            raise ValueError(f"X must be a non-empty 2-D array (n_samples, n_features), got shape {X.shape}")
        if not np.isfinite(X).all():
            raise ValueError("X contains NaN or inf")
        self.min_ = X.min(axis=0)
        self.max_ = X.max(axis=0)
        self.quantiles_ = np.quantile(X, QUANTILES, axis=0)
        self.n_rows_ = int(X.shape[0])
        self.raw_scale_ = None if raw is None else raw_scale_summary(raw)
        self._set_spread()
        return self

    def _set_spread(self):
        q01, q25, _, q75, q99 = self.quantiles_
        self.spread_ = _robust_spread(q01, q25, q75, q99, self.min_, self.max_)

    @property
    def n_features_in_(self):
        return int(self.min_.shape[0])

    def score(self, X):
        """``(outside_share, robust_distance)`` (n,) each for ``X`` (n, p), NaN entries ignored (a row of NaN
        only scores 1.0 and inf): see the module docstring."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(f"X must have shape (n, {self.n_features_in_}), got {X.shape}")
        known = np.isfinite(X)
        outside = known & ((X < self.min_) | (X > self.max_))
        n_known = known.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(n_known > 0, outside.sum(axis=1) / np.maximum(n_known, 1), 1.0)
            z = np.abs(X - self.quantiles_[2]) / self.spread_
        z[~known] = np.nan
        distance = np.full(X.shape[0], np.inf)
        rows = n_known > 0
        if rows.any():
            distance[rows] = np.nanmedian(z[rows], axis=1)
        return share, distance

    def in_domain(self, X):
        """Boolean (n,): the row's outside share and robust distance are within the documented thresholds."""
        share, distance = self.score(X)
        return flags(share, distance)

    def to_dict(self):
        """JSON state: lists of floats (``min``, ``max``, ``quantiles`` per level), ``levels``, ``n_rows``,
        ``raw_scale``."""
        return {"levels": list(QUANTILES), "min": self.min_.tolist(), "max": self.max_.tolist(),
                "quantiles": self.quantiles_.tolist(), "n_rows": self.n_rows_, "raw_scale": self.raw_scale_}

    @classmethod
    def from_dict(cls, state):
        """Inverse of :meth:`to_dict` (ValueError when the lists disagree in length)."""
        self = cls()
        self.min_ = np.asarray(state["min"], dtype=np.float64)
        self.max_ = np.asarray(state["max"], dtype=np.float64)
        self.quantiles_ = np.asarray(state["quantiles"], dtype=np.float64)
        if list(state.get("levels", QUANTILES)) != list(QUANTILES):
            raise ValueError(f"domain quantile levels {state.get('levels')} are not {list(QUANTILES)}")
        p = self.min_.shape[0]
        if self.min_.ndim != 1 or self.max_.shape != (p,) or self.quantiles_.shape != (len(QUANTILES), p):
            raise ValueError("domain statistics disagree in length")
        self.n_rows_ = int(state.get("n_rows", 0))
        self.raw_scale_ = state.get("raw_scale")
        self._set_spread()
        return self


def flags(outside_share, robust_distance):
    """``in_domain`` (n,) bool from the two per-row scores (thresholds :data:`OUTSIDE_SHARE_MAX`,
    :data:`DISTANCE_MAX`)."""
    return (np.asarray(outside_share) <= OUTSIDE_SHARE_MAX) & (np.asarray(robust_distance) <= DISTANCE_MAX)


def other_scale(raw_scale, trained_scale):
    """True when both summaries are known and of different :func:`scale_kind` (a whole file on another scale:
    every row of it is out of domain, :func:`nnlite.runtime.trust_columns`)."""
    if not raw_scale or not trained_scale:
        return False
    new, old = scale_kind(raw_scale), scale_kind(trained_scale)
    return new != old and "unknown" not in (new, old)


def _fmt(v):
    return f"{v:.3g}"


def diagnose(in_domain, raw_scale=None, trained_scale=None):
    """Why a whole file is unlike the training data (one sentence), else None. ``in_domain`` (n,) the per-row
    flags; ``raw_scale`` / ``trained_scale`` the :func:`raw_scale_summary` of the new raw matrix and of the
    training one (either None: only the share of rows decides and the cause is not named).

    A file is diagnosed when its :func:`scale_kind` differs from the training one (another scale, whatever
    the per-row scores say: a transform such as log2(x + 1) can squeeze wrong values into the training
    range), or when more than :data:`FILE_OUT_SHARE` of its rows are out of domain."""
    flags_ = np.asarray(in_domain, dtype=bool)
    if flags_.size == 0:
        return None
    out = float(np.mean(~flags_))
    if out <= FILE_OUT_SHARE and not other_scale(raw_scale, trained_scale):
        return None
    head = f"{int((~flags_).sum())} of {flags_.size} samples are unlike the training data"
    if not raw_scale or not trained_scale:
        return head
    new, old = scale_kind(raw_scale), scale_kind(trained_scale)
    rng_new = f"{_fmt(raw_scale['min'])}..{_fmt(raw_scale['max'])}"
    rng_old = f"{_fmt(trained_scale['min'])}..{_fmt(trained_scale['max'])}"
    names = {"centred": "z-scored (centred) values", "unlogged": "unlogged values (TPM / RPKM / counts)",
             "log": "log-scale values (e.g. log2(TPM + 1))"}
    if new != old and "unknown" not in (new, old):
        if new == "unlogged" and old == "log":
            cause = "the values look unlogged (TPM / RPKM / counts): take log2(x + 1) first"
        elif new == "log" and old == "unlogged":
            cause = "the values look already log-transformed: give the unlogged values the model was trained on"
        else:
            cause = f"the values look like {names[new]}, the model was trained on {names[old]}"
        return f"{head}: {cause} (values {rng_new}, training {rng_old})"
    return (f"{head} although the values are on the training scale ({rng_new}, training {rng_old}): "
            f"another platform or normalization?")


def looks_transposed(row_names, column_names, features):
    """True when the matrix seems read the wrong way round: at least :data:`TRANSPOSED_SHARE` of ``features``
    (the model's feature names) name its rows, and fewer of them name its columns."""
    feats = set(map(str, features))
    if not feats:
        return False
    rows = len(feats & set(map(str, row_names))) / len(feats)
    cols = len(feats & set(map(str, column_names))) / len(feats)
    return rows >= TRANSPOSED_SHARE and rows > cols
