"""Helpers of the GPU tests: skipping without a device, and a stand-in for a GPU array."""

import pytest

from fastopt import _build_info


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


def device_count() -> int:
    """Return the CUDA devices fastopt._cuda sees, 0 when the module is missing."""
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
