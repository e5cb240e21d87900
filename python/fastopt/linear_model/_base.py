"""Shared parts of the linear-model estimators: parameters, input checks and the fit loop.

The estimators follow scikit-learn's estimator contract without depending on scikit-learn:
:class:`EstimatorParams` implements ``get_params``, ``set_params`` and ``__repr__`` from the
``__init__`` signature, and ``__sklearn_tags__`` imports scikit-learn's tag classes only when
scikit-learn itself calls it. So ``sklearn.base.clone``, pipelines, grid search and
``sklearn.utils.estimator_checks`` work when scikit-learn is installed, and fastopt needs only
NumPy and SciPy at run time.
"""

from __future__ import annotations

import copy
import inspect
import numbers
import warnings

import numpy as np
import scipy.sparse as sp

from fastopt import _gpu
from fastopt._progress import Progress
from fastopt._sparse_checks import check_sparse_structure
from fastopt.callbacks import CallbackRunner, Logs, TrainingLoop, check_callbacks
from fastopt.exceptions import ConvergenceWarning, DataConversionWarning, not_fitted_error_class
from fastopt.linear_model._early_stopping import ValidationMonitor, split_validation
from fastopt.linear_model._objective import GLMObjective
from fastopt.linear_model._solve import SOLVERS, select_solver, solve
from fastopt.linear_model._stopping import dot

PENALTIES = ("l2", "l1", "elasticnet", None)


class EstimatorParams:
    """``get_params``/``set_params``/``__repr__`` and scikit-learn tags from ``__init__``."""

    _estimator_type = None  # "classifier" or "regressor"

    @classmethod
    def _get_param_names(cls):
        signature = inspect.signature(cls.__init__)
        kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        return sorted(name for name, param in signature.parameters.items()
                      if name != "self" and param.kind in kinds)

    def get_params(self, deep=True):
        """Return the constructor parameters as a dict (``deep`` has no nested estimators)."""
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params):
        """Set constructor parameters by name and return ``self``; they are checked by fit."""
        valid = self._get_param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"set_params: invalid parameter {name!r} for "
                                 f"{type(self).__name__}; valid parameters are {valid}")
            setattr(self, name, value)
        return self

    def __repr__(self):
        signature = inspect.signature(type(self).__init__)
        changed = []
        for name in self._get_param_names():
            value = getattr(self, name)
            default = signature.parameters[name].default
            if not _same_value(value, default):
                changed.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(changed)})"

    def __sklearn_is_fitted__(self):
        return hasattr(self, "coef_")

    def _more_tags(self):
        # Tags for scikit-learn before 1.6.
        return {"requires_y": True, "allow_nan": False, "X_types": ["2darray", "sparse"]}

    def __sklearn_tags__(self):
        # Called only by scikit-learn (>= 1.6), so the import cannot fail there.
        from sklearn.utils import ClassifierTags, InputTags, RegressorTags, Tags, TargetTags

        classifier = self._estimator_type == "classifier"
        return Tags(
            estimator_type=self._estimator_type,
            target_tags=TargetTags(required=True),
            classifier_tags=ClassifierTags() if classifier else None,
            regressor_tags=None if classifier else RegressorTags(),
            input_tags=InputTags(sparse=True),
        )


def _same_value(value, default):
    if value is default:
        return True
    try:
        return bool(value == default) and type(value) is type(default)
    except (TypeError, ValueError):
        return False


# -- input checks -------------------------------------------------------------------------

