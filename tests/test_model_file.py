"""Saving and loading fitted estimators without pickle."""

import json
import zipfile

import numpy as np
import pytest
import scipy.sparse as sp

from fastopt import linear_model, online
from fastopt.model_file import FORMAT, load_model, save_model


def _problem(kind, n_classes=2, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(300, 12, density=0.4, format="csr", random_state=seed)
    w = rng.standard_normal((12, max(n_classes, 1)))
    scores = X @ w + 0.1 * rng.standard_normal((300, max(n_classes, 1)))
    if kind == "regression":
        return X, scores[:, 0]
    if n_classes == 2:
        return X, np.where(scores[:, 0] > 0, "yes", "no")
    return X, scores.argmax(axis=1) * 10


ESTIMATORS = [
    (linear_model.LogisticRegression(alpha=1e-3), "classification", 2),
    (linear_model.LogisticRegression(penalty="l1", alpha=1e-3), "classification", 3),
    (linear_model.LinearRegression(), "regression", 0),
    (linear_model.Ridge(alpha=1e-2), "regression", 0),
    (linear_model.Lasso(alpha=1e-3), "regression", 0),
    (linear_model.ElasticNet(alpha=1e-3, l1_ratio=0.3), "regression", 0),
    (online.SGDClassifier(loss="log_loss", max_iter=3, tol=None, random_state=0), "classification", 2),
    (online.SGDClassifier(loss="hinge", max_iter=3, tol=None, random_state=0), "classification", 3),
    (online.SGDRegressor(max_iter=3, tol=None, random_state=0), "regression", 0),
    (online.FTRLClassifier(epochs=2, random_state=0), "classification", 2),
]


@pytest.mark.parametrize("estimator, kind, n_classes", ESTIMATORS,
                         ids=lambda v: type(v).__name__ if hasattr(v, "fit") else str(v))
def test_round_trip_predicts_identically(tmp_path, estimator, kind, n_classes):
    X, y = _problem(kind, n_classes)
    estimator.fit(X, y)
    path = tmp_path / "model.npz"
    save_model(estimator, path, {"note": "trained in a test", "rows": 300})
    loaded, metadata = load_model(path, with_metadata=True)
    assert type(loaded) is type(estimator)
    assert metadata == {"note": "trained in a test", "rows": 300}
    assert loaded.get_params() == estimator.get_params()
    np.testing.assert_array_equal(loaded.predict(X), estimator.predict(X))
    np.testing.assert_array_equal(loaded.coef_, estimator.coef_)
    np.testing.assert_array_equal(loaded.intercept_, estimator.intercept_)
    if hasattr(estimator, "predict_proba") and getattr(estimator, "loss", "log_loss") == "log_loss":
        np.testing.assert_array_equal(loaded.predict_proba(X), estimator.predict_proba(X))
    if hasattr(estimator, "classes_"):
        np.testing.assert_array_equal(loaded.classes_, estimator.classes_)


def test_loaded_online_model_keeps_training(tmp_path):
    X, y = _problem("classification")
    first = online.FTRLClassifier(random_state=0).fit(X, y)
    save_model(first, tmp_path / "m.npz")
    loaded = load_model(tmp_path / "m.npz")
    first.partial_fit(X, y)
    loaded.partial_fit(X, y)
    np.testing.assert_array_equal(loaded.coef_, first.coef_)


def test_path_is_written_as_given(tmp_path):
    X, y = _problem("regression")
    path = tmp_path / "model.bin"
    save_model(linear_model.Ridge().fit(X, y), path)
    assert path.exists()
    assert not (tmp_path / "model.bin.npz").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["model.bin"]


def test_save_rejects_foreign_and_unfitted(tmp_path):
    class Imitation(linear_model.Ridge):
        pass

    X, y = _problem("regression")
    with pytest.raises(TypeError, match="estimator: expected a fastopt"):
        save_model(Imitation().fit(X, y), tmp_path / "m.npz")
    with pytest.raises(ValueError, match="not fitted"):
        save_model(linear_model.Ridge(), tmp_path / "m.npz")
    with pytest.raises(TypeError, match="metadata"):
        save_model(linear_model.Ridge().fit(X, y), tmp_path / "m.npz", {"bad": float("nan")})
    assert not list(tmp_path.iterdir())


def _rewrite(path, target, change):
    """Copy the archive at ``path`` to ``target`` with ``change(members)`` applied."""
    with np.load(path, allow_pickle=False) as archive:
        members = {key: archive[key] for key in archive.files}
    change(members)
    with open(target, "wb") as f:
        np.savez(f, **members)


def _state(members):
    return json.loads(str(members["__state__"]))


def _set_state(members, state):
    members["__state__"] = np.array(json.dumps(state))


def _coef_key(members):
    return _state(members)["coef_"]["__array__"]


@pytest.mark.parametrize("change, fragment", [
    (lambda m: m.pop("__format__"), "no __format__ entry"),
    (lambda m: m.update(__format__=np.array("fastopt-model/99")), "unsupported model format"),
    (lambda m: m.update(__class__=np.array("os.system")), "unknown estimator class 'os.system'"),
    (lambda m: m.update(__state__=np.array("{not json")), "damaged model file"),
    (lambda m: m.update(__state__=np.array(3)), "__state__ is not a string"),
    (lambda m: _set_state(m, {k: v for k, v in _state(m).items() if k != "alpha"}),
     "parameters ['alpha'] are missing"),
    (lambda m: _set_state(m, {**_state(m), "alpha": -1.0}), "alpha"),
    (lambda m: m.update({_coef_key(m): np.zeros((2, 5))}), "coef_ has shape"),
    (lambda m: m.update({_coef_key(m): np.zeros(m[_coef_key(m)].shape, np.int64)}),
     "coef_ has dtype int64; expected floating point"),
    (lambda m: m.update({_coef_key(m): np.full(m[_coef_key(m)].shape, np.nan)}), "not finite"),
    (lambda m: m.pop(_coef_key(m)), "missing array"),
    (lambda m: _set_state(m, {**_state(m), "coef_": {"__float__": "1e9"}}), "expected 'nan'"),
])
def test_damaged_files_raise_value_error(tmp_path, change, fragment):
    X, y = _problem("classification")
    good = tmp_path / "good.npz"
    save_model(linear_model.LogisticRegression().fit(X, y), good)
    bad = tmp_path / "bad.npz"
    _rewrite(good, bad, change)
    with pytest.raises(ValueError, match="bad.npz") as info:
        load_model(bad)
    assert fragment in str(info.value)


@pytest.mark.parametrize("content", [b"", b"not a model", b"PK\x03\x04garbage", b"\x93NUMPY\x01\x00"])
def test_arbitrary_bytes_raise_value_error(tmp_path, content):
    path = tmp_path / "junk.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="junk.npz: not a fastopt model file"):
        load_model(path)


def test_truncated_archive_raises_value_error(tmp_path):
    X, y = _problem("regression")
    path = tmp_path / "m.npz"
    save_model(linear_model.Ridge().fit(X, y), path)
    data = path.read_bytes()
    truncated = tmp_path / "cut.npz"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cut.npz"):
        load_model(truncated)


def test_plain_npy_and_missing_file(tmp_path):
    np.save(tmp_path / "a.npy", np.arange(3))
    with pytest.raises(ValueError, match="not an .npz archive"):
        load_model(tmp_path / "a.npy")
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "absent.npz")


