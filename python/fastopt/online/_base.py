"""Shared machinery of the online linear estimators: parameters, inputs, epochs and stopping."""

from __future__ import annotations

import contextlib
import inspect
import math
import numbers

import numpy as np
import scipy.sparse as sp

from fastopt._exclusive import exclusive
from fastopt._progress import Progress
from fastopt.callbacks import CallbackRunner, Logs, TrainingLoop, check_callbacks
from fastopt.linear_model._base import EstimatorParams, check_int
from fastopt.online._chunks import chunk_epochs, unpack_chunk
from fastopt._sparse_checks import check_sparse_structure
from fastopt.online._solvers import _as_rows, check_real_dtype, run_passes

# The "adaptive" schedule divides the rate by 5 after each stall and stops below this rate,
# as scikit-learn's SGD does.
_MIN_ADAPTIVE_ETA = 1e-6

# Constructor parameter names of each estimator class, read once from its signature.
_PARAM_NAMES = {}


def check_features(X, n_features=None, *, check_indices=False):
    """Return ``X`` as a CSR matrix (float32 or float64), checking its width against a fitted model.

    The training passes check CSR column indices as they read them, so only prediction, which
    multiplies with scipy, needs ``check_indices=True``.
    """
    if sp.issparse(X):
        check_sparse_structure(X, check_indices=check_indices)
        check_real_dtype(X.dtype)
        X = X.tocsr()
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
    else:
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"X: expected a 2-D array or sparse matrix, got shape {X.shape}")
        check_real_dtype(X.dtype)
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
        X = sp.csr_matrix(X)
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"X: expected {n_features} features as in the fitted model, got {X.shape[1]}")
    return X


def _row_count(X):
    """Return the number of rows of a chunk's X, or None when X is not array-like."""
    shape = getattr(X, "shape", None)
    if shape is not None:
        return shape[0] if len(shape) else None
    try:
        return len(X)
    except TypeError:
        return None


def check_sample_weight(sample_weight, n):
    """Return the checked weights as float64, or None (every weight 1) for None."""
    if sample_weight is None:
        return None
    # Contiguous, because the compiled passes read the weights as one block.
    sample_weight = np.ascontiguousarray(sample_weight, dtype=np.float64)
    if sample_weight.shape != (n,):
        raise ValueError(f"sample_weight: expected shape ({n},), got {sample_weight.shape}")
    bad = ~np.isfinite(sample_weight) | (sample_weight < 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"sample_weight[{i}]: expected a finite value >= 0, got {sample_weight[i]}")
    return sample_weight


