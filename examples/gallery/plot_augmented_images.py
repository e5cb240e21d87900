"""
Augmented images
================

:class:`fastopt.nn.ImageAugmentation` draws per-image parameters from a seed and applies
flips, a padded crop, rotation and scaling, and color jitter in one pass over each image.
The two photos that scikit-learn ships are each augmented four times. Every tile below
comes from one call on the whole batch, and the same seed gives the same tiles.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_sample_images

from fastopt.nn import ImageAugmentation

photos = np.stack(load_sample_images().images)  # (2, 427, 640, 3) uint8
batch = np.repeat(photos, 4, axis=0)  # four copies of each photo

augment = ImageAugmentation(hflip=0.5, crop_size=(384, 576), padding=24, degrees=20.0,
                            scale=(0.9, 1.2), brightness=0.3, contrast=0.3, saturation=0.4)
params = augment.sample(batch.shape, seed=7)
augmented = augment(batch, seed=7)
assert np.array_equal(augmented, augment(batch, seed=7))  # reproducible from the seed

print(f"batch {batch.shape} -> {augmented.shape}, {augmented.dtype}")
print("angles (degrees):", np.round(params[:, 4], 1))

fig, axes = plt.subplots(2, 5, figsize=(13, 4.4))
for row in range(2):
    axes[row, 0].imshow(photos[row])
    axes[row, 0].set_title("original")
    for col in range(4):
        axes[row, col + 1].imshow(augmented[4 * row + col])
        axes[row, col + 1].set_title(f"seed 7, image {4 * row + col}")
for ax in axes.ravel():
    ax.axis("off")
fig.tight_layout()
plt.show()
