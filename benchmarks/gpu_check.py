"""Run the GPU tests and the GPU benchmarks; write report.md and report.json to a directory.

    python benchmarks/gpu_check.py OUTDIR [--quick]

Sized to finish within about 5 minutes on one H200. The fused step's time is
reported as a fraction of a device-to-device copy of the same number of
bytes, timed in the same run (1.0 means the step moves its bytes as fast as
cudaMemcpy does), and against torch's fused=True and foreach optimizers when
torch with CUDA is installed. Timings are medians of repeated runs with CUDA
events on CuPy's current stream, the implementations interleaved.

Without a CUDA device, CuPy or fastopt's CUDA module, the script exits with
status 2 and a message naming the missing piece.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _workloads import num_elements, transformer_shapes  # noqa: E402

#: Flat sizes of the throughput table, in elements.
FLAT_SIZES = (10**6, 10**7, 10**8, 10**9)

#: Bytes each rule moves per element in float32: reads and writes of p, g and state.
BYTES_PER_ELEMENT = {"adam": 4 * (4 + 3), "adamw": 4 * (4 + 3), "sgd": 4 * (3 + 2)}


def fail(message: str) -> None:
    print(f"gpu_check: {message}", file=sys.stderr)
    sys.exit(2)


def require_gpu():
    """Return cupy with a usable device and fastopt's CUDA module, or exit with status 2."""
    try:
        import cupy
    except ImportError as exc:
        fail(f"CuPy is not installed ({exc}); install cupy-cuda13x")
    from fastopt import _gpu

    try:
        _gpu.cuda_module()
    except RuntimeError as exc:
        fail(str(exc))
    return cupy


def torch_cuda():
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


# -- timing -------------------------------------------------------------------


