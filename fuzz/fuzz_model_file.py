"""Fuzz target: the model-file loader fastopt.model_file.load_model.

Two kinds of input: raw bytes taken as the whole file, and a valid archive
whose JSON state, class name or arrays are replaced by fuzzed content (which
reaches the checks after the zip layer). Either way the loader returns a
fitted estimator or raises ValueError, its documented error for a file that
is not a valid model.
"""

import io
import json
import sys

import atheris

with atheris.instrument_imports(include=["fastopt"]):
    import numpy as np

    from fastopt.model_file import load_model

from common import run, scratch_path, write_scratch

PATH = scratch_path(".npz")
MEMBERS = ("__format__", "__class__", "__state__", "__metadata__")


def _seed_archive():
    """Return the members of a small model file: a LogisticRegression fitted on 8 rows."""
    from fastopt.linear_model import LogisticRegression
    from fastopt.model_file import save_model

    X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]] * 2)
    y = np.array([0, 1, 1, 0] * 2)
    save_model(LogisticRegression().fit(X, y), PATH)
    with np.load(PATH, allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


SEED = _seed_archive()


def structured(fdp):
    """Write SEED with one member replaced by fuzzed content."""
    members = dict(SEED)
    key = sorted(members)[fdp.ConsumeIntInRange(0, len(members) - 1)]
    if key == "__state__" and fdp.ConsumeBool():
        # Replace one value of the JSON state, keeping the rest valid.
        state = json.loads(str(members[key]))
        name = sorted(state)[fdp.ConsumeIntInRange(0, len(state) - 1)]
        state[name] = json.loads(fdp.ConsumeUnicodeNoSurrogates(64) or "null") \
            if fdp.ConsumeBool() else fdp.ConsumeUnicodeNoSurrogates(16)
        members[key] = np.array(json.dumps(state))
    elif key in MEMBERS:
        members[key] = np.array(fdp.ConsumeUnicodeNoSurrogates(256))
    else:
        shape = tuple(fdp.ConsumeIntInRange(0, 4) for _ in range(fdp.ConsumeIntInRange(0, 3)))
        dtype = (np.float64, np.float32, np.int64, np.bool_, np.str_)[fdp.ConsumeIntInRange(0, 4)]
        members[key] = np.ones(shape, dtype=dtype)
    buffer = io.BytesIO()
    np.savez(buffer, **members)
    return buffer.getvalue()


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    if fdp.ConsumeBool():
        try:
            content = structured(fdp)
        except (ValueError, json.JSONDecodeError, RecursionError):
            return  # the fuzzed JSON itself did not parse: nothing to load
    else:
        content = fdp.ConsumeBytes(sys.maxsize)
    write_scratch(PATH, content)
    try:
        estimator = load_model(PATH)
    except ValueError:
        return
    # A model that loads must predict on data of its width.
    width = estimator.n_features_in_
    estimator.predict(np.zeros((2, width)))


if __name__ == "__main__":
    run(test_one_input)
