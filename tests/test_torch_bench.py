"""Checks of benchmarks/bench_torch.py: the model shapes, the result check and the report; no timing."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import bench_torch  # noqa: E402
from _workloads import num_elements  # noqa: E402


def test_resnet50_shapes_match_published_count():
    shapes = bench_torch.resnet50_shapes()
    # torchvision.models.resnet50() has 161 parameter tensors and 25,557,032 parameters.
    assert len(shapes) == 161
    assert num_elements(shapes) == 25_557_032


def test_gpt2_small_shapes_match_published_count():
    shapes = bench_torch.gpt2_small_shapes()
    # GPT-2 small with the output projection tied to the token embedding.
    assert len(shapes) == 148
    assert num_elements(shapes) == 124_439_808


@pytest.mark.parametrize("rule", ["adam", "adamw", "sgd"])
def test_measure_and_report(rule):
    args = argparse.Namespace(warmup=1, repeats=2)
    record = bench_torch.measure("resnet50", bench_torch.RULES[rule], [(7, 5), (33,), (2, 3, 4)], args)
    assert set(record["median_s"]) == set(bench_torch.IMPLEMENTATIONS)
    assert record["check"]["within_tolerance"]["torch_fused"]
    assert record["check"]["within_tolerance"]["torch_foreach"]
    result = {
        "date": "today", "command": "python benchmarks/bench_torch.py", "note": "",
        "machine": {"cpu": "cpu", "threads": 2, "isa": "baseline", "torch": torch.__version__},
        "load_average": {"start": 0.5, "end": 0.6}, "repeats": 2, "warmup": 1,
        "records": [record], "goals": bench_torch.evaluate_goals([record]),
    }
    text = bench_torch.markdown(result)
    assert text.startswith(bench_torch.BEGIN)
    assert text.rstrip().endswith(bench_torch.END)
    assert "| ResNet-50 |" in text
