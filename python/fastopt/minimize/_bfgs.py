"""The dense BFGS direction strategy for the quasi-Newton driver (small problems)."""

from __future__ import annotations

import numpy as np


class BFGSDirection:
    r"""Search directions ``d = -H g`` from a dense inverse Hessian approximation ``H``.

    After each accepted step with :math:`s = x_{k+1} - x_k`, :math:`y = g_{k+1} - g_k` and
    :math:`\rho = 1 / s^\top y`, ``H`` is updated by Nocedal & Wright (2006), eq. (6.17):

    .. math:: H_{k+1} = (I - \rho s y^\top) H_k (I - \rho y s^\top) + \rho s s^\top,

    applied as the equivalent rank-two update
    :math:`H - \rho (H y s^\top + s y^\top H) + (\rho^2 y^\top H y + \rho) s s^\top`.
    Before the first update ``H`` is rescaled to :math:`\gamma I` with
    :math:`\gamma = s^\top y / y^\top y` (Nocedal & Wright, eq. (6.20)); before any pair, and
    after a reset, the direction is steepest descent scaled by the last :math:`\gamma`.
    A pair is skipped under the same curvature test as L-BFGS,
    :math:`s^\top y \le \epsilon\, y^\top y` with :math:`\epsilon` the dtype's machine epsilon.
    ``H`` is kept in float64 whatever the dtype of the run: :math:`n^2` doubles.
    """

    def __init__(self, n: int, dtype):
        self.n = n
        self.dtype = np.dtype(dtype)
        self.H = np.empty((n, n))
        self.gamma = 1.0
        #: Updates applied since the last reset; 0 means H = gamma * I.
        self.count = 0
        #: Pairs rejected by the curvature test.
        self.nskipped = 0

    def direction(self, g, out) -> None:
        if self.count == 0:
            np.multiply(g, -self.gamma, out=out, casting="unsafe")
            return
        np.copyto(out, -(self.H @ g.astype(np.float64, copy=False)), casting="unsafe")

    def update(self, x_new, x, g_new, g) -> bool:
        s = x_new.astype(np.float64) - x
        y = g_new.astype(np.float64) - g
        sy = float(np.dot(s, y))
        yy = float(np.dot(y, y))
        eps = float(np.finfo(self.dtype).eps)
        if not (np.isfinite(sy) and np.isfinite(yy) and sy > eps * yy and yy > 0.0):
            self.nskipped += 1
            return False
        if self.count == 0:
            self.gamma = sy / yy
            self.H[...] = 0.0
            self.H.flat[:: self.n + 1] = self.gamma
        rho = 1.0 / sy
        hy = self.H @ y
        yhy = float(np.dot(y, hy))
        self.H -= rho * (np.outer(hy, s) + np.outer(s, hy))
        self.H += (rho * rho * yhy + rho) * np.outer(s, s)
        self.count += 1
        return True

    def reset(self) -> None:
        self.count = 0

    def hess_inv(self) -> np.ndarray:
        """Return a float64 copy of ``H`` of shape ``(n, n)``: ``gamma * I`` before any update."""
        if self.count == 0:
            return self.gamma * np.eye(self.n)
        return self.H.copy()
