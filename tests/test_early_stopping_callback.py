"""EarlyStopping in the optimizers, minimize and the linear and online estimators."""

import pickle
import warnings

import numpy as np
import pytest

from fastopt import minimize, model_file
from fastopt.callbacks import Callback, EarlyStopping, Logs, TrainingLoop
from fastopt.exceptions import ConvergenceWarning
from fastopt.linear_model import LogisticRegression, Ridge
from fastopt.online import SGDClassifier
from fastopt.optim import SGD, Adam


class Recorder(Callback):
    """Keeps the logs it reads: ``keys`` of every iteration, copied."""

    def __init__(self, *keys):
        self.keys = keys
        self.records = []

    def on_iteration_end(self, iteration, logs):
        self.records.append({key: np.copy(logs[key]) for key in self.keys})
        return False


def expected_stop(values, patience, min_delta=0.0, maximize=False):
    """Return (best index, stop index or None) of an early stop over ``values``, from scratch."""
    best, best_index, wait = (-np.inf if maximize else np.inf), None, 0
    for i, value in enumerate(values):
        better = value > best + min_delta if maximize else value < best - min_delta
        if better:
            best, best_index, wait = value, i, 0
        else:
            wait += 1
            if wait >= patience:
                return best_index, i
    return best_index, None


# -- the callback alone -----------------------------------------------------------------

@pytest.mark.parametrize("values, patience, min_delta, mode", [
    ([5, 4, 3, 3.5, 3.2, 3.1, 2.0], 3, 0.0, "min"),
    ([5, 4, 3, 2.95, 2.9, 2.85, 2.0], 3, 0.1, "min"),
    ([0.1, 0.5, 0.4, 0.6, 0.55, 0.58], 2, 0.0, "max"),
    ([1, 2, 3, 4, 5, 6], 2, 0.0, "min"),
    ([3, float("nan"), 2, float("nan"), float("nan")], 2, 0.0, "min"),
])
def test_early_stopping_rule(values, patience, min_delta, mode):
    states = []
    restored = []
    loop = TrainingLoop(snapshot=lambda: states[-1], restore=restored.append)
    callback = EarlyStopping("val", patience=patience, min_delta=min_delta, mode=mode)
    callback.on_train_begin(loop)
    stop_at = None
    for i, value in enumerate(values):
        states.append(f"state {i}")
        if callback.on_iteration_end(i + 1, Logs({"val": value})):
            stop_at = i
            break
    callback.on_train_end()
    best, stop = expected_stop(values, patience, min_delta, maximize=mode == "max")
    assert stop_at == stop
    assert callback.best_iteration == best + 1
    assert callback.best_value == values[best]
    assert callback.stopped_iteration == (None if stop is None else stop + 1)
    last = len(callback.history) - 1
    assert restored == ([] if best == last else [f"state {best}"])


def test_early_stopping_mode_auto_and_reuse():
    assert EarlyStopping("val_score")._maximize
    assert EarlyStopping("accuracy")._maximize
    assert not EarlyStopping("val_loss")._maximize
    assert not EarlyStopping(lambda logs: 0.0)._maximize
    callback = EarlyStopping("loss", patience=1)
    for run in range(2):
        callback.on_train_begin(TrainingLoop(lambda: None, lambda saved: None))
        assert callback.history == []
        assert not callback.on_iteration_end(1, Logs({"loss": 1.0}))
        assert callback.on_iteration_end(2, Logs({"loss": 2.0}))


def test_early_stopping_missing_monitor_names_it():
    callback = EarlyStopping("val_loss")
    callback.on_train_begin(TrainingLoop(lambda: None, lambda saved: None))
    with pytest.raises(KeyError, match=r"monitor 'val_loss' is not among .*\['loss'\]"):
        callback.on_iteration_end(1, Logs({"loss": 1.0}))


@pytest.mark.parametrize("kwargs, match", [
    ({"patience": 0}, r"patience: expected an integer >= 1, got 0"),
    ({"patience": 2.5}, r"patience: expected an integer >= 1, got 2.5"),
    ({"min_delta": -0.1}, r"min_delta: expected a finite number >= 0, got -0.1"),
    ({"min_delta": float("nan")}, r"min_delta: expected a finite number >= 0, got nan"),
    ({"mode": "lower"}, r"mode: expected 'auto', 'min' or 'max', got 'lower'"),
    ({"restore_best": 1}, r"restore_best: expected True or False, got 1"),
    ({"monitor": 3}, r"monitor: expected a name or a callable, got 3"),
])
def test_early_stopping_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        EarlyStopping(**kwargs)


def test_lazy_logs_compute_once():
    calls = []
    logs = Logs({"a": 1}, lazy={"b": lambda: calls.append(1) or 2})
    assert sorted(logs) == ["a", "b"]
    assert len(logs) == 2
    assert calls == []
    assert logs["b"] == 2
    assert logs["b"] == 2
    assert calls == [1]


# -- minimize ---------------------------------------------------------------------------

