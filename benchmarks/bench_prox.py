"""Benchmark the fused proximal gradient step against NumPy and the memory roofline.

The step is x <- soft_threshold(x - t g, t lambda), in place. Three
implementations run on the same arrays, interleaved so that machine noise hits
them alike:

- ``fastopt``: ``fastopt.prox.prox_grad_step(x, g, t, penalty="l1", l1=lambda)``,
  one pass that reads x and g and writes x;
- ``numpy``: ``v = x - t * g`` then ``x[...] = np.sign(v) * np.maximum(np.abs(v) - t lambda, 0)``,
  several passes and temporaries, as NumPy code usually writes it;
- ``roofline``: ``fastopt._core.roofline([[g]], [[x]])``, which moves the same
  bytes (read g, read and write x) with no arithmetic.

Each reports the median time per step over the repeats, the effective
bandwidth (3 array elements moved per element) and the ratios fastopt/NumPy
and roofline/fastopt (1.0 means fastopt runs at the memory bandwidth).

Usage::

    python benchmarks/bench_prox.py                       # n = 1e6 and 1e7, float64
    python benchmarks/bench_prox.py --sizes 1e6 --repeats 5 --dtype float32
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

import fastopt
from fastopt import _core, prox

STEP = 0.01
STRENGTH = 0.5


def make_steps(x: np.ndarray, g: np.ndarray, x_numpy: np.ndarray, x_roof: np.ndarray):
    """Return ``{name: zero-argument callable running one in-place step}``."""
    threshold = STEP * STRENGTH
    t = x.dtype.type(STEP)

    def fastopt_step():
        prox.prox_grad_step(x, g, STEP, penalty="l1", l1=STRENGTH)

    def numpy_step():
        v = x_numpy - t * g
        x_numpy[...] = np.sign(v) * np.maximum(np.abs(v) - x.dtype.type(threshold), 0)

    def roofline_step():
        _core.roofline([[g]], [[x_roof]])

    return {"fastopt": fastopt_step, "numpy": numpy_step, "roofline": roofline_step}


def time_interleaved(steps: dict, *, warmup: int, repeats: int) -> dict[str, list[float]]:
    """Return seconds per step for each implementation, one sample per repeat.

    The implementation that runs first rotates from repeat to repeat, so none
    always follows the same neighbour's cache footprint.
    """
    names = list(steps)
    for name in names:
        for _ in range(warmup):
            steps[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            steps[name]()
            samples[name].append(time.perf_counter() - start)
    return samples


def check_agreement(n: int, dtype) -> None:
    """Raise unless fastopt and the NumPy formula give the same bits on one step."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal(min(n, 100_000)).astype(dtype)
    g = rng.standard_normal(x.size).astype(dtype)
    expected = x.copy()
    steps = make_steps(x, g, expected, x.copy())
    steps["fastopt"]()
    steps["numpy"]()
    if not np.array_equal(x, expected):
        raise AssertionError("fastopt and NumPy disagree on the fused L1 step")


def run_size(n: int, dtype, *, warmup: int, repeats: int) -> dict:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(n).astype(dtype)
    g = rng.standard_normal(n).astype(dtype)
    steps = make_steps(x, g, x.copy(), x.copy())
    samples = time_interleaved(steps, warmup=warmup, repeats=repeats)
    medians = {name: float(np.median(values)) for name, values in samples.items()}
    moved = 3 * n * np.dtype(dtype).itemsize
    return {
        "n": n,
        "samples_s": samples,
        "median_s": medians,
        "gb_per_s": {name: moved / t / 1e9 for name, t in medians.items()},
        "fastopt_speedup_over_numpy": medians["numpy"] / medians["fastopt"],
        "fastopt_of_roofline": medians["roofline"] / medians["fastopt"],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1e6,1e7",
                        help="comma-separated element counts (default: 1e6,1e7)")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float64")
    parser.add_argument("--repeats", type=int, default=11, help="timed steps per implementation")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps per implementation")
    parser.add_argument("--threads", type=int, default=None,
                        help="fastopt threads (default: fastopt's current setting)")
    parser.add_argument("--json", type=Path, default=None, help="also write the samples here")
    args = parser.parse_args(argv)
    if args.threads is not None:
        fastopt.set_num_threads(args.threads)
    dtype = np.dtype(args.dtype).type
    sizes = [int(float(s)) for s in args.sizes.split(",")]

    check_agreement(max(sizes), dtype)
    print(f"fastopt {fastopt.__version__}, isa {fastopt.active_isa()}, "
          f"{fastopt.get_num_threads()} threads, {args.dtype}, {platform.processor() or platform.machine()}")
    print(f"{'n':>10} {'fastopt ms':>11} {'numpy ms':>9} {'roofline ms':>12} "
          f"{'fastopt GB/s':>13} {'x numpy':>8} {'of roofline':>12}")
    results = []
    for n in sizes:
        r = run_size(n, dtype, warmup=args.warmup, repeats=args.repeats)
        results.append(r)
        m = r["median_s"]
        print(f"{n:>10} {m['fastopt'] * 1e3:>11.3f} {m['numpy'] * 1e3:>9.3f} "
              f"{m['roofline'] * 1e3:>12.3f} {r['gb_per_s']['fastopt']:>13.1f} "
              f"{r['fastopt_speedup_over_numpy']:>8.2f} {r['fastopt_of_roofline']:>12.2f}")
    if args.json is not None:
        args.json.write_text(json.dumps({"dtype": args.dtype, "threads": fastopt.get_num_threads(),
                                         "isa": fastopt.active_isa(), "results": results},
                                        indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
