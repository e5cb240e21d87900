"""Train a small network on scikit-learn's digits with and without regularization.

The baseline is a two-layer perceptron trained for a fixed number of epochs. The regularized
run adds fastopt's dropout (``fastopt.torch.Dropout``) after the hidden layer. It augments the
training images with ``fastopt.nn.ImageAugmentation`` (small rotations, zoom and 1-pixel shifts
of the 8 x 8 images, new parameters each epoch). It stops early when the validation loss has not
improved for ``--patience`` epochs and restores the best weights. Both runs print their
validation accuracy.

Usage::

    python examples/digits_regularization.py
    python examples/digits_regularization.py --epochs 5 --hidden 32    # a quick run
"""

from __future__ import annotations

import argparse
import copy

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import fastopt.torch as fastopt_torch
from fastopt.nn import ImageAugmentation


def load(seed: int):
    digits = load_digits()
    # Pixels are counts 0..16; as float32 images in [0, 1] with one channel.
    images = (digits.images / 16.0).astype(np.float32)[..., None]
    return train_test_split(images, digits.target, test_size=0.3, random_state=seed, stratify=digits.target)


def make_model(hidden: int, dropout: float, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    layers = [torch.nn.Flatten(), torch.nn.Linear(64, hidden), torch.nn.ReLU()]
    if dropout > 0:
        layers.append(fastopt_torch.Dropout(dropout, seed=seed))
    layers.append(torch.nn.Linear(hidden, 10))
    return torch.nn.Sequential(*layers)


def evaluate(model, images, labels) -> tuple[float, float]:
    """Return (mean cross-entropy, accuracy) on a split, in eval mode."""
    model.eval()
    with torch.no_grad():
        logits = model(torch.from_numpy(images))
        target = torch.from_numpy(labels)
        loss = torch.nn.functional.cross_entropy(logits, target).item()
        accuracy = (logits.argmax(dim=1) == target).float().mean().item()
    return loss, accuracy


def train(data, *, hidden: int, epochs: int, dropout: float, augment: bool, patience: int | None,
          seed: int, batch_size: int = 64) -> tuple[float, int]:
    """Train one model; return its validation accuracy and the epochs run."""
    x_train, x_val, y_train, y_val = data
    model = make_model(hidden, dropout, seed)
    optimizer = fastopt_torch.Adam(model.parameters(), lr=3e-3)
    augmentation = ImageAugmentation(crop_size=8, padding=1, degrees=12, scale=(0.9, 1.1)) if augment else None
    rng = np.random.default_rng(seed)
    best_loss, best_state, since_best, epochs_run = np.inf, None, 0, 0
    for epoch in range(epochs):
        epochs_run = epoch + 1
        images = augmentation(x_train, seed=seed * 100_003 + epoch) if augmentation else x_train
        order = rng.permutation(len(images))
        model.train()
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            logits = model(torch.from_numpy(images[batch]))
            loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(y_train[batch]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        if patience is None:
            continue
        # Early stopping on the validation loss, keeping the best weights seen.
        val_loss, _ = evaluate(model, x_val, y_val)
        if val_loss < best_loss:
            best_loss, best_state, since_best = val_loss, copy.deepcopy(model.state_dict()), 0
        else:
            since_best += 1
            if since_best >= patience:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    return evaluate(model, x_val, y_val)[1], epochs_run


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=150, help="maximum training epochs")
    parser.add_argument("--hidden", type=int, default=256, help="hidden units")
    parser.add_argument("--dropout", type=float, default=0.3, help="drop probability of the regularized run")
    parser.add_argument("--patience", type=int, default=15, help="epochs without improvement before stopping")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split, weights, masks and augmentation")
    args = parser.parse_args(argv)

    data = load(args.seed)
    plain, plain_epochs = train(data, hidden=args.hidden, epochs=args.epochs, dropout=0.0, augment=False,
                                patience=None, seed=args.seed)
    regularized, reg_epochs = train(data, hidden=args.hidden, epochs=args.epochs, dropout=args.dropout,
                                    augment=True, patience=args.patience, seed=args.seed)
    print(f"validation accuracy without regularization: {plain:.4f} ({plain_epochs} epochs)")
    print(f"validation accuracy with dropout {args.dropout}, augmentation and early stopping: "
          f"{regularized:.4f} ({reg_epochs} epochs)")
    return {"plain": plain, "regularized": regularized, "plain_epochs": plain_epochs,
            "regularized_epochs": reg_epochs}


if __name__ == "__main__":
    main()