def check_X(X, *, name="X"):
    """Return ``X`` as an array the objective accepts, without copying supported input.

    Dense float32/float64 C- or F-contiguous arrays and CSR/CSC matrices with float32/float64
    data pass through. Other dense input is converted to float64, other sparse formats to
    CSR. Raises ValueError for complex, non-numeric, non-2-D, empty or non-finite input.
    """
    if _gpu.is_gpu_array(X) or type(X).__module__.startswith("cupyx."):
        # NOTE: the GPU objective (GPUGLMObjective) exists, but the estimators' checks,
        # label encoding, early stopping and prediction are NumPy code.
        raise TypeError(f"{name}: fitting estimators on GPU arrays is not implemented yet; "
                        f"pass a NumPy array or a scipy.sparse matrix (cupy.asnumpy({name}) "
                        f"or {name}.get())")
    if sp.issparse(X):
        # Before any conversion or product, which would follow corrupted offsets or indices.
        check_sparse_structure(X)
        if X.format not in ("csr", "csc"):
            X = X.tocsr()
            # scipy's conversion of LIL, DOK and DIA does not check their indices.
            check_sparse_structure(X)
        if X.dtype not in (np.float32, np.float64):
            if X.dtype.kind == "c":
                raise ValueError(f"{name}: Complex data not supported, got dtype {X.dtype}")
            X = X.astype(np.float64)
        if X.indices.dtype not in (np.int32, np.int64):
            X = X.copy()
            X.indices = X.indices.astype(np.int64)
            X.indptr = X.indptr.astype(np.int64)
        # Values past indptr[-1] are not part of the matrix, as scipy reads it.
        stored = X.data[:int(X.indptr[-1])]
        if not np.isfinite(stored).all():
            bad = np.flatnonzero(~np.isfinite(stored))
            raise ValueError(f"{name}: contains NaN or infinity ({float(stored[bad[0]])!r} at stored "
                             f"entry {bad[0]}); remove or impute those values first")
    else:
        if hasattr(X, "__array__") or isinstance(X, (list, tuple)):
            X = np.asarray(X)
        else:
            raise ValueError(f"{name}: expected an array-like or a sparse matrix, got "
                             f"{type(X).__name__}")
        if X.dtype.kind == "c":
            raise ValueError(f"{name}: Complex data not supported, got dtype {X.dtype}")
        if X.dtype.kind in "SU":
            # As scikit-learn's check_array: strings are not parsed as numbers.
            raise ValueError(f"{name}: expected numbers, got strings (dtype {X.dtype}); convert "
                             "them to numbers first, for example with X.astype(float)")
        if X.dtype.kind not in "fiub":
            # An entry of the wrong type is a TypeError, a string that is no number a ValueError.
            try:
                X = X.astype(np.float64)
            except TypeError as exc:
                raise TypeError(f"{name}: expected numbers, got dtype {X.dtype} ({exc})") from None
            except ValueError as exc:
                raise ValueError(f"{name}: expected numbers, got dtype {X.dtype} ({exc})") from None
        if X.ndim != 2:
            raise ValueError(f"{name}: expected a 2D array of shape (n_samples, n_features), got "
                             f"shape {X.shape}. Reshape your data with X.reshape(-1, 1) for a "
                             "single feature or X.reshape(1, -1) for a single sample")
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
        elif not (X.flags.c_contiguous or X.flags.f_contiguous):
            X = np.ascontiguousarray(X)
        finite = np.isfinite(X)
        if not finite.all():
            i, j = np.argwhere(~finite)[0]
            raise ValueError(f"{name}: contains NaN or infinity ({float(X[i, j])!r} at {name}[{i}, {j}]); "
                             "remove or impute those values first")
    n, p = X.shape
    if n == 0:
        raise ValueError(f"{name}: found 0 sample(s) (shape={X.shape}) while a minimum of 1 is "
                         "required")
    if p == 0:
        raise ValueError(f"{name}: 0 feature(s) (shape={X.shape}) while a minimum of 1 is "
                         "required.")
    return X


def check_y(y, n_samples, *, numeric):
    """Return ``y`` as a 1-D array of length ``n_samples``; ``numeric`` requires finite reals."""
    if y is None:
        raise ValueError("y: y should be a 1d array of targets, got None; fit needs y")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn("A column-vector y was passed when a 1d array was expected; y is "
                      "raveled to shape (n_samples,)", DataConversionWarning, stacklevel=3)
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(f"y: expected a 1-D array, got shape {y.shape}")
    if y.shape[0] != n_samples:
        raise ValueError(f"y: has {y.shape[0]} samples but X has {n_samples}; X and y must "
                         "have the same length")
    if numeric:
        if y.dtype.kind not in "fiub":
            try:
                y = y.astype(np.float64)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"y: expected real numbers, got dtype {y.dtype} ({exc})") \
                    from None
        y = y.astype(np.float64)
        bad = np.flatnonzero(~np.isfinite(y))
        if bad.size:
            raise ValueError(f"y: contains NaN or infinity ({float(y[bad[0]])!r} at y[{bad[0]}])")
    elif y.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(y))
        if bad.size:
            raise ValueError(f"y: contains NaN or infinity ({float(y[bad[0]])!r} at y[{bad[0]}])")
    return y


