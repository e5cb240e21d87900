"""fastopt.metrics against scikit-learn and against NumPy implementations of the formulas."""

import math
import warnings

import numpy as np
import pytest

import fastopt
from fastopt import metrics
from fastopt.exceptions import UndefinedMetricWarning

skm = pytest.importorskip("sklearn.metrics")
sk_exceptions = pytest.importorskip("sklearn.exceptions")

RTOL = 1e-12


def assert_close(actual, expected, rtol=RTOL):
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=1e-15)


def quiet(function, *args, **kwargs):
    """Call a function with scikit-learn's and fastopt's metric warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


# ----- independent references written from the published formulas


def midranks(values):
    """1-based ranks, each tie group taking the mean of its ranks."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], values.size]
    ranks = np.empty(values.size)
    ranks[order] = np.repeat((starts + 1 + ends) / 2.0, ends - starts)
    return ranks


def mann_whitney_auc(positive, scores, weight=None):
    """AUC as the Mann-Whitney statistic: P(positive scores above negative), ties 1/2."""
    positive = positive.astype(bool)
    if weight is None:
        n_pos = positive.sum()
        n_neg = positive.size - n_pos
        rank_sum = midranks(scores.astype(np.float64))[positive].sum()
        return (rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)
    # Weighted pairs: sum of w_i w_j ([s_i > s_j] + [s_i == s_j] / 2) over positive i, negative j.
    s_pos, w_pos = scores[positive], weight[positive]
    s_neg, w_neg = scores[~positive], weight[~positive]
    wins = (s_pos[:, None] > s_neg[None, :]) + 0.5 * (s_pos[:, None] == s_neg[None, :])
    return (w_pos @ wins @ w_neg) / (w_pos.sum() * w_neg.sum())


def stepwise_average_precision(positive, scores, weight=None):
    """Sum over distinct thresholds t (decreasing) of (R(t) - R(t_prev)) * P(t)."""
    weight = np.ones(scores.size) if weight is None else weight
    positive = positive.astype(bool)
    total_positive = weight[positive].sum()
    result = 0.0
    previous_recall = 0.0
    for t in np.unique(scores)[::-1]:
        selected = scores >= t
        tp = weight[selected & positive].sum()
        fp = weight[selected & ~positive].sum()
        if tp + fp == 0:
            continue
        recall = tp / total_positive
        result += (recall - previous_recall) * tp / (tp + fp)
        previous_recall = recall
    return result


# ----- random cases


def score_cases():
    """(name, scores function) pairs, from continuous to heavily tied."""
    return [
        ("continuous", lambda rng, n: rng.normal(size=n)),
        ("one_decimal", lambda rng, n: np.round(rng.random(n), 1)),
        ("two_decimals", lambda rng, n: np.round(rng.random(n), 2)),
        ("integers", lambda rng, n: rng.integers(-3, 4, n).astype(np.float64)),
        ("all_tied", lambda rng, n: np.full(n, 0.25)),
    ]


@pytest.mark.parametrize("case", score_cases(), ids=lambda c: c[0])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_ranking_binary_matches_sklearn(case, weighted, dtype):
    rng = np.random.default_rng(hash((case[0], weighted)) % 2**32)
    for n in (3, 50, 1000):
        y = rng.integers(0, 2, n)
        y[:2] = [0, 1]
        scores = case[1](rng, n).astype(dtype)
        weight = rng.random(n) * 3 if weighted else None
        assert_close(metrics.roc_auc_score(y, scores, sample_weight=weight),
                     skm.roc_auc_score(y, scores, sample_weight=weight))
        assert_close(metrics.average_precision_score(y, scores, sample_weight=weight),
                     skm.average_precision_score(y, scores, sample_weight=weight))
        if n <= 1000:
            assert_close(metrics.roc_auc_score(y, scores, sample_weight=weight),
                         mann_whitney_auc(y, scores.astype(np.float64), weight))
            assert_close(metrics.average_precision_score(y, scores, sample_weight=weight),
                         stepwise_average_precision(y, scores.astype(np.float64), weight))


