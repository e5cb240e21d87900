"""The proximal maps of fastopt.prox on CuPy arrays.

Each function has the signature of the matching ``fastopt._core.prox_*``
function and the same checks, then enqueues one kernel on CuPy's current
stream. Checking the values of an array parameter (thresholds, bounds) or of
GPU group offsets needs their contents on the host, so such a call waits for
the GPU once. Scalar parameters and host offsets add no wait.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from fastopt import _gpu


def _describe(value) -> str:
    return f"{value!r}" if isinstance(value, numbers.Real) else type(value).__name__


def _check_array(name: str, a, x) -> None:
    if str(a.dtype) != str(x.dtype):
        raise TypeError(f"{name}: expected dtype {x.dtype} to match x, got {a.dtype}")
    if a.shape != x.shape:
        raise ValueError(f"{name}: expected shape {x.shape} to match x, got {a.shape}")
    if not a.flags.c_contiguous:
        raise ValueError(f"{name}: expected a C-contiguous array")


def _overlaps(a, b) -> bool:
    if a.size == 0 or b.size == 0:
        return False
    return a.data.ptr < b.data.ptr + b.nbytes and b.data.ptr < a.data.ptr + a.nbytes


class _Param:
    """A penalty parameter as the kernel takes it: a device address, or 0 and a scalar."""

    def __init__(self, name: str, value, x, *, nonneg: bool):
        self.name = name
        self.array = None
        self.scalar = 0.0
        rule = "a finite value >= 0" if nonneg else "a number (not NaN)"
        if _gpu.is_gpu_array(value):
            self.array = _gpu.as_cupy(value)
            _check_array(name, self.array, x)
            import cupy

            bad = ~((self.array >= 0) & cupy.isfinite(self.array)) if nonneg else cupy.isnan(self.array)
            flat = cupy.flatnonzero(bad.ravel())
            if flat.size:  # one wait for the GPU, to report the first bad entry
                i = int(flat[0])
                raise ValueError(f"{name}[{i}]: expected {rule}, got {float(self.array.ravel()[i])!r}")
        elif isinstance(value, numbers.Real) and not isinstance(value, bool):
            self.scalar = float(value)
            valid = (self.scalar >= 0 and math.isfinite(self.scalar)) if nonneg else not math.isnan(self.scalar)
            if not valid:
                raise ValueError(f"{name}: expected {rule}, got {self.scalar!r}")
        else:
            raise TypeError(f"{name}: expected a float or a CuPy array on x's device, got {_describe(value)}")

    @property
    def address(self) -> int:
        return 0 if self.array is None else self.array.data.ptr


def _arrays(x, out, grad, params, step):
    x = _gpu.as_cupy(x)
    out = _gpu.as_cupy(out)
    if str(x.dtype) not in ("float32", "float64"):
        raise TypeError(f"x: expected dtype float32 or float64, got {x.dtype}")
    if not x.flags.c_contiguous:
        raise ValueError("x: expected a C-contiguous array")
    _check_array("out", out, x)
    if grad is not None:
        grad = _gpu.as_cupy(grad)
        _check_array("grad", grad, x)
    if not (step > 0.0 and math.isfinite(step)):
        raise ValueError(f"step: expected a finite value > 0, got {step!r}")
    if _overlaps(out, x) and out.data.ptr != x.data.ptr:
        raise ValueError("out and x share memory without being the same array; pass x itself or a separate buffer")
    readers = [("grad", grad)] + [(p.name, p.array) for p in params]
    for name, a in readers:
        if a is not None and _overlaps(out, a):
            raise ValueError(f"out and {name} share memory; every array that fastopt writes must be a "
                             "separate buffer (pass a copy)")
    return x, out, grad


def _elementwise(penalty, x, out, grad, step, l1=None, l2=None, lower=None, upper=None):
    none = _Param.__new__(_Param)
    none.name, none.array, none.scalar = "", None, 0.0
    l1, l2, lower, upper = (p if p is not None else none for p in (l1, l2, lower, upper))
    cuda = _gpu.cuda_module()
    with x.device:
        cuda.prox_elementwise(
            str(x.dtype), penalty, x.data.ptr, 0 if grad is None else grad.data.ptr, out.data.ptr, x.size,
            float(step), l1.address, l1.scalar, l2.address, l2.scalar, lower.address, lower.scalar,
            upper.address, upper.scalar, _gpu.current_stream_ptr(),
        )


def prox_l1(x, out, l1, grad=None, step=1.0, name="l1"):
    x = _gpu.as_cupy(x)
    threshold = _Param(name, l1, x, nonneg=True)
    x, out, grad = _arrays(x, out, grad, [threshold], step)
    _elementwise("l1", x, out, grad, step, l1=threshold)


def prox_elastic_net(x, out, l1, l2, grad=None, step=1.0):
    x = _gpu.as_cupy(x)
    p1, p2 = _Param("l1", l1, x, nonneg=True), _Param("l2", l2, x, nonneg=True)
    x, out, grad = _arrays(x, out, grad, [p1, p2], step)
    _elementwise("elasticnet", x, out, grad, step, l1=p1, l2=p2)


def prox_l2(x, out, l2, grad=None, step=1.0):
    x = _gpu.as_cupy(x)
    p2 = _Param("l2", l2, x, nonneg=True)
    x, out, grad = _arrays(x, out, grad, [p2], step)
    _elementwise("l2", x, out, grad, step, l2=p2)


def prox_box(x, out, lower, upper, grad=None, step=1.0):
    x = _gpu.as_cupy(x)
    lo, hi = _Param("lower", lower, x, nonneg=False), _Param("upper", upper, x, nonneg=False)
    x, out, grad = _arrays(x, out, grad, [lo, hi], step)
    if lo.array is None and hi.array is None:
        if lo.scalar > hi.scalar:
            raise ValueError(f"lower = {lo.scalar!r} exceeds upper = {hi.scalar!r}; expected lower <= upper")
    else:
        import cupy

        low = lo.array if lo.array is not None else lo.scalar
        high = hi.array if hi.array is not None else hi.scalar
        flat = cupy.flatnonzero(cupy.ravel(cupy.asarray(low > high)))
        if flat.size:
            i = int(flat[0])
            low_text = f"lower[{i}] = {float(lo.array.ravel()[i])!r}" if lo.array is not None else f"lower = {lo.scalar!r}"
            high_text = f"upper[{i}] = {float(hi.array.ravel()[i])!r}" if hi.array is not None else f"upper = {hi.scalar!r}"
            raise ValueError(f"{low_text} exceeds {high_text}; expected lower <= upper")
    _elementwise("box", x, out, grad, step, lower=lo, upper=hi)


def prox_nonneg(x, out, grad=None, step=1.0):
    x, out, grad = _arrays(x, out, grad, [], step)
    _elementwise("nonneg", x, out, grad, step)


def _host_offsets(groups, n: int) -> np.ndarray:
    offsets = groups.get() if _gpu.is_gpu_array(groups) else np.asarray(groups)
    if offsets.size and offsets.dtype.kind not in "iu":
        raise TypeError(f"groups: expected integer offsets, got dtype {offsets.dtype}")
    offsets = offsets.astype(np.int64)
    if offsets.ndim != 1 or offsets.size < 1:
        raise ValueError(f"groups: expected a 1-D array of at least one offset, got shape {offsets.shape}")
    if offsets[0] != 0:
        raise ValueError(f"groups[0]: expected 0 (the first group starts at element 0), got {offsets[0]}")
    steps = np.diff(offsets)
    bad = np.flatnonzero(steps <= 0)
    if bad.size:
        k = int(bad[0]) + 1
        raise ValueError(f"groups[{k}]: expected an offset > groups[{k - 1}] = {offsets[k - 1]}, got {offsets[k]}")
    if offsets[-1] != n:
        raise ValueError(f"groups[{offsets.size - 1}]: expected {n} (the size of x), got {offsets[-1]}")
    return offsets


def prox_group(x, out, groups, threshold, weights=None, grad=None, step=1.0):
    import cupy

    if not (threshold >= 0.0 and math.isfinite(threshold)):
        raise ValueError(f"threshold: expected a finite value >= 0, got {threshold!r}")
    x, out, grad = _arrays(x, out, grad, [], step)
    offsets = _host_offsets(groups, x.size)
    num_groups = offsets.size - 1
    host_weights = None
    if weights is not None:
        host_weights = weights.get() if _gpu.is_gpu_array(weights) else np.asarray(weights, dtype=np.float64)
        if host_weights.shape != (num_groups,):
            raise ValueError(f"weights: expected shape ({num_groups},), got {host_weights.shape}")
        bad = np.flatnonzero(~((host_weights >= 0) & np.isfinite(host_weights)))
        if bad.size:
            k = int(bad[0])
            raise ValueError(f"weights[{k}]: expected a finite value >= 0, got {host_weights[k]!r}")
    cuda = _gpu.cuda_module()
    with x.device:
        device_offsets = cupy.asarray(offsets)
        device_weights = None if host_weights is None else cupy.asarray(host_weights, dtype=cupy.float64)
        cuda.prox_group(
            str(x.dtype), x.data.ptr, 0 if grad is None else grad.data.ptr, out.data.ptr, num_groups,
            device_offsets.data.ptr, float(step), float(threshold),
            0 if device_weights is None else device_weights.data.ptr, _gpu.current_stream_ptr(),
        )
