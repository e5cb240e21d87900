"""Fused optimizer steps on CuPy arrays: argument checks and kernel launches.

:class:`GpuKernels` has one method per rule with the signature of the
matching ``fastopt._core`` function, so the functional wrappers and the
optimizer classes call the CPU or the GPU kernels the same way.

Nothing here waits for the GPU. The gradient pre-pass leaves the sum of
squares and the non-finite flag on the device, and every rule's kernel reads
them there. So the kernels themselves skip a step with a non-finite
gradient, and ``StepResult.found_inf`` and ``grad_norm`` are 0-d CuPy arrays
(``bool(result.found_inf)`` synchronizes).

Step numbers: the bias corrections are computed on the device from the step
number of each tensor. That number is either a host int (the functional form
with ``step=int``, where the caller knows the step) or a device step counter,
an int64 holding the number of steps taken so far. The kernel uses counter + 1
and increments the counter only when the step is applied, so a skipped step
does not count, as in torch. The optimizer classes keep device counters.
"""

from __future__ import annotations

import numbers

from fastopt import _gpu
from fastopt.optim._step import StepResult, step_options

PARAM_DTYPES = ("float16", "bfloat16", "float32", "float64")


def state_dtype(param_dtype) -> str:
    """Return the dtype name of optimizer state for parameters of ``param_dtype``."""
    return "float64" if str(param_dtype) == "float64" else "float32"


def _roles_of(name: str, arrays, count: int | None, where: str):
    if arrays is None:
        return None
    items = [arrays] if _gpu.is_gpu_array(arrays) else list(arrays)
    if count is not None and len(items) != count:
        raise ValueError(f"{name}: expected {count} arrays to match params, got {len(items)}")
    out = []
    for i, a in enumerate(items):
        if not _gpu.is_gpu_array(a):
            raise TypeError(f"{name}[{i}] is on the CPU ({type(a).__name__}) but {where} is on the GPU; "
                            "pass every array of one call on the same device")
        out.append(_gpu.as_cupy(a))
    return out


def _check_layout(name: str, i: int, a, shape, dtype: str) -> None:
    if str(a.dtype) != dtype:
        raise TypeError(f"{name}[{i}]: expected dtype {dtype}, got {a.dtype}")
    if a.shape != shape:
        raise ValueError(f"{name}[{i}]: expected shape {shape} to match params[{i}], got {a.shape}")
    if not a.flags.c_contiguous:
        raise ValueError(f"{name}[{i}]: expected a C-contiguous array")


def _check_disjoint(named: list[tuple[str, object]]) -> None:
    spans = sorted(
        (a.data.ptr, a.data.ptr + a.nbytes, name) for name, a in named if a.size
    )
    for (_, prev_end, prev_name), (start, _, name) in zip(spans, spans[1:]):
        if start < prev_end:
            raise ValueError(f"{name} and {prev_name} share memory; every array must be a separate buffer")


def _counters(steps, count: int):
    """Return ``(host_steps, counter_addresses)`` for ``steps``.

    ``steps`` is a list of host ints, a list of 0-d int64 CuPy arrays, or one
    1-D int64 CuPy array with one counter per tensor.
    """
    if _gpu.is_gpu_array(steps):
        array = _gpu.as_cupy(steps)
        if str(array.dtype) != "int64" or array.shape != (count,) or not array.flags.c_contiguous:
            raise ValueError(
                f"step: expected a contiguous int64 array of shape ({count},) of step counters, "
                f"got dtype {array.dtype} and shape {array.shape}"
            )
        return [0] * count, [array.data.ptr + 8 * i for i in range(count)]
    steps = list(steps)
    if len(steps) != count:
        raise ValueError(f"steps: expected {count} values to match params, got {len(steps)}")
    host, addresses = [], []
    for i, s in enumerate(steps):
        if _gpu.is_gpu_array(s):
            counter = _gpu.as_cupy(s)
            if str(counter.dtype) != "int64" or counter.size != 1:
                raise ValueError(f"step[{i}]: expected a one-element int64 step counter, got {counter.dtype} "
                                 f"of shape {counter.shape}")
            host.append(0)
            addresses.append(counter.data.ptr)
        elif isinstance(s, numbers.Integral) and not isinstance(s, bool):
            if s < 1:
                raise ValueError(f"step[{i}]: expected a step number >= 1, got {s}")
            host.append(int(s))
            addresses.append(0)
        else:
            raise TypeError(f"step[{i}]: expected an int or a device step counter, got {type(s).__name__}")
    return host, addresses


