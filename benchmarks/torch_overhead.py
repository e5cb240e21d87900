"""Per-step time of fastopt.torch on many tiny tensors, where the update itself costs almost nothing.

With 16 elements per tensor the kernels run in nanoseconds, so the step time
is what the optimizer spends per parameter in Python and in torch calls:
checks, NumPy views, step counts. Runs fastopt.torch and torch.optim (fused
and foreach) interleaved on one thread and prints the median step time of
each, in microseconds, and fastopt's time over torch fused.

Usage: python benchmarks/torch_overhead.py [TENSORS [ELEMENTS [STEPS [REPEATS]]]]
(defaults 161 16 200 5: ResNet-50's tensor count). Compare two checkouts by
running it under each one's installation.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

import fastopt.torch as ft  # noqa: E402

RULES = {
    "Adam": (dict(lr=1e-3), ft.Adam, torch.optim.Adam),
    "AdamW": (dict(lr=1e-3, weight_decay=1e-2), ft.AdamW, torch.optim.AdamW),
    "SGD momentum": (dict(lr=1e-3, momentum=0.9), ft.SGD, torch.optim.SGD),
}


def make_stepper(make, tensors: int, elements: int):
    gen = torch.Generator().manual_seed(0)
    params = [torch.nn.Parameter(torch.randn(elements, generator=gen)) for _ in range(tensors)]
    grads = [torch.randn(elements, generator=gen) for _ in range(tensors)]
    opt = make(params)

    def step():
        # New gradient tensors each step, as after zero_grad(set_to_none=True).
        for p, g in zip(params, grads):
            p.grad = g.clone()
        start = time.perf_counter()
        opt.step()
        return time.perf_counter() - start

    return step


def main(argv: list[str]) -> None:
    tensors, elements, steps, repeats = ([int(a) for a in argv] + [161, 16, 200, 5][len(argv):])[:4]
    torch.set_num_threads(1)
    print(f"{tensors} tensors x {elements} elements, median of {steps} steps x {repeats} repeats, "
          f"1 thread, torch {torch.__version__}")
    for rule, (options, ours, theirs) in RULES.items():
        steppers = {
            "fastopt": make_stepper(lambda ps: ours(ps, **options), tensors, elements),
            "torch_fused": make_stepper(lambda ps: theirs(ps, fused=True, **options), tensors, elements),
            "torch_foreach": make_stepper(lambda ps: theirs(ps, foreach=True, **options), tensors, elements),
        }
        samples: dict[str, list[float]] = {name: [] for name in steppers}
        names = list(steppers)
        for name in names:
            for _ in range(20):
                steppers[name]()
        for r in range(repeats):
            shift = r % len(names)
            for name in names[shift:] + names[:shift]:
                samples[name].extend(steppers[name]() for _ in range(steps))
        medians = {name: statistics.median(v) for name, v in samples.items()}
        cells = "  ".join(f"{name} {t * 1e6:8.1f} us" for name, t in medians.items())
        print(f"{rule:13s} {cells}  fastopt/torch_fused {medians['fastopt'] / medians['torch_fused']:.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
