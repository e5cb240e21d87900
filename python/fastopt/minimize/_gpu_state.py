"""The L-BFGS history and the OWL-QN orthant steps on the GPU, for CuPy starting points.

:class:`GPULBFGSState` mirrors :class:`fastopt.minimize.LBFGSState`: the pairs, the cached
``S'Y`` and ``Y'Y`` matrices and the kernel's scratch space are CuPy arrays on the device of
``x0``, and the direction comes from the compact-form kernel of ``csrc/cuda/lbfgs.cu``. The
host keeps only the slot order, ``gamma`` and the counters; each pair update copies two
scalars (``s'y``, ``y'y``) to the host for the curvature test, and each direction one (``g'd``).
"""

from __future__ import annotations


from fastopt import _gpu
from fastopt.minimize._bounds import STEP_MAX
from fastopt.minimize._owlqn import Orthant
from fastopt.minimize._state import LBFGSState


class GPULBFGSState(LBFGSState):
    """L-BFGS curvature pairs on a CUDA device, with the parameters of :class:`LBFGSState`.

    The arrays are allocated on CuPy's current device. ``apply_inverse_hessian`` and
    ``pairs`` return CuPy arrays.

    Parameters
    ----------
    n : int
        Number of variables.
    history_size : int, default 10
        Number of pairs kept, ``1 <= history_size <= 256``.
    dtype : float32 or float64, default float64
        Storage and arithmetic type of the pairs.

    Examples
    --------
    The example needs CuPy and a CUDA device, so the documentation build skips it:

    >>> import cupy  # doctest: +SKIP
    >>> from fastopt.minimize import GPULBFGSState
    >>> state = GPULBFGSState(3, history_size=5)  # doctest: +SKIP
    >>> state.apply_inverse_hessian(cupy.ones(3))  # doctest: +SKIP
    array([1., 1., 1.])
    """

    def _allocate(self, slots: int) -> None:
        cuda = _gpu.cuda_module()
        cupy = _gpu._import_cupy()
        self.s = cupy.zeros((slots, self.n), self.dtype)
        self.y = cupy.zeros((slots, self.n), self.dtype)
        self.sy = cupy.zeros((slots, slots), cupy.float64)
        self.yy = cupy.zeros((slots, slots), cupy.float64)
        # Partials of the direction's first pass: up to 4 sums per stored pair.
        self._work = cupy.empty(max(4 * slots, 3) * cuda.reduce_chunks(self.n), cupy.float64)
        self._coef = cupy.zeros(2 * slots, cupy.float64)
        self._out = cupy.zeros(1 + 4 * slots, cupy.float64)

    def _store_pair(self, slot: int, x_new, x, g_new, g) -> tuple[float, float]:
        _gpu.cuda_module().lbfgs_pair(
            x_new.data.ptr, x.data.ptr, g_new.data.ptr, g.data.ptr, self.s[slot].data.ptr,
            self.y[slot].data.ptr, self.n, self.dtype.name, self._work.data.ptr,
            self._out.data.ptr, _gpu.current_stream_ptr())
        sy, yy = (float(v) for v in self._out[:2].get())
        return sy, yy

    def _direction_kernel(self, g, out, new_slot: int) -> float:
        _gpu.cuda_module().lbfgs_direction(
            self.s.data.ptr, self.y.data.ptr, self.history_size + 1, self._order, new_slot,
            self.sy.data.ptr, self.yy.data.ptr, float(self.gamma), g.data.ptr, out.data.ptr,
            self.n, self.dtype.name, self._work.data.ptr, self._coef.data.ptr,
            self._out.data.ptr, _gpu.current_stream_ptr())
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
        """Return ``H v`` for the current history as a CuPy array of the state's dtype.

        Parameters
        ----------
        v : array_like of shape (n,)
            The vector, on the host or the device.

        Returns
        -------
        cupy.ndarray of shape (n,)
            The product, on the device.
        """
        cupy = _gpu._import_cupy()
        v = cupy.ascontiguousarray(_gpu.as_cupy(v), dtype=self.dtype).reshape(self.n)
        out = cupy.empty(self.n, self.dtype)
        self.direction(v, out)
        cupy.negative(out, out=out)
        return out

    def __repr__(self) -> str:
        return "GPU" + super().__repr__()


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
