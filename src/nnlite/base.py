"""The estimator protocol every public nnlite estimator follows (scikit-learn's conventions, no scikit-learn).

- ``__init__`` stores its arguments unchanged and does nothing else; ``get_params(deep=True)`` reads them back
  from the constructor's signature (``deep`` adds ``<param>__<sub>`` for parameters that are estimators, e.g.
  ``RFE(estimator=LinearSVR()).get_params()["estimator__C"]``) and ``set_params(**p)`` sets them (nested keys
  too). ``clone`` therefore works; ``__repr__`` shows the parameters that differ from their defaults.
- ``fit`` records ``n_features_in_`` and, for a pandas DataFrame whose column names are all strings,
  ``feature_names_in_`` (object array); ``predict`` / ``transform`` with other column names, reordered or
  missing columns raise ``ValueError`` saying which. A plain array after a DataFrame fit is accepted (columns
  in the order seen in fit) with a ``UserWarning``, as scikit-learn does.
- Any method of a fitted estimator called before ``fit`` raises ``NotFittedError`` (a ValueError and an
  AttributeError, as scikit-learn's) with one message for every estimator.
- ``score(X, y)`` is R^2 = 1 - sum w (y - f(x))^2 / sum w (y - mean_w y)^2 (the coefficient of determination).
- ``__sklearn_tags__`` lives in ``nnlite._sklearn_compat``, the one module that may import scikit-learn, and
  only inside the method scikit-learn itself calls.

Random seeds: nnlite estimators take ``seed`` (an int), not scikit-learn's ``random_state``. Each estimator
derives its independent streams (split, initialisation, dropout, shuffling, trees) from
``numpy.random.SeedSequence(seed)``, which needs an integer; a shared ``RandomState`` object would make a
result depend on what was drawn before it. ``clone``, ``GridSearchCV`` and friends work with any name.
"""
import inspect
import warnings

import numpy as np

from nnlite._checks import check_X, check_X_y
from nnlite._sklearn_compat import SklearnTagsMixin, not_fitted_error


class NotFittedError(ValueError, AttributeError):
    """An estimator was used before ``fit`` (subclass of both, as scikit-learn's ``NotFittedError``)."""


class DataConversionWarning(UserWarning):
    """y of shape (n, 1) was given where (n,) is expected; it is raveled (scikit-learn's warning of the
    same name)."""


def _frame_feature_names(X):
    """Column names of a DataFrame-like X as an object array when they are all strings, else None."""
    columns = getattr(X, "columns", None)
    if columns is None or not hasattr(X, "iloc"):
        return None
    names = np.asarray(list(columns), dtype=object)
    if names.size == 0 or not all(isinstance(c, str) for c in names):
        return None
    return names


def _name_list(names, limit=5):
    lines = [f"- {n}\n" for n in names[:limit]]
    if len(names) > limit:
        lines.append("- ...\n")
    return "".join(lines)


