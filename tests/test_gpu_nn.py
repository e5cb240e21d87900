"""Dropout on the GPU gives the CPU's mask and output, bit for bit."""

import numpy as np
import pytest

from fastopt.nn import dropout, dropout_backward, packed_mask_size
from gpu_helpers import cupy_or_skip, torch_cuda


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 9, 4096 + 3, 278011])
def test_gpu_dropout_equals_cpu(dtype, n):
    cupy = cupy_or_skip()
    x = np.random.default_rng(n).standard_normal(n).astype(dtype)
    mask = np.empty(packed_mask_size(n), np.uint8)
    expected = dropout(x, 0.3, seed=17, offset=5, mask_out=mask)
    gmask = cupy.empty(packed_mask_size(n), cupy.uint8)
    out = dropout(cupy.asarray(x), 0.3, seed=17, offset=5, mask_out=gmask)
    np.testing.assert_array_equal(cupy.asnumpy(out), expected)
    np.testing.assert_array_equal(cupy.asnumpy(gmask), mask)


def test_gpu_backward_from_mask_and_seed():
    cupy = cupy_or_skip()
    g = np.random.default_rng(0).standard_normal(10_001)
    mask = np.empty(packed_mask_size(g.size), np.uint8)
    dropout(np.ones_like(g), 0.5, seed=2, mask_out=mask)
    expected = dropout_backward(g, 0.5, seed=2)
    by_seed = dropout_backward(cupy.asarray(g), 0.5, seed=2)
    by_mask = dropout_backward(cupy.asarray(g), 0.5, mask=cupy.asarray(mask))
    np.testing.assert_array_equal(cupy.asnumpy(by_seed), expected)
    np.testing.assert_array_equal(cupy.asnumpy(by_mask), expected)


def test_gpu_torch_module_equals_cpu():
    cupy_or_skip()
    torch = torch_cuda()
    if torch is None:
        pytest.skip("torch with CUDA is not installed")
    from fastopt.torch import dropout as torch_dropout

    x = torch.randn(5000, dtype=torch.float32)
    expected = torch_dropout(x, 0.2, seed=4)
    xg = x.cuda().requires_grad_()
    y = torch_dropout(xg, 0.2, seed=4)
    y.sum().backward()
    np.testing.assert_array_equal(y.detach().cpu().numpy(), expected.numpy())
    np.testing.assert_array_equal(xg.grad.cpu().numpy(), (expected != 0).numpy() / np.float32(0.8))


def test_cuda_dropout_checks_arguments():
    """The bound function checks p and the dtype on the host, before any CUDA call."""
    from fastopt import _build_info

    if not _build_info.cuda_built:
        pytest.skip("this build has no CUDA module")
    from fastopt import _cuda

    with pytest.raises(ValueError, match=r"p: expected a drop probability in \[0, 1\)"):
        _cuda.dropout("float32", 1, 1, 4, 1.0, 0, 0, 0, 0, 0)
    with pytest.raises(TypeError, match="dtype: expected float32 or float64, got int8"):
        _cuda.dropout("int8", 1, 1, 4, 0.5, 0, 0, 0, 0, 0)
    # Nothing to do for n = 0, so no CUDA call is made, with or without a device.
    _cuda.dropout("float32", 0, 0, 0, 0.5, 0, 0, 0, 0, 0)