def check_sample_weight(sample_weight, n_samples):
    """Return the weights as float64 (ones when None), or raise ValueError for a bad one."""
    if sample_weight is None:
        return None
    if isinstance(sample_weight, numbers.Real) and not isinstance(sample_weight, bool):
        sample_weight = np.full(n_samples, float(sample_weight))
    s = np.asarray(sample_weight, dtype=np.float64)
    if s.ndim != 1 or s.shape[0] != n_samples:
        raise ValueError(f"sample_weight: expected shape ({n_samples},) to match X, got "
                         f"{s.shape}")
    bad = np.flatnonzero(~np.isfinite(s))
    if bad.size:
        raise ValueError(f"sample_weight: contains NaN or infinity ({float(s[bad[0]])!r} at "
                         f"sample_weight[{bad[0]}])")
    bad = np.flatnonzero(s < 0)
    if bad.size:
        raise ValueError(f"sample_weight: must be >= 0, got sample_weight[{bad[0]}] = "
                         f"{float(s[bad[0]])!r}")
    if not s.sum() > 0:
        raise ValueError("sample_weight: all weights are zero; at least one must be positive")
    return s


def check_real(name, value, *, low=-np.inf, high=np.inf, low_open=False):
    """Return ``value`` as a float, or raise ValueError naming it when outside the range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name}: expected a real number, got {value!r}")
    x = float(value)
    too_low = x <= low if low_open else x < low
    if not np.isfinite(x) or too_low or x > high:
        left = "(" if low_open else "["
        raise ValueError(f"{name}: expected a finite number in {left}{low:g}, {high:g}], "
                         f"got {value!r}")
    return x


def check_int(name, value, *, low):
    """Return ``value`` as an int, or raise ValueError naming it when below ``low``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name}: expected an integer >= {low}, got {value!r}")
    return int(value)


