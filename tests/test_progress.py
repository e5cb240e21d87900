"""Progress lines of verbose fits."""

import io

import numpy as np
import pytest

from fastopt._progress import Progress
from fastopt.linear_model import Lasso, LogisticRegression


def test_verbose_fit_reports_on_stderr(capsys):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((500, 20))
    y = (X[:, 0] > 0).astype(int)
    model = LogisticRegression(alpha=1e-3, solver="lbfgs", verbose=1).fit(X, y)
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith("LogisticRegression (lbfgs): iteration 1/1000  objective ")
    assert err[-1].startswith(f"LogisticRegression (lbfgs): iteration {model.n_iter_}/1000")
    assert err[-1].endswith("converged")
    # The final objective is the penalized objective at the solution.
    coef = model.coef_.ravel()
    margin = X @ coef + model.intercept_[0]
    expected = np.mean(np.logaddexp(0, -(2 * y - 1) * margin)) + 0.5e-3 * coef @ coef
    assert float(err[-1].split("objective ")[1].split()[0]) == pytest.approx(expected, rel=1e-5)


def test_quiet_by_default(capsys):
    X = np.random.default_rng(1).standard_normal((200, 5))
    Lasso(alpha=1e-2).fit(X, X[:, 0])
    assert capsys.readouterr().err == ""


def test_verbose_is_checked():
    X = np.ones((4, 2))
    with pytest.raises(ValueError, match="verbose: expected an integer >= 0, got -1"):
        Lasso(verbose=-1).fit(X, [0, 1, 0, 1])


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_lines_are_throttled_and_redrawn_on_a_terminal():
    log = io.StringIO()
    progress = Progress("fit", total=10, stream=log, interval=3600)
    for i in range(1, 11):
        progress.update(i, 1.0 / i)
    progress.close(10, 0.1, note="converged")
    assert log.getvalue().splitlines()[0].startswith("fit: iteration 1/10  objective 1")
    assert len(log.getvalue().splitlines()) == 2
    terminal = _Terminal()
    progress = Progress("fit", unit="epoch", stream=terminal, interval=0)
    progress.update(1, 0.5)
    progress.close(2, 0.25)
    text = terminal.getvalue()
    assert text.startswith("\rfit: epoch 1  objective 0.5")
    assert text.endswith("\n")
    assert text.count("\n") == 1


def test_online_fit_reports_epochs(capsys):
    import scipy.sparse as sp

    from fastopt.online import FTRLClassifier, SGDClassifier

    X = sp.random(400, 30, density=0.2, format="csr", random_state=0)
    y = (X @ np.arange(30.0) > 20).astype(int)
    model = SGDClassifier(loss="log_loss", max_iter=4, tol=None, random_state=0, verbose=1).fit(X, y)
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith("SGDClassifier: epoch 1/4  mean loss ")
    assert err[-1].startswith("SGDClassifier: epoch 4/4  mean loss ")
    assert float(err[-1].split("mean loss ")[1].split()[0]) == pytest.approx(model.loss_curve_[-1],
                                                                           rel=1e-5)
    FTRLClassifier(epochs=2, random_state=0).fit(X, y)
    assert capsys.readouterr().err == ""
    with pytest.raises(ValueError, match="verbose: expected an integer >= 0, got 'yes'"):
        FTRLClassifier(verbose="yes").fit(X, y)
