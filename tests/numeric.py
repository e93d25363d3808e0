"""Numeric helpers shared by the tests (imported as ``tests.numeric``; pytest puts the checkout root on sys.path
through the root conftest.py)."""
import numpy as np


def rel_err(a, b):
    """``||a - b|| / (||a|| + ||b||)`` in float64 (0 for two zero arrays): the gradient checks' error."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300)