def rosenbrock(x):
    value = np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
    grad = np.zeros_like(x)
    grad[:-1] = -400.0 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2.0 * (1.0 - x[:-1])
    grad[1:] += 200.0 * (x[1:] - x[:-1] ** 2)
    return value, grad


def test_minimize_restores_best_monitored_iterate():
    # The monitor is a "validation" function whose minimum is away from the training
    # minimum, so it improves and then worsens along the path.
    target = np.full(6, 0.5)

    def validation(logs):
        return float(np.sum((logs["x"] - target) ** 2))

    seen = []
    stopper = EarlyStopping(validation, patience=4)
    result = minimize(rosenbrock, np.full(6, -1.2), jac=True, callback=lambda x: seen.append(x),
                      callbacks=[stopper])
    values = [float(np.sum((x - target) ** 2)) for x in seen]
    best, stop = expected_stop(values, 4)
    assert stop is not None
    assert result.nit == stop + 1
    assert "callback" in result.message
    np.testing.assert_array_equal(result.x, seen[best])
    fun, grad = rosenbrock(seen[best])
    assert result.fun == fun
    np.testing.assert_allclose(result.jac, grad, rtol=1e-12)


def test_minimize_callbacks_without_stop():
    recorder = Recorder("fun", "nit")
    plain = minimize(rosenbrock, np.full(4, -1.2), jac=True)
    result = minimize(rosenbrock, np.full(4, -1.2), jac=True, callbacks=recorder)
    np.testing.assert_array_equal(result.x, plain.x)
    assert len(recorder.records) == result.nit
    assert [int(r["nit"]) for r in recorder.records] == list(range(1, result.nit + 1))
    assert float(recorder.records[-1]["fun"]) == result.fun


def test_minimize_owlqn_restores_with_pseudo_gradient():
    x_target = np.linspace(-1.0, 1.0, 5)

    def quadratic(x):
        return 0.5 * np.sum((x - x_target) ** 2) * np.arange(1, 6).sum(), \
            (x - x_target) * np.arange(1, 6).sum()

    stopper = EarlyStopping(lambda logs: -logs["fun"], patience=1)
    result = minimize(quadratic, np.zeros(5), jac=True, method="owlqn",
                      options={"l1": 0.1}, callbacks=[stopper])
    # The negated objective never improves after the first iterate, so that one is kept.
    assert stopper.best_iteration == 1
    assert result.nit == 2
    assert np.all(np.isfinite(result.jac))


def test_minimize_rejects_non_callback():
    with pytest.raises(TypeError, match=r"callbacks\[0\]: expected a fastopt.callbacks.Callback"):
        minimize(rosenbrock, np.zeros(3), jac=True, callbacks=[lambda x: None])


# -- optimizers -------------------------------------------------------------------------

def test_optimizer_end_epoch_restores_best_parameters():
    rng = np.random.default_rng(0)
    w = np.zeros(5)
    b = np.zeros(2)
    optimizer = Adam([w, b], lr=0.1, callbacks=[EarlyStopping("val_loss", patience=3)])
    val_curve = [5.0, 4.0, 3.5, 3.6, 3.0, 3.2, 3.1, 3.3, 2.0]
    saved = []
    stopped_at = None
    for epoch, val_loss in enumerate(val_curve):
        optimizer.step([rng.standard_normal(5), rng.standard_normal(2)])
        saved.append((w.copy(), b.copy()))
        if optimizer.end_epoch(loss=0.0, val_loss=val_loss):
            stopped_at = epoch
            break
    best, stop = expected_stop(val_curve, 3)
    assert stopped_at == stop == 7
    np.testing.assert_array_equal(w, saved[best][0])
    np.testing.assert_array_equal(b, saved[best][1])


def test_optimizer_end_training_restores_without_stop():
    w = np.zeros(3)
    optimizer = SGD(w, lr=1.0, callbacks=EarlyStopping("loss", patience=10))
    for step, loss in enumerate([3.0, 1.0, 2.0]):
        optimizer.step(np.full(3, -1.0))
        assert not optimizer.end_epoch(loss=loss)
    np.testing.assert_array_equal(w, [3.0, 3.0, 3.0])
    optimizer.end_training()
    np.testing.assert_array_equal(w, [2.0, 2.0, 2.0])
    plain = SGD(np.zeros(3), lr=1.0)
    assert plain.end_epoch(loss=1.0) is False


def test_optimizer_rejects_bad_callbacks():
    with pytest.raises(TypeError, match=r"callbacks: expected a Callback or a list of them, "
                                        r"got int"):
        Adam(np.zeros(2), callbacks=3)


# -- linear models ----------------------------------------------------------------------

