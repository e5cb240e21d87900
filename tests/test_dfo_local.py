"""The local phase of fastopt.dfo, the annealing schedule planned over the evaluation
budget, and the budget itself: counted calls never exceed maxfev."""

import numpy as np
import pytest
from scipy.optimize import minimize

from fastopt import dfo
from fastopt.dfo._evaluate import drive
from fastopt.dfo._local import local_search


def rastrigin(x):
    return 10.0 * x.shape[1] + (x**2 - 10.0 * np.cos(2.0 * np.pi * x)).sum(axis=1)


def rosenbrock(x):
    return (100.0 * (x[:, 1:] - x[:, :-1]**2)**2 + (1.0 - x[:, :-1])**2).sum(axis=1)


def styblinski_tang(x):
    """Styblinski & Tang (1990): minimum -39.16616570 d at x_i = -2.90353402777."""
    return 0.5 * (x**4 - 16.0 * x**2 + 5.0 * x).sum(axis=1)


STYBLINSKI_TANG_X = -2.903534027771178
STYBLINSKI_TANG_F = 0.5 * (STYBLINSKI_TANG_X**4 - 16.0 * STYBLINSKI_TANG_X**2
                           + 5.0 * STYBLINSKI_TANG_X)


class Counted:
    """An objective that counts the rows it evaluates and every call."""

    def __init__(self, fun):
        self.fun = fun
        self.rows = 0
        self.calls = 0

    def __call__(self, x):
        self.calls += 1
        self.rows += len(x)
        return self.fun(x)


def run_local(fun, x0, lower, upper, maxfev, target=None):
    x0 = np.asarray(x0, dtype=np.float64)
    f0 = float(fun(x0[None])[0])
    return drive(local_search(x0, f0, lower, upper, maxfev, target), fun, True), f0


@pytest.mark.parametrize("seed", range(5))
def test_local_search_no_worse_than_start(seed):
    lower, upper = np.full(6, -5.12), np.full(6, 5.12)
    x0 = np.random.default_rng(seed).uniform(lower, upper)
    counted = Counted(rastrigin)
    (x, f, nfev), f0 = run_local(counted, x0, lower, upper, 2000)
    assert f <= f0
    assert f == rastrigin(x[None])[0]
    assert np.all((x >= lower) & (x <= upper))
    # The starting value was evaluated by run_local, outside the search's count.
    assert nfev == counted.rows - 1
    assert nfev <= 2000


def test_local_search_keeps_start_at_minimum():
    lower, upper = np.full(4, -5.0), np.full(4, 5.0)
    (x, f, _), f0 = run_local(rastrigin, np.zeros(4), lower, upper, 500)
    assert f == f0 == 0.0
    np.testing.assert_array_equal(x, np.zeros(4))


def test_local_search_converges_on_rosenbrock():
    lower, upper = np.full(5, -5.0), np.full(5, 5.0)
    x0 = np.array([-1.2, 1.0, -1.2, 1.0, -1.2])
    (x, f, _), _ = run_local(rosenbrock, x0, lower, upper, 5000)
    # The only minimum of Rosenbrock's function in dimension 5 is at x = 1, f = 0.
    np.testing.assert_allclose(x, np.ones(5), atol=1e-4)
    assert f < 1e-8
    reference = minimize(lambda z: rosenbrock(z[None])[0], x0, method="L-BFGS-B",
                         bounds=list(zip(lower, upper)))
    assert f <= reference.fun + 1e-8


def test_local_search_stops_at_bound():
    # The minimum of sum((x - 3)^2) over [-1, 1]^3 is the corner x = 1.
    def shifted(x):
        return ((x - 3.0)**2).sum(axis=1)

    lower, upper = np.full(3, -1.0), np.full(3, 1.0)
    (x, f, _), _ = run_local(shifted, np.array([0.5, -0.5, 0.0]), lower, upper, 1000)
    np.testing.assert_allclose(x, np.ones(3), atol=1e-10)
    assert f == pytest.approx(12.0)


