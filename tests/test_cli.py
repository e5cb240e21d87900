"""The fastopt command end to end on real data, its errors, and its pieces in process."""

import json
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import metrics as skm
from sklearn.datasets import load_svmlight_file, load_svmlight_files

import fastopt
from fastopt import cli
from fastopt.linear_model import LogisticRegression, Ridge
from fastopt.model_file import load_model


def run_fastopt(*args, cwd=None, timeout=300):
    """Run ``python -m fastopt`` in a subprocess, as a user would."""
    return subprocess.run([sys.executable, "-m", "fastopt", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=timeout)


def train_json(*args, cwd=None):
    result = run_fastopt("train", *args, "--json", cwd=cwd)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), result.stderr


def binary_metrics(y, predicted, probability, positive):
    truth = (y == positive).astype(int)
    return {
        "accuracy": skm.accuracy_score(y, predicted),
        "precision": skm.precision_score(y, predicted, pos_label=positive, zero_division=0),
        "recall": skm.recall_score(y, predicted, pos_label=positive, zero_division=0),
        "f1": skm.f1_score(y, predicted, pos_label=positive, zero_division=0),
        "roc_auc": skm.roc_auc_score(truth, probability),
        "pr_auc": skm.average_precision_score(truth, probability),
        "log_loss": skm.log_loss(truth, probability),
    }


# -- end to end on real data --------------------------------------------------------------


@pytest.mark.parametrize("penalty, solver, tol", [("l2", "auto", "1e-6"), ("l1", "auto", "1e-6"),
                                                  ("l1", "owlqn", "1e-4")])
def test_train_a9a_binary(data_file, tmp_path, penalty, solver, tol):
    model_path = tmp_path / "model.npz"
    report, stderr = train_json("--data", data_file("a9a"), "--test", data_file("a9a.t"),
                                "--penalty", penalty, "--alpha", "1e-4", "--solver", solver,
                                "--tol", tol, "--output", str(model_path), cwd=tmp_path)
    assert report["train"]["shape"] == [32561, 123]
    assert report["evaluation"] == {"source": data_file("a9a.t"), "split": "test",
                                    "shape": [16281, 123]}
    # Progress goes to stderr, never into the report on stdout.
    assert "LogisticRegression (" in stderr
    assert "iteration 1/1000  objective" in stderr

    # The printed metrics equal scikit-learn's on the predictions of the saved model ...
    X_train, y_train, X_test, y_test = load_svmlight_files(
        [data_file("a9a"), data_file("a9a.t")], n_features=123)
    model = load_model(model_path)
    expected = binary_metrics(y_test, model.predict(X_test), model.predict_proba(X_test)[:, 1], 1.0)
    for name, value in expected.items():
        assert report["metrics"][name] == pytest.approx(value, rel=1e-10, abs=1e-12), name
    # ... and that model is the one the estimator fits on the same data in process.
    direct = LogisticRegression(penalty=penalty, alpha=1e-4, solver=solver, tol=float(tol)).fit(
        X_train, y_train)
    np.testing.assert_allclose(model.coef_, direct.coef_, rtol=1e-9, atol=1e-12)
    assert 0.84 <= report["metrics"]["accuracy"] <= 0.86
    assert report["metrics"]["roc_auc"] > 0.89

    # evaluate on the saved model prints the same metrics; predict writes the same labels.
    evaluated = run_fastopt("evaluate", "--model", str(model_path), "--data", data_file("a9a.t"),
                            "--json")
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["metrics"] == pytest.approx(report["metrics"], rel=1e-12)
    predicted = run_fastopt("predict", "--model", str(model_path), "--data", data_file("a9a.t"))
    assert predicted.returncode == 0, predicted.stderr
    labels = np.array([float(line) for line in predicted.stdout.split()])
    np.testing.assert_array_equal(labels, model.predict(X_test))


