"""Skips and conversions shared by the GPU tests.

Every GPU test module calls :func:`require_gpu` at import: without CuPy, a
CUDA module in this build or a CUDA device the whole module is skipped, with
the reason.
"""

from __future__ import annotations

import numpy as np
import pytest


def require_gpu():
    """Return the cupy module, or skip the calling test module."""
    cupy = pytest.importorskip("cupy")
    from fastopt import _build_info

    if not _build_info.cuda_built:
        pytest.skip("this build of fastopt has no CUDA module", allow_module_level=True)
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except cupy.cuda.runtime.CUDARuntimeError as exc:
        pytest.skip(f"no CUDA device: {exc}", allow_module_level=True)
    if count == 0:
        pytest.skip("no CUDA device", allow_module_level=True)
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
