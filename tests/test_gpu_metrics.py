"""fastopt.metrics on CuPy arrays against the same metrics on NumPy arrays.

Counts without weights are exact on both devices, so those metrics are compared for
equality. Weighted sums and the ranking scans add in another order on the GPU (CuPy's
cumulative sums and float atomics), so they are compared to 1e-12 relative. Without a GPU
the tests check the errors only.
"""

import warnings

import numpy as np
import pytest
from gpu_helpers import FakeDeviceArray, cupy_or_skip, skip_if_device

from fastopt import metrics

# Sizes from one sample to more than a reduction chunk.
SIZES = [1, 2, 17, 2049]


def labels(n, k, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, k, n), rng.integers(0, k, n)


def scores_with_ties(n, seed=0):
    rng = np.random.default_rng(seed)
    return np.round(rng.random(n), 1)  # about ten distinct values, so many ties


# ------------------------------------------------------------------ without a GPU


@pytest.mark.parametrize("metric", [metrics.accuracy_score, metrics.confusion_matrix,
                                    metrics.f1_score, metrics.roc_auc_score,
                                    metrics.average_precision_score, metrics.log_loss])
def test_metric_fake_gpu_without_device(metric):
    skip_if_device()
    with pytest.raises(RuntimeError, match="fastopt cannot run on the GPU"):
        metric(FakeDeviceArray(), FakeDeviceArray())


@pytest.mark.parametrize("metric", [metrics.accuracy_score, metrics.precision_score,
                                    metrics.roc_auc_score, metrics.log_loss])
def test_metric_mixed_devices(metric):
    with pytest.raises(TypeError, match=r"is on the GPU \(device 0\) but y_true is on the CPU"):
        metric(np.array([0, 1, 1]), FakeDeviceArray())


def test_metric_mixed_weights():
    with pytest.raises(TypeError, match=r"sample_weight is on the GPU \(device 0\) but y_true is on the CPU"):
        metrics.accuracy_score([0, 1, 1], [0, 1, 0], sample_weight=FakeDeviceArray())


# ------------------------------------------------------------------ with a GPU


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("k", [2, 3, 7])
def test_classification_metrics_match_cpu(n, k):
    cp = cupy_or_skip()
    true, pred = labels(n, k)
    weight = np.random.default_rng(1).uniform(0.1, 2.0, n)
    for w in (None, weight):
        w_gpu = None if w is None else cp.asarray(w)
        a, b = cp.asarray(true), cp.asarray(pred)
        rel = 0 if w is None else 1e-12
        assert metrics.accuracy_score(a, b, sample_weight=w_gpu) == pytest.approx(
            metrics.accuracy_score(true, pred, sample_weight=w), rel=rel)
        assert metrics.accuracy_score(a, b, normalize=False, sample_weight=w_gpu) == pytest.approx(
            metrics.accuracy_score(true, pred, normalize=False, sample_weight=w), rel=rel)
        matrix_cpu = metrics.confusion_matrix(true, pred, sample_weight=w)
        matrix_gpu = metrics.confusion_matrix(a, b, sample_weight=w_gpu)
        assert matrix_gpu.dtype == matrix_cpu.dtype
        np.testing.assert_allclose(matrix_gpu, matrix_cpu, rtol=rel)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zero-division warnings are the CPU's too
            for average in ("micro", "macro", "weighted", None):
                for metric in (metrics.precision_score, metrics.recall_score, metrics.f1_score):
                    expected = metric(true, pred, average=average, sample_weight=w)
                    got = metric(a, b, average=average, sample_weight=w_gpu)
                    np.testing.assert_allclose(got, expected, rtol=rel + 1e-15)


def test_confusion_matrix_labels_and_normalize():
    cp = cupy_or_skip()
    true, pred = labels(100, 4, seed=5)
    for kwargs in ({"labels": [3, 1, 9]}, {"normalize": "true"}, {"normalize": "all"}):
        np.testing.assert_allclose(
            metrics.confusion_matrix(cp.asarray(true), cp.asarray(pred), **kwargs),
            metrics.confusion_matrix(true, pred, **kwargs), rtol=1e-15)


def test_binary_f1_float_labels():
    cp = cupy_or_skip()
    true = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    pred = np.array([0.0, 1.0, 0.0, 0.0, 1.0])
    assert metrics.f1_score(cp.asarray(true), cp.asarray(pred)) == metrics.f1_score(true, pred)


