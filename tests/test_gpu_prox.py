"""fastopt.prox on CuPy arrays against the CPU implementation."""

from __future__ import annotations

import numpy as np
import pytest

from gpu_helpers import require_gpu

cupy = require_gpu()

from fastopt import prox  # noqa: E402

SIZES = (0, 1, 7, 4095, 4096, 4097, 278_011)
DTYPES = (np.float32, np.float64)


def data(n, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype)


def penalty_cases(n, dtype):
    rng = np.random.default_rng(1)
    strengths = rng.uniform(0.0, 1.0, n).astype(dtype)
    lower = -rng.uniform(0.1, 1.0, n).astype(dtype)
    return [
        ("l1", dict(l1=0.3)),
        ("l1-array", dict(penalty="l1", l1=strengths)),
        ("elasticnet", dict(penalty="elasticnet", l1=0.2, l2=0.5)),
        ("elasticnet-array", dict(penalty="elasticnet", l1=strengths, l2=strengths[::-1].copy())),
        ("l2", dict(penalty="l2", l2=0.7)),
        ("box", dict(penalty="box", lower=-0.5, upper=0.25)),
        ("box-array", dict(penalty="box", lower=lower, upper=None)),
        ("nonneg", dict(penalty="nonneg")),
    ]


def device_kwargs(kwargs):
    return {k: cupy.asarray(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("n", SIZES)
def test_prox_grad_step_matches_cpu(n, dtype):
    for label, kwargs in penalty_cases(n, dtype):
        x, g = data(n, dtype)
        expected = prox.prox_grad_step(x.copy(), g, 0.1, **kwargs)
        gx = cupy.asarray(x)
        out = prox.prox_grad_step(gx, cupy.asarray(g), 0.1, **device_kwargs(kwargs))
        assert out is gx
        np.testing.assert_array_equal(out.get(), expected, err_msg=label)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("n", SIZES[1:])
def test_maps_match_cpu(n, dtype):
    x, _ = data(n, dtype)
    strengths = np.abs(data(n, dtype, seed=2)[0])
    gx = cupy.asarray(x)
    checks = [
        (prox.soft_threshold(x.copy(), 0.4), prox.soft_threshold(gx.copy(), 0.4)),
        (prox.soft_threshold(x.copy(), strengths), prox.soft_threshold(gx.copy(), cupy.asarray(strengths))),
        (prox.elastic_net(x.copy(), 0.1, 2.0, step=0.5), prox.elastic_net(gx.copy(), 0.1, 2.0, step=0.5)),
        (prox.l2_shrink(x.copy(), 3.0, step=0.25), prox.l2_shrink(gx.copy(), 3.0, step=0.25)),
        (prox.project_box(x.copy(), -0.1, 0.2), prox.project_box(gx.copy(), -0.1, 0.2)),
        (prox.project_nonneg(x.copy()), prox.project_nonneg(gx.copy())),
    ]
    for k, (expected, actual) in enumerate(checks):
        np.testing.assert_array_equal(actual.get(), expected, err_msg=f"map {k}")


def test_out_of_place_leaves_input():
    x, _ = data(1000, np.float32)
    gx = cupy.asarray(x)
    out = cupy.empty_like(gx)
    result = prox.soft_threshold(gx, 0.5, out=out)
    assert result is out
    np.testing.assert_array_equal(gx.get(), x)
    np.testing.assert_array_equal(out.get(), prox.soft_threshold(x.copy(), 0.5))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_group_matches_cpu(dtype):
    x, g = data(10_007, dtype)
    groups = np.array([0, 1, 5, 4096, 4100, 9000, 10_007], dtype=np.int64)
    weights = np.array([1.0, 0.5, 2.0, 0.0, 1.5, 1.0])
    expected = prox.group_soft_threshold(x.copy(), groups, 0.3, weights=weights)
    actual = prox.group_soft_threshold(cupy.asarray(x), groups, 0.3, weights=weights)
    np.testing.assert_allclose(actual.get(), expected, rtol=1e-6 if dtype == np.float32 else 1e-14)
    expected = prox.prox_grad_step(x.copy(), g, 0.2, penalty="group", groups=groups, l1=0.5)
    actual = prox.prox_grad_step(cupy.asarray(x), cupy.asarray(g), 0.2, penalty="group",
                                 groups=cupy.asarray(groups), l1=0.5)
    np.testing.assert_allclose(actual.get(), expected, rtol=1e-6 if dtype == np.float32 else 1e-14)


def test_nan_stays_nan():
    x = cupy.asarray(np.array([np.nan, 1.0, -np.nan], dtype=np.float32))
    assert bool(cupy.isnan(prox.soft_threshold(x, 0.5)[0]))
    assert bool(cupy.isnan(prox.project_nonneg(x)[2]))


def test_errors_name_the_argument():
    x = cupy.zeros(4, dtype=cupy.float32)
    with pytest.raises(TypeError, match=r"threshold is on the CPU but x is on the GPU"):
        prox.soft_threshold(x, np.ones(4, dtype=np.float32))
    with pytest.raises(TypeError, match=r"grad is on the CPU but x is on the GPU"):
        prox.prox_grad_step(x, np.zeros(4, dtype=np.float32), 0.1, l1=0.1)
    with pytest.raises(ValueError, match=r"threshold\[2\]: expected a finite value >= 0, got -1.0"):
        prox.soft_threshold(x, cupy.asarray(np.array([0, 0, -1, 0], dtype=np.float32)))
    with pytest.raises(ValueError, match=r"lower = 1.0 exceeds upper = 0.0"):
        prox.project_box(x, 1.0, 0.0)
    with pytest.raises(ValueError, match=r"groups\[2\]: expected an offset > groups\[1\]"):
        prox.group_soft_threshold(x, [0, 2, 2, 4], 0.1)
    with pytest.raises(ValueError, match=r"out: expected shape \(4,\) to match x, got \(3,\)"):
        prox.soft_threshold(x, 0.1, out=cupy.zeros(3, dtype=cupy.float32))
