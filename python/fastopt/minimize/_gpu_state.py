"""The L-BFGS history and the OWL-QN orthant steps on the GPU, for CuPy starting points.

:class:`GPULBFGSState` mirrors :class:`fastopt.minimize.LBFGSState`: the pairs, the cached
``S'Y`` and ``Y'Y`` matrices and the kernel's scratch space are CuPy arrays on the device of
``x0``, and the direction comes from the compact-form kernel of ``csrc/cuda/lbfgs.cu``. The
host keeps only the slot order, ``gamma`` and the counters; each pair update copies two
scalars (``s'y``, ``y'y``) to the host for the curvature test, and each direction one (``g'd``).
"""

from __future__ import annotations

import numpy as np

from fastopt import _gpu
from fastopt.minimize._bounds import STEP_MAX
from fastopt.minimize._owlqn import Orthant
from fastopt.minimize._state import check_history_size


class GPULBFGSState:
    """L-BFGS curvature pairs on a CUDA device; see :class:`fastopt.minimize.LBFGSState`.

    Parameters
    ----------
    n : int
        Number of variables.
    history_size : int, default 10
        Number of pairs kept, ``1 <= history_size <= 256``.
    dtype : float32 or float64, default float64
        Storage type of the pairs; must match ``x0``.

    The arrays are allocated on CuPy's current device.
    """

    def __init__(self, n: int, history_size: int = 10, dtype=np.float64):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n: expected an integer >= 1, got {n!r}")
        check_history_size(history_size)
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype: expected float32 or float64, got {dtype}")
        cuda = _gpu.cuda_module()
        cupy = _gpu._import_cupy()
        self.n = int(n)
        self.history_size = int(history_size)
        self.dtype = dtype
        slots = self.history_size + 1
        self.s = cupy.zeros((slots, self.n), dtype)
        self.y = cupy.zeros((slots, self.n), dtype)
        self.sy = cupy.zeros((slots, slots), cupy.float64)
        self.yy = cupy.zeros((slots, slots), cupy.float64)
        chunks = cuda.reduce_chunks(self.n)
        # Partials of the direction's first pass: up to 4 sums per stored pair.
        self._work = cupy.empty(max(4 * slots, 3) * chunks, cupy.float64)
        self._coef = cupy.zeros(2 * slots, cupy.float64)
        self._out = cupy.zeros(1 + 4 * slots, cupy.float64)
        self._order: list[int] = []
        self._stale: list[int] = []
        self.gamma = 1.0
        self.npairs = 0
        self.nskipped = 0
        self.version = 0

    @property
    def count(self) -> int:
        """Number of pairs currently in the history."""
        return len(self._order)

    def reset(self) -> None:
        """Drop every pair, keeping the storage and ``gamma``."""
        self._order = []
        self._stale = []
        self.version += 1

    def add_pair(self, x_new, x, g_new, g, eps: float | None = None) -> bool:
        """Store ``s = x_new - x``, ``y = g_new - g`` unless the curvature test rejects it."""
        if eps is None:
            eps = float(np.finfo(self.dtype).eps)
        used = set(self._order)
        slot = next(i for i in range(self.history_size + 1) if i not in used)
        cuda = _gpu.cuda_module()
        cuda.lbfgs_pair(x_new.data.ptr, x.data.ptr, g_new.data.ptr, g.data.ptr,
                        self.s[slot].data.ptr, self.y[slot].data.ptr, self.n, self.dtype.name,
                        self._work.data.ptr, self._out.data.ptr, _gpu.current_stream_ptr())
        sy, yy = (float(v) for v in self._out[:2].get())
        if not (np.isfinite(sy) and np.isfinite(yy) and sy > eps * yy and yy > 0.0):
            self.nskipped += 1
            return False
        self._order.append(slot)
        if len(self._order) > self.history_size:
            dropped = self._order.pop(0)
            if dropped in self._stale:
                self._stale.remove(dropped)
        self._stale.append(slot)
        self.gamma = sy / yy
        self.npairs += 1
        self.version += 1
        return True

    def direction(self, g, out):
        """Write ``-H g`` into ``out`` and return it."""
        self.direction_and_slope(g, out)
        return out

    def direction_and_slope(self, g, out) -> float:
        """Write ``-H g`` into ``out`` and return ``g'out`` from the same pass."""
        while len(self._stale) > 1:
            self._fill_column(self._stale.pop(0))
        new_slot = self._stale.pop() if self._stale else -1
        cuda = _gpu.cuda_module()
        cuda.lbfgs_direction(self.s.data.ptr, self.y.data.ptr, self.history_size + 1,
                             self._order, new_slot, self.sy.data.ptr, self.yy.data.ptr,
                             float(self.gamma), g.data.ptr, out.data.ptr, self.n, self.dtype.name,
                             self._work.data.ptr, self._coef.data.ptr, self._out.data.ptr,
                             _gpu.current_stream_ptr())
        return float(self._out[0])

    def _fill_column(self, slot: int) -> None:
        # Writes each product straight into its matrix element, so nothing comes to the host.
        cuda = _gpu.cuda_module()
        stream = _gpu.current_stream_ptr()
        slots = self.history_size + 1
        for i in self._order:
            for matrix, left in ((self.sy, self.s), (self.yy, self.y)):
                target = matrix.data.ptr + (i * slots + slot) * matrix.itemsize
                cuda.lbfgs_dot(left[i].data.ptr, self.y[slot].data.ptr, self.n, self.dtype.name,
                               self._work.data.ptr, target, stream)
            self.yy[slot, i] = self.yy[i, slot]

    def apply_inverse_hessian(self, v):
        """Return ``H v`` for the current history as a CuPy array of the state's dtype."""
        cupy = _gpu._import_cupy()
        v = cupy.ascontiguousarray(_gpu.as_cupy(v), dtype=self.dtype).reshape(self.n)
        out = cupy.empty(self.n, self.dtype)
        self.direction(v, out)
        cupy.negative(out, out=out)
        return out

    def pairs(self):
        """Return copies of the stored pairs as ``(S, Y)``, oldest first, on the device."""
        return self.s[self._order].copy(), self.y[self._order].copy()

    def copy(self) -> GPULBFGSState:
        """Return an independent copy (history included) on the same device."""
        other = GPULBFGSState(self.n, self.history_size, self.dtype)
        for name in ("s", "y", "sy", "yy"):
            getattr(other, name)[...] = getattr(self, name)
        other._order = list(self._order)
        other._stale = list(self._stale)
        other.gamma = self.gamma
        other.npairs = self.npairs
        other.nskipped = self.nskipped
        return other

    def __repr__(self) -> str:
        return (f"GPULBFGSState(n={self.n}, history_size={self.history_size}, "
                f"dtype={self.dtype}, count={self.count}, gamma={self.gamma:.6g})")