@pytest.mark.parametrize("weighted", [False, True])
def test_ranking_curves_match_sklearn(weighted):
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 400)
    scores = np.round(rng.random(400), 2)
    weight = rng.random(400) if weighted else None
    if weighted:
        weight[:40] = 0.0  # zero-weight samples create no threshold
    for drop in (True, False):
        ours = metrics.roc_curve(y, scores, sample_weight=weight, drop_intermediate=drop)
        theirs = skm.roc_curve(y, scores, sample_weight=weight, drop_intermediate=drop)
        for a, b in zip(ours, theirs):
            assert a.shape == b.shape
            assert_close(a, b)
        ours = metrics.precision_recall_curve(y, scores, sample_weight=weight,
                                              drop_intermediate=drop)
        theirs = skm.precision_recall_curve(y, scores, sample_weight=weight,
                                            drop_intermediate=drop)
        for a, b in zip(ours, theirs):
            assert a.shape == b.shape
            assert_close(a, b)


def test_ranking_string_labels_and_pos_label():
    rng = np.random.default_rng(2)
    y = np.where(rng.random(300) < 0.4, "spam", "ham")
    scores = rng.random(300)
    assert_close(metrics.roc_auc_score(y, scores), skm.roc_auc_score(y, scores))
    assert_close(metrics.average_precision_score(y, scores, pos_label="ham"),
                 skm.average_precision_score(y, scores, pos_label="ham"))
    with pytest.raises(ValueError, match=r"pos_label: 1 is not one of the labels \['ham', 'spam'\]"):
        metrics.average_precision_score(y, scores)


@pytest.mark.parametrize("average", ["macro", "weighted", "micro", None])
@pytest.mark.parametrize("weighted", [False, True])
def test_roc_auc_multiclass_ovr_matches_sklearn(average, weighted):
    rng = np.random.default_rng(11)
    n, k = 600, 4
    y = rng.integers(0, k, n)
    proba = np.round(rng.random((n, k)), 1) + 0.01
    proba /= proba.sum(axis=1, keepdims=True)
    weight = rng.random(n) if weighted else None
    ours = metrics.roc_auc_score(y, proba, multi_class="ovr", average=average,
                                 sample_weight=weight)
    theirs = skm.roc_auc_score(y, proba, multi_class="ovr", average=average,
                               sample_weight=weight)
    assert_close(ours, theirs)


def test_roc_auc_multiclass_labels_and_float32():
    rng = np.random.default_rng(3)
    y = rng.choice(["a", "b", "c"], 300)
    proba = rng.dirichlet(np.ones(4), 300).astype(np.float32)
    labels = ["a", "b", "c", "d"]  # class "d" never occurs: its AUC is undefined
    with pytest.warns(UndefinedMetricWarning):
        ours = metrics.roc_auc_score(y, proba, multi_class="ovr", labels=labels, average=None)
    theirs = quiet(skm.roc_auc_score, y, proba, multi_class="ovr", labels=labels, average=None)
    assert_close(ours[:3], theirs[:3])
    assert math.isnan(ours[3])
    assert math.isnan(theirs[3])


def test_roc_auc_multiclass_needs_ovr():
    proba = np.full((3, 3), 1 / 3)
    with pytest.raises(ValueError, match="multi_class: y_true has 3 classes, so pass multi_class='ovr'"):
        metrics.roc_auc_score([0, 1, 2], proba)
    with pytest.raises(ValueError, match="rows do not sum to 1"):
        metrics.roc_auc_score([0, 1, 2], proba * 2, multi_class="ovr")


def test_roc_auc_one_class_warns_nan():
    with pytest.warns(UndefinedMetricWarning, match="only the class 1"):
        assert math.isnan(metrics.roc_auc_score([1, 1, 1], [0.1, 0.2, 0.3]))
    with pytest.warns(sk_exceptions.UndefinedMetricWarning):
        assert math.isnan(skm.roc_auc_score([1, 1, 1], [0.1, 0.2, 0.3]))
    # Positives present but all of zero weight.
    with pytest.warns(UndefinedMetricWarning, match="no positive samples of nonzero weight"):
        assert math.isnan(metrics.roc_auc_score([0, 1], [0.1, 0.2], sample_weight=[1.0, 0.0]))


def test_average_precision_without_positives_is_zero():
    with pytest.warns(UserWarning, match="no positive samples"):
        assert metrics.average_precision_score([0, 0, 0], [0.1, 0.5, 0.2]) == 0.0
    assert quiet(skm.average_precision_score, [0, 0, 0], [0.1, 0.5, 0.2]) == 0.0