class BaseEstimator(SklearnTagsMixin):
    """Parameters from ``__init__``'s signature, repr, fitted-state and input checks (see module docstring)."""

    @classmethod
    def _param_names(cls):
        init = cls.__init__
        if init is object.__init__:
            return []
        params = inspect.signature(init).parameters.values()
        for p in params:
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise TypeError(f"{cls.__name__}.__init__ must name its parameters (no *args / **kwargs)")
        return sorted(p.name for p in params if p.name != "self")

    def get_params(self, deep=True):
        """{name: value} of the constructor's parameters; with deep, also ``name__sub`` of nested estimators."""
        out = {}
        for name in self._param_names():
            value = getattr(self, name)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                out.update((f"{name}__{k}", v) for k, v in value.get_params(deep=True).items())
            out[name] = value
        return out

    def set_params(self, **params):
        """Set constructor parameters (``name__sub`` reaches into a nested estimator); returns self."""
        valid = set(self._param_names())
        nested = {}
        for key, value in params.items():
            name, sep, sub = key.partition("__")
            if name not in valid:
                raise ValueError(f"invalid parameter {name!r} for {type(self).__name__}; "
                                 f"valid parameters: {sorted(valid)}")
            if sep:
                nested.setdefault(name, {})[sub] = value
            else:
                setattr(self, name, value)
        for name, sub in nested.items():
            getattr(self, name).set_params(**sub)
        return self

    def __repr__(self):
        signature = inspect.signature(type(self).__init__).parameters
        shown = []
        for name in self._param_names():
            value, default = getattr(self, name), signature[name].default
            if not _same_value(value, default):
                shown.append(f"{name}={_short_repr(value)}")
        return f"{type(self).__name__}({', '.join(shown)})"

    # fitted state and inputs ----------------------------------------------------------------------------------
    def _check_is_fitted(self):
        if not hasattr(self, "n_features_in_"):
            raise not_fitted_error(NotFittedError)(f"This {type(self).__name__} instance is not fitted yet: call fit(X, y) first")

    def _check_fit_data(self, X, y, **check):
        """(X, y) checked as ``nnlite._checks.check_X_y`` does; records n_features_in_ and feature_names_in_."""
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None")
        names = _frame_feature_names(X)
        shape = np.shape(np.asarray(y, dtype=object) if isinstance(y, list) else np.asarray(y))
        if len(shape) == 2 and shape[1] == 1:
            warnings.warn("A column-vector y was passed when a 1d array was expected; it is raveled to (n,)",
                          DataConversionWarning, stacklevel=3)
        X, y = check_X_y(X, y, **check)
        self.n_features_in_ = X.shape[1]
        if names is not None:
            self.feature_names_in_ = names
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        return X, y

    def _check_predict_data(self, X, **check):
        """X checked against what fit saw: fitted state, column names (DataFrames) and column count."""
        self._check_is_fitted()
        self._check_feature_names(X)
        return check_X(X, n_features=self.n_features_in_, estimator_name=type(self).__name__, **check)

    def _check_feature_names(self, X):
        fitted = getattr(self, "feature_names_in_", None)
        given = _frame_feature_names(X)
        if fitted is None:
            if given is not None:
                warnings.warn(f"X has feature names, but {type(self).__name__} was fitted without feature names",
                              UserWarning, stacklevel=3)
            return
        if given is None:
            warnings.warn(f"X does not have valid feature names, but {type(self).__name__} was fitted with "
                              "feature names", UserWarning, stacklevel=3)
            return
        if len(given) == len(fitted) and (given == fitted).all():
            return
        unseen = sorted(set(given) - set(fitted))
        missing = sorted(set(fitted) - set(given))
        message = "The feature names should match those that were passed during fit.\n"
        if unseen:
            message += "Feature names unseen at fit time:\n" + _name_list(unseen)
        if missing:
            message += "Feature names seen at fit time, yet now missing:\n" + _name_list(missing)
        if not unseen and not missing:
            message += "Feature names must be in the same order as they were in fit.\n"
        raise ValueError(message)


class RegressorMixin:
    """``score`` = R^2 of ``predict``; tagged as a regressor for scikit-learn."""

    _estimator_kind = "regressor"

    def score(self, X, y, sample_weight=None):
        """Coefficient of determination R^2 of predict(X) against y (n,), optionally weighted (n,).
        A constant y gives 1.0 for a perfect prediction, else 0.0 (scikit-learn's convention)."""
        y = np.asarray(y, dtype=np.float64)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        pred = np.asarray(self.predict(X), dtype=np.float64)
        w = np.ones_like(y) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        if y.shape != pred.shape or w.shape != y.shape:
            raise ValueError(f"y of shape {y.shape} does not match the {pred.shape[0]} predictions "
                             f"(or sample_weight of shape {w.shape})")
        residual = float(np.sum(w * (y - pred) ** 2))
        total = float(np.sum(w * (y - np.average(y, weights=w)) ** 2))
        if total == 0.0:
            return 1.0 if residual == 0.0 else 0.0
        return 1.0 - residual / total


def _same_value(a, b):
    if a is b:
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return False
    try:
        return type(a) is type(b) and bool(a == b)
    except (TypeError, ValueError):
        return False


def _short_repr(value):
    if isinstance(value, type):
        return f"{value.__module__}.{value.__name__}" if value.__module__ != "builtins" else value.__name__
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
