// The one header through which the CUDA files include pybind11, and the
// registration function of every family of GPU kernels.
//
// A family is one .cu file holding its kernels and their bindings. Bound
// functions take device pointers as integers (CuPy's `a.data.ptr`), sizes and
// a stream handle (CuPy's `cupy.cuda.get_current_stream().ptr`). They check
// their arguments, enqueue the kernels on that stream and return without
// synchronizing. The Python layer (fastopt._gpu) checks dtypes, shapes and
// devices before it passes the pointers.
#pragma once

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

namespace fastopt::cuda {

void register_device(pybind11::module_& m);
void register_optim(pybind11::module_& m);
void register_optim_adam(pybind11::module_& m);
void register_optim_lamb(pybind11::module_& m);
void register_optim_sgd(pybind11::module_& m);
void register_prox(pybind11::module_& m);
void register_lbfgs(pybind11::module_& m);
void register_glm(pybind11::module_& m);
void register_nn(pybind11::module_& m);

}  // namespace fastopt::cuda