def test_ranking_tie_groups_cross_scan_blocks():
    # 3 distinct scores over 300000 samples: every tie group spans many scan blocks.
    rng = np.random.default_rng(8)
    n = 300_000
    y = rng.integers(0, 2, n)
    scores = rng.integers(0, 3, n).astype(np.float32)
    weight = rng.random(n)
    assert_close(metrics.roc_auc_score(y, scores), mann_whitney_auc(y, scores))
    assert_close(metrics.roc_auc_score(y, scores, sample_weight=weight),
                 skm.roc_auc_score(y, scores, sample_weight=weight), rtol=1e-11)
    assert_close(metrics.average_precision_score(y, scores, sample_weight=weight),
                 skm.average_precision_score(y, scores, sample_weight=weight), rtol=1e-11)


def test_negative_zero_ties_positive_zero():
    y = np.array([1, 0, 1, 0])
    scores = np.array([-0.0, 0.0, 0.0, -0.0])
    assert metrics.roc_auc_score(y, scores) == 0.5
    assert metrics.roc_auc_score(y, scores) == skm.roc_auc_score(y, scores)


# ----- classification scores


def label_cases():
    return [
        ("binary", lambda rng, n: (rng.integers(0, 2, n), rng.integers(0, 2, n))),
        ("multiclass", lambda rng, n: (rng.integers(0, 5, n), rng.integers(0, 5, n))),
        ("strings", lambda rng, n: (rng.choice(["cat", "dog", "eel"], n),
                                    rng.choice(["cat", "dog", "eel"], n))),
        ("sparse_ints", lambda rng, n: (rng.choice([-7, 3, 10**9], n),
                                        rng.choice([-7, 3, 10**9], n))),
        ("floats", lambda rng, n: (rng.integers(0, 3, n).astype(float),
                                   rng.integers(1, 4, n).astype(float))),
    ]


@pytest.mark.parametrize("case", label_cases(), ids=lambda c: c[0])
@pytest.mark.parametrize("weighted", [False, True])
def test_classification_scores_match_sklearn(case, weighted):
    rng = np.random.default_rng(len(case[0]) + weighted)
    y_true, y_pred = case[1](rng, 500)
    weight = rng.random(500) if weighted else None
    assert_close(metrics.accuracy_score(y_true, y_pred, sample_weight=weight),
                 skm.accuracy_score(y_true, y_pred, sample_weight=weight))
    assert_close(metrics.accuracy_score(y_true, y_pred, normalize=False, sample_weight=weight),
                 skm.accuracy_score(y_true, y_pred, normalize=False, sample_weight=weight))
    assert_close(metrics.confusion_matrix(y_true, y_pred, sample_weight=weight),
                 skm.confusion_matrix(y_true, y_pred, sample_weight=weight))
    binary = np.unique(np.r_[y_true, y_pred]).size <= 2
    averages = ["micro", "macro", "weighted", None] + (["binary"] if binary else [])
    for average in averages:
        kwargs = dict(average=average, sample_weight=weight)
        if average == "binary":
            kwargs["pos_label"] = y_true[0]
        for beta in (0.0, 0.5, 1.0, 2.0, np.inf):
            ours = metrics.precision_recall_fscore_support(y_true, y_pred, beta=beta, **kwargs)
            theirs = skm.precision_recall_fscore_support(y_true, y_pred, beta=beta, **kwargs)
            for a, b in zip(ours, theirs):
                if b is None:
                    assert a is None
                else:
                    assert_close(a, b)
        for name in ("precision_score", "recall_score", "f1_score"):
            assert_close(getattr(metrics, name)(y_true, y_pred, **kwargs),
                         getattr(skm, name)(y_true, y_pred, **kwargs))
        assert_close(metrics.fbeta_score(y_true, y_pred, beta=0.5, **kwargs),
                     skm.fbeta_score(y_true, y_pred, beta=0.5, **kwargs))