def _aux_addresses(name: str, values, count: int) -> list[int]:
    """Return the device address of each tensor's float64 scalar in ``values``."""
    if _gpu.is_gpu_array(values):
        array = _gpu.as_cupy(values)
        if str(array.dtype) != "float64" or array.shape != (count,) or not array.flags.c_contiguous:
            raise ValueError(f"{name}: expected a contiguous float64 array of shape ({count},), "
                             f"got dtype {array.dtype} and shape {array.shape}")
        return [array.data.ptr + 8 * i for i in range(count)]
    items = list(values)
    if len(items) != count:
        raise ValueError(f"{name}: expected {count} values to match params, got {len(items)}")
    out = []
    for i, v in enumerate(items):
        if not _gpu.is_gpu_array(v):
            raise TypeError(f"{name}[{i}]: expected a one-element float64 CuPy array on the GPU, "
                            f"got {type(v).__name__}")
        array = _gpu.as_cupy(v)
        if str(array.dtype) != "float64" or array.size != 1:
            raise ValueError(f"{name}[{i}]: expected a one-element float64 array, got {array.dtype} "
                             f"of shape {array.shape}")
        out.append(array.data.ptr)
    return out


class GpuStep:
    """The device side of one step: the pre-pass results that every kernel reads."""

    def __init__(self, *, inv_scale: float = 1.0, max_norm: float | None = None, sumsq: int = 0,
                 nonfinite: int = 0, keep_alive=None):
        self.inv_scale = inv_scale
        self.max_norm = -1.0 if max_norm is None else max_norm
        self.sumsq = sumsq
        self.nonfinite = nonfinite
        # The workspace must outlive every launch that reads its addresses.
        self.keep_alive = keep_alive

    def control(self, grad_factor: float, done: int):
        control = _gpu.cuda_module().StepControl()
        control.grad_factor = grad_factor
        control.inv_scale = self.inv_scale
        control.max_norm = self.max_norm
        control.sumsq = self.sumsq
        control.nonfinite = self.nonfinite
        control.done = done
        return control


def _dtype_groups(arrays) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for i, a in enumerate(arrays):
        groups.setdefault(str(a.dtype), []).append(i)
    return groups


def gpu_prepass(grads, *, grad_scale, check_finite, max_grad_norm, maximize) -> tuple[float, GpuStep, StepResult]:
    """Enqueue the gradient statistics of one step and return ``(factor, GpuStep, StepResult)``.

    ``factor`` is the host part of the gradient factor (``1 / grad_scale``,
    negated for ``maximize``); clipping is applied on the device.
    """
    import cupy

    factor, check_finite, max_grad_norm = step_options(grad_scale, check_finite, max_grad_norm)
    signed = -factor if maximize else factor
    if not (check_finite or max_grad_norm is not None):
        return signed, GpuStep(inv_scale=factor), StepResult()
    cuda = _gpu.cuda_module()
    present = [_gpu.as_cupy(g) for g in grads if g is not None]
    for i, g in enumerate(present):
        if str(g.dtype) not in PARAM_DTYPES:
            raise TypeError(f"grads[{i}]: expected dtype float16, bfloat16, float32 or float64, got {g.dtype}")
    # Layout: [0] float64 sum of squares, [1] uint32 non-finite flag and uint32
    # launch counter, [2] float64 unscaled norm, [3] bool found_inf.
    workspace = cupy.zeros(4, dtype=cupy.float64)
    base = workspace.data.ptr
    stream = _gpu.current_stream_ptr()
    groups = list(_dtype_groups(present).items())
    if not groups:
        groups = [("float32", [])]
    for k, (dtype, indices) in enumerate(groups):
        cuda.grad_stats(
            dtype, [present[i].data.ptr for i in indices], [present[i].size for i in indices],
            sumsq=base, nonfinite=base + 8, done=base + 12 if k == len(groups) - 1 else 0,
            grad_norm=base + 16, found_inf=base + 24, inv_scale=factor, stream=stream,
        )
    norm = cupy.ndarray((), dtype=cupy.float64, memptr=workspace.data + 16)
    found_inf = cupy.ndarray((), dtype=cupy.bool_, memptr=workspace.data + 24) if check_finite else False
    step = GpuStep(inv_scale=factor, max_norm=max_grad_norm, sumsq=base,
                   nonfinite=base + 8 if check_finite else 0, keep_alive=workspace)
    return signed, step, StepResult(found_inf=found_inf, grad_norm=norm)


