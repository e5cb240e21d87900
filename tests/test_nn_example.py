"""The digits regularization example runs end to end on a small budget."""

import importlib.util
import pathlib

import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")

EXAMPLE = pathlib.Path(__file__).resolve().parents[1] / "examples" / "digits_regularization.py"


def test_digits_example_small_budget(capsys):
    spec = importlib.util.spec_from_file_location("digits_regularization", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.main(["--epochs", "4", "--hidden", "32", "--patience", "2"])
    printed = capsys.readouterr().out
    assert "validation accuracy without regularization" in printed
    assert "validation accuracy with dropout" in printed
    # Four epochs of a small perceptron already separate the ten digits far above chance.
    assert result["plain"] > 0.5
    assert result["regularized"] > 0.5
    assert 1 <= result["regularized_epochs"] <= 4