def device_pseudo_gradient(x, g, l1, out=None):
    """Return the OWL-QN pseudo-gradient of CuPy arrays (see ``pseudo_gradient``)."""
    cupy = _gpu._import_cupy()
    lam = l1.astype(x.dtype, copy=False) if isinstance(l1, cupy.ndarray) else x.dtype.type(l1)
    right = g + lam
    left = g - lam
    zero = x.dtype.type(0)
    at_zero = cupy.where(right < 0, right, cupy.where(left > 0, left, zero))
    pg = cupy.where(x > 0, right, cupy.where(x < 0, left, at_zero))
    if out is None:
        return pg.astype(x.dtype, copy=False)
    out[...] = pg
    return out


class GPUOrthant(Orthant):
    """The orthant-wise steps of OWL-QN on CuPy arrays; see :class:`Orthant`.

    ``l1`` is a float or a float64 CuPy array of shape ``(n,)``.
    """

    def __init__(self, l1, n: int, dtype):
        cupy = _gpu._import_cupy()
        self.l1 = l1
        if isinstance(l1, float):
            self._free = cupy.ones(n, bool) if l1 == 0.0 else None
            self._penalized = None if l1 != 0.0 else cupy.zeros(n, bool)
        else:
            self._free = (l1 == 0.0) if bool((l1 == 0.0).any()) else None
            self._penalized = l1 != 0.0
        self._pg = cupy.empty(n, dtype)
        self._orthant = cupy.empty(n, dtype)

    def stationarity(self, x, g) -> float:
        device_pseudo_gradient(x, g, self.l1, self._pg)
        return float(abs(self._pg).max())

    def direction_gradient(self, x, g, stationarity: float):
        cupy = _gpu._import_cupy()
        device_pseudo_gradient(x, g, self.l1, self._pg)
        cupy.sign(x, out=self._orthant)
        self._orthant[...] = cupy.where(self._orthant == 0, -cupy.sign(self._pg), self._orthant)
        return self._pg, None

    def finish_direction(self, d, g, active, gamma: float) -> None:
        cupy = _gpu._import_cupy()
        wrong_sign = d * self._pg >= 0
        if self._penalized is not None:
            wrong_sign &= self._penalized
        elif self.l1 == 0.0:
            return
        d[...] = cupy.where(wrong_sign, d.dtype.type(0), d)

    def initial_slope(self, x, d, g) -> float:
        return float(self._pg.dot(d))

    def step_max(self, x, d) -> float:
        return STEP_MAX

    def trial(self, x, d, alpha: float, out) -> None:
        cupy = _gpu._import_cupy()
        cupy.multiply(d, x.dtype.type(alpha), out=out)
        cupy.add(x, out, out=out)
        orthant = cupy.where(x != 0, cupy.sign(x), -cupy.sign(self._pg))
        crossed = cupy.sign(out) != orthant
        if self._penalized is not None:
            crossed &= self._penalized
        elif self.l1 == 0.0:
            return
        out[...] = cupy.where(crossed, out.dtype.type(0), out)

    def slope(self, x, d, alpha: float, g_trial) -> float:
        cupy = _gpu._import_cupy()
        t = x + d * x.dtype.type(alpha)
        crossed = cupy.sign(t) != self._orthant
        if self._free is not None:
            crossed &= ~self._free
        t = cupy.where(crossed, t.dtype.type(0), t)
        moving = t != 0
        if self._free is not None:
            moving |= self._free
        lam = self.l1 if isinstance(self.l1, float) else self.l1.astype(t.dtype)
        terms = (g_trial + lam * cupy.sign(t)) * d
        return float(cupy.where(moving, terms, terms.dtype.type(0)).sum(dtype=cupy.float64))
