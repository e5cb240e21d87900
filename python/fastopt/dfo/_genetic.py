"""``fastopt.dfo.genetic_algorithm``: a generational GA with tournament selection and elitism."""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import OptimizeResult

from fastopt import _core
from fastopt.dfo._checks import (
    check_choice,
    check_int,
    check_permutations,
    check_positive,
    check_probability,
    check_seed,
    parse_bounds,
)
from fastopt.dfo._evaluate import Budget, drive
from fastopt.dfo._local import LOCAL_FEV_PER_VARIABLE, Polish

ENCODINGS = ("real", "integer", "binary", "permutation")
CROSSOVERS = {
    "real": ("sbx", "blend", "uniform", "one_point", "two_point"),
    "integer": ("sbx", "blend", "uniform", "one_point", "two_point"),
    "binary": ("uniform", "one_point", "two_point"),
    "permutation": ("ox", "pmx"),
}
MUTATIONS = {
    "real": ("polynomial", "gaussian"),
    "integer": ("polynomial", "gaussian"),
    "binary": ("bit_flip",),
    "permutation": ("inversion", "swap"),
}
_DTYPES = {"real": np.float64, "integer": np.float64, "binary": np.uint8,
           "permutation": np.int64}


class _Operators:
    """The configured operators of one run, with a stream counter so that every call
    reads fresh draws of the run's seed."""

    def __init__(self, encoding, crossover, mutation, lower, upper, options, seed):
        self.encoding = encoding
        self.crossover = crossover
        self.mutation = mutation
        self.lower = lower
        self.upper = upper
        self.options = options
        self.seed = seed
        self.stream = 0

    def next_stream(self):
        self.stream += 1
        return self.stream

    def select(self, fitness, count):
        return _core.dfo_tournament(fitness, count, self.options["tournament_size"], self.seed,
                                    self.next_stream())

    def cross(self, parents):
        prob = self.options["crossover_prob"]
        seed, stream = self.seed, self.next_stream()
        name = self.crossover
        if name == "sbx":
            return _core.dfo_sbx(parents, self.lower, self.upper, self.options["eta_crossover"],
                                 prob, seed, stream)
        if name == "blend":
            return _core.dfo_blend(parents, self.lower, self.upper, self.options["blend_alpha"],
                                   prob, seed, stream)
        if name == "uniform":
            return _core.dfo_uniform_crossover(parents, prob, seed, stream)
        if name in ("one_point", "two_point"):
            points = 1 if name == "one_point" else 2
            return _core.dfo_point_crossover(parents, points, prob, seed, stream)
        if name == "ox":
            return _core.dfo_order_crossover(parents, prob, seed, stream)
        return _core.dfo_pmx(parents, prob, seed, stream)

    def mutate(self, children):
        prob = self.options["mutation_prob"]
        seed, stream = self.seed, self.next_stream()
        name = self.mutation
        if name == "polynomial":
            _core.dfo_polynomial_mutation(children, self.lower, self.upper,
                                          self.options["eta_mutation"], prob, seed, stream)
        elif name == "gaussian":
            _core.dfo_gaussian_mutation(children, self.lower, self.upper,
                                        self.options["mutation_sigma"], prob, seed, stream)
        elif name == "bit_flip":
            _core.dfo_bit_flip(children, prob, seed, stream)
        elif name == "swap":
            _core.dfo_swap_mutation(children, prob, seed, stream)
        else:
            _core.dfo_inversion_mutation(children, prob, seed, stream)
        if self.encoding == "integer":
            np.rint(children, out=children)
            np.clip(children, self.lower, self.upper, out=children)

    def random_population(self, size, genes):
        u = _core.dfo_uniform_draws(self.seed, self.next_stream(), size, genes)
        if self.encoding == "real":
            return self.lower + u * (self.upper - self.lower)
        if self.encoding == "integer":
            # Integers in [lower, upper], each equally likely.
            values = np.floor(self.lower + u * (self.upper - self.lower + 1.0))
            return np.ascontiguousarray(np.minimum(values, self.upper))
        if self.encoding == "binary":
            return np.ascontiguousarray(u < 0.5, dtype=np.uint8)
        return np.ascontiguousarray(np.argsort(u, axis=1, kind="stable"), dtype=np.int64)