def test_file_holds_no_pickles(tmp_path):
    X, y = _problem("classification", 3)
    path = tmp_path / "m.npz"
    save_model(online.SGDClassifier(loss="log_loss", max_iter=2, tol=None).fit(X, y), path)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    assert {"__format__.npy", "__class__.npy", "__state__.npy", "__metadata__.npy"} <= set(names)
    with np.load(path, allow_pickle=False) as archive:
        assert str(archive["__format__"]) == FORMAT
        for key in archive.files:
            assert archive[key].dtype != object


def test_classifier_without_classes_is_damaged(tmp_path):
    X, y = _problem("classification")
    good = tmp_path / "good.npz"
    save_model(linear_model.LogisticRegression().fit(X, y), good)
    bad = tmp_path / "bad.npz"
    _rewrite(good, bad, lambda m: _set_state(m, {k: v for k, v in _state(m).items()
                                                 if k != "classes_"}))
    with pytest.raises(ValueError, match="a classifier without classes_"):
        load_model(bad)


def test_regressor_with_matrix_coef_is_damaged(tmp_path):
    X, y = _problem("classification")
    good = tmp_path / "good.npz"
    save_model(linear_model.LogisticRegression().fit(X, y), good)
    bad = tmp_path / "bad.npz"
    _rewrite(good, bad, lambda m: m.update(__class__=np.array("fastopt.linear_model.Ridge")))
    with pytest.raises(ValueError, match="a regressor's coef_ is 1-D"):
        load_model(bad)


def test_pickle_advice_is_not_relayed(tmp_path):
    import pickle

    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps({"coef_": [1.0]}))
    with pytest.raises(ValueError) as info:
        load_model(path)
    assert "allow_pickle" not in str(info.value)
