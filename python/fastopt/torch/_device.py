"""Array views of torch tensors for fastopt's kernels: NumPy on the CPU, CuPy on CUDA."""

from __future__ import annotations

import contextlib
import importlib.util

import torch


def gpu_backend_error() -> str | None:
    """Return why CUDA tensors cannot be stepped, or None when they can.

    CUDA tensors need CuPy (the arrays the functional API takes on the GPU)
    and fastopt's CUDA extension ``fastopt._cuda``, which a build makes only
    when it finds a CUDA compiler.
    """
    if importlib.util.find_spec("cupy") is None:
        return "CuPy is not installed (pip install cupy-cuda12x)"
    if importlib.util.find_spec("fastopt._cuda") is None:
        return ("this fastopt build has no CUDA extension (fastopt._cuda); rebuild it with nvcc "
                "on PATH or -DFASTOPT_CUDA=ON")
    return None


def as_array(tensor: torch.Tensor):
    """Return a NumPy (CPU) or CuPy (CUDA) array that shares ``tensor``'s memory.

    The caller has checked that ``tensor`` is contiguous, so neither view copies.
    """
    tensor = tensor.detach()
    if tensor.device.type == "cpu":
        return tensor.numpy()
    import cupy

    return cupy.from_dlpack(tensor)


@contextlib.contextmanager
def stream_context(device: torch.device):
    """Run the CuPy work inside on torch's current stream of ``device``.

    The update then orders after the kernels that produced the gradients and
    before whatever the training loop queues next, with no synchronization.
    On the CPU the context does nothing.
    """
    if device.type != "cuda":
        yield
        return
    import cupy

    stream = torch.cuda.current_stream(device)
    with cupy.cuda.Device(device.index), cupy.cuda.ExternalStream(stream.cuda_stream):
        yield
