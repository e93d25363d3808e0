"""Where Numba caches nnlite's compiled kernels (imported by each module that defines kernels, before them).

Every nnlite kernel is ``@njit(cache=True)``. Numba's own rule puts the cache in ``__pycache__`` beside the
source, else in its user-wide folder, and raises ``RuntimeError: cannot cache function ... no locator
available`` when neither is writable (read-only containers, HPC images). For nnlite's own source files:

1. ``NUMBA_CACHE_DIR`` set by the user: Numba's rule, unchanged.
2. A source checkout (the package folder is writable and not inside site-/dist-packages): ``__pycache__``
   beside the source, as Numba does.
3. An installed package (or a read-only folder): ``$XDG_CACHE_HOME/nnlite/numba-<version>`` (default
   ``~/.cache/nnlite/...``): the cache stays out of the installed package, so ``pip uninstall`` leaves no
   ``nnlite/__pycache__`` behind. Not the shared temp folder: another user could plant compiled code there.
4. Nothing writable: the kernels run uncached (compiled in each process) after one warning line.

Other libraries' Numba functions are not affected: the locators below answer only for files under the folders
in ``PACKAGES`` (nnlite's own; an application installed beside it adds its folder with ``register(folder)``
before its first ``@njit``).

In every case a cache entry is stamped with a digest of all the sources of its package, where Numba stamps it
with its own file alone: a kernel inlines the kernels it calls from other files, so a change in one of those
must recompile it, where Numba alone would load the stale machine code.
"""
import hashlib
import os
import tempfile
import warnings
from pathlib import Path

from numba.core import caching, config

from nnlite import __version__

PACKAGE = Path(__file__).resolve().parent
# the locators' names lost their leading underscore in later Numba releases
_USER_PROVIDED = getattr(caching, "UserProvidedCacheLocator", None) or caching._UserProvidedCacheLocator
_IN_TREE = getattr(caching, "InTreeCacheLocator", None) or caching._InTreeCacheLocator


def _writable(folder):
    try:
        os.makedirs(folder, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
        return True
    except OSError:
        return False


def _is_installed():
    return any(part in ("site-packages", "dist-packages") for part in PACKAGE.parts)


def user_cache_dir():
    """The cache folder of an installed package: $XDG_CACHE_HOME (default ~/.cache)/nnlite/numba-<version>."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "nnlite" / f"numba-{__version__}"


def choose_cache_dir():
    """The folder nnlite's kernels are cached in, or None for Numba's own rule (cases 1 and 2 above)."""
    if config.CACHE_DIR:
        return None
    if not _is_installed() and _writable(PACKAGE / "__pycache__"):
        return None
    folder = user_cache_dir()
    return folder if _writable(folder) else None


PACKAGES = [PACKAGE]


def register(folder):
    """Cache the kernels of the source files under ``folder`` by the same rule as nnlite's own."""
    folder = Path(folder).resolve()
    if folder not in PACKAGES:
        PACKAGES.append(folder)


def _package_of(py_file):
    """The folder of ``PACKAGES`` holding ``py_file``, or None."""
    try:
        path = Path(py_file).resolve()
    except OSError:
        return None
    return next((folder for folder in PACKAGES if path.is_relative_to(folder)), None)


def _ours(py_file):
    return _package_of(py_file) is not None


_DIGESTS = {}


def package_digest(folder):
    """sha256 (hex) of the names and contents of every ``.py`` file under ``folder``, once per process."""
    if folder not in _DIGESTS:
        h = hashlib.sha256()
        for path in sorted(Path(folder).rglob("*.py")):
            h.update(path.relative_to(folder).as_posix().encode() + b"\0")
            h.update(path.read_bytes() + b"\0")
        _DIGESTS[folder] = h.hexdigest()
    return _DIGESTS[folder]


class _PackageStamp:
    """A locator of this package's kernels only, whose source stamp is the digest of the file's whole package
    (which covers the file itself)."""

    def get_source_stamp(self):
        return package_digest(_package_of(self._py_file))

    @classmethod
    def from_function(cls, py_func, py_file):
        return super().from_function(py_func, py_file) if _ours(py_file) else None


class StampedUserLocator(_PackageStamp, _USER_PROVIDED):
    """Case 1 (``NUMBA_CACHE_DIR``) for this package's kernels."""


class StampedInTreeLocator(_PackageStamp, _IN_TREE):
    """Case 2 (``__pycache__`` beside a checkout's sources) for this package's kernels."""


class NnliteCacheLocator(_PackageStamp, caching._SourceFileBackedLocatorMixin, caching._CacheLocator):
    """Caches this package's kernels under ``CACHE_DIR`` (case 3); declines for every other file."""

    def __init__(self, py_func, py_file):
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno
        self._cache_path = str(CACHE_DIR / self.get_suitable_cache_subpath(py_file))

    def get_cache_path(self):
        return self._cache_path

    @classmethod
    def from_function(cls, py_func, py_file):
        return None if CACHE_DIR is None else super().from_function(py_func, py_file)


class UncachedLocator(caching._CacheLocator):
    """Last resort for this package's kernels when no folder is writable (case 4): nothing is loaded (its
    folder does not exist) and nothing is saved (``check_cachable`` answers False for it, below)."""

    _warned = False

    def __init__(self, py_func, py_file):
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno

    def get_cache_path(self):
        return os.path.join(os.sep, "nonexistent-nnlite-uncached")

    def get_source_stamp(self):
        return "uncached"

    def get_disambiguator(self):
        return str(self._lineno)

    @classmethod
    def from_function(cls, py_func, py_file):
        if not _ours(py_file):
            return None
        if not UncachedLocator._warned:
            UncachedLocator._warned = True
            # warn_explicit with no source line: one line on stderr
            warnings.warn_explicit("nnlite: no writable folder for Numba's cache (set NUMBA_CACHE_DIR); "
                                   "kernels are compiled in every process", RuntimeWarning, "nnlite", 0)
        return cls(py_func, py_file)


def _refuse_uncached(check_cachable):
    def wrapped(self, data):
        if isinstance(self._locator, UncachedLocator):
            return False
        return check_cachable(self, data)
    wrapped._nnlite = True
    return wrapped


def install():
    """Register the locators with Numba once per process (idempotent)."""
    classes = caching.CacheImpl._locator_classes
    if NnliteCacheLocator not in classes:
        classes[0:0] = [StampedUserLocator, NnliteCacheLocator, StampedInTreeLocator]
        classes.append(UncachedLocator)
    for impl in (caching.CompileResultCacheImpl, caching.CodeLibraryCacheImpl):
        if not getattr(impl.check_cachable, "_nnlite", False):
            impl.check_cachable = _refuse_uncached(impl.check_cachable)


CACHE_DIR = choose_cache_dir()
install()