def test_confusion_matrix_labels_and_normalize():
    rng = np.random.default_rng(4)
    y_true = rng.integers(0, 4, 200)
    y_pred = rng.integers(0, 4, 200)
    weight = rng.random(200)
    for labels in (None, [3, 1], [2, 0, 9], [1]):
        for normalize in (None, "true", "pred", "all"):
            for w in (None, weight, rng.integers(0, 3, 200)):
                ours = quiet(metrics.confusion_matrix, y_true, y_pred, labels=labels,
                             sample_weight=w, normalize=normalize)
                theirs = quiet(skm.confusion_matrix, y_true, y_pred, labels=labels,
                               sample_weight=w, normalize=normalize)
                assert ours.dtype == theirs.dtype
                assert_close(ours, theirs)
    with pytest.raises(ValueError, match=r"labels: none of \[7, 8\] occurs in y_true"):
        metrics.confusion_matrix(y_true, y_pred, labels=[7, 8])


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.uint8, np.uint64, bool])
def test_narrow_integer_labels_match_sklearn(dtype):
    # Labels near the ends of their dtype's range, where shifts in that dtype wrap around.
    info = np.iinfo(dtype) if dtype is not bool else None
    if dtype is bool:
        values = np.array([False, True])
    elif dtype is np.uint64:
        values = np.array([2**63 + 5, 2**64 - 1], dtype=dtype)
    else:
        values = np.array([info.min + 3, info.max - 1], dtype=dtype)
    rng = np.random.default_rng(8)
    y_true = values[rng.integers(0, 2, 100)]
    y_pred = values[rng.integers(0, 2, 100)]
    assert metrics.accuracy_score(y_true, y_pred) == skm.accuracy_score(y_true, y_pred)
    np.testing.assert_array_equal(metrics.confusion_matrix(y_true, y_pred),
                                  skm.confusion_matrix(y_true, y_pred))
    assert_close(quiet(metrics.f1_score, y_true, y_pred, average="macro"),
                 quiet(skm.f1_score, y_true, y_pred, average="macro"))
    scores = rng.random(100)
    assert_close(metrics.roc_auc_score(y_true, scores), skm.roc_auc_score(y_true, scores))


def test_mixed_label_dtypes_match_sklearn():
    y_true = np.array([0, 1, 1, 0], dtype=np.uint8)
    y_pred = np.array([-1, 1, 0, 0])
    assert metrics.accuracy_score(y_true, y_pred) == skm.accuracy_score(y_true, y_pred)
    np.testing.assert_array_equal(metrics.confusion_matrix(y_true, y_pred),
                                  skm.confusion_matrix(y_true, y_pred))


def test_prfs_labels_subset_and_absent():
    rng = np.random.default_rng(6)
    y_true = rng.integers(0, 4, 300)
    y_pred = rng.integers(0, 4, 300)
    for labels in ([2, 0], [1, 5], [3]):
        for average in ("micro", "macro", "weighted", None):
            ours = quiet(metrics.precision_recall_fscore_support, y_true, y_pred,
                         labels=labels, average=average)
            theirs = quiet(skm.precision_recall_fscore_support, y_true, y_pred,
                           labels=labels, average=average)
            for a, b in zip(ours, theirs):
                if b is not None:
                    assert_close(a, b)


@pytest.mark.parametrize("zero_division", ["warn", 0.0, 1.0, np.nan])
@pytest.mark.parametrize("average", ["binary", "micro", "macro", "weighted", None])
def test_zero_division_matches_sklearn(zero_division, average):
    # Class 2 is never predicted and class 3 never occurs, so precision and recall are 0/0.
    y_true = np.array([0, 1, 2, 2, 0, 1])
    y_pred = np.array([0, 1, 0, 1, 3, 1])
    if average == "binary":
        y_true, y_pred = np.array([0, 0, 1]), np.array([0, 0, 0])
    for name in ("precision_score", "recall_score", "f1_score"):
        with warnings.catch_warnings(record=True) as ours_warned:
            warnings.simplefilter("always")
            ours = getattr(metrics, name)(y_true, y_pred, average=average,
                                          zero_division=zero_division)
        with warnings.catch_warnings(record=True) as theirs_warned:
            warnings.simplefilter("always")
            theirs = getattr(skm, name)(y_true, y_pred, average=average,
                                        zero_division=zero_division)
        np.testing.assert_allclose(ours, theirs, rtol=RTOL, equal_nan=True)
        ours_undefined = [w for w in ours_warned if issubclass(w.category, UndefinedMetricWarning)]
        theirs_undefined = [w for w in theirs_warned
                            if issubclass(w.category, sk_exceptions.UndefinedMetricWarning)]
        assert len(ours_undefined) == len(theirs_undefined)


