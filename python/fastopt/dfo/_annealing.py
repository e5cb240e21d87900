"""``fastopt.dfo.simulated_annealing``: batched chains, two cooling schedules, restarts."""

from __future__ import annotations

import numpy as np
from scipy.optimize import OptimizeResult

from fastopt import _core
from fastopt.dfo._checks import (
    check_choice,
    check_int,
    check_positive,
    check_seed,
    parse_bounds,
)
from fastopt.dfo._evaluate import Budget, drive
from fastopt.dfo._local import LOCAL_FEV_PER_VARIABLE, Polish

SCHEDULES = ("geometric", "adaptive")

# Corana et al. (1987) widen a coordinate's step when more than 60% of its moves were
# accepted during a stage and narrow it below 40%, by up to a factor 1 + c with c = 2.
_ACCEPT_HIGH, _ACCEPT_LOW, _STEP_GAIN = 0.6, 0.4, 2.0
# Bounds on the adaptive schedule's factor per stage: a stage whose values all agree
# (sigma = 0) would otherwise drop the temperature to zero, and a huge sigma would stall it.
_ADAPTIVE_MIN_FACTOR, _ADAPTIVE_MAX_FACTOR = 0.5, 0.99
# Cooling factor of the geometric schedule when no budget plans it.
_DEFAULT_COOLING = 0.95
# With a local phase the chains hop between basins whose minima the local search finds,
# so they run cold. The default initial temperature is then this share of the spread of
# the starting values. Steps stay above this share of the box, so moves still leave a basin.
_LOCAL_TEMPERATURE_SHARE, _LOCAL_STEP_FLOOR = 0.01, 0.05


class _Chains:
    """The states of the chains: continuous points with per-coordinate steps, or any
    array rows moved by the caller's neighbour function."""

    def __init__(self, budget, seed, lower=None, upper=None, neighbor=None, rng=None):
        self.budget, self.seed = budget, seed
        self.lower, self.upper = lower, upper
        self.neighbor, self.rng = neighbor, rng
        self.stream = 0
        self.x = self.f = self.step = None
        self.best_x, self.best_f = None, np.inf
        # A step of zero could never move again, so keep a floor far below any tolerance.
        self.step_floor = 1e-12

    def next_stream(self):
        self.stream += 1
        return self.stream

    def reset(self, x):
        self.x = np.ascontiguousarray(x)
        # A copy, because the Metropolis step and the local phase update the values in
        # place, and the array may be one the objective keeps.
        self.f = np.array((yield self.x), dtype=np.float64)
        self.budget.nfev += len(self.x)
        if self.lower is not None:
            self.step = np.tile(0.5 * (self.upper - self.lower), (len(self.x), 1))
        self.record()

    def random_points(self, count):
        u = _core.dfo_uniform_draws(self.seed, self.next_stream(), count, self.lower.size)
        return self.lower + u * (self.upper - self.lower)

    def record(self):
        finite = np.where(np.isnan(self.f), np.inf, self.f)
        i = int(np.argmin(finite))
        # A NaN best (every value so far NaN) gives way to anything.
        if self.best_x is None or not finite[i] >= self.best_f:
            self.best_x, self.best_f = self.x[i].copy(), float(self.f[i])
            return True
        return False

    def propose(self):
        """Return (candidates, moved coordinates or None)."""
        if self.neighbor is None:
            return _core.dfo_coordinate_move(self.x, self.step, self.lower, self.upper, self.seed,
                                             self.next_stream())
        candidates = np.asarray(self.neighbor(self.x.copy(), self.rng))
        if candidates.shape != self.x.shape:
            raise ValueError(f"neighbor: expected candidates of shape {self.x.shape}, the shape "
                             f"of the batch it received, got {candidates.shape}")
        return candidates, None

    def step_once(self, temperature):
        """Propose, evaluate and accept one move per chain; return the accepted mask and
        the moved coordinates."""
        candidates, moved = self.propose()
        candidate_f = yield candidates
        self.budget.nfev += len(candidates)
        accepted = _core.dfo_metropolis(self.f, candidate_f, temperature, self.seed,
                                        self.next_stream())
        self.x[accepted] = candidates[accepted]
        return accepted, moved

    def adapt_steps(self, proposals, accepts):
        """Corana et al.'s step update from one stage's per-coordinate acceptance ratios."""
        ratio = accepts / np.maximum(proposals, 1)
        grow = 1.0 + _STEP_GAIN * (ratio - _ACCEPT_HIGH) / (1.0 - _ACCEPT_HIGH)
        shrink = 1.0 / (1.0 + _STEP_GAIN * (_ACCEPT_LOW - ratio) / _ACCEPT_LOW)
        factor = np.where(ratio > _ACCEPT_HIGH, grow, np.where(ratio < _ACCEPT_LOW, shrink, 1.0))
        factor = np.where(proposals > 0, factor, 1.0)
        width = self.upper - self.lower
        self.step = np.minimum(self.step * factor, width)
        np.maximum(self.step, self.step_floor * np.maximum(width, 1.0), out=self.step)


