"""Simulated annealing and the genetic algorithm of fastopt.dfo on problems with known
optima, their reproducibility, and their input checks."""

import numpy as np
import pytest
from scipy.optimize import OptimizeResult

import fastopt
from fastopt import dfo

DIM = 10
SEEDS = range(5)
# Most of the seeds must succeed: a stochastic method may miss on one or two.
MIN_SUCCESSES = 4


def rastrigin(x):
    return 10.0 * x.shape[1] + (x**2 - 10.0 * np.cos(2.0 * np.pi * x)).sum(axis=1)


def ackley(x):
    d = x.shape[1]
    return (-20.0 * np.exp(-0.2 * np.sqrt((x**2).sum(axis=1) / d))
            - np.exp(np.cos(2.0 * np.pi * x).sum(axis=1) / d) + 20.0 + np.e)


def rosenbrock(x):
    return (100.0 * (x[:, 1:] - x[:, :-1]**2)**2 + (1.0 - x[:, :-1])**2).sum(axis=1)


# (function, half-width of the box, tolerance on f - f* = f, since f* = 0). Each tolerance
# lies below the value of every other local minimum (about 1 for Rastrigin, about 3.99
# for the second minimum of Rosenbrock), so a success is a point in the global basin.
PROBLEMS = {
    "rastrigin": (rastrigin, 5.12, 1e-2),
    "ackley": (ackley, 32.768, 1e-2),
    "rosenbrock": (rosenbrock, 5.0, 1.0),
}
# Evaluation budgets and options of one run. Rosenbrock's curved valley needs a long
# cold phase, which faster cooling and two restarts from the best point give.
SA_BUDGET = {"rastrigin": 300_000, "ackley": 300_000, "rosenbrock": 400_000}
SA_OPTIONS = {"rastrigin": {}, "ackley": {}, "rosenbrock": {"cooling": 0.9, "restarts": 2}}
GA_BUDGET = {"rastrigin": 100_000, "ackley": 100_000, "rosenbrock": 400_000}
# The coordinate-wise SBX rarely follows Rosenbrock's valley; BLX-0.5 with small Gaussian
# steps does.
GA_OPTIONS = {"rastrigin": {}, "ackley": {}, "rosenbrock": {
    "crossover": "blend", "mutation": "gaussian", "mutation_sigma": 0.002,
    "mutation_prob": 0.3, "tournament_size": 2}}


def box(name):
    half = PROBLEMS[name][1]
    return [(-half, half)] * DIM


METHODS = {
    "annealing": (dfo.simulated_annealing, SA_BUDGET, SA_OPTIONS),
    "genetic": (dfo.genetic_algorithm, GA_BUDGET, GA_OPTIONS),
}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", PROBLEMS)
def test_method_reaches_optimum(method, name):
    fun, _, tol = PROBLEMS[name]
    minimize, budget, options = METHODS[method]
    results = [minimize(fun, box(name), maxfev=budget[name], target=tol, seed=seed,
                        **options[name]) for seed in SEEDS]
    successes = [r for r in results if r.fun <= tol]
    assert len(successes) >= MIN_SUCCESSES, [r.fun for r in results]
    for r in results:
        assert r.nfev <= budget[name]
        assert r.success == (r.fun <= tol)
        np.testing.assert_allclose(fun(r.x[None]), r.fun)


def tour_lengths(distances):
    def length(tours):
        return distances[tours, np.roll(tours, -1, axis=1)].sum(axis=1)
    return length


def grid_cities(side):
    """Cities on a side x side unit grid: with side even, the optimal tour has length
    side**2 (a Hamiltonian cycle of unit edges, and no tour can be shorter)."""
    points = np.array([(i, j) for i in range(side) for j in range(side)], dtype=float)
    order = np.random.default_rng(0).permutation(len(points))
    points = points[order]
    return np.linalg.norm(points[:, None] - points[None], axis=2)


