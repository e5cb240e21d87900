"""Parameter descriptions that the fit, predict and score docstrings of the estimators share.

A method's docstring names a block by a line that contains only ``{name}``, and the
``fill_doc`` of this module replaces that line by the block (see
:func:`fastopt.optim._docstrings.fill_doc`).
"""

from __future__ import annotations

import functools

from fastopt.optim._docstrings import fill_doc as _fill_doc

_BLOCKS = {
    "fit_X": """\
X : array_like or scipy.sparse matrix of shape (n_samples, n_features)
    Training data. Dense float32/float64 arrays and CSR/CSC matrices are used without a
    copy.""",
    "fit_sample_weight": """\
sample_weight : array_like of shape (n_samples,), optional
    Non-negative weights, rescaled to sum to ``n_samples``. All ones by default.""",
    "fit_returns": """\
self
    The fitted estimator.""",
    "predict_X": """\
X : array_like or scipy.sparse matrix of shape (n_samples, n_features)
    Samples, with the features of the training data.""",
}

fill_doc = functools.partial(_fill_doc, blocks=_BLOCKS)
