"""Numba kernels that prepare the elastic net's data and score its solutions (no BLAS call, as in the CV loop):
each fold's centred float64 and float32 Fortran copies in one blocked pass over C-ordered X (``center_rows``), and
the held-out predictions of one sparse solution (``sparse_predict``)."""
import numpy as np
from numba import njit


@njit(cache=True, fastmath=True)
def sparse_predict(X_test, w, x_mean, y_mean, out):
    """Held-out predictions of one solution into out (m,): X_test[i] . w + b with the intercept
    b = y_mean - x_mean . w; X_test (m, p) Fortran-ordered (a nonzero's column is contiguous), w (p,) mostly zero."""
    m = X_test.shape[0]
    out[:] = 0.0
    b = y_mean
    for j in range(w.shape[0]):
        wj = w[j]
        if wj != 0.0:
            b -= x_mean[j] * wj
            for i in range(m):
                out[i] += X_test[i, j] * wj
    for i in range(m):
        out[i] += b


_BLOCK = 64  # columns gathered per block: 64 x n float64 stays in cache while it is centred


@njit(cache=True)
def center_rows(X, rows, fit_intercept, buf, buf32):
    """The rows ``rows`` of X (N, p) (C order), column means removed when fit_intercept, in Fortran order, in
    one blocked pass (no transposed copy of X), written into the flat buffers buf (float64) and buf32 (float32)
    of at least n p entries (reused across folds: fresh pages cost more than the copy); returns (Xc float64
    (n, p), Xc rounded to float32 (n, p), column means (p,), squared column norms of the float64 Xc (p,)), both
    matrices Fortran-ordered views of the buffers."""
    n = rows.shape[0]
    p = X.shape[1]
    out = buf[:n * p].reshape((p, n)).T  # Fortran order
    out32 = buf32[:n * p].reshape((p, n)).T
    means = np.zeros(p)
    norms2 = np.empty(p)
    for j0 in range(0, p, _BLOCK):
        j1 = min(j0 + _BLOCK, p)
        for t in range(n):
            r = rows[t]
            for j in range(j0, j1):
                out[t, j] = X[r, j]
        for j in range(j0, j1):
            mu = 0.0
            if fit_intercept:
                acc = 0.0
                for t in range(n):
                    acc += out[t, j]
                mu = acc / n
            means[j] = mu
            s2 = 0.0
            for t in range(n):
                v = out[t, j] - mu
                out[t, j] = v
                out32[t, j] = v
                s2 += v * v
            norms2[j] = s2
    return out, out32, means, norms2


@njit(cache=True)
def rows_fortran(X, rows):
    """X[rows] (m, p) in Fortran order from C-ordered X (N, p), blocked as in ``center_rows``."""
    m = rows.shape[0]
    p = X.shape[1]
    out = np.empty((p, m)).T
    for j0 in range(0, p, _BLOCK):
        j1 = min(j0 + _BLOCK, p)
        for t in range(m):
            r = rows[t]
            for j in range(j0, j1):
                out[t, j] = X[r, j]
    return out