def circle_cities(n):
    """Cities on the unit circle in shuffled order: the optimal tour visits them around
    the circle, with length 2 n sin(pi / n)."""
    angles = 2 * np.pi * np.random.default_rng(1).permutation(n) / n
    points = np.column_stack([np.cos(angles), np.sin(angles)])
    return np.linalg.norm(points[:, None] - points[None], axis=2), 2 * n * np.sin(np.pi / n)


@pytest.mark.parametrize("crossover", ["ox", "pmx"])
def test_genetic_solves_grid_tsp(crossover):
    length = tour_lengths(grid_cities(4))
    results = [dfo.genetic_algorithm(length, encoding="permutation", n_genes=16,
                                     crossover=crossover, population_size=100, maxiter=300,
                                     target=16.0 + 1e-9, seed=seed) for seed in SEEDS]
    successes = [r for r in results if r.fun <= 16.0 + 1e-9]
    assert len(successes) >= MIN_SUCCESSES, [r.fun for r in results]
    for r in results:
        assert sorted(r.x.tolist()) == list(range(16))


def test_genetic_solves_circle_tsp():
    distances, optimum = circle_cities(12)
    result = dfo.genetic_algorithm(tour_lengths(distances), encoding="permutation", n_genes=12,
                                   population_size=60, maxiter=200, seed=3)
    assert result.fun == pytest.approx(optimum, rel=1e-12)


def two_opt_neighbor(tours, rng):
    """Reverses a random segment of each tour (a 2-opt move)."""
    out = tours.copy()
    n = tours.shape[1]
    for row in out:
        i, j = np.sort(rng.choice(n, size=2, replace=False))
        row[i:j + 1] = row[i:j + 1][::-1]
    return out


@pytest.mark.parametrize("schedule", ["geometric", "adaptive"])
def test_annealing_neighbor_solves_circle_tsp(schedule):
    distances, optimum = circle_cities(12)
    result = dfo.simulated_annealing(tour_lengths(distances), x0=np.arange(12),
                                     neighbor=two_opt_neighbor, n_chains=8, schedule=schedule,
                                     steps_per_temperature=50, maxfev=40_000, seed=5)
    assert result.fun == pytest.approx(optimum, rel=1e-12)
    assert sorted(result.x.tolist()) == list(range(12))


def test_annealing_adaptive_schedule_on_ackley():
    results = [dfo.simulated_annealing(ackley, box("ackley"), schedule="adaptive",
                                       maxfev=300_000, target=1e-2, seed=seed)
               for seed in SEEDS]
    assert sum(r.success for r in results) >= MIN_SUCCESSES, [r.fun for r in results]


def test_annealing_restarts_keep_best():
    seen = []
    result = dfo.simulated_annealing(rastrigin, box("rastrigin"), final_temperature=1.0,
                                     restarts=3, seed=0,
                                     callback=lambda r: seen.append(r.fun) and False)
    assert result.nrestarts == 3
    assert result.fun == min(seen)
    assert all(b <= a for a, b in zip(seen, seen[1:]))


@pytest.mark.parametrize("encoding, kwargs", [
    ("integer", {"bounds": [(-10, 10)] * 6}),
    ("binary", {"n_genes": 30}),
])
def test_genetic_discrete_encodings(encoding, kwargs):
    if encoding == "integer":
        # Integer least squares with the optimum at (3, -2, 0, 7, -9, 1).
        goal = np.array([3, -2, 0, 7, -9, 1])

        def fun(x):
            assert x.dtype == np.int64
            return ((x - goal)**2).sum(axis=1).astype(float)
        expected = goal
    else:
        # OneMax: the optimum is every bit set.
        def fun(x):
            assert x.dtype == np.bool_
            return -x.sum(axis=1).astype(float)
        expected = np.ones(30, dtype=bool)
    result = dfo.genetic_algorithm(fun, encoding=encoding, population_size=50, maxiter=300,
                                   patience=60, seed=1, **kwargs)
    np.testing.assert_array_equal(result.x, expected)
    assert result.success
    assert "did not improve" in result.message


