"""Parameter descriptions that the docstrings of every optimizer share.

A docstring names a shared block by a line that contains only ``{name}``, and
:func:`fill_doc` replaces that line by the block, indented as the line is. numpydoc
and Sphinx read the filled ``__doc__``, so the API reference shows each parameter in
full while its text is written once.
"""

from __future__ import annotations

import re

_BLOCKS = {
    "params": """\
params : array, list of arrays, or list of dicts (parameter groups)
    Arrays to update in place (float32 or float64, C-contiguous, or CuPy arrays), or
    parameter groups: dicts with a ``"params"`` entry and their own hyperparameters.""",
    "torch_params": """\
params : iterable of tensors or of dicts (parameter groups)
    Tensors to update in place, or parameter groups as ``torch.optim`` takes them.""",
    "master_weights": """\
master_weights : bool, default False
    Keep a float32 copy of each float16/bfloat16 parameter in the state
    (``master_param``), step it, and round it into the parameter. Without it such a
    parameter is stepped on a float32 copy made for the step.""",
    "betas": """\
betas : (float, float), default (0.9, 0.999)
    Decay rates of the running averages of the gradient and of its square. Each
    must be in [0, 1).""",
    "maximize": """\
maximize : bool, default False
    Maximize the objective: step along the gradient instead of against it.""",
    "callbacks": """\
callbacks : list of fastopt.callbacks.Callback, optional
    Callbacks, such as :class:`fastopt.callbacks.EarlyStopping`, that
    :meth:`~fastopt.optim.Optimizer.end_epoch` runs at the end of each epoch.""",
    "step_options": """\
grad_scale : float, optional
    Loss scale of mixed-precision training: the gradients are divided by it inside the
    update. Turns on ``check_finite`` when given.
check_finite : bool, optional
    Skip the whole step, changing nothing, when a gradient contains inf or NaN. The
    default is True exactly when ``grad_scale`` is given.
max_grad_norm : float, optional
    Clip the global L2 norm of the unscaled gradients to this value, as
    ``torch.nn.utils.clip_grad_norm_`` does, without writing the gradients.""",
    "step_result": """\
StepResult
    Whether the step was skipped for a non-finite gradient (``found_inf``), and the
    global gradient norm when clipping or the finiteness check computed it.""",
    # Blocks of the fastopt.online estimators' methods.
    "samples": """\
X : array_like or scipy.sparse matrix of shape (n_samples, n_features)
    Samples, with the features of the training data.""",
    "training_rows": """\
X : array_like or scipy.sparse matrix of shape (n_samples, n_features)
    Training rows; CSR with float32/float64 data is used without a copy.
y : array_like of shape (n_samples,)
    Real targets.
sample_weight : array_like of shape (n_samples,), optional
    Non-negative weights of the rows' losses; ones by default.""",
    "returns_self": """\
self
    The trained estimator.""",
    "probabilities": """\
ndarray of shape (n_samples, n_classes)
    Probabilities, with the columns ordered as ``classes_``.""",
    "log_probabilities": """\
ndarray of shape (n_samples, n_classes)
    Log-probabilities, -inf where a probability is 0, with the columns ordered as
    ``classes_``.""",
}

_PLACEHOLDER = re.compile(r"^( *)\{(\w+)\}$", flags=re.MULTILINE)


def fill_doc(obj, blocks=None):
    """Replace the ``{name}`` lines of ``obj.__doc__`` by the shared blocks; return ``obj``.

    ``blocks`` maps names to text in place of the optimizer blocks, so another package can
    share its own parameter text through ``functools.partial(fill_doc, blocks=...)``.
    """
    if obj.__doc__ is None:  # docstrings stripped by python -OO
        return obj
    table = _BLOCKS if blocks is None else blocks

    def block(match: re.Match) -> str:
        indent, name = match.group(1), match.group(2)
        return "\n".join(indent + line if line else line for line in table[name].splitlines())

    obj.__doc__ = _PLACEHOLDER.sub(block, obj.__doc__)
    return obj
