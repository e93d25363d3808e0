"""IQR discretization of drug responses (paper Sec. III.C).

With ``low`` / ``high`` the 25th / 75th percentiles of the *observed* (training) ActArea values of one drug:
``value >= high -> "sensitive"``, ``value <= low -> "resistant"``, otherwise ``"moderate"``. The thresholds are
fitted once on observed values and applied unchanged to predictions. This module is the one place that rule
lives.
"""
from __future__ import annotations

import numpy as np

SENSITIVE, MODERATE, RESISTANT = "sensitive", "moderate", "resistant"


def _check_vector(y, name):
    y = np.asarray(y, dtype=np.float64)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {y.shape}")
    if y.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.isfinite(y).all():
        raise ValueError(f"{name} contains NaN or inf")
    return y


class _FitDescriptor:
    """Lets ``IQRThresholds.fit(y)`` (on the class) and ``IQRThresholds().fit(y)`` both return a fitted object."""

    def __get__(self, obj, objtype=None):
        target = obj if obj is not None else objtype()
        return target._fit


class IQRThresholds:
    """25th / 75th percentile thresholds (``low_``, ``high_``) of observed responses (numpy's linear
    interpolation percentile). Unpacks as ``low, high = IQRThresholds().fit(y)``."""

    fit = _FitDescriptor()

    def __init__(self, low=None, high=None):
        if low is not None and high is not None:
            if not low <= high:
                raise ValueError(f"low threshold {low} is above high threshold {high}")
            self.low_, self.high_ = float(low), float(high)

    def _fit(self, y_observed):
        """Set ``low_ = percentile(y, 25)``, ``high_ = percentile(y, 75)``; returns self."""
        y = _check_vector(y_observed, "y_observed")
        self.low_ = float(np.percentile(y, 25))
        self.high_ = float(np.percentile(y, 75))
        return self

    def _check(self):
        if not hasattr(self, "low_"):
            raise ValueError("IQRThresholds is not fitted yet: call fit(y_observed) first")

    def classify(self, values):
        """Array (same length, dtype ``<U9``) of "sensitive" (>= high_), "resistant" (<= low_), else
        "moderate"."""
        self._check()
        v = _check_vector(values, "values")
        out = np.full(v.shape, MODERATE, dtype="<U9")
        out[v <= self.low_] = RESISTANT
        out[v >= self.high_] = SENSITIVE
        return out

    def codes(self, values):
        """Integer classes: 0 resistant, 1 moderate, 2 sensitive (same rule as :meth:`classify`)."""
        self._check()
        v = _check_vector(values, "values")
        out = np.ones(v.shape, dtype=np.int8)
        out[v <= self.low_] = 0
        out[v >= self.high_] = 2
        return out

    def __iter__(self):
        self._check()
        return iter((self.low_, self.high_))

    def to_dict(self):
        self._check()
        return {"low": self.low_, "high": self.high_}

    @classmethod
    def from_dict(cls, state):
        return cls(state["low"], state["high"])

    def __repr__(self):
        if hasattr(self, "low_"):
            return f"IQRThresholds(low={self.low_:.4g}, high={self.high_:.4g})"
        return "IQRThresholds()"


def _as_thresholds(thresholds):
    if isinstance(thresholds, IQRThresholds):
        return thresholds
    low, high = thresholds
    return IQRThresholds(low, high)


def classify(values, thresholds):
    """Module-level form of :meth:`IQRThresholds.classify`; ``thresholds`` may be a ``(low, high)`` pair."""
    return _as_thresholds(thresholds).classify(values)


def sensitivity_accuracy(y_true, y_pred, thresholds):
    """Fraction of samples whose predicted class equals the observed class (3 classes), both classified with
    the same ``thresholds`` (fitted on observed training responses)."""
    t = _as_thresholds(thresholds)
    a, b = _check_vector(y_true, "y_true"), _check_vector(y_pred, "y_pred")
    if a.shape != b.shape:
        raise ValueError(f"y_true has {a.size} values, y_pred has {b.size}")
    return float(np.mean(t.codes(a) == t.codes(b)))
