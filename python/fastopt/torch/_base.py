"""The base class of fastopt's torch optimizers: parameter checks, state, AMP and the step driver."""

from __future__ import annotations

from typing import Any, Callable, ClassVar

import torch

from fastopt.optim._checks import check_bool
from fastopt.optim._docstrings import fill_doc
from fastopt.torch._device import as_array, gpu_backend_error, stream_context

# Dtypes the kernels run in, and those stepped through a float32 copy.
KERNEL_DTYPES = (torch.float32, torch.float64)
LOW_PRECISION_DTYPES = (torch.float16, torch.bfloat16)
_CPU = torch.device("cpu")


def kernel_dtype(param: torch.Tensor) -> torch.dtype:
    """Return the dtype of ``param``'s optimizer state: its own, or float32 for 16-bit floats."""
    return param.dtype if param.dtype in KERNEL_DTYPES else torch.float32


def scalar_dtype() -> torch.dtype:
    """Return the dtype torch gives scalar state such as ``step`` (torch.optim.optimizer, 2.13)."""
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32


def check_param(param, name: str) -> None:
    """Raise unless ``param`` is a tensor the kernels can update in place."""
    if not isinstance(param, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(param).__name__}")
    if param.dtype not in KERNEL_DTYPES + LOW_PRECISION_DTYPES:
        raise TypeError(
            f"{name}: expected dtype float32, float64, float16 or bfloat16, got {param.dtype}"
        )
    if param.layout != torch.strided:
        raise TypeError(f"{name}: expected a dense (strided) tensor, got layout {param.layout}")
    if param.device.type not in ("cpu", "cuda"):
        raise ValueError(f"{name}: expected a CPU or CUDA tensor, got device {param.device}")
    if not param.is_contiguous():
        raise ValueError(
            f"{name}: expected a contiguous tensor, got shape {tuple(param.shape)} with strides "
            f"{param.stride()}. fastopt updates parameters in place through a view of their "
            "memory and never copies them; make the parameter contiguous before building the "
            "optimizer (param.data = param.data.contiguous())"
        )


def check_grad(param: torch.Tensor, name: str) -> None:
    """Raise unless ``param.grad`` can be read by the kernels next to ``param``."""
    grad = param.grad
    if grad.is_sparse:
        raise RuntimeError(
            f"{name}: fastopt's optimizers do not support sparse gradients; use "
            "torch.optim.SparseAdam or a dense embedding (sparse=False)"
        )
    if grad.shape != param.shape:
        raise ValueError(
            f"{name}: expected a gradient of shape {tuple(param.shape)}, got {tuple(grad.shape)}"
        )
    if grad.dtype != param.dtype:
        raise TypeError(f"{name}: expected a gradient of dtype {param.dtype}, got {grad.dtype}")
    if grad.device != param.device:
        raise ValueError(
            f"{name}: expected the gradient on the parameter's device {param.device}, "
            f"got {grad.device}"
        )


class _Slot:
    """Kernel views of one CPU parameter and its state, kept across steps while valid.

    Building a NumPy view and re-running :func:`check_param` cost a few
    microseconds per tensor, which on a model with hundreds of small tensors
    is a sizeable part of a step. A slot is trusted only while ``key`` (the
    parameter's data pointer, shape, strides and dtype) is unchanged, so
    ``param.data = ...`` or an in-place resize rebuilds it. A state view is
    trusted while the state dict contains the same tensor at the same address.
    The host copy of ``step`` is trusted while the step tensor is the same
    object and its version counter shows no write since this optimizer's last.
    """

    __slots__ = ("param", "key", "array", "views", "step_tensor", "step_ptr", "step_version",
                 "step_array", "step")

    def __init__(self, param: torch.Tensor, key: tuple):
        self.param = param
        self.key = key
        self.array = param.detach().numpy()
        self.views: dict[str, tuple[torch.Tensor, int, Any]] = {}
        self.step_tensor = None
        self.step_ptr = 0
        self.step_version = -1
        self.step_array = None
        self.step = 0

    def view(self, tensor: torch.Tensor, name: str):
        """Build and keep the kernel array of state entry ``name``, whose tensor is ``tensor``."""
        array = as_array(tensor)
        self.views[name] = (tensor, tensor.data_ptr(), array)
        return array

    def read_step(self, value) -> int:
        """Read the count of the ``step`` entry ``value`` and keep a host copy of it.

        Only a CPU scalar tensor gets a copy, and a NumPy view through which
        the step writes the next count without a torch call per tensor. The
        copy is valid while ``value`` is the tensor it was read from, at the
        same address, with no in-place write since (its version counter).
        """
        count = int(value)
        self.step_tensor, self.step_array = None, None
        if isinstance(value, torch.Tensor) and value.is_cpu and value.dim() == 0 and not value.requires_grad:
            self.step_tensor, self.step_ptr, self.step_version = value, value.data_ptr(), value._version
            self.step_array = value.numpy()
            self.step = count
        return count


