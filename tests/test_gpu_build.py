"""The CUDA module is built when nvcc is present, and loads lazily.

These tests need no GPU. They check that a build with a CUDA compiler
produced fastopt._cuda, that ``import fastopt`` works without CuPy, the CUDA
module or a device, and that the first GPU call raises a RuntimeError naming
what is missing.
"""

import importlib.util
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from fastopt import _build_info, _gpu


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120
    )


class FakeDeviceArray:
    """An object with __cuda_array_interface__, standing for a GPU array without a GPU."""

    def __init__(self, device_id=0):
        self.device = type("Device", (), {"id": device_id})()
        self.__cuda_array_interface__ = {"shape": (3,), "typestr": "<f4", "data": (0, False), "version": 3}


def test_cuda_module_built_with_nvcc():
    if shutil.which("nvcc") is None and not _build_info.cuda_compiler:
        pytest.skip("nvcc is not on PATH, so a default (AUTO) build has no CUDA module")
    if _build_info.cuda_option == "OFF":
        pytest.skip("this build was configured with -DFASTOPT_CUDA=OFF")
    assert _build_info.cuda_compiler, "nvcc is on PATH but the build found no CUDA compiler"
    assert _build_info.cuda_built
    assert importlib.util.find_spec("fastopt._cuda") is not None


def test_cuda_module_reports_runtime():
    if not _build_info.cuda_built:
        pytest.skip("this build has no CUDA module")
    from fastopt import _cuda

    assert _cuda.runtime_version() >= 12000
    assert _cuda.device_count() >= 0


