"""Save fitted estimators to ``.npz`` files and load them back, without pickle.

A model file is a NumPy ``.npz`` archive with four text members and the arrays: a format tag,
the estimator's class name, its state as JSON and free-form JSON metadata (where the model
was trained, its metrics). The state is the constructor's parameters and the fitted
attributes, with each array replaced by a reference to an archive member. Loading reads it with ``allow_pickle=False`` and accepts only
fastopt's own estimator classes, so opening a model file never runs code from it.
"""

from __future__ import annotations

import json
import math
import os

import numpy as np

__all__ = ["load_model", "save_model"]

FORMAT = "fastopt-model/1"


def _estimator_classes():
    """Return {qualified name: class} for every estimator a model file may hold."""
    from fastopt import linear_model, online

    classes = {}
    for module in (linear_model, online):
        for name in module.__all__:
            value = getattr(module, name)
            if isinstance(value, type) and hasattr(value, "get_params") and hasattr(value, "fit"):
                classes[f"{module.__name__}.{name}"] = value
    return classes


class _Encoder:
    """Turn nested state into JSON-compatible values, moving arrays into ``self.arrays``."""

    def __init__(self):
        self.arrays = {}

    def encode(self, value, where):
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, np.bool_):
            return bool(value)
        if isinstance(value, (int, np.integer)):
            return int(value)
        if isinstance(value, (float, np.floating)):
            value = float(value)
            return value if math.isfinite(value) else {"__float__": repr(value)}
        if isinstance(value, np.ndarray):
            if value.dtype.hasobject:
                if value.ndim == 1 and all(isinstance(v, str) for v in value):
                    value = value.astype(str)
                else:
                    raise TypeError(f"{where}: cannot save an array of Python objects")
            key = f"array_{len(self.arrays)}"
            self.arrays[key] = value
            return {"__array__": key}
        if isinstance(value, tuple):
            return {"__tuple__": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(value)]}
        if isinstance(value, list):
            return [self.encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, dict):
            if not all(isinstance(k, str) for k in value):
                raise TypeError(f"{where}: cannot save a dict with non-string keys")
            if any(k.startswith("__") and k.endswith("__") for k in value):
                raise TypeError(f"{where}: cannot save a dict key of the form __name__")
            return {k: self.encode(v, f"{where}[{k!r}]") for k, v in value.items()}
        raise TypeError(f"{where}: cannot save a value of type {type(value).__name__} in a model file")


