"""Build the seed corpora of the fuzz targets in OUTDIR/<target>.

Seeds are the checked-in malformed inputs in fuzz/seeds, the first lines of
every LIBSVM file in FASTOPT_DATA_DIR (plain and compressed), and model files
saved from estimators fitted on a few rows of heart_scale. Usage:

    python fuzz/make_corpus.py OUTDIR
"""

from __future__ import annotations

import bz2
import gzip
import os
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
MAX_SEED_BYTES = 4096
TARGETS = ("svmlight", "stream", "model_file", "bindings", "svmlight_parser")


def first_lines(path: Path) -> bytes:
    """Return the first lines of a plain or bzip2 LIBSVM file, at most MAX_SEED_BYTES."""
    opener = bz2.open if path.suffix == ".bz2" else open
    with opener(path, "rb") as f:
        head = f.read(MAX_SEED_BYTES)
    return head[: head.rfind(b"\n") + 1] or head


def data_seeds(data_dir: Path):
    for path in sorted(data_dir.rglob("*")):
        if not path.is_file() or path.suffix in (".md", ".png", ".jpg", ".jpeg", ".json", ".csv", ".txt"):
            continue
        text = first_lines(path)
        if b":" not in text:
            continue  # not a LIBSVM file
        yield path.name, text
        if path.name == "heart_scale":
            yield path.name + ".gz", gzip.compress(text[:1024])
            yield path.name + ".bz2", bz2.compress(text[:1024])


def model_seeds(data_dir: Path):
    """Yield (name, bytes) of model files of several estimator classes."""
    import numpy as np

    from fastopt import linear_model, online
    from fastopt.datasets import load_svmlight
    from fastopt.model_file import save_model

    heart = data_dir / "heart_scale"
    if heart.exists():
        X, y = load_svmlight(heart, n_features=13)
        X, y = X[:40].toarray(), y[:40]
    else:
        rng = np.random.default_rng(0)
        X, y = rng.standard_normal((40, 13)), np.where(rng.standard_normal(40) > 0, 1.0, -1.0)
    estimators = [
        linear_model.LogisticRegression(),
        linear_model.Ridge(),
        linear_model.Lasso(alpha=0.01),
        online.SGDClassifier(),
        online.FTRLClassifier(),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.npz"
        for estimator in estimators:
            estimator.fit(X, y)
            save_model(estimator, path)
            yield type(estimator).__name__ + ".npz", path.read_bytes()


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(argv[1])
    for target in TARGETS:
        (out / target).mkdir(parents=True, exist_ok=True)
    for target, seeds in (("svmlight", "svmlight"), ("stream", "svmlight"),
                          ("model_file", "model_file"), ("bindings", "bindings"),
                          ("svmlight_parser", "svmlight")):
        for seed in sorted((HERE / "seeds" / seeds).iterdir()):
            shutil.copy(seed, out / target / seed.name)
    data_dir = os.environ.get("FASTOPT_DATA_DIR")
    if data_dir and Path(data_dir).is_dir():
        for name, text in data_seeds(Path(data_dir)):
            for target in ("svmlight", "stream"):
                # A leading byte of options, then the file: the targets read their
                # options from the front of the input.
                (out / target / f"data-{name}").write_bytes(b"\x00" + text)
            # The native target reads its options from the end of the input, so the
            # text is a seed as it is.
            (out / "svmlight_parser" / f"data-{name}").write_bytes(text)
    for name, content in model_seeds(Path(data_dir or ".")):
        (out / "model_file" / f"model-{name}").write_bytes(b"\x00" + content)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
