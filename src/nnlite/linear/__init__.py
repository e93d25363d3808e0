"""Linear estimators: epsilon-SVR by dual coordinate descent, elastic net by coordinate descent."""
from nnlite import _numba_cache  # noqa: F401  (before the kernels of this package compile: where they are cached)
