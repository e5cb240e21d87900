"""The GLM data term on a CUDA device: :class:`GPUGLMObjective`, the GPU twin of ``GLMObjective``.

It defines the same f(w) (see ``_objective``) over a design in GPU memory, with w, the
gradient, y and the sample weights as float64 CuPy arrays on X's device. The kernels
(``csrc/cuda/glm.cu``) run on CuPy's current stream and never synchronize; ``value`` and
``value_grad`` copy the one scalar f to the host.

Supported X, used without a copy:

- a 2-D ``cupy.ndarray`` of float32 or float64 in C or Fortran order;
- a ``cupyx.scipy.sparse.csr_matrix`` with float32/float64 data and int32/int64 indices.

Other dense strides are copied to C order and a ``csc_matrix`` is converted to CSR once.
For CSR the objective builds the transpose once (another copy of X), so that every column of
the gradient X^T r is one warp's fixed-order sum instead of a scatter with float atomics.
"""

from __future__ import annotations

import numbers
import sys

import numpy as np

from fastopt import _gpu
from fastopt.linear_model._objective import _as_real_vector, check_labels, check_options

__all__ = ["GPUGLMObjective"]


def _first_bad(cupy, mask) -> int:
    return int(cupy.flatnonzero(mask)[0])


class GPUDesign:
    """A validated GPU design matrix and the arrays the kernels read."""

    def __init__(self, X):
        cupy = _gpu._import_cupy()
        sparse = _sparse_module()
        if sparse is not None and sparse.issparse(X):
            if X.format == "csc":
                X = X.tocsr()
            if X.format != "csr":
                raise TypeError(f"X: expected a cupyx.scipy.sparse csr_matrix or csc_matrix, got "
                                f"format {X.format!r}")
            if X.dtype not in (np.float32, np.float64):
                raise ValueError(f"X: expected float32 or float64 data, got dtype {X.dtype}")
            if X.indices.dtype != X.indptr.dtype or X.indices.dtype not in (np.int32, np.int64):
                raise ValueError("X: expected int32 or int64 indptr and indices of one dtype, got "
                                 f"{X.indptr.dtype} and {X.indices.dtype}")
            self.layout = "csr"
            self.data, self.indptr, self.indices = X.data, X.indptr, X.indices
            transpose = X.T.tocsr()
            self.t_data = transpose.data.astype(X.dtype, copy=False)
            self.t_indptr = transpose.indptr.astype(X.indptr.dtype, copy=False)
            self.t_indices = transpose.indices.astype(X.indptr.dtype, copy=False)
            values = self.data
        else:
            X = _gpu.as_cupy(X)
            if X.ndim != 2:
                raise ValueError(f"X: expected a 2-D array, got shape {X.shape}")
            if X.dtype not in (np.float32, np.float64):
                raise ValueError(f"X: expected float32 or float64, got dtype {X.dtype}")
            if X.flags.c_contiguous:
                self.layout = "dense_c"
            elif X.flags.f_contiguous:
                self.layout = "dense_f"
            else:
                X = cupy.ascontiguousarray(X)
                self.layout = "dense_c"
            self.data = X
            self.indptr = self.indices = None
            values = X.reshape(-1) if self.layout == "dense_c" else X.T.reshape(-1)
        self.n_samples, self.n_features = (int(v) for v in X.shape)
        if self.n_samples == 0:
            raise ValueError(f"X: expected at least one sample, got shape {X.shape}")
        self.dtype = np.dtype(X.dtype)
        self.index_dtype = self.indptr.dtype.name if self.indptr is not None else "int32"
        bad = ~cupy.isfinite(values)
        if bool(bad.any()):
            i = _first_bad(cupy, bad)
            raise ValueError(f"X: expected finite values, got {float(values[i])} at stored entry {i}")

    @staticmethod
    def _ptr(array) -> int:
        return 0 if array is None else array.data.ptr

    def margins(self, coef, intercept, outputs: int, z) -> None:
        """Enqueue z = X coef^T + intercept into the float64 (n, outputs) array z."""
        _gpu.cuda_module().glm_margins(
            self.layout, self.dtype.name, self.index_dtype, self.n_samples, self.n_features,
            outputs, self.data.data.ptr, self._ptr(self.indptr), self._ptr(self.indices),
            coef.data.ptr, self._ptr(intercept), z.data.ptr, _gpu.current_stream_ptr())

    def gradient(self, residual, outputs: int, grad, work) -> None:
        """Enqueue grad (outputs x p, float64) = residual^T X."""
        cuda = _gpu.cuda_module()
        if self.layout == "csr":
            data, indptr, indices = self.t_data, self.t_indptr, self.t_indices
        else:
            data, indptr, indices = self.data, None, None
        cuda.glm_gradient(self.layout, self.dtype.name, self.index_dtype, self.n_samples,
                          self.n_features, outputs, data.data.ptr, self._ptr(indptr),
                          self._ptr(indices), residual.data.ptr, grad.data.ptr,
                          self._ptr(work), _gpu.current_stream_ptr())

    def gradient_work_size(self, outputs: int) -> int:
        """Doubles of scratch space ``gradient`` needs (the C-order tiles' partial sums)."""
        if self.layout != "dense_c":
            return 0
        tiles = -(-self.n_samples // int(_gpu.cuda_module().glm_tile_rows))
        return outputs * self.n_features * tiles


def _sparse_module():
    try:
        import cupyx.scipy.sparse as sparse
    except ImportError:
        return None
    return sparse


class GPUGLMObjective:
    """Data term f(w) of a GLM and its gradient on the GPU; see ``GLMObjective``.

    Parameters
    ----------
    X : cupy.ndarray or cupyx.scipy.sparse matrix of shape (n_samples, n_features)
        See the module docstring for the layouts read without a copy.
    y : array of shape (n_samples,) on X's device
        Labels as for ``GLMObjective``: -1/+1 (logistic), class indices (multinomial),
        finite targets (squared, huber).
    loss : {"logistic", "squared", "huber", "multinomial"}
    sample_weight : array of shape (n_samples,) on X's device, or float, optional
        Non-negative finite weights, not all zero; rescaled to sum to 1 as on the CPU.
    fit_intercept : bool, default True
    n_classes : int, optional
        K for "multinomial"; default max(y) + 1.
    huber_delta : float, default 1.0

    Notes
    -----
    Every sum is a fixed-order reduction in float64, so the results do not depend on the
    launch configuration. They equal the CPU objective's to rounding.
    ``hessp``, ``hess_diag`` and ``line`` of ``GLMObjective`` are not implemented on the GPU,
    so the solvers that need them (newton-cd, newton, newton-cg, fista) run on the CPU only.
    """

    def __init__(self, X, y, *, loss, sample_weight=None, fit_intercept=True, n_classes=None,
                 huber_delta=1.0):
        check_options(loss, fit_intercept, huber_delta)
        weight_array = None if isinstance(sample_weight, numbers.Real) else sample_weight
        if not _gpu.check_one_device(X=_device_probe(X), y=y, sample_weight=weight_array):
            raise TypeError(f"X: expected a CuPy array or a cupyx.scipy.sparse matrix, got "
                            f"{type(X).__name__}; use GLMObjective for arrays on the CPU")
        _gpu.cuda_module()
        cupy = _gpu._import_cupy()
        self.design = GPUDesign(X)
        n = self.design.n_samples
        self.loss = loss
        self.fit_intercept = bool(fit_intercept)
        self.huber_delta = float(huber_delta)
        self.n_samples = n
        self.n_features = self.design.n_features
        self.y = self._vector_on_device("y", y, n)
        self.n_outputs = check_labels(self.y, loss, n_classes)
        self.sample_weight = self._normalized_weights(sample_weight)
        k = self.n_outputs
        self.n_params = k * self.n_features + (k if self.fit_intercept else 0)
        self._z = cupy.empty((n, k), cupy.float64)
        self._residual = cupy.empty((n, k), cupy.float64)
        chunks = _gpu.cuda_module().reduce_chunks(n)
        self._loss_work = cupy.empty(max(k, 1) * chunks, cupy.float64)
        self._out = cupy.empty(1 + k, cupy.float64)
        work = self.design.gradient_work_size(k)
        self._grad_work = cupy.empty(work, cupy.float64) if work else None

    # ------------------------------------------------------------------ checks

    @staticmethod
    def _vector_on_device(name, values, n):
        if not _gpu.is_gpu_array(values):
            raise TypeError(f"{name}: expected an array on the GPU like X, got {type(values).__name__}")
        return _as_real_vector(name, _gpu.as_cupy(values), n, _gpu._import_cupy())

    def _normalized_weights(self, sample_weight):
        if sample_weight is None:
            return None
        cupy = _gpu._import_cupy()
        n = self.n_samples
        if np.ndim(sample_weight) == 0 and not _gpu.is_gpu_array(sample_weight):
            sample_weight = cupy.full(n, float(sample_weight))
        s = self._vector_on_device("sample_weight", sample_weight, n)
        bad = s < 0
        if bool(bad.any()):
            i = _first_bad(cupy, bad)
            raise ValueError(f"sample_weight: expected values >= 0, got {float(s[i])} at index {i}")
        total = float(s.sum())
        if total == 0:
            raise ValueError("sample_weight: expected at least one positive weight, got all 0")
        if not np.isfinite(total):
            raise ValueError(f"sample_weight: expected a finite sum, got {total}")
        return s / total

    def _vector(self, name, w):
        cupy = _gpu._import_cupy()
        _gpu.check_one_device(X=self.y, **{name: w})
        w = _gpu.as_cupy(w)
        if w.shape != (self.n_params,):
            raise ValueError(f"{name}: expected shape ({self.n_params},), got {w.shape}")
        return cupy.ascontiguousarray(w, dtype=cupy.float64)

    # ---------------------------------------------------------------- interface

    def _pass(self, w, residual):
        """Enqueue the margins and the loss (and with ``residual`` its column sums)."""
        k, p = self.n_outputs, self.n_features
        intercept = w[k * p:] if self.fit_intercept else None
        self.design.margins(w[: k * p], intercept, k, self._z)
        _gpu.cuda_module().glm_loss(
            self.loss, self.n_samples, k, self.y.data.ptr,
            0 if self.sample_weight is None else self.sample_weight.data.ptr, self._z.data.ptr,
            self.huber_delta, 0 if residual is None else residual.data.ptr,
            self._loss_work.data.ptr, self._out.data.ptr, _gpu.current_stream_ptr())

    def value(self, w) -> float:
        """Return f(w), the data term without the penalty."""
        self._pass(self._vector("w", w), None)
        return float(self._out[0])

    def value_grad(self, w, out=None):
        """Return f(w) (a Python float) and its gradient (a float64 CuPy array)."""
        cupy = _gpu._import_cupy()
        w = self._vector("w", w)
        if out is None:
            out = cupy.empty(self.n_params, cupy.float64)
        k, p = self.n_outputs, self.n_features
        self._pass(w, self._residual)
        if p > 0:
            self.design.gradient(self._residual, k, out[: k * p], self._grad_work)
        if self.fit_intercept:
            out[k * p:] = self._out[1:]
        return float(self._out[0]), out

    def margins(self, w):
        """Return z = X coef^T + intercept as a CuPy array: shape (n,) when K = 1, else (n, K)."""
        w = self._vector("w", w)
        k, p = self.n_outputs, self.n_features
        z = _gpu._import_cupy().empty((self.n_samples, k), np.float64)
        self.design.margins(w[: k * p], w[k * p:] if self.fit_intercept else None, k, z)
        return z.reshape(-1) if k == 1 else z


def _device_probe(X):
    """Return an array on X's device for the device check: X, or a cupyx matrix's data."""
    if "cupy" in sys.modules and not _gpu.is_gpu_array(X):
        sparse = _sparse_module()
        if sparse is not None and sparse.issparse(X):
            return X.data
    return X
