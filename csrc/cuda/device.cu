// Facts about the CUDA runtime and devices that the Python layer reports in
// its errors and the tests check, without allocating device memory.
#include <cuda_runtime.h>

#include "cuda/bind.hpp"
#include "cuda/launch.cuh"

namespace fastopt::cuda {

namespace {

int device_count() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status == cudaErrorNoDevice || status == cudaErrorInsufficientDriver) {
    cudaGetLastError();  // clear the error so later calls do not report it again
    return 0;
  }
  check_cuda(status, "cudaGetDeviceCount");
  return count;
}

int runtime_version() {
  int version = 0;
  check_cuda(cudaRuntimeGetVersion(&version), "cudaRuntimeGetVersion");
  return version;
}

// 0 when no driver is installed, as cudaDriverGetVersion reports it.
int driver_version() {
  int version = 0;
  check_cuda(cudaDriverGetVersion(&version), "cudaDriverGetVersion");
  return version;
}

}  // namespace

void register_device(pybind11::module_& m) {
  m.def("device_count", &device_count,
        "Number of CUDA devices the runtime sees; 0 without a device or a driver.");
  m.def("runtime_version", &runtime_version,
        "Version of the CUDA runtime this module was built against, as 1000 major + 10 minor.");
  m.def("driver_version", &driver_version,
        "Latest CUDA version the installed driver supports (1000 major + 10 minor), or 0 "
        "without a driver.");
}

}  // namespace fastopt::cuda