def _check_encoding(encoding, bounds, n_genes):
    """Return (lower, upper, genes) for ``encoding``."""
    check_choice("encoding", encoding, ENCODINGS)
    if encoding in ("real", "integer"):
        lower, upper = parse_bounds(bounds)
        if encoding == "integer":
            empty = np.flatnonzero(np.ceil(lower) > np.floor(upper))
            if empty.size:
                i = int(empty[0])
                raise ValueError(f"bounds[{i}]: expected an interval that contains an integer, "
                                 f"got ({float(lower[i])!r}, {float(upper[i])!r})")
            lower, upper = np.ceil(lower), np.floor(upper)
        if n_genes is not None and n_genes != lower.size:
            raise ValueError(f"n_genes: expected {lower.size}, the number of bounds, got "
                             f"{n_genes!r}")
        return lower, upper, lower.size
    if bounds is not None:
        raise ValueError(f"bounds: expected None for encoding={encoding!r}, which takes n_genes")
    if n_genes is None:
        raise ValueError(f"n_genes: expected the genome length for encoding={encoding!r}, got "
                         f"None")
    genes = check_int("n_genes", n_genes, 1)
    return np.zeros(genes), np.ones(genes), genes


def _initial_population(initial, ops, size, genes):
    if initial is None:
        return ops.random_population(size, genes)
    dtype = _DTYPES[ops.encoding]
    population = np.array(initial, dtype=dtype, order="C", copy=True)
    if population.shape != (size, genes):
        raise ValueError(f"initial_population: expected shape ({size}, {genes}), got "
                         f"{population.shape}")
    if ops.encoding in ("real", "integer"):
        outside = np.flatnonzero(np.any((population < ops.lower) | (population > ops.upper),
                                        axis=1))
        if outside.size:
            raise ValueError(f"initial_population[{int(outside[0])}]: expected values within "
                             f"the bounds, got {population[outside[0]].tolist()}")
    if ops.encoding == "integer" and np.any(population != np.rint(population)):
        raise ValueError("initial_population: expected integer values for encoding='integer'")
    if ops.encoding == "binary" and np.any(population > 1):
        raise ValueError("initial_population: expected only 0 and 1 for encoding='binary'")
    if ops.encoding == "permutation":
        check_permutations("initial_population", population)
    return population


def _polish_member(polish, population, fitness, i):
    """Run the local phase from individual i and replace it with the point found, which is
    never worse than its start."""
    x, f = yield from polish.run(population[i], fitness[i])
    if f < fitness[i]:
        population[i], fitness[i] = x, f


def _public(population, encoding):
    """Convert genomes to the caller's types: bool for binary, int64 for integer."""
    if encoding == "binary":
        return population.view(np.bool_)
    if encoding == "integer":
        return population.astype(np.int64)
    return population


