import json
import os
import subprocess
import sys

import numpy as np
import pytest

import fastopt
from fastopt import cli
from fastopt._logistic import fit_logistic_regression


def run_fastopt(*args, cwd=None):
    """Run ``python -m fastopt`` in a subprocess, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "fastopt", *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


# -- end to end -----------------------------------------------------------------


def test_train_a9a_reaches_accuracy(data_file, tmp_path):
    # scikit-learn's LogisticRegression (C=1) reaches 0.8495 on a9a.t; three
    # epochs of Adam at the default settings reach 0.851.
    model_path = tmp_path / "model.npz"
    result = run_fastopt(
        "train", "--data", data_file("a9a"), "--test", data_file("a9a.t"), "--n-features", "123",
        "--epochs", "3", "--json", "--output", str(model_path), cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["metrics"]["accuracy"] >= 0.84
    assert report["metrics"]["roc_auc"] >= 0.89
    assert report["metrics"]["log_loss"] <= 0.34
    assert report["evaluation"]["split"] == "test"
    assert report["evaluation"]["n_samples"] == 16281
    assert [e["epoch"] for e in report["epochs"]] == [1, 2, 3]
    assert report["labels"] == {"negative": -1.0, "positive": 1.0}
    # Progress is logged to stderr, never mixed into the report.
    assert "epoch 3/3: train loss" in result.stderr

    saved = np.load(model_path)
    assert saved["coef"].shape == (123,)
    assert saved["intercept"].shape == (1,)
    np.testing.assert_array_equal(saved["classes"], [-1.0, 1.0])


def test_train_table_on_training_data(data_file):
    # mushrooms has labels {1, 2}; without --test the training file is evaluated.
    result = run_fastopt("train", "--data", data_file("mushrooms"), "--epochs", "2", "--optimizer", "adamw",
                         "--schedule", "warmup-cosine", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "(train, 8,124 samples)" in result.stdout
    for name in ("log_loss", "accuracy", "precision", "recall", "f1", "roc_auc"):
        assert name in result.stdout
    assert result.stderr == ""


def test_info_runs():
    result = run_fastopt("info")
    assert result.returncode == 0, result.stderr
    assert f"fastopt:        {fastopt.__version__}" in result.stdout
    assert f"isa:            {fastopt.active_isa()}" in result.stdout
    assert "openmp:" in result.stdout


def test_missing_file_exits_2(tmp_path):
    result = run_fastopt("train", "--data", str(tmp_path / "absent.svm"))
    assert result.returncode == 2
    assert f"fastopt train: error: argument --data: file not found: {tmp_path / 'absent.svm'}" in result.stderr
    assert result.stdout == ""


def test_multiclass_exits_1(data_file):
    result = run_fastopt("train", "--data", data_file("news20.bz2"), "--quiet")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "found 20 distinct labels" in lines[0]
    assert "only binary classification is supported" in lines[0]


# -- argument and data errors, in process ---------------------------------------


@pytest.fixture
def small_file(tmp_path):
    path = tmp_path / "small.svm"
    path.write_text("+1 1:1 2:0.5\n-1 2:1 3:1\n+1 1:2\n-1 3:2\n")
    return str(path)


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["--lr", "-1"], "argument --lr: expected a finite number > 0.0, got '-1'"),
        (["--lr", "nan"], "argument --lr: expected a finite number > 0.0, got 'nan'"),
        (["--epochs", "0"], "argument --epochs: expected a positive integer, got '0'"),
        (["--batch-size", "x"], "argument --batch-size: expected a positive integer, got 'x'"),
        (["--l2", "-0.1"], "argument --l2: expected a finite number >= 0.0"),
        (["--optimizer", "nosuch"], "argument --optimizer: invalid choice: 'nosuch'"),
        (["--schedule", "linear"], "argument --schedule: invalid choice: 'linear'"),
        (["--optimizer-arg", "betas"], "argument --optimizer-arg: expected NAME=VALUE, got 'betas'"),
        (["--optimizer-arg", "foo=1"], "argument --optimizer-arg: invalid for Adam"),
        (["--optimizer-arg", "betas=(0.9,2.0)"], "argument --optimizer-arg: invalid for Adam: betas"),
        (["--optimizer-arg", "lr=0.1"], "set the learning rate with --lr"),
        (["--test", "/nonexistent/test.svm"], "argument --test: file not found: /nonexistent/test.svm"),
        (["--output", "/nonexistent/model.npz"], "argument --output: directory not found: /nonexistent"),
    ],
)
def test_bad_argument_exits_2(small_file, capsys, args, fragment):
    with pytest.raises(SystemExit) as info:
        cli.main(["train", "--data", small_file, *args])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "usage: fastopt train" in err
    assert fragment in err


def test_missing_command_exits_2(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main([])
    assert info.value.code == 2
    assert "required: COMMAND" in capsys.readouterr().err


@pytest.mark.parametrize(
    "content,fragment",
    [
        ("1 1:1\n1 2:x\n", "small.svm:2: invalid feature value 'x'"),
        ("1 1:1\n-1 2:1\n3 1:1\n", "found 3 distinct labels"),
        ("3 1:1\n7 2:1\n", "labels {3, 7} are not one of {-1, +1}, {0, 1} or {1, 2}"),
        ("1 1:1\n1 2:1\n", "all labels are 1; training needs two classes"),
        ("1 1:1\n-1 2:inf\n", "feature values must be finite"),
    ],
)
def test_unusable_data_exits_1(tmp_path, capsys, content, fragment):
    path = tmp_path / "small.svm"
    path.write_text(content)
    assert cli.main(["train", "--data", str(path), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("fastopt train: error: ")
    assert fragment in err
    assert len(err.strip().splitlines()) == 1


def test_divergence_exits_1(small_file, capsys):
    assert cli.main(["train", "--data", small_file, "--lr", "1e300", "--quiet"]) == 1
    assert "training diverged at epoch 1" in capsys.readouterr().err


def test_json_report_in_process(small_file, tmp_path, capsys):
    test_path = tmp_path / "test.svm"
    test_path.write_text("1 1:1\n1 1:2\n")  # one class only: ROC-AUC is undefined
    code = cli.main(["train", "--data", small_file, "--test", str(test_path), "--json", "--quiet",
                     "--dtype", "float32", "--optimizer-arg", "amsgrad=True", "--threads", "1"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["metrics"]["roc_auc"] is None
    assert report["optimizer"] == {"name": "Adam", "lr": 0.01, "amsgrad": True}
    assert report["dtype"] == "float32"
    assert report["train"]["n_features"] == 3


def test_optimizer_choices_follow_fastopt_optim():
    found = cli.available_optimizers()
    assert found["adam"] is fastopt.optim.Adam
    assert found["adamw"] is fastopt.optim.AdamW
    assert "optimizer" not in found


# -- the training itself ----------------------------------------------------------


def test_binary_targets_mapping():
    targets, pair = cli.binary_targets([np.array([1.0, 2.0, 2.0]), np.array([1.0])], ["a", "b"])
    assert pair == (1.0, 2.0)
    np.testing.assert_array_equal(targets[0], [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(targets[1], [0.0])
    targets, pair = cli.binary_targets([np.array([-1.0, 1.0])], ["a"])
    assert pair == (-1.0, 1.0)
    np.testing.assert_array_equal(targets[0], [0.0, 1.0])


def test_converges_to_sklearn_solution(data_file):
    # With l2 = 1 / (C n) both minimize the same strictly convex objective, so
    # full-batch Adam with a decaying rate must approach scikit-learn's optimum.
    linear_model = pytest.importorskip("sklearn.linear_model")
    from fastopt.datasets import load_svmlight

    X, y = load_svmlight(data_file("heart_scale"))
    y = (y > 0).astype(np.float64)
    reference = linear_model.LogisticRegression(C=1.0, tol=1e-10, max_iter=10000).fit(X, y)
    model = fit_logistic_regression(
        X, y, fastopt.optim.Adam, lr=0.05, epochs=1500, batch_size=X.shape[0],
        l2=1.0 / X.shape[0], schedule="cosine",
    )
    np.testing.assert_allclose(model.coef, reference.coef_[0], atol=2e-3)
    np.testing.assert_allclose(model.intercept, reference.intercept_, atol=2e-3)

