"""The benchmarks' docs sections render saved records into the expected Markdown.

Each record here is written by hand with round numbers, so every expected cell can be
checked by eye. None of these tests times anything.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import _sections  # noqa: E402
import bench_nn  # noqa: E402
import bench_spark  # noqa: E402
import bench_tune  # noqa: E402

RUN = {
    "date": "2026-01-02 03:04 UTC",
    "command": "python benchmarks/bench_x.py --repeats 3",
    "machine": {"platform": "Linux-x86_64", "cpu_count": 4, "fastopt_threads": 4, "isa": "avx2"},
    "versions": {"Python": "3.11.7", "fastopt": "0.1.0"},
    "load_average": {"start": 0.5, "end": 1.25},
}


def test_render_run_lists_every_field():
    lines = _sections.render_run(RUN)
    assert lines == [
        "- Date: 2026-01-02 03:04 UTC",
        "- Command: `python benchmarks/bench_x.py --repeats 3`",
        "- Machine: Linux-x86_64, 4 logical CPUs, 4 fastopt threads, avx2 kernels",
        "- Versions: Python 3.11.7, fastopt 0.1.0",
        "- 1-minute load average: 0.50 at the start, 1.25 at the end "
        "(above 4 means other processes competed for the cores)",
    ]


def test_render_run_marks_missing_fields():
    lines = _sections.render_run({"machine": {"platform": "Linux"}, "versions": {},
                                  "load_average": {"end": 2.0}, "note": "Old record."})
    assert "- Date: not recorded" in lines
    assert "- Command: not recorded" in lines
    assert "- Versions: not recorded by this run" in lines
    assert "- 1-minute load average: 2.00 at the end" in lines
    assert lines[-1] == "- Note: Old record."


def test_command_line_quotes_arguments():
    command = _sections.command_line("bench_x.py", ["--note", "two words"])
    assert command == "python benchmarks/bench_x.py --note 'two words'"


@pytest.mark.parametrize("value, text", [(1e-4, "1e-4"), (1e-10, "1e-10"), (0.5, "0.5"),
                                         (1.0, "1"), (2e-3, "0.002")])
def test_format_power(value, text):
    assert _sections.format_power(value) == text


TUNE = {
    "run": RUN,
    "problem": "a9a (32561, 123), L2 logistic, 10 alphas, 5 folds",
    "alpha_range": [1e-7, 1e-2],
    "jobs": 2, "repeats": 3, "tol": 1e-6,
    "check": {"max_abs_diff_same_model": 0.0, "max_abs_diff_sklearn_model": 1.5e-4,
              "best_alpha": 4.6e-6, "best_score": 0.85},
    "seconds_median": {"fastopt": 0.5, "sklearn_cv_fastopt": 1.0, "sklearn": 10.0},
    "seconds_min": {"fastopt": 0.4, "sklearn_cv_fastopt": 0.9, "sklearn": 9.5},
}


def test_tune_section_table():
    section = bench_tune.render_section(TUNE)
    assert section.startswith(bench_tune.BEGIN + "\n## Grid search\n")
    assert section.rstrip("\n").endswith(bench_tune.END)
    assert "| fastopt.tune.GridSearch (fastopt LogisticRegression) | 0.500 | 0.400 | 1.00x |" in section
    assert "| GridSearchCV (fastopt LogisticRegression) | 1.000 | 0.900 | 2.00x |" in section
    assert ("| GridSearchCV (scikit-learn LogisticRegression, lbfgs) | 10.000 | 9.500 | 20.00x |"
            in section)
    assert "from 1e-7 to 1e-2" in section
    assert "identical to GridSearchCV" in section
    assert "`python benchmarks/bench_x.py --repeats 3`" in section


def test_tune_section_reports_fold_difference():
    record = json.loads(json.dumps(TUNE))
    record["check"]["max_abs_diff_same_model"] = 2e-7
    assert "within 2e-07 of GridSearchCV" in bench_tune.render_section(record)


NN = {
    "run": RUN,
    "repeats": 7,
    "dropout": {"elements": 1000, "p": 0.1,
                "median_s": {"fastopt": 0.002, "roofline": 0.001, "fastopt_torch": 0.01,
                             "torch": 0.03},
                "gb_per_s": {"fastopt": 8.0, "roofline": 16.0, "fastopt_torch": 1.6, "torch": 0.5},
                "fastopt_of_roofline": 0.5, "torch_over_fastopt": 15.0,
                "torch_over_fastopt_torch": 3.0},
    "augmentation": {"images": 8, "repeats": 3, "median_s": {"fastopt": 0.5, "pillow": 2.0},
                     "images_per_s": {"fastopt": 16.0, "pillow": 4.0}},
    "unavailable": {"torchvision": "ImportError: no module named torchvision"},
}


def test_nn_section_table():
    section = bench_nn.render_section(NN)
    assert section.startswith(bench_nn.BEGIN + "\n## Dropout and image augmentation\n")
    for row in ["| fastopt dropout, GB/s | 8.0 |", "| roofline, GB/s | 16.0 |",
                "| fastopt / roofline | 50% |",
                "| torch `F.dropout` time / fastopt time | 15.0x |",
                "| torch `F.dropout` time / `fastopt.torch.dropout` time (autograd) | 3.00x |",
                "| augmentation, fastopt images/s | 16 |",
                "| augmentation, Pillow images/s | 4 |", "| Pillow time / fastopt time | 4.00x |"]:
        assert row in section
    assert "1,000 float32 elements" in section
    assert "torchvision was not timed: ImportError: no module named torchvision." in section
    assert "is not met: the kernel reaches 50% of it." in section


def test_nn_section_goal_met():
    record = json.loads(json.dumps(NN))
    record["dropout"]["fastopt_of_roofline"] = 0.95
    assert "(90% of the roofline) is met" in bench_nn.render_section(record)


def spark_result(penalty, l1_ratio, mllib, fastopt, tol, **extra):
    result = {"problem": "a9a", "penalty": penalty, "alpha": 1e-4, "l1_ratio": l1_ratio,
              "mllib_objective": 0.3, "mllib_seconds": mllib, "fastopt_tol": tol,
              "fastopt_seconds": fastopt, "ladder": [{"tol": tol, "seconds": 1.0,
                                                      "objective": 0.3}]}
    if tol is not None:
        result["ratio"] = sorted(mllib)[len(mllib) // 2] / sorted(fastopt)[len(fastopt) // 2]
    result.update(extra)
    return result


def test_spark_section_table():
    record = {"run": RUN, "master": "local[2]", "partitions": 2, "repeats": 3, "results": [
        spark_result("l2", 0.0, [8.0, 12.0, 9.0], [3.0, 2.0, 4.0], 1e-4),
        spark_result("elasticnet", 0.5, [12.0], [], None),
    ]}
    section = bench_spark.render_section(record)
    assert section.startswith(bench_spark.BEGIN + "\n## Spark\n")
    assert "| a9a | l2 | 1e-4 | 9.00 | 3.00 (tol 1e-4) | 3.00x |" in section
    assert ("| a9a | elastic net (l1_ratio 0.5) | 1e-4 | 12.00 | did not reach MLlib's "
            "objective | - |") in section
    assert "MLlib iterations" not in section


def test_spark_section_iteration_columns():
    result = spark_result("l2", 0.0, [10.0], [2.0], 1e-5, mllib_iterations=81)
    result["ladder"][-1].update(solver="newton", iterations=6)
    record = {"run": RUN, "master": "local[2]", "partitions": 2, "repeats": 1,
              "results": [result]}
    section = bench_spark.render_section(record)
    assert "| MLlib iterations | fastopt solver (iterations) |" in section
    assert "| a9a | l2 | 1e-4 | 10.00 | 2.00 (tol 1e-5) | 5.00x | 81 | newton (6) |" in section


def test_from_json_replaces_only_its_section(tmp_path):
    record_path = tmp_path / "tune.json"
    record_path.write_text(json.dumps(TUNE))
    docs = tmp_path / "benchmarks.md"
    docs.write_text(f"# Benchmarks\n\nbefore\n\n{bench_tune.BEGIN}\nold table\n{bench_tune.END}\n"
                    "\nafter\n")
    bench_tune.main(["--from-json", str(record_path), "--docs", str(docs)])
    page = docs.read_text()
    assert page.startswith("# Benchmarks\n\nbefore\n\n" + bench_tune.BEGIN)
    assert page.endswith(bench_tune.END + "\n\nafter\n")
    assert "old table" not in page
    assert page.count(bench_tune.BEGIN) == 1
    assert "| GridSearchCV (fastopt LogisticRegression) | 1.000 | 0.900 | 2.00x |" in page


def test_from_json_rejects_unreadable_record(tmp_path):
    with pytest.raises(SystemExit, match="failed to read the results record"):
        bench_spark.main(["--from-json", str(tmp_path / "missing.json"),
                          "--docs", str(tmp_path / "page.md")])


@pytest.mark.parametrize("module", [bench_nn, bench_tune, bench_spark])
def test_saved_record_matches_page(module):
    """The committed page shows what the committed record renders to."""
    repo = Path(__file__).resolve().parent.parent
    name = module.__name__.removeprefix("bench_")
    record = json.loads((repo / "benchmarks" / "results" / f"{name}.json").read_text())
    page = (repo / "docs" / "benchmarks.md").read_text()
    assert module.render_section(record).rstrip("\n") in page