def test_local_search_respects_maxfev():
    lower, upper = np.full(10, -5.0), np.full(10, 5.0)
    x0 = np.full(10, -1.0)
    for maxfev in (0, 10, 11, 12, 37, 100):
        counted = Counted(rosenbrock)
        (_, _, nfev), _ = run_local(counted, x0, lower, upper, maxfev)
        assert nfev <= maxfev
        assert nfev == counted.rows - 1


def test_local_search_stops_at_target():
    lower, upper = np.full(4, -5.0), np.full(4, 5.0)
    (_, f, nfev), _ = run_local(rosenbrock, np.full(4, -1.0), lower, upper, 5000, target=1.0)
    (_, f_full, nfev_full), _ = run_local(rosenbrock, np.full(4, -1.0), lower, upper, 5000)
    assert f <= 1.0
    assert nfev < nfev_full
    assert f_full < f


@pytest.mark.parametrize("maxfev", [50, 333, 1000, 4321])
@pytest.mark.parametrize("method", ["annealing", "genetic"])
def test_budget_never_exceeded(method, maxfev):
    counted = Counted(rastrigin)
    bounds = [(-5.12, 5.12)] * 5
    if method == "annealing":
        result = dfo.simulated_annealing(counted, bounds, n_chains=8, maxfev=maxfev, seed=3)
    else:
        result = dfo.genetic_algorithm(counted, bounds, population_size=20, maxfev=maxfev,
                                       seed=3)
    assert counted.rows <= maxfev
    assert result.nfev == counted.rows
    assert result.nlocal >= 1


def test_budget_never_exceeded_with_restarts():
    counted = Counted(rosenbrock)
    result = dfo.simulated_annealing(counted, [(-5.0, 5.0)] * 4, n_chains=4, restarts=3,
                                     maxfev=3000, seed=1)
    assert counted.rows <= 3000
    assert result.nfev == counted.rows


def test_planned_schedule_reaches_final_temperature():
    budget, n_chains = 6000, 4
    temperatures = []
    result = dfo.simulated_annealing(rastrigin, [(-5.12, 5.12)] * 3, n_chains=n_chains,
                                     initial_temperature=10.0, final_temperature=1e-3,
                                     maxfev=budget, local_search=False, seed=0,
                                     callback=lambda r: temperatures.append(r.temperature))
    assert result.nfev > budget - n_chains
    # After e of E evaluations the plan gives T0 (Tf / T0)^(e / E), E counted from the
    # first evaluation after the starting batch.
    expected = 10.0 * (1e-4) ** ((result.nfev - n_chains) / (budget - n_chains))
    assert result.temperature == pytest.approx(expected, rel=1e-12)
    assert result.temperature == pytest.approx(1e-3, rel=0.01)
    assert all(b < a for a, b in zip(temperatures, temperatures[1:]))


def test_planned_schedule_with_local_search_ends_cold():
    budget = 5000
    result = dfo.simulated_annealing(rastrigin, [(-5.12, 5.12)] * 4, n_chains=4,
                                     initial_temperature=2.0, final_temperature=2e-4,
                                     maxfev=budget, target=-1.0, seed=2)
    assert result.nlocal >= 1
    assert result.nfev <= budget
    # The run ends when the next batch or local step no longer fits, a few evaluations
    # before the budget, where the plan's temperature is within a few percent of Tf.
    assert result.temperature == pytest.approx(2e-4, rel=0.05)


def test_planned_schedule_restarts_share_budget():
    temperatures = []
    result = dfo.simulated_annealing(rastrigin, [(-5.12, 5.12)] * 3, n_chains=4,
                                     initial_temperature=1.0, final_temperature=1e-2,
                                     steps_per_temperature=5, restarts=2, maxfev=3000,
                                     local_search=False, seed=0,
                                     callback=lambda r: temperatures.append(r.temperature))
    assert result.nrestarts == 2
    # Each run starts hot again, so the temperature rises twice along the run.
    rises = sum(b > a for a, b in zip(temperatures, temperatures[1:]))
    assert rises == 2
    assert min(temperatures) == pytest.approx(1e-2, rel=0.05)


