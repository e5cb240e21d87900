"""Validation of metric inputs and the mapping of labels to integer codes."""

from __future__ import annotations

import numpy as np

# Integer labels whose range is below this use a presence table instead of a sort to
# find the classes, which keeps label encoding linear in the sample count.
_MAX_TABLE_RANGE = 1 << 22
_INT64_MAX = int(np.iinfo(np.int64).max)


def as_label_vector(name: str, values) -> np.ndarray:
    """Return ``values`` as a 1-D array of discrete labels, raising ValueError otherwise."""
    return checked_labels(name, np.asarray(values))


def checked_labels(name: str, array):
    """Check a label array as ``as_label_vector`` does and return it, raveled when (n, 1).

    Works on NumPy and CuPy arrays alike (CuPy through NumPy's dispatch).
    """
    if array.ndim == 2 and array.shape[1] == 1:
        array = array.ravel()
    if array.ndim == 2:
        raise ValueError(
            f"{name}: multilabel indicator and multi-output targets are not supported, got "
            f"shape {array.shape}; pass a 1-D array of class labels"
        )
    if array.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array of labels, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name}: expected at least one sample, got an empty array")
    kind = array.dtype.kind
    if kind == "f":
        finite = np.isfinite(array)
        if not finite.all():
            index = int(np.flatnonzero(~finite)[0])
            raise ValueError(f"{name}[{index}]: expected a finite label, got {array[index].item()!r}")
        integral = array == np.floor(array)
        if not integral.all():
            index = int(np.flatnonzero(~integral)[0])
            raise ValueError(
                f"{name}[{index}]: classification metrics need discrete labels, got the "
                f"continuous value {array[index].item()!r}"
            )
    elif kind == "c":
        raise ValueError(f"{name}: expected real or string labels, got dtype {array.dtype}")
    return array


def _is_string_kind(array: np.ndarray) -> bool:
    if array.dtype.kind in "US":
        return True
    if array.dtype.kind == "O":
        return any(isinstance(v, str) for v in array[:1000].tolist())
    return False


def unique_labels(*arrays: np.ndarray) -> np.ndarray:
    """Return the sorted union of the labels in ``arrays``.

    Raises ValueError for a mix of string and numeric labels, as scikit-learn does.
    """
    strings = [_is_string_kind(a) for a in arrays]
    if any(strings) and not all(strings):
        raise ValueError("Mix of label input types (string and number): pass labels of one type")
    if all(a.dtype.kind in "biu" for a in arrays):
        table = _integer_classes(arrays)
        if table is not None:
            return table
    try:
        return np.unique(np.concatenate([np.unique(a) for a in arrays]))
    except TypeError as error:
        raise ValueError(f"labels: cannot order the labels ({error}); pass labels of one type") from error


def _integer_classes(arrays) -> np.ndarray | None:
    low = min(int(a.min()) for a in arrays)
    high = max(int(a.max()) for a in arrays)
    # uint64 labels above the int64 range go through np.unique instead.
    if high - low >= _MAX_TABLE_RANGE or high > _INT64_MAX:
        return None
    present = np.zeros(high - low + 1, dtype=bool)
    for a in arrays:
        # Shifts in int64: in the labels' own dtype, int8 or uint8, they would wrap around.
        index = a.astype(np.int64, copy=False)
        present[index - low if low else index] = True
    dtype = np.result_type(*[a.dtype for a in arrays])
    return (np.flatnonzero(present) + low).astype(dtype)


def encode(values: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Map each label to its position in the sorted ``classes``; unknown labels get -1."""
    if values.dtype.kind in "biu" and classes.dtype.kind in "biu" and classes.size:
        low = int(classes[0])
        high = int(classes[-1])
        in_int64 = high <= _INT64_MAX and (values.dtype != np.uint64 or values.size == 0
                                           or int(values.max()) <= _INT64_MAX)
        if high - low < _MAX_TABLE_RANGE and in_int64:
            if values.dtype == np.int64 and low == 0 and high == classes.size - 1:
                return values  # the labels are already the codes 0 .. K-1
            lookup = np.full(high - low + 1, -1, dtype=np.int64)
            lookup[classes.astype(np.int64) - low] = np.arange(classes.size)
            shifted = values.astype(np.int64) - low
            inside = (shifted >= 0) & (shifted <= high - low)
            if inside.all():
                return lookup[shifted]
            codes = np.full(values.size, -1, dtype=np.int64)
            codes[inside] = lookup[shifted[inside]]
            return codes
    positions = np.searchsorted(classes, values)
    positions = np.minimum(positions, classes.size - 1)
    found = classes[positions] == values
    return np.where(found, positions, -1).astype(np.int64)


def check_same_length(name: str, array: np.ndarray, size: int) -> None:
    if array.shape[0] != size:
        raise ValueError(f"{name}: expected {size} samples to match y_true, got {array.shape[0]}")


def check_sample_weight(sample_weight, size: int) -> np.ndarray | None:
    """Return the weights as contiguous float64 after checking length, finiteness and sign."""
    if sample_weight is None:
        return None
    weight = np.ascontiguousarray(sample_weight, dtype=np.float64)
    if weight.ndim != 1:
        raise ValueError(f"sample_weight: expected a 1-D array, got shape {weight.shape}")
    check_same_length("sample_weight", weight, size)
    valid = np.isfinite(weight) & (weight >= 0)
    if not valid.all():
        index = int(np.argmin(valid))
        raise ValueError(
            f"sample_weight[{index}]: expected a finite value >= 0, got {weight[index].item()!r}"
        )
    return weight


def find_label(classes: np.ndarray, label) -> int:
    """Return the position of ``label`` in ``classes``, or -1."""
    for index, value in enumerate(classes.tolist()):
        if value == label:
            return index
    return -1


def as_scores(name: str, values, size: int) -> np.ndarray:
    """Return scores as contiguous float32 or float64, without a copy when already so."""
    array = np.asarray(values)
    if array.dtype.kind in "biu":
        array = array.astype(np.float64)
    elif array.dtype not in (np.float32, np.float64):
        if array.dtype.kind not in "f":
            raise ValueError(f"{name}: expected real numbers, got dtype {array.dtype}")
        array = array.astype(np.float64)
    if array.ndim == 0 or array.ndim > 2:
        raise ValueError(f"{name}: expected a 1-D or 2-D array, got shape {array.shape}")
    check_same_length(name, array, size)
    return np.ascontiguousarray(array)


def first_non_finite(name: str, array: np.ndarray) -> ValueError:
    """Build the error for the first NaN or infinite entry of ``array``."""
    bad = ~np.isfinite(array)
    position = np.unravel_index(int(np.argmax(bad)), array.shape)
    where = "".join(f"[{int(i)}]" for i in position)
    return ValueError(f"{name}{where}: expected a finite number, got {array[position].item()!r}")