def time_ms(cupy, fn, repeats: int, warmup: int = 2) -> list[float]:
    """Return the device time of each of ``repeats`` calls of ``fn``, in milliseconds."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start, stop = cupy.cuda.Event(), cupy.cuda.Event()
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        samples.append(cupy.cuda.get_elapsed_time(start, stop))
    return samples


def interleaved(cupy, candidates: dict, repeats: int, rounds: int = 3) -> dict[str, list[float]]:
    """Time each candidate ``rounds`` times in turn; return all samples per candidate."""
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, fn in candidates.items():
            samples[name] += time_ms(cupy, fn, max(1, repeats // rounds))
    return samples


# -- workloads ----------------------------------------------------------------


def make_fastopt(cupy, rule: str, shapes):
    import fastopt

    params = [cupy.random.standard_normal(s, dtype=cupy.float32) for s in shapes]
    grads = [cupy.random.standard_normal(s, dtype=cupy.float32) for s in shapes]
    if rule == "sgd":
        opt = fastopt.optim.SGD(params, lr=1e-3, momentum=0.9)
    elif rule == "adamw":
        opt = fastopt.optim.AdamW(params, lr=1e-3)
    else:
        opt = fastopt.optim.Adam(params, lr=1e-3)
    return lambda: opt.step(grads), (params, grads, opt)


def make_torch(torch, rule: str, shapes, mode: str):
    params = [torch.randn(s, device="cuda", requires_grad=True) for s in shapes]
    for p in params:
        p.grad = torch.randn_like(p)
    kwargs = {"fused": True} if mode == "fused" else {"foreach": True}
    if rule == "sgd":
        opt = torch.optim.SGD(params, lr=1e-3, momentum=0.9, **kwargs)
    elif rule == "adamw":
        opt = torch.optim.AdamW(params, lr=1e-3, **kwargs)
    else:
        opt = torch.optim.Adam(params, lr=1e-3, **kwargs)
    return opt.step, (params, opt)


def make_copy(cupy, nbytes: int):
    """Return a device-to-device copy that reads and writes ``nbytes`` in total, and its buffers."""
    half = max(nbytes // 2, 1)
    src = cupy.empty(half, dtype=cupy.uint8)
    dst = cupy.empty_like(src)
    return lambda: cupy.copyto(dst, src), (src, dst)


def bench_throughput(cupy, torch, rule: str, scenario: str, shapes, repeats: int) -> dict:
    """Time one step of ``rule`` over ``shapes`` against a copy of the same bytes and torch."""
    n = num_elements(shapes)
    nbytes = BYTES_PER_ELEMENT[rule] * n
    candidates, keep = {}, []
    step, objects = make_fastopt(cupy, rule, shapes)
    candidates["fastopt"] = step
    keep.append(objects)
    copy, objects = make_copy(cupy, nbytes)
    candidates["copy"] = copy
    keep.append(objects)
    if torch is not None:
        for mode in ("fused", "foreach"):
            step, objects = make_torch(torch, rule, shapes, mode)
            candidates[f"torch_{mode}"] = step
            keep.append(objects)
    samples = interleaved(cupy, candidates, repeats)
    median = {name: statistics.median(s) for name, s in samples.items()}
    record = {
        "rule": rule, "scenario": scenario, "elements": n, "tensors": len(shapes), "bytes": nbytes,
        "median_ms": median, "samples_ms": samples,
        "fraction_of_copy": median["copy"] / median["fastopt"],
        "gb_per_s": {name: nbytes / (ms * 1e-3) / 1e9 for name, ms in median.items()},
    }
    for mode in ("fused", "foreach"):
        if f"torch_{mode}" in median:
            record[f"speedup_vs_torch_{mode}"] = median[f"torch_{mode}"] / median["fastopt"]
    del keep
    cupy.get_default_memory_pool().free_all_blocks()
    if torch is not None:
        torch.cuda.empty_cache()
    return record


def launches_by_construction(num_tensors_by_dtype: list[int], *, prepass: bool, lamb: bool = False) -> int:
    """Kernel launches of one class step, from the launch rules of fastopt._cuda.

    One update launch per MAX_TENSORS_PER_LAUNCH tensors of a dtype (two for
    LAMB), plus as many gradient-statistics launches when clipping or the
    non-finite check is on.
    """
    from fastopt import _cuda

    per_pass = sum(math.ceil(n / _cuda.MAX_TENSORS_PER_LAUNCH) for n in num_tensors_by_dtype if n)
    update = 2 * per_pass if lamb else per_pass
    statistics_launches = per_pass if prepass else 0
    return update + statistics_launches


def count_launches(torch, fn) -> int | None:
    """Count the CUDA kernels that ``fn`` launches, with torch.profiler (CUPTI); None without torch."""
    if torch is None:
        return None
    from torch.profiler import ProfilerActivity, profile

    fn()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        fn()
        torch.cuda.synchronize()
    kernels = [e for e in prof.events() if e.device_type.name == "CUDA" and "memcpy" not in e.name.lower()
               and "memset" not in e.name.lower()]
    return len(kernels)


def bench_launches(cupy, torch) -> list[dict]:
    shapes = transformer_shapes()
    records = []
    for label, kwargs in (("plain", {}), ("clip+scale", {"max_grad_norm": 1.0, "grad_scale": 1024.0})):
        _, (_, grads, opt) = make_fastopt(cupy, "adam", shapes)
        records.append({
            "rule": "adam", "options": label, "tensors": len(shapes),
            "by_construction": launches_by_construction([len(shapes)], prepass=bool(kwargs)),
            "measured": count_launches(torch, lambda: opt.step(grads, **kwargs)),
        })
    return records


# -- hooks for the solvers ----------------------------------------------------


def bench_lbfgs(cupy, torch) -> list[dict]:
    """Timings of L-BFGS on CuPy vectors.

    TODO: the GPU L-BFGS is not written yet. Its timings (against the CPU
    L-BFGS and a copy of the same bytes) go here, and the report lists them.
    """
    return []


def bench_logistic_regression(cupy, torch) -> list[dict]:
    """Timings of logistic-regression loss and gradient on cupyx sparse CSR and dense data.

    TODO: the GPU GLM kernels are not written yet; add their timings here.
    """
    return []


# -- tests and report -----------------------------------------------------------


def run_tests(outdir: Path, timeout: int) -> dict:
    tests = sorted(str(p) for p in (ROOT / "tests").glob("test_gpu_*.py"))
    junit = outdir / "gpu_tests.xml"
    start = time.time()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}", *tests],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout,
    )
    tail = (proc.stdout + proc.stderr).strip().splitlines()
    return {"returncode": proc.returncode, "seconds": time.time() - start, "summary": tail[-1] if tail else "",
            "output_tail": "\n".join(tail[-40:])}


def device_description(cupy, torch) -> dict:
    props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
    return {
        "gpu": props["name"].decode() if isinstance(props["name"], bytes) else props["name"],
        "memory_gib": props["totalGlobalMem"] / 2**30,
        "cuda_runtime": cupy.cuda.runtime.runtimeGetVersion(),
        "cuda_driver": cupy.cuda.runtime.driverGetVersion(),
        "cupy": cupy.__version__,
        "torch": None if torch is None else torch.__version__,
        "python": platform.python_version(),
    }


def write_markdown(result: dict, path: Path) -> None:
    lines = ["# fastopt GPU check", "", f"Device: {result['device']['gpu']}, CUDA runtime "
             f"{result['device']['cuda_runtime']}, CuPy {result['device']['cupy']}, torch {result['device']['torch']}.",
             "", f"Tests: {result['tests']['summary']} (exit status {result['tests']['returncode']}).", "",
             "## Fused step throughput (float32)", "",
             "`copy` is a device-to-device copy of the same bytes in the same run; the fraction is "
             "copy time / step time. Medians of interleaved runs.", "",
             "| rule | scenario | elements | tensors | fastopt ms | fraction of copy | vs torch fused | vs torch foreach |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in result["throughput"]:
        lines.append(
            f"| {r['rule']} | {r['scenario']} | {r['elements']:.3g} | {r['tensors']} | {r['median_ms']['fastopt']:.3f} "
            f"| {r['fraction_of_copy']:.2f} | {r.get('speedup_vs_torch_fused', float('nan')):.2f}x "
            f"| {r.get('speedup_vs_torch_foreach', float('nan')):.2f}x |"
        )
    lines += ["", "## Kernel launches per step (Adam, transformer-like list)", "",
              "| options | tensors | by construction | measured (torch.profiler) |", "|---|---:|---:|---:|"]
    for r in result["launches"]:
        lines.append(f"| {r['options']} | {r['tensors']} | {r['by_construction']} | {r['measured']} |")
    for title, key in (("L-BFGS", "lbfgs"), ("Logistic regression", "logistic_regression")):
        lines += ["", f"## {title}", ""]
        lines += [f"- {json.dumps(r)}" for r in result[key]] or ["Not measured yet: no GPU implementation."]
    path.write_text("\n".join(lines) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path, help="directory for report.md, report.json and the test log")
    parser.add_argument("--quick", action="store_true", help="sizes up to 1e7 and fewer repeats (a smoke run)")
    parser.add_argument("--skip-tests", action="store_true", help="run the benchmarks only")
    args = parser.parse_args(argv)
    cupy = require_gpu()
    torch = torch_cuda()
    args.outdir.mkdir(parents=True, exist_ok=True)

    result = {"device": device_description(cupy, torch)}
    result["tests"] = (
        {"returncode": None, "seconds": 0.0, "summary": "skipped (--skip-tests)", "output_tail": ""}
        if args.skip_tests else run_tests(args.outdir, timeout=150)
    )
    sizes = FLAT_SIZES[:2] if args.quick else FLAT_SIZES
    throughput = []
    for rule in ("adam", "sgd"):
        for n in sizes:
            repeats = 30 if n <= 10**7 else 9
            throughput.append(bench_throughput(cupy, torch, rule, "flat", [(n,)], repeats))
        throughput.append(bench_throughput(cupy, torch, rule, "transformer", transformer_shapes(), 30))
    result["throughput"] = throughput
    result["launches"] = bench_launches(cupy, torch)
    result["lbfgs"] = bench_lbfgs(cupy, torch)
    result["logistic_regression"] = bench_logistic_regression(cupy, torch)

    (args.outdir / "report.json").write_text(json.dumps(result, indent=1) + "\n")
    write_markdown(result, args.outdir / "report.md")
    print((args.outdir / "report.md").read_text())
    return 0 if result["tests"]["returncode"] in (0, None) else 1


if __name__ == "__main__":
    sys.exit(main())
