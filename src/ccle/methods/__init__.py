"""The methods: the registry (one :class:`MethodSpec` per method), preprocessing, gene selection and every
per-drug and cross-drug estimator.

Public API::

    from ccle.methods import MethodSpec, register
"""
from ccle.methods.registry import (MethodSpec, colors, default_methods, label, load_plugins, make_method, names,
                                   parse_methods, register, spec, specs, unregister)
from ccle.methods import builtin  # noqa: F401  (registers the built-in methods)

__all__ = ["MethodSpec", "register", "unregister", "spec", "specs", "names", "label", "colors", "default_methods",
           "make_method", "parse_methods", "load_plugins"]