def test_explicit_cooling_keeps_stage_schedule():
    temperatures = []
    dfo.simulated_annealing(rastrigin, [(-5.12, 5.12)] * 3, n_chains=4,
                            initial_temperature=1.0, cooling=0.5, steps_per_temperature=10,
                            maxfev=400, local_search=False, seed=0,
                            callback=lambda r: temperatures.append(r.temperature))
    np.testing.assert_allclose(temperatures, 0.5 ** np.arange(1, len(temperatures) + 1))


@pytest.mark.parametrize("run", [
    lambda seed: dfo.simulated_annealing(rastrigin, [(-5.12, 5.12)] * 6, maxfev=3000,
                                         seed=seed),
    lambda seed: dfo.genetic_algorithm(rastrigin, [(-5.12, 5.12)] * 6, population_size=30,
                                       maxfev=3000, seed=seed),
])
def test_seed_reproduces_local_phase(run):
    first, again, other = run(21), run(21), run(22)
    np.testing.assert_array_equal(first.x, again.x)
    assert first.fun == again.fun
    assert first.nfev == again.nfev
    assert first.nlocal == again.nlocal
    assert first.nlocal >= 1
    assert not np.array_equal(first.x, other.x)


@pytest.mark.parametrize("method", ["annealing", "genetic"])
def test_styblinski_tang_known_minimum(method):
    dim = 8
    bounds = [(-5.0, 5.0)] * dim
    optimum = dim * STYBLINSKI_TANG_F
    results = []
    for seed in range(5):
        if method == "annealing":
            results.append(dfo.simulated_annealing(styblinski_tang, bounds, maxfev=20_000,
                                                   target=optimum + 1e-6, seed=seed))
        else:
            results.append(dfo.genetic_algorithm(styblinski_tang, bounds, maxfev=20_000,
                                                 target=optimum + 1e-6, seed=seed))
    hits = [r for r in results if r.fun <= optimum + 1e-6]
    assert len(hits) >= 4, [r.fun for r in results]
    for r in hits:
        np.testing.assert_allclose(r.x, np.full(dim, STYBLINSKI_TANG_X), atol=1e-3)


@pytest.mark.parametrize("method", ["annealing", "genetic"])
def test_rastrigin_known_minimum(method):
    bounds = [(-5.12, 5.12)] * 10
    minimize_ = dfo.simulated_annealing if method == "annealing" else dfo.genetic_algorithm
    results = [minimize_(rastrigin, bounds, maxfev=30_000, target=1e-8, seed=seed)
               for seed in range(5)]
    hits = [r for r in results if r.fun <= 1e-8]
    assert len(hits) >= 4, [r.fun for r in results]
    for r in hits:
        # The global minimum of Rastrigin's function is f = 0 at x = 0.
        np.testing.assert_allclose(r.x, np.zeros(10), atol=1e-5)


@pytest.mark.parametrize("call, match", [
    (lambda: dfo.simulated_annealing(rastrigin, x0=np.arange(4), neighbor=lambda x, rng: x,
                                     local_search=True), r"local_search: .*neighbor"),
    (lambda: dfo.simulated_annealing(rastrigin, [(0.0, 1.0)], local_maxfev=-1),
     r"local_maxfev: .*-1"),
    (lambda: dfo.genetic_algorithm(rastrigin, encoding="binary", n_genes=5, local_search=True),
     r"local_search: .*binary"),
    (lambda: dfo.genetic_algorithm(rastrigin, [(0.0, 1.0)], local_maxfev=-5),
     r"local_maxfev: .*-5"),
])
def test_local_phase_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_local_search_type_checked():
    with pytest.raises(TypeError, match=r"local_search: .*'yes'"):
        dfo.simulated_annealing(rastrigin, [(0.0, 1.0)], local_search="yes")


@pytest.mark.parametrize("method", ["annealing", "genetic"])
def test_objective_arrays_left_unchanged(method):
    returned = []

    def keeping(x):
        values = rastrigin(x)
        returned.append((values, values.copy()))
        return values

    bounds = [(-5.12, 5.12)] * 4
    if method == "annealing":
        dfo.simulated_annealing(keeping, bounds, n_chains=4, maxfev=2000, seed=0)
    else:
        dfo.genetic_algorithm(keeping, bounds, population_size=10, maxfev=2000, seed=0)
    for values, original in returned:
        np.testing.assert_array_equal(values, original)
