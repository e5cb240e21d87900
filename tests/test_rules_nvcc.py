"""The update-rule headers compile as CUDA device code.

Each rule has one definition, meant to serve the CPU kernels and the CUDA
kernels alike. This test instantiates every element update in a __global__
kernel and compiles it with nvcc, so a host-only construct in a header fails
here instead of in a later GPU build. Nothing runs on a GPU.
"""

import pathlib
import shutil
import subprocess

import pytest

INCLUDE = pathlib.Path(__file__).resolve().parents[1] / "csrc" / "include"

SOURCE = r"""
#include "fastopt/rules/adadelta.hpp"
#include "fastopt/rules/adagrad.hpp"
#include "fastopt/rules/adam.hpp"
#include "fastopt/rules/adamax.hpp"
#include "fastopt/rules/lamb.hpp"
#include "fastopt/rules/lion.hpp"
#include "fastopt/rules/nadam.hpp"
#include "fastopt/rules/radam.hpp"
#include "fastopt/rules/rmsprop.hpp"
#include "fastopt/rules/sgd.hpp"

using namespace fastopt;

template <typename T>
__global__ void every_rule(T* p, const T* g, T* a, T* b, T* c, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  adam_update<T, Decay::decoupled, true>(p[i], g[i], a[i], b[i], c[i], AdamCoef<T>{});
  sgd_update<T, Decay::l2, SgdMomentum::nesterov, false>(p[i], g[i], a[i], SgdCoef<T>{});
  adagrad_update<T, Decay::l2>(p[i], g[i], a[i], AdagradCoef<T>{});
  rmsprop_update<T, Decay::l2, true, true>(p[i], g[i], a[i], b[i], c[i], RmspropCoef<T>{});
  adadelta_update<T, Decay::l2>(p[i], g[i], a[i], b[i], AdadeltaCoef<T>{});
  adamax_update<T, Decay::l2>(p[i], g[i], a[i], b[i], AdamaxCoef<T>{});
  nadam_update<T, Decay::decoupled>(p[i], g[i], a[i], b[i], NAdamCoef<T>{});
  radam_update<T, Decay::l2, true>(p[i], g[i], a[i], b[i], RAdamCoef<T>{});
  lion_update<T, Decay::decoupled>(p[i], g[i], a[i], LionCoef<T>{});
  lamb_moments<T>(g[i], a[i], b[i], LambCoef<T>{});
}

template __global__ void every_rule<float>(float*, const float*, float*, float*, float*, int);
template __global__ void every_rule<double>(double*, const double*, double*, double*, double*,
                                            int);
"""


def test_rule_headers_compile_with_nvcc(tmp_path):
    nvcc = shutil.which("nvcc")
    if nvcc is None:
        pytest.skip("nvcc is not on PATH; the CUDA toolkit is needed to compile the headers")
    source = tmp_path / "rules.cu"
    source.write_text(SOURCE)
    result = subprocess.run(
        [nvcc, "-std=c++17", f"-I{INCLUDE}", "-c", str(source), "-o", str(tmp_path / "rules.o")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