@pytest.mark.parametrize("crossover, mutation", [
    ("blend", "gaussian"), ("uniform", "polynomial"), ("one_point", "polynomial"),
    ("two_point", "gaussian")])
def test_genetic_real_operator_choices(crossover, mutation):
    result = dfo.genetic_algorithm(ackley, [(-5.0, 5.0)] * 4, crossover=crossover,
                                   mutation=mutation, maxiter=300, seed=2)
    assert result.fun < 0.1


def nan_left_of_half(x):
    """Rastrigin where x[0] >= 0.5, NaN elsewhere."""
    values = rastrigin(x)
    values[x[:, 0] < 0.5] = np.nan
    return values


def test_annealing_leaves_nan_start():
    # Every chain starts where the objective is NaN, so the best must come from later moves.
    result = dfo.simulated_annealing(nan_left_of_half, [(-1.0, 2.0)] * 3, x0=[-1.0] * 3,
                                     n_chains=4, maxfev=4000, seed=0)
    assert np.isfinite(result.fun)
    assert result.x[0] >= 0.5
    assert result.success


def test_genetic_nan_values_lose():
    result = dfo.genetic_algorithm(nan_left_of_half, [(-1.0, 2.0)] * 3, maxiter=50, seed=0)
    assert np.isfinite(result.fun)
    assert result.x[0] >= 0.5
    left = result.population[:, 0] < 0.5
    assert np.isnan(result.population_fun[left]).all()
    assert np.isfinite(result.population_fun[~left]).all()


def test_result_fields():
    # Without the local phase every evaluation belongs to a generation or a batch of chains.
    result = dfo.genetic_algorithm(rastrigin, box("rastrigin"), population_size=20, maxiter=5,
                                   local_search=False, seed=0)
    assert isinstance(result, OptimizeResult)
    assert result.nit == 5
    assert result.nfev == 20 + 5 * 18
    assert result.success
    assert result.population.shape == (20, DIM)
    np.testing.assert_allclose(result.population_fun, rastrigin(result.population))
    result = dfo.simulated_annealing(rastrigin, box("rastrigin"), n_chains=4, maxfev=400,
                                     target=-1.0, local_search=False, seed=0)
    assert result.nfev == 400
    assert result.nit == 99
    assert not result.success
    assert "function evaluations" in result.message


def test_unvectorized_objective_matches():
    scalar = dfo.genetic_algorithm(lambda x: float(rastrigin(x[None])[0]), box("rastrigin"),
                                   vectorized=False, maxiter=20, seed=4)
    batched = dfo.genetic_algorithm(rastrigin, box("rastrigin"), maxiter=20, seed=4)
    np.testing.assert_array_equal(scalar.x, batched.x)


@pytest.mark.parametrize("run", [
    lambda seed: dfo.simulated_annealing(rastrigin, box("rastrigin"), maxfev=5000, seed=seed),
    lambda seed: dfo.genetic_algorithm(rastrigin, box("rastrigin"), maxiter=30, seed=seed),
])
def test_seed_reproduces_run(run):
    first, again, other = run(11), run(11), run(12)
    np.testing.assert_array_equal(first.x, again.x)
    assert first.fun == again.fun
    assert first.nfev == again.nfev
    assert not np.array_equal(first.x, other.x)


@pytest.mark.parametrize("run", [
    # Populations past 32,768 genes run the operators on several threads.
    lambda: dfo.genetic_algorithm(rastrigin, box("rastrigin"), population_size=4000, maxiter=3,
                                  seed=9),
    lambda: dfo.simulated_annealing(rastrigin, box("rastrigin"), n_chains=4000, maxfev=40_000,
                                    seed=9),
])
def test_result_independent_of_threads(run):
    before = fastopt.get_num_threads()
    try:
        fastopt.set_num_threads(1)
        one = run()
        fastopt.set_num_threads(3)
        three = run()
    finally:
        fastopt.set_num_threads(before)
    np.testing.assert_array_equal(one.x, three.x)
    assert one.fun == three.fun


