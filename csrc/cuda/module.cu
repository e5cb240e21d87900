#include "cuda/bind.hpp"

PYBIND11_MODULE(_cuda, m) {
  m.doc() = "fastopt's CUDA kernels; use the fastopt package with CuPy arrays, not this module.";
  fastopt::cuda::register_device(m);
  fastopt::cuda::register_lbfgs(m);
  fastopt::cuda::register_glm(m);
}
