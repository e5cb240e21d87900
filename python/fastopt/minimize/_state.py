"""History of curvature pairs for L-BFGS, stored as a preallocated ring buffer."""

from __future__ import annotations

import numpy as np
from scipy.sparse.linalg import LinearOperator

from fastopt import _core

MAX_HISTORY = int(_core.lbfgs_max_history)


def _work_size(n: int, slots: int) -> int:
    block = int(_core.lbfgs_block)
    return max(1, -(-n // block)) * 4 * slots


class LBFGSState:
    r"""Curvature pairs and inverse Hessian scaling of an L-BFGS run, reusable for warm starts.

    The pairs :math:`s_i = x_{i+1} - x_i` and :math:`y_i = g_{i+1} - g_i` live in two
    ``(history_size + 1, n)`` arrays used as a ring buffer: the extra row receives a candidate
    pair before the curvature test decides whether it replaces the oldest one. With the cached
    ``(history_size + 1)``-square matrices of :math:`s_i^\top y_j` and :math:`y_i^\top y_j`, the
    state takes :math:`2(m + 1)n` elements of the working dtype plus :math:`O(m^2 + n / 2048)`
    float64 words, and no call allocates memory proportional to ``n``.

    Pass the same state to successive :func:`fastopt.minimize.minimize` calls (``state=``) to
    continue with the history kept.

    Parameters
    ----------
    n : int
        Number of variables.
    history_size : int, default 10
        Number of pairs kept, ``1 <= history_size <= 256``.
    dtype : float32 or float64, default float64
        Storage and arithmetic type of the pairs; must match ``x0`` of the runs using it.

    Examples
    --------
    One pair from a quadratic with Hessian ``diag(1, 4)``; ``H`` then scales by
    :math:`\gamma = s^\top y / y^\top y`:

    >>> import numpy as np
    >>> from fastopt.minimize import LBFGSState
    >>> state = LBFGSState(2, history_size=5)
    >>> hessian = np.array([1.0, 4.0])
    >>> x, x_new = np.zeros(2), np.array([1.0, 1.0])
    >>> state.add_pair(x_new, x, hessian * x_new, hessian * x)
    True
    >>> state.count
    1
    >>> S, Y = state.pairs()
    >>> S, Y
    (array([[1., 1.]]), array([[1., 4.]]))
    """

    def __init__(self, n: int, history_size: int = 10, dtype=np.float64):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n: expected an integer >= 1, got {n!r}")
        check_history_size(history_size)
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype: expected float32 or float64, got {dtype}")
        self.n = int(n)
        self.history_size = int(history_size)
        self.dtype = dtype
        self._allocate(self.history_size + 1)
        #: Active slots, oldest first.
        self._order: list[int] = []
        self._order_array = np.zeros(0, np.int64)
        # Slots whose column of sy and yy the next kernel call must fill.
        self._stale: list[int] = []
        #: Initial inverse Hessian scaling gamma = s'y / y'y of the newest pair.
        self.gamma = 1.0
        #: Pairs stored and pairs rejected by the curvature test since creation.
        self.npairs = 0
        self.nskipped = 0
        #: Incremented on every change, so inverse Hessian operators can detect reuse.
        self.version = 0

    def _allocate(self, slots: int) -> None:
        """Create the pairs, the cached products and the kernel's scratch space."""
        self.s = np.zeros((slots, self.n), self.dtype)
        self.y = np.zeros((slots, self.n), self.dtype)
        self.sy = np.zeros((slots, slots))
        self.yy = np.zeros((slots, slots))
        self._work = np.zeros(_work_size(self.n, slots))

    @property
    def count(self) -> int:
        """Number of pairs currently in the history."""
        return len(self._order)

    def reset(self) -> None:
        """Drop every pair, keeping the storage and ``gamma``.

        The next direction is steepest descent scaled by the last ``gamma``.
        """
        self._order = []
        self._order_array = np.zeros(0, np.int64)
        self._stale = []
        self.version += 1

    def add_pair(self, x_new, x, g_new, g, eps: float | None = None) -> bool:
        r"""Store ``s = x_new - x``, ``y = g_new - g`` unless the curvature test rejects it.

        The pair is kept when :math:`s^\top y > \epsilon\, y^\top y`, the test of L-BFGS-B,
        which does not change when ``f`` is scaled. ``eps`` defaults to the machine epsilon of
        the dtype. A rejected pair is counted in ``nskipped`` and leaves the history unchanged.

        Parameters
        ----------
        x_new, x : numpy.ndarray of shape (n,)
            The new and the previous iterate.
        g_new, g : numpy.ndarray of shape (n,)
            The gradients at ``x_new`` and ``x``.
        eps : float, optional
            Threshold of the curvature test; the dtype's machine epsilon by default.

        Returns
        -------
        bool
            Whether the pair was stored.
        """
        if eps is None:
            eps = float(np.finfo(self.dtype).eps)
        used = set(self._order)
        slot = next(i for i in range(self.history_size + 1) if i not in used)
        sy, yy = self._store_pair(slot, x_new, x, g_new, g)
        if not (np.isfinite(sy) and np.isfinite(yy) and sy > eps * yy and yy > 0.0):
            self.nskipped += 1
            return False
        self._order.append(slot)
        if len(self._order) > self.history_size:
            dropped = self._order.pop(0)
            if dropped in self._stale:
                self._stale.remove(dropped)
        self._order_array = np.array(self._order, np.int64)
        self._stale.append(slot)
        self.gamma = sy / yy
        self.npairs += 1
        self.version += 1
        return True

    def _store_pair(self, slot: int, x_new, x, g_new, g) -> tuple[float, float]:
        """Write s and y into ``slot``; return s'y and y'y."""
        sy, yy, _ = _core.lbfgs_pair(x_new, x, g_new, g, self.s[slot], self.y[slot], self._work)
        return sy, yy

    def direction(self, g, out) -> np.ndarray:
        """Write ``-H g`` into ``out`` (the L-BFGS search direction) and return it.

        Parameters
        ----------
        g : numpy.ndarray of shape (n,)
            The gradient, in the state's dtype.
        out : numpy.ndarray of shape (n,)
            Receives the direction; of the state's dtype, C-contiguous.

        Returns
        -------
        numpy.ndarray
            ``out``.
        """
        self.direction_and_slope(g, out)
        return out

    def direction_and_slope(self, g, out) -> float:
        """Write ``-H g`` into ``out`` and return ``g'out`` from the same pass.

        The product is summed in the blocks and lanes of ``fastopt._core.lbfgs_dot(g, out)``,
        so it has the same bits.

        Parameters
        ----------
        g, out : numpy.ndarray of shape (n,)
            As in :meth:`direction`.

        Returns
        -------
        float
            The slope :math:`g^\top d` of the direction ``d`` written into ``out``.
        """
        # Normally one pair is stale; the kernel fills its column during the same pass. Older
        # stale slots (a second pair added without a direction in between) are filled first.
        while len(self._stale) > 1:
            self._fill_column(self._stale.pop(0))
        new_slot = self._stale.pop() if self._stale else -1
        return self._direction_kernel(g, out, new_slot)

    def _direction_kernel(self, g, out, new_slot: int) -> float:
        return _core.lbfgs_direction(self.s, self.y, self._order_array, new_slot, self.sy,
                                     self.yy, self.gamma, g, out, self._work)

    def _fill_column(self, slot: int) -> None:
        # lbfgs_dot sums in the blocks and lanes the direction kernel uses for the same
        # column, so both ways of filling it give the same bits.
        y_new = self.y[slot]
        for i in self._order:
            self.sy[i, slot] = _core.lbfgs_dot(self.s[i], y_new)
            yy = _core.lbfgs_dot(self.y[i], y_new)
            self.yy[i, slot] = yy
            self.yy[slot, i] = yy

    def apply_inverse_hessian(self, v) -> np.ndarray:
        """Return ``H v`` for the current history, in the state's dtype.

        Parameters
        ----------
        v : array_like of n elements
            The vector to multiply.

        Returns
        -------
        numpy.ndarray of shape (n,)
            :math:`H v`, with :math:`H` including the scaling :math:`\gamma`.
        """
        v = np.ascontiguousarray(v, dtype=self.dtype).reshape(self.n)
        out = np.empty(self.n, self.dtype)
        self.direction(v, out)
        np.negative(out, out=out)
        return out

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """Return copies of the stored pairs, oldest first.

        Returns
        -------
        S : numpy.ndarray of shape (count, n)
            The steps :math:`s_i`, one per row.
        Y : numpy.ndarray of shape (count, n)
            The gradient changes :math:`y_i`, one per row.
        """
        return self.s[self._order].copy(), self.y[self._order].copy()

    def copy(self) -> LBFGSState:
        """Return an independent copy (history included).

        Returns
        -------
        LBFGSState
            A state with its own arrays, equal to this one.
        """
        other = type(self)(self.n, self.history_size, self.dtype)
        for name in ("s", "y", "sy", "yy"):
            getattr(other, name)[...] = getattr(self, name)
        other._order = list(self._order)
        other._order_array = self._order_array.copy()
        other._stale = list(self._stale)
        other.gamma = self.gamma
        other.npairs = self.npairs
        other.nskipped = self.nskipped
        return other

    def __repr__(self) -> str:
        return (f"LBFGSState(n={self.n}, history_size={self.history_size}, "
                f"dtype={self.dtype}, count={self.count}, gamma={self.gamma:.6g})")


def check_history_size(history_size) -> int:
    """Return ``history_size`` as an int in [1, 256], or raise ValueError naming it."""
    if (isinstance(history_size, bool) or not isinstance(history_size, (int, np.integer))
            or not 1 <= history_size <= MAX_HISTORY):
        raise ValueError(
            f"history_size: expected an integer in [1, {MAX_HISTORY}], got {history_size!r}")
    return int(history_size)


class LBFGSInverseHessian(LinearOperator):
    r"""The L-BFGS inverse Hessian approximation as a :class:`scipy.sparse.linalg.LinearOperator`.

    Applies :math:`H = \gamma I` updated by the stored pairs (Nocedal & Wright, 2006,
    Algorithm 7.4), with :math:`\gamma = s^\top y / y^\top y` of the newest pair. It shares the
    history of the state it was made from. Once that state changes (a warm-started run), a
    product raises RuntimeError instead of returning values of another matrix, so pass
    ``state.copy()`` to the later run to keep this operator usable.

    Parameters
    ----------
    state : LBFGSState
        The history of curvature pairs.

    References
    ----------
    Nocedal, J. and Wright, S. J. "Numerical Optimization", 2nd ed., Springer, 2006.

    Examples
    --------
    :func:`fastopt.minimize.minimize` returns one as ``hess_inv``; on
    :math:`\|x - 1\|^2`, whose Hessian is :math:`2 I`, it is :math:`I / 2`:

    >>> import numpy as np
    >>> from fastopt.minimize import minimize
    >>> result = minimize(lambda x: (float(((x - 1) ** 2).sum()), 2 * (x - 1)), np.zeros(3),
    ...                   jac=True)
    >>> bool(np.allclose(result.hess_inv.todense(), np.eye(3) / 2))
    True
    """

    def __init__(self, state: LBFGSState):
        super().__init__(dtype=state.dtype, shape=(state.n, state.n))
        self.state = state
        self._version = state.version

    def _check(self):
        if self.state.version != self._version:
            raise RuntimeError(
                "the L-BFGS state behind this inverse Hessian changed after the run (it was "
                "reused for a warm start); pass state.copy() to the later run to keep both")

    def _matvec(self, v):
        self._check()
        return self.state.apply_inverse_hessian(np.ravel(v))

    def _rmatvec(self, v):
        return self._matvec(v)

    def _matmat(self, V):
        return np.column_stack([self._matvec(V[:, j]) for j in range(V.shape[1])])

    def _adjoint(self):
        return self

    def todense(self) -> np.ndarray:
        """Return H as a dense ``(n, n)`` array.

        Returns
        -------
        numpy.ndarray of shape (n, n)
            The approximation of the inverse Hessian.
        """
        return self._matmat(np.eye(self.shape[0], dtype=self.dtype))
