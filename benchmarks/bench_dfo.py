"""Benchmark fastopt.dfo: success rate and evaluations to a target against SciPy and PyGAD.

On Rastrigin, Ackley and Rosenbrock in dimension 10 (the tolerances of tests/test_dfo.py),
every method runs once per seed with the same evaluation budget:

- fastopt ``simulated_annealing`` and ``genetic_algorithm`` with default options, so
  with their local phase (L-BFGS on finite differences) and, for the annealing, the
  temperature schedule planned over the budget;
- ``scipy.optimize.dual_annealing`` (with its default local search) and
  ``scipy.optimize.differential_evolution`` (vectorized, ``polish=False``);
- ``pygad.GA`` (population 100, SBX crossover, tournament selection, elitism 2, fitness
  evaluated in batches of the whole population).

Every method calls the objective through one counter that stops the run, by an exception,
at the first evaluation whose value is <= the target or when the budget is spent. A run
succeeds when it reached the target; "evaluations" is the count at that evaluation, so it
is exact for batched methods too. The wall time of each run is recorded as well.

Results go to benchmarks/results/dfo.json and to the section of docs/benchmarks.md between
the markers below. ``--quick`` runs two seeds with a small budget to check the script.
PyGAD is optional (``pip install pygad``); without it the PyGAD rows are skipped.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import scipy
import scipy.optimize

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from _sections import machine_environment, parse_choices, write_outputs  # noqa: E402

import fastopt  # noqa: E402
from fastopt import dfo  # noqa: E402

BEGIN = "<!-- dfo:begin -->"
END = "<!-- dfo:end -->"
DIM = 10


def rastrigin(x):
    return 10.0 * x.shape[-1] + (x**2 - 10.0 * np.cos(2.0 * np.pi * x)).sum(axis=-1)


def ackley(x):
    d = x.shape[-1]
    return (-20.0 * np.exp(-0.2 * np.sqrt((x**2).sum(axis=-1) / d))
            - np.exp(np.cos(2.0 * np.pi * x).sum(axis=-1) / d) + 20.0 + np.e)


def rosenbrock(x):
    return (100.0 * (x[..., 1:] - x[..., :-1]**2)**2 + (1.0 - x[..., :-1])**2).sum(axis=-1)


# name: (function, half-width of the box, target value)
PROBLEMS = {
    "rastrigin": (rastrigin, 5.12, 1e-2),
    "ackley": (ackley, 32.768, 1e-2),
    "rosenbrock": (rosenbrock, 5.0, 1.0),
}
# Options of the fastopt methods per function; every function runs with the defaults.
SA_OPTIONS = {}
GA_OPTIONS = {}
METHODS = ("fastopt_sa", "fastopt_ga", "dual_annealing", "differential_evolution", "pygad")


class Stop(Exception):
    """Raised by the counter to end a run."""


class Counter:
    """The objective that every method calls. It counts evaluations (rows of a batch) and
    stops the run at the first value <= target or when the budget is spent."""

    def __init__(self, fun, target, budget):
        self.fun, self.target, self.budget = fun, target, budget
        self.count = 0
        self.hit = None
        self.best = np.inf

    def __call__(self, x):
        x = np.asarray(x, dtype=np.float64)
        batch = x.reshape(-1, x.shape[-1])
        room = self.budget - self.count
        if room <= 0:
            raise Stop
        values = self.fun(batch[:room])
        self.best = min(self.best, float(np.min(values)))
        reached = np.flatnonzero(values <= self.target)
        if reached.size:
            self.hit = self.count + int(reached[0]) + 1
            self.count = self.hit
            raise Stop
        self.count += len(values)
        if len(values) < len(batch):
            raise Stop
        return values if x.ndim > 1 else float(values[0])


def run_fastopt_sa(counter, bounds, seed, name):
    dfo.simulated_annealing(counter, bounds, maxfev=counter.budget + 1, seed=seed,
                            **SA_OPTIONS.get(name, {}))


def run_fastopt_ga(counter, bounds, seed, name):
    dfo.genetic_algorithm(counter, bounds, maxfev=counter.budget + 100, seed=seed,
                          **GA_OPTIONS.get(name, {}))


def run_dual_annealing(counter, bounds, seed, name):
    scipy.optimize.dual_annealing(counter, bounds, maxfun=counter.budget + 1,
                                  maxiter=10**9, rng=seed)


def run_differential_evolution(counter, bounds, seed, name):
    # With vectorized=True SciPy passes x of shape (DIM, S): one column per candidate.
    scipy.optimize.differential_evolution(lambda x: counter(x.T), bounds, vectorized=True,
                                          updating="deferred", maxiter=10**9, tol=0.0,
                                          polish=False, rng=seed)


def _quiet_logger():
    """Return a logger that shows only critical messages. PyGAD logs the traceback of any
    exception its fitness function raises, and the Stop that ends a run is expected."""
    logger = logging.getLogger("bench_dfo.pygad")
    logger.setLevel(logging.CRITICAL)
    return logger


def run_pygad(counter, bounds, seed, name):
    import pygad

    half = bounds[0][1]
    generations = counter.budget // 98 + 2

    def fitness(ga, solutions, indices):
        return -np.asarray(counter(np.asarray(solutions, dtype=np.float64)))

    ga = pygad.GA(num_generations=generations, num_parents_mating=50, fitness_func=fitness,
                  fitness_batch_size=100, sol_per_pop=100, num_genes=DIM,
                  init_range_low=-half, init_range_high=half,
                  gene_space={"low": -half, "high": half}, parent_selection_type="tournament",
                  K_tournament=3, keep_elitism=2, crossover_type="sbx",
                  mutation_type="random", mutation_probability=0.1, random_seed=seed,
                  suppress_warnings=True, logger=_quiet_logger())
    ga.run()


RUNNERS = {
    "fastopt_sa": run_fastopt_sa,
    "fastopt_ga": run_fastopt_ga,
    "dual_annealing": run_dual_annealing,
    "differential_evolution": run_differential_evolution,
    "pygad": run_pygad,
}


def run_one(method, name, seed, budget):
    fun, half, target = PROBLEMS[name]
    counter = Counter(fun, target, budget)
    start = time.perf_counter()
    try:
        RUNNERS[method](counter, [(-half, half)] * DIM, seed, name)
    except Stop:
        pass
    return {"seed": seed, "success": counter.hit is not None, "evaluations": counter.hit,
            "spent": counter.count, "best": counter.best,
            "seconds": time.perf_counter() - start}


def summarize(runs):
    hits = [r["evaluations"] for r in runs if r["success"]]
    return {"success_rate": len(hits) / len(runs),
            "median_evaluations": statistics.median(hits) if hits else None,
            "median_seconds": statistics.median(r["seconds"] for r in runs)}


def markdown(result):
    lines = [BEGIN, "## Derivative-free methods (`benchmarks/bench_dfo.py`)", "",
             f"Dimension {DIM}, budget {result['budget']:,} evaluations, seeds "
             f"{result['seeds']}. Success: the best value reached the target; evaluations: "
             "median count at the first value <= target, over the successful seeds. The "
             "ratio divides that median by dual_annealing's on the same function (below 1: "
             "fewer evaluations). Evaluation counts do not depend on the machine. The "
             "seconds are wall time on a shared machine and vary with its load.", "",
             "| function (target) | method | success | median evaluations "
             "| vs dual_annealing | median s |",
             "|---|---|---|---|---|---|"]
    for name, methods in result["problems"].items():
        baseline = methods.get("dual_annealing", {}).get("summary", {}).get(
            "median_evaluations")
        for method, entry in methods.items():
            s = entry["summary"]
            evals = s["median_evaluations"]
            text = "-" if evals is None else f"{evals:,.0f}"
            ratio = "-" if evals is None or not baseline else f"{evals / baseline:.2f}"
            lines.append(f"| {name} ({PROBLEMS[name][2]:g}) | {method} | "
                         f"{s['success_rate']:.0%} | {text} | {ratio} | "
                         f"{s['median_seconds']:.2f} |")
    # A record may carry notes, such as rows kept from an earlier run of this script.
    for note in result.get("notes", []):
        lines += ["", note]
    lines += ["", f"Machine: {result['environment']}", END, ""]
    return "\n".join(lines)


def rewrite_section(path):
    """Rewrite the docs section from a saved JSON record, without running anything."""
    import json

    path = Path(path).resolve()
    result = json.loads(path.read_text())
    write_outputs(path, REPO / "docs" / "benchmarks.md", BEGIN, END, result, markdown(result),
                  REPO)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10, help="runs per method and function")
    parser.add_argument("--budget", type=int, default=400_000,
                        help="evaluations per run")
    parser.add_argument("--methods", default=",".join(METHODS),
                        help="comma-separated subset of " + ", ".join(METHODS))
    parser.add_argument("--functions", default=",".join(PROBLEMS),
                        help="comma-separated subset of " + ", ".join(PROBLEMS))
    parser.add_argument("--quick", action="store_true", help="2 seeds, budget 20,000")
    parser.add_argument("--no-write", action="store_true",
                        help="print the table without writing results or docs")
    parser.add_argument("--from-json", metavar="PATH",
                        help="rewrite the docs section from a saved results file and exit")
    args = parser.parse_args(argv)
    if args.from_json:
        rewrite_section(args.from_json)
        return
    methods = parse_choices(parser, "--methods", args.methods, "method", METHODS)
    names = parse_choices(parser, "--functions", args.functions, "function", PROBLEMS)
    seeds, budget = (2, 20_000) if args.quick else (args.seeds, args.budget)
    try:
        import pygad  # noqa: F401
    except ImportError:
        if "pygad" in methods:
            print("pygad is not installed (pip install pygad); skipping it")
            methods.remove("pygad")

    result = {"budget": budget, "seeds": seeds, "scipy": scipy.__version__,
              "environment": machine_environment(), "problems": {}}
    for name in names:
        result["problems"][name] = {}
        for method in methods:
            runs = [run_one(method, name, seed, budget) for seed in range(seeds)]
            result["problems"][name][method] = {"runs": runs, "summary": summarize(runs)}
            s = result["problems"][name][method]["summary"]
            print(f"{name:11s} {method:23s} success {s['success_rate']:.0%} "
                  f"median evaluations {s['median_evaluations']}", flush=True)
    section = markdown(result)
    if args.no_write:
        print(section)
    else:
        write_outputs(REPO / "benchmarks" / "results" / "dfo.json",
                      REPO / "docs" / "benchmarks.md", BEGIN, END, result, section, REPO)


if __name__ == "__main__":
    main()