def _param_key(param: torch.Tensor) -> tuple:
    return (param.data_ptr(), param.shape, param.stride(), param.dtype, param.is_cpu)


def _fast_grad(grad: torch.Tensor, slot: _Slot):
    """Return a NumPy view of ``grad`` when it is a dense CPU gradient laid out as the parameter.

    Returns None for anything else (wrong shape, dtype or device, sparse,
    strided, requiring grad), which the caller then checks and converts the
    slow way, with :func:`check_grad`'s messages. Gradient views are not
    kept across steps: a view keeps its gradient's memory alive, which
    ``zero_grad()`` means to free before the next backward pass.
    """
    try:
        array = grad.numpy()
    except (RuntimeError, TypeError):
        return None
    reference = slot.array
    if array.dtype != reference.dtype or array.shape != reference.shape or array.strides != reference.strides:
        return None
    return array


class Bucket:
    """The parameters of one group on one device and kernel dtype, as kernel arrays.

    ``params`` and ``grads`` are the arrays the kernel reads and writes: the
    parameter itself, its float32 master copy, or a float32 copy of a 16-bit
    parameter that :meth:`write_back` rounds back into it.
    """

    def __init__(self, device: torch.device):
        self.device = device
        self.tensors: list[torch.Tensor] = []
        self.states: list[dict[str, Any]] = []
        self.params: list = []
        self.grads: list = []
        self.steps: list[int] = []
        #: Scalar state the rule updates in place, such as NAdam's mu_product.
        self.scalars: list[float] = []
        #: The cached views of each parameter, None for one stepped the slow way.
        self.slots: list[_Slot | None] = []
        #: Slots whose step tensor advances through the host copy, and the other step tensors.
        self.counted: list[_Slot] = []
        self.step_tensors: list[torch.Tensor] = []
        self._write_back: list[tuple[torch.Tensor, torch.Tensor]] = []

    def add_cached(self, param: torch.Tensor, state: dict[str, Any], slot: _Slot, grad) -> None:
        """Add a CPU parameter of a kernel dtype through its slot and checked gradient view."""
        self.tensors.append(param)
        self.states.append(state)
        self.slots.append(slot)
        self.params.append(slot.array)
        self.grads.append(grad)
        if "step" in state:
            value = state["step"]
            # The host copy is valid (see _Slot.read_step): the usual case, tested inline.
            if (value is slot.step_tensor and value._version == slot.step_version
                    and value.data_ptr() == slot.step_ptr):
                self.steps.append(slot.step + 1)
                self.counted.append(slot)
            else:
                self.steps.append(slot.read_step(value) + 1)
                if value is slot.step_tensor:
                    self.counted.append(slot)
                elif isinstance(value, torch.Tensor):
                    self.step_tensors.append(value)

    def add(self, param: torch.Tensor, state: dict[str, Any], master_weights: bool) -> None:
        grad = param.grad.detach()
        if param.dtype in KERNEL_DTYPES:
            work = param
            # Gradients are only read, so a strided one may be copied.
            grad = grad.contiguous()
        else:
            if master_weights:
                work = state["master_param"]
            else:
                work = param.detach().to(torch.float32, memory_format=torch.contiguous_format)
            self._write_back.append((param, work))
            grad = grad.to(torch.float32, memory_format=torch.contiguous_format)
        self.tensors.append(param)
        self.states.append(state)
        self.slots.append(None)
        self.params.append(as_array(work))
        self.grads.append(as_array(grad))
        if "step" in state:
            self.steps.append(int(state["step"]) + 1)
            if isinstance(state["step"], torch.Tensor):
                self.step_tensors.append(state["step"])

    def state(self, name: str) -> list:
        """Return the kernel arrays of state entry ``name``, one per parameter."""
        arrays = []
        for s, slot in zip(self.states, self.slots):
            tensor = s[name]
            if slot is None:
                arrays.append(as_array(tensor))
                continue
            # The view is valid while the state has the same tensor at the same address.
            cached = slot.views.get(name)
            if cached is not None and cached[0] is tensor and tensor.data_ptr() == cached[1]:
                arrays.append(cached[2])
            else:
                arrays.append(slot.view(tensor, name))
        return arrays

    def write_back(self) -> None:
        """Round the float32 copies of 16-bit parameters back into the parameters."""
        for param, work in self._write_back:
            param.detach().copy_(work)