def classification_split(seed=0, n=400, p=30):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = (X[:, :3].sum(axis=1) + rng.standard_normal(n) > 0).astype(int)
    return X[: n // 2], y[: n // 2], X[n // 2:], y[n // 2:]


def held_out_log_loss(X, y):
    def loss(logs):
        p = np.clip(logs["estimator"].predict_proba(X)[:, 1], 1e-15, 1 - 1e-15)
        return -float(np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
    return loss


def test_logistic_restores_best_iterate_by_held_out_loss():
    X, y, X_val, y_val = classification_split()
    monitor = held_out_log_loss(X_val, y_val)
    recorder = Recorder("w")
    stopper = EarlyStopping(monitor, patience=3)
    # Unregularized on few samples: the held-out loss rises once the fit starts overfitting.
    model = LogisticRegression(penalty=None, solver="lbfgs", tol=1e-12, max_iter=500,
                               callbacks=[recorder, stopper])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model.fit(X, y)
    losses = stopper.history
    best, stop = expected_stop(losses, 3)
    assert stop is not None
    assert len(recorder.records) == stop + 1
    w = recorder.records[best]["w"]
    np.testing.assert_array_equal(model.coef_.ravel(), w[:-1])
    assert model.intercept_[0] == w[-1]
    assert monitor({"estimator": model}) == pytest.approx(min(losses), rel=1e-12)


def test_ridge_callbacks_with_validation_loss_log():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((200, 10))
    y = X @ rng.standard_normal(10) + rng.standard_normal(200)
    recorder = Recorder("val_loss", "objective")
    model = Ridge(alpha=1e-3, solver="lbfgs", early_stopping=True, random_state=0,
                  callbacks=[recorder]).fit(X, y)
    assert len(recorder.records) >= 1
    assert all(np.isfinite(float(r["val_loss"])) for r in recorder.records)
    objectives = [float(r["objective"]) for r in recorder.records]
    assert objectives[-1] <= objectives[0]
    assert model.coef_.shape == (10,)


def test_linear_model_without_stop_is_unchanged():
    X, y, _, _ = classification_split(seed=3)
    plain = LogisticRegression(alpha=1e-2, solver="lbfgs").fit(X, y)
    watched = LogisticRegression(alpha=1e-2, solver="lbfgs",
                                 callbacks=[Recorder("objective")]).fit(X, y)
    np.testing.assert_array_equal(plain.coef_, watched.coef_)
    assert plain.n_iter_ == watched.n_iter_


@pytest.mark.parametrize("solver", ["newton-cd", "owlqn", "fista", "newton-cg", "newton"])
def test_every_solver_feeds_callbacks(solver):
    X, y, X_val, y_val = classification_split(seed=4)
    penalty = "l1" if solver in ("newton-cd", "owlqn", "fista") else "l2"
    stopper = EarlyStopping(held_out_log_loss(X_val, y_val), patience=1, min_delta=1e9)
    model = LogisticRegression(penalty=penalty, alpha=1e-3, solver=solver, tol=1e-12,
                               max_iter=200, callbacks=[stopper]).fit(X, y)
    # min_delta above any change: the first iterate is the best and the second stops.
    assert stopper.best_iteration == 1
    assert stopper.stopped_iteration == 2
    assert model.n_iter_ <= 3


def test_model_file_skips_callbacks(tmp_path):
    X, y, _, _ = classification_split(seed=5)
    model = LogisticRegression(callbacks=[EarlyStopping("objective")]).fit(X, y)
    path = tmp_path / "model.npz"
    model_file.save_model(model, path)
    loaded = model_file.load_model(path)
    assert loaded.callbacks is None
    np.testing.assert_array_equal(loaded.coef_, model.coef_)


def test_estimator_rejects_bad_callbacks():
    X, y, _, _ = classification_split()
    with pytest.raises(TypeError, match=r"callbacks\[1\]: expected a fastopt.callbacks.Callback, "
                                        r"got str"):
        LogisticRegression(callbacks=[EarlyStopping(), "stop"]).fit(X, y)


# -- online estimators ------------------------------------------------------------------

def test_sgd_classifier_restores_best_epoch():
    X, y, X_val, y_val = classification_split(seed=6)
    recorder = Recorder()
    coefs = []

    class Snapshot(Callback):
        def on_iteration_end(self, iteration, logs):
            coefs.append(logs["estimator"].coef_.copy())
            return False

    stopper = EarlyStopping(lambda logs: logs["estimator"].score(X_val, y_val), mode="max",
                            patience=2)
    model = SGDClassifier(loss="log_loss", eta0=0.5, learning_rate="constant", tol=None,
                          max_iter=40, random_state=0, callbacks=[recorder, Snapshot(), stopper])
    model.fit(X, y)
    best, stop = expected_stop(stopper.history, 2, maximize=True)
    assert stop is not None
    assert model.n_iter_ == stop + 1
    np.testing.assert_array_equal(model.coef_, coefs[best])
    assert model.score(X_val, y_val) == stopper.best_value


@pytest.mark.parametrize("make, monitor", [
    (lambda stopper: SGDClassifier(max_iter=5, tol=None, random_state=0, callbacks=[stopper]),
     "loss"),
    (lambda stopper: LogisticRegression(solver="lbfgs", callbacks=[stopper]), "objective"),
])
def test_model_fitted_with_early_stopping_pickles(make, monitor):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((90, 5))
    y = np.repeat([0, 1, 2], 30)
    model = make(EarlyStopping(monitor, patience=2)).fit(X, y)
    copy = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(copy.predict(X), model.predict(X))
    assert copy.callbacks[0].history == model.callbacks[0].history
