"""fastopt.prox against NumPy implementations written from the formulas.

The element-wise maps compute in the array's dtype in the order the formulas
read, so they match NumPy bit for bit. Group soft-thresholding sums each
group's norm in float64 in its own order, so it matches to rounding.
"""

import pathlib
import shutil
import subprocess

import numpy as np
import pytest

import fastopt
from fastopt import _core, prox

DTYPES = [np.float32, np.float64]
TOL = {np.float32: 1e-6, np.float64: 1e-13}


# ---------------------------------------------------------------- references


def ref_soft(v, thr):
    return np.sign(v) * np.maximum(np.abs(v) - thr, 0)


def ref_elastic(v, thr, shrink):
    return ref_soft(v, thr) / (v.dtype.type(1) + shrink)


def ref_l2(v, shrink):
    return v / (v.dtype.type(1) + shrink)


def ref_group(v, offsets, lam, weights=None):
    """max(0, 1 - lam w_g / ||v_g||) v_g, in float64, rounded to v's dtype."""
    out = np.empty(v.size, dtype=np.float64)
    flat = v.reshape(-1).astype(np.float64)
    for g in range(len(offsets) - 1):
        block = flat[offsets[g] : offsets[g + 1]]
        norm = np.sqrt(block @ block)
        w = 1.0 if weights is None else weights[g]
        factor = 0.0 if norm <= lam * w else 1.0 - lam * w / norm
        out[offsets[g] : offsets[g + 1]] = block * factor
    return out.astype(v.dtype).reshape(v.shape)


def ref_box(v, lo, hi):
    return np.minimum(np.maximum(v, lo), hi)


def rand(n, dtype, seed=0, scale=2.0):
    return (np.random.default_rng(seed).standard_normal(n) * scale).astype(dtype)


def random_offsets(n, seed=0, max_size=7):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, max_size + 1, size=n)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    offsets = offsets[offsets < n]
    return np.append(offsets, n).astype(np.int64)


# ------------------------------------------------------------ the maps


@pytest.mark.parametrize("dtype", DTYPES)
def test_soft_threshold_scalar(dtype):
    x = rand(1000, dtype)
    expected = ref_soft(x, dtype(0.7))
    out = np.empty_like(x)
    assert prox.soft_threshold(x, 0.7, out=out) is out
    np.testing.assert_array_equal(out, expected)
    y = x.copy()
    assert prox.soft_threshold(y, 0.7) is y
    np.testing.assert_array_equal(y, expected)


@pytest.mark.parametrize("dtype", DTYPES)
def test_soft_threshold_per_coordinate(dtype):
    x = rand(1000, dtype)
    thr = np.abs(rand(1000, dtype, seed=1))
    thr[::5] = 0.0
    out = prox.soft_threshold(x, thr, out=np.empty_like(x))
    np.testing.assert_array_equal(out, ref_soft(x, thr))
    inside = np.abs(x) <= thr
    assert inside.any()
    assert np.all(out[inside] == 0.0)
    assert not np.any(np.signbit(out[inside])), "zeros inside the threshold are +0.0"
    np.testing.assert_array_equal(out[::5], x[::5])