def test_precision_no_predicted_positives():
    with pytest.warns(UndefinedMetricWarning, match="Precision is ill-defined"):
        assert metrics.precision_score([0, 1, 1], [0, 0, 0]) == 0.0
    assert metrics.precision_score([0, 1, 1], [0, 0, 0], zero_division=1.0) == 1.0
    assert math.isnan(metrics.precision_score([0, 1, 1], [0, 0, 0], zero_division=np.nan))
    assert issubclass(UndefinedMetricWarning, UserWarning)


def test_weighted_average_with_zero_support_falls_back():
    # The only scored label never occurs in y_true, so the support weights sum to zero.
    ours = quiet(metrics.f1_score, [0, 0, 1], [1, 1, 1], labels=[2], average="weighted")
    theirs = quiet(skm.f1_score, [0, 0, 1], [1, 1, 1], labels=[2], average="weighted")
    assert ours == theirs


# ----- log loss


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("normalize", [True, False])
def test_log_loss_matches_sklearn(weighted, normalize):
    rng = np.random.default_rng(12)
    n = 800
    weight = rng.random(n) if weighted else None
    y = rng.integers(0, 2, n)
    p = rng.random(n)
    p[:4] = [0.0, 1.0, 1.0, 0.0]  # certain predictions, right and wrong, hit the clipping
    y[:4] = [1, 1, 0, 0]
    kwargs = dict(sample_weight=weight, normalize=normalize)
    assert_close(metrics.log_loss(y, p, **kwargs), skm.log_loss(y, p, **kwargs))
    y3 = rng.choice(["a", "b", "c"], n)
    proba = rng.dirichlet(np.ones(3), n)
    assert_close(metrics.log_loss(y3, proba, **kwargs), skm.log_loss(y3, proba, **kwargs))
    labels = ["a", "b", "c", "d"]
    proba4 = rng.dirichlet(np.ones(4), n)
    assert_close(metrics.log_loss(y3, proba4, labels=labels, **kwargs),
                 skm.log_loss(y3, proba4, labels=labels, **kwargs))


def test_log_loss_float32_clips_in_float32():
    rng = np.random.default_rng(13)
    y = rng.integers(0, 2, 500)
    p = rng.random(500).astype(np.float32)
    p[:3] = [0.0, 1.0, 0.5]
    eps = np.finfo(np.float32).eps
    # The reference clips the float32 pair (1 - p, p) in float32 and takes logs in float64.
    pair = np.clip(np.stack([np.float32(1) - p, p], axis=1), eps, 1 - eps)
    expected = -np.mean(np.log(pair[np.arange(500), y].astype(np.float64)))
    assert_close(metrics.log_loss(y, p), expected)
    assert_close(metrics.log_loss(y, p), skm.log_loss(y, p), rtol=1e-6)


def test_log_loss_rows_not_summing_to_one_warn():
    with pytest.warns(UserWarning, match="1 rows do not sum to one"):
        value = metrics.log_loss([0, 1], [[0.5, 0.5], [0.2, 0.2]])
    assert_close(value, quiet(skm.log_loss, [0, 1], [[0.5, 0.5], [0.2, 0.2]]))


@pytest.mark.parametrize(
    "call,fragment",
    [
        (lambda: metrics.log_loss([0, 1], [0.5, 1.5]), "y_proba[1]: expected a probability in [0, 1], got 1.5"),
        (lambda: metrics.log_loss([0, 1], [-0.1, 0.5]), "y_proba[0]: expected a probability in [0, 1], got -0.1"),
        (lambda: metrics.log_loss([0, 1], [[0.5, 0.5], [np.nan, 1.0]]), "y_proba[1, 0]: expected a probability"),
        (lambda: metrics.log_loss([1, 1], [0.5, 0.5]), "y_true: contains only the label 1"),
        (lambda: metrics.log_loss([0, 1, 2], [0.5, 0.5, 0.5]), "y_proba: has 2 classes but y_true has 3"),
        (lambda: metrics.log_loss([0, 5], [0.5, 0.5], labels=[0, 1]), "y_true[1]: 5 is not one of labels"),
    ],
)
def test_log_loss_invalid_input(call, fragment):
    with pytest.raises(ValueError) as info:
        call()
    assert fragment in str(info.value)


