"""Checks of the optimizer benchmark's helpers: references, report writer and an end-to-end run.

These verify that the benchmark measures correct implementations and writes
its outputs; they time nothing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import _report  # noqa: E402
import bench_optim  # noqa: E402
from _numpy_ref import NumpyAdam, NumpySGD  # noqa: E402
from _workloads import num_elements, transformer_shapes  # noqa: E402

SHAPES = [(7, 5), (33,), (3, 4, 2)]


def _run_pair(numpy_opt_factory, torch_factory, steps=5):
    rng = np.random.default_rng(1)
    initial = [rng.standard_normal(s) for s in SHAPES]
    grads = [[rng.standard_normal(s) for s in SHAPES] for _ in range(steps)]
    ours = [p.copy() for p in initial]
    theirs = [torch.from_numpy(p.copy()) for p in initial]
    opt_np = numpy_opt_factory(ours)
    opt_torch = torch_factory(theirs)
    for step_grads in grads:
        for p, g in zip(theirs, step_grads):
            p.grad = torch.from_numpy(g)
        opt_torch.step()
        opt_np.step(step_grads)
    return ours, [p.numpy() for p in theirs]


@pytest.mark.parametrize("weight_decay, decoupled", [(0.0, False), (0.1, False), (0.1, True)])
def test_numpy_adam_matches_torch(weight_decay, decoupled):
    torch_class = torch.optim.AdamW if decoupled else torch.optim.Adam
    ours, theirs = _run_pair(
        lambda ps: NumpyAdam(ps, lr=1e-2, weight_decay=weight_decay, decoupled=decoupled),
        lambda ps: torch_class(ps, lr=1e-2, weight_decay=weight_decay, foreach=False),
    )
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_numpy_sgd_matches_torch():
    ours, theirs = _run_pair(
        lambda ps: NumpySGD(ps, lr=1e-2, momentum=0.9),
        lambda ps: torch.optim.SGD(ps, lr=1e-2, momentum=0.9, foreach=False),
    )
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_transformer_shapes_size():
    shapes = transformer_shapes()
    assert len(shapes) == 148
    assert 25_000_000 < num_elements(shapes) < 35_000_000


def test_markdown_keeps_other_sections():
    page = "# Benchmarks\n\nintro\n\n<!-- other -->\nother benchmark\n<!-- /other -->\n"
    first = _report.replace_section(page, f"{_report.BEGIN}\nfirst\n{_report.END}\n")
    second = _report.replace_section(first, f"{_report.BEGIN}\nsecond\n{_report.END}\n")
    assert second.startswith(page.rstrip("\n"))
    assert "second" in second
    assert "first" not in second
    assert second.count(_report.BEGIN) == 1
    assert second.count(_report.END) == 1


def test_markdown_section_followed_by_text():
    page = f"# Benchmarks\n\n{_report.BEGIN}\nold\n{_report.END}\n\n## Later section\n"
    updated = _report.replace_section(page, f"{_report.BEGIN}\nnew\n{_report.END}\n")
    assert updated == f"# Benchmarks\n\n{_report.BEGIN}\nnew\n{_report.END}\n\n## Later section\n"


def test_benchmark_end_to_end(tmp_path):
    args = ["--sizes", "2e3", "--scenarios", "flat", "--rules", "adam,sgd", "--repeats", "2",
            "--warmup", "1", "--min-sample-elements", "1", "--output-dir", str(tmp_path)]
    assert bench_optim.main(args) == 0
    result = json.loads((tmp_path / "benchmarks" / "results" / "optim.json").read_text())
    adam = [r for r in result["records"] if r["rule"] == "adam"]
    assert len(adam) == 1
    assert set(adam[0]["median_s"]) == set(bench_optim.IMPLEMENTATIONS)
    assert adam[0]["check"]["within_tolerance"]["torch_fused"]
    assert adam[0]["ratios"]["fastopt_of_roofline"] > 0
    page = (tmp_path / "docs" / "benchmarks.md").read_text()
    assert "### One flat tensor" in page
    assert (tmp_path / "docs" / "img" / "optim_throughput.png").stat().st_size > 0


def test_goals_judged_on_medians():
    args = bench_optim.parse_args(["--rules", "adam,sgd"])
    ratios = {"fastopt_of_roofline": 0.95, "fastopt_vs_torch_fused": 1.2, "fastopt_vs_torch_foreach": 4.0}
    fastest = {"fastopt_of_roofline": 0.97, "fastopt_vs_torch_fused": 1.3, "fastopt_vs_torch_foreach": 6.0}
    records = [
        {"scenario": "flat", "rule": "adam", "elements": 10**7, "ratios": ratios, "ratios_of_min": fastest},
        {"scenario": "flat", "rule": "adam", "elements": 10**4,
         "ratios": {"fastopt_of_roofline": 0.1}, "ratios_of_min": {"fastopt_of_roofline": 0.1}},
    ]
    rules = [bench_optim.RULES["adam"], bench_optim.RULES["sgd"]]
    goals = bench_optim.evaluate_goals(records, args, rules, {"sgd": "missing"})
    status = {(g["goal"].split(",")[0], g["rule"]): g for g in goals}
    roofline = status[("fastopt >= 90% of roofline", "adam")]
    assert roofline["status"] == "met"
    assert roofline["worst"] == 0.95
    assert roofline["worst_of_min"] == 0.97
    assert status[("fastopt >= 5x torch foreach", "adam")]["status"] == "not met"
    assert status[("fastopt >= 1.5x torch fused", "adam")]["status"] == "not measured"
    assert status[("fastopt >= 90% of roofline", "sgd")]["status"] == "unavailable"