class OnlineLinearModel(EstimatorParams):
    """Linear model trained by one solver per output with the row-wise ``partial_fit`` interface.

    Parameters, ``repr`` and scikit-learn's tags come from the linear models' shared base, so
    these estimators work in scikit-learn's model-selection tools too.

    Subclasses define ``_new_solver(n_features)``, ``_prepare_targets(y, first)`` that returns
    the checked targets as a C-contiguous float64 array of shape (n_solvers, n) and the checked
    per-row weights, ``score`` and ``_epochs_name``.
    """

    _epochs_name = "max_iter"

    def _check_common_params(self):
        check_int(self._epochs_name, getattr(self, self._epochs_name), low=1)
        check_int("verbose", self.verbose, low=0)
        check_int("n_iter_no_change", self.n_iter_no_change, low=1)
        check_callbacks(self.callbacks)
        if self.tol is not None:
            if isinstance(self.tol, bool) or not isinstance(self.tol, numbers.Real) or not math.isfinite(self.tol):
                raise ValueError(f"tol: expected None or a finite number, got {self.tol!r}")
        if not isinstance(self.validation_fraction, numbers.Real) or not 0 < self.validation_fraction < 1:
            raise ValueError(f"validation_fraction: expected a number in (0, 1), got {self.validation_fraction!r}")
        if self.random_state is not None and not isinstance(self.random_state, (numbers.Integral, np.random.Generator)):
            raise ValueError(f"random_state: expected None, an int or a numpy Generator, got {self.random_state!r}")

    # ----- pickling: solvers are stored through their get_state/set_state dicts

    def __getstate__(self):
        state = self.__dict__.copy()
        if state.get("_solvers") is not None:
            state["_solvers"] = [solver.get_state() for solver in self._solvers]
        return state

    def __setstate__(self, state):
        solver_states = state.get("_solvers")
        self.__dict__.update(state)
        if solver_states is not None:
            # NOTE: the solvers are rebuilt from the current parameters, so a pickle taken after
            # set_params changed a solver argument restores the state under the new argument.
            self._solvers = []
            for solver_state in solver_states:
                solver = self._new_solver(self.n_features_in_)
                solver.set_state(solver_state)
                self._solvers.append(solver)

    # ----- solvers

    def _is_fitted(self):
        return getattr(self, "_solvers", None) is not None

    def _reset(self, n_features, n_solvers):
        self._solvers = [self._new_solver(n_features) for _ in range(n_solvers)]
        self.n_features_in_ = n_features
        self.t_ = 0
        self._eta_divisions = 0

    def _intercept_decay(self, sparse_input):
        """Factor on the intercept's steps for this input; None leaves the solvers' own."""
        return None

    def _checked_params(self):
        """Run ``_check_params`` unless the parameters are those it last accepted.

        Checking builds a solver, which costs as much as a pass over a few thousand rows, so
        repeated ``partial_fit`` calls with unchanged parameters skip it.
        """
        names = _PARAM_NAMES.get(type(self))
        if names is None:
            # Reading the signature costs more than a pass over a small data set.
            names = _PARAM_NAMES[type(self)] = tuple(self._get_param_names())
        key = tuple((name, getattr(self, name)) for name in names)
        try:
            hash(key)
        except TypeError:
            key = None
        if key is None or key != getattr(self, "_accepted_params", None):
            self._check_params()
            self._accepted_params = key

    def _pass(self, X, targets, sample_weight, order, sparse_input=True, compute_loss=True):
        """Run every solver once over the rows in ``order``; return their mean progressive loss.

        The solvers (one per one-vs-rest class) share no state, so they run in parallel over
        fastopt's threads, with results that do not depend on the number of threads. With
        ``compute_loss=False`` the loss values are skipped and the result is 0.0 (NaN after
        an overflow, which raises here either way).
        """
        decay = self._intercept_decay(sparse_input)
        if decay is not None:
            for solver in self._solvers:
                solver.intercept_decay = decay
        # check_features and _prepare_targets have checked X's structure and width, the
        # targets and the weights. _as_rows only fixes the CSR layout that the compiled pass
        # expects.
        first = self._solvers[0]
        X = _as_rows(X, first.n_features, first._dtype, check_finite=False,
                     structure_checked=True)
        losses = run_passes(self._solvers, X, targets, sample_weight, order,
                            compute_loss=compute_loss)
        self.t_ = self._solvers[0].t_
        loss = float(np.mean(losses))
        if not math.isfinite(loss):
            # Overflowed weights would otherwise give NaN predictions without any warning.
            what = f"the training loss became {loss}" if compute_loss else "a margin was not finite"
            raise ValueError(
                f"{type(self).__name__}: {what} after {self.t_} rows, so "
                "the weights overflowed; scale the features (for example to unit variance) or "
                "use a smaller eta0")
        return loss

    @property
    def coef_(self):
        """Weights, of shape (n_solvers, n_features): one row per one-vs-rest class, or one row."""
        self._require_fitted()
        return np.vstack([solver.coef_ for solver in self._solvers])

    @property
    def intercept_(self):
        """Intercepts, of shape (n_solvers,)."""
        self._require_fitted()
        return np.array([solver.intercept_ for solver in self._solvers])

    def _require_fitted(self):
        if not self._is_fitted():
            raise AttributeError(f"this {type(self).__name__} is not fitted yet; call fit or partial_fit first")

    def _decision(self, X):
        self._require_fitted()
        X = check_features(X, self.n_features_in_, check_indices=True)
        scores = np.column_stack([solver.decision_function(X) for solver in self._solvers])
        return scores

    # ----- training

    def _random_generator(self):
        if isinstance(self.random_state, np.random.Generator):
            return self.random_state
        return np.random.default_rng(self.random_state)

    def _split_validation(self, y, rng):
        """Return (train, validation) row indices, stratified by ``y`` for classifiers."""
        n = y.shape[0]
        groups = [np.flatnonzero(y == label) for label in np.unique(y)] if self._stratify else [np.arange(n)]
        validation = []
        for rows in groups:
            count = int(math.ceil(self.validation_fraction * rows.size))
            validation.append(rng.permutation(rows)[:count])
        validation = np.sort(np.concatenate(validation))
        train = np.setdiff1d(np.arange(n), validation)
        if train.size == 0 or validation.size == 0:
            raise ValueError(
                f"validation_fraction={self.validation_fraction} leaves an empty training or validation set "
                f"for {n} rows"
            )
        return train, validation

    @contextlib.contextmanager
    def _kept_on_error(self):
        """Put the model back as it was before the block when the block raises.

        A fit that fails on its input or overflows leaves the previous model, or an unfitted
        one, not a model half trained on the new data. The solvers' arrays are copied only
        when they are fitted and ``warm_start`` lets the block write into them, because
        otherwise the block builds new solvers.
        """
        saved = dict(self.__dict__)
        states = None
        if self._is_fitted() and getattr(self, "warm_start", False):
            states = [solver.get_state() for solver in self._solvers]
        try:
            yield
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            if states is not None:
                for solver, state in zip(self._solvers, states):
                    solver.set_state(state)
            raise

    def _fit_arrays(self, X, y, sample_weight):
        with self._kept_on_error():
            return self._fit_checked(X, y, sample_weight)

    def _fit_checked(self, X, y, sample_weight):
        self._checked_params()
        sparse_input = sp.issparse(X)
        X = check_features(X)
        if X.shape[0] == 0:
            raise ValueError("X: expected at least one row, got 0")
        y = np.asarray(y)
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValueError(f"y: expected shape ({X.shape[0]},), got {y.shape}")
        sample_weight = check_sample_weight(sample_weight, X.shape[0])
        warm = bool(getattr(self, "warm_start", False)) and self._is_fitted()
        targets, weights = self._prepare_targets(y, first=not warm, sample_weight=sample_weight)
        if warm and self.n_features_in_ != X.shape[1]:
            raise ValueError(f"X: expected {self.n_features_in_} features as in the fitted model, got {X.shape[1]}")
        if not warm:
            self._reset(X.shape[1], len(targets))

        rng = self._random_generator()
        train = np.arange(X.shape[0])
        validation = None
        if self.early_stopping:
            train, rows = self._split_validation(y, rng)
            validation = (X[rows], y[rows])

        epochs = getattr(self, self._epochs_name)
        self.loss_curve_ = []
        self.validation_scores_ = []
        self.n_iter_ = 0
        progress = None
        if self.verbose:
            progress = Progress(type(self).__name__, unit="epoch", total=epochs,
                                value_name="mean loss")
        runner = self._callback_runner()
        try:
            self._run_epochs(X, targets, weights, train, validation, rng, sparse_input,
                             progress, runner)
        finally:
            if runner is not None:
                runner.end()
        if progress is not None:
            progress.close(self.n_iter_, self.loss_curve_[-1])
        return self

    def _callback_runner(self):
        """Return a started CallbackRunner over the solvers' states, or None without callbacks."""
        callbacks = check_callbacks(self.callbacks)
        if not callbacks:
            return None

        def restore(states):
            for solver, state in zip(self._solvers, states):
                solver.set_state(state)
            self.t_ = self._solvers[0].t_

        loop = TrainingLoop(snapshot=lambda: [solver.get_state() for solver in self._solvers],
                            restore=restore)
        return CallbackRunner(callbacks, loop).begin()

    def _run_epochs(self, X, targets, weights, train, validation, rng, sparse_input, progress,
                    runner):
        """Run the epochs of ``fit``: passes, early stopping, the adaptive rate, callbacks.

        The callbacks' logs: ``loss`` (the epoch's mean progressive training loss),
        ``val_score`` (with early stopping: the score on the validation split) and
        ``estimator`` (this estimator, fitted as of the epoch).
        """
        best = math.inf
        stalls = 0
        epochs = getattr(self, self._epochs_name)
        for _ in range(epochs):
            order = rng.permutation(train) if self.shuffle else train
            loss = self._pass(X, targets, weights, order, sparse_input)
            self.loss_curve_.append(loss)
            self.n_iter_ += 1
            if progress is not None:
                progress.update(self.n_iter_, loss)
            # Both criteria are "lower is better": the loss, or minus the validation score.
            logs = {"loss": loss, "estimator": self}
            if validation is not None:
                score = self.score(*validation)
                self.validation_scores_.append(score)
                logs["val_score"] = score
                value = -score
            else:
                value = loss
            if runner is not None and runner.iteration(Logs(logs)):
                break
            if self.tol is not None and value > best - self.tol:
                stalls += 1
            else:
                stalls = 0
            best = min(best, value)
            if stalls >= self.n_iter_no_change:
                if not self._decay_learning_rate():
                    break
                stalls = 0

    def _decay_learning_rate(self):
        """Divide an "adaptive" learning rate by 5; return False when training should stop instead."""
        if getattr(self, "learning_rate", None) != "adaptive":
            return False
        if self.eta0 / 5.0 ** (self._eta_divisions + 1) < _MIN_ADAPTIVE_ETA:
            return False
        self._eta_divisions += 1
        for solver in self._solvers:
            solver.decay_learning_rate()
        return True

    def _incremental_batch(self, X, y, sample_weight, classes, n_features=None):
        """Check one batch of ``partial_fit`` or ``fit_stream``; return (X, targets, weights, sparse).

        The first batch of an unfitted model sets its width (``n_features`` when given) and
        builds the solvers.
        """
        fitted = self._is_fitted()
        sparse_input = sp.issparse(X)
        X = check_features(X, self.n_features_in_ if fitted else n_features)
        if X.shape[0] == 0:
            raise ValueError("X: expected at least one row, got 0")
        y = np.asarray(y)
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValueError(f"y: expected shape ({X.shape[0]},), got {y.shape}")
        sample_weight = check_sample_weight(sample_weight, X.shape[0])
        targets, weights = self._prepare_targets(
            y, first=not fitted, sample_weight=sample_weight, classes=classes, incremental=True
        )
        if not fitted:
            self._reset(X.shape[1], len(targets))
        return X, targets, weights, sparse_input

    def _partial_fit_arrays(self, X, y, sample_weight, classes=None):
        self._checked_params()
        # A first call that fails leaves the model unfitted, not fitted with zeros. Later calls
        # need no guard, because their passes leave the state unchanged when a row is bad.
        guard = contextlib.nullcontext() if self._is_fitted() else self._kept_on_error()
        with guard:
            X, targets, weights, sparse_input = self._incremental_batch(X, y, sample_weight,
                                                                        classes)
            # partial_fit reports no loss, so the passes skip computing it.
            self._pass(X, targets, weights, None, sparse_input, compute_loss=False)
        return self

    def fit_stream(self, source, epochs=1, *, classes=None, n_features=None, chunk_rows=10_000,
                   zero_based=False):
        """Train out of core on a stream of chunks, keeping one chunk in memory at a time.

        Parameters
        ----------
        source : str, os.PathLike, callable or iterable
            A LIBSVM file (read with :func:`fastopt.datasets.iter_svmlight`), a callable that
            returns a fresh iterable of chunks for each epoch (such as
            ``lambda: read_ctr_csv(path, "label")``), or an iterable of chunks. Each chunk is
            ``(X, y)`` or ``(X, y, sample_weight)``. A one-shot iterator allows one epoch.
        epochs : int, default 1
            Number of passes over the stream.
        classes : array-like, optional
            All class labels; required by classifiers unless the model is already fitted
            and ``warm_start`` is set.
        n_features : int, optional
            Width of the rows. Required for a LIBSVM path (unless warm-starting a fitted
            model), because a stream cannot scan the file for its largest index first; other
            sources take it from the first chunk.
        chunk_rows, zero_based
            Passed to :func:`fastopt.datasets.iter_svmlight` for a LIBSVM file.

        Notes
        -----
        The model starts afresh unless ``warm_start`` is set and it is fitted. With
        ``shuffle=True`` the rows of each chunk are permuted, not the stream. Early stopping
        and ``tol`` do not apply: the stream is read ``epochs`` times.

        Returns
        -------
        self
        """
        with exclusive(self, "fit_stream"), self._kept_on_error():
            self._check_params()
            epochs = check_int("epochs", epochs, low=1)
            warm = bool(getattr(self, "warm_start", False)) and self._is_fitted()
            if n_features is None and warm:
                n_features = self.n_features_in_
            open_epoch = chunk_epochs(source, epochs, n_features, chunk_rows, zero_based)
            if not warm:
                self._solvers = None
            rng = self._random_generator()
            self.loss_curve_ = []
            self.n_iter_ = 0
            for _ in range(epochs):
                total = 0.0
                rows = 0
                for position, chunk in enumerate(open_epoch()):
                    X, y, sample_weight = unpack_chunk(chunk, position)
                    if _row_count(X) == 0:
                        # A filtered stream may yield empty chunks. They train nothing and,
                        # as the first chunk, would fix the model's width.
                        continue
                    try:
                        X, targets, weights, sparse_input = self._incremental_batch(
                            X, y, sample_weight, classes, n_features)
                        order = rng.permutation(X.shape[0]) if self.shuffle else None
                        total += self._pass(X, targets, weights, order, sparse_input) * X.shape[0]
                    except ValueError as err:
                        raise ValueError(f"chunk {position}: {err}") from None
                    rows += X.shape[0]
                if rows == 0:
                    raise ValueError("source: the stream has no rows")
                self.loss_curve_.append(total / rows)
                self.n_iter_ += 1
            return self
