"""Non-negative least squares by the active-set method of Lawson & Hanson (1974), "Solving Least Squares
Problems", chapter 23, algorithm NNLS."""
import numpy as np


def nnls(A, b, max_iter=None, tol=None):
    """Solve min_x ||A x - b||_2 subject to x >= 0 (Lawson-Hanson active set).

    The passive set P holds the coordinates free to be positive, the rest are held at 0. Each outer step moves
    into P the held coordinate j of largest dual w_j = [A^T (b - A x)]_j (the steepest descent direction that
    keeps x >= 0); the inner loop solves the unconstrained least squares z on the columns of P and, while some
    z_i <= 0, steps from x towards z as far as feasibility allows and returns the coordinates that reach 0 to
    the held set. The solution is optimal (KKT) when every held coordinate has w_j <= tol.

    Parameters
    ----------
    A : array (m, n)
    b : array (m,)
    max_iter : int, optional
        Outer steps allowed; default 3 n (as Lawson and Hanson suggest; scipy.optimize.nnls too).
    tol : float, optional
        Dual feasibility tolerance; default 10 * eps * ||A||_1 * max(m, n) (Lawson and Hanson's choice).

    Returns
    -------
    x : ndarray (n,)
        The solution, x >= 0.
    rnorm : float
        ||A x - b||_2.
    """
    A = np.asarray(A, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if A.ndim != 2 or b.ndim != 1 or A.shape[0] != b.shape[0]:
        raise ValueError(f"nnls needs A (m, n) and b (m,), got shapes {A.shape} and {b.shape}")
    if not (np.isfinite(A).all() and np.isfinite(b).all()):
        raise ValueError("nnls: A and b must be finite")
    m, n = A.shape
    if max_iter is None:
        max_iter = 3 * n
    if tol is None:
        tol = 10 * np.finfo(np.float64).eps * np.abs(A).sum(axis=0).max(initial=0.0) * max(m, n)
    x = np.zeros(n)
    passive = np.zeros(n, dtype=bool)
    w = A.T @ b
    for _ in range(max_iter):
        held = ~passive
        if not held.any() or w[held].max() <= tol:
            break
        j = int(np.argmax(np.where(held, w, -np.inf)))
        passive[j] = True
        while True:
            z = np.zeros(n)
            cols = np.flatnonzero(passive)
            z[cols] = np.linalg.lstsq(A[:, cols], b, rcond=None)[0]
            if (z[cols] > 0).all():
                break
            # step from x towards z until the first passive coordinate reaches 0
            blocking = cols[z[cols] <= 0]
            gap = x[blocking] - z[blocking]  # >= 0; 0 only for a coordinate at 0 that z keeps at 0
            alpha = np.min(np.divide(x[blocking], gap, out=np.zeros(len(blocking)), where=gap > 0))
            x = x + alpha * (z - x)
            passive &= x > tol
            x[~passive] = 0.0
            if not passive.any():
                z = x
                break
        x = z
        w = A.T @ (b - A @ x)
    return x, float(np.linalg.norm(A @ x - b))