def check_bool(name, value):
    """Return ``value`` as a bool, or raise ValueError naming it when it is not a bool."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name}: expected True or False, got {value!r}")
    return bool(value)


def penalty_parts(penalty, alpha, l1_ratio):
    """Return (alpha, l1_ratio) of the objective for a named penalty."""
    if penalty not in PENALTIES:
        raise ValueError(f"penalty: expected one of {PENALTIES}, got {penalty!r}")
    if penalty is None:
        return 0.0, 0.0
    alpha = check_real("alpha", alpha, low=0.0)
    if penalty == "l2":
        return alpha, 0.0
    if penalty == "l1":
        return alpha, 1.0
    return alpha, check_real("l1_ratio", l1_ratio, low=0.0, high=1.0)


# -- the shared fit loop ------------------------------------------------------------------

def penalized_objective(objective, w, alpha, l1_ratio, n_coef):
    """Return the data term of ``objective`` plus the elastic-net penalty at ``w``."""
    coef = np.asarray(w)[:n_coef]
    penalty = alpha * (l1_ratio * np.abs(coef).sum()
                       + 0.5 * (1.0 - l1_ratio) * dot(coef, coef))
    return float(objective.value(w)) + float(penalty)


class _ProgressCallback:
    """Solver callback that reports progress and forwards to the early-stopping monitor."""

    def __init__(self, progress, objective, monitor, *, alpha, l1_ratio, n_coef):
        self._progress = progress
        self._objective = objective
        self._monitor = monitor
        self._alpha = alpha
        self._l1_ratio = l1_ratio
        self._n_coef = n_coef
        self._count = 0

    def objective(self, w):
        """Return the penalized objective at ``w``; one pass over the data."""
        return penalized_objective(self._objective, w, self._alpha, self._l1_ratio,
                                   self._n_coef)

    def __call__(self, w):
        self._count += 1
        if self._progress.due():
            self._progress.update(self._count, self.objective(w))
        return bool(self._monitor(w)) if self._monitor is not None else False


class LinearModelBase(EstimatorParams):
    """Fit loop shared by the classifier and the regressors.

    Subclasses set ``self.coef_`` and ``self.intercept_`` from the flat parameter vector that
    :meth:`_fit_objective` returns, in scikit-learn's shapes.
    """

    def _check_common_params(self):
        if not isinstance(self.solver, str) or self.solver not in SOLVERS:
            raise ValueError(f"solver: expected one of {SOLVERS}, got {self.solver!r}")
        check_real("tol", self.tol, low=0.0)
        check_int("max_iter", self.max_iter, low=1)
        check_bool("fit_intercept", self.fit_intercept)
        check_bool("warm_start", self.warm_start)
        check_int("verbose", self.verbose, low=0)
        check_callbacks(self.callbacks)
        if check_bool("early_stopping", self.early_stopping):
            check_real("validation_fraction", self.validation_fraction, low=0.0, high=1.0,
                       low_open=True)
            if self.validation_fraction >= 1.0:
                raise ValueError("validation_fraction: expected a number in (0, 1), got "
                                 f"{self.validation_fraction!r}")
            check_int("n_iter_no_change", self.n_iter_no_change, low=1)

    def _check_fitted(self):
        if not hasattr(self, "coef_"):
            raise not_fitted_error_class()(f"This {type(self).__name__} instance is not fitted yet; call "
                                 "fit with training data before using it")

    def _check_predict_X(self, X):
        self._check_fitted()
        X = check_X(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but {type(self).__name__} is "
                             f"expecting {self.n_features_in_} features as input")
        return X

    def _fit_objective(self, X, y, *, loss, alpha, l1_ratio, penalty, sample_weight, n_classes,
                       unpack, stratify=None):
        """Build the objective, run the solver with warm start, early stopping and callbacks.

        Returns the flat parameter vector, sized ``K * p + K`` even without an intercept
        (then the intercepts are zero). ``unpack(estimator, w)`` sets the fitted attributes of
        an estimator from such a vector; the callbacks' ``estimator`` log uses it.
        """
        p = X.shape[1]
        k = n_classes if loss == "multinomial" else 1
        solver = select_solver(self.solver, loss=loss, alpha=alpha, l1_ratio=l1_ratio,
                               penalty=penalty, n_samples=X.shape[0], n_features=p,
                               fit_intercept=self.fit_intercept, X=X)
        w0 = self._warm_start_params(k, p)
        monitor = None
        if self.early_stopping:
            train, valid = split_validation(X.shape[0], self.validation_fraction,
                                            self.random_state, stratify=stratify)
            if valid.size == 0 or train.size == 0:
                raise ValueError(f"validation_fraction: {self.validation_fraction!r} leaves an "
                                 f"empty training or validation set for {X.shape[0]} samples")
            weight_valid = None if sample_weight is None else sample_weight[valid]
            weight_train = None if sample_weight is None else sample_weight[train]
            if weight_valid is not None and not weight_valid.sum() > 0:
                weight_valid = None
            if weight_train is not None and not weight_train.sum() > 0:
                raise ValueError("sample_weight: every training sample left after the "
                                 "validation split has weight zero")
            valid_objective = GLMObjective(X[valid], y[valid], loss=loss,
                                           sample_weight=weight_valid,
                                           fit_intercept=self.fit_intercept, n_classes=n_classes)
            monitor = ValidationMonitor(valid_objective, self.n_iter_no_change, self.tol)
            X, y, sample_weight = X[train], y[train], weight_train
        objective = GLMObjective(X, y, loss=loss, sample_weight=sample_weight,
                                 fit_intercept=self.fit_intercept, n_classes=n_classes)
        if w0 is not None and not self.fit_intercept:
            w0 = w0[: k * p]
        progress = None
        callback = monitor
        if self.verbose:
            progress = Progress(f"{type(self).__name__} ({solver})", total=self.max_iter)
            callback = _ProgressCallback(progress, objective, monitor, alpha=alpha,
                                         l1_ratio=l1_ratio, n_coef=k * p)
        solver_callback = callback
        runner = None
        callbacks = check_callbacks(self.callbacks)
        if callbacks:
            runner, solver_callback = self._callback_runner(
                callbacks, callback, objective, valid_objective=None if monitor is None
                else monitor.objective, penalty=(alpha, l1_ratio, k * p), unpack=unpack,
                n_params=k * p + k)
        try:
            result = solve(objective, alpha=alpha, l1_ratio=l1_ratio, solver=solver, tol=self.tol,
                           max_iter=self.max_iter, w0=w0, callback=solver_callback,
                           data=(X, y, sample_weight))
        finally:
            if runner is not None:
                runner.end()
        if progress is not None:
            note = "converged" if result.converged else "stopped before tol"
            progress.close(result.n_iter, callback.objective(result.w), note=note)
        w = result.w
        if monitor is not None:
            w = monitor.best_w if monitor.best_w is not None else w
            self.validation_scores_ = np.asarray(monitor.history)
            self.best_validation_score_ = monitor.best_value
        stopped = (monitor is not None and monitor.stopped) or (runner is not None
                                                                and runner.stopped)
        if runner is not None and runner.loop.restored is not None:
            w = runner.loop.restored[: w.size]
        if not result.converged and not stopped:
            self._warn_not_converged(result)
        self.n_iter_ = max(int(result.n_iter), 1)
        self.solver_ = result.solver
        full = np.zeros(k * p + k)
        full[: w.size] = w
        return full

    def _callback_runner(self, callbacks, inner, objective, *, valid_objective, penalty,
                         unpack, n_params):
        """Return a started CallbackRunner and the solver callback that feeds it.

        The logs of each solver iteration contain ``w``, a copy of the flat parameters. Three
        more entries are computed when read: ``objective`` (the penalized training objective,
        one pass over the training data), ``val_loss`` (the data term on the validation
        split, with ``early_stopping=True`` only) and ``estimator`` (a copy of this estimator
        fitted at ``w``, for scoring on other data). The loop's snapshot is ``w``; a restore records
        it in ``loop.restored`` for the fit to keep.
        """
        alpha, l1_ratio, n_coef = penalty
        current = {}
        loop = TrainingLoop(snapshot=lambda: current["w"].copy(),
                            restore=lambda saved: setattr(loop, "restored", saved))
        loop.restored = None
        runner = CallbackRunner(callbacks, loop).begin()

        def fitted_copy(w):
            estimator = copy.copy(self)
            full = np.zeros(n_params)
            full[: w.size] = w
            unpack(estimator, full)
            return estimator

        def on_iteration(w):
            stop = bool(inner(w)) if inner is not None else False
            w = np.array(w, dtype=np.float64)
            current["w"] = w
            lazy = {"objective": lambda: penalized_objective(objective, w, alpha, l1_ratio,
                                                             n_coef),
                    "estimator": lambda: fitted_copy(w)}
            if valid_objective is not None:
                lazy["val_loss"] = lambda: float(valid_objective.value(w))
            return runner.iteration(Logs({"w": w}, lazy)) or stop

        return runner, on_iteration

    def _warm_start_params(self, k, p):
        if not self.warm_start or not hasattr(self, "coef_"):
            return None
        coef = np.asarray(self.coef_, dtype=np.float64).reshape(-1)
        intercept = np.atleast_1d(np.asarray(self.intercept_, dtype=np.float64))
        if coef.size != k * p or intercept.size != k:
            return None
        return np.concatenate([coef, intercept])

    def _warn_not_converged(self, result):
        ratio = result.violation / result.violation0 if result.violation0 > 0 else np.inf
        if result.n_iter >= self.max_iter:
            cause, advice = f"reached max_iter={self.max_iter}", "Increase max_iter, loosen tol"
        else:
            cause = (f"stopped after {result.n_iter} iterations because no step decreased the "
                     "objective in float64")
            advice = "Loosen tol"
        # stacklevel 4 points at the caller of fit.
        warnings.warn(
            f"{type(self).__name__} did not converge: solver {result.solver!r} {cause}, with "
            f"optimality violation {result.violation:.3g}, {ratio:.3g} of its value at zero, "
            f"above tol={self.tol!r}. {advice}, scale the features or try another solver; "
            "the best iterate reached is kept.", ConvergenceWarning, stacklevel=4)
