import math

import numpy as np
import pytest

from fastopt import metrics

skm = pytest.importorskip("sklearn.metrics")


def random_case(rng, n, ties):
    y = rng.integers(0, 2, n)
    scores = rng.normal(size=n)
    if ties:
        scores = np.round(scores, 1)  # many tied scores across both classes
    return y, scores


@pytest.mark.parametrize("n", [2, 7, 100, 5000])
@pytest.mark.parametrize("ties", [False, True])
def test_metrics_match_sklearn(n, ties):
    rng = np.random.default_rng(n + ties)
    for _ in range(10):
        y, scores = random_case(rng, n, ties)
        prob = 1.0 / (1.0 + np.exp(-3 * scores))
        pred = (scores > 0).astype(int)
        assert metrics.accuracy(y, pred) == skm.accuracy_score(y, pred)
        assert metrics.precision(y, pred) == pytest.approx(skm.precision_score(y, pred, zero_division=0.0), abs=1e-15)
        assert metrics.recall(y, pred) == pytest.approx(skm.recall_score(y, pred, zero_division=0.0), abs=1e-15)
        assert metrics.f1(y, pred) == pytest.approx(skm.f1_score(y, pred, zero_division=0.0), abs=1e-15)
        if len(set(y)) == 2:
            assert metrics.roc_auc(y, scores) == pytest.approx(skm.roc_auc_score(y, scores), abs=1e-12)
            assert metrics.log_loss(y, prob) == pytest.approx(skm.log_loss(y, prob), rel=1e-12)


def test_log_loss_clips_certain_mistakes():
    y = np.array([1, 0, 1, 0])
    for dtype in (np.float64, np.float32):
        prob = np.array([0.0, 1.0, 1.0, 0.0], dtype=dtype)
        expected = skm.log_loss(y, prob)
        assert math.isfinite(expected)
        assert metrics.log_loss(y, prob) == pytest.approx(expected, rel=1e-6)


def test_roc_auc_all_tied_is_half():
    assert metrics.roc_auc([0, 1, 0, 1], [0.3, 0.3, 0.3, 0.3]) == 0.5


def test_roc_auc_one_class_is_nan():
    assert math.isnan(metrics.roc_auc([1, 1, 1], [0.1, 0.2, 0.3]))


def test_zero_division_conventions():
    y = np.array([0, 0, 0])
    pred = np.array([0, 0, 0])
    # No positive predictions and no positive samples: every ratio is 0/0.
    assert metrics.precision(y, pred) == 0.0
    assert metrics.recall(y, pred) == 0.0
    assert metrics.f1(y, pred) == 0.0
    assert metrics.precision(y, pred, zero_division=1.0) == 1.0
    assert metrics.f1(y, pred, zero_division=1.0) == skm.f1_score(y, pred, zero_division=1.0)


def test_boolean_labels_accepted():
    y = np.array([True, False, True])
    pred = np.array([True, True, False])
    assert metrics.accuracy(y, pred) == pytest.approx(1 / 3)
    assert metrics.confusion_counts(y, pred) == (1, 1, 1, 0)


@pytest.mark.parametrize(
    "call,error,fragment",
    [
        (lambda: metrics.accuracy([0, 2], [0, 1]), ValueError, "y_true[1]: expected a label 0 or 1, got 2"),
        (lambda: metrics.accuracy([0, 1], [0, 1, 1]), ValueError, "y_pred: expected 2 labels to match y_true, got 3"),
        (lambda: metrics.accuracy([], []), ValueError, "y_true: expected at least one sample"),
        (lambda: metrics.accuracy([[0, 1]], [[0, 1]]), ValueError, "y_true: expected a 1-D array"),
        (lambda: metrics.accuracy(["a"], ["b"]), TypeError, "y_true: expected numeric labels"),
        (lambda: metrics.log_loss([0, 1], [0.5, 1.5]), ValueError, "y_prob[1]: expected a probability in [0, 1]"),
        (lambda: metrics.log_loss([0, 1], [0.5, np.nan]), ValueError, "y_prob[1]: expected a finite number"),
        (lambda: metrics.roc_auc([0, 1], [0.5]), ValueError, "y_score: expected shape (2,)"),
    ],
)
def test_invalid_input(call, error, fragment):
    with pytest.raises(error) as info:
        call()
    assert fragment in str(info.value)