@pytest.mark.parametrize("n", [2, 17, 2049, 10000])
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_ranking_metrics_match_cpu(n, ties, weighted):
    cp = cupy_or_skip()
    rng = np.random.default_rng(n)
    true = rng.integers(0, 2, n)
    true[:2] = [0, 1]  # both classes present
    score = scores_with_ties(n) if ties else rng.standard_normal(n)
    w = rng.uniform(0.0, 2.0, n) if weighted else None
    w_gpu = None if w is None else cp.asarray(w)
    for metric in (metrics.roc_auc_score, metrics.average_precision_score):
        expected = metric(true, score, sample_weight=w)
        got = metric(cp.asarray(true), cp.asarray(score), sample_weight=w_gpu)
        assert got == pytest.approx(expected, rel=1e-12)


def test_ranking_float32_scores():
    cp = cupy_or_skip()
    rng = np.random.default_rng(3)
    true = rng.integers(0, 2, 500)
    score = rng.standard_normal(500).astype(np.float32)
    assert metrics.roc_auc_score(cp.asarray(true), cp.asarray(score)) == pytest.approx(
        metrics.roc_auc_score(true, score), rel=1e-12)


def test_ranking_one_class_warns_like_cpu():
    cp = cupy_or_skip()
    true = np.zeros(5, dtype=np.int64)
    score = np.arange(5.0)
    with pytest.warns(Warning) as cpu_warnings:
        expected = metrics.average_precision_score(true, score)
    with pytest.warns(Warning) as gpu_warnings:
        got = metrics.average_precision_score(cp.asarray(true), cp.asarray(score))
    assert got == expected
    assert str(gpu_warnings[0].message) == str(cpu_warnings[0].message)
    with pytest.warns(Warning):
        assert np.isnan(metrics.roc_auc_score(cp.asarray(true), cp.asarray(score)))


def test_ranking_nonfinite_score():
    cp = cupy_or_skip()
    with pytest.raises(ValueError, match=r"y_score\[2\]: expected a finite number, got nan"):
        metrics.roc_auc_score(cp.asarray([0, 1, 1]), cp.asarray([0.1, 0.2, np.nan]))


def test_roc_auc_multiclass_on_gpu_not_implemented():
    cp = cupy_or_skip()
    with pytest.raises(NotImplementedError, match="multiclass y_true on the GPU"):
        metrics.roc_auc_score(cp.asarray([0, 1, 2]), cp.ones((3, 3)) / 3, multi_class="ovr")


@pytest.mark.parametrize("n", SIZES)
def test_log_loss_matches_cpu(n):
    cp = cupy_or_skip()
    rng = np.random.default_rng(n)
    true = rng.integers(0, 3, n)
    proba = rng.dirichlet(np.ones(3), n)
    proba[0] = [1.0, 0.0, 0.0]  # a certain prediction, clipped
    w = rng.uniform(0.1, 2.0, n)
    for kwargs in ({}, {"sample_weight": w}, {"normalize": False}):
        gpu_kwargs = {k: cp.asarray(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
        expected = metrics.log_loss(true, proba, labels=[0, 1, 2], **kwargs)
        got = metrics.log_loss(cp.asarray(true), cp.asarray(proba), labels=[0, 1, 2], **gpu_kwargs)
        assert got == pytest.approx(expected, rel=1e-12)


def test_log_loss_binary_probabilities():
    cp = cupy_or_skip()
    true = np.array([0, 1, 1, 0])
    proba = np.array([0.1, 0.9, 0.6, 0.4])
    assert metrics.log_loss(cp.asarray(true), cp.asarray(proba)) == pytest.approx(
        metrics.log_loss(true, proba), rel=1e-14)


def test_log_loss_invalid_probability():
    cp = cupy_or_skip()
    with pytest.raises(ValueError, match=r"y_proba\[1, 0\]: expected a probability in \[0, 1\], got 1.5"):
        metrics.log_loss(cp.asarray([0, 1]), cp.asarray([[0.5, 0.5], [1.5, -0.5]]))


def test_empty_input_raises_like_cpu():
    cp = cupy_or_skip()
    with pytest.raises(ValueError, match="y_true: expected at least one sample"):
        metrics.accuracy_score(cp.zeros(0), cp.zeros(0))
    with pytest.raises(ValueError, match="y_true: expected at least one sample"):
        metrics.roc_auc_score(cp.zeros(0), cp.zeros(0))
