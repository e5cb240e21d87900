"""Checks of benchmarks/bench_dfo.py's evaluation counter and one short run; they time
nothing."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import bench_dfo  # noqa: E402


def test_counter_stops_at_first_hit():
    counter = bench_dfo.Counter(lambda x: x[:, 0], target=0.5, budget=100)
    values = counter(np.array([[3.0], [2.0]]))
    np.testing.assert_array_equal(values, [3.0, 2.0])
    with pytest.raises(bench_dfo.Stop):
        counter(np.array([[4.0], [0.2], [0.1]]))
    assert counter.hit == 4
    assert counter.count == 4


def test_counter_stops_at_budget():
    counter = bench_dfo.Counter(lambda x: x[:, 0], target=-1.0, budget=3)
    assert counter(np.array([1.0])) == 1.0
    with pytest.raises(bench_dfo.Stop):
        counter(np.array([[1.0], [2.0], [3.0]]))
    assert counter.count == 3
    assert counter.hit is None


def test_short_run_records_success():
    run = bench_dfo.run_one("fastopt_ga", "rastrigin", seed=0, budget=100_000)
    assert run["success"]
    assert run["evaluations"] <= 100_000
    assert run["best"] <= 1e-2


def test_markdown_ratio_to_dual_annealing():
    summary = {"success_rate": 1.0, "median_seconds": 0.1}
    result = {"budget": 10, "seeds": 1, "environment": {}, "problems": {"ackley": {
        "fastopt_sa": {"summary": {**summary, "median_evaluations": 300.0}},
        "dual_annealing": {"summary": {**summary, "median_evaluations": 600.0}},
        "pygad": {"summary": {**summary, "success_rate": 0.0, "median_evaluations": None}},
    }}}
    rows = [line for line in bench_dfo.markdown(result).splitlines() if "| ackley" in line]
    assert "| 300 | 0.50 |" in rows[0]
    assert "| 600 | 1.00 |" in rows[1]
    assert "| - | - |" in rows[2]