def test_train_news20_multinomial(data_file, tmp_path):
    model_path = tmp_path / "news20.npz"
    report, _ = train_json("--data", data_file("news20.bz2"), "--validation-fraction", "0.2",
                           "--alpha", "1e-3", "--tol", "1e-3", "--quiet",
                           "--output", str(model_path), cwd=tmp_path)
    assert report["evaluation"]["split"] == "validation"
    assert report["evaluation"]["shape"][0] == round(0.2 * 15935)
    # Rebuild the same held-out rows: the split is a seeded permutation.
    X, y = load_svmlight_file(data_file("news20.bz2"))
    order = np.random.default_rng(0).permutation(X.shape[0])
    evaluation_rows = np.sort(order[: round(0.2 * X.shape[0])])
    X_held, y_held = X[evaluation_rows], y[evaluation_rows]
    model = load_model(model_path)
    assert model.classes_.size == 20
    probability = model.predict_proba(X_held)
    predicted = model.predict(X_held)
    ovr = [skm.roc_auc_score(y_held == c, probability[:, k]) for k, c in enumerate(model.classes_)]
    ap = [skm.average_precision_score(y_held == c, probability[:, k])
          for k, c in enumerate(model.classes_)]
    expected = {
        "accuracy": skm.accuracy_score(y_held, predicted),
        "precision_macro": skm.precision_score(y_held, predicted, average="macro", zero_division=0),
        "recall_macro": skm.recall_score(y_held, predicted, average="macro", zero_division=0),
        "f1_macro": skm.f1_score(y_held, predicted, average="macro", zero_division=0),
        "roc_auc_ovr": np.mean(ovr),
        "pr_auc_ovr": np.mean(ap),
        "log_loss": skm.log_loss(y_held, probability, labels=model.classes_),
    }
    assert report["metrics"] == pytest.approx(expected, rel=1e-10)
    assert report["metrics"]["accuracy"] > 0.75


def test_train_abalone_regression(data_file, tmp_path):
    model_path = tmp_path / "abalone.npz"
    path = data_file("abalone_scale.bz2")
    report, _ = train_json("--data", path, "--model", "linear", "--penalty", "l2", "--alpha",
                           "1e-3", "--tol", "1e-8", "--quiet", "--output", str(model_path),
                           cwd=tmp_path)
    X, y = load_svmlight_file(path)
    model = load_model(model_path)
    assert type(model) is Ridge
    predicted = model.predict(X)
    expected = {"rmse": skm.root_mean_squared_error(y, predicted),
                "mae": skm.mean_absolute_error(y, predicted), "r2": skm.r2_score(y, predicted)}
    assert report["metrics"] == pytest.approx(expected, rel=1e-10)
    direct = Ridge(alpha=1e-3, tol=1e-8).fit(X, y)
    np.testing.assert_allclose(model.coef_, direct.coef_, rtol=1e-8)
    assert 0.45 < report["metrics"]["r2"] < 0.6


@pytest.mark.parametrize("solver", ["sgd", "ftrl"])
def test_train_online_solvers_a9a(data_file, tmp_path, solver):
    model_path = tmp_path / f"{solver}.npz"
    report, _ = train_json("--data", data_file("a9a"), "--test", data_file("a9a.t"),
                           "--solver", solver, "--epochs", "3", "--quiet",
                           "--output", str(model_path), cwd=tmp_path)
    assert report["model"]["unit"] == "epochs"
    assert report["metrics"]["accuracy"] > 0.83
    _, _, X_test, y_test = load_svmlight_files([data_file("a9a"), data_file("a9a.t")],
                                               n_features=123)
    model = load_model(model_path)
    assert report["metrics"]["accuracy"] == pytest.approx(
        skm.accuracy_score(y_test, model.predict(X_test)), rel=1e-12)