# ----- regression


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("outputs", [1, 3])
def test_regression_matches_sklearn(weighted, outputs):
    rng = np.random.default_rng(14)
    shape = (200,) if outputs == 1 else (200, outputs)
    y = rng.normal(size=shape)
    pred = y + rng.normal(size=shape) * 0.3
    weight = rng.random(200) if weighted else None
    modes = ["uniform_average", "raw_values"] + ([[0.2, 0.3, 0.5]] if outputs == 3 else [])
    for multioutput in modes:
        for name in ("mean_squared_error", "root_mean_squared_error", "mean_absolute_error",
                     "r2_score"):
            assert_close(
                getattr(metrics, name)(y, pred, sample_weight=weight, multioutput=multioutput),
                getattr(skm, name)(y, pred, sample_weight=weight, multioutput=multioutput))
    assert_close(metrics.r2_score(y, pred, multioutput="variance_weighted"),
                 skm.r2_score(y, pred, multioutput="variance_weighted"))


def test_r2_constant_target():
    assert metrics.r2_score([1.0, 1.0], [1.0, 1.0]) == skm.r2_score([1.0, 1.0], [1.0, 1.0])
    assert metrics.r2_score([1.0, 1.0], [1.0, 2.0]) == skm.r2_score([1.0, 1.0], [1.0, 2.0])


# ----- invalid input


@pytest.mark.parametrize(
    "call,fragment",
    [
        (lambda: metrics.accuracy_score([0, 1], [0, 1, 1]), "y_pred: expected 2 samples to match y_true, got 3"),
        (lambda: metrics.accuracy_score([], []), "y_true: expected at least one sample"),
        (lambda: metrics.accuracy_score([[0, 1], [1, 0]], [[0, 1], [1, 0]]), "multilabel indicator"),
        (lambda: metrics.accuracy_score([0.5, 1], [0, 1]), "y_true[0]: classification metrics need discrete labels"),
        (lambda: metrics.accuracy_score(["a", "b"], [0, 1]), "Mix of label input types"),
        (lambda: metrics.accuracy_score([0, 1], [0, 1], sample_weight=[1.0, -1.0]), "sample_weight[1]: expected a finite value >= 0, got -1.0"),
        (lambda: metrics.accuracy_score([0, 1], [0, 1], sample_weight=[1.0]), "sample_weight: expected 2 samples"),
        (lambda: metrics.f1_score([0, 1], [0, 1], average="mean"), "average: expected one of"),
        (lambda: metrics.f1_score([0, 1, 2], [0, 1, 2]), "average='binary' does not apply"),
        (lambda: metrics.f1_score([0, 1], [0, 1], pos_label=2), "pos_label: 2 is not one of the labels [0, 1]"),
        (lambda: metrics.f1_score([0, 1], [0, 1], zero_division=2), "zero_division: expected 'warn'"),
        (lambda: metrics.confusion_matrix([0, 1], [0, 1], normalize="rows"), "normalize: expected None"),
        (lambda: metrics.roc_auc_score([0, 1], [0.5, np.nan]), "y_score[1]: expected a finite number, got nan"),
        (lambda: metrics.roc_auc_score([0, 1], [np.inf, 0.5]), "y_score[0]: expected a finite number, got inf"),
        (lambda: metrics.roc_auc_score([0, 1], [0.5]), "y_score: expected 2 samples to match y_true, got 1"),
        (lambda: metrics.roc_auc_score([0, 1], [0.5, 0.2], average="mean"), "average: expected one of"),
        (lambda: metrics.average_precision_score([0, 1, 2], [0.1, 0.2, 0.3]), "only binary targets"),
        (lambda: metrics.average_precision_score([0, 1], [0.1, np.nan]), "y_score[1]: expected a finite number"),
        (lambda: metrics.roc_curve(["a", "b"], [0.1, 0.2]), "pass pos_label to name the positive class"),
        (lambda: metrics.mean_squared_error([0.0, 1.0], [0.0]), "y_pred: expected the shape of y_true"),
        (lambda: metrics.r2_score([0.0, 1.0], [0.0, 1.0], multioutput="median"), "multioutput: expected"),
    ],
)
def test_invalid_input(call, fragment):
    with pytest.raises(ValueError) as info:
        call()
    assert fragment in str(info.value)


