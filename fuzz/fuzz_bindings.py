"""Fuzz target: the argument checks of the compiled kernels.

Calls the functional optimizer steps, the proximal operators and ROC-AUC with
arrays of fuzzed dtypes, shapes, strides, writeability and aliasing, and with
fuzzed hyperparameters. Each call either succeeds or raises ValueError or
TypeError. The checks run before any kernel writes, so a call that raises has
changed none of the arrays the caller passed.
"""

import inspect
import math

import atheris

with atheris.instrument_imports(include=["fastopt"]):
    import numpy as np

    import fastopt.metrics
    import fastopt.optim.functional as F
    import fastopt.prox

from common import run

DTYPES = (np.float64, np.float32, np.float64, np.float32, np.float16, np.int64, np.complex128)
FLOATS = (0.0, -0.0, 1e-3, 0.5, 0.9, 0.999, 1.0, 2.0, -1.0, 1e300, math.inf, -math.inf, math.nan)

RULES = F.__all__
HYPERPARAMETERS = ("lr", "weight_decay", "eps", "momentum")


def make_array(fdp, shape, dtype):
    """Return an array of ``shape`` that may be strided, read-only or of another dtype."""
    layout = fdp.ConsumeIntInRange(0, 7)
    if layout == 0:
        dtype = DTYPES[fdp.ConsumeIntInRange(0, len(DTYPES) - 1)]
    base = np.arange(2 * max(1, math.prod(shape)), dtype=np.float64) / 7.0
    if layout == 1 and shape:
        a = base.astype(dtype)[::2][: math.prod(shape)].reshape(shape) if len(shape) == 1 else \
            np.asfortranarray(base[: math.prod(shape)].astype(dtype).reshape(shape))
    else:
        a = base[: math.prod(shape)].astype(dtype).reshape(shape)
    if layout == 2:
        a.flags.writeable = False
    if layout == 3:
        a = a.tolist()
    return a


def make_shape(fdp):
    return tuple(fdp.ConsumeIntInRange(0, 9) for _ in range(fdp.ConsumeIntInRange(0, 3)))


def snapshot(values):
    return [np.array(v, copy=True) if isinstance(v, np.ndarray) else None for v in values]


def unchanged(before, values):
    for old, new in zip(before, values):
        if old is not None and not np.array_equal(old, new, equal_nan=old.dtype.kind in "fc"):
            return False
    return True


def fuzz_optimizer(fdp):
    rule = RULES[fdp.ConsumeIntInRange(0, len(RULES) - 1)]
    count = fdp.ConsumeIntInRange(0, 3)
    dtype = np.float32 if fdp.ConsumeBool() else np.float64
    shapes = [make_shape(fdp) for _ in range(count)]
    lists = []
    for _ in range(2 + 3):  # params, grads and up to three state lists
        arrays = []
        for shape in shapes:
            if fdp.ConsumeIntInRange(0, 15) == 0:
                shape = make_shape(fdp)  # a mismatched shape
            arrays.append(make_array(fdp, shape, dtype))
        lists.append(arrays)

    if count and fdp.ConsumeIntInRange(0, 7) == 0:
        # The parameter passed again as the gradient or as a state array.
        lists[fdp.ConsumeIntInRange(1, 4)][0] = lists[0][0]

    function = getattr(F, rule)
    accepted = inspect.signature(function).parameters
    positional = inspect.Parameter.POSITIONAL_OR_KEYWORD
    state_names = [name for name in list(accepted)[2:] if accepted[name].kind is positional]
    for k, name in enumerate(state_names):
        # Optional state lists (momentum buffers, AMSGrad maxima) may be left out.
        if accepted[name].default is None and fdp.ConsumeBool():
            lists[2 + k] = None

    options = {}
    for name in HYPERPARAMETERS:
        if name in accepted and fdp.ConsumeBool():
            options[name] = FLOATS[fdp.ConsumeIntInRange(0, len(FLOATS) - 1)]
    if "step" in accepted:
        options["step"] = (1, 2, 0, -1, 10**6, 2**63, 1.5)[fdp.ConsumeIntInRange(0, 6)]

    flat = [a for arrays in lists if arrays is not None for a in arrays]
    before = snapshot(flat)
    try:
        function(*lists[: 2 + len(state_names)], **options)
    except (ValueError, TypeError):
        assert unchanged(before, flat), f"{rule} raised after writing to its arguments"


def fuzz_prox(fdp):
    shape = make_shape(fdp)
    x = make_array(fdp, shape, np.float64)
    out = None
    if fdp.ConsumeBool():
        out = x if fdp.ConsumeBool() else make_array(fdp, make_shape(fdp) if fdp.ConsumeBool() else shape,
                                                   np.float64)
    value = FLOATS[fdp.ConsumeIntInRange(0, len(FLOATS) - 1)]
    if fdp.ConsumeBool():
        value = make_array(fdp, shape if fdp.ConsumeBool() else make_shape(fdp), np.float64)
    which = fdp.ConsumeIntInRange(0, 4)
    before = snapshot([x, out])
    try:
        if which == 0:
            fastopt.prox.soft_threshold(x, value, out=out)
        elif which == 1:
            fastopt.prox.elastic_net(x, value, 0.5, out=out)
        elif which == 2:
            fastopt.prox.l2_shrink(x, value, out=out)
        elif which == 3:
            fastopt.prox.project_box(x, -abs(np.asarray(value, dtype=float)), value, out=out)
        else:
            fastopt.prox.project_nonneg(x, out=out)
    except (ValueError, TypeError):
        assert unchanged(before, [x, out]), "prox raised after writing to its arguments"


def fuzz_auc(fdp):
    n = fdp.ConsumeIntInRange(0, 12)
    y = make_array(fdp, (n,) if fdp.ConsumeIntInRange(0, 7) else make_shape(fdp), np.float64)
    if isinstance(y, np.ndarray) and y.dtype.kind == "f":
        y = (y * 7 % 2 > 1).astype(y.dtype)
    scores = make_array(fdp, (n,) if fdp.ConsumeIntInRange(0, 7) else make_shape(fdp), np.float64)
    weight = None
    if fdp.ConsumeBool():
        weight = make_array(fdp, (n,), np.float64)
    try:
        auc = fastopt.metrics.roc_auc_score(y, scores, sample_weight=weight)
    except (ValueError, TypeError):
        return
    assert 0.0 <= auc <= 1.0 or math.isnan(auc), auc


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    which = fdp.ConsumeIntInRange(0, 2)
    if which == 0:
        fuzz_optimizer(fdp)
    elif which == 1:
        fuzz_prox(fdp)
    else:
        fuzz_auc(fdp)


if __name__ == "__main__":
    run(test_one_input)
