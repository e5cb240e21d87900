#include "cuda/bind.hpp"

PYBIND11_MODULE(_cuda, m) {
  m.doc() = "fastopt's CUDA kernels; use the fastopt package with CuPy arrays, not this module.";
  fastopt::cuda::register_device(m);
  fastopt::cuda::register_optim(m);
  fastopt::cuda::register_optim_adam(m);
  fastopt::cuda::register_optim_lamb(m);
  fastopt::cuda::register_optim_sgd(m);
  fastopt::cuda::register_prox(m);
  fastopt::cuda::register_lbfgs(m);
  fastopt::cuda::register_glm(m);
  fastopt::cuda::register_nn(m);
}
