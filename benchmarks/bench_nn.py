"""Benchmark dropout against the memory roofline and torch, and image augmentation against Pillow/torchvision.

Dropout (forward then backward, float32, in place unless noted), interleaved per repeat:

- ``fastopt``: ``fastopt.nn.dropout(x, out=x, mask_out=mask)`` then
  ``fastopt.nn.dropout_backward(g, out=g, mask=mask)``: the forward pass generates the mask and
  stores it packed, one bit per element, and the backward pass reads it back. Each pass reads and
  writes one array, and the mask adds n / 8 bytes written and n / 8 bytes read;
- ``fastopt_regenerate``: the same without the packed mask, so the backward pass regenerates the
  mask from ``(seed, offset)``: each pass reads and writes one array and nothing else;
- ``roofline``: two calls of ``fastopt._core.roofline([], [[x]])``, which read and write the same
  array with no arithmetic, measured in the same run;
- ``fastopt_torch``: ``fastopt.torch.dropout`` forward and ``backward`` through autograd;
- ``torch``: ``torch.nn.functional.dropout`` forward and ``backward`` through autograd.

The fraction of the roofline compares rates: the bytes a row moves per second over the
roofline's. For ``fastopt`` these bytes include the packed mask's n / 4. The torch rows are
rated by the same nominal 16 n bytes, although they allocate and move more.

Augmentation runs on a batch of 256 images of 224 x 224 x 3 uint8 (crops of the sample photos).
The pipeline is a random horizontal flip, a crop of 200 x 200 after 8 pixels of padding, a
rotation of up to 15 degrees with a scale in [0.9, 1.1], color jitter 0.3/0.3/0.3 and
normalization to float32. It runs with fastopt, with Pillow (per image: expand, crop, transpose,
an affine transform, three ImageEnhance steps, NumPy normalization) and with torchvision's
functional ops on tensors when torchvision imports.

Each result is the median over the repeats; the script prints ratios and writes JSON.

Usage::

    python benchmarks/bench_nn.py                    # 2**24 elements, 256 images
    python benchmarks/bench_nn.py --size 1e6 --repeats 3 --images 32
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

import fastopt
from fastopt import _core
from fastopt.nn import ImageAugmentation, dropout, dropout_backward, packed_mask_size

P = 0.1
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


def time_interleaved(steps: dict, *, warmup: int, repeats: int) -> dict[str, float]:
    """Return the median seconds of each callable, running them in turn in every repeat."""
    for _ in range(warmup):
        for fn in steps.values():
            fn()
    samples = {name: [] for name in steps}
    for _ in range(repeats):
        for name, fn in steps.items():
            start = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - start)
    return {name: float(np.median(s)) for name, s in samples.items()}


def dropout_steps(n: int) -> dict:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(n).astype(np.float32)
    g = rng.standard_normal(n).astype(np.float32)
    roof = x.copy()
    counter = {"offset": 0}

    mask = np.empty(packed_mask_size(n), dtype=np.uint8)

    def fastopt_step():
        counter["offset"] += 1
        dropout(x, P, seed=1, offset=counter["offset"], out=x, mask_out=mask)
        dropout_backward(g, P, mask=mask, out=g)

    def fastopt_regenerate_step():
        counter["offset"] += 1
        dropout(x, P, seed=1, offset=counter["offset"], out=x)
        dropout_backward(g, P, seed=1, offset=counter["offset"], out=g)

    def roofline_step():
        _core.roofline([], [[roof]])
        _core.roofline([], [[roof]])

    steps = {"fastopt": fastopt_step, "fastopt_regenerate": fastopt_regenerate_step,
             "roofline": roofline_step}
    try:
        import torch

        import fastopt.torch as fastopt_torch
    except ImportError:
        return steps
    tx = torch.from_numpy(rng.standard_normal(n).astype(np.float32)).requires_grad_()
    tg = torch.from_numpy(g.copy())

    def fastopt_torch_step():
        counter["offset"] += 1
        tx.grad = None
        fastopt_torch.dropout(tx, P, seed=1, offset=counter["offset"]).backward(tg)

    def torch_step():
        tx.grad = None
        torch.nn.functional.dropout(tx, P, training=True).backward(tg)

    steps["fastopt_torch"] = fastopt_torch_step
    steps["torch"] = torch_step
    return steps


def check_dropout() -> None:
    """Check the timed configuration against NumPy before timing it."""
    x = np.random.default_rng(1).standard_normal(100_000).astype(np.float32)
    y = dropout(x, P, seed=3)
    kept = y != 0
    np.testing.assert_allclose(y[kept], x[kept] / np.float32(1 - P), rtol=1e-6)
    assert abs(kept.mean() - (1 - P)) < 0.01
    mask = np.empty(packed_mask_size(x.size), dtype=np.uint8)
    dropout(x, P, seed=3, mask_out=mask)
    g = np.random.default_rng(2).standard_normal(x.size).astype(np.float32)
    np.testing.assert_array_equal(dropout_backward(g, P, mask=mask),
                                  dropout_backward(g, P, seed=3))


def load_batch(count: int) -> np.ndarray:
    """Return ``count`` 224 x 224 crops of the sample photos (uint8, NHWC)."""
    from sklearn.datasets import load_sample_images

    photos = load_sample_images().images
    rng = np.random.default_rng(0)
    batch = np.empty((count, 224, 224, 3), np.uint8)
    for i in range(count):
        photo = photos[i % len(photos)]
        top = rng.integers(0, photo.shape[0] - 224)
        left = rng.integers(0, photo.shape[1] - 224)
        batch[i] = photo[top:top + 224, left:left + 224]
    return batch


def affine_inverse(angle: float, scale: float, size: int = 200) -> tuple:
    """Return Pillow's AFFINE data (output to input) of a rotation and zoom about the centre."""
    theta = np.deg2rad(angle)
    cos, sin = np.cos(theta) / scale, np.sin(theta) / scale
    c = size / 2  # Pillow's coordinates put the centre of a 200-pixel image at 100
    return (cos, -sin, c - cos * c + sin * c, sin, cos, c - sin * c - cos * c)