def test_default_problem_without_data(tmp_path):
    result = run_fastopt("train", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "no --data given" in result.stderr
    assert "make_sparse_classification" in result.stderr
    report = json.loads(result.stdout)
    assert report["train"]["shape"] == [200_000, 2**14]
    assert report["evaluation"]["split"] == "test"
    assert report["metrics"]["roc_auc"] > 0.75
    assert set(report["timing"]) == {"load", "train", "evaluate"}


def test_table_output_on_training_data(data_file, tmp_path):
    result = run_fastopt("train", "--data", data_file("mushrooms"), "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "(train, 8,124 samples)" in result.stdout
    for name in ("accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "log_loss",
                 "load", "train", "evaluate"):
        assert f"\n{name} " in result.stdout


def test_info_runs():
    result = run_fastopt("info", "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["fastopt"] == fastopt.__version__
    assert "newton-cd" in info["solvers"]
    assert "ftrl" in info["solvers"]


# -- errors: one line on stderr, non-zero status ------------------------------------------


@pytest.fixture
def small_file(tmp_path):
    path = tmp_path / "small.svm"
    path.write_text("".join(f"{1 if i % 3 else -1} 1:{i / 10} 3:{(i % 5) / 4}\n" for i in range(60)))
    return str(path)


def assert_one_line_error(result, status, fragment):
    assert result.returncode == status
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert fragment in lines[0], lines[0]


@pytest.mark.parametrize("args, fragment", [
    (["--data", "absent.svm"], "--data absent.svm: file not found"),
    (["--data", "{small}", "--test", "absent.svm"], "--test absent.svm: file not found"),
    (["--data", "."], "is a directory"),
    (["--data", "{small}", "--output", "no/such/dir/m.npz"], "directory"),
])
def test_file_errors_exit_1(tmp_path, small_file, args, fragment):
    args = [a.replace("{small}", small_file) for a in args]
    assert_one_line_error(run_fastopt("train", *args, cwd=tmp_path), 1, fragment)


@pytest.mark.parametrize("args, fragment", [
    (["--penalty", "l3"], "argument --penalty: invalid choice: 'l3'"),
    (["--solver", "adam"], "argument --solver: invalid choice: 'adam'"),
    (["--alpha", "-1"], "argument --alpha: expected a number in [0, inf), got '-1'"),
    (["--alpha", "nan"], "argument --alpha"),
    (["--l1-ratio", "2"], "argument --l1-ratio"),
    (["--max-iter", "0"], "argument --max-iter: expected a positive integer, got '0'"),
    (["--validation-fraction", "1.5"], "argument --validation-fraction"),
    (["--zero-based", "maybe"], "argument --zero-based"),
    (["--model", "tree"], "argument --model: invalid choice"),
    (["--threads", "5000"], "argument --threads: expected an integer in [1, 4096], got '5000'"),
    (["--seed", "-1"], "argument --seed: expected an integer in [0, 4294967295], got '-1'"),
    (["--seed", "4294967296"], "argument --seed"),
])
def test_bad_option_values_exit_2(tmp_path, small_file, args, fragment):
    result = run_fastopt("train", "--data", small_file, *args, cwd=tmp_path)
    assert_one_line_error(result, 2, fragment)


@pytest.mark.parametrize("content, args, fragment", [
    ("1 1:1\n1 2:1\n", [], "all labels are 1; a classifier needs two classes"),
    ("1 1:1\n-1 2:x\n", [], "data.svm"),
    ("1 1:1\n-1 5:1\n", ["--n-features", "3"], "beyond the 3 features"),
    ("1 1:1\n-1 1000000000000000:1\n", [], "error:"),
    ("1 1:1\n-1 2:1\n", ["--solver", "ftrl", "--model", "linear"], "trains logistic models only"),
    ("1 1:1\n-1 2:1\n", ["--test", "{self}", "--validation-fraction", "0.5"], "not allowed with"),
])
def test_unusable_data_is_one_line(tmp_path, content, args, fragment):
    path = tmp_path / "data.svm"
    path.write_text(content)
    args = [a.replace("{self}", str(path)) for a in args]
    result = run_fastopt("train", "--data", str(path), "-q", *args, cwd=tmp_path)
    assert result.returncode in (1, 2)
    assert_one_line_error(result, result.returncode, fragment)


def test_dual_cd_trains_without_intercept(tmp_path, small_file):
    report, _ = train_json("--data", small_file, "--solver", "dual-cd", "--no-intercept", "-q",
                           cwd=tmp_path)
    assert report["model"]["solver"] == "dual-cd"
    X, y = load_svmlight_file(small_file)
    model = LogisticRegression(alpha=1e-4, fit_intercept=False, solver="dual-cd", tol=1e-4).fit(X, y)
    assert report["metrics"]["accuracy"] == pytest.approx(model.score(X, y))
    assert report["metrics"]["log_loss"] == pytest.approx(
        skm.log_loss(y, model.predict_proba(X)), rel=1e-6)


def test_closed_stdout_pipe_exits_quietly(tmp_path, small_file):
    # The reader closes the pipe before the report is written, as `| head -0` would.
    process = subprocess.Popen([sys.executable, "-m", "fastopt", "train", "--data", small_file,
                                "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               cwd=tmp_path)
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=300) == 141
    assert stderr == ""


def test_test_file_wider_than_model(tmp_path, small_file):
    model_path = tmp_path / "m.npz"
    result = run_fastopt("train", "--data", small_file, "-q", "--output", str(model_path))
    assert result.returncode == 0, result.stderr
    wide = tmp_path / "wide.svm"
    wide.write_text("1 1:1 7:1\n")
    for command in ("evaluate", "predict"):
        result = run_fastopt(command, "--model", str(model_path), "--data", str(wide))
        assert_one_line_error(result, 1, "uses feature 7 (counting from 1), but the model was "
                                         "trained on 3 features")
    # A narrower file is fine: its missing columns are zero.
    narrow = tmp_path / "narrow.svm"
    narrow.write_text("1 1:1\n-1 1:0.5\n")
    result = run_fastopt("predict", "--model", str(model_path), "--data", str(narrow), "--proba")
    assert result.returncode == 0, result.stderr
    rows = [[float(v) for v in line.split(",")] for line in result.stdout.split()]
    np.testing.assert_allclose(np.sum(rows, axis=1), 1.0)


def test_damaged_model_file_is_one_line(tmp_path, small_file):
    damaged = tmp_path / "damaged.npz"
    damaged.write_bytes(b"PK\x03\x04 not really a zip")
    result = run_fastopt("evaluate", "--model", str(damaged), "--data", small_file)
    assert_one_line_error(result, 1, "not a fastopt model file")


# -- pieces, in process ------------------------------------------------------------------


def test_load_files_resolves_one_based_indices(tmp_path):
    one = tmp_path / "one.svm"
    one.write_text("1 1:1 3:2\n-1 2:1\n")
    zero = tmp_path / "zero.svm"
    zero.write_text("1 0:1 2:2\n-1 1:1\n")
    pairs, zero_based = cli.load_files([str(one)], zero_based="auto", n_features=None,
                                       dtype=np.float64)
    assert zero_based is False
    X_ours = pairs[0][0]
    X_theirs, _ = load_svmlight_file(str(one))
    assert X_ours.shape == X_theirs.shape == (2, 3)
    assert (X_ours != X_theirs).nnz == 0
    pairs, zero_based = cli.load_files([str(zero)], zero_based="auto", n_features=5,
                                       dtype=np.float64)
    assert zero_based is True
    assert pairs[0][0].shape == (2, 5)
    assert sp.isspmatrix_csr(pairs[0][0])


def test_main_in_process_json(small_file, capsys):
    status = cli.main(["train", "--data", small_file, "--json", "-q"])
    captured = capsys.readouterr()
    assert status == 0
    report = json.loads(captured.out)
    assert report["model"]["class"] == "LogisticRegression"
    assert captured.err == ""


def test_json_never_holds_infinity(tmp_path):
    path = tmp_path / "huge.svm"
    path.write_text("1e160 1:1\n2e160 2:1\n3e160 1:1 2:1\n")
    result = run_fastopt("train", "--data", str(path), "--model", "linear", "-q", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout, parse_constant=lambda name: pytest.fail(name))
    assert report["metrics"]["rmse"] is None
    assert "rmse" in report["undefined"]


def test_reads_a_named_pipe(tmp_path, small_file):
    import os
    import threading

    fifo = tmp_path / "pipe.svm"
    os.mkfifo(fifo)
    text = open(small_file).read()

    def feed():
        with open(fifo, "w") as f:
            f.write(text)

    writer = threading.Thread(target=feed)
    writer.start()
    result = run_fastopt("train", "--data", str(fifo), "-q", "--json")
    writer.join()
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["train"]["shape"] == [60, 3]


def test_many_labels_note(tmp_path):
    path = tmp_path / "counts.svm"
    path.write_text("".join(f"{i % 25} 1:{i}\n" for i in range(100)))
    result = run_fastopt("train", "--data", str(path), "--max-iter", "5", "--json")
    assert "25 distinct labels" in result.stderr
    assert "--model linear" in result.stderr