class _Plan:
    """Geometric cooling planned over the evaluation budget. Each of the ``restarts + 1``
    runs gets an equal share of the evaluations left when it starts. Its temperature falls
    from ``t0`` at its first evaluation to ``t_final`` at the end of its share."""

    def __init__(self, budget, t0, t_final, restarts):
        self.budget, self.t0, self.ratio = budget, t0, t_final / t0
        self.runs_left = restarts + 1
        self.start = self.length = 0
        self.restart()

    def restart(self):
        self.start = self.budget.nfev
        self.length = (self.budget.maxfev - self.start) / self.runs_left
        self.runs_left -= 1

    def temperature(self):
        done = (self.budget.nfev - self.start) / self.length if self.length > 0 else 1.0
        return self.t0 * self.ratio ** min(done, 1.0)

    def frozen(self, batch):
        """Test whether another batch would run past this run's share."""
        return self.budget.nfev - self.start + batch > self.length


def _polish_best(polish, chains):
    """Run the local phase from the best point. A lower point it finds becomes the best
    point and the state of every chain."""
    x, f = yield from polish.run(chains.best_x, chains.best_f)
    if f < chains.best_f:
        chains.x[:], chains.f[:] = x, f
        chains.best_x, chains.best_f = x.copy(), f


def _start_points(chains, x0, n_chains, restart):
    """Points for a (re)start: x0 or random points, the best point so far in chain 0."""
    if chains.neighbor is not None:
        points = np.repeat(x0[None], n_chains, axis=0)
    elif x0 is not None and not restart:
        points = np.repeat(x0[None], n_chains, axis=0)
    else:
        points = chains.random_points(n_chains)
    if restart:
        points[0] = chains.best_x
    return points


def _check_x0(x0, lower, neighbor):
    if x0 is None:
        if neighbor is not None:
            raise ValueError("x0: expected a starting state for a neighbor function, got None")
        return None
    if neighbor is not None:
        return np.asarray(x0).copy()
    x0 = np.asarray(x0, dtype=np.float64).reshape(-1)
    if x0.size != lower.size:
        raise ValueError(f"x0: expected {lower.size} values, one per bound, got {x0.size}")
    return x0


