"""Benchmark L-BFGS: overhead per iteration, two-loop kernel roofline and MGH iteration counts.

Three measurements, written to benchmarks/results/lbfgs.json and to the section of
docs/benchmarks.md between ``<!-- lbfgs:begin -->`` and ``<!-- lbfgs:end -->``:

1. Overhead per iteration outside the user's function, for ``fastopt.minimize(method="lbfgs")``,
   ``scipy.optimize.minimize(method="L-BFGS-B")`` and ``torch.optim.LBFGS`` (CPU,
   ``line_search_fn="strong_wolfe"``), all with history 10, on a separable quadratic
   ``f(x) = 1/2 sum_i c_i (x_i - 1)^2`` with curvatures ``c_i`` log-spaced over [1, 1e4]. Every
   solver runs a fixed iteration budget with its convergence tests disabled.
   ``overhead = (total time - time inside the function) / iterations``, median over repeats.
2. The two-loop kernel (``fastopt.minimize.LBFGSState.direction``) against its roofline: the
   bytes of two passes over the history (one for the inner products, one for the direction)
   divided by the bandwidth ``fastopt._core.roofline`` reaches in the same run.
3. Iterations to converge on the More-Garbow-Hillstrom problems, fastopt against SciPy, both
   with their default options.

Run ``python benchmarks/bench_lbfgs.py --quick`` for a short check (n = 1e5 only); the full run
allocates about 4 GB at n = 1e7 (history 2 x 10 x n words for each of SciPy and torch).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import scipy
import scipy.optimize

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the MGH problems live with the tests

from problems import mgh  # noqa: E402

BEGIN = "<!-- lbfgs:begin -->"
END = "<!-- lbfgs:end -->"
HISTORY = 10
SOLVERS = ("fastopt", "scipy", "torch")


# ---------------------------------------------------------------------------------------------
# The objective
# ---------------------------------------------------------------------------------------------


class Quadratic:
    """Separable quadratic whose f and g cost little, with the time spent in it recorded.

    ``x - 1`` goes to a preallocated buffer. The gradient is a fresh array per call because a
    solver may keep the gradients it was given (SciPy and fastopt) and must not see them change.
    ``fun_and_grad_torch`` instead writes into the parameter's ``.grad``, as autograd would.
    """

    def __init__(self, n: int, dtype) -> None:
        self.dtype = np.dtype(dtype)
        self.curvature = np.geomspace(1.0, 1e4, n).astype(self.dtype)
        self.diff = np.empty(n, self.dtype)
        self.seconds = 0.0
        self.calls = 0

    def x0(self) -> np.ndarray:
        return np.zeros(self.curvature.size, self.dtype)

    def reset_counters(self) -> None:
        self.seconds = 0.0
        self.calls = 0

    def _evaluate(self, x, grad_out=None):
        # float64 x from SciPy is rounded into the float32 buffer here, inside the timed region.
        np.subtract(x, 1.0, out=self.diff, casting="same_kind")
        grad = np.multiply(self.curvature, self.diff, out=grad_out)
        return 0.5 * float(np.dot(self.diff, grad)), grad

    def fun_and_grad(self, x):
        start = time.perf_counter()
        out = self._evaluate(x)
        self.seconds += time.perf_counter() - start
        self.calls += 1
        return out

    def fun_and_grad_torch(self, x_numpy, grad_numpy) -> float:
        start = time.perf_counter()
        f, _ = self._evaluate(x_numpy, grad_out=grad_numpy)
        self.seconds += time.perf_counter() - start
        self.calls += 1
        return f


# ---------------------------------------------------------------------------------------------
# One timed run per solver: returns (total seconds, seconds in the function, iterations, calls)
# ---------------------------------------------------------------------------------------------


def run_fastopt(problem: Quadratic, iterations: int):
    import fastopt

    options = {"history_size": HISTORY, "maxiter": iterations, "maxfun": 100 * iterations,
               "gtol": 0.0, "ftol": 0.0}
    problem.reset_counters()
    start = time.perf_counter()
    result = fastopt.minimize(problem.fun_and_grad, problem.x0(), jac=True, method="lbfgs",
                              options=options)
    total = time.perf_counter() - start
    return total, problem.seconds, int(result.nit), problem.calls


def run_scipy(problem: Quadratic, iterations: int):
    options = {"maxcor": HISTORY, "maxiter": iterations, "maxfun": 100 * iterations,
               "gtol": 0.0, "ftol": 0.0}
    problem.reset_counters()
    start = time.perf_counter()
    result = scipy.optimize.minimize(problem.fun_and_grad, problem.x0(), jac=True,
                                     method="L-BFGS-B", options=options)
    total = time.perf_counter() - start
    return total, problem.seconds, int(result.nit), problem.calls


def run_torch(problem: Quadratic, iterations: int):
    import torch

    x = torch.from_numpy(problem.x0()).requires_grad_(True)
    x.grad = torch.zeros_like(x)
    x_numpy = x.detach().numpy()
    grad_numpy = x.grad.numpy()
    optimizer = torch.optim.LBFGS(
        [x], lr=1.0, max_iter=iterations, max_eval=100 * iterations, tolerance_grad=0.0,
        tolerance_change=0.0, history_size=HISTORY, line_search_fn="strong_wolfe",
    )

    def closure():
        return torch.tensor(problem.fun_and_grad_torch(x_numpy, grad_numpy),
                            dtype=x.dtype)

    problem.reset_counters()
    start = time.perf_counter()
    optimizer.step(closure)
    total = time.perf_counter() - start
    n_iter = int(optimizer.state[x]["n_iter"])
    return total, problem.seconds, n_iter, problem.calls


RUNNERS = {"fastopt": run_fastopt, "scipy": run_scipy, "torch": run_torch}


def availability() -> dict[str, str | None]:
    """Map each solver to None when it can run here, else to the reason it cannot."""
    reasons: dict[str, str | None] = {}
    try:
        import fastopt

        reasons["fastopt"] = (None if callable(getattr(fastopt, "minimize", None))
                              else "fastopt.minimize is not in this build")
    except ImportError as error:
        reasons["fastopt"] = f"import fastopt failed: {error}"
    reasons["scipy"] = None
    try:
        import torch  # noqa: F401

        reasons["torch"] = None
    except ImportError as error:
        reasons["torch"] = f"import torch failed: {error}"
    return reasons


def measure_overhead(sizes, dtypes, iterations, repeats, reasons):
    records = []
    for n in sizes:
        for dtype in dtypes:
            problem = Quadratic(n, dtype)
            record = {"n": n, "dtype": np.dtype(dtype).name, "iterations": iterations,
                      "solvers": {}}
            for name in SOLVERS:
                if reasons[name] is not None:
                    record["solvers"][name] = {"unavailable": reasons[name]}
                    continue
                RUNNERS[name](problem, min(iterations, 2))  # untimed: imports, first touches
                samples = []
                for _ in range(repeats):
                    total, inside, nit, calls = RUNNERS[name](problem, iterations)
                    samples.append({"total_s": total, "function_s": inside, "nit": nit,
                                    "calls": calls,
                                    "overhead_per_iter_s": (total - inside) / max(nit, 1)})
                record["solvers"][name] = {
                    "overhead_per_iter_s": statistics.median(
                        s["overhead_per_iter_s"] for s in samples),
                    "function_per_call_s": statistics.median(
                        s["function_s"] / max(s["calls"], 1) for s in samples),
                    "nit": samples[-1]["nit"],
                    "calls": samples[-1]["calls"],
                    "samples": samples,
                }
                print(f"n={n:.0e} {record['dtype']:8s} {name:8s} overhead/iter "
                      f"{record['solvers'][name]['overhead_per_iter_s'] * 1e3:9.3f} ms "
                      f"(nit {samples[-1]['nit']}, calls {samples[-1]['calls']})", flush=True)
            fast = record["solvers"].get("fastopt", {}).get("overhead_per_iter_s")
            for other in ("scipy", "torch"):
                theirs = record["solvers"].get(other, {}).get("overhead_per_iter_s")
                if fast and theirs:
                    record[f"{other}_over_fastopt"] = theirs / fast
            records.append(record)
            del problem
    return records


# ---------------------------------------------------------------------------------------------
# Two-loop kernel against its roofline
# ---------------------------------------------------------------------------------------------


def kernel_reason() -> str | None:
    try:
        import fastopt
        from fastopt import _core
    except ImportError as error:
        return f"import fastopt failed: {error}"
    if not hasattr(_core, "lbfgs_direction"):
        return "fastopt._core.lbfgs_direction is not in this build"
    if not hasattr(_core, "roofline"):
        return "fastopt._core.roofline is not in this build"
    if not hasattr(getattr(fastopt, "minimize", None), "LBFGSState"):
        return "fastopt.minimize.LBFGSState is not in this build"
    return None


def interleaved_medians(functions, repeats: int) -> list[float]:
    """Time each function once per round, in turn, and return the median seconds of each.

    Alternating the runs exposes them to the same background load, so their ratio holds up
    better on a shared machine than timings taken one after the other.
    """
    for fn in functions:
        fn()  # first touch of the pages and of any lazy state
    times: list[list[float]] = [[] for _ in functions]
    for _ in range(repeats):
        for fn, samples in zip(functions, times):
            start = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - start)
    return [statistics.median(samples) for samples in times]


def measure_kernel(sizes, dtypes, repeats):
    reason = kernel_reason()
    if reason is not None:
        return {"unavailable": reason}
    import fastopt
    from fastopt import _core

    records = []
    rng = np.random.default_rng(0)
    for n in sizes:
        for dtype in dtypes:
            itemsize = np.dtype(dtype).itemsize
            state = fastopt.minimize.LBFGSState(n, history_size=HISTORY, dtype=dtype)
            curvature = rng.uniform(1.0, 10.0, n).astype(dtype)
            x = np.zeros(n, dtype)
            g = np.zeros(n, dtype)
            for _ in range(HISTORY):  # fill the history with pairs of positive curvature
                x_new = x + rng.standard_normal(n).astype(dtype)
                g_new = curvature * x_new
                state.add_pair(x_new, x, g_new, g)
                x, g = x_new, g_new
            direction = np.empty(n, dtype)

            # Roofline: read one history-sized array and read and write another.
            words = 2 * HISTORY * n
            source = np.ones(words, dtype)
            target = np.zeros(words, dtype)
            kernel_s, roofline_s = interleaved_medians(
                [lambda: state.direction(g, direction),
                 lambda: _core.roofline([[source]], [[target]])],
                repeats,
            )
            bandwidth = 3 * words * itemsize / roofline_s

            # Two passes over s, y and g, and one write of d; one pass is the lower bound.
            two_pass_bytes = (4 * HISTORY + 3) * n * itemsize
            one_pass_bytes = (2 * HISTORY + 2) * n * itemsize
            record = {
                "n": n, "dtype": np.dtype(dtype).name, "kernel_s": kernel_s,
                "bandwidth_gb_s": bandwidth / 1e9,
                "two_pass_bytes": two_pass_bytes, "one_pass_bytes": one_pass_bytes,
                "roofline_s": two_pass_bytes / bandwidth,
                "kernel_over_roofline": kernel_s / (two_pass_bytes / bandwidth),
                "kernel_over_one_pass_bound": kernel_s / (one_pass_bytes / bandwidth),
            }
            records.append(record)
            print(f"kernel n={n:.0e} {record['dtype']:8s} {kernel_s * 1e3:8.3f} ms, "
                  f"{record['kernel_over_roofline']:.2f}x its two-pass roofline "
                  f"({record['bandwidth_gb_s']:.1f} GB/s)", flush=True)
            del state, source, target
    return {"records": records, "threads": int(_core.get_num_threads())}


# ---------------------------------------------------------------------------------------------
# Iterations to converge on the MGH problems
# ---------------------------------------------------------------------------------------------


def measure_mgh(reasons):
    rows = []
    for p in mgh.PROBLEMS:
        row = {"id": p.id, "f_star": p.f_star, "tolerance": p.tolerance}
        with np.errstate(over="ignore", invalid="ignore"):
            result = scipy.optimize.minimize(p.fun, p.x0, jac=p.grad, method="L-BFGS-B")
            row["scipy"] = {"nit": int(result.nit), "nfev": int(result.nfev),
                            "fun": float(result.fun),
                            "reached": bool(result.fun - p.f_star <= p.tolerance)}
            if reasons["fastopt"] is None:
                import fastopt

                result = fastopt.minimize(p.fun_and_grad, p.x0.copy(), jac=True,
                                          method="lbfgs")
                row["fastopt"] = {"nit": int(result.nit), "nfev": int(result.nfev),
                                  "fun": float(result.fun),
                                  "reached": bool(result.fun - p.f_star <= p.tolerance)}
        rows.append(row)
    both = [r for r in rows if "fastopt" in r and r["scipy"]["reached"] and r["fastopt"]["reached"]]
    summary = {"problems": len(rows),
               "scipy_reached": sum(r["scipy"]["reached"] for r in rows)}
    if reasons["fastopt"] is None:
        summary["fastopt_reached"] = sum(r["fastopt"]["reached"] for r in rows)
        summary["both_reached"] = len(both)
        if both:
            ratios = [r["fastopt"]["nit"] / max(r["scipy"]["nit"], 1) for r in both]
            summary["median_nit_ratio"] = statistics.median(ratios)
            summary["total_nit_ratio"] = (sum(r["fastopt"]["nit"] for r in both)
                                          / sum(r["scipy"]["nit"] for r in both))
    else:
        summary["fastopt"] = reasons["fastopt"]
    return {"rows": rows, "summary": summary}


# ---------------------------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------------------------


def format_ms(seconds: float | None) -> str:
    return "unavailable" if seconds is None else f"{seconds * 1e3:.3f}"


def markdown(result: dict) -> str:
    env = result["environment"]
    lines = [
        BEGIN,
        "## L-BFGS",
        "",
        f"Generated by `python benchmarks/bench_lbfgs.py{' --quick' if result['quick'] else ''}`"
        f" on {env['machine']} ({env['cpus']} CPUs, {env['threads']} fastopt threads), "
        f"{env['date']}, load average {env['load_average_1min']} at the start. "
        f"NumPy {env['numpy']}, SciPy {env['scipy']}, torch {env['torch']}. "
        "Raw samples are in `benchmarks/results/lbfgs.json`.",
        "",
        "### Overhead per iteration outside the objective",
        "",
        f"Objective: f(x) = 1/2 sum c_i (x_i - 1)^2, c_i log-spaced over [1, 1e4], f and g in "
        f"NumPy. History {HISTORY}; each solver runs {result['iterations']} iterations with its "
        "convergence tests off; overhead = (total - time in the objective) / iterations, "
        f"median of {result['repeats']} runs. SciPy's L-BFGS-B works in float64, so in the "
        "float32 rows it also converts x and g on every call (counted as its overhead). "
        "torch runs `torch.optim.LBFGS(line_search_fn=\"strong_wolfe\")` on CPU.",
        "",
        "| n | dtype | fastopt ms | SciPy ms | torch ms | SciPy / fastopt | torch / fastopt |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in result["overhead"]:
        cells = [f"{r['n']:.0e}", r["dtype"]]
        for name in SOLVERS:
            cells.append(format_ms(r["solvers"][name].get("overhead_per_iter_s")))
        for other in ("scipy", "torch"):
            ratio = r.get(f"{other}_over_fastopt")
            cells.append("n/a" if ratio is None else f"{ratio:.1f}x")
        lines.append("| " + " | ".join(cells) + " |")
    unavailable = {name: s["unavailable"] for r in result["overhead"]
                   for name, s in r["solvers"].items() if "unavailable" in s}
    for name, reason in unavailable.items():
        lines += ["", f"{name}: unavailable ({reason})."]

    lines += ["", "### Two-loop kernel against its roofline", ""]
    kernel = result["kernel"]
    if "unavailable" in kernel:
        lines.append(f"Unavailable: {kernel['unavailable']}.")
    else:
        lines += [
            "Bytes: two passes over the 2 x 10 history vectors and g, plus the write of d, "
            "(4m + 3) n words; the one-pass bound is (2m + 2) n. Bandwidth: "
            "`fastopt._core.roofline` reading one and updating another history-sized array "
            "in the same run.",
            "",
            "| n | dtype | kernel ms | GB/s | roofline ms | kernel / roofline | "
            "kernel / one-pass bound |",
            "|---:|---|---:|---:|---:|---:|---:|",
        ]
        for r in kernel["records"]:
            lines.append(
                f"| {r['n']:.0e} | {r['dtype']} | {r['kernel_s'] * 1e3:.3f} | "
                f"{r['bandwidth_gb_s']:.1f} | {r['roofline_s'] * 1e3:.3f} | "
                f"{r['kernel_over_roofline']:.2f} | {r['kernel_over_one_pass_bound']:.2f} |"
            )

    lines += ["", "### Iterations to converge on the More-Garbow-Hillstrom problems", "",
              "Both solvers with their default options from the standard starting points; "
              "\"reached\" means within max(1e-8, 1e-6 |f*|) of the reference minimum.", ""]
    summary = result["mgh"]["summary"]
    lines.append(f"SciPy reached f* on {summary['scipy_reached']} of {summary['problems']} cases.")
    if "fastopt_reached" in summary:
        lines.append(f"fastopt reached f* on {summary['fastopt_reached']} of "
                     f"{summary['problems']} cases.")
        if "median_nit_ratio" in summary:
            lines.append(f"On the {summary['both_reached']} cases both reached: fastopt / SciPy "
                         f"iterations, median {summary['median_nit_ratio']:.2f}, total "
                         f"{summary['total_nit_ratio']:.2f}.")
    else:
        lines.append(f"fastopt: unavailable ({summary['fastopt']}).")
    lines += ["", "| problem | SciPy nit | SciPy f | fastopt nit | fastopt f |",
              "|---|---:|---:|---:|---:|"]
    for row in result["mgh"]["rows"]:
        cells = [row["id"]]
        for name in ("scipy", "fastopt"):
            entry = row.get(name)
            if entry is None:
                cells += ["n/a", "n/a"]
            else:
                mark = "" if entry["reached"] else " (short)"
                cells += [str(entry["nit"]), f"{entry['fun']:.6g}{mark}"]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append(END)
    return "\n".join(lines) + "\n"


def replace_section(path: Path, section: str) -> None:
    """Write ``section`` between the markers in ``path``, keeping every other section."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + section.rstrip("\n") + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section
    write_atomically(path, text)


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def environment() -> dict:
    try:
        import torch

        torch_version = torch.__version__
        torch_threads = torch.get_num_threads()
    except ImportError:
        torch_version, torch_threads = "not installed", None
    try:
        import fastopt

        threads = fastopt.get_num_threads()
    except ImportError:
        threads = None
    return {
        "machine": f"{platform.processor() or platform.machine()} {platform.system()}",
        "cpus": os.cpu_count(), "threads": threads, "torch_threads": torch_threads,
        "python": platform.python_version(), "numpy": np.__version__,
        "scipy": scipy.__version__, "torch": torch_version,
        "date": time.strftime("%Y-%m-%d"),
        # Other work on the machine inflates every column; the table shows this with the numbers.
        "load_average_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="n = 1e5 only, 5 iterations, 2 repeats: a check that it runs")
    parser.add_argument("--sizes", type=float, nargs="+", default=None,
                        help="problem sizes n (default 1e5 1e6 1e7)")
    parser.add_argument("--iterations", type=int, default=None,
                        help="iterations per timed run (default 20)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed runs per case; the median is reported (default 3)")
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks/results/lbfgs.json",
                        help="where to write the raw results")
    parser.add_argument("--markdown", type=Path, default=REPO / "docs/benchmarks.md",
                        help="Markdown file whose L-BFGS section is replaced")
    args = parser.parse_args(argv)

    sizes = [int(s) for s in (args.sizes or ([1e5] if args.quick else [1e5, 1e6, 1e7]))]
    iterations = args.iterations or (5 if args.quick else 20)
    repeats = args.repeats or (2 if args.quick else 3)
    dtypes = (np.float64, np.float32)

    reasons = availability()
    for name, reason in reasons.items():
        if reason is not None:
            print(f"{name}: unavailable ({reason})", flush=True)
    result = {
        "quick": args.quick, "sizes": sizes, "iterations": iterations, "repeats": repeats,
        "history_size": HISTORY, "environment": environment(),
        "overhead": measure_overhead(sizes, dtypes, iterations, repeats, reasons),
        "kernel": measure_kernel(sizes, dtypes, max(repeats, 9)),
        "mgh": measure_mgh(reasons),
    }
    write_atomically(args.json, json.dumps(result, indent=1) + "\n")
    replace_section(args.markdown, markdown(result))
    print(f"wrote {args.json} and the L-BFGS section of {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