def _decode(value, arrays, where):
    if isinstance(value, list):
        return [_decode(v, arrays, f"{where}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, dict):
        return value
    if set(value) == {"__array__"}:
        key = value["__array__"]
        if not isinstance(key, str) or key not in arrays:
            raise ValueError(f"{where}: refers to a missing array {key!r}")
        return arrays[key]
    if set(value) == {"__tuple__"} and isinstance(value["__tuple__"], list):
        return tuple(_decode(v, arrays, f"{where}[{i}]") for i, v in enumerate(value["__tuple__"]))
    if set(value) == {"__float__"}:
        if value["__float__"] not in ("nan", "inf", "-inf"):
            raise ValueError(f"{where}: expected 'nan', 'inf' or '-inf', got {value['__float__']!r}")
        return float(value["__float__"])
    if any(k.startswith("__") and k.endswith("__") for k in value):
        raise ValueError(f"{where}: unknown entry {sorted(value)!r}")
    return {k: _decode(v, arrays, f"{where}[{k!r}]") for k, v in value.items()}


def save_model(estimator, path, metadata=None):
    """Save a fitted fastopt estimator, and optional JSON metadata, to ``path``.

    Parameters
    ----------
    estimator : estimator
        A fitted estimator of :mod:`fastopt.linear_model` or :mod:`fastopt.online`.
    path : str or os.PathLike
        Written as given (no ``.npz`` suffix is appended), through a temporary file in the
        same directory that replaces ``path`` only once complete.
    metadata : dict or None, default None
        JSON-serializable values stored with the model (for example the training file and
        the metrics), returned by ``load_model(path, with_metadata=True)``.

    Raises
    ------
    TypeError
        For an estimator class that is not fastopt's, or state that a model file cannot hold.
    ValueError
        For an estimator that is not fitted.

    Examples
    --------
    >>> import os
    >>> import tempfile
    >>> import numpy as np
    >>> from fastopt.datasets import load_svmlight
    >>> from fastopt.linear_model import Ridge
    >>> from fastopt.model_file import load_model, save_model
    >>> X, y = load_svmlight(os.path.join(DATA_DIR, "heart_scale"))
    >>> model = Ridge(alpha=0.1).fit(X, y)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "ridge.npz")
    ...     save_model(model, path, metadata={"data": "heart_scale"})
    ...     loaded, metadata = load_model(path, with_metadata=True)
    >>> bool(np.array_equal(loaded.coef_, model.coef_)), metadata
    (True, {'data': 'heart_scale'})
    """
    classes = _estimator_classes()
    name = f"{type(estimator).__module__.rsplit('._', 1)[0]}.{type(estimator).__name__}"
    if classes.get(name) is not type(estimator):
        raise TypeError(f"estimator: expected a fastopt.linear_model or fastopt.online estimator, "
                        f"got {type(estimator).__name__}")
    if not getattr(estimator, "__sklearn_is_fitted__", lambda: hasattr(estimator, "coef_"))():
        raise ValueError(f"estimator: this {type(estimator).__name__} is not fitted; fit it before saving")
    encoder = _Encoder()
    state = dict(estimator.__getstate__())
    # Callbacks belong to a training run, not to the model, and may hold any object.
    state.pop("callbacks", None)
    state = encoder.encode(state, "estimator")
    try:
        metadata_text = json.dumps({} if metadata is None else metadata, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"metadata: expected JSON-serializable values without NaN, got {exc}") from None
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    temporary = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as f:
            np.savez(f, __format__=np.array(FORMAT), __class__=np.array(name),
                     __state__=np.array(json.dumps(state, allow_nan=False)),
                     __metadata__=np.array(metadata_text), **encoder.arrays)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def _text_member(archive, key, path):
    if key not in archive.files:
        raise ValueError(f"{path}: not a fastopt model file (no {key} entry)")
    value = archive[key]
    if value.shape != () or value.dtype.kind != "U":
        raise ValueError(f"{path}: not a fastopt model file ({key} is not a string)")
    return str(value)


def _check_loaded(estimator, path):
    """Check parameters and fitted arrays so a damaged file fails here, not at predict."""
    try:
        estimator._check_params()
    except (AttributeError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: damaged model file, parameters incomplete ({exc})") from None
    n_features = getattr(estimator, "n_features_in_", None)
    if isinstance(n_features, bool) or not isinstance(n_features, int) or n_features < 1:
        raise ValueError(f"{path}: damaged model file, n_features_in_ = {n_features!r}")
    coef = np.asarray(estimator.coef_)
    intercept = np.atleast_1d(np.asarray(estimator.intercept_))
    for name, values in (("coef_", coef), ("intercept_", intercept)):
        if values.dtype.kind != "f":
            raise ValueError(f"{path}: damaged model file, {name} has dtype {values.dtype}; "
                             "expected floating point")
    if coef.ndim not in (1, 2) or coef.shape[-1] != n_features:
        raise ValueError(f"{path}: damaged model file, coef_ has shape {coef.shape} for "
                         f"{n_features} features")
    rows = 1 if coef.ndim == 1 else coef.shape[0]
    if intercept.shape != (rows,):
        raise ValueError(f"{path}: damaged model file, intercept_ has shape {intercept.shape} for "
                         f"{rows} rows of coefficients")
    if not (np.isfinite(coef).all() and np.isfinite(intercept).all()):
        raise ValueError(f"{path}: damaged model file, coefficients are not finite")
    classifier = getattr(estimator, "_estimator_type", None) == "classifier"
    if not classifier and coef.ndim != 1:
        raise ValueError(f"{path}: damaged model file, coef_ has shape {coef.shape}; a "
                         "regressor's coef_ is 1-D")
    if classifier and coef.ndim != 2:
        # decision_function indexes coef_ by row; a 1-D coef_ would fail there with IndexError.
        raise ValueError(f"{path}: damaged model file, coef_ has shape {coef.shape}; a "
                         "classifier's coef_ is 2-D (n_rows, n_features)")
    classes = getattr(estimator, "classes_", None)
    if classifier and classes is None:
        raise ValueError(f"{path}: damaged model file, a classifier without classes_")
    if classes is not None:
        classes = np.asarray(classes)
        expected = 2 if rows == 1 else rows
        if classes.ndim != 1 or classes.size != expected or np.unique(classes).size != classes.size:
            raise ValueError(f"{path}: damaged model file, classes_ {classes!r} do not fit "
                             f"{rows} rows of coefficients")


def load_model(path, *, with_metadata=False):
    """Load an estimator saved by :func:`save_model`.

    The file is read with ``allow_pickle=False``, so loading runs no code from the file.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`save_model`.
    with_metadata : bool, default False
        Also return the metadata dict saved with the model.

    Returns
    -------
    estimator or tuple
        The fitted estimator, of the class that was saved, or ``(estimator, metadata)``
        with ``with_metadata=True``.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    ValueError
        When the file is not a fastopt model file, names a class that is not fastopt's, or
        contains state that does not fit its class. The message names the file and the problem.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from fastopt.linear_model import Ridge
    >>> from fastopt.model_file import load_model, save_model
    >>> X = np.arange(20.0).reshape(10, 2)
    >>> model = Ridge(alpha=0.1).fit(X, X @ [1.0, -2.0])
    >>> path = os.path.join(tempfile.mkdtemp(), "ridge.npz")
    >>> save_model(model, path, metadata={"data": "arange"})
    >>> loaded, metadata = load_model(path, with_metadata=True)
    >>> bool(np.array_equal(loaded.coef_, model.coef_)), metadata
    (True, {'data': 'arange'})
    """
    path = os.fspath(path)
    try:
        archive = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except Exception as exc:  # noqa: BLE001 - arbitrary bytes fail in many ways inside zipfile
        # NumPy's message for pickled data advises allow_pickle=True, which this loader never uses.
        detail = "not an .npz archive" if "pickle" in str(exc) else f"{type(exc).__name__}: {exc}"
        raise ValueError(f"{path}: not a fastopt model file ({detail})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{path}: not a fastopt model file (a single array, not an .npz archive)")
    with archive:
        try:
            tag = _text_member(archive, "__format__", path)
            if tag != FORMAT:
                raise ValueError(f"{path}: unsupported model format {tag!r}; expected {FORMAT!r}")
            name = _text_member(archive, "__class__", path)
            classes = _estimator_classes()
            if name not in classes:
                raise ValueError(f"{path}: unknown estimator class {name!r}")
            state = json.loads(_text_member(archive, "__state__", path))
            metadata = json.loads(_text_member(archive, "__metadata__", path))
            arrays = {key: archive[key] for key in archive.files if key.startswith("array_")}
        except ValueError as exc:
            if str(exc).startswith(path):
                raise
            raise ValueError(f"{path}: damaged model file ({exc})") from None
        except Exception as exc:  # noqa: BLE001 - a damaged member fails in zipfile or zlib
            raise ValueError(f"{path}: damaged model file ({type(exc).__name__}: {exc})") from None
    if not isinstance(state, dict):
        raise ValueError(f"{path}: damaged model file (the state is not a mapping)")
    try:
        state = _decode(state, arrays, "state")
    except ValueError as exc:
        raise ValueError(f"{path}: damaged model file, {exc}") from None
    cls = classes[name]
    # Callbacks are never saved; a loaded model has none.
    params = cls().get_params()
    if "callbacks" in params:
        state.setdefault("callbacks", None)
    missing = set(params) - set(state)
    if missing:
        raise ValueError(f"{path}: damaged model file, parameters {sorted(missing)} are missing")
    estimator = cls.__new__(cls)
    try:
        if "__setstate__" in vars(cls) or any("__setstate__" in vars(base) for base in cls.__mro__[1:-1]):
            estimator.__setstate__(state)
        else:
            estimator.__dict__.update(state)
        _check_loaded(estimator, path)
    except ValueError as exc:
        if str(exc).startswith(path):
            raise
        raise ValueError(f"{path}: damaged model file ({exc})") from None
    except (TypeError, KeyError, AttributeError, IndexError) as exc:
        raise ValueError(f"{path}: damaged model file ({type(exc).__name__}: {exc})") from None
    if with_metadata:
        return estimator, metadata
    return estimator