def simulated_annealing(fun, bounds=None, *, x0=None, neighbor=None, n_chains=16,
                        schedule="geometric", initial_temperature=None, cooling=None,
                        adaptive_lambda=0.7, steps_per_temperature=None,
                        final_temperature=None, restarts=0, patience=None, maxfev=None,
                        target=None, local_search=None, local_maxfev=None, seed=None,
                        vectorized=True, callback=None):
    r"""Minimize ``fun`` by simulated annealing over ``n_chains`` chains at once.

    Every iteration proposes one neighbour per chain, evaluates the whole batch in one call
    of ``fun`` and accepts each candidate by the Metropolis rule: always when
    :math:`f' \le f`, otherwise with probability :math:`\exp(-(f' - f)/T)`. The proposal
    and the acceptance run in C++.

    Continuous variables (``bounds``) move one coordinate at a time (Corana et al., 1987):
    coordinate ``c`` of a chain takes a Cauchy step of scale :math:`s_c` (Szu & Hartley,
    1987), or a uniform value in :math:`[l_c, h_c]` when the step leaves the bounds. After
    each stage of ``steps_per_temperature`` iterations every chain widens its step
    :math:`s_c` when more than 60% of the moves of ``c`` were accepted and narrows it below
    40%. Discrete
    variables use ``neighbor(X, rng) -> candidates``, a function of the batch of states
    (shape ``(n_chains,) + x0.shape``) and a ``numpy.random.Generator`` seeded from
    ``seed``.

    Continuous variables also have a local phase (``local_search``), as in the dual
    annealing of Xiang et al. (1997): bounded L-BFGS on forward-difference gradients, one
    batch of ``n`` points per gradient. It runs from the best starting point and again each
    time an iteration finds a new best point. When it lowers the best value, every chain
    moves to the point it found, so the chains explore around the best basin. With the
    local phase the default initial temperature is 1% of the spread of the starting values,
    and steps stay above 5% of the box. Every evaluation of the local phase counts towards
    ``maxfev``.

    With ``maxfev`` and no ``cooling``, the geometric schedule is planned over the budget:
    each run gets an equal share of the evaluations left when it starts, and after ``e`` of
    its ``E`` evaluations the temperature is :math:`T_0 (T_f / T_0)^{e/E}`. It thus reaches
    ``final_temperature`` where the share ends. Otherwise the temperature changes after
    each stage: ``schedule="geometric"`` multiplies it by ``cooling``;
    ``schedule="adaptive"`` by :math:`\exp(-\lambda T / \sigma)` (Huang, Romeo
    & Sangiovanni-Vincentelli, 1986), where :math:`\sigma` is the standard deviation of
    the chains' values during the stage and :math:`\lambda` is ``adaptive_lambda``. That
    factor is held within [0.5, 0.99]. A run ends when the temperature falls below
    ``final_temperature`` (or its share of the budget is spent), or when the best value has
    not improved for ``patience`` stages. Each of the ``restarts`` then starts the chains
    again at the initial temperature, from new random points (or ``x0`` for discrete
    states) with the best point so far in chain 0.

    Parameters
    ----------
    fun : callable
        ``fun(X) -> values`` with one value per row of X, or ``fun(x) -> float`` with
        ``vectorized=False``.
    bounds : sequence of (lower, upper) pairs or scipy.optimize.Bounds, optional
        Finite bounds of the continuous variables; None with ``neighbor``.
    x0 : array_like, optional
        Starting point of every chain; random points within the bounds by default.
        Required with ``neighbor``.
    neighbor : callable, optional
        Proposal for discrete states, see above.
    n_chains : int, default 16
        Chains run in parallel, the batch size of every call of ``fun``; at least 1.
    schedule : {"geometric", "adaptive"}
    initial_temperature : float, optional
        By default the standard deviation of the starting values (1 when they all agree),
        times 0.01 with the local phase.
    cooling : float, optional
        Factor of the geometric schedule per stage, in (0, 1). By default the schedule is
        planned over ``maxfev``, or the factor is 0.95 without ``maxfev``.
    adaptive_lambda : float, default 0.7
        :math:`\lambda` of the adaptive schedule, > 0; smaller cools more slowly.
    steps_per_temperature : int, optional
        Iterations per stage; ``10 * n`` for n continuous variables, 100 otherwise.
    final_temperature : float, optional
        Temperature that ends a run; ``1e-6 * initial_temperature`` by default.
    restarts : int, default 0
        Runs after the first, each from the initial temperature.
    patience : int, optional
        Stages without improvement of the best value that end a run.
    maxfev : int, optional
        Maximum evaluations of ``fun``; the run stops at the first stage boundary or
        iteration that would exceed it.
    target : float, optional
        Stop as soon as the best value is <= target.
    local_search : bool, optional
        Run the local phase; by default True for continuous variables. It must be False
        with ``neighbor``.
    local_maxfev : int, optional
        Evaluations of one local search, ``100 * (n + 1)`` by default.
    seed : int, optional
        Seed in [0, 2**64) of every draw; the same seed gives the same result on any
        number of threads.
    vectorized : bool, default True
        Whether ``fun`` takes a batch of points; False calls it once per point.
    callback : callable, optional
        ``callback(OptimizeResult(x, fun, nit, nfev, temperature))`` after each stage; a
        true return value stops the run.

    Returns
    -------
    scipy.optimize.OptimizeResult
        ``x``, ``fun`` (best seen), ``nfev``, ``nit`` (iterations, each one batch of
        ``n_chains`` proposals), ``success``, ``message``, ``temperature`` (the last one),
        ``nrestarts`` and ``nlocal`` (local searches run). ``success`` is False only when
        ``target`` was given and not reached, or when no evaluation returned a number.

    References
    ----------
    A. Corana, M. Marchesi, C. Martini and S. Ridella, "Minimizing multimodal functions of
    continuous variables with the simulated annealing algorithm", ACM TOMS 13 (1987).
    M. D. Huang, F. Romeo and A. Sangiovanni-Vincentelli, "An efficient general cooling
    schedule for simulated annealing", ICCAD 1986.
    H. Szu and R. Hartley, "Fast simulated annealing", Physics Letters A 122 (1987).
    Y. Xiang, D. Y. Sun, W. Fan and X. G. Gong, "Generalized simulated annealing algorithm
    and its application to the Thomson model", Physics Letters A 233 (1997).

    Examples
    --------
    >>> import numpy as np
    >>> from fastopt.dfo import simulated_annealing
    >>> result = simulated_annealing(lambda X: ((X - 0.5) ** 2).sum(axis=1), [(-2, 2)] * 2,
    ...                              seed=0)
    >>> result.x, result.success
    (array([0.5, 0.5]), True)
    """
    if not callable(fun):
        raise TypeError(f"fun: expected a callable, got {fun!r}")
    steps = annealing_steps(bounds=bounds, x0=x0, neighbor=neighbor, n_chains=n_chains,
                            schedule=schedule, initial_temperature=initial_temperature,
                            cooling=cooling, adaptive_lambda=adaptive_lambda,
                            steps_per_temperature=steps_per_temperature,
                            final_temperature=final_temperature, restarts=restarts,
                            patience=patience, maxfev=maxfev, target=target,
                            local_search=local_search, local_maxfev=local_maxfev, seed=seed,
                            callback=callback)
    return drive(steps, fun, vectorized)