def augmentation_steps(batch: np.ndarray) -> dict:
    aug = ImageAugmentation(hflip=0.5, crop_size=200, padding=8, degrees=15, scale=(0.9, 1.1),
                            brightness=0.3, contrast=0.3, saturation=0.3, mean=MEAN, std=STD)
    params = aug.sample(batch.shape, seed=0)
    steps = {"fastopt": lambda: aug(batch, seed=0)}
    try:
        from PIL import Image, ImageEnhance, ImageOps
    except ImportError:
        Image = None
    if Image is not None:
        mean, std = np.array(MEAN, np.float32), np.array(STD, np.float32)

        def pillow_pipeline():
            out = np.empty((len(batch), 200, 200, 3), np.float32)
            for i, row in enumerate(params):
                hflip, _, top, left, angle, scale, b, c, s = row
                img = ImageOps.expand(Image.fromarray(batch[i]), border=8, fill=0)
                img = img.crop((int(left), int(top), int(left) + 200, int(top) + 200))
                if hflip:
                    img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
                img = img.transform((200, 200), Image.Transform.AFFINE, affine_inverse(angle, scale),
                                    resample=Image.Resampling.BILINEAR, fillcolor=0)
                img = ImageEnhance.Brightness(img).enhance(b)
                img = ImageEnhance.Contrast(img).enhance(c)
                img = ImageEnhance.Color(img).enhance(s)
                out[i] = (np.asarray(img, np.float32) / 255 - mean) / std
            return out

        steps["pillow"] = pillow_pipeline
    try:
        import torch
        import torchvision.transforms.v2.functional as tvf
    except Exception:  # torchvision missing or built for another torch
        return steps
    tensors = torch.from_numpy(batch).permute(0, 3, 1, 2).contiguous()

    def torchvision_pipeline():
        out = []
        for i, row in enumerate(params):
            hflip, _, top, left, angle, scale, b, c, s = (float(v) for v in row)
            img = tvf.pad(tensors[i], [8])
            img = tvf.crop(img, int(top), int(left), 200, 200)
            if hflip:
                img = tvf.horizontal_flip(img)
            img = tvf.affine(img, angle=angle, translate=[0, 0], scale=scale, shear=[0.0],
                             interpolation=tvf.InterpolationMode.BILINEAR)
            img = tvf.adjust_brightness(img, b)
            img = tvf.adjust_contrast(img, c)
            img = tvf.adjust_saturation(img, s)
            out.append(tvf.normalize(img.float() / 255, MEAN, STD))
        return torch.stack(out)

    steps["torchvision"] = torchvision_pipeline
    return steps


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=float, default=2**24, help="dropout elements (float32)")
    parser.add_argument("--images", type=int, default=256, help="images in the augmentation batch")
    parser.add_argument("--repeats", type=int, default=7, help="timed repeats; medians are reported")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs before the repeats")
    parser.add_argument("--output", type=Path, default=None, help="JSON output file")
    args = parser.parse_args(argv)

    check_dropout()
    n = int(args.size)
    dropout_medians = time_interleaved(dropout_steps(n), warmup=args.warmup, repeats=args.repeats)
    # Forward and backward each read and write n float32 values; the packed
    # mask of the fastopt row adds its bytes once written and once read.
    moved = {name: 2 * 2 * 4 * n for name in dropout_medians}
    moved["fastopt"] += 2 * packed_mask_size(n)
    gb_per_s = {k: moved[k] / v / 1e9 for k, v in dropout_medians.items()}
    dropout_result = {
        "elements": n,
        "median_s": dropout_medians,
        "bytes_moved": moved,
        "gb_per_s": gb_per_s,
        "fastopt_of_roofline": gb_per_s["fastopt"] / gb_per_s["roofline"],
        "fastopt_regenerate_of_roofline": gb_per_s["fastopt_regenerate"] / gb_per_s["roofline"],
    }
    if "torch" in dropout_medians:
        dropout_result["torch_over_fastopt"] = dropout_medians["torch"] / dropout_medians["fastopt"]
        dropout_result["torch_over_fastopt_torch"] = dropout_medians["torch"] / dropout_medians["fastopt_torch"]

    batch = load_batch(args.images)
    aug_medians = time_interleaved(augmentation_steps(batch), warmup=args.warmup,
                                   repeats=max(1, args.repeats // 2))
    aug_result = {"images": args.images, "median_s": aug_medians,
                  "images_per_s": {k: args.images / v for k, v in aug_medians.items()}}
    others = [v for k, v in aug_medians.items() if k != "fastopt"]
    if others:
        aug_result["fastest_other_over_fastopt"] = min(others) / aug_medians["fastopt"]

    result = {
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "load": os.getloadavg(),
                    "threads": fastopt.get_num_threads(), "isa": fastopt.active_isa()},
        "dropout": dropout_result,
        "augmentation": aug_result,
    }
    print(f"dropout fwd+bwd, {n} float32, p = {P}, {result['machine']['threads']} threads, "
          f"{result['machine']['isa']} kernels, load {os.getloadavg()[0]:.1f}: "
          f"fastopt {dropout_result['gb_per_s']['fastopt']:.1f} GB/s, roofline "
          f"{dropout_result['gb_per_s']['roofline']:.1f} GB/s, "
          f"{dropout_result['fastopt_of_roofline']:.0%} of the roofline "
          f"({dropout_result['fastopt_regenerate_of_roofline']:.0%} when the backward pass "
          f"regenerates the mask)")
    for key in ("torch_over_fastopt", "torch_over_fastopt_torch"):
        if key in dropout_result:
            print(f"  {key}: {dropout_result[key]:.2f}")
    for name, rate in aug_result["images_per_s"].items():
        print(f"augmentation {name}: {rate:.0f} images/s")
    if "fastest_other_over_fastopt" in aug_result:
        print(f"  fastest other / fastopt time: {aug_result['fastest_other_over_fastopt']:.2f}")
    if args.output:
        args.output.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