def genetic_algorithm(fun, bounds=None, *, encoding="real", n_genes=None, population_size=100,
                      crossover=None, mutation=None, crossover_prob=0.9, mutation_prob=None,
                      tournament_size=3, elitism=2, eta_crossover=15.0, eta_mutation=20.0,
                      blend_alpha=0.5, mutation_sigma=0.1, maxiter=None, maxfev=None,
                      target=None, patience=None, initial_population=None, local_search=None,
                      local_maxfev=None, seed=None, vectorized=True, callback=None):
    """Minimize ``fun`` with a generational genetic algorithm.

    Each generation selects parents by tournaments, recombines them in pairs, mutates the
    children and evaluates them in one call of ``fun``. The ``elitism`` best individuals
    survive unchanged, and the children fill the rest of the population. Selection,
    crossover and mutation run in C++ (see :mod:`fastopt.dfo.operators` for their formulas
    and draw layouts).

    Real genomes also have a local phase (``local_search``), which makes the GA memetic:
    bounded L-BFGS on forward-difference gradients, one batch of ``genes`` points per
    gradient. It runs from the best initial genome and again each time a generation finds a
    new best one. The point it finds replaces that genome in the population (Lamarckian
    learning), so crossover spreads its genes. Every evaluation of the local phase counts
    towards ``maxfev``.

    Parameters
    ----------
    fun : callable
        ``fun(X) -> values``: X of shape (n, genes), one value per row to minimize. With
        ``vectorized=False``, ``fun(x) -> float`` for one genome. Genomes are float64 for
        "real", int64 for "integer", bool for "binary" and int64 permutations of
        ``0..n_genes-1`` for "permutation". NaN values lose every tournament.
    bounds : sequence of (lower, upper) pairs or scipy.optimize.Bounds
        Required for "real" and "integer" (inclusive integer ranges), None otherwise.
    encoding : {"real", "integer", "binary", "permutation"}
    n_genes : int, optional
        Genome length for "binary" and "permutation".
    population_size : int, default 100
        At least 2.
    crossover : str, optional
        "sbx" (default), "blend", "uniform", "one_point" or "two_point" for real and
        integer genomes; "uniform" (default), "one_point" or "two_point" for binary;
        "ox" (default) or "pmx" for permutations.
    mutation : str, optional
        "polynomial" (default) or "gaussian" for real and integer genomes (integer genomes
        are rounded after mutation); "bit_flip" for binary; "inversion" (default) or "swap"
        for permutations.
    crossover_prob : float, default 0.9
        Probability that a parent pair recombines.
    mutation_prob : float, optional
        Per-gene mutation probability, ``1 / genes`` by default; for permutations the
        per-individual probability of one swap or inversion, 0.5 by default.
    tournament_size : int, default 3
        Candidates per tournament; larger selects more greedily.
    elitism : int, default 2
        Individuals carried over unchanged, in [0, population_size - 1].
    eta_crossover, eta_mutation : float, default 15 and 20
        Distribution indices of SBX and polynomial mutation (larger stays closer to the
        parents).
    blend_alpha : float, default 0.5
        The alpha of BLX-alpha.
    mutation_sigma : float, default 0.1
        Standard deviation of Gaussian mutation relative to the width of the bounds.
    maxiter : int, optional
        Maximum number of generations; 1000 when neither it nor ``maxfev`` is given.
    maxfev : int, optional
        Maximum number of evaluations of ``fun`` (rows), initial population included. A
        generation that would exceed it is not run.
    target : float, optional
        Stop as soon as the best value is <= target.
    patience : int, optional
        Stop after this many generations without improvement of the best value.
    initial_population : array_like, optional
        (population_size, genes) starting genomes; random by default.
    local_search : bool, optional
        Run the local phase; by default True for real genomes. It must be False for the
        other encodings.
    local_maxfev : int, optional
        Evaluations of one local search, ``100 * (genes + 1)`` by default.
    seed : int, optional
        Seed in [0, 2**64) of every draw; the same seed gives the same result on any
        number of threads.
    vectorized : bool, default True
        Whether ``fun`` takes a batch of genomes; False calls it once per genome.
    callback : callable, optional
        ``callback(OptimizeResult(x, fun, nit, nfev, population, population_fun))`` after
        each generation; a true return value stops the run.

    Returns
    -------
    scipy.optimize.OptimizeResult
        ``x`` and ``fun`` of the best genome seen, ``nfev``, ``nit`` (generations),
        ``success``, ``message``, the final ``population`` with ``population_fun``, and
        ``nlocal`` (local searches run).
        ``success`` is False only when ``target`` was given and not reached, or when no
        evaluation returned a number.

    References
    ----------
    Goldberg, D. E. "Genetic Algorithms in Search, Optimization and Machine Learning",
    Addison-Wesley, 1989.
    Deb, K. and Agrawal, R. B. "Simulated binary crossover for continuous search space",
    Complex Systems 9(2), 1995 (the "sbx" crossover).

    Examples
    --------
    >>> import numpy as np
    >>> from fastopt.dfo import genetic_algorithm
    >>> result = genetic_algorithm(lambda X: ((X - 0.5) ** 2).sum(axis=1), [(-2, 2)] * 2,
    ...                            seed=0, maxiter=50)
    >>> result.x, result.nit, result.nfev
    (array([0.5, 0.5]), 50, 5053)
    """
    if not callable(fun):
        raise TypeError(f"fun: expected a callable, got {fun!r}")
    steps = genetic_steps(encoding=encoding, n_genes=n_genes, bounds=bounds,
                          population_size=population_size, crossover=crossover,
                          mutation=mutation, crossover_prob=crossover_prob,
                          mutation_prob=mutation_prob, tournament_size=tournament_size,
                          elitism=elitism, eta_crossover=eta_crossover,
                          eta_mutation=eta_mutation, blend_alpha=blend_alpha,
                          mutation_sigma=mutation_sigma, maxiter=maxiter, maxfev=maxfev,
                          target=target, patience=patience,
                          initial_population=initial_population,
                          local_search=local_search, local_maxfev=local_maxfev, seed=seed,
                          callback=callback)
    return drive(steps, fun, vectorized)


