"""Helpers of the GPU tests: skipping without a device, conversions, and a stand-in GPU array.

GPU test modules call :func:`require_gpu` at import or :func:`cupy_or_skip` per
test: without CuPy, a CUDA module in this build or a CUDA device the tests are
skipped, with the reason.
"""

from __future__ import annotations

import numpy as np
import pytest

from fastopt import _build_info


def require_gpu():
    """Return the cupy module, or skip the calling test module."""
    cupy = pytest.importorskip("cupy")
    if not _build_info.cuda_built:
        pytest.skip("this build of fastopt has no CUDA module", allow_module_level=True)
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except cupy.cuda.runtime.CUDARuntimeError as exc:
        pytest.skip(f"no CUDA device: {exc}", allow_module_level=True)
    if count == 0:
        pytest.skip("no CUDA device", allow_module_level=True)
    return cupy


def cupy_or_skip():
    """Return CuPy when a CUDA device and fastopt._cuda are available, else skip the test.

    A build that should have the CUDA module but lacks it fails instead of skipping.
    """
    cupy = pytest.importorskip("cupy")
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except cupy.cuda.runtime.CUDARuntimeError:
        count = 0
    if count == 0:
        pytest.skip("no CUDA device; the GPU path is compared with the CPU only on a GPU machine")
    assert _build_info.cuda_built, "a CUDA device is present but fastopt was built without fastopt._cuda"
    return cupy


def torch_cuda():
    """Return torch when it is installed with a usable CUDA device, else None."""
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


def to_device(cupy, value):
    """Return ``value`` with NumPy arrays copied to the GPU (lists element by element)."""
    if isinstance(value, list):
        return [to_device(cupy, v) for v in value]
    if isinstance(value, np.ndarray):
        return cupy.asarray(value)
    return value


def device_count() -> int:
    """Return the number of CUDA devices fastopt._cuda reports, 0 when the module is missing."""
    if not _build_info.cuda_built:
        return 0
    from fastopt import _cuda

    return _cuda.device_count()


def skip_if_device():
    """Skip a test of the no-device errors on a machine that has a device."""
    if device_count() > 0:
        pytest.skip("a CUDA device is present; this test covers machines without one")


class FakeDeviceArray:
    """An object with __cuda_array_interface__ that stands for a GPU array without a GPU."""

    def __init__(self, shape=(3,), typestr="<f8", device_id=0):
        self.device = type("Device", (), {"id": device_id})()
        self.shape = shape
        self.__cuda_array_interface__ = {"shape": shape, "typestr": typestr, "data": (0, False),
                                         "version": 3}
