"""The metrics' GPU path: label checks, encoding and the ranking and log-loss scans in CuPy.

Each public metric calls :func:`on_gpu` on its array arguments. When they are GPU arrays
(CuPy, or anything with ``__cuda_array_interface__``) it runs the functions below on their
device, on CuPy's current stream, in place of the NumPy checks and the C++ kernels of
``csrc/metrics``. The per-sample work stays on the device; only per-class totals and the
final scalars come to the host, where the shared code turns them into the metric.

The functions return what their CPU counterparts return (the same tuple layout as
``_core.metrics_roc_auc``, ``metrics_average_precision`` and ``metrics_log_loss``), so the
metric functions share one body. Labels on the GPU are numeric; CuPy has no strings.
"""

from __future__ import annotations

import numpy as np

from fastopt import _gpu
from fastopt.metrics._validation import checked_labels

#: True for this module's functions, False for the set ``host_ops`` returns.
gpu = True


def on_gpu(**named) -> bool:
    """Return True when the named arguments are GPU arrays, False when they are on the CPU.

    Lists and tuples count as CPU input without being scanned element by element. Raises
    TypeError (from ``_gpu.check_one_device``) for a mix of devices, and RuntimeError when a
    GPU array arrives but no CUDA module or device is available.
    """
    top_level = {}
    for name, value in named.items():
        if isinstance(value, (list, tuple)):
            value = np.empty(0)  # a host sequence: its elements are not looked at
        top_level[name] = value
    if not any(_gpu.is_gpu_array(v) for v in top_level.values()):
        return False
    _gpu.check_one_device(**top_level)
    _gpu.cuda_module()
    return True


def _cupy():
    return _gpu._import_cupy()


def _first(mask) -> int:
    return int(_cupy().flatnonzero(mask)[0])


def as_label_vector(name: str, values):
    """Return the labels as a 1-D CuPy array, checked as ``_validation.as_label_vector``."""
    array = checked_labels(name, _gpu.as_cupy(values))
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{name}: expected real labels on the GPU, got dtype {array.dtype}")
    return array


def unique_labels(*arrays) -> np.ndarray:
    """Return the sorted union of the labels as a host NumPy array (one copy of K values)."""
    cupy = _cupy()
    merged = cupy.unique(cupy.concatenate([cupy.unique(a) for a in arrays]))
    return merged.get()


def encode(values, classes: np.ndarray):
    """Return the code of each label in ``classes`` (sorted, host) as int64, -1 when absent."""
    cupy = _cupy()
    table = cupy.asarray(classes)
    if table.size == 0:
        return cupy.full(values.size, -1, cupy.int64)
    positions = cupy.minimum(cupy.searchsorted(table, values), table.size - 1)
    return cupy.where(table[positions] == values, positions, -1).astype(cupy.int64)


def check_sample_weight(sample_weight, size: int):
    """Return the weights as a float64 CuPy array (None when omitted), checked as on the CPU."""
    if sample_weight is None:
        return None
    cupy = _cupy()
    weight = cupy.ascontiguousarray(_gpu.as_cupy(sample_weight), dtype=cupy.float64)
    if weight.ndim != 1:
        raise ValueError(f"sample_weight: expected a 1-D array, got shape {weight.shape}")
    if weight.shape[0] != size:
        raise ValueError(f"sample_weight: expected {size} samples to match y_true, got "
                         f"{weight.shape[0]}")
    valid = cupy.isfinite(weight) & (weight >= 0)
    if not bool(valid.all()):
        index = _first(~valid)
        raise ValueError(
            f"sample_weight[{index}]: expected a finite value >= 0, got {float(weight[index])!r}")
    return weight


