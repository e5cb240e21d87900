"""Dropout as a torch autograd function and module over fastopt's Philox kernels."""

from __future__ import annotations

import torch

from fastopt.nn import _dropout
from fastopt.nn._checks import check_counter, check_probability
from fastopt.torch._device import as_array, stream_context

_DTYPES = (torch.float32, torch.float64)


def _check_tensor(name: str, x) -> None:
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name}: expected a torch.Tensor, got {type(x).__name__}")
    if x.dtype not in _DTYPES:
        raise ValueError(f"{name}: unsupported dtype {x.dtype}; expected torch.float32 or torch.float64")


def _apply(x: torch.Tensor, p: float, seed: int, offset: int, *, backward: bool) -> torch.Tensor:
    x = x.contiguous()
    out = torch.empty_like(x)
    with stream_context(x.device):
        if backward:
            _dropout.dropout_backward(as_array(x), p, seed=seed, offset=offset, out=as_array(out))
        else:
            _dropout.dropout(as_array(x), p, seed=seed, offset=offset, out=as_array(out))
    return out


class DropoutFunction(torch.autograd.Function):
    """Inverted dropout whose backward regenerates the mask from (seed, offset).

    ``DropoutFunction.apply(x, p, seed, offset)`` returns ``x * m`` with the mask of
    :func:`fastopt.nn.dropout`; the backward pass multiplies the gradient by the same ``m`` and
    stores nothing per element.

    Examples
    --------
    >>> import torch
    >>> from fastopt.torch import DropoutFunction
    >>> x = torch.ones(4, requires_grad=True)
    >>> y = DropoutFunction.apply(x, 0.5, 7, 0)
    >>> y.sum().backward()
    >>> y.detach(), x.grad
    (tensor([0., 0., 0., 2.]), tensor([0., 0., 0., 2.]))
    """

    @staticmethod
    def forward(ctx, x, p, seed, offset):
        """Return ``x`` with the mask of (seed, offset) applied, keeping only the scalars.

        Parameters
        ----------
        ctx : torch.autograd.function.FunctionCtx
            Context that keeps ``p``, ``seed`` and ``offset`` for the backward pass.
        x : torch.Tensor
            Input, float32 or float64.
        p : float
            Drop probability in [0, 1).
        seed, offset : int
            Key and stream offset of the Philox generator.

        Returns
        -------
        torch.Tensor
            ``x`` times the mask, whose kept entries are ``1 / (1 - p)``.
        """
        ctx.p, ctx.seed, ctx.offset = p, seed, offset
        return _apply(x.detach(), p, seed, offset, backward=False)

    @staticmethod
    def backward(ctx, grad):
        """Return the gradient times the regenerated mask; p, seed and offset get none.

        Parameters
        ----------
        ctx : torch.autograd.function.FunctionCtx
            Context saved by :meth:`forward`.
        grad : torch.Tensor
            Gradient of the output.

        Returns
        -------
        tuple
            The gradient of ``x``, then None for ``p``, ``seed`` and ``offset``.
        """
        return _apply(grad, ctx.p, ctx.seed, ctx.offset, backward=True), None, None, None


def dropout(x: torch.Tensor, p: float = 0.5, *, seed: int, offset: int = 0, training: bool = True):
    """Apply inverted dropout to a float32/float64 tensor on the CPU or a CUDA device.

    The same (seed, offset) gives the same mask as :func:`fastopt.nn.dropout` on the NumPy or
    CuPy view of ``x``. With ``training=False`` or ``p = 0`` the input is returned unchanged.

    Parameters
    ----------
    x : torch.Tensor
        Input, float32 or float64.
    p : float, default 0.5
        Drop probability in [0, 1).
    seed : int
        Key of the Philox generator, in [0, 2**64).
    offset : int, default 0
        Stream offset; a new offset gives an independent mask.
    training : bool, default True
        Apply the mask; False returns ``x``.

    Returns
    -------
    torch.Tensor
        ``x`` with each entry zeroed with probability ``p`` and the others scaled by
        ``1 / (1 - p)``.

    References
    ----------
    Srivastava, N., Hinton, G., Krizhevsky, A., Sutskever, I. and Salakhutdinov, R.
    "Dropout: a simple way to prevent neural networks from overfitting", JMLR 15, 2014.
    Salmon, J. K., Moraes, M. A., Dror, R. O. and Shaw, D. E. "Parallel random numbers:
    as easy as 1, 2, 3", SC 2011 (the Philox generator).

    Examples
    --------
    The mask equals the one of :func:`fastopt.nn.dropout` for the same seed and offset:

    >>> import numpy as np
    >>> import torch
    >>> import fastopt
    >>> from fastopt.torch import dropout
    >>> y = dropout(torch.ones(8, dtype=torch.float64), 0.5, seed=7)
    >>> y
    tensor([0., 0., 0., 2., 2., 2., 0., 2.], dtype=torch.float64)
    >>> bool(np.array_equal(y.numpy(), fastopt.nn.dropout(np.ones(8), 0.5, seed=7)))
    True
    """
    _check_tensor("x", x)
    p = check_probability(p)
    seed = check_counter("seed", seed)
    offset = check_counter("offset", offset)
    if not training or p == 0.0:
        return x
    return DropoutFunction.apply(x, p, seed, offset)


class Dropout(torch.nn.Module):
    """A drop-in for ``torch.nn.Dropout`` with reproducible, counter-based masks.

    Each call in training mode uses the stream offset ``self.offset`` and then advances it by one,
    so successive batches get independent masks and a run restarted from the same ``seed`` (and
    ``offset``, saved in the state dict) repeats them. In eval mode the module is the identity.

    Parameters
    ----------
    p : float, default 0.5
        Drop probability in [0, 1).
    seed : int, default 0
        Key of the Philox generator, in [0, 2**64).

    Examples
    --------
    Successive calls advance the offset, so they draw different masks:

    >>> import torch
    >>> from fastopt.torch import Dropout
    >>> layer = Dropout(0.25, seed=3)
    >>> first, second = layer(torch.ones(6)), layer(torch.ones(6))
    >>> torch.equal(first, second), int(layer.offset)
    (False, 2)
    """

    def __init__(self, p: float = 0.5, seed: int = 0):
        super().__init__()
        self.p = check_probability(p)
        self.seed = check_counter("seed", seed)
        # A buffer, so the position in the stream is saved and restored with the model.
        self.register_buffer("offset", torch.zeros((), dtype=torch.int64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return dropout(x, self.p, seed=self.seed, training=False)
        # NOTE: on a CUDA module the buffer is on the device, so int() waits for the stream once
        # per call; the mask itself needs the offset on the host.
        offset = int(self.offset)
        self.offset += 1
        return dropout(x, self.p, seed=self.seed, offset=offset)

    def extra_repr(self) -> str:
        return f"p={self.p}, seed={self.seed}"
