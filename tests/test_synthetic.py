"""The generated click-through-rate-like classification problem."""

import numpy as np
import pytest
from scipy.special import expit

from fastopt.datasets import make_sparse_classification


def test_shape_and_structure():
    X, y, coef, intercept = make_sparse_classification(5000, 1000, n_fields=10, return_coef=True)
    assert X.shape == (5000, 1000)
    assert X.format == "csr"
    assert X.indices.dtype == np.int32
    assert X.has_sorted_indices
    np.testing.assert_array_equal(np.diff(X.indptr), 10)
    np.testing.assert_array_equal(X.data, 1.0)
    # One value per field: column k of a row lies in the k-th block of 100 columns.
    fields = X.indices.reshape(5000, 10) // 100
    np.testing.assert_array_equal(fields, np.broadcast_to(np.arange(10), (5000, 10)))
    assert set(np.unique(y)) == {0, 1}
    assert coef.shape == (1000,)
    assert np.isfinite(intercept)


def test_labels_follow_the_model():
    X, y, coef, intercept = make_sparse_classification(200_000, 2000, positive_rate=0.3,
                                                       random_state=3, return_coef=True)
    probability = expit(X @ coef + intercept)
    # The intercept is set so the mean probability is the rate; labels are draws from it.
    assert probability.mean() == pytest.approx(0.3, abs=1e-9)
    assert y.mean() == pytest.approx(0.3, abs=4 * np.sqrt(0.3 * 0.7 / 200_000))
    # Calibration: within probability bins the frequency of 1 matches the probability.
    bins = np.digitize(probability, [0.1, 0.3, 0.5, 0.7])
    for b in np.unique(bins):
        members = bins == b
        if members.sum() > 2000:
            assert y[members].mean() == pytest.approx(probability[members].mean(), abs=0.02)


def test_skew_makes_some_values_frequent():
    X, _ = make_sparse_classification(20_000, 1000, n_fields=1, skew=3.0)
    counts = np.bincount(X.indices, minlength=1000)
    assert counts[:100].sum() > 0.4 * counts.sum()
    X, _ = make_sparse_classification(20_000, 1000, n_fields=1, skew=1.0)
    counts = np.bincount(X.indices, minlength=1000)
    assert counts[:100].sum() == pytest.approx(0.1 * counts.sum(), rel=0.1)


def test_deterministic_and_seeded():
    a = make_sparse_classification(1000, 500, random_state=7)
    b = make_sparse_classification(1000, 500, random_state=7)
    c = make_sparse_classification(1000, 500, random_state=8)
    assert (a[0] != b[0]).nnz == 0
    assert np.array_equal(a[1], b[1])
    assert (a[0] != c[0]).nnz > 0
    X32, _ = make_sparse_classification(100, 50, n_fields=5, dtype=np.float32)
    assert X32.dtype == np.float32


@pytest.mark.parametrize("kwargs, fragment", [
    ({"n_samples": 0}, "n_samples: expected an integer >= 1, got 0"),
    ({"n_features": 5, "n_fields": 6}, "n_features: expected an integer >= 6, got 5"),
    ({"positive_rate": 1.0}, "positive_rate: expected a number in (0, 1), got 1.0"),
    ({"informative_fraction": 0}, "informative_fraction"),
    ({"signal": float("inf")}, "signal"),
    ({"skew": 0.5}, "skew: expected a finite number >= 1, got 0.5"),
    ({"dtype": np.int32}, "dtype: expected float32 or float64, got int32"),
    ({"random_state": None}, "random_state: expected an int, got None"),
])
def test_bad_arguments(kwargs, fragment):
    with pytest.raises(ValueError) as info:
        make_sparse_classification(**{"n_samples": 10, "n_features": 20, **kwargs})
    assert fragment in str(info.value)
