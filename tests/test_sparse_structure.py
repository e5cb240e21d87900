"""Corrupted scipy.sparse arrays: every estimator raises a ValueError naming the array.

scipy trusts a matrix's offsets and indices, so a product or conversion of a corrupted matrix
reads out of bounds, crashing the process or returning garbage. These tests fit and predict
with matrices whose arrays were edited after construction.
"""

import numpy as np
import pytest
import scipy.sparse as sp

from fastopt._sparse_checks import check_sparse_structure
from fastopt.linear_model import LogisticRegression, Ridge
from fastopt.linear_model._objective import GLMObjective
from fastopt.online import FTRLClassifier, SGDClassifier, SGDRegressor


def _data(n=60, d=8, seed=0):
    rng = np.random.default_rng(seed)
    dense = rng.normal(size=(n, d)) * (rng.random((n, d)) < 0.5)
    dense[:, 0] += 1.0  # no empty rows, so every row has a first entry to corrupt
    y = (dense @ rng.normal(size=d) > 0).astype(int)
    return dense, y


ESTIMATORS = [SGDClassifier, FTRLClassifier, SGDRegressor, LogisticRegression, Ridge]


def _bad_column(value):
    def corrupt(X):
        X.indices[3] = value
        return X, r"indices\[3\]"
    return corrupt


def _decreasing_offsets(X):
    X.indptr[2] = X.indptr[1] - 1
    return X, r"indptr\[2\]"


@pytest.mark.parametrize("make", ESTIMATORS)
@pytest.mark.parametrize("corrupt", [_bad_column(8), _bad_column(-1), _bad_column(2**31 - 1),
                                     _decreasing_offsets],
                         ids=["one-past", "negative", "huge", "decreasing-indptr"])
def test_predict_rejects_corrupt_csr(make, corrupt):
    dense, y = _data()
    model = make().fit(sp.csr_matrix(dense), y)
    X, name = corrupt(sp.csr_matrix(dense))
    with pytest.raises(ValueError, match=name):
        model.predict(X)


@pytest.mark.parametrize("make", ESTIMATORS)
@pytest.mark.parametrize("fmt", ["coo", "bsr"])
def test_fit_rejects_corrupt_coo_and_bsr(make, fmt):
    dense, y = _data()
    if fmt == "coo":
        X = sp.coo_matrix(dense)
        X.row[2] = 10**6
        name = r"row\[2\]"
    else:
        X = sp.bsr_matrix(dense, blocksize=(2, 2))
        X.indptr[-1] = 10**6
        name = r"indptr\[30\]"
    with pytest.raises(ValueError, match=name):
        make().fit(X, y)


def test_glm_objective_rejects_corrupt_coo():
    dense, y = _data()
    X = sp.coo_matrix(dense)
    X.col[0] = -5
    with pytest.raises(ValueError, match=r"col\[0\]"):
        GLMObjective(X, 2.0 * y - 1.0, loss="logistic")


def test_error_names_callers_position_when_unsorted():
    dense, y = _data()
    X = sp.csr_matrix(dense)
    X.indices[:2] = X.indices[1::-1]  # unsorted, so the model works on a sorted copy
    X.has_sorted_indices = False
    X.indices[0] = 99
    with pytest.raises(ValueError, match=r"indices\[0\]: expected an index in \[0, 8\), got 99"):
        SGDClassifier().fit(X, y)


def test_values_past_the_last_offset_are_ignored():
    dense, y = _data()
    X = sp.csr_matrix(dense)
    X.data = np.append(X.data, np.nan)
    X.indices = np.append(X.indices, 0).astype(X.indptr.dtype)
    reference = LogisticRegression().fit(sp.csr_matrix(dense), y)
    model = LogisticRegression().fit(X, y)
    np.testing.assert_array_equal(model.coef_, reference.coef_)


@pytest.mark.parametrize("fmt", ["csr", "csc", "bsr"])
def test_mismatched_data_and_indices_raise(fmt):
    dense, _ = _data()
    X = sp.csr_matrix(dense).asformat(fmt)
    X.data = X.data[:-1]
    with pytest.raises(ValueError, match="as many stored values as indices"):
        check_sparse_structure(X)


def test_valid_formats_pass():
    dense, _ = _data()
    for fmt in ("csr", "csc", "coo", "bsr", "lil", "dok", "dia"):
        check_sparse_structure(sp.csr_matrix(dense).asformat(fmt))


def test_lil_with_bad_row_index_raises_in_predict():
    dense, y = _data()
    model = LogisticRegression().fit(dense, y)
    X = sp.lil_matrix((3, 8))
    X.rows[1] = [10**8]
    X.data[1] = [1.0]
    with pytest.raises(ValueError, match=r"indices\[0\]: expected an index in \[0, 8\)"):
        model.decision_function(X)


@pytest.mark.parametrize("make", ESTIMATORS)
def test_spare_capacity_past_last_row_is_ignored(make):
    dense, y = _data()
    X = sp.csr_matrix(dense)
    X.indices = np.append(X.indices, np.int32(99))
    X.data = np.append(X.data, np.nan)
    # A seed, so that the online models shuffle alike in both fits.
    params = {"random_state": 0} if "random_state" in make().get_params() else {}
    reference = make(**params).fit(sp.csr_matrix(dense), y)
    model = make(**params).fit(X, y)
    np.testing.assert_array_equal(model.coef_, reference.coef_)
    np.testing.assert_array_equal(model.predict(X), reference.predict(sp.csr_matrix(dense)))


@pytest.mark.parametrize("make", ESTIMATORS)
def test_one_dimensional_sparse_raises(make):
    _, y = _data(n=3)
    with pytest.raises(ValueError, match=r"X: expected a 2-D sparse matrix, got shape \(3,\)"):
        make().fit(sp.coo_array(np.array([1.0, 0.0, 2.0])), y)
