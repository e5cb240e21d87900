"""Regression tests for the faults the fuzz targets in fuzz/ found, each with the
smallest input that showed it (docs/reliability.md lists them)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fastopt.linear_model import LogisticRegression
from fastopt.metrics import roc_auc_score
from fastopt.model_file import load_model, save_model


def _rewrite(path, **members):
    """Replace members of the model file at ``path``."""
    with np.load(path, allow_pickle=False) as archive:
        content = {key: archive[key] for key in archive.files}
    content.update(members)
    with open(path, "wb") as f:
        np.savez(f, **content)


def _array_member(path, attribute):
    """Return the name of the archive member that stores the fitted attribute ``attribute``."""
    with np.load(path, allow_pickle=False) as archive:
        state = json.loads(str(archive["__state__"]))
    return state[attribute]["__array__"]


def test_model_file_classifier_1d_coef(tmp_path):
    # A classifier's coef_ replaced by a 1-D array of the right width loaded, and
    # predict then failed with IndexError instead of load_model raising ValueError.
    path = tmp_path / "model.npz"
    X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    save_model(LogisticRegression().fit(X, [0, 1, 1, 0]), path)
    _rewrite(path, **{_array_member(path, "coef_"): np.ones(2)})
    with pytest.raises(ValueError, match=r"damaged model file, coef_ has shape \(2,\); a classifier"):
        load_model(path)


def test_roc_auc_weighted_not_above_one():
    # A perfect ranking with these weights summed to an area of 1.0000000000000002.
    y = np.array([0, 0, 0, 0, 0, 0, 0, 1, 1, 1])
    scores = np.arange(10) / 7
    auc = roc_auc_score(y, scores, sample_weight=scores)
    assert auc == 1.0
    assert roc_auc_score(y, -scores, sample_weight=scores) == 0.0


def test_roc_auc_two_weighted_samples():
    # The smallest case: one negative and one positive, ranked right. The area
    # w0 * w1 divided by w1 and then by w0 rounds to 1.0000000000000002.
    assert (0.94 * 0.16 / 0.16) / 0.94 > 1.0  # the rounding the kernel must absorb
    assert roc_auc_score([0, 1], [0.0, 1.0], sample_weight=[0.94, 0.16]) == 1.0
    assert roc_auc_score([0, 1], [1.0, 0.0], sample_weight=[0.94, 0.16]) == 0.0
