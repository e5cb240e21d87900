"""Array views of torch tensors for fastopt's kernels: NumPy on the CPU, CuPy on CUDA."""

from __future__ import annotations

import contextlib

import torch


def gpu_backend_error() -> str | None:
    """Return why CUDA tensors cannot be stepped, or None when they can.

    CUDA tensors need fastopt's CUDA extension, a CUDA device and CuPy (the
    arrays the functional API takes on the GPU). ``fastopt._gpu.cuda_module``
    checks all three and names the missing one.
    """
    from fastopt import _gpu

    try:
        _gpu.cuda_module()
    except RuntimeError as exc:
        return str(exc)
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
