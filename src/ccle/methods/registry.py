"""The method registry: what a method *is*, in one place.

A method is one :class:`MethodSpec`: its estimator factory and everything the rest of the pipeline asks of it
(whether it is fitted on the split's SVR-RFE genes, whether ``--widths`` / ``--search`` apply, whether it
learns across drugs or needs each row's tissue, which family of kernels its warm-up compiles, its ``--quick``
settings, its report label and colour, the record and gene-table fields it adds). The benchmark, the warm-up,
the report and the command line read the registry; none of them names a method.

The built-in methods register themselves in :mod:`ccle.methods.builtin` (imported by :mod:`ccle.methods`); one's own method is registered the same
way, from a plugin file (``benchmark --plugin FILE.py``) or an installed package's entry point in the group
``ccle.methods`` (:func:`load_plugins`)::

    from ccle.methods import MethodSpec, register

    register(MethodSpec(name="KNN5", make=lambda seed=0, **kw: MyEstimator(), label="5 nearest neighbours"))

``make(seed=..., **kw)`` returns a fresh unfitted estimator with ``fit(X, y)`` and ``predict(X)``: ``X`` (n,
genes) is one drug's expression after the label-free transform (the kept genes, log2 where decided), ``y`` (n,)
its responses. ``kw`` may hold ``selector`` (a fitted :class:`ccle.methods.gene_selection.GeneSelector`: the
split's scaling, and with ``uses_rfe`` its RFE genes; under the paper protocol it was fitted on all rows of the
drug), ``n_features``, ``widths`` and the method's options; a plugin may ignore them. An estimator that sets
``oof_predictions_`` (n_train,) -- a prediction of each training row by a model that never fitted it -- gets the
calibrated sensitivity calls; without it, only the paper's rule.
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from ccle.errors import CCLEError

ENTRY_POINT_GROUP = "ccle.methods"
# colours of methods registered without one (darker tones, unlike matplotlib's C0-C9 of the built-in methods)
_SPARE_COLORS = ("#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd")


@dataclass(frozen=True)
class MethodSpec:
    """One method of the benchmark, ``train`` and the report.

    Parameters
    ----------
    name : str
        The code used on the command line (``--methods``), in records and in ``predictions.csv.gz``. Letters,
        digits and ``+-_.`` only.
    make : callable
        ``make(seed=0, **kw) -> estimator``: a fresh, unfitted estimator (see the module docstring for ``kw``).
    label : str, optional
        The name a reader sees in tables and figures (default: ``name``).
    color : str, optional
        Matplotlib colour of the method in every figure (default: a spare colour by registration order).
    description : str
        One line for ``--help`` and the docs.
    uses_rfe : bool
        Fitted on the split's SVR-RFE genes: the pipeline passes the split's fitted ``selector``.
    uses_widths : bool
        ``--widths`` fixes its hidden widths (``widths=`` is passed).
    searchable : bool
        ``--search`` chooses its widths with the paper's greedy search.
    searches_itself : bool
        Runs the paper's search on its own (PM): under the strict protocol inside ``fit``, on an inner split;
        under the paper protocol once on all rows of the drug, before the splits.
    cross_drug : bool
        Learns across drugs: one task per split fits every drug at once; needs a split scheme that holds out
        cell lines for every drug ("cell-lines", "tissues").
    needs_tissues : bool
        ``fit`` / ``predict`` take ``tissues=`` (one tissue per row).
    default : bool
        Part of the default ``--methods`` (cross-drug methods only where the split scheme allows them).
    kernel_group : str or None
        The family of Numba kernels its warm-up compiles (a lock per family); None: nothing to compile.
    warmup_options : dict
        Constructor arguments of the shortest training that still runs every kernel (the warm-up).
    quick_options : dict
        Constructor arguments of ``--quick``.
    schedule_rank : int
        Order of a drug's tasks (lower first): long fits first, and methods that share a split's RFE apart.
    record_fields : callable or None
        ``record_fields(estimator, X_test, y_test) -> dict``: fields the method adds to its result record.
    gene_fields : callable or None
        ``gene_fields(estimator, genes, X_train, y_train, seed) -> dict``: the method's ranked gene lists
        (:mod:`ccle.evaluation.genes`).
    members : tuple of str
        A method built from other methods' predictions in the same run (stacking): its tasks run after every
        other task of the run, and its ``fit`` / ``predict`` take ``members=`` {member: (n,) predictions of the
        rows} (out-of-fold predictions for the training rows), read from what the members wrote; the members of
        this tuple that the run has are used.
    plugin : str or None
        Where a plugin method came from (a file or an entry point); None for the built-in methods.
    """
    name: str
    make: Callable
    label: Optional[str] = None
    color: Optional[str] = None
    description: str = ""
    uses_rfe: bool = False
    uses_widths: bool = False
    searchable: bool = False
    searches_itself: bool = False
    cross_drug: bool = False
    needs_tissues: bool = False
    default: bool = True
    kernel_group: Optional[str] = None
    warmup_options: dict = field(default_factory=dict)
    quick_options: dict = field(default_factory=dict)
    schedule_rank: int = 1
    record_fields: Optional[Callable] = None
    gene_fields: Optional[Callable] = None
    members: tuple = ()
    plugin: Optional[str] = None

    @property
    def display(self):
        """The label a reader sees (``label``, else ``name``)."""
        return self.label or self.name


_REGISTRY: dict = {}
_LOADED: set = set()   # plugin files and entry points already imported in this process


def _check_name(name):
    if not isinstance(name, str) or not name or any(not (c.isalnum() or c in "+-_.") for c in name):
        raise CCLEError(f"method name {name!r}: use letters, digits and + - _ . only")


def register(spec, *, replace=False):
    """Add ``spec`` (a :class:`MethodSpec`) to the registry and return it.

    A name already registered (case-insensitively) is refused unless ``replace``; a plugin cannot shadow a
    built-in method silently.
    """
    if not isinstance(spec, MethodSpec):
        raise CCLEError(f"register() takes a MethodSpec, got {type(spec).__name__}")
    _check_name(spec.name)
    if not callable(spec.make):
        raise CCLEError(f"method {spec.name!r}: make must be callable")
    clash = next((n for n in _REGISTRY if n.lower() == spec.name.lower()), None)
    if clash is not None and not replace:
        raise CCLEError(f"method {spec.name!r} is already registered"
                        + (f" (by {_REGISTRY[clash].plugin})" if _REGISTRY[clash].plugin else " (built in)"))
    if clash is not None:
        del _REGISTRY[clash]
    _REGISTRY[spec.name] = spec
    return spec


def unregister(name):
    """Remove method ``name`` (tests, and a plugin replacing its own method)."""
    _REGISTRY.pop(name, None)


def _builtins():
    # the built-in methods are registered by ccle.methods (its __init__ imports ccle.methods.builtin)
    return _REGISTRY


def spec(name):
    """The :class:`MethodSpec` of ``name``; an unknown name -> :class:`ccle.errors.CCLEError`."""
    reg = _builtins()
    if name not in reg:
        raise CCLEError(f"unknown method {name!r}; choose from {', '.join(reg)}")
    return reg[name]


def names():
    """Every registered method name, built-in first, then plugins in registration order."""
    return tuple(_builtins())


def specs():
    """Every registered :class:`MethodSpec`, in :func:`names` order."""
    return tuple(_builtins().values())


def default_methods(split_scheme):
    """What ``--methods`` defaults to under ``split_scheme``: every default method the scheme allows (a
    cross-drug method needs a scheme that holds out cell lines for every drug)."""
    return tuple(s.name for s in specs() if s.default and (split_scheme != "pairs" or not s.cross_drug))


def label(name):
    """The name a reader sees for method ``name`` (unregistered names as they are)."""
    reg = _builtins()
    return reg[name].display if name in reg else name


def colors(methods):
    """``{method: matplotlib colour}`` for ``methods``: the registered colour, else a spare one."""
    reg = _builtins()
    out, spare = {}, 0
    for m in methods:
        if m in reg and reg[m].color:
            out[m] = reg[m].color
        else:
            out[m] = _SPARE_COLORS[spare % len(_SPARE_COLORS)]
            spare += 1
    return out


def make_method(name, *, widths=None, n_features=1000, seed=0, selector=None, options=None):
    """A fresh, unfitted estimator for method ``name``.

    ``widths``: hidden widths of the methods with ``uses_widths`` (for a method that ``searches_itself``, None =
    its search inside ``fit``). ``options`` maps a method name to extra keyword arguments for its factory (e.g.
    ``--quick``'s shorter training).
    """
    s = spec(name)
    kw = dict((options or {}).get(name, {}))
    return s.make(widths=widths, n_features=n_features, seed=seed, selector=selector, **kw)


def parse_methods(text, split_scheme=None):
    """``"PM,EN"`` -> ``["PM", "EN"]`` (case-insensitive names, order kept as given, no repeats).

    With ``split_scheme="pairs"`` a cross-drug method is refused: per-drug splits would let it see test cell
    lines through other drugs.
    """
    reg = _builtins()
    canon = {m.lower(): m for m in reg}
    out = []
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        if part.lower() not in canon:
            raise CCLEError(f"unknown method {part!r} in --methods; choose from {', '.join(reg)}")
        if canon[part.lower()] not in out:
            out.append(canon[part.lower()])
    if not out:
        raise CCLEError("--methods lists no method")
    cross = [m for m in out if reg[m].cross_drug]
    if split_scheme == "pairs" and cross:
        raise CCLEError(f"--methods {','.join(cross)} learns across drugs and needs --split cell-lines or "
                        f"--split tissues (under --split pairs a test cell line of one drug trains another)")
    return out


def load_plugin_file(path):
    """Import the Python file ``path``, which registers methods with :func:`register`; returns the names it
    added. A missing file, or one that raises on import -> one :class:`CCLEError` line naming it."""
    path = Path(path).resolve()
    if str(path) in _LOADED:
        return ()
    if not path.is_file():
        raise CCLEError(f"{path}: no such plugin file")
    before = set(names())
    module_name = f"ccle_plugin_{abs(hash(str(path))):x}"
    try:
        loader_spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules[module_name] = module
        loader_spec.loader.exec_module(module)
    except CCLEError as exc:
        raise CCLEError(f"{path}: {exc}") from None
    except Exception as exc:  # a plugin's own bug: one line naming the file, not our traceback
        line = _plugin_line(exc, path)
        raise CCLEError(f"{path}{line}: the plugin raised {type(exc).__name__}: {exc}") from None
    _LOADED.add(str(path))
    added = [n for n in names() if n not in before]
    for n in added:
        _REGISTRY[n] = _with_origin(_REGISTRY[n], str(path))
    return tuple(added)


def _plugin_line(exc, path):
    tb, line = exc.__traceback__, ""
    while tb is not None:
        if Path(tb.tb_frame.f_code.co_filename).resolve() == path:
            line = f":{tb.tb_lineno}"
        tb = tb.tb_next
    return line


def _with_origin(s, origin):
    if s.plugin:
        return s
    d = {k: getattr(s, k) for k in s.__dataclass_fields__}
    d["plugin"] = origin
    return MethodSpec(**d)


def load_entry_points():
    """Import every installed entry point of the group ``ccle.methods`` (a module that registers methods on
    import, or a callable that does when called); returns the names they added."""
    before = set(names())
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        key = f"entry point {ep.name} = {ep.value}"
        if key in _LOADED:
            continue
        try:
            obj = ep.load()
            if callable(obj):
                obj()
        except CCLEError:
            raise
        except Exception as exc:
            raise CCLEError(f"plugin {key}: raised {type(exc).__name__}: {exc}") from None
        _LOADED.add(key)
        for n in [n for n in names() if n not in before]:
            _REGISTRY[n] = _with_origin(_REGISTRY[n], key)
        before = set(names())


def load_plugins(files=()):
    """The installed entry points, then each plugin file of ``files`` (``--plugin``), in order."""
    load_entry_points()
    for f in files or ():
        load_plugin_file(f)
