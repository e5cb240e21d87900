"""Benchmark optimizer steps: fastopt against torch.optim, NumPy and the memory roofline.

Each measurement steps the same parameters with every implementation of a rule,
interleaved so that machine noise hits them alike, and times the roofline
kernel (``fastopt._core.roofline``, which moves the bytes of the update with no
arithmetic) in the same rotation. Throughput is reported as elements per second
and as effective bandwidth: the bytes the update must move (each gradient read
once, each parameter and state element read and written once) over the median
step time.

Outputs: a section of docs/benchmarks.md, benchmarks/results/optim.json with
every raw sample, median and ratio, and docs/img/optim_throughput.png.

Usage::

    python benchmarks/bench_optim.py            # full run, float32, 2 threads
    python benchmarks/bench_optim.py --quick    # smoke run up to 1e6 elements
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import gc
import os
import platform
import shlex
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

import fastopt
from fastopt import _core

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _numpy_ref import NumpyAdam, NumpySGD  # noqa: E402
from _report import write_json, write_markdown, write_plot  # noqa: E402
from _sections import parse_choices  # noqa: E402
from _workloads import num_elements, quick_transformer_shapes, transformer_shapes  # noqa: E402

REPO = Path(__file__).resolve().parent.parent

#: Implementation keys in report order. "roofline" is the bandwidth reference, not an optimizer.
IMPLEMENTATIONS = ("fastopt", "torch_fused", "torch_foreach", "torch_forloop", "numpy", "roofline")
TORCH_MODES = {
    "torch_fused": {"fused": True},
    "torch_foreach": {"foreach": True},
    "torch_forloop": {"foreach": False, "fused": False},
}


@dataclasses.dataclass(frozen=True)
class Rule:
    """An update rule and how each implementation constructs it."""

    key: str
    title: str
    fastopt_name: str  # attribute of fastopt.optim
    torch_class: type
    kwargs: dict  # hyperparameters, in torch.optim's names
    make_numpy: Callable[[list[np.ndarray]], object]
    num_states: int  # state arrays per parameter, each read and written once per step

    def bytes_per_element(self, itemsize: int) -> int:
        # The gradient is read once, and the parameter and every state array are read and written once.
        return itemsize * (1 + 2 * (1 + self.num_states))


RULES = {
    "adam": Rule(
        "adam", "Adam", "Adam", torch.optim.Adam, {"lr": 1e-3},
        lambda params: NumpyAdam(params, lr=1e-3), num_states=2,
    ),
    "adamw": Rule(
        "adamw", "AdamW", "AdamW", torch.optim.AdamW, {"lr": 1e-3, "weight_decay": 1e-2},
        lambda params: NumpyAdam(params, lr=1e-3, weight_decay=1e-2, decoupled=True), num_states=2,
    ),
    "sgd": Rule(
        "sgd", "SGD (momentum 0.9)", "SGD", torch.optim.SGD, {"lr": 1e-2, "momentum": 0.9},
        lambda params: NumpySGD(params, lr=1e-2, momentum=0.9), num_states=1,
    ),
}


@dataclasses.dataclass
class Implementation:
    """One optimizer (or the roofline) ready to step: ``step()`` runs one update in place."""

    step: Callable[[], object]
    params: list[np.ndarray]  # the arrays the implementation updates, as NumPy views


class Unavailable(Exception):
    """Raised when this installation cannot run an implementation; the message gives the reason."""


# -- implementations ----------------------------------------------------------------------------


def make_fastopt(rule: Rule, initial: list[np.ndarray], grads: list[np.ndarray]) -> Implementation:
    optimizer_class = getattr(fastopt.optim, rule.fastopt_name, None)
    if optimizer_class is None:
        raise Unavailable(f"fastopt.optim has no {rule.fastopt_name}")
    params = [p.copy() for p in initial]
    optimizer = optimizer_class(params, **rule.kwargs)
    return Implementation(lambda: optimizer.step(grads), params)


def make_torch(mode: str, rule: Rule, initial: list[np.ndarray], grads: list[np.ndarray]) -> Implementation:
    params = [torch.from_numpy(p.copy()) for p in initial]
    for p, g in zip(params, grads):
        p.grad = torch.from_numpy(g)  # shares the gradient memory; torch.optim only reads it here
    try:
        optimizer = rule.torch_class(params, **rule.kwargs, **TORCH_MODES[mode])
    except (RuntimeError, ValueError, TypeError) as error:
        raise Unavailable(f"torch.optim.{rule.torch_class.__name__}({TORCH_MODES[mode]}): {error}") from None
    return Implementation(optimizer.step, [p.numpy() for p in params])


def make_numpy(rule: Rule, initial: list[np.ndarray], grads: list[np.ndarray]) -> Implementation:
    params = [p.copy() for p in initial]
    optimizer = rule.make_numpy(params)
    return Implementation(lambda: optimizer.step(grads), params)


def make_roofline(rule: Rule, initial: list[np.ndarray], grads: list[np.ndarray]) -> Implementation:
    # Buffers of the update's shapes: the gradients are read, the parameter and states read and written.
    read_write = [[p.copy() for p in initial] for _ in range(1 + rule.num_states)]
    return Implementation(lambda: _core.roofline([grads], read_write), read_write[0])


def make_implementation(name, rule, initial, grads) -> Implementation:
    if name == "fastopt":
        return make_fastopt(rule, initial, grads)
    if name in TORCH_MODES:
        return make_torch(name, rule, initial, grads)
    if name == "numpy":
        return make_numpy(rule, initial, grads)
    return make_roofline(rule, initial, grads)


def extra_bytes(name: str, rule: Rule, shapes, itemsize: int) -> int:
    """Estimate the memory an implementation allocates for one measurement, in bytes."""
    total = num_elements(shapes) * itemsize
    largest = max(num_elements([s]) for s in shapes) * itemsize
    arrays = (1 + rule.num_states) * total
    if name == "torch_foreach":
        arrays += 2 * total  # intermediate tensor lists of the foreach ops
    elif name == "torch_forloop":
        arrays += 2 * largest  # per-tensor temporaries
    elif name == "numpy":
        arrays += 2 * largest  # scratch buffers
    return arrays


def available_memory_bytes() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 8 << 30


# -- timing -------------------------------------------------------------------------------------


def time_interleaved(impls: dict[str, Implementation], *, warmup: int, repeats: int, inner: int):
    """Return ``{name: [seconds per step, one entry per repeat]}``.

    Every implementation runs the same number of steps. Within each repeat the
    implementations run one after another, ``inner`` steps each, and the
    starting implementation rotates from repeat to repeat so none is always
    first after another's cache footprint.
    """
    names = list(impls)
    for name in names:
        for _ in range(warmup):
            impls[name].step()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            step = impls[name].step
            start = time.perf_counter()
            for _ in range(inner):
                step()
            samples[name].append((time.perf_counter() - start) / inner)
    return samples


def check_results(rule: Rule, finals: dict[str, list[np.ndarray]], steps: int) -> dict:
    """Compare every implementation's parameters with fastopt's after the same ``steps`` steps.

    Implementations that round one operation differently (torch computes
    ``(1 - beta2) * g * g`` left to right, for example) move a parameter to a
    neighbouring float now and then, and with a fixed gradient those
    differences add up over the steps. The tolerance therefore allows one ulp
    of the largest parameter magnitude per step. A wrong formula moves
    parameters by about ``lr`` per step, orders of magnitude more. Asserts that
    torch's fused implementation agrees; the other paths are reported and
    flagged in the output but do not stop the run.
    """
    report = {"steps": steps, "tolerance": None, "max_abs_diff_vs_fastopt": {}, "within_tolerance": {}}
    reference = finals.get("fastopt")
    if reference is None:
        return report
    largest = max(float(np.max(np.abs(p))) for p in reference)
    tolerance = steps * float(np.spacing(reference[0].dtype.type(largest)))
    report["tolerance"] = tolerance
    for name, params in finals.items():
        if name in ("fastopt", "roofline"):
            continue
        diff = max(float(np.max(np.abs(a - b))) for a, b in zip(reference, params))
        report["max_abs_diff_vs_fastopt"][name] = diff
        report["within_tolerance"][name] = diff <= tolerance
        if diff > tolerance:
            print(f"  WARNING: {rule.title} {name} differs from fastopt by up to {diff:.3g} "
                  f"after {steps} steps (tolerance {tolerance:.3g})")
    if "torch_fused" in finals:
        assert report["within_tolerance"]["torch_fused"], (
            f"{rule.title}: fastopt and torch fused parameters differ by up to "
            f"{report['max_abs_diff_vs_fastopt']['torch_fused']:.3g} after {steps} steps "
            f"(tolerance {tolerance:.3g})"
        )
    return report


def speedups(times: dict[str, float]) -> dict[str, float]:
    """Return fastopt's speedup over each comparison and its fraction of the roofline."""
    ratios = {}
    if "fastopt" in times:
        for name in ("torch_fused", "torch_foreach", "torch_forloop", "numpy"):
            if name in times:
                ratios[f"fastopt_vs_{name}"] = times[name] / times["fastopt"]
        ratios["fastopt_of_roofline"] = times["roofline"] / times["fastopt"]
    return ratios