def annealing_steps(*, bounds, x0, neighbor, n_chains, schedule, initial_temperature, cooling,
                    adaptive_lambda, steps_per_temperature, final_temperature, restarts,
                    patience, maxfev, target, seed, callback, local_search=False,
                    local_maxfev=None):
    """Check the arguments, then run the annealing as a generator that yields each batch of
    states and receives their values; returns the OptimizeResult. Arguments are those of
    :func:`simulated_annealing`."""
    if neighbor is None:
        lower, upper = parse_bounds(bounds)
    else:
        if not callable(neighbor):
            raise TypeError(f"neighbor: expected a callable, got {neighbor!r}")
        if bounds is not None:
            raise ValueError("bounds: expected None with a neighbor function, which keeps "
                             "discrete states within their domain")
        lower = upper = None
    x0 = _check_x0(x0, lower, neighbor)
    if x0 is not None and neighbor is None:
        outside = np.flatnonzero((x0 < lower) | (x0 > upper))
        if outside.size:
            i = int(outside[0])
            raise ValueError(f"x0[{i}]: expected a value within bounds[{i}] = "
                             f"({float(lower[i])!r}, {float(upper[i])!r}), got {float(x0[i])!r}")
    n_chains = check_int("n_chains", n_chains, 1)
    check_choice("schedule", schedule, SCHEDULES)
    # Without a factor, a geometric schedule with a budget is planned over that budget.
    planned = cooling is None and schedule == "geometric" and maxfev is not None
    cooling = check_positive("cooling", _DEFAULT_COOLING if cooling is None else cooling)
    if cooling >= 1.0:
        raise ValueError(f"cooling: expected a factor in (0, 1), got {cooling!r}")
    adaptive_lambda = check_positive("adaptive_lambda", adaptive_lambda)
    if steps_per_temperature is None:
        steps_per_temperature = 10 * lower.size if neighbor is None else 100
    steps = check_int("steps_per_temperature", steps_per_temperature, 1)
    restarts = check_int("restarts", restarts, 0)
    patience = None if patience is None else check_int("patience", patience, 1)
    maxfev = None if maxfev is None else check_int("maxfev", maxfev, n_chains)
    target = None if target is None else float(target)
    seed = check_seed(seed)
    if local_search is None:
        local_search = neighbor is None
    elif not isinstance(local_search, (bool, np.bool_)):
        raise TypeError(f"local_search: expected a bool or None, got {local_search!r}")
    elif local_search and neighbor is not None:
        raise ValueError("local_search: expected False with a neighbor function, whose "
                         "discrete states have no gradient to follow, got True")
    if local_maxfev is None:
        local_maxfev = LOCAL_FEV_PER_VARIABLE * (lower.size + 1) if neighbor is None else 0
    local_maxfev = check_int("local_maxfev", local_maxfev, 0)

    budget = Budget(maxfev, target)
    rng = np.random.default_rng(seed) if neighbor is not None else None
    chains = _Chains(budget, seed, lower, upper, neighbor, rng)
    if local_search:
        chains.step_floor = _LOCAL_STEP_FLOOR
    yield from chains.reset(_start_points(chains, x0, n_chains, restart=False))
    t0 = initial_temperature
    if t0 is None:
        spread = float(np.std(chains.f[np.isfinite(chains.f)])) if np.isfinite(chains.f).any() \
            else 0.0
        t0 = spread if spread > 0.0 else 1.0
        if local_search:
            t0 *= _LOCAL_TEMPERATURE_SHARE
    t0 = check_positive("initial_temperature", t0)
    t_final = t0 * 1e-6 if final_temperature is None else check_positive(
        "final_temperature", final_temperature)
    plan = _Plan(budget, t0, t_final, restarts) if planned else None
    polish = Polish(budget, lower, upper, local_maxfev) if local_search else None
    if polish is not None:
        yield from _polish_best(polish, chains)

    temperature = t0 if plan is None else plan.temperature()
    nit, stale, nrestarts, message = 0, 0, 0, None
    rows = np.arange(n_chains)
    while message is None:
        # 1. One stage at a fixed temperature, or on the planned temperature curve.
        genes = 1 if lower is None else lower.size
        proposals = np.zeros(n_chains * genes)
        accepts = np.zeros(n_chains * genes)
        total, total_sq, count = 0.0, 0.0, 0
        improved = frozen = False
        for _ in range(steps):
            room = budget.room()
            if room is not None and room < n_chains:
                message = "the maximum number of function evaluations was reached"
                break
            if plan is not None:
                frozen = plan.frozen(n_chains)
                if frozen:
                    break
                temperature = plan.temperature()
            accepted, moved = yield from chains.step_once(temperature)
            nit += 1
            new_best = chains.record()
            if new_best and polish is not None:
                yield from _polish_best(polish, chains)
            improved |= new_best
            if moved is not None:
                cells = rows * genes + moved
                proposals += np.bincount(cells, minlength=n_chains * genes)
                accepts += np.bincount(cells[accepted], minlength=n_chains * genes)
            finite = chains.f[np.isfinite(chains.f)]
            total, total_sq, count = total + finite.sum(), total_sq + (finite**2).sum(), \
                count + finite.size
            if budget.reached_target(chains.best_f):
                message = "the best value reached the target"
                break
        if message is not None:
            break
        if lower is not None:
            chains.adapt_steps(proposals.reshape(n_chains, genes),
                               accepts.reshape(n_chains, genes))

        # 2. Cool down.
        if plan is not None:
            temperature = plan.temperature()
        elif schedule == "geometric":
            temperature *= cooling
        else:
            sigma = np.sqrt(max(total_sq / max(count, 1) - (total / max(count, 1))**2, 0.0))
            factor = np.exp(-adaptive_lambda * temperature / sigma) if sigma > 0 else 0.0
            temperature *= min(max(factor, _ADAPTIVE_MIN_FACTOR), _ADAPTIVE_MAX_FACTOR)
        stale = 0 if improved else stale + 1
        if callback is not None and callback(OptimizeResult(
                x=chains.best_x.copy(), fun=chains.best_f, nit=nit, nfev=budget.nfev,
                temperature=temperature)):
            message = "the callback requested a stop"
            break

        # 3. End of a run: restart or stop.
        frozen = frozen or (plan is None and temperature < t_final)
        stalled = patience is not None and stale >= patience
        if frozen or stalled:
            reason = ("the temperature fell below final_temperature" if frozen else
                      f"the best value did not improve in {patience} stages")
            room = budget.room()
            if nrestarts >= restarts or (room is not None and room < n_chains):
                message = reason
                break
            nrestarts += 1
            if plan is not None:
                plan.restart()
            yield from chains.reset(_start_points(chains, x0, n_chains, restart=True))
            temperature, stale = (t0 if plan is None else plan.temperature()), 0

    if plan is not None:
        temperature = plan.temperature()
    success = bool(np.isfinite(chains.best_f)) and (target is None or chains.best_f <= target)
    return OptimizeResult(x=chains.best_x, fun=chains.best_f, nfev=budget.nfev, nit=nit,
                          success=success, message=message, temperature=temperature,
                          nrestarts=nrestarts,
                          nlocal=0 if polish is None else polish.count)
