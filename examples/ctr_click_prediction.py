"""Click-through-rate prediction on raw Criteo-format rows with feature hashing.

Reads a CSV file with the columns ``label, I1..I13, C1..C26``, the layout of the Criteo
Display Advertising Challenge with a header line, where empty fields are missing values.
Every field is hashed into ``2**bits`` signed buckets. Two sparse logistic models train
in one pass: FTRL-Proximal and SGD with lazy L1 regularization. The file is
read in chunks, so it may be larger than memory.

Evaluation is progressive validation, as in McMahan et al. (KDD 2013): each chunk is
scored by the model trained on the chunks before it, then used for training. The
script prints log-loss, ROC-AUC and the number of nonzero weights of each model.

Usage::

    python examples/ctr_click_prediction.py [FILE] [--bits 20] [--chunk-rows 50]

FILE defaults to ``$FASTOPT_DATA_DIR/ctr/criteo_sample.txt`` (200 rows). For a large
file, raise ``--chunk-rows`` to 10000 or more.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from fastopt.metrics import log_loss, roc_auc_score
from fastopt.online import FTRLClassifier, SGDClassifier, read_ctr_csv

NUMERIC_COLUMNS = [f"I{i}" for i in range(1, 14)]


def parse_arguments(argv):
    default_file = os.path.join(os.environ.get("FASTOPT_DATA_DIR", "."), "ctr", "criteo_sample.txt")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", nargs="?", default=default_file,
                        help="Criteo-format CSV file with a header line (default: %(default)s)")
    parser.add_argument("--bits", type=int, default=20, help="hash into 2**BITS columns (default: 20)")
    parser.add_argument("--chunk-rows", type=int, default=50,
                        help="rows per chunk, the unit of progressive validation (default: 50)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the hash (default: 0)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_arguments(argv)
    if not os.path.isfile(args.file):
        sys.exit(f"error: {args.file} not found; pass a Criteo-format CSV file or set FASTOPT_DATA_DIR")
    models = {
        "FTRLClassifier": FTRLClassifier(alpha=0.1, beta=1.0, l1=1.0, l2=1.0, shuffle=False),
        "SGDClassifier (lazy L1)": SGDClassifier(loss="log_loss", penalty="l1", alpha=1e-4,
                                                 learning_rate="constant", eta0=0.05, shuffle=False),
    }
    predictions = {name: [] for name in models}
    labels = []
    rows = 0
    nonzeros = 0
    start = time.perf_counter()
    chunks = read_ctr_csv(args.file, "label", n_bits=args.bits, seed=args.seed,
                          numeric_columns=NUMERIC_COLUMNS, numeric="token", chunk_rows=args.chunk_rows)
    for X, y in chunks:
        if rows > 0:
            labels.append(y)
            for name, model in models.items():
                predictions[name].append(model.predict_proba(X)[:, 1])
        for model in models.values():
            model.partial_fit(X, y, classes=[0.0, 1.0])
        rows += X.shape[0]
        nonzeros += X.nnz
    elapsed = time.perf_counter() - start

    if not labels:
        sys.exit(f"error: {args.file} has at most one chunk of {args.chunk_rows} rows; lower --chunk-rows")
    y_true = np.concatenate(labels).astype(int)
    print(f"{args.file}: {rows} rows, {nonzeros} hashed nonzeros, 2**{args.bits} columns, "
          f"{elapsed:.2f} s for hashing and training")
    print(f"progressive validation on {y_true.size} rows (click rate {y_true.mean():.3f})")
    print(f"{'model':<26} {'log-loss':>9} {'ROC-AUC':>8} {'nonzero weights':>16}")
    for name, model in models.items():
        probabilities = np.concatenate(predictions[name])
        loss = log_loss(y_true, probabilities)
        auc = roc_auc_score(y_true, probabilities)
        weights = np.count_nonzero(model.coef_)
        print(f"{name:<26} {loss:>9.4f} {auc:>8.4f} {weights:>16d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