def test_import_does_not_load_gpu_modules():
    result = run_python(
        """
        import sys
        import fastopt
        import fastopt.optim, fastopt.prox
        print("cupy" in sys.modules, "fastopt._cuda" in sys.modules)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]


def test_import_without_cupy():
    if not _build_info.cuda_built:
        pytest.skip("this build has no CUDA module, which is reported before CuPy")
    from fastopt import _cuda

    if _cuda.device_count() == 0:
        pytest.skip("no CUDA device, which is reported before CuPy")
    result = run_python(
        """
        import sys
        sys.modules["cupy"] = None  # makes `import cupy` raise ImportError
        import fastopt
        from fastopt import _gpu
        try:
            _gpu.cuda_module()
        except RuntimeError as exc:
            print(exc)
        """
    )
    assert result.returncode == 0, result.stderr
    assert "needs CuPy" in result.stdout
    assert "pip install cupy-cuda13x" in result.stdout


def test_import_without_cuda_module():
    result = run_python(
        """
        import sys
        sys.modules["fastopt._cuda"] = None  # as if the build had no CUDA module
        import fastopt
        from fastopt import _gpu
        try:
            _gpu.cuda_module()
        except RuntimeError as exc:
            print(exc)
        """
    )
    assert result.returncode == 0, result.stderr
    assert "fastopt cannot run on the GPU" in result.stdout
    expected = "failed to load" if _build_info.cuda_built else "without its CUDA module"
    assert expected in result.stdout


def test_first_gpu_use_without_device():
    if not _build_info.cuda_built:
        pytest.skip("this build has no CUDA module")
    from fastopt import _cuda

    if _cuda.device_count() > 0:
        pytest.skip("a CUDA device is present; this test covers machines without one")
    with pytest.raises(RuntimeError, match="no CUDA device is available"):
        _gpu.cuda_module()


def test_is_gpu_array():
    np = pytest.importorskip("numpy")
    assert _gpu.is_gpu_array(FakeDeviceArray())
    assert not _gpu.is_gpu_array(np.zeros(3))
    assert not _gpu.is_gpu_array([1.0, 2.0])


def test_check_one_device_cpu():
    import numpy as np

    assert _gpu.check_one_device(params=[np.zeros(2)], grads=np.zeros(2), state=None) is False


def test_check_one_device_gpu():
    assert _gpu.check_one_device(params=[FakeDeviceArray()], grads=[None, FakeDeviceArray()]) is True


def test_check_one_device_mixed():
    import numpy as np

    with pytest.raises(TypeError, match=r"grads\[1\] is on the CPU but params\[0\] is on the GPU \(device 0\)"):
        _gpu.check_one_device(params=[FakeDeviceArray()], grads=[FakeDeviceArray(), np.zeros(3)])


def test_check_one_device_two_gpus():
    with pytest.raises(TypeError, match=r"grads is on the GPU \(device 1\) but params is on the GPU \(device 0\)"):
        _gpu.check_one_device(params=FakeDeviceArray(0), grads=FakeDeviceArray(1))


def test_mixed_call_names_arguments():
    import numpy as np

    import fastopt

    with pytest.raises(TypeError, match=r"grads\[0\] is on the CPU but params\[0\] is on the GPU \(device 0\)"):
        fastopt.optim.functional.sgd([FakeDeviceArray()], [np.zeros(3, dtype=np.float32)], lr=0.1)
    with pytest.raises(TypeError, match=r"grad is on the CPU but x is on the GPU \(device 0\)"):
        fastopt.prox.prox_grad_step(FakeDeviceArray(), np.zeros(3, dtype=np.float32), 0.1, l1=0.1)


def test_first_gpu_call_without_device():
    if _build_info.cuda_built:
        from fastopt import _cuda

        if _cuda.device_count() > 0:
            pytest.skip("a CUDA device is present; this test covers machines without one")
    import fastopt

    with pytest.raises(RuntimeError, match="fastopt cannot run on the GPU"):
        fastopt.optim.functional.sgd([FakeDeviceArray()], [FakeDeviceArray()], lr=0.1)
    with pytest.raises(RuntimeError, match="fastopt cannot run on the GPU"):
        fastopt.optim.Adam([FakeDeviceArray()])
    with pytest.raises(RuntimeError, match="fastopt cannot run on the GPU"):
        fastopt.prox.soft_threshold(FakeDeviceArray(), 0.5)


def test_cuda_bindings_check_arguments():
    """The bound functions check their arguments on the host, before any CUDA call."""
    if not _build_info.cuda_built:
        pytest.skip("this build has no CUDA module")
    from fastopt import _cuda

    control = _cuda.StepControl()
    hyper = dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, amsgrad=False, decoupled=False)
    with pytest.raises(ValueError, match=r"pointers: expected 5 lists \(one per role\), got 3"):
        _cuda.adam_step("float32", [[1], [2], [3]], [4], [1], [0], [], control, 0, **hyper)
    with pytest.raises(ValueError, match=r"pointers\[1\]: expected 1 addresses to match numel, got 2"):
        _cuda.adam_step("float32", [[1], [2, 3], [3], [4], [0]], [4], [1], [0], [], control, 0, **hyper)
    with pytest.raises(TypeError, match="dtype: expected float32, float64, float16 or bfloat16, got int8"):
        _cuda.adam_step("int8", [[1], [2], [3], [4], [0]], [4], [1], [0], [], control, 0, **hyper)
    with pytest.raises(ValueError, match=r"aux\[0\]: expected a device address, got 0"):
        _cuda.nadam_step("float32", [[1], [2], [3], [4]], [4], [1], [0], [0], control, 0, lr=1e-3, beta1=0.9,
                         beta2=0.999, eps=1e-8, weight_decay=0.0, momentum_decay=4e-3, decoupled=False)
    with pytest.raises(ValueError, match="penalty: expected 'l1', 'elasticnet', 'l2', 'box' or 'nonneg', got 'l3'"):
        _cuda.prox_elementwise("float32", "l3", 1, 0, 1, 4, 1.0, 0, 0.1, 0, 0.0, 0, 0.0, 0, 0.0, 0)
    assert _cuda.MAX_TENSORS_PER_LAUNCH == 256
    assert _cuda.CHUNK_SIZE == 4096


def test_cuda_launch_without_device_raises():
    if not _build_info.cuda_built:
        pytest.skip("this build has no CUDA module")
    from fastopt import _cuda

    if _cuda.device_count() > 0:
        pytest.skip("a CUDA device is present; this test covers machines without one")
    control = _cuda.StepControl()
    with pytest.raises(RuntimeError, match="failed: cuda"):
        _cuda.sgd_step("float32", [[1], [2], [0]], [4], [1], [0], [], control, 0, lr=0.1, momentum=0.0,
                       dampening=0.0, weight_decay=0.0, nesterov=False)
