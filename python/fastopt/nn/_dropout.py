"""Inverted dropout with counter-based masks.

Forward, for drop probability p:

.. math::

    y_i = x_i \\, m_i, \\qquad m_i = \\begin{cases} 1 / (1 - p) & u_i \\ge t \\\\ 0 & u_i < t
    \\end{cases}, \\qquad t = \\lfloor p \\, 2^{32} \\rfloor,

where :math:`u_i = h_i 2^{24} + l_i` is a 32-bit value built from the Philox4x32-10 stream keyed
by ``seed`` at stream ``offset`` (Salmon et al., SC'11). Block b of the stream is the output for
the counter ``(b, offset)``. :math:`h_i` is byte ``i % 16`` of block ``i // 16`` (the low byte
of each word first), and :math:`l_i` is the low 24 bits of word ``i % 4`` of block
``2**63 + i // 4``. The two parts come from different blocks, so :math:`u_i` is uniform on 32
bits and an element is kept with probability 1 - t 2**-32, as with a whole word per element.
The kernels read :math:`l_i` only when :math:`h_i` equals the high byte of t (probability
2**-8), so one block serves 16 elements. The mask therefore depends only on
``(seed, offset, i)``: it is the same for every thread count, instruction set and on the GPU.
Backward multiplies the incoming gradient by the same :math:`m_i`, regenerated from
``(seed, offset)`` or read from a mask packed one bit per element.
"""

from __future__ import annotations

import numpy as np

from fastopt import _core, _gpu
from fastopt.nn._checks import check_counter, check_float_array, check_probability, prepare_out


def packed_mask_size(n: int) -> int:
    """Return the bytes of a packed mask of ``n`` elements: one bit each, 8 to a byte.

    Parameters
    ----------
    n : int
        Number of elements, ``x.size`` of the dropout input.

    Returns
    -------
    int
        ``ceil(n / 8)``.

    Examples
    --------
    >>> from fastopt.nn import packed_mask_size
    >>> packed_mask_size(10)
    2
    """
    return (int(n) + 7) // 8


def _check_mask(name: str, mask, n: int, gpu: bool):
    if mask is None:
        return None
    expected = packed_mask_size(n)
    dtype = getattr(mask, "dtype", None)
    if dtype is None or np.dtype(dtype) != np.uint8 or mask.shape != (expected,):
        shape = getattr(mask, "shape", None)
        raise ValueError(
            f"{name}: expected a uint8 array of shape ({expected},), one bit per element of x, "
            f"got {type(mask).__name__} of dtype {dtype} and shape {shape}"
        )
    if _gpu.is_gpu_array(mask) != gpu:
        raise TypeError(f"{name}: expected an array on the same device as x")
    return mask


def _run(x, p, seed, offset, out, mask, mask_out):
    gpu = _gpu.check_one_device(x=x, out=out, mask=mask, mask_out=mask_out)
    n = int(np.prod(x.shape))
    mask = _check_mask("mask", mask, n, gpu)
    mask_out = _check_mask("mask_out", mask_out, n, gpu)
    if mask is not None and mask_out is not None:
        raise ValueError("mask and mask_out: expected at most one of them, got both")
    if gpu:
        return _run_gpu(x, p, seed, offset, out, mask, mask_out, n)
    if not x.flags.c_contiguous and out is not x:
        x = np.ascontiguousarray(x)
    out = prepare_out("out", x, out)
    _core.dropout(x, out, p, seed, offset, mask, mask_out)
    return out


def _run_gpu(x, p, seed, offset, out, mask, mask_out, n):
    cuda = _gpu.cuda_module()
    x = _gpu.as_cupy(x)
    if out is None:
        import cupy

        out = cupy.empty_like(x)
    else:
        out = _gpu.as_cupy(out)
        if out.dtype != x.dtype or out.shape != x.shape:
            raise ValueError(f"out: expected dtype {x.dtype} and shape {x.shape} to match x")
    for name, a in (("x", x), ("out", out)):
        if not a.flags.c_contiguous:
            raise ValueError(f"{name}: expected a C-contiguous array")
    mask_ptr = _gpu.as_cupy(mask).data.ptr if mask is not None else 0
    mask_out_ptr = _gpu.as_cupy(mask_out).data.ptr if mask_out is not None else 0
    cuda.dropout(str(x.dtype), x.data.ptr, out.data.ptr, n, p, seed, offset, mask_ptr, mask_out_ptr,
                 _gpu.current_stream_ptr())
    return out


