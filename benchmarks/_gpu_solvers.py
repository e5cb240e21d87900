"""GPU benchmarks of the L-BFGS kernel and of the logistic solvers, called by gpu_check.py.

Both functions append rows to a ``report`` dict and return it; they never print. On a
machine without a CUDA device (or without CuPy or fastopt._cuda) they record the reason
under ``report["skipped"]`` and add no rows. The dict looks like this::

    {
      "lbfgs_kernel": [       # one row per (n, dtype): the two-loop kernel vs its roofline
        {"n": 10_000_000, "dtype": "float32", "history": 10,
         "kernel_s": ...,     # median time of GPULBFGSState.direction (CUDA events)
         "bytes": ...,        # bytes the two passes move: (4 m + 3) n elements
         "copy_bandwidth": ...,  # bytes/s of a device-to-device copy in the same run
         "roofline_s": ...,   # bytes / copy_bandwidth
         "kernel_over_roofline": ...},
      "lbfgs_overhead": [     # per-iteration time outside the objective, on the GPU
        {"n": ..., "dtype": ..., "iterations": ...,
         "fastopt_s": ...,    # median seconds per iteration, fastopt.minimize on CuPy
         "torch_s": ... or None,   # torch.optim.LBFGS on CUDA, None without torch+CUDA
         "fastopt_over_torch": ... or None},
      "logistic": [           # time to 1e-6 relative suboptimality, GPU against CPU
        {"dataset": "a9a", "penalty": "l2", "solver": "lbfgs", "alpha": ...,
         "objective_star": ...,   # reference optimum (CPU solver at tol 1e-10)
         "gpu_s": ..., "cpu_s": ...,   # medians; None when the target was not reached
         "gpu_iterations": ..., "cpu_iterations": ...,
         "cpu_over_gpu": ...}],
      "skipped": {"lbfgs": "reason", "logistic/news20": "reason", ...},
    }

Times are medians over ``repeats`` runs, and the runs compared in one row are interleaved.
The time spent computing the suboptimality in the logistic callback is measured and
subtracted on both devices.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

import numpy as np

KERNEL_SIZES = (1_000_000, 10_000_000)
OVERHEAD_SIZES = (100_000, 10_000_000)
HISTORY = 10
DATASETS = ("a9a", "w8a", "news20")
TARGET_SUBOPTIMALITY = 1e-6


def _gpu_or_reason():
    """Return (cupy, None) when the GPU path can run, else (None, reason)."""
    try:
        import cupy
    except ImportError as exc:
        return None, f"CuPy is not installed ({exc})"
    try:
        from fastopt import _gpu

        _gpu.cuda_module()
    except RuntimeError as exc:
        return None, str(exc)
    return cupy, None


def _event_seconds(cupy, function, repeats: int) -> list[float]:
    """Return the GPU time of each of ``repeats`` calls, from CUDA events on the current stream."""
    times = []
    for _ in range(repeats):
        start, stop = cupy.cuda.Event(), cupy.cuda.Event()
        start.record()
        function()
        stop.record()
        stop.synchronize()
        times.append(cupy.cuda.get_elapsed_time(start, stop) / 1e3)
    return times


def run_lbfgs_benchmark(report: dict, *, repeats: int = 20, iterations: int = 50) -> dict:
    """Append the two-loop kernel roofline rows and the per-iteration overhead rows."""
    report.setdefault("lbfgs_kernel", [])
    report.setdefault("lbfgs_overhead", [])
    report.setdefault("skipped", {})
    cupy, reason = _gpu_or_reason()
    if cupy is None:
        report["skipped"]["lbfgs"] = reason
        return report
    from fastopt.minimize import GPULBFGSState

    for n in KERNEL_SIZES:
        for dtype in (np.float32, np.float64):
            report["lbfgs_kernel"].append(_kernel_row(cupy, GPULBFGSState, n, dtype, repeats))
    for n in OVERHEAD_SIZES:
        for dtype in (np.float32, np.float64):
            report["lbfgs_overhead"].append(_overhead_row(cupy, n, dtype, iterations, repeats))
    return report


def _kernel_row(cupy, state_type, n, dtype, repeats) -> dict:
    rng = cupy.random.default_rng(0)
    state = state_type(n, HISTORY, dtype)
    x = rng.standard_normal(n).astype(dtype)
    g = rng.standard_normal(n).astype(dtype)
    for _ in range(HISTORY):
        step = rng.standard_normal(n).astype(dtype)
        state.add_pair(x + step, x, g + 2 * step, g)
        x, g = x + step, g + 2 * step
    state.direction(g, cupy.empty(n, dtype))  # fills the new column once
    d = cupy.empty(n, dtype)
    source = cupy.empty(n * 4, dtype)
    target = cupy.empty_like(source)
    kernel, copy = [], []
    for _ in range(repeats):  # interleaved
        kernel += _event_seconds(cupy, lambda: state.direction(g, d), 1)
        copy += _event_seconds(cupy, lambda: cupy.copyto(target, source), 1)
    itemsize = np.dtype(dtype).itemsize
    moved = (4 * HISTORY + 3) * n * itemsize
    bandwidth = 2 * source.nbytes / statistics.median(copy)
    roofline = moved / bandwidth
    kernel_s = statistics.median(kernel)
    return {"n": n, "dtype": np.dtype(dtype).name, "history": HISTORY, "kernel_s": kernel_s,
            "bytes": moved, "copy_bandwidth": bandwidth, "roofline_s": roofline,
            "kernel_over_roofline": kernel_s / roofline}


def _overhead_row(cupy, n, dtype, iterations, repeats) -> dict:
    import fastopt

    curvature = cupy.logspace(0, 4, n).astype(dtype)

    def fun(x):
        r = x - 1
        return 0.5 * (curvature * r * r).sum(dtype=np.float64), curvature * r

    x0 = cupy.zeros(n, dtype)
    options = {"gtol": 0.0, "ftol": 0.0, "maxiter": iterations, "history_size": HISTORY}

    def per_iteration_fastopt():
        calls = [0]

        def counted(x):
            calls[0] += 1
            return fun(x)

        cupy.cuda.get_current_stream().synchronize()
        start = time.perf_counter()
        result = fastopt.minimize(counted, x0, jac=True, options=options)
        cupy.cuda.get_current_stream().synchronize()
        total = time.perf_counter() - start
        return (total - calls[0] * fun_seconds) / max(result.nit, 1)

    fun_seconds = statistics.median(_event_seconds(cupy, lambda: fun(x0), repeats))
    torch_run = _torch_lbfgs(n, dtype, iterations)
    fastopt_times, torch_times = [], []
    for _ in range(max(repeats // 4, 3)):  # interleaved
        fastopt_times.append(per_iteration_fastopt())
        if torch_run is not None:
            torch_times.append(torch_run())
    fastopt_s = statistics.median(fastopt_times)
    torch_s = statistics.median(torch_times) if torch_times else None
    return {"n": n, "dtype": np.dtype(dtype).name, "iterations": iterations,
            "fastopt_s": fastopt_s, "torch_s": torch_s,
            "fastopt_over_torch": fastopt_s / torch_s if torch_s else None}


def _torch_lbfgs(n, dtype, iterations):
    """Return a function timing torch.optim.LBFGS per iteration on CUDA, or None."""
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    torch_dtype = torch.float32 if dtype == np.float32 else torch.float64
    curvature = torch.logspace(0, 4, n, dtype=torch_dtype, device="cuda")

    def run() -> float:
        x = torch.zeros(n, dtype=torch_dtype, device="cuda", requires_grad=True)
        optimizer = torch.optim.LBFGS([x], lr=1, max_iter=iterations, history_size=HISTORY,
                                      tolerance_grad=0.0, tolerance_change=0.0,
                                      line_search_fn="strong_wolfe")
        inside = [0.0]

        def closure():
            torch.cuda.synchronize()
            start = time.perf_counter()
            optimizer.zero_grad()
            r = x - 1
            loss = 0.5 * (curvature * r * r).sum()
            loss.backward()
            torch.cuda.synchronize()
            inside[0] += time.perf_counter() - start
            return loss

        torch.cuda.synchronize()
        start = time.perf_counter()
        optimizer.step(closure)
        torch.cuda.synchronize()
        total = time.perf_counter() - start
        steps = optimizer.state[optimizer._params[0]]["n_iter"]
        return (total - inside[0]) / max(steps, 1)

    return run


# ---------------------------------------------------------------- logistic regression


def run_logistic_benchmark(report: dict, data_dir, *, repeats: int = 3) -> dict:
    """Append one row per (dataset, penalty): time to 1e-6 relative suboptimality."""
    report.setdefault("logistic", [])
    report.setdefault("skipped", {})
    cupy, reason = _gpu_or_reason()
    if cupy is None:
        report["skipped"]["logistic"] = reason
        return report
    data_dir = Path(data_dir if data_dir is not None else os.environ.get("FASTOPT_DATA_DIR", ""))
    for name in DATASETS:
        path = _dataset_path(data_dir, name)
        if path is None:
            report["skipped"][f"logistic/{name}"] = f"{name} not found in {data_dir}"
            continue
        X, y = _load(path)
        for penalty in ("l2", "l1"):
            report["logistic"].append(_logistic_row(cupy, name, X, y, penalty, repeats))
    return report


def _dataset_path(data_dir: Path, name: str) -> Path | None:
    for candidate in (data_dir / name, data_dir / f"{name}.bz2"):
        if candidate.is_file():
            return candidate
    return None


def _load(path: Path):
    from fastopt.datasets import load_svmlight

    X, y = load_svmlight(str(path))[:2]
    y = np.where(y > 0, 1.0, -1.0)
    return X.tocsr(), y


def _logistic_row(cupy, name, X, y, penalty, repeats) -> dict:
    import cupyx.scipy.sparse as csp

    from fastopt.linear_model._gpu_objective import GPUGLMObjective
    from fastopt.linear_model._objective import GLMObjective
    from fastopt.linear_model._quasi_newton import lbfgs, owlqn

    n = X.shape[0]
    alpha = 1.0 / n if penalty == "l2" else 1e-2 / n ** 0.5
    l1_ratio = 0.0 if penalty == "l2" else 1.0
    solver = lbfgs if penalty == "l2" else owlqn
    cpu = GLMObjective(X, y, loss="logistic")
    X_gpu = csp.csr_matrix((cupy.asarray(X.data), cupy.asarray(X.indices),
                            cupy.asarray(X.indptr)), shape=X.shape)
    gpu = GPUGLMObjective(X_gpu, cupy.asarray(y), loss="logistic")
    reference = solver(cpu, alpha=alpha, l1_ratio=l1_ratio, tol=1e-10, max_iter=20000)
    target = reference.objective * (1 + TARGET_SUBOPTIMALITY)

    def timed(objective, synchronize):
        spent = [0.0]
        iterations = [0]
        reached = [False]
        xp = cupy if objective is gpu else np

        def callback(w):
            start = time.perf_counter()
            iterations[0] += 1
            coef = w[: X.shape[1]]
            value = objective.value(w) + alpha * (
                l1_ratio * float(xp.abs(coef).sum())
                + 0.5 * (1 - l1_ratio) * float(coef.dot(coef)))
            reached[0] = value <= target
            spent[0] += time.perf_counter() - start
            return reached[0]

        synchronize()
        start = time.perf_counter()
        solver(objective, alpha=alpha, l1_ratio=l1_ratio, tol=0.0, max_iter=20000,
               callback=callback)
        synchronize()
        seconds = time.perf_counter() - start - spent[0]
        return (seconds if reached[0] else None), iterations[0]

    gpu_runs, cpu_runs = [], []
    for _ in range(repeats):  # interleaved
        gpu_runs.append(timed(gpu, cupy.cuda.get_current_stream().synchronize))
        cpu_runs.append(timed(cpu, lambda: None))
    gpu_s = _median_or_none([t for t, _ in gpu_runs])
    cpu_s = _median_or_none([t for t, _ in cpu_runs])
    return {"dataset": name, "penalty": penalty, "solver": solver.__name__, "alpha": alpha,
            "objective_star": reference.objective, "gpu_s": gpu_s, "cpu_s": cpu_s,
            "gpu_iterations": gpu_runs[-1][1], "cpu_iterations": cpu_runs[-1][1],
            "cpu_over_gpu": cpu_s / gpu_s if gpu_s and cpu_s else None}


def _median_or_none(times):
    if any(t is None for t in times):
        return None
    return statistics.median(times)