@fill_doc
class Optimizer(torch.optim.Optimizer):
    """A ``torch.optim.Optimizer`` whose update runs fastopt's fused kernels.

    A subclass sets ``check_hyperparameters`` (validate and normalize one
    group, naming the group in each message), ``init_state`` (the state of a
    parameter before its first step) and ``update`` (call the rule's function
    of :mod:`fastopt.optim.functional` on one :class:`Bucket`).

    Every check runs before the first kernel writes, so a bad parameter,
    gradient or hyperparameter in any group leaves every parameter unchanged.

    Parameters
    ----------
    {torch_params}
    defaults : dict
        Default hyperparameters of the subclass, for the groups that do not set their own.
    {master_weights}

    Examples
    --------
    A subclass is used as any ``torch.optim`` optimizer:

    >>> import torch
    >>> from fastopt.torch import Adam
    >>> _ = torch.manual_seed(0)
    >>> model = torch.nn.Linear(3, 1)
    >>> X = torch.randn(64, 3)
    >>> y = X @ torch.tensor([1.0, -2.0, 0.5]) + 0.3
    >>> opt = Adam(model.parameters(), lr=0.01)
    >>> for _ in range(500):
    ...     opt.zero_grad()
    ...     loss = torch.nn.functional.mse_loss(model(X).squeeze(1), y)
    ...     loss.backward()
    ...     opt.step()
    >>> loss.item() < 1e-2
    True
    """

    #: torch.amp.GradScaler passes ``grad_scale`` and ``found_inf`` as
    #: attributes to an optimizer that declares this (torch/amp/grad_scaler.py).
    _step_supports_amp_scaling = True

    #: The rule's function in :mod:`fastopt.optim.functional`.
    rule: ClassVar[Callable[..., Any]]
    #: State tensors per parameter, in the order ``rule`` takes them after the gradients.
    state_names: ClassVar[tuple[str, ...]] = ()
    #: Options that only set up the state, which ``rule`` does not take.
    setup_options: ClassVar[tuple[str, ...]] = ()

    def __init__(self, params, defaults: dict[str, Any], master_weights: bool = False):
        check_bool("master_weights", master_weights)
        # The keywords of ``rule``, fixed here because torch adds its own keys
        # (differentiable) to ``self.defaults`` when a state dict is loaded.
        self._rule_options = tuple(k for k in defaults if k not in self.setup_options)
        defaults = dict(defaults, master_weights=master_weights)
        self.check_hyperparameters(dict(defaults), "")
        #: The slot of each CPU parameter by id(param). A slot keeps its parameter alive, so ids stay unique.
        self._slots: dict[int, _Slot] = {}
        super().__init__(params, defaults)

    def __getstate__(self) -> dict[str, Any]:
        # torch pickles and deep-copies its own attributes only.
        return {**super().__getstate__(), "_rule_options": self._rule_options}

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        # Views of the original tensors would write into them; a copy rebuilds its own.
        self._slots = {}

    # -- subclass interface -------------------------------------------------

    def check_hyperparameters(self, group: dict[str, Any], prefix: str) -> None:
        """Validate and normalize the hyperparameters of ``group`` in place.

        Parameters
        ----------
        group : dict
            Hyperparameters of one group, by name.
        prefix : str
            Start of every error message: ``"param_groups[1]."``, or empty for the
            defaults.
        """
        raise NotImplementedError

    def init_state(self, group: dict[str, Any], param: torch.Tensor, state: dict[str, Any]) -> None:
        """Fill the empty ``state`` of ``param``: a ``step`` count and zeros for every state name.

        Parameters
        ----------
        group : dict
            Hyperparameters of the parameter group.
        param : torch.Tensor
            The parameter.
        state : dict
            Its state, empty before the call.
        """
        state["step"] = torch.tensor(0.0, dtype=scalar_dtype())
        for name in self.state_names:
            state[name] = self.zeros(param)

    def state_arrays(self, group: dict[str, Any], bucket: Bucket) -> list:
        """Return the state arguments of ``rule`` for ``bucket``.

        Parameters
        ----------
        group : dict
            Hyperparameters of the parameter group.
        bucket : Bucket
            The group's parameters that have a gradient, with their gradients and state.

        Returns
        -------
        list
            One list of state tensors (or None) per state argument of ``rule``.
        """
        return [bucket.state(name) for name in self.state_names]

    def update(self, group: dict[str, Any], bucket: Bucket, grad_scale: float | None) -> None:
        """Run ``rule`` over one bucket with the group's hyperparameters.

        Parameters
        ----------
        group : dict
            Hyperparameters of the parameter group.
        bucket : Bucket
            The group's parameters that have a gradient, with their gradients and state.
        grad_scale : float or None
            Loss scale of ``torch.amp.GradScaler``, which the gradients are divided by.
        """
        self.call_rule(group, bucket, self.state_arrays(group, bucket), bucket.steps, grad_scale)

    def call_rule(self, group, bucket: Bucket, states: list, steps: list[int], grad_scale) -> None:
        """Call ``rule`` with the group's hyperparameters, those of the constructor only.

        Parameters
        ----------
        group : dict
            Hyperparameters of the parameter group.
        bucket : Bucket
            The group's parameters that have a gradient, with their gradients and state.
        states : list
            State arguments of ``rule``, from :meth:`state_arrays`.
        steps : list of int
            Number of this update for each parameter, starting at 1.
        grad_scale : float or None
            Loss scale of ``torch.amp.GradScaler``, which the gradients are divided by.
        """
        options = {key: group[key] for key in self._rule_options}
        if steps and steps.count(steps[0]) == len(steps):
            # The usual case: one count for the whole bucket, which the rule
            # takes as an int instead of checking a list element by element.
            steps = steps[0]
        # GradScaler has checked the gradients before it passes a scale, so
        # the kernel only divides by it and reads each gradient once.
        type(self).rule(bucket.params, bucket.grads, *states, step=steps, grad_scale=grad_scale,
                        check_finite=False, **options)

    # -- torch.optim.Optimizer ----------------------------------------------

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Check a parameter group and add it, as ``torch.optim.Optimizer.add_param_group``.

        Parameters
        ----------
        param_group : dict
            ``"params"`` and any hyperparameters; the others take the defaults.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group: expected a dict, got {type(param_group).__name__}")
        index = len(self.param_groups)
        params = param_group.get("params")
        if params is None:
            raise ValueError(f"param_groups[{index}]: missing the 'params' key")
        if not isinstance(params, (torch.Tensor, set)):
            # A generator (model.parameters()) is read once, here.
            param_group = {**param_group, "params": list(params)}
        items = [params] if isinstance(params, torch.Tensor) else param_group["params"]
        if not isinstance(items, set):
            # torch rejects sets itself, with the reason (iteration order).
            for i, p in enumerate(items):
                check_param(p, f"param_groups[{index}]['params'][{i}]")
        merged = {**self.defaults, **param_group}
        self.check_hyperparameters(merged, f"param_groups[{index}].")
        super().add_param_group(param_group)

    @torch.no_grad()
    def step(self, closure=None):
        """Update every parameter that has a gradient; return the closure's loss, if any.

        Under ``torch.amp.GradScaler`` the scaler sets ``self.grad_scale`` and
        ``self.found_inf``. Gradients are then divided by the scale inside the
        update, and when ``found_inf`` is nonzero the step is skipped: no
        parameter, state entry or step count changes.

        Parameters
        ----------
        closure : callable, optional
            Function that zeroes the gradients, computes the loss, calls
            ``backward`` and returns the loss.

        Returns
        -------
        torch.Tensor or None
            The loss returned by ``closure``, or None without one.
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        grad_scale = getattr(self, "grad_scale", None)
        found_inf = getattr(self, "found_inf", None)
        # NOTE: reading found_inf on the host synchronizes a CUDA stream once per
        # step; torch's fused CUDA kernels read it on the device instead.
        if found_inf is not None and float(found_inf) != 0.0:
            return loss
        scale = None if grad_scale is None else float(grad_scale)

        # 1. Check every group before any state is created or any kernel writes.
        checked = []
        for index, group in enumerate(self.param_groups):
            prefix = f"param_groups[{index}]." if len(self.param_groups) > 1 else ""
            self.check_hyperparameters(group, prefix)
            checked.append(self._check_params(index, group))
        if len(self._slots) > sum(len(group["params"]) for group in self.param_groups):
            # A parameter left its group: drop its slot, which keeps its memory alive.
            current = {id(p) for group in self.param_groups for p in group["params"]}
            self._slots = {key: slot for key, slot in self._slots.items() if key in current}

        # 2. One fused call per group, device and kernel dtype.
        tensors = []
        counted = []
        for group, entries in zip(self.param_groups, checked):
            for bucket in self._buckets(group, entries):
                with stream_context(bucket.device):
                    self.update(group, bucket, scale)
                    bucket.write_back()
                tensors.extend(bucket.step_tensors)
                counted.extend(bucket.counted)

        # 3. Count the step only after every update went through.
        if tensors:
            torch._foreach_add_(tensors, 1.0)
        for slot in counted:
            # A NumPy write leaves the tensor's version counter, so the host copy stays valid.
            slot.step += 1
            slot.step_array[()] = slot.step
        return loss

    def _check_params(self, index: int, group: dict[str, Any]) -> list[tuple]:
        """Check each parameter that has a gradient, and the gradient, in order.

        Returns ``(param, slot, grad view)`` per parameter. Slot and view are
        None where the parameter is stepped the slow way: CUDA, 16-bit, or a
        gradient that needs a copy. A parameter whose slot is still valid
        passed :func:`check_param` unchanged, so only its gradient is checked.
        Any failure goes through the full checks, which raise their messages.
        """
        slots = self._slots
        entries = []
        for i, p in enumerate(group["params"]):
            grad = p.grad
            if grad is None:
                continue
            slot = slots.get(id(p))
            if slot is not None and slot.param is p and _param_key(p) == slot.key:
                array = _fast_grad(grad, slot)
                if array is not None:
                    entries.append((p, slot, array))
                    continue
            else:
                slot = None
            name = f"param_groups[{index}]['params'][{i}]"
            if slot is None:
                check_param(p, name)
            check_grad(p, f"{name}.grad")
            if p.device.type == "cuda":
                reason = gpu_backend_error()
                if reason is not None:
                    raise RuntimeError(f"{name}: cannot step a CUDA tensor: {reason}")
            array = None
            if slot is None and p.device.type == "cpu" and p.dtype in KERNEL_DTYPES:
                slot = slots[id(p)] = _Slot(p, _param_key(p))
                array = _fast_grad(grad, slot)
            elif slot is not None:
                array = _fast_grad(grad, slot)
            entries.append((p, slot if array is not None else None, array))
        return entries

    def _buckets(self, group: dict[str, Any], entries: list[tuple]) -> list[Bucket]:
        buckets: dict[tuple[torch.device, torch.dtype], Bucket] = {}
        for p, slot, grad in entries:
            state = self.state[p]
            if not state:
                self.init_state(group, p, state)
            if slot is not None:
                key = (_CPU, slot.key[3])
                if key not in buckets:
                    buckets[key] = Bucket(_CPU)
                buckets[key].add_cached(p, state, slot, grad)
                continue
            if p.dtype in LOW_PRECISION_DTYPES and group["master_weights"] and "master_param" not in state:
                state["master_param"] = p.detach().to(
                    torch.float32, memory_format=torch.contiguous_format, copy=True)
            key = (p.device, kernel_dtype(p))
            if key not in buckets:
                buckets[key] = Bucket(p.device)
            buckets[key].add(p, state, group["master_weights"])
        return list(buckets.values())

    def zeros(self, param: torch.Tensor) -> torch.Tensor:
        """Create a zero state tensor for ``param`` in its kernel dtype.

        Parameters
        ----------
        param : torch.Tensor
            The parameter.

        Returns
        -------
        torch.Tensor
            Zeros of the shape of ``param``, float32 for a 16-bit parameter.
        """
        return torch.zeros(param.shape, dtype=kernel_dtype(param), device=param.device)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state dict of this class or of the matching ``torch.optim`` class.

        torch casts every floating-point state tensor to its parameter's dtype.
        Here the state of a 16-bit parameter (its master copy included) is
        float32, so it is restored from the saved tensors instead.

        Parameters
        ----------
        state_dict : dict
            A dict returned by ``state_dict()``.
        """
        saved_state = state_dict.get("state", {}) if isinstance(state_dict, dict) else {}
        self._slots.clear()
        super().load_state_dict(state_dict)
        # A torch.optim state dict lacks fastopt's options (master_weights);
        # they take the constructor's values, as torch fills its own new options.
        for group in self.param_groups:
            for key, value in self.defaults.items():
                group.setdefault(key, value)
        saved_ids = [i for g in state_dict["param_groups"] for i in g["params"]]
        params = [p for g in self.param_groups for p in g["params"]]
        for saved_id, p in zip(saved_ids, params):
            state = self.state.get(p)
            if not state:
                continue
            for name, value in list(state.items()):
                # Scalars (step, NAdam's mu_product) stay as torch loaded them.
                if not isinstance(value, torch.Tensor) or value.dim() == 0:
                    continue
                source = saved_state[saved_id][name]
                state[name] = source.detach().to(
                    device=p.device, dtype=kernel_dtype(p), memory_format=torch.contiguous_format,
                    copy=True,
                )
            if "step" in state and not isinstance(state["step"], torch.Tensor):
                state["step"] = torch.tensor(float(state["step"]), dtype=scalar_dtype())
