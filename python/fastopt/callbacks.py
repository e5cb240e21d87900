"""Training callbacks shared by the optimizers, ``minimize`` and the estimators.

Every training loop of fastopt that accepts ``callbacks`` drives them the same way:

1. ``callback.on_train_begin(loop)`` once, with a :class:`TrainingLoop` whose
   ``snapshot()`` copies the trained state (parameters) and ``restore(snapshot)`` writes such
   a copy back;
2. ``callback.on_iteration_end(iteration, logs)`` after every iteration (an optimizer or
   solver iteration, or an epoch of an online estimator). ``logs`` is a read-only mapping of
   the quantities the loop offers, listed in each loop's documentation. Values that cost a
   pass over the data are computed only when a callback reads them. A True result stops the
   loop;
3. ``callback.on_train_end()`` once when the loop ends, whatever the reason.

:class:`EarlyStopping` is the one built on this protocol. Subclass :class:`Callback` to write
others.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

import numpy as np


class Logs(Mapping):
    """Read-only mapping of named values, some computed on first access.

    Parameters
    ----------
    values : dict, optional
        The ready values, by name.
    lazy : dict, optional
        Functions of no arguments by name, each computing its value on the first
        access. Each function is called at most once.

    Examples
    --------
    >>> from fastopt.callbacks import Logs
    >>> logs = Logs({"loss": 0.5}, lazy={"val_loss": lambda: 0.7})
    >>> logs["val_loss"], sorted(logs)
    (0.7, ['loss', 'val_loss'])
    """

    def __init__(self, values=None, lazy=None):
        self._values = dict(values or {})
        self._lazy = dict(lazy or {})

    def __getitem__(self, name):
        if name not in self._values:
            if name not in self._lazy:
                raise KeyError(name)
            self._values[name] = self._lazy.pop(name)()
        return self._values[name]

    def __iter__(self):
        yield from self._values
        yield from (name for name in self._lazy if name not in self._values)

    def __len__(self):
        return len(set(self._values) | set(self._lazy))

    def __repr__(self):
        return f"Logs({sorted(self)})"


class TrainingLoop:
    """The state a loop exposes to its callbacks: copy it out and write a copy back.

    Parameters
    ----------
    snapshot : callable
        Returns an independent copy of the trained state.
    restore : callable
        Takes a value that ``snapshot`` returned and makes it the trained state again.

    Examples
    --------
    >>> import numpy as np
    >>> from fastopt.callbacks import TrainingLoop
    >>> w = np.zeros(2)
    >>> loop = TrainingLoop(snapshot=w.copy, restore=lambda saved: np.copyto(w, saved))
    >>> saved = loop.snapshot()
    >>> w += 1.0
    >>> loop.restore(saved)
    >>> w
    array([0., 0.])
    """

    def __init__(self, snapshot, restore):
        self.snapshot = snapshot
        self.restore = restore


class Callback:
    """Base class of the callbacks: every hook does nothing.

    Examples
    --------
    A callback that stops training after a fixed number of iterations, driven the way
    the training loops drive it:

    >>> from fastopt.callbacks import Callback, CallbackRunner, Logs, TrainingLoop
    >>> class StopAfter(Callback):
    ...     def __init__(self, iterations):
    ...         self.iterations = iterations
    ...     def on_iteration_end(self, iteration, logs):
    ...         return iteration >= self.iterations
    >>> loop = TrainingLoop(snapshot=lambda: None, restore=lambda saved: None)
    >>> runner = CallbackRunner([StopAfter(3)], loop).begin()
    >>> [runner.iteration(Logs({"loss": 1.0})) for _ in range(4)]
    [False, False, True, True]
    """

    def on_train_begin(self, loop):
        """Start of training.

        Parameters
        ----------
        loop : TrainingLoop
            Access to the trained state, for callbacks that keep or restore it.
        """

    def on_iteration_end(self, iteration, logs):
        """End of iteration ``iteration``; return True to stop training.

        Parameters
        ----------
        iteration : int
            Number of the iteration, counted from 1.
        logs : Logs
            Values of the iteration, such as ``loss``; see each training loop.

        Returns
        -------
        bool
            True to stop training.
        """
        return False

    def on_train_end(self):
        """End of training, after the last iteration or a stop."""


class EarlyStopping(Callback):
    """Stop training when a monitored quantity stops improving, and keep the best state.

    After each iteration the callback reads ``monitor`` and counts an improvement when the
    value is below ``best - min_delta`` (mode "min") or above ``best + min_delta`` (mode
    "max"). After ``patience`` iterations in a row without one it stops the loop. With
    ``restore_best`` the loop's state is set back to the one of the best value when training
    ends, whether or not it stopped early.

    Parameters
    ----------
    monitor : str or callable
        Name of the value in the loop's logs (for example "loss", "val_loss", "fun" or
        "objective"), or a function ``monitor(logs) -> float``, for example the loss on a
        validation set computed from ``logs["x"]``.
    patience : int, default=5
        Iterations without improvement before stopping, >= 1.
    min_delta : float, default=0.0
        Smallest change that counts as an improvement, >= 0.
    mode : {"auto", "min", "max"}, default="auto"
        Whether lower or higher is better. "auto" picks "max" for a monitor name that contains
        "score", "acc" or "auc" and "min" otherwise (so for any callable).
    restore_best : bool, default=True
        Restore the state of the best value at the end of training.

    Attributes
    ----------
    best_value : float
        Best monitored value seen (inf or -inf before the first).
    best_iteration : int or None
        Iteration of ``best_value``.
    stopped_iteration : int or None
        Iteration at which the callback stopped training; None when it did not.
    history : list of float
        Every monitored value, one per iteration.

    Notes
    -----
    A NaN value never counts as an improvement. The callback keeps state between
    ``on_train_begin`` calls of one loop only: a second training run starts afresh, so one
    instance can be reused.

    Examples
    --------
    Stop :class:`fastopt.linear_model.LogisticRegression`'s solver when the loss on held-out
    samples stops improving, and keep the best iterate:

    >>> import os
    >>> from fastopt.callbacks import EarlyStopping
    >>> from fastopt.datasets import load_svmlight
    >>> from fastopt.linear_model import LogisticRegression
    >>> X, y = load_svmlight(os.path.join(DATA_DIR, "heart_scale"))
    >>> stopper = EarlyStopping("val_loss", patience=3)
    >>> clf = LogisticRegression(solver="lbfgs", early_stopping=True, random_state=0,
    ...                          callbacks=[stopper]).fit(X, y)
    >>> stopper.best_iteration <= len(stopper.history)
    True
    """

    def __init__(self, monitor="loss", *, patience=5, min_delta=0.0, mode="auto",
                 restore_best=True):
        if not (isinstance(monitor, str) or callable(monitor)):
            raise ValueError(f"monitor: expected a name or a callable, got {monitor!r}")
        if isinstance(patience, bool) or not isinstance(patience, numbers.Integral) \
                or patience < 1:
            raise ValueError(f"patience: expected an integer >= 1, got {patience!r}")
        if isinstance(min_delta, bool) or not isinstance(min_delta, numbers.Real) \
                or not math.isfinite(min_delta) or min_delta < 0:
            raise ValueError(f"min_delta: expected a finite number >= 0, got {min_delta!r}")
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"mode: expected 'auto', 'min' or 'max', got {mode!r}")
        if not isinstance(restore_best, (bool, np.bool_)):
            raise ValueError(f"restore_best: expected True or False, got {restore_best!r}")
        self.monitor = monitor
        self.patience = int(patience)
        self.min_delta = float(min_delta)
        self.mode = mode
        self.restore_best = bool(restore_best)
        self._maximize = _resolve_mode(monitor, mode)
        self._reset(None)

    def _reset(self, loop):
        self._loop = loop
        self._best_state = None
        self._wait = 0
        self.best_value = -math.inf if self._maximize else math.inf
        self.best_iteration = None
        self.stopped_iteration = None
        self.history = []

    def on_train_begin(self, loop):
        self._reset(loop)

    def on_iteration_end(self, iteration, logs):
        value = self._read(logs)
        self.history.append(value)
        if self._improves(value):
            self.best_value = value
            self.best_iteration = iteration
            self._wait = 0
            if self.restore_best and self._loop is not None:
                self._best_state = self._loop.snapshot()
            return False
        self._wait += 1
        if self._wait >= self.patience:
            self.stopped_iteration = iteration
            return True
        return False

    def on_train_end(self):
        if self.restore_best and self._best_state is not None \
                and self.best_iteration != len(self.history):
            self._loop.restore(self._best_state)
        self._best_state = None
        # The loop's closures refer to the fit, and a model keeps its callbacks among its
        # parameters, so holding the loop would make the fitted model impossible to pickle.
        self._loop = None

    def _read(self, logs):
        if callable(self.monitor):
            value = self.monitor(logs)
        else:
            if self.monitor not in logs:
                raise KeyError(f"EarlyStopping: monitor {self.monitor!r} is not among the "
                               f"values this loop offers, {sorted(logs)}")
            value = logs[self.monitor]
        return float(value)

    def _improves(self, value):
        if math.isnan(value):
            return False
        if self._maximize:
            return value > self.best_value + self.min_delta
        return value < self.best_value - self.min_delta

    def __repr__(self):
        return (f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience}, "
                f"min_delta={self.min_delta!r}, mode={self.mode!r}, "
                f"restore_best={self.restore_best})")


def _resolve_mode(monitor, mode):
    if mode != "auto":
        return mode == "max"
    if not isinstance(monitor, str):
        return False
    name = monitor.lower()
    return any(word in name for word in ("score", "acc", "auc"))


def check_callbacks(callbacks, name="callbacks"):
    """Return ``callbacks`` as a list of Callback objects, or raise TypeError naming the bad one.

    Parameters
    ----------
    callbacks : Callback, iterable of Callback or None
        The value of a ``callbacks`` argument.
    name : str, default "callbacks"
        Name of the argument in error messages.

    Returns
    -------
    list of Callback
        Empty for None.

    Raises
    ------
    TypeError
        If an item is not a :class:`Callback`.

    Examples
    --------
    >>> from fastopt.callbacks import EarlyStopping, check_callbacks
    >>> stopper = EarlyStopping("loss")
    >>> check_callbacks(stopper) == [stopper], check_callbacks(None)
    (True, [])
    >>> check_callbacks([stopper, 3])
    Traceback (most recent call last):
    ...
    TypeError: callbacks[1]: expected a fastopt.callbacks.Callback, got int
    """
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        return [callbacks]
    try:
        items = list(callbacks)
    except TypeError:
        raise TypeError(f"{name}: expected a Callback or a list of them, got "
                        f"{type(callbacks).__name__}") from None
    for index, item in enumerate(items):
        if not isinstance(item, Callback):
            raise TypeError(f"{name}[{index}]: expected a fastopt.callbacks.Callback, got "
                            f"{type(item).__name__}")
    return items


class CallbackRunner:
    """Drive a list of callbacks through one training run; the loops share this code.

    ``begin`` calls every ``on_train_begin``, ``iteration`` every ``on_iteration_end``
    (all of them, even after one asked to stop) and returns whether any asked to stop,
    ``end`` every ``on_train_end``. ``stopped`` records whether a callback stopped the run.

    Parameters
    ----------
    callbacks : list of Callback
        The callbacks, as :func:`check_callbacks` returns them.
    loop : TrainingLoop
        The trained state, passed to every ``on_train_begin``.

    Examples
    --------
    Early stopping on a made-up loss sequence; the best state, of iteration 2, is
    restored at the end:

    >>> from fastopt.callbacks import CallbackRunner, EarlyStopping, Logs, TrainingLoop
    >>> state = {"w": 0.0}
    >>> loop = TrainingLoop(snapshot=lambda: dict(state), restore=state.update)
    >>> stopper = EarlyStopping("loss", patience=2)
    >>> runner = CallbackRunner([stopper], loop).begin()
    >>> for i, loss in enumerate([3.0, 2.0, 2.5, 2.6, 1.0], 1):
    ...     state["w"] = float(i)
    ...     if runner.iteration(Logs({"loss": loss})):
    ...         break
    >>> runner.end()
    >>> stopper.stopped_iteration, state
    (4, {'w': 2.0})
    """

    def __init__(self, callbacks, loop):
        self.callbacks = callbacks
        self.loop = loop
        self.iterations = 0
        self.stopped = False

    def begin(self):
        """Call every ``on_train_begin`` and return ``self``.

        Returns
        -------
        CallbackRunner
            This runner.
        """
        for callback in self.callbacks:
            callback.on_train_begin(self.loop)
        return self

    def iteration(self, logs):
        """Call every ``on_iteration_end`` with the next iteration number.

        Parameters
        ----------
        logs : Logs
            Values of the iteration.

        Returns
        -------
        bool
            Whether any callback asked to stop.
        """
        self.iterations += 1
        stop = False
        for callback in self.callbacks:
            stop = bool(callback.on_iteration_end(self.iterations, logs)) or stop
        self.stopped = self.stopped or stop
        return stop

    def end(self):
        """Call every ``on_train_end``."""
        for callback in self.callbacks:
            callback.on_train_end()
