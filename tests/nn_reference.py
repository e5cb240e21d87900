"""Independent references for fastopt.nn, written from the published formulas.

Philox4x32-10 follows Salmon et al., "Parallel random numbers: as easy as 1, 2, 3" (SC'11):
a scalar pure-Python version for the known-answer vectors and a vectorized NumPy version for
masks of many elements. The image references work in float64 per pixel.
"""

from __future__ import annotations

import numpy as np

M0, M1 = 0xD2511F53, 0xCD9E8D57
W0, W1 = 0x9E3779B9, 0xBB67AE85
MASK32 = 0xFFFFFFFF


def philox4x32_10(counter, key):
    """Return the 4 words of Philox4x32-10 for a 4-word counter and a 2-word key (pure Python)."""
    c0, c1, c2, c3 = counter
    k0, k1 = key
    for r in range(10):
        if r:
            k0 = (k0 + W0) & MASK32
            k1 = (k1 + W1) & MASK32
        p0 = M0 * c0
        p1 = M1 * c2
        c0, c1, c2, c3 = ((p1 >> 32) ^ c1 ^ k0) & MASK32, p1 & MASK32, ((p0 >> 32) ^ c3 ^ k1) & MASK32, p0 & MASK32
    return c0, c1, c2, c3


def stream_blocks(seed: int, offset: int, blocks: np.ndarray) -> np.ndarray:
    """Return the (len(blocks), 4) uint32 words of the given stream blocks, vectorized in uint64."""
    blocks = np.asarray(blocks, dtype=np.uint64)
    m32 = np.uint64(MASK32)
    c0 = blocks & m32
    c1 = blocks >> np.uint64(32)
    c2 = np.full_like(blocks, offset & MASK32)
    c3 = np.full_like(blocks, offset >> 32)
    k0, k1 = seed & MASK32, seed >> 32
    for r in range(10):
        if r:
            k0 = (k0 + W0) & MASK32
            k1 = (k1 + W1) & MASK32
        p0 = np.uint64(M0) * c0
        p1 = np.uint64(M1) * c2
        c0, c1, c2, c3 = ((p1 >> np.uint64(32)) ^ c1 ^ np.uint64(k0)) & m32, p1 & m32, \
            ((p0 >> np.uint64(32)) ^ c3 ^ np.uint64(k1)) & m32, p0 & m32
    return np.stack([c0, c1, c2, c3], axis=1).astype(np.uint32)