def as_scores(name: str, values, size: int):
    """Return scores as a C-contiguous float32/float64 CuPy array of 1 or 2 dimensions."""
    cupy = _cupy()
    array = _gpu.as_cupy(values)
    if array.dtype.kind in "biu" or array.dtype == np.float16:
        array = array.astype(cupy.float64)
    elif array.dtype not in (np.float32, np.float64):
        raise ValueError(f"{name}: expected real numbers, got dtype {array.dtype}")
    if array.ndim == 0 or array.ndim > 2:
        raise ValueError(f"{name}: expected a 1-D or 2-D array, got shape {array.shape}")
    if array.shape[0] != size:
        raise ValueError(f"{name}: expected {size} samples to match y_true, got {array.shape[0]}")
    return cupy.ascontiguousarray(array)


class Targets:
    """y_true and y_pred as codes into their sorted union of classes, on the device.

    The GPU twin of ``_classification._Targets``: the codes stay on the device and the
    per-class totals come back as host arrays.
    """

    def __init__(self, y_true, y_pred, sample_weight):
        true = as_label_vector("y_true", y_true)
        pred = as_label_vector("y_pred", y_pred)
        if pred.shape[0] != true.shape[0]:
            raise ValueError(f"y_pred: expected {true.shape[0]} samples to match y_true, got "
                             f"{pred.shape[0]}")
        self.classes = unique_labels(true, pred)
        self.true_codes = encode(true, self.classes)
        self.pred_codes = encode(pred, self.classes)
        self.weight = check_sample_weight(sample_weight, true.shape[0])
        self.type = "binary" if self.classes.size <= 2 else "multiclass"

    def _bincount(self, codes, mask=None, minlength=None):
        weight = self.weight
        if mask is not None:
            codes = codes[mask]
            weight = None if weight is None else weight[mask]
        # NOTE: weighted counts are float atomics in CuPy's bincount, so their last bits
        # depend on the order the GPU adds them; counts without weights are exact.
        return _cupy().bincount(codes, weights=weight, minlength=minlength).get()

    def confusion(self) -> np.ndarray:
        k = self.classes.size
        cells = self.true_codes * k + self.pred_codes
        return self._bincount(cells, minlength=k * k).reshape(k, k)

    def class_sums(self):
        k = self.classes.size
        hits = self.true_codes == self.pred_codes
        return (self._bincount(self.true_codes, hits, k), self._bincount(self.pred_codes, None, k),
                self._bincount(self.true_codes, None, k))


def zeros_mask(size: int):
    """Return a uint8 mask of ``size`` zeros on the device (no positive sample)."""
    return _cupy().zeros(size, dtype=np.uint8)


def _tie_groups(scores, column, positive, weight):
    """Return (TP_k, FP_k) at the end of each group of tied scores, in decreasing score.

    Sorts once with ``cupy.argsort`` and takes cumulative weights; a group's totals are
    read at its last element, so the order inside a group (the sort need not be stable)
    changes only the rounding of weighted sums.
    """
    cupy = _cupy()
    values = scores if column < 0 else scores[:, column]
    order = cupy.argsort(-values.astype(cupy.float64))
    ordered = values[order]
    is_positive = positive[order].astype(cupy.float64)
    w = cupy.ones(values.shape[0]) if weight is None else weight[order]
    tps = cupy.cumsum(is_positive * w)
    fps = cupy.cumsum((1.0 - is_positive) * w)
    ends = cupy.concatenate([cupy.flatnonzero(ordered[1:] != ordered[:-1]),
                             cupy.asarray([values.shape[0] - 1])])
    return tps[ends], fps[ends]


def _scan(scores, column, positive, weight):
    """Return (TP_k, FP_k, P, N), or None with the first non-finite index."""
    cupy = _cupy()
    values = scores if column < 0 else scores[:, column]
    finite = cupy.isfinite(values)
    if not bool(finite.all()):
        return None, _first(~finite)
    tps, fps = _tie_groups(scores, column, positive, weight)
    return (tps, fps, float(tps[-1]), float(fps[-1])), -1


