"""The base class of fastopt's optimizers for NumPy arrays."""

from __future__ import annotations

import copy
import numbers
import re
from typing import Any, ClassVar

import numpy as np

from fastopt import _core
from fastopt._exclusive import exclusive
from fastopt._gpu import as_cupy, check_one_device, cuda_module, is_gpu_array
from fastopt.callbacks import CallbackRunner, Logs, TrainingLoop, check_callbacks
from fastopt.optim._docstrings import fill_doc
from fastopt.optim._step import StepResult, gradient_factor, needs_prepass


def _as_param_list(params, where: str) -> list:
    if isinstance(params, np.ndarray) or is_gpu_array(params):
        params = [params]
    try:
        items = list(params)
    except TypeError:
        raise TypeError(f"{where}: expected a numpy array or a list of them, got {type(params).__name__}") from None
    for i, p in enumerate(items):
        if is_gpu_array(p):
            # A CUDA torch tensor or another __cuda_array_interface__ array
            # becomes a CuPy view of the same memory.
            cuda_module()  # the first GPU use: raises if the module, a device or CuPy is missing
            items[i] = p = as_cupy(p)
            if str(p.dtype) not in ("float16", "bfloat16", "float32", "float64"):
                raise TypeError(
                    f"{where}[{i}]: expected dtype float16, bfloat16, float32 or float64 on the GPU, got {p.dtype}"
                )
            continue
        if not isinstance(p, np.ndarray):
            raise TypeError(f"{where}[{i}]: expected a numpy.ndarray or a CuPy array, got {type(p).__name__}")
        if p.dtype not in (np.float32, np.float64):
            raise TypeError(f"{where}[{i}]: expected dtype float32 or float64, got {p.dtype}")
    return items


def zeros_state(param):
    """Return a zeroed state array for ``param``: float32 state for float16 and bfloat16 parameters."""
    return full_state(param, 0.0)


def full_state(param, value: float):
    """Return a state array for ``param`` filled with ``value``, on ``param``'s device."""
    if is_gpu_array(param):
        import cupy

        from fastopt.optim._gpu_step import state_dtype

        with param.device:
            return cupy.full(param.shape, value, dtype=state_dtype(param.dtype))
    return np.full_like(param, value)


def _scalars_to_device(state: dict[str, Any], param) -> dict[str, Any]:
    """Move the Python numbers of a GPU parameter's state (step, mu_product) to 0-d device arrays.

    The kernels read and advance them there, so a step never waits for the host.
    """
    if not is_gpu_array(param):
        return state
    import cupy

    with param.device:
        for key, value in state.items():
            if isinstance(value, bool):
                continue
            if isinstance(value, numbers.Integral):
                state[key] = cupy.full((), value, dtype=cupy.int64)
            elif isinstance(value, numbers.Real):
                state[key] = cupy.full((), value, dtype=cupy.float64)
    return state


def _span(array) -> tuple[int, int]:
    if is_gpu_array(array):
        return array.data.ptr, array.data.ptr + array.nbytes
    return byte_bounds(array)


try:
    from numpy.lib.array_utils import byte_bounds
except ImportError:  # NumPy < 2.0
    from numpy import byte_bounds

# An argument and list position in a kernel's message, such as "grads[3]".
_POSITION = re.compile(r"\b([a-z_]+)\[(\d+)\]")


def _renumber(message: str, positions: list[int]) -> str:
    """Rewrite positions within one kernel call as positions in the caller's gradient list."""

    def replace(match):
        k = int(match.group(2))
        return f"{match.group(1)}[{positions[k]}]" if k < len(positions) else match.group(0)

    return _POSITION.sub(replace, message)


def _hyperparameters(group: dict[str, Any]) -> list[tuple[str, type, Any]]:
    # Types are part of the snapshot because True == 1.0 in Python, and a
    # bool learning rate must be re-validated (and rejected).
    return [(k, type(v), v) for k, v in group.items() if k != "params"]


