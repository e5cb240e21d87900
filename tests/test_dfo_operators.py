"""Each operator of fastopt.dfo against a NumPy reference of its published formula,
replayed on the draws that the operator reads (fastopt.dfo.operators.uniform_draws)."""

import numpy as np
import pytest

import fastopt
from fastopt import _core
from fastopt.dfo import operators as ops

SEED = 20261205
STREAM = 7


def draws(rows, count, seed=SEED, stream=STREAM):
    return ops.uniform_draws(rows, count, seed=seed, stream=stream)


def real_pairs(pairs, genes, rng, low=-2.0, high=3.0):
    return rng.uniform(low, high, size=(2 * pairs, genes))


def permutations(rows, n, rng):
    return np.array([rng.permutation(n) for _ in range(rows)], dtype=np.int64)


# --- references written from the published formulas -----------------------------------


def sbx_reference(parents, lower, upper, eta, prob, u):
    """SBX, Deb & Agrawal (1995), eqs. for beta_q; per-gene probability 1/2 and a
    random exchange of the two children, as in Deb's NSGA-II code."""
    children = parents.copy()
    for p in range(parents.shape[0] // 2):
        if u[p, 0] >= prob:
            continue
        x1, x2 = parents[2 * p], parents[2 * p + 1]
        for j in range(parents.shape[1]):
            if u[p, 1 + 3 * j] >= 0.5:
                continue
            v = u[p, 2 + 3 * j]
            if v <= 0.5:
                beta = (2 * v) ** (1 / (eta + 1))
            else:
                beta = (1 / (2 * (1 - v))) ** (1 / (eta + 1))
            y1 = 0.5 * ((1 + beta) * x1[j] + (1 - beta) * x2[j])
            y2 = 0.5 * ((1 - beta) * x1[j] + (1 + beta) * x2[j])
            if u[p, 3 + 3 * j] < 0.5:
                y1, y2 = y2, y1
            children[2 * p, j] = min(max(y1, lower[j]), upper[j])
            children[2 * p + 1, j] = min(max(y2, lower[j]), upper[j])
    return children


def blend_reference(parents, lower, upper, alpha, prob, u):
    """BLX-alpha, Eshelman & Schaffer (1993)."""
    p1, p2 = parents[0::2], parents[1::2]
    lo, d = np.minimum(p1, p2), np.abs(p1 - p2)
    genes = parents.shape[1]
    c1 = lo - alpha * d + u[:, 1:1 + 2 * genes:2] * (1 + 2 * alpha) * d
    c2 = lo - alpha * d + u[:, 2:2 + 2 * genes:2] * (1 + 2 * alpha) * d
    children = np.empty_like(parents)
    children[0::2] = np.clip(c1, lower, upper)
    children[1::2] = np.clip(c2, lower, upper)
    keep = u[:, 0] >= prob
    children[0::2][keep] = p1[keep]
    children[1::2][keep] = p2[keep]
    return children


def exchange_reference(parents, mask, prob, u):
    """Children that exchange the genes where mask[p, j] holds."""
    p1, p2 = parents[0::2], parents[1::2]
    mask = mask & (u[:, :1] < prob)
    children = np.empty_like(parents)
    children[0::2] = np.where(mask, p2, p1)
    children[1::2] = np.where(mask, p1, p2)
    return children


def order_crossover_reference(p1, p2, a, b):
    """OX, Davis (1985): keep p1[a..b], fill from p2 in order starting after b."""
    n = len(p1)
    child = [None] * n
    child[a:b + 1] = p1[a:b + 1]
    kept = set(p1[a:b + 1])
    donors = [g for g in list(p2[b + 1:]) + list(p2[:b + 1]) if g not in kept]
    positions = list(range(b + 1, n)) + list(range(0, a))
    for pos, g in zip(positions, donors):
        child[pos] = g
    return np.array(child)


def pmx_reference(p1, p2, a, b):
    """PMX, Goldberg & Lingle (1985), in its textbook form: copy p1's segment, place each
    gene of p2's segment that is missing by following the mapping, fill the rest from p2."""
    n = len(p1)
    child = [None] * n
    child[a:b + 1] = p1[a:b + 1]
    p2_list = list(p2)
    for i in range(a, b + 1):
        g = p2[i]
        if g in child[a:b + 1]:
            continue
        pos = i
        while a <= pos <= b:
            pos = p2_list.index(p1[pos])
        child[pos] = g
    for i in range(n):
        if child[i] is None:
            child[i] = p2[i]
    return np.array(child)


def polynomial_reference(x, lower, upper, eta, prob, u):
    """Polynomial mutation, Deb & Goyal (1996), bounded form of Deb's NSGA-II code."""
    y = x.copy()
    width = upper - lower
    for r in range(x.shape[0]):
        for j in range(x.shape[1]):
            if u[r, 2 * j] >= prob or width[j] <= 0:
                continue
            v = u[r, 2 * j + 1]
            d1 = (x[r, j] - lower[j]) / width[j]
            d2 = (upper[j] - x[r, j]) / width[j]
            m = 1 / (eta + 1)
            if v < 0.5:
                dq = (2 * v + (1 - 2 * v) * (1 - d1) ** (eta + 1)) ** m - 1
            else:
                dq = 1 - (2 * (1 - v) + 2 * (v - 0.5) * (1 - d2) ** (eta + 1)) ** m
            y[r, j] = min(max(x[r, j] + dq * width[j], lower[j]), upper[j])
    return y


def segment(u, n):
    a, b = int(u[1] * n), int(u[2] * n)
    return min(a, b), max(a, b)


# --- tests ------------------------------------------------------------------------------


def test_draws_uniform_and_independent_rows():
    u = draws(2000, 8)
    assert u.shape == (2000, 8)
    assert u.min() >= 0.0
    assert u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.01
    assert abs(np.corrcoef(u[:, 0], u[:, 1])[0, 1]) < 0.05
    # A row's draws do not depend on how many rows a call asks for.
    np.testing.assert_array_equal(draws(3, 8), u[:3])


def test_draws_differ_by_seed_and_stream():
    base = draws(4, 4)
    assert not np.array_equal(base, draws(4, 4, seed=SEED + 1))
    assert not np.array_equal(base, draws(4, 4, stream=STREAM + 1))


def test_tournament_matches_reference():
    rng = np.random.default_rng(0)
    fitness = rng.normal(size=50)
    fitness[[3, 17]] = np.nan
    size = 4
    winners = ops.tournament(fitness, 300, size, seed=SEED, stream=STREAM)
    u = draws(300, size)
    candidates = np.minimum((u * 50).astype(np.int64), 49)
    scores = np.where(np.isnan(fitness), np.inf, fitness)[candidates]
    expected = candidates[np.arange(300), np.argmin(scores, axis=1)]
    np.testing.assert_array_equal(winners, expected)


@pytest.mark.parametrize("eta", [0.0, 2.0, 15.0])
def test_sbx_matches_deb_agrawal(eta):
    rng = np.random.default_rng(1)
    parents = real_pairs(40, 7, rng)
    lower, upper = np.full(7, -2.5), np.full(7, 3.5)
    bounds = np.column_stack([lower, upper])
    children = ops.sbx(parents, bounds, eta=eta, prob=0.8, seed=SEED, stream=STREAM)
    expected = sbx_reference(parents, lower, upper, eta, 0.8, draws(40, 1 + 3 * 7))
    np.testing.assert_allclose(children, expected, rtol=1e-13, atol=1e-13)


def test_sbx_preserves_pair_mean_inside_bounds():
    rng = np.random.default_rng(2)
    parents = real_pairs(100, 5, rng, -1.0, 1.0)
    children = ops.sbx(parents, [(-1e6, 1e6)] * 5, eta=1.0, prob=1.0, seed=SEED)
    np.testing.assert_allclose(children[0::2] + children[1::2], parents[0::2] + parents[1::2],
                               rtol=1e-12, atol=1e-12)


def test_blend_matches_eshelman_schaffer():
    rng = np.random.default_rng(3)
    parents = real_pairs(30, 6, rng)
    lower, upper = np.full(6, -2.2), np.full(6, 3.1)
    children = ops.blend(parents, np.column_stack([lower, upper]), alpha=0.3, prob=0.7,
                         seed=SEED, stream=STREAM)
    expected = blend_reference(parents, lower, upper, 0.3, 0.7, draws(30, 1 + 2 * 6))
    np.testing.assert_allclose(children, expected, rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("dtype", [np.float64, np.bool_])
def test_uniform_crossover_matches_reference(dtype):
    rng = np.random.default_rng(4)
    parents = (rng.uniform(size=(60, 9)) < 0.5).astype(dtype)
    children = ops.uniform_crossover(parents, prob=0.6, seed=SEED, stream=STREAM)
    u = draws(30, 10)
    expected = exchange_reference(parents, u[:, 1:] < 0.5, 0.6, u)
    assert children.dtype == parents.dtype
    np.testing.assert_array_equal(children, expected)


@pytest.mark.parametrize("dtype", [np.float64, np.uint8])
def test_one_point_crossover_matches_reference(dtype):
    rng = np.random.default_rng(5)
    genes = 11
    parents = rng.integers(0, 2, size=(50, genes)).astype(dtype)
    children = ops.one_point_crossover(parents, prob=0.9, seed=SEED, stream=STREAM)
    u = draws(25, 2)
    cut = 1 + np.minimum((u[:, 1] * (genes - 1)).astype(int), genes - 2)
    mask = np.arange(genes) >= cut[:, None]
    np.testing.assert_array_equal(children, exchange_reference(parents, mask, 0.9, u))


def test_two_point_crossover_matches_reference():
    rng = np.random.default_rng(6)
    genes = 8
    parents = rng.integers(0, 2, size=(50, genes)).astype(np.uint8)
    children = ops.two_point_crossover(parents, prob=0.9, seed=SEED, stream=STREAM)
    u = draws(25, 3)
    cuts = np.sort(np.minimum((u[:, 1:3] * (genes + 1)).astype(int), genes), axis=1)
    j = np.arange(genes)
    mask = (j >= cuts[:, :1]) & (j < cuts[:, 1:])
    np.testing.assert_array_equal(children, exchange_reference(parents, mask, 0.9, u))


@pytest.mark.parametrize("name, reference", [("order_crossover", order_crossover_reference),
                                             ("pmx", pmx_reference)])
@pytest.mark.parametrize("n", [1, 2, 9])
def test_permutation_crossover_matches_reference(name, reference, n):
    rng = np.random.default_rng(7)
    parents = permutations(40, n, rng)
    children = getattr(ops, name)(parents, prob=0.85, seed=SEED, stream=STREAM)
    u = draws(20, 3)
    for p in range(20):
        p1, p2 = parents[2 * p], parents[2 * p + 1]
        if u[p, 0] >= 0.85:
            np.testing.assert_array_equal(children[2 * p], p1)
            np.testing.assert_array_equal(children[2 * p + 1], p2)
            continue
        a, b = segment(u[p], n)
        np.testing.assert_array_equal(children[2 * p], reference(p1, p2, a, b))
        np.testing.assert_array_equal(children[2 * p + 1], reference(p2, p1, a, b))
    assert (np.sort(children, axis=1) == np.arange(n)).all()


@pytest.mark.parametrize("eta", [0.0, 5.0, 20.0])
def test_polynomial_mutation_matches_deb_goyal(eta):
    rng = np.random.default_rng(8)
    lower = np.array([-1.0, 0.0, 2.0, -5.0, 3.0])
    upper = np.array([1.0, 10.0, 2.5, 5.0, 3.0])
    x = rng.uniform(lower, upper, size=(200, 5))
    mutated = ops.polynomial_mutation(x, np.column_stack([lower, upper]), eta=eta, prob=0.5,
                                      seed=SEED, stream=STREAM)
    expected = polynomial_reference(x, lower, upper, eta, 0.5, draws(200, 10))
    np.testing.assert_allclose(mutated, expected, rtol=1e-13, atol=1e-13)
    # The fixed variable (equal bounds) never moves.
    np.testing.assert_array_equal(mutated[:, 4], 3.0)


def test_gaussian_mutation_matches_box_muller():
    rng = np.random.default_rng(9)
    lower, upper = np.array([-1.0, -3.0, 0.0]), np.array([1.0, 5.0, 0.1])
    x = rng.uniform(lower, upper, size=(300, 3))
    mutated = ops.gaussian_mutation(x, np.column_stack([lower, upper]), sigma=0.2, prob=0.6,
                                    seed=SEED, stream=STREAM)
    u = draws(300, 9)
    z = np.sqrt(-2 * np.log(1 - u[:, 1::3])) * np.cos(2 * np.pi * u[:, 2::3])
    moved = np.clip(x + 0.2 * (upper - lower) * z, lower, upper)
    expected = np.where(u[:, 0::3] < 0.6, moved, x)
    np.testing.assert_allclose(mutated, expected, rtol=1e-13, atol=1e-13)


def test_gaussian_mutation_step_distribution():
    x = np.zeros((20000, 1))
    mutated = ops.gaussian_mutation(x, [(-100.0, 100.0)], sigma=0.005, prob=1.0, seed=SEED)
    step = mutated[:, 0] / (0.005 * 200.0)
    assert abs(step.mean()) < 0.03
    assert abs(step.std() - 1.0) < 0.03


def test_bit_flip_matches_reference():
    rng = np.random.default_rng(10)
    x = rng.integers(0, 2, size=(100, 13)).astype(bool)
    flipped = ops.bit_flip(x, prob=0.3, seed=SEED, stream=STREAM)
    assert flipped.dtype == np.bool_
    np.testing.assert_array_equal(flipped, x ^ (draws(100, 13) < 0.3))


@pytest.mark.parametrize("name", ["swap_mutation", "inversion_mutation"])
def test_permutation_mutation_matches_reference(name):
    rng = np.random.default_rng(11)
    n = 10
    x = permutations(100, n, rng)
    mutated = getattr(ops, name)(x, prob=0.7, seed=SEED, stream=STREAM)
    u = draws(100, 3)
    for r in range(100):
        expected = x[r].copy()
        if u[r, 0] < 0.7:
            i, j = int(u[r, 1] * n), int(u[r, 2] * n)
            if name == "swap_mutation":
                expected[[i, j]] = expected[[j, i]]
            else:
                a, b = min(i, j), max(i, j)
                expected[a:b + 1] = expected[a:b + 1][::-1]
        np.testing.assert_array_equal(mutated[r], expected)


def test_coordinate_move_matches_cauchy_reference():
    rng = np.random.default_rng(12)
    lower, upper = np.array([-1.0, -2.0, 0.0, 4.0]), np.array([1.0, 2.0, 0.5, 9.0])
    x = rng.uniform(lower, upper, size=(500, 4))
    step = rng.uniform(0.01, 2.0, size=(500, 4))
    out, moved = _core.dfo_coordinate_move(x, step, lower, upper, SEED, STREAM)
    u = draws(500, 3)
    rows = np.arange(500)
    c = (u[:, 0] * 4).astype(int)
    v = x[rows, c] + step[rows, c] * np.tan(np.pi * (u[:, 1] - 0.5))
    outside = (v < lower[c]) | (v > upper[c])
    v = np.where(outside, lower[c] + u[:, 2] * (upper[c] - lower[c]), v)
    expected = x.copy()
    expected[rows, c] = v
    np.testing.assert_array_equal(moved, c)
    np.testing.assert_allclose(out, expected, rtol=1e-14, atol=1e-14)


def test_metropolis_matches_reference():
    rng = np.random.default_rng(13)
    f = rng.normal(size=400)
    candidate = f + rng.normal(scale=2.0, size=400)
    candidate[::50] = np.nan
    current = f.copy()
    accepted = _core.dfo_metropolis(current, candidate, 1.5, SEED, STREAM)
    u = draws(400, 1)[:, 0]
    with np.errstate(invalid="ignore"):
        expected = (candidate <= f) | (u < np.exp(-(candidate - f) / 1.5))
    expected &= ~np.isnan(candidate)
    np.testing.assert_array_equal(accepted, expected)
    np.testing.assert_array_equal(current, np.where(expected, candidate, f))


@pytest.mark.parametrize("call", [
    lambda: ops.sbx(np.random.default_rng(0).uniform(size=(4000, 10)), [(0.0, 1.0)] * 10,
                    seed=SEED),
    lambda: ops.polynomial_mutation(np.random.default_rng(0).uniform(size=(4000, 10)),
                                    [(0.0, 1.0)] * 10, prob=0.5, seed=SEED),
    lambda: ops.order_crossover(permutations(2000, 20, np.random.default_rng(0)), seed=SEED),
    lambda: ops.tournament(np.arange(50000.0), 50000, 3, seed=SEED),
])
def test_operators_independent_of_threads(call):
    before = fastopt.get_num_threads()
    try:
        fastopt.set_num_threads(1)
        one = call()
        fastopt.set_num_threads(4)
        four = call()
    finally:
        fastopt.set_num_threads(before)
    np.testing.assert_array_equal(one, four)


@pytest.mark.parametrize("call, match", [
    (lambda: ops.sbx(np.zeros((4, 2)), [(0, 1)] * 2, prob=1.5, seed=0), r"prob: .*1\.5"),
    (lambda: ops.bit_flip(np.zeros((2, 3)), prob=-0.1, seed=0), r"prob: .*-0\.1"),
    (lambda: ops.swap_mutation(np.zeros((2, 3)), seed=0), r"x\[0\]: expected a permutation"),
    (lambda: ops.pmx(np.zeros((3, 2)), seed=0), r"parents: .*even"),
    (lambda: ops.sbx(np.zeros((2, 2)), [(0, 1)] * 3, seed=0), r"bounds: expected 2"),
    (lambda: ops.sbx(np.zeros((2, 2)), [(0, 1), (2, 1)], seed=0),
     r"bounds\[1\]: lower bound 2\.0 is greater than upper bound 1\.0"),
    (lambda: ops.uniform_draws(2, 2, seed=-1), r"seed: .*-1"),
])
def test_operators_reject_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
