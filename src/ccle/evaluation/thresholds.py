"""Sensitivity classes of drug responses: the paper's IQR rule and the calibrated rule (one place for both).

Direction (:func:`sensitive_direction`): +1 when a high response means sensitive (ActArea), -1 when a low
response means sensitive (IC50, EC50, Amax). With ``low`` / ``high`` the 25th / 75th percentiles:

- Paper rule (:class:`IQRThresholds`, paper Sec. III.C), thresholds from the *observed* training responses and
  applied unchanged to predictions. Direction +1: ``value >= high -> sensitive``, ``value <= low -> resistant``;
  direction -1: ``value <= low -> sensitive``, ``value >= high -> resistant``; otherwise ``moderate``. When
  ``low == high`` a value equal to both is resistant (the assay's limit: e.g. IC50 capped at 8 uM).
- Calibrated rule (:class:`CalibratedThresholds`), thresholds from the *out-of-fold predictions* of the training
  rows, so that 25 / 50 / 25 % of those predictions are resistant / moderate / sensitive. Inequalities are strict
  (``pred > high`` / ``pred < low``), so constant out-of-fold predictions (the mean predictor) give
  ``low == high`` and every prediction equal to that constant is "moderate".

Integer codes everywhere: 0 resistant, 1 moderate, 2 sensitive (ordered).
"""
from __future__ import annotations

import numpy as np

from ccle.data.drugs import label_direction
from ccle.errors import CCLEError

SENSITIVE, MODERATE, RESISTANT = "sensitive", "moderate", "resistant"
CLASSES = (RESISTANT, MODERATE, SENSITIVE)   # by code: 0 resistant, 1 moderate, 2 sensitive

# Why each sign (CCLE pharmacology file, Barretina et al. 2012, Supplementary Methods):
# ActArea is the area above the dose-response curve (activity summed over the 8 doses): more activity = more
# sensitive -> +1. IC50 / EC50 (uM) are concentrations: the less drug needed, the more sensitive -> -1.
# Amax is the maximal activity reached, in percent, 0 = no effect and -100 = all cells inhibited: more negative =
# more active = more sensitive -> -1 (see ccle.data.synthetic, which generates Amax in [-100, 0] the same way).
RESPONSE_DIRECTIONS = {"actarea": 1, "ic50 (um)": -1, "ec50 (um)": -1, "amax": -1}


def sensitive_direction(response):
    """+1 when high values of ``response`` mean sensitive (ActArea), -1 when low values do (``IC50 (uM)``,
    ``EC50 (uM)``, ``Amax``). Case-insensitive on the CCLE column names; also accepts ``IC50`` / ``EC50``
    without the unit, and a name carrying its direction (``"LN_IC50 (low = sensitive)"``: the GDSC, CTRPv2,
    PRISM and long-table readers label theirs so). Any other name -> :class:`ccle.errors.CCLEError`."""
    explicit = label_direction(response)
    if explicit is not None:
        return explicit
    key = str(response).strip().lower()
    if key in ("ic50", "ec50"):
        key += " (um)"
    if key not in RESPONSE_DIRECTIONS:
        raise CCLEError(f"unknown response {response!r}: no sensitivity direction for it; choose one of "
                        "ActArea, IC50 (uM), EC50 (uM), Amax")
    return RESPONSE_DIRECTIONS[key]


def _check_direction(direction):
    if direction not in (1, -1):
        raise ValueError(f"direction must be +1 or -1, got {direction!r}")
    return int(direction)


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
    interpolation percentile), the paper's rule. Unpacks as ``low, high = IQRThresholds().fit(y)``.
    ``direction`` (+1 default, high = sensitive; -1: low = sensitive) from :func:`sensitive_direction`."""

    fit = _FitDescriptor()

    def __init__(self, low=None, high=None, direction=1):
        self.direction = _check_direction(direction)
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
        """Array (same length, dtype ``<U9``) of class names; direction +1: "sensitive" (>= high_),
        "resistant" (<= low_), else "moderate"; direction -1: "sensitive" (<= low_), "resistant" (>= high_)."""
        return np.asarray(CLASSES, dtype="<U9")[self.codes(values)]

    def codes(self, values):
        """Integer classes: 0 resistant, 1 moderate, 2 sensitive (same rule as :meth:`classify`)."""
        self._check()
        v = _check_vector(values, "values")
        out = np.ones(v.shape, dtype=np.int8)
        # resistant is assigned last: when low_ == high_ a tied value sits at the assay's insensitive limit
        # (IC50 capped at 8 uM holds both quartiles for 7 of the 24 CCLE drugs), so it is resistant
        if self.direction == 1:
            out[v >= self.high_] = 2
            out[v <= self.low_] = 0
        else:
            out[v <= self.low_] = 2
            out[v >= self.high_] = 0
        return out

    def __iter__(self):
        self._check()
        return iter((self.low_, self.high_))

    def to_dict(self):
        """``{"low", "high"}``, plus ``"direction": -1`` when low values are sensitive (a +1 file stays the
        format model files had before the direction existed)."""
        self._check()
        state = {"low": self.low_, "high": self.high_}
        if self.direction != 1:
            state["direction"] = self.direction
        return state

    @classmethod
    def from_dict(cls, state):
        # model files written before the direction existed were all ActArea (+1)
        return cls(state["low"], state["high"], state.get("direction", 1))

    def __repr__(self):
        d = "" if self.direction == 1 else ", direction=-1"
        if hasattr(self, "low_"):
            return f"{type(self).__name__}(low={self.low_:.4g}, high={self.high_:.4g}{d})"
        return f"{type(self).__name__}({d[2:]})"


class CalibratedThresholds(IQRThresholds):
    """The calibrated rule: ``low_`` / ``high_`` = 25th / 75th percentiles of the out-of-fold predictions of
    the training rows (fit on those predictions, never on observed or test values), so that 25 / 50 / 25 % of
    them are resistant / moderate / sensitive. Strict inequalities (direction +1: ``pred > high_`` sensitive,
    ``pred < low_`` resistant; direction -1 mirrored), so a constant out-of-fold prediction (the mean predictor)
    gives ``low_ == high_`` and calls every prediction equal to it "moderate". Same API as
    :class:`IQRThresholds` (fit, classify, codes, to_dict / from_dict)."""

    def _fit(self, oof_predictions):
        """Set ``low_`` / ``high_`` from the out-of-fold predictions (n,) of the training rows; returns self."""
        return super()._fit(oof_predictions)

    def codes(self, values):
        """Integer classes 0 resistant, 1 moderate, 2 sensitive with the strict calibrated rule."""
        self._check()
        v = _check_vector(values, "values")
        out = np.ones(v.shape, dtype=np.int8)
        above, below = v > self.high_, v < self.low_
        out[below] = 0 if self.direction == 1 else 2
        out[above] = 2 if self.direction == 1 else 0
        return out


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
    t = _as_thresholds(thresholds)  # a (low, high) pair means direction +1 (ActArea), as before
    a, b = _check_vector(y_true, "y_true"), _check_vector(y_pred, "y_pred")
    if a.shape != b.shape:
        raise ValueError(f"y_true has {a.size} values, y_pred has {b.size}")
    return float(np.mean(t.codes(a) == t.codes(b)))
