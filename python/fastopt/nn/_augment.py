"""Image augmentation of a batch in one fused pass per image.

A batch is an array (N, H, W, C) of uint8 or float32. Each image gets its own parameters, drawn
from a seed by :meth:`ImageAugmentation.sample` (NumPy's Philox generator keyed by the seed), so
a batch is reproducible and its result does not depend on the thread count. The kernel then, per
output pixel:

1. crops: the crop window of the image padded by ``padding`` pixels of ``fill``;
2. flips the window left-right and/or top-bottom;
3. rotates by ``angle`` degrees counter-clockwise (as displayed) and magnifies by ``scale``
   about the window's centre, ((w - 1) / 2, (h - 1) / 2) in pixel indices. It samples
   bilinearly, with ``fill`` wherever a tap falls outside the window or the image;
4. multiplies by the brightness factor b, then blends with the grayscale mean m of the image,
   ``c v + (1 - c) m`` (contrast), then with each pixel's grayscale g, ``s v + (1 - s) g``
   (saturation). Each step clamps to [0, max], where max is 255 for uint8 and 1.0 for float32.
   The grayscale is 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601);
5. normalizes ``(v / max - mean_c) / std_c`` into float32, or else rounds uint8 to nearest.

Steps 1-3 are one affine map of output to input coordinates, so the image is read once; steps
4-5 run on a tile private to the thread, so the output is written once. Skipped steps cost
nothing: without rotation or scaling the geometry is an exact pixel copy.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np

from fastopt import _core

#: Column names of a parameter array, in order.
PARAM_NAMES = ("hflip", "vflip", "top", "left", "angle", "scale", "brightness", "contrast", "saturation")
_COL = {name: k for k, name in enumerate(PARAM_NAMES)}


def _check_batch(images) -> None:
    if not isinstance(images, np.ndarray):
        raise ValueError(f"images: expected a numpy.ndarray, got {type(images).__name__}")
    if images.ndim != 4:
        raise ValueError(f"images: expected a 4-D batch (N, H, W, C), got shape {images.shape}")
    if images.dtype not in (np.uint8, np.float32):
        raise ValueError(f"images: unsupported dtype {images.dtype}; expected uint8 or float32")


def _probability(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{name}: expected a probability in [0, 1], got {value!r}")
    return float(value)


# Bound on the jitter. In the float32 kernel a factor near 3.4e38 overflowed to inf,
# which turned black pixels into NaN.
MAX_COLOR_FACTOR = 1e6


def _jitter(name: str, value) -> float:
    if (isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value)
            or not 0 <= value < MAX_COLOR_FACTOR):
        raise ValueError(f"{name}: expected a number in [0, {MAX_COLOR_FACTOR:g}) (factors drawn "
                         f"from [max(0, 1 - {name}), 1 + {name}]), got {value!r}")
    return float(value)


def _channel_vector(name: str, value, channels: int) -> np.ndarray:
    v = np.asarray(value, dtype=np.float64).reshape(-1)
    if v.size == 1:
        v = np.full(channels, float(v[0]))
    if v.size != channels:
        raise ValueError(f"{name}: expected one value or {channels} values (one per channel), got {v.size}")
    return np.ascontiguousarray(v)


def _check_mean_std(mean, std):
    if (mean is None) != (std is None):
        raise ValueError(f"mean and std: expected both or neither, got mean={mean!r} and std={std!r}")
    if std is not None:
        s = np.asarray(std, dtype=np.float64).reshape(-1)
        bad = np.flatnonzero(~(s > 0) | ~np.isfinite(s))
        if bad.size:
            raise ValueError(f"std[{bad[0]}]: expected a finite value > 0, got {float(s[bad[0]])!r}")
        m = np.asarray(mean, dtype=np.float64).reshape(-1)
        bad = np.flatnonzero(~np.isfinite(m))
        if bad.size:
            raise ValueError(f"mean[{bad[0]}]: expected a finite value, got {float(m[bad[0]])!r}")


def augment_images(images: np.ndarray, params: np.ndarray, *, crop_size=None, padding: int = 0,
                   fill: float = 0.0, mean=None, std=None, out=None) -> np.ndarray:
    """Apply the pipeline to ``images`` with explicit per-image ``params``.

    Parameters
    ----------
    images : ndarray (N, H, W, C) of uint8 or float32
        The batch, channels last.
    params : ndarray (N, 9) of float64
        One row per image, columns :data:`PARAM_NAMES`: flips (0 or 1), the crop origin (top,
        left) in the padded image, the angle in degrees, the scale, and the brightness, contrast
        and saturation factors (1 leaves the image unchanged).
    crop_size : (height, width), optional
        Output size; the input size when omitted.
    padding : int, default 0
        Pixels of ``fill`` added on every side before cropping.
    fill : float, default 0
        Value of pixels outside the image, in pixel units.
    mean, std : per-channel floats, optional
        Normalize to ``(v / max - mean) / std`` (float32 output), with max = 255 for uint8 and 1
        for float32 input.
    out : ndarray, optional
        Output (N, crop height, crop width, C): float32 with mean/std, else the input dtype.

    Returns
    -------
    ndarray (N, crop height, crop width, C)
        The augmented batch, ``out`` when given.

    Examples
    --------
    The parameter row of a left-right flip and nothing else:

    >>> import numpy as np
    >>> from fastopt.nn import augment_images
    >>> image = np.arange(9, dtype=np.uint8).reshape(1, 3, 3, 1)
    >>> params = np.array([[1, 0, 0, 0, 0.0, 1, 1, 1, 1]])
    >>> augment_images(image, params)[0, :, :, 0]
    array([[2, 1, 0],
           [5, 4, 3],
           [8, 7, 6]], dtype=uint8)
    """
    _check_batch(images)
    n, h, w, c = images.shape
    if isinstance(padding, bool) or not isinstance(padding, numbers.Integral) or padding < 0:
        raise ValueError(f"padding: expected an integer >= 0, got {padding!r}")
    crop_h, crop_w = _crop_size(crop_size, h, w, padding)
    if isinstance(fill, bool) or not isinstance(fill, numbers.Real) or not math.isfinite(fill):
        raise ValueError(f"fill: expected a finite number, got {fill!r}")
    if images.dtype == np.uint8 and not 0 <= fill <= 255:
        raise ValueError(f"fill: expected a value in [0, 255] for uint8 images, got {fill!r}")
    _check_mean_std(mean, std)
    params = np.asarray(params)
    if params.dtype != np.float64 or params.shape != (n, len(PARAM_NAMES)):
        raise ValueError(f"params: expected a float64 array of shape ({n}, {len(PARAM_NAMES)}), got "
                         f"dtype {params.dtype} and shape {params.shape}")
    params = np.ascontiguousarray(params)
    out_dtype = np.float32 if mean is not None else images.dtype
    expected = (n, crop_h, crop_w, c)
    if out is None:
        out = np.empty(expected, dtype=out_dtype)
    elif not isinstance(out, np.ndarray) or out.shape != expected or out.dtype != out_dtype:
        raise ValueError(f"out: expected an array of shape {expected} and dtype {np.dtype(out_dtype).name}, got "
                         f"{getattr(out, 'shape', type(out).__name__)} {getattr(out, 'dtype', '')}")
    warp = bool(np.any(params[:, _COL["angle"]] != 0.0) or np.any(params[:, _COL["scale"]] != 1.0))
    color = bool(np.any(params[:, _COL["brightness"]:] != 1.0))
    if mean is not None:
        mean = _channel_vector("mean", mean, c)
        std = _channel_vector("std", std, c)
    images = np.ascontiguousarray(images)
    _core.augment_images(images, out, params, int(padding), warp, color, float(fill), mean, std)
    return out


def _crop_size(crop_size, h: int, w: int, padding: int) -> tuple[int, int]:
    if crop_size is None:
        return h, w
    if isinstance(crop_size, numbers.Integral):
        crop_size = (crop_size, crop_size)
    if (not isinstance(crop_size, Sequence) or len(crop_size) != 2
            or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in crop_size)):
        raise ValueError(f"crop_size: expected an int or a pair (height, width) of ints, got {crop_size!r}")
    crop_h, crop_w = int(crop_size[0]), int(crop_size[1])
    if crop_h < 1 or crop_w < 1 or crop_h > h + 2 * padding or crop_w > w + 2 * padding:
        raise ValueError(f"crop_size: expected at least 1 x 1 and at most the padded image "
                         f"{h + 2 * padding} x {w + 2 * padding}, got {crop_h} x {crop_w}")
    return crop_h, crop_w


class ImageAugmentation:
    """A random augmentation pipeline: flips, padded crop, rotation and scale, color jitter, normalization.

    Parameters
    ----------
    hflip, vflip : float, default 0
        Probability of mirroring an image left-right, top-bottom.
    crop_size : int or (height, width), optional
        Size of a crop at a uniformly random integer position of the padded image.
    padding : int, default 0
        Pixels of ``fill`` added on every side before cropping.
    degrees : float, default 0
        Angles are drawn uniformly from [-degrees, degrees].
    scale : (low, high), default (1, 1)
        Magnification drawn uniformly from [low, high], low > 0.
    brightness, contrast, saturation : float in [0, 1e6), default 0
        Factors drawn uniformly from [max(0, 1 - v), 1 + v], as torchvision's ColorJitter does.
    mean, std : per-channel floats, optional
        Normalization after the other steps, in [0, 1] pixel units.
    fill : float, default 0
        Value of pixels outside the image.

    Examples
    --------
    A batch of two 3x3 grayscale images, mirrored and cropped to 2x2; the same seed gives
    the same parameters and images:

    >>> import numpy as np
    >>> from fastopt.nn import ImageAugmentation
    >>> images = np.arange(18, dtype=np.uint8).reshape(2, 3, 3, 1)
    >>> augment = ImageAugmentation(hflip=1.0, crop_size=2)
    >>> batch = augment(images, seed=0)
    >>> batch.shape, batch[0, :, :, 0]
    ((2, 2, 2, 1), array([[2, 1],
           [5, 4]], dtype=uint8))
    """

    def __init__(self, *, hflip=0.0, vflip=0.0, crop_size=None, padding=0, degrees=0.0, scale=(1.0, 1.0),
                 brightness=0.0, contrast=0.0, saturation=0.0, mean=None, std=None, fill=0.0):
        self.hflip = _probability("hflip", hflip)
        self.vflip = _probability("vflip", vflip)
        self.crop_size = crop_size
        if isinstance(padding, bool) or not isinstance(padding, numbers.Integral) or padding < 0:
            raise ValueError(f"padding: expected an integer >= 0, got {padding!r}")
        self.padding = int(padding)
        if isinstance(degrees, bool) or not isinstance(degrees, numbers.Real) or not math.isfinite(degrees) \
                or degrees < 0:
            raise ValueError(f"degrees: expected a finite number >= 0, got {degrees!r}")
        self.degrees = float(degrees)
        lo, hi = _pair("scale", scale)
        if not (0 < lo <= hi) or not math.isfinite(hi):
            raise ValueError(f"scale: expected 0 < low <= high, both finite, got {scale!r}")
        self.scale = (lo, hi)
        self.brightness = _jitter("brightness", brightness)
        self.contrast = _jitter("contrast", contrast)
        self.saturation = _jitter("saturation", saturation)
        _check_mean_std(mean, std)
        self.mean = mean
        self.std = std
        self.fill = fill

    def sample(self, images_shape, seed: int) -> np.ndarray:
        """Draw the (N, 9) parameter array for a batch of shape ``images_shape`` from ``seed``.

        Parameters
        ----------
        images_shape : tuple of int
            ``(N, H, W, C)``.
        seed : int
            Seed of the draws; the same seed gives the same parameters.

        Returns
        -------
        ndarray (N, 9) of float64
            One row per image, as :func:`augment_images` takes them.
        """
        if len(images_shape) != 4:
            raise ValueError(f"images: expected a 4-D batch (N, H, W, C), got shape {tuple(images_shape)}")
        n, h, w, _ = images_shape
        crop_h, crop_w = _crop_size(self.crop_size, h, w, self.padding)
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**64:
            raise ValueError(f"seed: expected an integer in [0, 2**64), got {seed!r}")
        rng = np.random.Generator(np.random.Philox(int(seed)))
        params = np.empty((n, len(PARAM_NAMES)), dtype=np.float64)
        params[:, _COL["hflip"]] = rng.random(n) < self.hflip
        params[:, _COL["vflip"]] = rng.random(n) < self.vflip
        params[:, _COL["top"]] = rng.integers(0, h + 2 * self.padding - crop_h + 1, size=n)
        params[:, _COL["left"]] = rng.integers(0, w + 2 * self.padding - crop_w + 1, size=n)
        params[:, _COL["angle"]] = rng.uniform(-self.degrees, self.degrees, size=n) if self.degrees else 0.0
        lo, hi = self.scale
        params[:, _COL["scale"]] = rng.uniform(lo, hi, size=n) if hi > lo else lo
        for name in ("brightness", "contrast", "saturation"):
            v = getattr(self, name)
            params[:, _COL[name]] = rng.uniform(max(0.0, 1.0 - v), 1.0 + v, size=n) if v else 1.0
        return params

    def __call__(self, images: np.ndarray, seed: int, out=None) -> np.ndarray:
        """Augment ``images`` with parameters drawn from ``seed``; see :func:`augment_images`.

        Parameters
        ----------
        images : ndarray (N, H, W, C) of uint8 or float32
            The batch, channels last.
        seed : int
            Seed of the parameters, as in :meth:`sample`.
        out : ndarray, optional
            Output, as in :func:`augment_images`.

        Returns
        -------
        ndarray (N, crop height, crop width, C)
            The augmented batch.
        """
        _check_batch(images)
        params = self.sample(images.shape, seed)
        return augment_images(images, params, crop_size=self.crop_size, padding=self.padding, fill=self.fill,
                              mean=self.mean, std=self.std, out=out)


def _pair(name: str, value) -> tuple[float, float]:
    if (not isinstance(value, Sequence) or len(value) != 2
            or not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value)):
        raise ValueError(f"{name}: expected a pair (low, high) of numbers, got {value!r}")
    return float(value[0]), float(value[1])