# ----- determinism


def test_results_do_not_depend_on_thread_count():
    rng = np.random.default_rng(21)
    n = 400_000  # above the parallel threshold and several scan and reduction blocks
    y = rng.integers(0, 2, n)
    scores = np.round(rng.normal(size=n), 2)
    weight = rng.random(n)
    y3 = rng.integers(0, 3, n)
    pred3 = rng.integers(0, 3, n)
    proba = rng.dirichlet(np.ones(3), n)

    def run_all():
        return [
            metrics.roc_auc_score(y, scores, sample_weight=weight),
            metrics.average_precision_score(y, scores, sample_weight=weight),
            metrics.roc_auc_score(y, scores),
            metrics.confusion_matrix(y3, pred3, sample_weight=weight).tolist(),
            metrics.f1_score(y3, pred3, average="macro", sample_weight=weight),
            metrics.log_loss(y3, proba, sample_weight=weight),
            metrics.roc_curve(y, scores, sample_weight=weight)[1].tolist(),
        ]

    before = fastopt.get_num_threads()
    try:
        results = []
        for threads in (1, 2, 3, 8):
            fastopt.set_num_threads(threads)
            results.append(run_all())
    finally:
        fastopt.set_num_threads(before)
    for other in results[1:]:
        assert other == results[0]


def test_benchmark_script_runs(capsys):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    import bench_metrics

    assert bench_metrics.main(["--quick", "--no-write", "--n", "3000"]) == 0
    output = capsys.readouterr().out
    assert "roc_auc_score" in output
    assert "confusion_matrix, 10 classes, weighted" in output


def test_boolean_and_mixed_labels_match_sklearn():
    rng = np.random.default_rng(31)
    y_bool = rng.random(200) < 0.5
    pred_bool = rng.random(200) < 0.5
    pred_int = pred_bool.astype(np.int32)
    y_float = y_bool.astype(np.float64)
    for y_true, y_pred in ((y_bool, pred_bool), (y_bool, pred_int), (y_float, pred_bool)):
        assert_close(metrics.accuracy_score(y_true, y_pred), skm.accuracy_score(y_true, y_pred))
        assert_close(metrics.f1_score(y_true, y_pred), skm.f1_score(y_true, y_pred))
        assert_close(metrics.confusion_matrix(y_true, y_pred),
                     skm.confusion_matrix(y_true, y_pred))
    scores = rng.random(200)
    assert_close(metrics.roc_auc_score(y_bool, scores), skm.roc_auc_score(y_bool, scores))
    assert_close(metrics.log_loss(y_bool, scores), skm.log_loss(y_bool, scores))


def test_undefined_warning_points_at_caller():
    with pytest.warns(UndefinedMetricWarning) as record:
        metrics.precision_score([0, 1, 1], [0, 0, 0])
    assert record[0].filename == __file__
    with pytest.warns(UndefinedMetricWarning) as record:
        metrics.precision_recall_fscore_support([0, 1, 2], [0, 0, 0])
    assert record[0].filename == __file__


def test_many_classes_use_bincount_sums():
    # 3000 classes exceed the confusion-matrix limit, so per-class sums come from np.bincount.
    rng = np.random.default_rng(41)
    y_true = rng.integers(0, 3000, 20_000)
    y_pred = np.where(rng.random(20_000) < 0.5, y_true, rng.integers(0, 3000, 20_000))
    weight = rng.random(20_000)
    assert_close(metrics.accuracy_score(y_true, y_pred, sample_weight=weight),
                 skm.accuracy_score(y_true, y_pred, sample_weight=weight))
    for average in ("micro", "macro", "weighted"):
        assert_close(quiet(metrics.f1_score, y_true, y_pred, average=average, sample_weight=weight),
                     quiet(skm.f1_score, y_true, y_pred, average=average, sample_weight=weight))


def test_log_loss_accepts_old_y_pred_name():
    with pytest.warns(FutureWarning, match="y_pred is the old name of y_proba"):
        value = metrics.log_loss([0, 1], y_pred=[0.2, 0.7])
    assert_close(value, metrics.log_loss([0, 1], [0.2, 0.7]))
    with pytest.raises(ValueError, match="not as both"):
        metrics.log_loss([0, 1], [0.2, 0.7], y_pred=[0.2, 0.7])