def genetic_steps(*, encoding, n_genes, bounds, population_size, crossover, mutation,
                  crossover_prob, mutation_prob, tournament_size, elitism, eta_crossover,
                  eta_mutation, blend_alpha, mutation_sigma, maxiter, maxfev, target, patience,
                  initial_population, seed, callback, local_search=False, local_maxfev=None):
    """Check the arguments, then run the GA as a generator that yields each batch of
    genomes and receives their values; returns the OptimizeResult. Arguments are those of
    :func:`genetic_algorithm`."""
    lower, upper, genes = _check_encoding(encoding, bounds, n_genes)
    population_size = check_int("population_size", population_size, 2)
    crossover = check_choice("crossover", crossover or CROSSOVERS[encoding][0],
                             CROSSOVERS[encoding])
    mutation = check_choice("mutation", mutation or MUTATIONS[encoding][0], MUTATIONS[encoding])
    if mutation_prob is None:
        mutation_prob = 0.5 if encoding == "permutation" else 1.0 / genes
    options = {
        "crossover_prob": check_probability("crossover_prob", crossover_prob),
        "mutation_prob": check_probability("mutation_prob", mutation_prob),
        "tournament_size": check_int("tournament_size", tournament_size, 1),
        "eta_crossover": check_positive("eta_crossover", eta_crossover, allow_zero=True),
        "eta_mutation": check_positive("eta_mutation", eta_mutation, allow_zero=True),
        "blend_alpha": check_positive("blend_alpha", blend_alpha, allow_zero=True),
        "mutation_sigma": check_positive("mutation_sigma", mutation_sigma),
    }
    elitism = check_int("elitism", elitism, 0, population_size - 1)
    if maxiter is None and maxfev is None:
        maxiter = 1000
    maxiter = None if maxiter is None else check_int("maxiter", maxiter, 0)
    maxfev = None if maxfev is None else check_int("maxfev", maxfev, population_size)
    patience = None if patience is None else check_int("patience", patience, 1)
    target = None if target is None else float(target)
    if local_search is None:
        local_search = encoding == "real"
    elif not isinstance(local_search, (bool, np.bool_)):
        raise TypeError(f"local_search: expected a bool or None, got {local_search!r}")
    elif local_search and encoding != "real":
        raise ValueError(f"local_search: expected False for encoding={encoding!r}, whose "
                         f"genes have no gradient to follow, got True")
    if local_maxfev is None:
        local_maxfev = LOCAL_FEV_PER_VARIABLE * (genes + 1)
    local_maxfev = check_int("local_maxfev", local_maxfev, 0)
    ops = _Operators(encoding, crossover, mutation, lower, upper, options, check_seed(seed))
    population = _initial_population(initial_population, ops, population_size, genes)
    budget = Budget(maxfev, target)
    # A copy, because the local phase updates the values in place, and the array may be
    # one the objective keeps.
    fitness = np.array((yield _public(population, encoding)), dtype=np.float64)
    budget.nfev += population_size

    offspring = population_size - elitism
    pairs = math.ceil(offspring / 2)
    best = int(np.nanargmin(fitness)) if np.isfinite(fitness).any() else 0
    polish = Polish(budget, lower, upper, local_maxfev) if local_search else None
    if polish is not None:
        yield from _polish_member(polish, population, fitness, best)
    best_x, best_f = population[best].copy(), fitness[best]
    stale, nit, message = 0, 0, None
    while message is None:
        if budget.reached_target(best_f):
            message = "the best value reached the target"
            break
        if maxiter is not None and nit >= maxiter:
            message = "the maximum number of generations was reached"
            break
        room = budget.room()
        if room is not None and room < offspring:
            message = "the maximum number of function evaluations was reached"
            break
        if patience is not None and stale >= patience:
            message = f"the best value did not improve in {patience} generations"
            break

        # 1. Tournaments pick 2 * pairs parents, which recombine in consecutive pairs.
        parents = np.ascontiguousarray(population[ops.select(fitness, 2 * pairs)])
        children = ops.cross(parents)
        ops.mutate(children)
        children = np.ascontiguousarray(children[:offspring])

        # 2. The children are evaluated in one call and replace all but the elite.
        child_fitness = yield _public(children, encoding)
        budget.nfev += offspring
        elite = np.argsort(fitness, kind="stable")[:elitism]
        population = np.concatenate([population[elite], children])
        fitness = np.concatenate([fitness[elite], child_fitness])
        nit += 1

        i = int(np.argmin(np.where(np.isnan(fitness), np.inf, fitness)))
        if fitness[i] < best_f or np.isnan(best_f):
            if polish is not None:
                yield from _polish_member(polish, population, fitness, i)
            best_x, best_f, stale = population[i].copy(), fitness[i], 0
        else:
            stale += 1
        if callback is not None and callback(OptimizeResult(
                x=_public(best_x, encoding), fun=float(best_f), nit=nit, nfev=budget.nfev,
                population=_public(population, encoding), population_fun=fitness.copy())):
            message = "the callback requested a stop"

    success = bool(np.isfinite(best_f)) and (target is None or best_f <= target)
    return OptimizeResult(x=_public(best_x, encoding), fun=float(best_f), nfev=budget.nfev,
                          nit=nit, success=success, message=message,
                          population=_public(population, encoding), population_fun=fitness,
                          nlocal=0 if polish is None else polish.count)
