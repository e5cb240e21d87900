"""The GPU path: recognizing CuPy arrays and loading the CUDA module lazily.

``import fastopt`` never imports CuPy or ``fastopt._cuda``. A function that
receives a GPU array calls :func:`cuda_module`, which imports both and checks
for a device on first use. Only then does a missing piece raise a
RuntimeError that names the piece and how to get it.

The compiled functions take device pointers (``a.data.ptr``) and the handle
of CuPy's current stream, enqueue their kernels on that stream and return
without synchronizing, so GPU work orders with the caller's other CuPy work.
"""

from __future__ import annotations

import itertools
import numbers
import sys
from typing import Any

import numpy as np

_INSTALL_CUPY = "install CuPy for your CUDA version, for example `pip install cupy-cuda13x`"

# The loaded fastopt._cuda module, set on the first successful cuda_module().
_cuda_module = None


def is_gpu_array(x: Any) -> bool:
    """Return whether ``x`` is a CuPy array or exposes ``__cuda_array_interface__``.

    Does not import CuPy: a program that never imported it has no CuPy arrays.
    """
    if isinstance(x, (np.ndarray, numbers.Number)) or x is None:
        return False  # the common CPU case, without the attribute lookup below
    cupy = sys.modules.get("cupy")
    if cupy is not None and isinstance(x, cupy.ndarray):
        return True
    # A torch tensor on the CPU raises AttributeError from the property, so
    # hasattr is False for it, as for NumPy arrays.
    return hasattr(x, "__cuda_array_interface__")


def _import_cupy():
    try:
        import cupy
    except ImportError as exc:
        raise RuntimeError(f"fastopt's GPU path needs CuPy, which failed to import ({exc}); {_INSTALL_CUPY}") from exc
    return cupy


def as_cupy(x: Any):
    """Return ``x`` as a ``cupy.ndarray`` sharing its memory (no copy).

    Accepts CuPy arrays and any object with ``__cuda_array_interface__``
    (a CUDA torch tensor, a Numba device array).
    """
    cupy = _import_cupy()
    if isinstance(x, cupy.ndarray):
        return x
    if not hasattr(x, "__cuda_array_interface__"):
        raise TypeError(f"expected a GPU array (cupy.ndarray or __cuda_array_interface__), got {type(x).__name__}")
    return cupy.asarray(x)


def cuda_module():
    """Return ``fastopt._cuda``, importing it and checking for a device on first use.

    Raises
    ------
    RuntimeError
        When this build of fastopt has no CUDA module (it was built without
        nvcc or with ``-DFASTOPT_CUDA=OFF``), when no CUDA device or driver is
        available, or when CuPy is not installed, checked in that order. The
        message names which.
    """
    global _cuda_module
    if _cuda_module is not None:
        return _cuda_module
    # The module and the device are checked first because on a machine without
    # a GPU "no device" is the useful message, whether or not CuPy is installed.
    try:
        from fastopt import _cuda
    except ImportError as exc:
        from fastopt import _build_info

        if _build_info.cuda_built:
            reason = f"fastopt._cuda was built but failed to load ({exc})"
        elif _build_info.cuda_option == "OFF":
            reason = (
                "this fastopt was built with FASTOPT_CUDA=OFF, without its CUDA module; reinstall "
                "with nvcc on PATH and without -DFASTOPT_CUDA=OFF in CMAKE_ARGS"
            )
        else:
            reason = (
                f"this fastopt was built without its CUDA module (FASTOPT_CUDA={_build_info.cuda_option}, "
                f"CUDA compiler: {_build_info.cuda_compiler or 'not found'}); reinstall with nvcc on PATH, "
                "or with CMAKE_ARGS=-DFASTOPT_CUDA=ON to make a missing compiler an error"
            )
        raise RuntimeError(f"fastopt cannot run on the GPU: {reason}") from exc
    count = _cuda.device_count()
    if count == 0:
        driver = _cuda.driver_version()
        runtime = _cuda.runtime_version()
        if driver == 0:
            detail = "no NVIDIA driver is installed"
        elif driver < runtime:
            detail = (
                f"the driver supports CUDA {_version(driver)}, older than the CUDA {_version(runtime)} "
                "runtime fastopt was built with; update the driver"
            )
        else:
            detail = "the driver reports no device (check CUDA_VISIBLE_DEVICES)"
        raise RuntimeError(f"fastopt cannot run on the GPU: no CUDA device is available ({detail})")
    _import_cupy()
    _cuda_module = _cuda
    return _cuda


def _version(encoded: int) -> str:
    return f"{encoded // 1000}.{encoded % 1000 // 10}"


def current_stream_ptr() -> int:
    """Return the handle of CuPy's current stream on the current device, as an int."""
    return _import_cupy().cuda.get_current_stream().ptr


def _device_of(x: Any) -> int | None:
    """Return the CUDA device id of a GPU array, or None when it is on the CPU."""
    if not is_gpu_array(x):
        return None
    device = getattr(x, "device", None)
    device_id = getattr(device, "id", None)  # cupy.cuda.Device
    if device_id is None:
        device_id = getattr(device, "index", None)  # torch.device
    return int(device_id) if device_id is not None else 0


def _on_host(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        # A list of NumPy arrays, the usual case, is checked in C (map over isinstance):
        # a step over hundreds of tensors would spend more here than in its kernel otherwise.
        if all(map(isinstance, value, itertools.repeat(np.ndarray))):
            return True
        return all(item is None or isinstance(item, (np.ndarray, numbers.Number)) for item in value)
    return value is None or isinstance(value, (np.ndarray, numbers.Number))


def _place(device: int | None) -> str:
    return "on the CPU" if device is None else f"on the GPU (device {device})"


def check_one_device(**named: Any) -> bool:
    """Return True when the named arrays are on the GPU, False when on the CPU.

    Each keyword is an argument name and its value: an array, a list or
    tuple of arrays, or None. None entries are ignored. Raises TypeError,
    naming one argument on each side, when some arrays are on the CPU and
    others on the GPU, or when they are on different GPUs.
    """
    if all(_on_host(value) for value in named.values()):
        return False  # the common CPU call, checked without naming anything
    first_name, first_device = None, None
    for name, value in named.items():
        items = [(name, value)]
        if isinstance(value, (list, tuple)):
            items = [(f"{name}[{i}]", v) for i, v in enumerate(value)]
        for item_name, item in items:
            if item is None:
                continue
            device = _device_of(item)
            if first_name is None:
                first_name, first_device = item_name, device
            elif device != first_device:
                raise TypeError(
                    f"{item_name} is {_place(device)} but {first_name} is {_place(first_device)}; "
                    "pass every array of one call on the same device"
                )
    return first_device is not None