GOOD = [(-1.0, 1.0)] * 3


@pytest.mark.parametrize("call, match", [
    (lambda: dfo.genetic_algorithm(rastrigin, []), r"bounds: expected at least one"),
    (lambda: dfo.simulated_annealing(rastrigin, []), r"bounds: expected at least one"),
    (lambda: dfo.genetic_algorithm(rastrigin, [(0.0, 1.0), (2.0, -2.0)]),
     r"bounds\[1\]: lower bound 2\.0 is greater than upper bound -2\.0"),
    (lambda: dfo.simulated_annealing(rastrigin, [(1.0, 0.0)]),
     r"bounds\[0\]: lower bound 1\.0 is greater than upper bound 0\.0"),
    (lambda: dfo.genetic_algorithm(rastrigin, [(0.0, np.inf)]),
     r"bounds\[0\]: expected a finite upper bound, got inf"),
    (lambda: dfo.genetic_algorithm(rastrigin, GOOD, population_size=1),
     r"population_size: expected an int >= 2, got 1"),
    (lambda: dfo.genetic_algorithm(rastrigin, GOOD, crossover_prob=1.2),
     r"crossover_prob: expected a probability in \[0, 1\], got 1\.2"),
    (lambda: dfo.genetic_algorithm(rastrigin, GOOD, mutation_prob=-0.5),
     r"mutation_prob: expected a probability in \[0, 1\], got -0\.5"),
    (lambda: dfo.genetic_algorithm(rastrigin, GOOD, elitism=100),
     r"elitism: expected an int >= 0 and <= 99, got 100"),
    (lambda: dfo.genetic_algorithm(rastrigin, GOOD, crossover="ox"),
     r"crossover: expected one of 'sbx'.*got 'ox'"),
    (lambda: dfo.genetic_algorithm(rastrigin, GOOD, encoding="complex"),
     r"encoding: expected one of .*got 'complex'"),
    (lambda: dfo.genetic_algorithm(rastrigin, encoding="binary"),
     r"n_genes: expected the genome length"),
    (lambda: dfo.genetic_algorithm(rastrigin, [(0.2, 0.8)], encoding="integer"),
     r"bounds\[0\]: expected an interval that contains an integer"),
    (lambda: dfo.genetic_algorithm(rastrigin, GOOD, population_size=4,
                                   initial_population=np.full((4, 3), 2.0)),
     r"initial_population\[0\]: expected values within the bounds"),
    (lambda: dfo.genetic_algorithm(lambda x: np.zeros(2), GOOD, maxiter=1),
     r"fun: expected 100 values"),
    (lambda: dfo.simulated_annealing(rastrigin, GOOD, n_chains=0),
     r"n_chains: expected an int >= 1, got 0"),
    (lambda: dfo.simulated_annealing(rastrigin, GOOD, cooling=1.5),
     r"cooling: expected a factor in \(0, 1\), got 1\.5"),
    (lambda: dfo.simulated_annealing(rastrigin, GOOD, schedule="linear"),
     r"schedule: expected one of 'geometric', 'adaptive', got 'linear'"),
    (lambda: dfo.simulated_annealing(rastrigin, GOOD, x0=[0.0, 0.0, 3.0]),
     r"x0\[2\]: expected a value within bounds\[2\]"),
    (lambda: dfo.simulated_annealing(rastrigin, neighbor=two_opt_neighbor),
     r"x0: expected a starting state"),
    (lambda: dfo.simulated_annealing(rastrigin, GOOD, seed=-3), r"seed: .*-3"),
])
def test_bad_input_raises(call, match):
    with pytest.raises(ValueError, match=match):
        call()
