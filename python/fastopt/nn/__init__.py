"""Regularizers that act on activations and data: dropout, image augmentation, feature noise, mixup.

Every random choice comes from a seed: dropout masks and feature noise from the Philox4x32-10
counter-based generator (the same words on the CPU and the GPU, for any thread count), image
and mixup parameters from NumPy's Philox generator. The PyTorch autograd function and module
are in :mod:`fastopt.torch`.
"""

from fastopt.nn._augment import PARAM_NAMES, ImageAugmentation, augment_images
from fastopt.nn._dropout import dropout, dropout_backward, packed_mask_size
from fastopt.nn._tabular import gaussian_noise, mixup

__all__ = [
    "PARAM_NAMES",
    "ImageAugmentation",
    "augment_images",
    "dropout",
    "dropout_backward",
    "gaussian_noise",
    "mixup",
    "packed_mask_size",
]