class GpuKernels:
    """The GPU counterparts of the ``fastopt._core`` step functions, for one step."""

    def __init__(self, step: GpuStep | None = None):
        self.step = step if step is not None else GpuStep()

    def _launch(self, name, roles, steps, grad_factor, validate_only, hyper, aux=None, lamb=False):
        import cupy

        params = _roles_of("params", roles[0][1], None, "params")
        count = len(params)
        arrays = [("params", params)]
        for role_name, value in roles[1:]:
            arrays.append((role_name, _roles_of(role_name, value, count, "params[0]")))
        for i, p in enumerate(params):
            if str(p.dtype) not in PARAM_DTYPES:
                raise TypeError(f"params[{i}]: expected dtype float16, bfloat16, float32 or float64, got {p.dtype}")
            if not p.flags.c_contiguous:
                raise ValueError(f"params[{i}]: expected a C-contiguous array")
            for role_name, value in arrays[1:]:
                if value is None:
                    continue
                dtype = str(p.dtype) if role_name == "grads" else state_dtype(p.dtype)
                _check_layout(role_name, i, value[i], p.shape, dtype)
        devices = {role_name: value for role_name, value in arrays if value is not None}
        _gpu.check_one_device(**devices)
        _check_disjoint([(f"{role_name}[{i}]", a) for role_name, value in arrays if value is not None
                         for i, a in enumerate(value)])
        host_steps, counters = _counters(steps, count)
        aux_addresses = [] if aux is None else _aux_addresses(aux[0], aux[1], count)
        if validate_only:
            return
        cuda = _gpu.cuda_module()
        limit = cuda.MAX_TENSORS_PER_LAUNCH
        keep = []
        with params[0].device if count else cupy.cuda.Device():
            stream = _gpu.current_stream_ptr()
            for dtype, indices in _dtype_groups(params).items():
                pointers = [[0 if value is None else value[i].data.ptr for i in indices] for _, value in arrays]
                group_counters = [counters[i] for i in indices]
                launches = -(-len(indices) // limit)
                done = 0
                if any(group_counters):
                    counter_block = cupy.zeros(max(launches, 1), dtype=cupy.uint32)
                    keep.append(counter_block)
                    done = counter_block.data.ptr
                kwargs = dict(hyper)
                if lamb:
                    sums = cupy.zeros(2 * limit * max(launches, 1), dtype=cupy.float64)
                    keep.append(sums)
                    kwargs["sums"] = sums.data.ptr
                getattr(cuda, name)(
                    dtype, pointers, [params[i].size for i in indices], [host_steps[i] for i in indices],
                    group_counters, [aux_addresses[i] for i in indices] if aux_addresses else [],
                    self.step.control(grad_factor, done), stream, **kwargs,
                )
        # NOTE: freeing the buffers here relies on CuPy's default memory pool,
        # which reuses a freed block only for later work on the same stream.
        # An allocator without that rule could hand them out while the
        # kernels above still run.
        del keep

    # One method per rule, with the signature of the fastopt._core function.

    def adam_step(self, params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, *, lr, beta1, beta2,
                  eps, weight_decay, amsgrad, decoupled, grad_factor, validate_only):
        if amsgrad and max_exp_avg_sqs is None:
            raise ValueError("max_exp_avg_sqs: expected a list of arrays because amsgrad is set, got None")
        roles = [("params", params), ("grads", grads), ("exp_avgs", exp_avgs), ("exp_avg_sqs", exp_avg_sqs),
                 ("max_exp_avg_sqs", max_exp_avg_sqs if amsgrad else None)]
        self._launch("adam_step", roles, steps, grad_factor, validate_only,
                     dict(lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
                          amsgrad=amsgrad, decoupled=decoupled))

    def adamax_step(self, params, grads, exp_avgs, exp_infs, steps, *, lr, beta1, beta2, eps, weight_decay,
                    grad_factor, validate_only):
        roles = [("params", params), ("grads", grads), ("exp_avgs", exp_avgs), ("exp_infs", exp_infs)]
        self._launch("adamax_step", roles, steps, grad_factor, validate_only,
                     dict(lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay))

    def nadam_step(self, params, grads, exp_avgs, exp_avg_sqs, mu_products, steps, *, lr, beta1, beta2, eps,
                   weight_decay, momentum_decay, decoupled, grad_factor, validate_only):
        roles = [("params", params), ("grads", grads), ("exp_avgs", exp_avgs), ("exp_avg_sqs", exp_avg_sqs)]
        self._launch("nadam_step", roles, steps, grad_factor, validate_only,
                     dict(lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
                          momentum_decay=momentum_decay, decoupled=decoupled),
                     aux=("mu_products", mu_products))
        # The kernel updates the products in place, on the device.
        return mu_products

    def radam_step(self, params, grads, exp_avgs, exp_avg_sqs, steps, *, lr, beta1, beta2, eps, weight_decay,
                   decoupled, grad_factor, validate_only):
        roles = [("params", params), ("grads", grads), ("exp_avgs", exp_avgs), ("exp_avg_sqs", exp_avg_sqs)]
        self._launch("radam_step", roles, steps, grad_factor, validate_only,
                     dict(lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
                          decoupled=decoupled))

    def lamb_step(self, params, grads, exp_avgs, exp_avg_sqs, steps, *, lr, beta1, beta2, eps, weight_decay,
                  bias_correction, grad_factor, validate_only):
        roles = [("params", params), ("grads", grads), ("exp_avgs", exp_avgs), ("exp_avg_sqs", exp_avg_sqs)]
        self._launch("lamb_step", roles, steps, grad_factor, validate_only,
                     dict(lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
                          bias_correction=bias_correction), lamb=True)

    def sgd_step(self, params, grads, momentum_buffers, steps, *, lr, momentum, dampening, weight_decay,
                 nesterov, grad_factor, validate_only):
        if momentum != 0.0 and momentum_buffers is None:
            raise ValueError("momentum_buffers: expected a list of arrays because momentum is set, got None")
        roles = [("params", params), ("grads", grads),
                 ("momentum_buffers", momentum_buffers if momentum != 0.0 else None)]
        self._launch("sgd_step", roles, steps, grad_factor, validate_only,
                     dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                          nesterov=nesterov))

    def adagrad_step(self, params, grads, state_sums, steps, *, lr, lr_decay, weight_decay, eps, grad_factor,
                     validate_only):
        roles = [("params", params), ("grads", grads), ("state_sums", state_sums)]
        self._launch("adagrad_step", roles, steps, grad_factor, validate_only,
                     dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps))

    def rmsprop_step(self, params, grads, square_avgs, momentum_buffers, grad_avgs, steps, *, lr, alpha, eps,
                     weight_decay, momentum, centered, grad_factor, validate_only):
        if momentum > 0.0 and momentum_buffers is None:
            raise ValueError("momentum_buffers: expected a list of arrays because momentum is set, got None")
        if centered and grad_avgs is None:
            raise ValueError("grad_avgs: expected a list of arrays because centered is set, got None")
        roles = [("params", params), ("grads", grads), ("square_avgs", square_avgs),
                 ("grad_avgs", grad_avgs if centered else None),
                 ("momentum_buffers", momentum_buffers if momentum > 0.0 else None)]
        self._launch("rmsprop_step", roles, steps, grad_factor, validate_only,
                     dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                          centered=centered))

    def adadelta_step(self, params, grads, square_avgs, acc_deltas, steps, *, lr, rho, eps, weight_decay,
                      grad_factor, validate_only):
        roles = [("params", params), ("grads", grads), ("square_avgs", square_avgs), ("acc_deltas", acc_deltas)]
        self._launch("adadelta_step", roles, steps, grad_factor, validate_only,
                     dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay))

    def lion_step(self, params, grads, exp_avgs, *, lr, beta1, beta2, weight_decay, grad_factor,
                  validate_only, steps=None):
        count = len(params) if not _gpu.is_gpu_array(params) else 1
        roles = [("params", params), ("grads", grads), ("exp_avgs", exp_avgs)]
        self._launch("lion_step", roles, [1] * count if steps is None else steps, grad_factor, validate_only,
                     dict(lr=lr, beta1=beta1, beta2=beta2, weight_decay=weight_decay))