def test_threshold_dtype_converted():
    x = rand(100, np.float32)
    thr = np.abs(rand(100, np.float64, seed=3))
    out = prox.soft_threshold(x, thr, out=np.empty_like(x))
    np.testing.assert_array_equal(out, ref_soft(x, thr.astype(np.float32)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_soft_threshold_boundary_values(dtype):
    x = np.array([-1.0, -0.5, 0.5, 1.0, 0.0, -0.0, np.inf, -np.inf, np.nan], dtype=dtype)
    out = prox.soft_threshold(x, 0.5, out=np.empty_like(x))
    np.testing.assert_array_equal(out[:6], [-0.5, 0.0, 0.0, 0.5, 0.0, 0.0])
    assert out[6] == np.inf
    assert out[7] == -np.inf
    # NaN passes through, so a diverged iterate is not mistaken for a sparse solution.
    assert np.isnan(out[8])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("arrays", [False, True])
def test_elastic_net(dtype, arrays):
    x = rand(999, dtype)
    l1 = np.abs(rand(999, dtype, seed=1)) if arrays else 0.3
    l2 = np.abs(rand(999, dtype, seed=2)) if arrays else 1.7
    step = 0.25
    if arrays:
        thr, shrink = dtype(step) * l1, dtype(step) * l2
    else:
        thr, shrink = dtype(step * l1), dtype(step * l2)
    out = prox.elastic_net(x, l1, l2, step=step, out=np.empty_like(x))
    np.testing.assert_array_equal(out, ref_elastic(x, thr, shrink))
    y = x.copy()
    prox.elastic_net(y, l1, l2, step=step)
    np.testing.assert_array_equal(y, out)


@pytest.mark.parametrize("dtype", DTYPES)
def test_elastic_net_zero_l2(dtype):
    x = rand(500, dtype)
    out = prox.elastic_net(x, 0.4, 0.0, out=np.empty_like(x))
    np.testing.assert_array_equal(out, ref_soft(x, dtype(0.4)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("arrays", [False, True])
def test_l2_shrink(dtype, arrays):
    x = rand(777, dtype)
    l2 = np.abs(rand(777, dtype, seed=4)) if arrays else 3.0
    shrink = dtype(0.5) * l2 if arrays else dtype(0.5 * l2)
    out = prox.l2_shrink(x, l2, step=0.5, out=np.empty_like(x))
    np.testing.assert_array_equal(out, ref_l2(x, shrink))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weighted", [False, True])
def test_group_soft_threshold(dtype, weighted):
    n = 2000
    x = rand(n, dtype)
    offsets = random_offsets(n)
    num_groups = len(offsets) - 1
    weights = np.random.default_rng(5).uniform(0.0, 2.0, num_groups) if weighted else None
    lam = 1.5
    out = prox.group_soft_threshold(x, offsets, lam, weights=weights, out=np.empty_like(x))
    expected = ref_group(x, offsets, lam, weights)
    np.testing.assert_allclose(out, expected, rtol=TOL[dtype], atol=0)
    zero_groups = [
        g for g in range(num_groups)
        if np.linalg.norm(x[offsets[g] : offsets[g + 1]].astype(np.float64))
        <= lam * (1.0 if weights is None else weights[g])
    ]
    assert zero_groups
    for g in zero_groups:
        assert np.all(out[offsets[g] : offsets[g + 1]] == 0.0)
    y = x.copy()
    prox.group_soft_threshold(y, offsets, lam, weights=weights)
    np.testing.assert_array_equal(y, out)


@pytest.mark.parametrize("dtype", DTYPES)
def test_singleton_groups_soft_threshold(dtype):
    x = rand(300, dtype)
    out = prox.group_soft_threshold(x, np.arange(301), 0.6, out=np.empty_like(x))
    # The group map applies its threshold in float64, so the reference does too.
    expected = ref_soft(x.astype(np.float64), 0.6).astype(dtype)
    np.testing.assert_allclose(out, expected, rtol=TOL[dtype], atol=0)


def test_group_accepts_int32_list_offsets():
    x = rand(10, np.float64)
    a = prox.group_soft_threshold(x, [0, 4, 10], 0.5, out=np.empty_like(x))
    b = prox.group_soft_threshold(x, np.array([0, 4, 10], np.int32), 0.5, out=np.empty_like(x))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a, ref_group(x, [0, 4, 10], 0.5), rtol=1e-14)


def test_group_zero_block_stays_zero():
    x = np.zeros(6)
    prox.group_soft_threshold(x, [0, 3, 6], 0.0)
    np.testing.assert_array_equal(x, 0.0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_project_box(dtype):
    x = rand(1000, dtype)
    out = prox.project_box(x, -0.5, 1.0, out=np.empty_like(x))
    np.testing.assert_array_equal(out, ref_box(x, dtype(-0.5), dtype(1.0)))
    lo = rand(1000, dtype, seed=1) - 1.0
    hi = lo + np.abs(rand(1000, dtype, seed=2))
    out = prox.project_box(x, lo, hi, out=np.empty_like(x))
    np.testing.assert_array_equal(out, ref_box(x, lo, hi))
    out = prox.project_box(x, lo, np.inf, out=np.empty_like(x))
    np.testing.assert_array_equal(out, np.maximum(x, lo))
    out = prox.project_box(x, None, hi, out=np.empty_like(x))
    np.testing.assert_array_equal(out, np.minimum(x, hi))


@pytest.mark.parametrize("dtype", DTYPES)
def test_project_nonneg(dtype):
    x = rand(1000, dtype)
    y = x.copy()
    assert prox.project_nonneg(y) is y
    np.testing.assert_array_equal(y, np.maximum(x, 0))
    nan = prox.project_nonneg(np.array([np.nan, -1.0], dtype=dtype))
    assert np.isnan(nan[0])
    assert nan[1] == 0.0


def test_two_dimensional_and_empty_arrays():
    x = rand(24, np.float64).reshape(4, 6)
    out = prox.soft_threshold(x, 0.5, out=np.empty_like(x))
    np.testing.assert_array_equal(out, ref_soft(x, 0.5))
    thr = np.full((4, 6), 0.5)
    np.testing.assert_array_equal(prox.soft_threshold(x, thr, out=np.empty_like(x)), out)
    g = prox.group_soft_threshold(x, [0, 6, 12, 24], 1.0, out=np.empty_like(x))
    np.testing.assert_allclose(g, ref_group(x, [0, 6, 12, 24], 1.0), rtol=1e-14)
    empty = np.empty(0)
    assert prox.soft_threshold(empty, 1.0).size == 0
    assert prox.group_soft_threshold(empty, [0], 1.0).size == 0
    assert prox.prox_grad_step(empty, empty.copy(), 0.1, l1=1.0).size == 0


# ----------------------------------------------------- fused gradient steps

STEP = 0.3


def fused_cases(dtype, n):
    """(penalty, keyword arguments, map of v = x - t g) for every penalty."""
    t = dtype(STEP)
    l1 = np.abs(rand(n, dtype, seed=11))
    l2 = np.abs(rand(n, dtype, seed=12))
    lo = rand(n, dtype, seed=13) - 1.0
    hi = lo + np.abs(rand(n, dtype, seed=14))
    offsets = random_offsets(n, seed=15)
    weights = np.random.default_rng(16).uniform(0.5, 1.5, len(offsets) - 1)
    return [
        ("l1", {"l1": 0.8}, lambda v: ref_soft(v, dtype(STEP * 0.8))),
        ("l1", {"l1": l1}, lambda v: ref_soft(v, t * l1)),
        ("elasticnet", {"l1": 0.8, "l2": 2.0},
         lambda v: ref_elastic(v, dtype(STEP * 0.8), dtype(STEP * 2.0))),
        ("elasticnet", {"l1": l1, "l2": l2}, lambda v: ref_elastic(v, t * l1, t * l2)),
        ("elasticnet", {"l1": l1, "l2": 2.0}, lambda v: ref_elastic(v, t * l1, dtype(STEP * 2.0))),
        ("l2", {"l2": 2.0}, lambda v: ref_l2(v, dtype(STEP * 2.0))),
        ("l2", {"l2": l2}, lambda v: ref_l2(v, t * l2)),
        ("box", {"lower": -0.5, "upper": 0.5}, lambda v: ref_box(v, dtype(-0.5), dtype(0.5))),
        ("box", {"lower": lo, "upper": hi}, lambda v: ref_box(v, lo, hi)),
        ("box", {"upper": hi}, lambda v: np.minimum(v, hi)),
        ("nonneg", {}, lambda v: np.maximum(v, 0)),
        ("group", {"groups": offsets, "l1": 1.2, "weights": weights},
         lambda v: ref_group(v, offsets, STEP * 1.2, weights)),
    ]


@pytest.mark.parametrize("dtype", DTYPES)
def test_prox_grad_step_every_penalty(dtype):
    n = 1500
    x = rand(n, dtype)
    g = rand(n, dtype, seed=1)
    v = x - dtype(STEP) * g
    for penalty, kwargs, ref in fused_cases(dtype, n):
        expected = ref(v)
        out = prox.prox_grad_step(x, g, STEP, penalty=penalty, out=np.empty_like(x), **kwargs)
        y = x.copy()
        prox.prox_grad_step(y, g, STEP, penalty=penalty, **kwargs)
        if penalty == "group":
            np.testing.assert_allclose(out, expected, rtol=TOL[dtype], atol=0, err_msg=penalty)
        else:
            np.testing.assert_array_equal(out, expected, err_msg=f"{penalty} {sorted(kwargs)}")
        np.testing.assert_array_equal(y, out, err_msg=f"{penalty} in place")


@pytest.mark.parametrize("dtype", DTYPES)
def test_fused_step_matches_two_passes(dtype):
    x = rand(800, dtype)
    g = rand(800, dtype, seed=1)
    v = x - dtype(STEP) * g
    fused = prox.prox_grad_step(x, g, STEP, penalty="elasticnet", l1=0.5, l2=1.0,
                                out=np.empty_like(x))
    two_pass = prox.elastic_net(v, 0.5, 1.0, step=STEP, out=np.empty_like(x))
    np.testing.assert_array_equal(fused, two_pass)


# ---------------------------------------------------------- properties

def prox_maps(dtype, n):
    """Maps z -> out that are proximal operators (hence non-expansive)."""
    offsets = random_offsets(n, seed=7)
    thr = np.abs(rand(n, dtype, seed=8))
    return {
        "l1": lambda z: prox.soft_threshold(z, 0.5, out=np.empty_like(z)),
        "l1 per coordinate": lambda z: prox.soft_threshold(z, thr, out=np.empty_like(z)),
        "elasticnet": lambda z: prox.elastic_net(z, 0.5, 2.0, out=np.empty_like(z)),
        "l2": lambda z: prox.l2_shrink(z, 2.0, out=np.empty_like(z)),
        "group": lambda z: prox.group_soft_threshold(z, offsets, 1.0, out=np.empty_like(z)),
        "box": lambda z: prox.project_box(z, -0.5, 0.7, out=np.empty_like(z)),
        "nonneg": lambda z: prox.project_nonneg(z, out=np.empty_like(z)),
    }


@pytest.mark.parametrize("dtype", DTYPES)
def test_maps_are_non_expansive(dtype):
    n = 400
    for name, apply in prox_maps(dtype, n).items():
        for seed in range(5):
            a = rand(n, np.float64, seed=100 + seed).astype(dtype)
            b = rand(n, np.float64, seed=200 + seed).astype(dtype)
            pa = apply(a).astype(np.float64)
            pb = apply(b).astype(np.float64)
            dist_in = np.linalg.norm(a.astype(np.float64) - b)
            dist_out = np.linalg.norm(pa - pb)
            assert dist_out <= dist_in * (1 + 10 * np.finfo(dtype).eps), name
            # Firm non-expansiveness: ||Pa - Pb||^2 <= (Pa - Pb) . (a - b).
            inner = (pa - pb) @ (a.astype(np.float64) - b)
            assert dist_out**2 <= inner * (1 + 10 * np.finfo(dtype).eps) + 1e-12, name


@pytest.mark.parametrize("dtype", DTYPES)
def test_projections_are_idempotent(dtype):
    x = rand(500, dtype, scale=3.0)
    lo = rand(500, dtype, seed=1) - 1.0
    hi = lo + np.abs(rand(500, dtype, seed=2))
    once = prox.project_box(x, lo, hi, out=np.empty_like(x))
    np.testing.assert_array_equal(prox.project_box(once, lo, hi, out=np.empty_like(x)), once)
    once = prox.project_nonneg(x, out=np.empty_like(x))
    np.testing.assert_array_equal(prox.project_nonneg(once, out=np.empty_like(x)), once)


@pytest.mark.parametrize("dtype", DTYPES)
def test_moreau_decomposition_l1(dtype):
    # For h = lam ||.||_1, h* is the indicator of the inf-ball of radius lam,
    # whose prox is the projection on [-lam, lam]; x = prox_h(x) + prox_h*(x).
    lam = 0.6
    x = rand(1000, dtype)
    primal = prox.soft_threshold(x, lam, out=np.empty_like(x))
    dual = prox.project_box(x, -lam, lam, out=np.empty_like(x))
    np.testing.assert_allclose(primal + dual, x, rtol=2 * np.finfo(dtype).eps, atol=0)
    thr = np.abs(rand(1000, dtype, seed=3))
    primal = prox.soft_threshold(x, thr, out=np.empty_like(x))
    dual = prox.project_box(x, -thr, thr, out=np.empty_like(x))
    np.testing.assert_allclose(primal + dual, x, rtol=2 * np.finfo(dtype).eps, atol=0)


def test_moreau_decomposition_group():
    # The conjugate of lam ||.||_2 per group is the indicator of the ball of
    # radius lam; its prox scales a block with larger norm back onto the ball.
    lam = 1.0
    x = rand(300, np.float64)
    offsets = random_offsets(300, seed=9)
    primal = prox.group_soft_threshold(x, offsets, lam, out=np.empty_like(x))
    dual = np.empty_like(x)
    for g in range(len(offsets) - 1):
        block = x[offsets[g] : offsets[g + 1]]
        dual[offsets[g] : offsets[g + 1]] = block * min(1.0, lam / np.linalg.norm(block))
    np.testing.assert_allclose(primal + dual, x, rtol=1e-14, atol=1e-15)


# ------------------------------------------------------------- thread counts


def thread_cases(n):
    x = rand(n, np.float64)
    g = rand(n, np.float64, seed=1)
    thr = np.abs(rand(n, np.float64, seed=2))
    sizes = np.random.default_rng(3).integers(1, 5000, size=200)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    offsets = np.append(offsets[offsets < n], n)
    return x, g, [
        ("l1", {"l1": thr}),
        ("elasticnet", {"l1": 0.5, "l2": thr}),
        ("l2", {"l2": 1.0}),
        ("box", {"lower": -thr, "upper": thr}),
        ("nonneg", {}),
        ("group", {"groups": offsets, "l1": 10.0}),
    ]


@pytest.mark.skipif(fastopt.get_num_threads() < 2 and not fastopt.openmp_enabled(),
                    reason="built without OpenMP")
@pytest.mark.parametrize("dtype", DTYPES)
def test_results_independent_of_threads(dtype):
    n = 200_003  # above the parallel threshold, and not a multiple of the share alignment
    x, g, cases = thread_cases(n)
    x, g = x.astype(dtype), g.astype(dtype)
    for penalty, kwargs in cases:
        kwargs = {k: (v.astype(dtype) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v)
                  for k, v in kwargs.items()}
        results = []
        for threads in (1, 2, 3):
            fastopt.set_num_threads(threads)
            results.append(prox.prox_grad_step(x, g, 0.1, penalty=penalty,
                                               out=np.empty_like(x), **kwargs))
        for other in results[1:]:
            np.testing.assert_array_equal(other, results[0], err_msg=penalty)


def test_results_independent_of_isa():
    x, g, cases = thread_cases(50_000)
    for penalty, kwargs in cases:
        results = []
        for isa in fastopt.available_isas():
            _core.select_isa(isa)
            results.append(prox.prox_grad_step(x, g, 0.1, penalty=penalty,
                                               out=np.empty_like(x), **kwargs))
        for other in results[1:]:
            np.testing.assert_array_equal(other, results[0], err_msg=penalty)


# ----------------------------------------------------------------- errors


def unchanged_after(call, *arrays):
    """Run call (expected to raise) and check that no array changed."""
    before = [a.copy() for a in arrays]
    with pytest.raises((TypeError, ValueError)) as info:
        call()
    for a, b in zip(arrays, before):
        np.testing.assert_array_equal(a, b)
    return str(info.value)


def test_negative_threshold_rejected():
    x = rand(10, np.float64)
    msg = unchanged_after(lambda: prox.soft_threshold(x, -0.1), x)
    assert "threshold" in msg
    assert "-0.1" in msg
    thr = np.full(10, 0.5)
    thr[7] = -2.0
    msg = unchanged_after(lambda: prox.soft_threshold(x, thr), x)
    assert "threshold[7]" in msg
    assert "-2" in msg


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_strength_rejected(bad):
    x = rand(10, np.float64)
    msg = unchanged_after(lambda: prox.elastic_net(x, 0.1, bad), x)
    assert msg.startswith("l2")
    l1 = np.full(10, 0.1)
    l1[3] = bad
    msg = unchanged_after(lambda: prox.prox_grad_step(x, x.copy(), 0.1, l1=l1), x)
    assert "l1[3]" in msg


def test_lower_above_upper_rejected():
    x = rand(10, np.float64)
    msg = unchanged_after(lambda: prox.project_box(x, 1.0, -1.0), x)
    assert "lower = 1 exceeds upper = -1" in msg
    lo = np.zeros(10)
    hi = np.ones(10)
    hi[4] = -0.5
    msg = unchanged_after(lambda: prox.project_box(x, lo, hi), x)
    assert "lower[4] = 0 exceeds upper[4] = -0.5" in msg
    msg = unchanged_after(lambda: prox.project_box(x, np.nan, 1.0), x)
    assert "lower" in msg


def test_shape_mismatch_rejected():
    x = rand(10, np.float64)
    msg = unchanged_after(lambda: prox.soft_threshold(x, np.ones(9)), x)
    assert "threshold: expected shape (10,)" in msg
    msg = unchanged_after(lambda: prox.soft_threshold(x, 1.0, out=np.empty(11)), x)
    assert "out: expected shape (10,)" in msg
    msg = unchanged_after(lambda: prox.prox_grad_step(x, np.ones((2, 5)), 0.1, l1=1.0), x)
    assert "grad: expected shape (10,)" in msg


def test_dtype_mismatch_rejected():
    x = rand(10, np.float64)
    out = np.zeros(10, np.float32)
    msg = unchanged_after(lambda: prox.soft_threshold(x, 1.0, out=out), x, out)
    assert "out: expected dtype float64" in msg
    msg = unchanged_after(
        lambda: prox.prox_grad_step(x, np.ones(10, np.float32), 0.1, l1=1.0), x)
    assert "grad: expected dtype float64" in msg
    with pytest.raises(TypeError, match="x: expected dtype float32 or float64, got int64"):
        prox.soft_threshold(np.arange(4), 1.0)
    with pytest.raises(TypeError, match="x: expected a numpy.ndarray, got list"):
        prox.soft_threshold([1.0, 2.0], 1.0)
    with pytest.raises(TypeError, match="threshold"):
        prox.soft_threshold(x, "0.5")
    with pytest.raises(TypeError, match="threshold"):
        prox.soft_threshold(x, True)


def test_layout_and_writeability_rejected():
    base = rand(20, np.float64)
    x = base[::2]
    msg = unchanged_after(lambda: prox.soft_threshold(x, 1.0), base)
    assert "x: expected a C-contiguous array" in msg
    y = base[:10].copy()
    msg = unchanged_after(lambda: prox.soft_threshold(y, 1.0, out=np.empty(20)[::2]), y)
    assert "out: expected a C-contiguous array" in msg
    frozen = y.copy()
    frozen.flags.writeable = False
    msg = unchanged_after(lambda: prox.soft_threshold(frozen, 1.0), frozen)
    assert "out: expected a writeable array" in msg


def test_partial_overlap_rejected():
    buf = rand(11, np.float64)
    msg = unchanged_after(lambda: prox.soft_threshold(buf[:10], 0.1, out=buf[1:]), buf)
    assert "share memory" in msg
    x = rand(10, np.float64)
    msg = unchanged_after(lambda: prox.prox_grad_step(x, x, 0.1, l1=0.1), x)
    assert "grad" in msg
    assert "share memory" in msg
    thr = np.full(10, 0.1)
    msg = unchanged_after(lambda: prox.soft_threshold(x, thr, out=thr), x, thr)
    assert "share memory" in msg


def test_out_of_place_leaves_input_unchanged():
    x = rand(100, np.float64)
    before = x.copy()
    g = rand(100, np.float64, seed=1)
    prox.prox_grad_step(x, g, 0.5, penalty="group", groups=[0, 50, 100], l1=0.1,
                        out=np.empty_like(x))
    np.testing.assert_array_equal(x, before)


def test_bad_groups_rejected():
    x = rand(10, np.float64)
    cases = [
        ([0, 5, 5, 10], "groups[2]: expected an offset > groups[1] = 5"),
        ([0, 6, 4, 10], "groups[2]: expected an offset > groups[1] = 6"),
        ([1, 5, 10], "groups[0]: expected 0"),
        ([0, 5, 9], "groups[2]: expected the last offset to equal x.size = 10"),
        ([0, 5, 11], "groups[2]: expected the last offset to equal x.size = 10"),
        ([], "groups: expected a 1-D array of at least one offset"),
    ]
    for groups, text in cases:
        msg = unchanged_after(lambda: prox.group_soft_threshold(x, groups, 0.1), x)
        assert text in msg
    msg = unchanged_after(lambda: prox.group_soft_threshold(x, [0.0, 10.0], 0.1), x)
    assert "groups: expected integer offsets" in msg
    msg = unchanged_after(lambda: prox.group_soft_threshold(x, [0, 10], -1.0), x)
    assert "threshold" in msg
    msg = unchanged_after(
        lambda: prox.group_soft_threshold(x, [0, 5, 10], 0.1, weights=[1.0]), x)
    assert "weights: expected shape (2,)" in msg
    msg = unchanged_after(
        lambda: prox.group_soft_threshold(x, [0, 5, 10], 0.1, weights=[1.0, -1.0]), x)
    assert "weights[1]: expected a finite value >= 0, got -1" in msg


def test_step_rejected():
    x = rand(10, np.float64)
    g = rand(10, np.float64, seed=1)
    for step in (0.0, -1.0, np.inf, np.nan):
        msg = unchanged_after(lambda: prox.prox_grad_step(x, g, step, l1=1.0), x)
        assert msg.startswith("step")
    msg = unchanged_after(lambda: prox.elastic_net(x, 1.0, 1.0, step=0.0), x)
    assert msg.startswith("step")


def test_penalty_arguments_checked():
    x = rand(10, np.float64)
    g = rand(10, np.float64, seed=1)
    cases = [
        ({"penalty": "lasso", "l1": 1.0}, "penalty: expected one of"),
        ({"penalty": "l1"}, "l1: required by penalty='l1'"),
        ({"penalty": "l1", "l1": 1.0, "l2": 1.0}, "l2: not used by penalty='l1'"),
        ({"penalty": "elasticnet", "l1": 1.0}, "l2: required"),
        ({"penalty": "l2", "l2": 1.0, "lower": 0.0}, "lower: not used"),
        ({"penalty": "group", "l1": 1.0}, "groups: required"),
        ({"penalty": "group", "groups": [0, 10]}, "l1: required"),
        ({"penalty": "box"}, "penalty='box' requires at least one bound"),
        ({"penalty": "box", "lower": 0.0, "l1": 1.0}, "l1: not used"),
        ({"penalty": "nonneg", "upper": 1.0}, "upper: not used"),
    ]
    for kwargs, text in cases:
        msg = unchanged_after(lambda: prox.prox_grad_step(x, g, 0.1, **kwargs), x)
        assert text in msg


# -------------------------------------------------------------- CUDA header

CUDA_SOURCE = r"""
#include "fastopt/prox.hpp"

template <typename T>
__global__ void every_map(T* x, const T* g, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  T v = fastopt::soft_threshold(x[i], g[i]);
  v = fastopt::elastic_net_prox(v, g[i], g[i]);
  v = fastopt::l2_shrink(v, g[i]);
  v = fastopt::clamp_to(v, -g[i], g[i]);
  v = fastopt::project_nonneg(v);
  x[i] = v * fastopt::group_shrink_factor(g[i], T(1));
}

template __global__ void every_map<float>(float*, const float*, int);
template __global__ void every_map<double>(double*, const double*, int);
"""


def test_prox_header_compiles_with_nvcc(tmp_path):
    nvcc = shutil.which("nvcc")
    if nvcc is None:
        pytest.skip("nvcc is not on PATH; the CUDA toolkit is needed to compile the header")
    include = pathlib.Path(__file__).resolve().parents[1] / "csrc" / "include"
    source = tmp_path / "prox.cu"
    source.write_text(CUDA_SOURCE)
    result = subprocess.run(
        [nvcc, "-std=c++17", f"-I{include}", "-c", str(source), "-o", str(tmp_path / "prox.o")],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr
