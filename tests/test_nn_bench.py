"""The dropout and augmentation benchmark runs end to end on a tiny workload (it times nothing here)."""

import json
import sys
from pathlib import Path

import pytest

pytest.importorskip("sklearn")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import bench_nn  # noqa: E402


def test_bench_nn_small_run(tmp_path):
    output, docs = tmp_path / "nn.json", tmp_path / "benchmarks.md"
    result = bench_nn.main(["--size", "70000", "--images", "4", "--repeats", "1", "--warmup", "0",
                            "--output", str(output), "--docs", str(docs)])
    assert json.loads(output.read_text())["dropout"]["elements"] == 70000
    assert bench_nn.BEGIN in docs.read_text()
    assert result["run"]["command"].startswith("python benchmarks/bench_nn.py --size 70000")
    assert set(result["dropout"]["median_s"]) >= {"fastopt", "fastopt_regenerate", "roofline"}
    assert result["dropout"]["fastopt_of_roofline"] > 0
    assert result["dropout"]["fastopt_regenerate_of_roofline"] > 0
    moved = result["dropout"]["bytes_moved"]
    # The packed mask is written once and read once: ceil(70000 / 8) bytes each time.
    assert moved["fastopt"] - moved["roofline"] == 2 * 8750
    assert moved["fastopt_regenerate"] == moved["roofline"]
    assert "fastopt" in result["augmentation"]["images_per_s"]


def test_pillow_pipeline_matches_fastopt_geometry():
    pytest.importorskip("PIL")
    batch = bench_nn.load_batch(2)
    steps = bench_nn.augmentation_steps(batch)
    ours = steps["fastopt"]()
    theirs = steps["pillow"]()
    assert ours.shape == theirs.shape
    # The two pipelines differ in edge handling and rounding, not in what they compute.
    assert abs(float(ours.mean()) - float(theirs.mean())) < 0.05