def stream_words(seed: int, offset: int, n: int) -> np.ndarray:
    """Return words [0, n) of fastopt's stream (seed, offset): word i % 4 of block i // 4."""
    return stream_blocks(seed, offset, np.arange((n + 3) // 4, dtype=np.uint64)).reshape(-1)[:n]


def drop_threshold(p: float) -> int:
    """Return floor(p 2**32), capped at 2**32 - 1."""
    return min(int(p * 2.0**32), 2**32 - 1)


def dropout_values(seed: int, offset: int, n: int) -> np.ndarray:
    """Return dropout's 32-bit values u_i = h_i 2**24 + l_i of elements [0, n), as uint64.

    h_i is byte i % 16 (low byte of a word first) of block i // 16 of the stream, and l_i the
    low 24 bits of word i % 4 of block 2**63 + i // 4. The kernels compute l_i only on a tie;
    this computes all of them.
    """
    blocks = np.arange((n + 15) // 16, dtype=np.uint64)
    high = stream_blocks(seed, offset, blocks).astype("<u4").view(np.uint8).reshape(-1)[:n]
    tie_blocks = np.arange((n + 3) // 4, dtype=np.uint64) | np.uint64(1 << 63)
    low = stream_blocks(seed, offset, tie_blocks).reshape(-1)[:n] & np.uint32(0xFFFFFF)
    return (high.astype(np.uint64) << np.uint64(24)) | low.astype(np.uint64)


def dropout_keep(seed: int, offset: int, n: int, p: float) -> np.ndarray:
    """Return the boolean keep mask of n elements: u_i >= floor(p 2**32)."""
    return dropout_values(seed, offset, n) >= drop_threshold(p)


def dropout_forward(x: np.ndarray, p: float, seed: int, offset: int) -> np.ndarray:
    keep = dropout_keep(seed, offset, x.size, p).reshape(x.shape)
    scale = x.dtype.type(1.0 / (1.0 - p))
    return x * np.where(keep, scale, x.dtype.type(0))


def gaussian_noise(x: np.ndarray, sigma: float, seed: int, offset: int) -> np.ndarray:
    n = x.size
    words = stream_words(seed, offset, 4 * ((n + 1) // 2)).astype(np.float64).reshape(-1, 4)
    u1 = np.stack([words[:, 0], words[:, 2]], axis=1).reshape(-1)[:n]
    u2 = np.stack([words[:, 1], words[:, 3]], axis=1).reshape(-1)[:n]
    z = np.sqrt(-2.0 * np.log((u1 + 1.0) * 2.0**-32)) * np.cos(2.0 * np.pi * u2 * 2.0**-32)
    return x + (sigma * z).astype(x.dtype).reshape(x.shape)


# ---------------------------------------------------------------------------
# images

LUMA = np.array([0.299, 0.587, 0.114])


def source_coordinates(params, h, w, crop_h, crop_w, padding):
    """Return (sx, sy, window) for every output pixel: the inverse map of crop, flips and warp."""
    hflip, vflip, top, left, angle, scale = params[:6]
    y, x = np.mgrid[0:crop_h, 0:crop_w].astype(np.float64)
    cx, cy = (crop_w - 1) / 2, (crop_h - 1) / 2
    theta = np.deg2rad(angle)
    # Inverse of a counter-clockwise rotation (y pointing down) followed by a zoom.
    dx, dy = x - cx, y - cy
    u = cx + (np.cos(theta) * dx - np.sin(theta) * dy) / scale
    v = cy + (np.sin(theta) * dx + np.cos(theta) * dy) / scale
    if hflip:
        u = (crop_w - 1) - u
    if vflip:
        v = (crop_h - 1) - v
    x0, y0 = int(left) - padding, int(top) - padding
    window = (max(0, x0), min(w, x0 + crop_w), max(0, y0), min(h, y0 + crop_h))
    return u + x0, v + y0, window


def bilinear(image, sx, sy, window, fill):
    """Sample image (H, W, C) at (sx, sy) bilinearly; taps outside the window read fill."""
    h, w, c = image.shape
    x_lo, x_hi, y_lo, y_hi = window
    x0 = np.floor(sx).astype(np.int64)
    y0 = np.floor(sy).astype(np.int64)
    fx = (sx - x0)[..., None]
    fy = (sy - y0)[..., None]
    img = image.astype(np.float64)

    def tap(xx, yy):
        inside = (xx >= x_lo) & (xx < x_hi) & (yy >= y_lo) & (yy < y_hi)
        values = img[np.clip(yy, 0, h - 1), np.clip(xx, 0, w - 1)]
        return np.where(inside[..., None], values, fill)

    top = tap(x0, y0) * (1 - fx) + tap(x0 + 1, y0) * fx
    bottom = tap(x0, y0 + 1) * (1 - fx) + tap(x0 + 1, y0 + 1) * fx
    return top * (1 - fy) + bottom * fy


def color(img, brightness, contrast, saturation, max_value):
    img = np.clip(img * brightness, 0, max_value)
    gray = img @ LUMA if img.shape[-1] == 3 else img[..., 0]
    img = np.clip(contrast * img + (1 - contrast) * gray.mean(), 0, max_value)
    if img.shape[-1] == 3:
        gray = img @ LUMA
        img = np.clip(saturation * img + (1 - saturation) * gray[..., None], 0, max_value)
    return img


def augment(images, params, crop_h, crop_w, padding=0, fill=0.0, mean=None, std=None):
    """Return the float64 result of the whole pipeline, image by image."""
    n, h, w, c = images.shape
    max_value = 255.0 if images.dtype == np.uint8 else 1.0
    out = np.empty((n, crop_h, crop_w, c))
    # The color steps (and their clamps) run for the whole batch once any factor differs from 1.
    color_on = bool(np.any(params[:, 6:9] != 1.0))
    for i in range(n):
        sx, sy, window = source_coordinates(params[i], h, w, crop_h, crop_w, padding)
        img = bilinear(images[i], sx, sy, window, fill)
        b, ct, s = params[i, 6:9]
        if color_on:
            img = color(img, b, ct, s, max_value)
        if mean is not None:
            img = (img / max_value - np.asarray(mean)) / np.asarray(std)
        out[i] = img
    return out
