#include "bindings/pybind.hpp"

PYBIND11_MODULE(_core, m) {
  m.doc() = "fastopt's compiled kernels; use the fastopt package, not this module.";
  fastopt::bindings::bind_system(m);
  fastopt::bindings::bind_optim(m);
  fastopt::bindings::bind_lbfgs(m);
  fastopt::bindings::bind_prox(m);
  fastopt::bindings::bind_online(m);
  fastopt::bindings::bind_hashing(m);
  fastopt::bindings::bind_glm(m);
  fastopt::bindings::bind_newton_cd(m);
  fastopt::bindings::bind_metrics(m);
  fastopt::bindings::bind_svmlight(m);
  fastopt::bindings::bind_nn(m);
  fastopt::bindings::bind_dfo(m);
}
