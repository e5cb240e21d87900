// The one header through which binding files include pybind11.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

namespace py = pybind11;

namespace fastopt::bindings {

void bind_system(py::module_& m);
void bind_optim(py::module_& m);
void bind_lbfgs(py::module_& m);
void bind_prox(py::module_& m);
void bind_online(py::module_& m);
void bind_hashing(py::module_& m);
void bind_glm(py::module_& m);
void bind_newton_cd(py::module_& m);
void bind_metrics(py::module_& m);
void bind_svmlight(py::module_& m);
void bind_nn(py::module_& m);
void bind_dfo(py::module_& m);

}  // namespace fastopt::bindings