@fill_doc
class Optimizer:
    """Base class: parameter groups, lazily created state, and the step driver.

    A subclass sets ``state_names`` (the per-parameter arrays it keeps, in the
    order its kernel takes them), implements ``check_group`` to validate and
    normalize one group's hyperparameters, and ``update_group`` to run its
    fused kernel over one group. Parameters are NumPy arrays, or CuPy arrays
    on one GPU (see fastopt.optim._gpu_step), updated in place.

    :meth:`step` takes the gradients in the order of the parameters across all
    groups, as a list with one entry per parameter. A None entry skips its
    parameter, like a missing ``.grad`` in torch. With one parameter, one
    array may be passed instead of a list.

    Every optimizer takes ``callbacks``, :mod:`fastopt.callbacks` objects such
    as ``EarlyStopping``. The training loop is the caller's, so the caller
    reports the end of each epoch with :meth:`end_epoch`, whose keywords are
    the callbacks' logs, and stops when it returns True. The callbacks'
    snapshots are copies of the parameters (not of the optimizer state), and
    a restore writes them back into the parameter arrays in place.

    Parameters
    ----------
    {params}
    defaults : dict
        Default hyperparameters of the subclass, for the groups that do not set
        their own. :meth:`check_group` validates them first.
    {callbacks}

    Raises
    ------
    ValueError
        If ``params`` is empty, a hyperparameter is out of range, or a
        parameter appears twice.

    Examples
    --------
    Early stopping on a loss that stops improving: after two epochs without
    improvement the loop stops, and the parameters return to their value at the
    best epoch (after two steps):

    >>> import numpy as np
    >>> from fastopt.callbacks import EarlyStopping
    >>> from fastopt.optim import SGD
    >>> w = np.array([4.0])
    >>> opt = SGD([w], lr=0.1, callbacks=[EarlyStopping("loss", patience=2)])
    >>> for epoch, loss in enumerate([3.0, 2.0, 2.5, 2.6, 1.0]):
    ...     _ = opt.step([np.ones(1)])
    ...     if opt.end_epoch(loss=loss):
    ...         break
    >>> epoch, w
    (3, array([3.8]))

    A step whose gradient is not finite changes nothing when ``check_finite`` is on:

    >>> opt.step([np.array([np.inf])], check_finite=True)
    StepResult(found_inf=True, grad_norm=inf)
    >>> w
    array([3.8])
    """

    state_names: ClassVar[tuple[str, ...]] = ()

    #: ``state[id(param)]`` is the state dict of ``param``; see :meth:`state_dict`
    #: for a copy keyed by position, as torch saves it.
    state: dict[int, dict[str, Any]]

    def __init__(self, params, defaults: dict[str, Any], *, callbacks=None):
        self.callbacks = check_callbacks(callbacks)
        self._runner: CallbackRunner | None = None
        self.defaults = dict(defaults)
        self.check_group(dict(self.defaults), "")
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[int, dict[str, Any]] = {}
        # Hyperparameters of each group as last validated; a step re-validates
        # a group only when a value changed (a schedule, or a caller's edit).
        self._validated: dict[int, list[tuple[str, type, Any]]] = {}
        # The step functions of update_group: fastopt._core for NumPy
        # parameters, fastopt.optim._gpu_step.GpuKernels for GPU parameters.
        self.kernels = _core
        self._on_gpu: bool | None = None
        if isinstance(params, np.ndarray) or is_gpu_array(params):
            groups = [{"params": [params]}]
        else:
            groups = list(params)
            if not groups:
                raise ValueError("params: expected at least one parameter, got an empty list")
            if not isinstance(groups[0], dict):
                groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # -- subclass interface -------------------------------------------------

    def check_group(self, group: dict[str, Any], prefix: str) -> None:
        """Validate and normalize ``group``'s hyperparameters in place.

        Parameters
        ----------
        group : dict
            Hyperparameters of one group, by name.
        prefix : str
            Start of every error message: ``"param_groups[1]."``, or empty for
            the defaults.
        """
        raise NotImplementedError

    def init_state(self, group: dict[str, Any], param: np.ndarray) -> dict[str, Any]:
        """Create the state of ``param`` before its first step.

        Parameters
        ----------
        group : dict
            Hyperparameters of the group of ``param``.
        param : numpy.ndarray
            The parameter.

        Returns
        -------
        dict
            ``{"step": 0}`` and, by default, a zero array for each name in
            ``state_names``.
        """
        state: dict[str, Any] = {"step": 0}
        for name in self.state_names:
            state[name] = zeros_state(param)
        return state

    def update_group(self, group, params, grads, states, steps, grad_factor, validate_only) -> None:
        """Run the fused kernel over one group, or only validate its arrays.

        Parameters
        ----------
        group : dict
            Hyperparameters of the group.
        params, grads : list of numpy.ndarray
            The group's parameters that have a gradient, and their gradients.
        states : list of dict
            State of each of those parameters.
        steps : list of int
            Number of this update for each parameter, starting at 1.
        grad_factor : float
            Factor that the kernel applies to every gradient: ``1 / grad_scale``
            times the clipping factor.
        validate_only : bool
            Check the arrays as the kernel would, and change nothing.
        """
        raise NotImplementedError

    # -- public API ---------------------------------------------------------

    @property
    def params(self) -> list[np.ndarray]:
        """All parameters, in group order: the order :meth:`step` expects gradients in."""
        return [p for group in self.param_groups for p in group["params"]]

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyperparameters.

        Parameters
        ----------
        param_group : dict
            ``"params"`` (an array or a list of arrays, none already in a group) and any
            hyperparameters of the optimizer; the others take the optimizer's defaults.

        Raises
        ------
        TypeError
            For a ``param_group`` that is not a dict or has unknown hyperparameters.
        ValueError
            For a missing ``"params"`` key, an array already in a group, or an invalid
            hyperparameter.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group: expected a dict, got {type(param_group).__name__}")
        index = len(self.param_groups)
        if "params" not in param_group:
            raise ValueError(f"param_groups[{index}]: missing the 'params' key")
        group = dict(param_group)
        group["params"] = _as_param_list(group["params"], f"param_groups[{index}]['params']")
        unknown = set(group) - set(self.defaults) - {"params", "initial_lr"}
        if unknown:
            raise TypeError(f"param_groups[{index}]: unexpected hyperparameters {sorted(unknown)}")
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self.check_group(group, f"param_groups[{index}].")

        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for i, p in enumerate(group["params"]):
            if id(p) in seen:
                raise ValueError(
                    f"param_groups[{index}]['params'][{i}]: this array already appears in a parameter group"
                )
            seen.add(id(p))
        every = [p for g in [*self.param_groups, group] for p in g["params"]]
        self._on_gpu = check_one_device(params=every)
        self._check_disjoint([*self.param_groups, group])
        self.param_groups.append(group)

    @staticmethod
    def _check_disjoint(groups) -> None:
        """Raise if two parameters share memory: a step would update the shared part twice."""
        spans = []
        for gi, g in enumerate(groups):
            for pi, p in enumerate(g["params"]):
                if p.size:
                    low, high = _span(p)
                    spans.append((low, high, f"param_groups[{gi}]['params'][{pi}]"))
        spans.sort()
        for (_, prev_high, prev_name), (low, _, name) in zip(spans, spans[1:]):
            if low < prev_high:
                raise ValueError(
                    f"{name} and {prev_name} share memory; every parameter must be a separate "
                    "buffer (pass a copy)"
                )

    def step(self, grads, *, grad_scale=None, check_finite=None, max_grad_norm=None) -> StepResult:
        """Update every parameter that has a gradient, in place.

        Parameters
        ----------
        grads : numpy.ndarray or list of (numpy.ndarray or None)
            One gradient per parameter, in the order of :attr:`params`.
        grad_scale : float, optional
            The loss scale of mixed-precision training: gradients are divided
            by it inside the update. Turns on ``check_finite`` by default.
        check_finite : bool, optional
            Skip the whole step, changing nothing, when any gradient contains
            inf or NaN. The result reports the skip in ``found_inf``.
        max_grad_norm : float, optional
            Clip the global L2 norm of the unscaled gradients to this value,
            as ``torch.nn.utils.clip_grad_norm_`` would, without writing them.

        Returns
        -------
        StepResult
            Whether the step was skipped for a non-finite gradient, and the global
            gradient norm when clipping or the finiteness check computed it.
        """
        with exclusive(self, "step"):
            all_params = self.params
            if isinstance(grads, np.ndarray) or is_gpu_array(grads):
                grad_list = [grads]
            elif isinstance(grads, (list, tuple)):
                grad_list = list(grads)
            else:
                raise TypeError(
                    f"grads: expected a numpy array or a list of arrays (None skips a parameter), "
                    f"got {type(grads).__name__}"
                )
            if len(grad_list) != len(all_params):
                raise ValueError(f"grads: expected {len(all_params)} gradients to match params, got {len(grad_list)}")

            # 1. Collect each group's arrays and validate them all before any write.
            plans = []
            position = 0
            for index, group in enumerate(self.param_groups):
                self._check_group_if_changed(index, group)
                params, group_grads, states, positions = [], [], [], []
                for p in group["params"]:
                    g = grad_list[position]
                    position += 1
                    if g is None:
                        continue
                    state = self.state.get(id(p))
                    if state is None:
                        state = self._new_state(group, p)
                    params.append(p)
                    group_grads.append(g)
                    states.append(state)
                    positions.append(position - 1)
                plans.append((group, params, group_grads, states, positions))
            if self._on_gpu or any(is_gpu_array(g) for g in grad_list if g is not None):
                check_one_device(params=all_params, grads=grad_list)
                return self._step_gpu(plans, grad_scale, check_finite, max_grad_norm)
            # Each kernel call validates before it writes, so one group (the usual
            # case) needs no separate validation unless a pre-pass reads first.
            active = [plan for plan in plans if plan[1]]
            if len(active) > 1 or needs_prepass(grad_scale, check_finite, max_grad_norm):
                for group, params, group_grads, states, positions in active:
                    steps = [s["step"] + 1 for s in states]
                    self._update(group, params, group_grads, states, steps, 1.0, True, positions)

            # 2. One read-only pass for the global norm and non-finite check, if asked.
            present = [g for plan in plans for g in plan[2]]
            factor, result = gradient_factor(
                present, grad_scale=grad_scale, check_finite=check_finite, max_grad_norm=max_grad_norm
            )
            if result.found_inf:
                return result

            # 3. The fused update, one call per group.
            for group, params, group_grads, states, positions in active:
                steps = [s["step"] + 1 for s in states]
                group_factor = -factor if group.get("maximize", False) else factor
                self._update(group, params, group_grads, states, steps, group_factor, False, positions)
                for p, state, step in zip(params, states, steps):
                    state["step"] = step
                    self.state[id(p)] = state
            return result

    def end_epoch(self, **logs) -> bool:
        """Run the callbacks' end-of-iteration hooks and tell whether training should stop.

        The first call starts the callbacks. When a callback requests a stop,
        :meth:`end_training` runs before this returns.

        Parameters
        ----------
        **logs
            Values of this epoch that the callbacks read, for example
            ``end_epoch(loss=train_loss, val_loss=validation_loss)``.

        Returns
        -------
        bool
            True when a callback requests a stop; always False without callbacks.
        """
        if not self.callbacks:
            return False
        if self._runner is None:
            loop = TrainingLoop(snapshot=self._snapshot_params, restore=self._restore_params)
            self._runner = CallbackRunner(self.callbacks, loop).begin()
        stop = self._runner.iteration(Logs(logs))
        if stop:
            self.end_training()
        return stop

    def end_training(self) -> None:
        """Run the callbacks' end-of-training hooks (a restore of the best parameters).

        Call it when the loop ends for another reason than a callback; a
        later :meth:`end_epoch` starts the callbacks afresh.
        """
        if self._runner is not None:
            runner, self._runner = self._runner, None
            runner.end()

    def _snapshot_params(self) -> list:
        return [p.copy() for p in self.params]

    def _restore_params(self, saved: list) -> None:
        for param, value in zip(self.params, saved):
            param[...] = value

    def _new_state(self, group, param) -> dict[str, Any]:
        return _scalars_to_device(self.init_state(group, param), param)

    def _step_gpu(self, plans, grad_scale, check_finite, max_grad_norm) -> StepResult:
        """Run a step on the GPU without waiting for it: see fastopt.optim._gpu_step."""
        from fastopt.optim._gpu_step import GpuKernels, gpu_prepass

        active = [plan for plan in plans if plan[1]]
        self.kernels = GpuKernels()
        for group, params, group_grads, states, positions in active:
            steps = [s["step"] for s in states]
            self._update(group, params, group_grads, states, steps, 1.0, True, positions)

        present = [g for plan in plans for g in plan[2]]
        factor, step, result = gpu_prepass(
            present, grad_scale=grad_scale, check_finite=check_finite, max_grad_norm=max_grad_norm, maximize=False
        )
        self.kernels = GpuKernels(step)
        for group, params, group_grads, states, positions in active:
            steps = [s["step"] for s in states]
            group_factor = -factor if group.get("maximize", False) else factor
            self._update(group, params, group_grads, states, steps, group_factor, False, positions)
            for p, state in zip(params, states):
                self.state[id(p)] = state
        self.kernels = GpuKernels()
        return result

    def _update(self, group, params, grads, states, steps, grad_factor, validate_only, positions):
        try:
            self.update_group(group, params, grads, states, steps, grad_factor, validate_only)
        except (TypeError, ValueError) as exc:
            # The kernel numbers the arrays of this call; the caller numbers its
            # whole gradient list, with None entries and other groups in it.
            raise type(exc)(_renumber(str(exc), positions)) from None

    def _check_group_if_changed(self, index: int, group: dict[str, Any]) -> None:
        if self._validated.get(index) == _hyperparameters(group):
            return
        self.check_group(group, f"param_groups[{index}]." if len(self.param_groups) > 1 else "")
        self._validated[index] = _hyperparameters(group)

    def state_dict(self) -> dict[str, Any]:
        """Return the optimizer state as a dict that :meth:`load_state_dict` accepts.

        Like torch, ``state`` is keyed by the parameter's position in
        :attr:`params` and each group lists its parameters by position. The
        arrays are copies, so the dict does not change as training goes on.

        Returns
        -------
        dict
            ``{"state": {index: {name: value}}, "param_groups": [group, ...]}``.
        """
        index_of = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = []
            for p in group["params"]:
                index_of[id(p)] = len(index_of)
                packed["params"].append(index_of[id(p)])
            groups.append(packed)
        state = {}
        for p in self.params:
            s = self.state.get(id(p))
            if s is not None:
                state[index_of[id(p)]] = {
                    k: (v.copy() if isinstance(v, np.ndarray) or is_gpu_array(v) else v) for k, v in s.items()
                }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyperparameters and state saved by :meth:`state_dict`.

        Arrays are copied into new buffers of each parameter's dtype and shape;
        everything is validated before the optimizer changes.

        Parameters
        ----------
        state_dict : dict
            A dict returned by :meth:`state_dict` of an optimizer of the same class with
            the same parameter groups.

        Raises
        ------
        ValueError
            When the dict lacks "state" or "param_groups", or its groups, parameter
            counts, state names or array shapes do not match this optimizer.
        """
        with exclusive(self, "load_state_dict"):
            try:
                saved_groups = state_dict["param_groups"]
                saved_state = state_dict["state"]
            except (KeyError, TypeError):
                raise ValueError("state_dict: expected a dict with keys 'state' and 'param_groups'") from None
            if len(saved_groups) != len(self.param_groups):
                raise ValueError(
                    f"state_dict: expected {len(self.param_groups)} parameter groups, got {len(saved_groups)}"
                )
            all_params = self.params
            group_of = {id(p): g for g in self.param_groups for p in g["params"]}
            new_groups = []
            for index, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
                if len(saved["params"]) != len(group["params"]):
                    raise ValueError(
                        f"state_dict['param_groups'][{index}]: expected {len(group['params'])} parameters, "
                        f"got {len(saved['params'])}"
                    )
                restored = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
                restored["params"] = group["params"]
                self.check_group(restored, f"state_dict['param_groups'][{index}].")
                new_groups.append(restored)

            new_state = {}
            for key, saved in saved_state.items():
                if not isinstance(key, int) or not 0 <= key < len(all_params):
                    raise ValueError(f"state_dict['state']: expected keys in [0, {len(all_params)}), got {key!r}")
                p = all_params[key]
                entry = {}
                for name, value in saved.items():
                    if is_gpu_array(value) and as_cupy(value).ndim == 0:
                        value = as_cupy(value).item()  # a scalar kept on the device (step, mu_product)
                    if isinstance(value, np.ndarray) or is_gpu_array(value) or name in self.state_names:
                        arr = as_cupy(value).get() if is_gpu_array(value) else np.asarray(value)
                        if arr.shape != p.shape:
                            raise ValueError(
                                f"state_dict['state'][{key}]['{name}']: expected shape {p.shape} "
                                f"to match the parameter, got {arr.shape}"
                            )
                        if is_gpu_array(p):
                            entry[name] = full_state(p, 0.0)
                            entry[name].set(arr.astype(entry[name].dtype))
                        else:
                            entry[name] = np.array(arr, dtype=p.dtype, order="C", copy=True)
                    else:
                        entry[name] = copy.deepcopy(value)
                step = entry.get("step")
                if isinstance(step, (float, np.floating)) and float(step).is_integer():
                    # torch saves step as a float tensor; 3.0 is the integer 3.
                    step = int(step)
                if isinstance(step, bool) or not isinstance(step, numbers.Integral) or step < 0:
                    raise ValueError(
                        f"state_dict['state'][{key}]['step']: expected an integer >= 0, got {step!r}"
                    )
                entry["step"] = int(step)
                expected = self.init_state(group_of[id(p)], p)
                missing = sorted(set(expected) - set(entry))
                if missing:
                    raise ValueError(f"state_dict['state'][{key}]: missing entries {missing}")
                _scalars_to_device(entry, p)
                new_state[id(p)] = entry
            self.param_groups = new_groups
            self.state = new_state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)