def measure(rule: Rule, shapes, dtype, args, *, scenario: str) -> dict:
    """Time every implementation of ``rule`` on tensors of ``shapes`` and return the record."""
    rng = np.random.default_rng(0)
    initial = [rng.standard_normal(s).astype(dtype) for s in shapes]
    grads = [(1e-2 * rng.standard_normal(s)).astype(dtype) for s in shapes]
    grad_sums = [float(g.sum(dtype=np.float64)) for g in grads]
    elements = num_elements(shapes)
    itemsize = np.dtype(dtype).itemsize
    if args.repeats:
        repeats = args.repeats
    elif args.quick:
        repeats = 3
    else:
        repeats = 10 if elements <= 10**7 else 5
    # Several steps per sample keep small sizes above timer and scheduler noise.
    inner = max(1, int(args.min_sample_elements // elements))

    # Run all implementations interleaved when their buffers fit in memory; otherwise pair
    # each with its own roofline so the comparison stays side by side.
    names = [n for n in IMPLEMENTATIONS if n in args.implementations or n in ("fastopt", "roofline")]
    needed = 2 * elements * itemsize + sum(extra_bytes(n, rule, shapes, itemsize) for n in names)
    budget = args.memory_fraction * available_memory_bytes()
    optimizers = [n for n in names if n != "roofline"]
    groups = [optimizers] if needed <= budget else [[n] for n in optimizers]

    samples: dict[str, list[float]] = {}
    finals: dict[str, list[np.ndarray]] = {}
    unavailable: dict[str, str] = {}
    for group in groups:
        impls = {"roofline": make_roofline(rule, initial, grads)}
        for name in group:
            try:
                impls[name] = make_implementation(name, rule, initial, grads)
            except Unavailable as error:
                unavailable[name] = str(error)
        if len(impls) == 1:
            continue
        got = time_interleaved(impls, warmup=args.warmup, repeats=repeats, inner=inner)
        for name, values in got.items():
            samples.setdefault(name, []).extend(values)
            if name != "roofline":
                finals[name] = impls[name].params
        del impls
        gc.collect()

    assert grad_sums == [float(g.sum(dtype=np.float64)) for g in grads], "an implementation wrote a gradient"
    check = check_results(rule, finals, args.warmup + repeats * inner)

    nbytes = rule.bytes_per_element(itemsize) * elements
    medians = {name: float(np.median(values)) for name, values in samples.items()}
    minimums = {name: float(np.min(values)) for name, values in samples.items()}
    record = {
        "scenario": scenario,
        "rule": rule.key,
        "elements": elements,
        "num_tensors": len(shapes),
        "bytes_per_step": nbytes,
        "repeats": repeats,
        "steps_per_sample": inner,
        "warmup_steps": args.warmup,
        "interleaved": len(groups) == 1,
        "median_s": medians,
        "min_s": minimums,
        "samples_s": samples,
        "elements_per_s": {name: elements / t for name, t in medians.items()},
        "gb_per_s": {name: nbytes / t / 1e9 for name, t in medians.items()},
        "of_roofline": {name: medians["roofline"] / t for name, t in medians.items() if "roofline" in medians},
        "ratios": speedups(medians),
        # The fastest samples are the least disturbed by other processes: a cross-check on a busy machine.
        "ratios_of_min": speedups(minimums),
        "check": check,
        "unavailable": unavailable,
    }
    return record


# -- goals --------------------------------------------------------------------------------------


def evaluate_goals(records: list[dict], args, rules: list[Rule], rule_unavailable: dict) -> list[dict]:
    """Return one entry per (goal, rule) saying whether this run met it."""
    standard = args.dtype == "float32" and args.threads == 2
    goals = [
        ("fastopt >= 90% of roofline, >= 1e7 elements", "fastopt_of_roofline", 0.9,
         lambda r: r["elements"] >= 10**7),
        ("fastopt >= 1.0x torch fused, one tensor >= 1e7 elements", "fastopt_vs_torch_fused", 1.0,
         lambda r: r["scenario"] == "flat" and r["elements"] >= 10**7),
        ("fastopt >= 1.5x torch fused, transformer-like list", "fastopt_vs_torch_fused", 1.5,
         lambda r: r["scenario"] == "transformer" and not args.quick),
        ("fastopt >= 5x torch foreach, >= 1e7 elements", "fastopt_vs_torch_foreach", 5.0,
         lambda r: r["elements"] >= 10**7),
    ]
    out = []
    for text, key, target, selects in goals:
        for rule in rules:
            entry = {"goal": text, "rule": rule.key, "target": target, "worst": None, "worst_of_min": None,
                     "status": "not measured"}
            if rule.key in rule_unavailable:
                entry["status"] = "unavailable"
            elif not standard:
                entry["status"] = "not applicable (goals are for float32 and 2 threads)"
            else:
                chosen = [r for r in records if r["rule"] == rule.key and selects(r) and key in r["ratios"]]
                if chosen:
                    entry["worst"] = min(r["ratios"][key] for r in chosen)
                    entry["worst_of_min"] = min(r["ratios_of_min"][key] for r in chosen)
                    entry["status"] = "met" if entry["worst"] >= target else "not met"
            out.append(entry)
    return out


# -- machine description ------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def describe_machine(args) -> dict:
    return {
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "threads": args.threads,
        "isa": fastopt.active_isa(),
        "openmp": fastopt.openmp_enabled(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "fastopt": fastopt.__version__,
    }


# -- command line -------------------------------------------------------------------------------


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(float(s)) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated element counts such as 1e4,1e6, got {text!r}")
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected positive element counts, got {text!r}")
    return sizes


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: sizes up to 1e6, a 1.1M-element transformer-like list, 3 repeats")
    parser.add_argument("--sizes", type=parse_sizes, default=None,
                        help="element counts of the one-tensor scenario, comma-separated (default 1e4,...,1e8)")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--threads", type=int, default=2, help="threads for fastopt and torch (default 2)")
    parser.add_argument("--rules", default="adam,adamw,sgd", help="comma-separated subset of adam,adamw,sgd")
    parser.add_argument("--scenarios", default="flat,transformer", help="comma-separated subset of flat,transformer")
    parser.add_argument("--implementations", default=",".join(IMPLEMENTATIONS[1:-1]),
                        help="comparisons to run besides fastopt and the roofline (default: all)")
    parser.add_argument("--repeats", type=int, default=0,
                        help="timed samples per implementation (default 10 up to 1e7 elements, else 5; 3 with --quick)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps before timing (default 2)")
    parser.add_argument("--min-sample-elements", type=float, default=2e6,
                        help="steps per sample are chosen so each sample updates at least this many elements")
    parser.add_argument("--memory-fraction", type=float, default=0.5,
                        help="share of available memory that interleaving every implementation may use")
    parser.add_argument("--output-dir", type=Path, default=REPO,
                        help="repository root under which docs/ and benchmarks/results/ are written")
    parser.add_argument("--note", default="",
                        help="sentence added to the Markdown section, e.g. what else ran on the machine")
    parser.add_argument("--no-write", action="store_true", help="print results without writing any file")
    args = parser.parse_args(argv)

    args.rules = parse_choices(parser, "--rules", args.rules, "rule", RULES)
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    for s in args.scenarios:
        if s not in ("flat", "transformer"):
            parser.error(f"--scenarios: unknown scenario {s!r}; expected flat or transformer")
    args.implementations = [s.strip() for s in args.implementations.split(",") if s.strip()]
    for s in args.implementations:
        if s not in IMPLEMENTATIONS[1:-1]:
            parser.error(f"--implementations: unknown {s!r}; expected some of {', '.join(IMPLEMENTATIONS[1:-1])}")
    if args.threads < 1:
        parser.error(f"--threads: expected a positive count, got {args.threads}")
    if args.sizes is None:
        args.sizes = [10**4, 10**5, 10**6] if args.quick else [10**4, 10**5, 10**6, 10**7, 10**8]
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    dtype = np.float32 if args.dtype == "float32" else np.float64
    fastopt.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    machine = describe_machine(args)
    print(f"{machine['cpu']}, {args.threads} threads of {machine['logical_cpus']}, ISA {machine['isa']}, "
          f"{args.dtype}, torch {torch.__version__}")

    rules = [RULES[key] for key in args.rules]
    rule_unavailable = {}
    for rule in rules:
        if getattr(fastopt.optim, rule.fastopt_name, None) is None:
            rule_unavailable[rule.key] = f"fastopt.optim has no {rule.fastopt_name}"
            print(f"{rule.title}: unavailable ({rule_unavailable[rule.key]})")

    workloads = []
    if "flat" in args.scenarios:
        workloads += [("flat", [(n,)]) for n in args.sizes]
    if "transformer" in args.scenarios:
        workloads.append(("transformer", quick_transformer_shapes() if args.quick else transformer_shapes()))

    load_before = os.getloadavg()
    records = []
    for scenario, shapes in workloads:
        for rule in rules:
            if rule.key in rule_unavailable:
                continue
            record = measure(rule, shapes, dtype, args, scenario=scenario)
            records.append(record)
            gbps = record["gb_per_s"]
            print(f"{scenario:>11} {rule.key:>5} n={record['elements']:>10} " + " ".join(
                f"{name}={gbps[name]:.2f}" for name in IMPLEMENTATIONS if name in gbps) + " GB/s  "
                + " ".join(f"{k.replace('fastopt_', '')}={v:.2f}" for k, v in record["ratios"].items()),
                flush=True)

    goals = evaluate_goals(records, args, rules, rule_unavailable)
    print("\nGoals (2 threads, float32, medians):")
    for g in goals:
        worst = ""
        if g["worst"] is not None:
            worst = f" (worst {g['worst']:.2f}; from minimum times {g['worst_of_min']:.2f}; target {g['target']})"
        print(f"  {g['rule']:>5}: {g['goal']}: {g['status'].upper()}{worst}")

    result = {
        "benchmark": "optim",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python " + " ".join(shlex.quote(a) for a in
                                        [os.path.relpath(sys.argv[0], REPO)] + list(sys.argv[1:] if argv is None else argv)),
        "machine": machine,
        # 1-minute load averages. A value above the thread count means other processes competed for the cores.
        "load_average": {"start": load_before[0], "end": os.getloadavg()[0]},
        "note": args.note,
        "dtype": args.dtype,
        "quick": args.quick,
        "hyperparameters": {rule.key: rule.kwargs for rule in rules},
        "bytes_per_element": {rule.key: rule.bytes_per_element(np.dtype(dtype).itemsize) for rule in rules},
        "unavailable_rules": rule_unavailable,
        "records": records,
        "goals": goals,
    }
    if not args.no_write:
        root = args.output_dir
        paths = [write_json(result, root / "benchmarks" / "results" / "optim.json"),
                 write_markdown(result, root / "docs" / "benchmarks.md"),
                 write_plot(result, root / "docs" / "img" / "optim_throughput.png")]
        print("\nWrote " + ", ".join(str(p) for p in paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
