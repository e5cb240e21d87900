"""The installed CMake package: examples/cpp_adam builds against fastopt::headers and runs.

The example applies one AdamW step with the header rule and prints the
results, which must equal fastopt.optim.functional.adamw on the same numbers.
"""

import os
import pathlib
import shutil
import subprocess

import numpy as np
import pytest

import fastopt
from fastopt.optim import functional

EXAMPLE = pathlib.Path(__file__).resolve().parents[1] / "examples" / "cpp_adam"


def test_cmake_dir_holds_config():
    cmake_dir = pathlib.Path(fastopt.get_cmake_dir())
    assert (cmake_dir / "fastoptConfig.cmake").is_file()
    assert (cmake_dir / "fastoptConfigVersion.cmake").is_file()
    assert (pathlib.Path(fastopt.get_include()) / "fastopt" / "rules" / "adam.hpp").is_file()


def _tools():
    cmake = shutil.which("cmake")
    if cmake is None:
        pytest.skip("cmake is not on PATH")
    if not any(shutil.which(c) for c in (os.environ.get("CXX", "c++"), "c++", "g++", "clang++")):
        pytest.skip("no C++ compiler on PATH")
    return cmake


def _run(args, **kwargs):
    result = subprocess.run(args, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{' '.join(map(str, args))} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _expected():
    param = np.array([0.5, -1.25, 2.0, 0.0, -0.75])
    grad = np.array([0.1, -0.2, 0.3, -0.4, 0.5])
    exp_avg, exp_avg_sq = np.zeros(5), np.zeros(5)
    functional.adamw(param, grad, exp_avg, exp_avg_sq, step=1, lr=0.01, weight_decay=0.1)
    return np.stack([param, exp_avg, exp_avg_sq], axis=1)


@pytest.mark.parametrize("how", ["fastopt_DIR", "CMAKE_PREFIX_PATH"])
def test_example_builds_and_runs(tmp_path, how):
    cmake = _tools()
    if how == "fastopt_DIR":
        find = f"-Dfastopt_DIR={fastopt.get_cmake_dir()}"
    else:
        find = f"-DCMAKE_PREFIX_PATH={os.path.dirname(fastopt.__file__)}"
    build = tmp_path / "build"
    configure = _run([cmake, "-S", str(EXAMPLE), "-B", str(build), find, "-DCMAKE_BUILD_TYPE=Release"])
    assert f"fastopt headers: {fastopt.get_include()}" in configure
    _run([cmake, "--build", str(build)])
    output = _run([str(build / "cpp_adam")])
    values = np.array([[float(v) for v in line.split()] for line in output.splitlines()])
    # The header rule is the code of the CPU kernels, so the values are equal
    # up to the FMA contraction the example's default flags allow.
    np.testing.assert_allclose(values, _expected(), rtol=1e-15, atol=1e-17)


def test_version_check_rejects_other_major(tmp_path):
    cmake = _tools()
    source = tmp_path / "src"
    source.mkdir()
    (source / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.18)\nproject(check LANGUAGES CXX)\n"
        "find_package(fastopt 99 CONFIG REQUIRED)\n"
    )
    result = subprocess.run(
        [cmake, "-S", str(source), "-B", str(tmp_path / "build"), f"-Dfastopt_DIR={fastopt.get_cmake_dir()}"],
        capture_output=True, text=True,
    )
    assert result.returncode != 0
    assert "fastoptConfigVersion.cmake" in result.stderr or "version" in result.stderr.lower()
