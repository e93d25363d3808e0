"""The one place in ``src/`` that touches scikit-learn, and only when scikit-learn asks.

scikit-learn (>= 1.6) asks an estimator for ``__sklearn_tags__()`` and expects its own ``Tags`` dataclasses
back, so this method imports ``sklearn.utils`` lazily, inside the method: ``import nnlite`` never imports
scikit-learn, and nothing else in nnlite calls this. What the tags say: dense 2-D float input (no NaN, no
sparse matrices, no strings), a required one-dimensional y, and, per estimator, ``_estimator_kind``
("regressor"), ``_is_transformer`` and ``_poor_score`` (an estimator that is not meant to fit well, the
mean baseline).
"""
import sys


class SklearnTagsMixin:
    """Provides ``__sklearn_tags__`` for scikit-learn's meta-estimators and ``check_estimator``."""

    _estimator_kind = None
    _is_transformer = False
    _poor_score = False

    def __sklearn_tags__(self):
        # lazy on purpose: only scikit-learn calls this, and scikit-learn is not a dependency of nnlite
        from sklearn.utils import InputTags, RegressorTags, Tags, TargetTags, TransformerTags

        kind = self._estimator_kind
        return Tags(
            estimator_type=kind,
            target_tags=TargetTags(required=kind is not None, one_d_labels=False, two_d_labels=False,
                                   positive_only=False, multi_output=False, single_output=True),
            transformer_tags=TransformerTags(preserves_dtype=["float64"]) if self._is_transformer else None,
            classifier_tags=None,
            regressor_tags=RegressorTags(poor_score=self._poor_score) if kind == "regressor" else None,
            array_api_support=False,
            no_validation=False,
            non_deterministic=False,
            requires_fit=True,
            input_tags=InputTags(one_d_array=False, two_d_array=True, three_d_array=False, sparse=False,
                                 categorical=False, string=False, dict=False, positive_only=False,
                                 allow_nan=False, pairwise=False),
        )


_ERROR_TWINS = {}


def not_fitted_error(nnlite_error):
    """The class to raise for an unfitted estimator: ``nnlite_error`` itself, or, when scikit-learn is already
    imported by the caller, a subclass of both it and scikit-learn's ``NotFittedError`` (so ``except`` on
    either catches it). Looks in ``sys.modules`` only: never imports scikit-learn."""
    module = sys.modules.get("sklearn.exceptions")
    sk_error = getattr(module, "NotFittedError", None)
    if sk_error is None:
        return nnlite_error
    twin = _ERROR_TWINS.get(sk_error)
    if twin is None:
        twin = type(nnlite_error.__name__, (nnlite_error, sk_error), {"__module__": nnlite_error.__module__})
        _ERROR_TWINS[sk_error] = twin
    return twin
