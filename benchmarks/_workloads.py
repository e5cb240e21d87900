"""Parameter shapes the optimizer benchmarks step over."""

from __future__ import annotations

import math


def transformer_shapes(
    vocab: int = 16384, d_model: int = 384, layers: int = 12, context: int = 1024, mlp_ratio: int = 4
) -> list[tuple[int, ...]]:
    """Return the parameter shapes of a GPT-style decoder, in module order.

    Token and position embeddings, then per layer: layer norm (weight, bias),
    fused q/k/v projection (weight, bias), attention output projection,
    second layer norm, and the two MLP projections; then a final layer norm.
    The output projection is tied to the token embedding, as in GPT-2. The
    defaults give 148 tensors and about 28M elements, from 384 to 6.3M
    elements each: the mix of a few large matrices and many small vectors
    that a multi-tensor step has to balance.
    """
    d, hidden = d_model, mlp_ratio * d_model
    shapes: list[tuple[int, ...]] = [(vocab, d), (context, d)]
    for _ in range(layers):
        shapes += [(d,), (d,)]                    # ln_1 weight, bias
        shapes += [(3 * d, d), (3 * d,)]          # q/k/v projection
        shapes += [(d, d), (d,)]                  # attention output projection
        shapes += [(d,), (d,)]                    # ln_2 weight, bias
        shapes += [(hidden, d), (hidden,)]        # MLP up projection
        shapes += [(d, hidden), (d,)]             # MLP down projection
    shapes += [(d,), (d,)]                        # final layer norm
    return shapes


def quick_transformer_shapes() -> list[tuple[int, ...]]:
    """Return a scaled-down :func:`transformer_shapes` (52 tensors, about 1.1M elements) for smoke runs."""
    return transformer_shapes(vocab=2048, d_model=128, layers=4, context=256)


def num_elements(shapes: list[tuple[int, ...]]) -> int:
    """Return the total element count of tensors with these shapes."""
    return sum(math.prod(shape) for shape in shapes)