def roc_auc(scores, column, positive, weight):
    """Return (AUC, P, N, first non-finite index or -1) as ``_core.metrics_roc_auc``."""
    scan, bad = _scan(scores, column, positive, weight)
    if scan is None:
        return np.nan, 0.0, 0.0, bad
    tps, fps, p, n = scan
    if p <= 0 or n <= 0:
        return np.nan, p, n, -1
    cupy = _cupy()
    previous_t = cupy.concatenate([cupy.zeros(1), tps[:-1]])
    previous_f = cupy.concatenate([cupy.zeros(1), fps[:-1]])
    area = float(((fps - previous_f) * (tps + previous_t)).sum()) / 2.0
    # As in the CPU kernel: rounding can take the quotient just past 1, the exact area cannot.
    return min(max(area / (p * n), 0.0), 1.0), p, n, -1


def average_precision(scores, column, positive, weight):
    """Return (AP, P, N, first non-finite index or -1) as ``_core.metrics_average_precision``."""
    scan, bad = _scan(scores, column, positive, weight)
    if scan is None:
        return np.nan, 0.0, 0.0, bad
    tps, fps, p, n = scan
    if p <= 0:
        return 0.0, p, n, -1
    cupy = _cupy()
    gained = tps - cupy.concatenate([cupy.zeros(1), tps[:-1]])
    predicted = tps + fps
    safe = cupy.where(predicted > 0, predicted, 1.0)
    terms = cupy.where(gained > 0, gained * (tps / safe), 0.0)
    return float(terms.sum()) / p, p, n, -1


def log_loss(proba, positive, codes, weight):
    """Return (loss sum, weight sum, first invalid row or -1, rows not summing to one).

    The CuPy form of ``_core.metrics_log_loss``: probabilities are clipped to
    [eps, 1 - eps] with eps the machine epsilon of their dtype, and the logarithms and
    sums run in float64.
    """
    cupy = _cupy()
    eps = float(np.finfo(proba.dtype).eps)
    values = proba.astype(cupy.float64)
    valid = (values >= 0) & (values <= 1)
    row_valid = valid if values.ndim == 1 else valid.all(axis=1)
    if not bool(row_valid.all()):
        return 0.0, 0.0, _first(~row_valid), 0
    if values.ndim == 1:
        chosen = cupy.where(positive.astype(bool), values, 1.0 - values)
        not_normalized = 0
    else:
        chosen = cupy.take_along_axis(values, codes[:, None], axis=1)[:, 0]
        not_normalized = int((cupy.abs(values.sum(axis=1) - 1.0) > np.sqrt(eps)).sum())
    losses = -cupy.log(cupy.clip(chosen, eps, 1.0 - eps))
    if weight is None:
        return float(losses.sum()), float(values.shape[0]), -1, not_normalized
    return float((losses * weight).sum()), float(weight.sum()), -1, not_normalized


def host_ops():
    """Return the CPU functions under the names this module uses, for one shared metric body."""
    from types import SimpleNamespace

    from fastopt import _core
    from fastopt.metrics import _validation

    return SimpleNamespace(
        as_label_vector=_validation.as_label_vector, unique_labels=_validation.unique_labels,
        encode=_validation.encode, check_sample_weight=_validation.check_sample_weight,
        as_scores=_validation.as_scores, roc_auc=_core.metrics_roc_auc,
        average_precision=_core.metrics_average_precision, log_loss=_core.metrics_log_loss,
        zeros_mask=lambda size: np.zeros(size, dtype=np.uint8), gpu=False)


def ops_for(**named):
    """Return this module when the named arguments are on the GPU, else the CPU functions."""
    import sys

    return sys.modules[__name__] if on_gpu(**named) else host_ops()


def to_host(array):
    """Return a NumPy copy of a GPU array; return other values unchanged."""
    return _gpu.as_cupy(array).get() if _gpu.is_gpu_array(array) else array