def dropout(x, p: float = 0.5, *, seed: int, offset: int = 0, training: bool = True, out=None,
            mask_out=None):
    """Apply inverted dropout to ``x``: zero each element with probability ``p``, scale the rest by 1 / (1 - p).

    Parameters
    ----------
    x : numpy.ndarray or cupy.ndarray of float32 or float64
        Activations, any shape.
    p : float, default 0.5
        Drop probability in [0, 1). The mask drops with p rounded down to a multiple of 2**-32,
        so it keeps with 1 - p rounded up to one; p = 0 keeps every element and multiplies by
        1, which is the identity.
    seed, offset : int in [0, 2**64)
        Key and stream offset of the Philox generator. Use a new offset (or seed) for each call
        that needs a new mask, and the same pair in :func:`dropout_backward`.
    training : bool, default True
        When False dropout is the identity: ``x`` itself is returned, or copied into ``out``,
        and ``mask_out`` must be None.
    out : array like x, optional
        Output; may be ``x`` itself for an in-place update. A new array when omitted.
    mask_out : uint8 array of shape (ceil(x.size / 8),), optional
        Receives the mask, bit ``i % 8`` of byte ``i // 8`` set for a kept element (NumPy's
        ``unpackbits(mask, bitorder="little")`` reads it back).

    Returns
    -------
    numpy.ndarray or cupy.ndarray
        The output array, ``out`` when given.

    References
    ----------
    Srivastava et al., "Dropout: a simple way to prevent neural networks from overfitting", JMLR
    15 (2014). Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11.

    Examples
    --------
    With ``mask_out`` the mask is kept, packed 8 elements to a byte:

    >>> import numpy as np
    >>> from fastopt.nn import dropout, packed_mask_size
    >>> mask = np.zeros(packed_mask_size(10), dtype=np.uint8)
    >>> dropout(np.ones(10), 0.5, seed=1, mask_out=mask)
    array([0., 0., 2., 2., 2., 0., 0., 2., 2., 0.])
    >>> np.unpackbits(mask, bitorder="little")[:10]
    array([0, 0, 1, 1, 1, 0, 0, 1, 1, 0], dtype=uint8)
    """
    check_float_array("x", x)
    p = check_probability(p)
    seed = check_counter("seed", seed)
    offset = check_counter("offset", offset)
    if not training:
        return _identity(x, out, mask_out)
    return _run(x, p, seed, offset, out, None, mask_out)


def _identity(x, out, mask_out):
    """Return x, or copy it into ``out``: dropout with ``training=False``."""
    if mask_out is not None:
        # A mask of ones would make dropout_backward scale by 1 / (1 - p), unlike the identity.
        raise ValueError("mask_out: expected None with training=False, where dropout is the "
                         f"identity and has no mask, got {type(mask_out).__name__}")
    if out is None or out is x:
        return x
    if _gpu.check_one_device(x=x, out=out):
        out = _gpu.as_cupy(out)
        if out.dtype != x.dtype or out.shape != x.shape:
            raise ValueError(f"out: expected dtype {x.dtype} and shape {x.shape} to match x, "
                             f"got dtype {out.dtype} and shape {out.shape}")
    else:
        out = prepare_out("out", x, out)
        if not out.flags.writeable:
            raise ValueError("out: expected a writeable array, got a read-only one")
    out[...] = x
    return out


def dropout_backward(grad, p: float = 0.5, *, seed: int | None = None, offset: int = 0, mask=None,
                     out=None):
    """Return the gradient of :func:`dropout` with respect to its input: ``grad * m``.

    The mask m is that of the forward call: regenerated from ``(seed, offset)`` or read from the
    packed ``mask`` that the forward call wrote through ``mask_out``. ``p`` must be the forward
    call's. ``out`` may be ``grad`` itself.

    Parameters
    ----------
    grad : numpy.ndarray or cupy.ndarray of float32 or float64
        Gradient of the forward output.
    p : float, default 0.5
        Drop probability of the forward call.
    seed : int, optional
        Key of the forward call; required without ``mask``.
    offset : int, default 0
        Stream offset of the forward call.
    mask : uint8 array, optional
        Packed mask written by the forward call through ``mask_out``.
    out : array like grad, optional
        Output; may be ``grad`` itself. A new array when omitted.

    Returns
    -------
    numpy.ndarray or cupy.ndarray
        ``grad`` times the mask scaled by ``1 / (1 - p)``.

    Examples
    --------
    Regenerating the mask from the seed and reading the packed one agree:

    >>> import numpy as np
    >>> from fastopt.nn import dropout, dropout_backward, packed_mask_size
    >>> mask = np.zeros(packed_mask_size(10), dtype=np.uint8)
    >>> _ = dropout(np.ones(10), 0.5, seed=1, mask_out=mask)
    >>> grad = np.full(10, 3.0)
    >>> dropout_backward(grad, 0.5, mask=mask)
    array([0., 0., 6., 6., 6., 0., 0., 6., 6., 0.])
    >>> bool(np.array_equal(dropout_backward(grad, 0.5, seed=1), dropout_backward(grad, 0.5, mask=mask)))
    True
    """
    check_float_array("grad", grad)
    p = check_probability(p)
    offset = check_counter("offset", offset)
    if mask is None:
        if seed is None:
            raise ValueError("seed: expected the forward call's seed when no mask is given, got None")
        seed = check_counter("seed", seed)
    else:
        seed = 0 if seed is None else check_counter("seed", seed)
    return _run(grad, p, seed, offset, out, mask, None)
