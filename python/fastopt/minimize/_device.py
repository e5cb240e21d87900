"""The driver's vector passes on the array's device: fastopt._core for NumPy, fastopt._cuda for CuPy.

Each function takes arrays of one device and returns Python scalars. On the GPU the kernels
run on CuPy's current stream and only the scalars come back to the host (one small copy per
call); the vectors stay on the device. Inner products accumulate in float64 over fixed
chunks on both devices, but the chunks differ, so CPU and GPU results agree to rounding,
not bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

from fastopt import _core, _gpu


def array_module(x):
    """Return ``cupy`` for a GPU array, else ``numpy``."""
    return _gpu._import_cupy() if _gpu.is_gpu_array(x) else np


def _scratch(n: int, quantities: int):
    """Return (module, work, out): partials for ``quantities`` sums over n elements, and out."""
    cuda = _gpu.cuda_module()
    cupy = _gpu._import_cupy()
    chunks = cuda.reduce_chunks(n)
    work = cupy.empty(max(quantities, 1) * chunks, cupy.float64)
    out = cupy.empty(max(quantities, 1), cupy.float64)
    return cuda, work, out


def dot(a, b) -> float:
    """Return ``a'b`` accumulated in float64."""
    if not _gpu.is_gpu_array(a):
        return _core.lbfgs_dot(a, b)
    cuda, work, out = _scratch(a.size, 1)
    cuda.lbfgs_dot(a.data.ptr, b.data.ptr, a.size, a.dtype.name, work.data.ptr, out.data.ptr,
                   _gpu.current_stream_ptr())
    return float(out[0])


def gradient_pass(g, out, d=None) -> tuple[float, float, bool]:
    """Copy ``g`` into ``out``; return (g'd or 0.0, max |g_i| or NaN, all g_i finite)."""
    if not _gpu.is_gpu_array(out):
        return _core.lbfgs_gradient(g, out, d)
    cuda, work, stats = _scratch(out.size, 3)
    cuda.lbfgs_gradient(g.data.ptr, out.data.ptr, 0 if d is None else d.data.ptr, out.size,
                        out.dtype.name, work.data.ptr, stats.data.ptr, _gpu.current_stream_ptr())
    slope, nonfinite, inf_norm = (float(v) for v in stats.get())
    finite = nonfinite == 0.0
    return slope, (inf_norm if finite else math.nan), finite


def trial(x, d, step: float, out) -> None:
    """Write ``x + step d`` into ``out``, rounding the product and the sum separately."""
    if not _gpu.is_gpu_array(out):
        _core.lbfgs_trial(x, d, step, out)
        return
    cupy = _gpu._import_cupy()
    cupy.multiply(d, out.dtype.type(step), out=out)
    cupy.add(x, out, out=out)
