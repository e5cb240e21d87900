"""Image augmentation against NumPy and SciPy references, and Pillow where it defines the operation."""

import os

import numpy as np
import pytest
from scipy import ndimage

import fastopt
from fastopt.nn import PARAM_NAMES, ImageAugmentation, augment_images
from nn_reference import augment, color, source_coordinates

IDENTITY = dict(hflip=0, vflip=0, top=0, left=0, angle=0.0, scale=1.0, brightness=1.0, contrast=1.0,
                saturation=1.0)


def params_of(n, **values):
    row = dict(IDENTITY, **values)
    return np.tile(np.array([row[name] for name in PARAM_NAMES], dtype=np.float64), (n, 1))


@pytest.fixture(scope="module")
def photos():
    """The two sample photos (china.jpg, flower.jpg) as a (2, 427, 640, 3) uint8 batch."""
    pil = pytest.importorskip("PIL.Image")
    directory = os.environ.get("FASTOPT_DATA_DIR")
    if not directory or not os.path.isdir(os.path.join(directory, "images")):
        pytest.skip("FASTOPT_DATA_DIR/images with the sample photos is not available")
    images = [np.asarray(pil.open(os.path.join(directory, "images", name)).convert("RGB"))
              for name in ("china.jpg", "flower.jpg")]
    return np.ascontiguousarray(np.stack(images))


@pytest.fixture(scope="module")
def small(photos):
    """A 4-image batch of 96 x 128 tiles cut from the photos, for the float64 references."""
    tiles = [photos[0, 100:196, 200:328], photos[1, 150:246, 300:428], photos[0, 0:96, 0:128],
             photos[1, 300:396, 500:628]]
    return np.ascontiguousarray(np.stack(tiles))


def pil_image(array):
    from PIL import Image

    return Image.fromarray(array)


def test_hflip_equals_pillow(photos):
    from PIL import Image

    out = augment_images(photos, params_of(2, hflip=1))
    for i in range(2):
        expected = np.asarray(pil_image(photos[i]).transpose(Image.Transpose.FLIP_LEFT_RIGHT))
        np.testing.assert_array_equal(out[i], expected)


def test_vflip_equals_pillow(photos):
    from PIL import Image

    out = augment_images(photos, params_of(2, vflip=1))
    for i in range(2):
        expected = np.asarray(pil_image(photos[i]).transpose(Image.Transpose.FLIP_TOP_BOTTOM))
        np.testing.assert_array_equal(out[i], expected)


@pytest.mark.parametrize("top,left", [(0, 0), (3, 17), (40, 40), (13, 0)])
def test_padded_crop_equals_pillow(photos, top, left):
    from PIL import ImageOps

    pad, fill = 20, 37
    params = params_of(2, top=top, left=left)
    out = augment_images(photos, params, crop_size=(400, 600), padding=pad, fill=fill)
    for i in range(2):
        padded = ImageOps.expand(pil_image(photos[i]), border=pad, fill=(fill,) * 3)
        expected = np.asarray(padded.crop((left, top, left + 600, top + 400)))
        np.testing.assert_array_equal(out[i], expected)


@pytest.mark.parametrize("angle,scale", [(15.0, 1.0), (-30.0, 1.2), (90.0, 1.0), (7.5, 0.8)])
def test_affine_warp_matches_references(small, angle, scale):
    n, h, w, _ = small.shape
    params = params_of(n, angle=angle, scale=scale)
    images = small.astype(np.float32) / 255
    out = augment_images(images, params, fill=0.25)
    expected = augment(images, params, h, w, fill=0.25)
    np.testing.assert_allclose(out, expected, atol=2e-6)
    # SciPy's linear interpolation with the constant padded around the image
    # ("grid-constant") is the same bilinear rule from another implementation.
    sx, sy, _ = source_coordinates(params[0], h, w, h, w, 0)
    for ch in range(3):
        ref = ndimage.map_coordinates(images[0, ..., ch].astype(np.float64), [sy, sx], order=1,
                                      mode="grid-constant", cval=0.25)
        np.testing.assert_allclose(out[0, ..., ch], ref, atol=2e-6)


def test_rotation_direction_matches_pillow(photos):
    from PIL import Image

    image = photos[:1]
    angle = 20.0
    out = augment_images(image, params_of(1, angle=angle))
    # Pillow rotates counter-clockwise about the image centre, as fastopt does; its edge
    # handling differs, so compare away from the borders of the rotated frame.
    expected = np.asarray(pil_image(image[0]).rotate(angle, resample=Image.Resampling.BILINEAR))
    inner = (slice(120, 307), slice(160, 480))
    diff = np.abs(out[0][inner].astype(int) - expected[inner].astype(int))
    assert np.mean(diff <= 1) > 0.99
    assert diff.max() <= 2


def test_uint8_warp_within_one_level(small):
    n, h, w, _ = small.shape
    params = params_of(n, angle=-12.0, scale=1.1, left=0)
    out = augment_images(small, params, fill=10)
    expected = augment(small, params, h, w, fill=10)
    assert np.abs(out.astype(np.float64) - expected).max() <= 0.5 + 1e-3


@pytest.mark.parametrize("factor", [0.5, 1.3])
def test_brightness_equals_pillow(photos, factor):
    from PIL import ImageEnhance

    out = augment_images(photos, params_of(2, brightness=factor))
    for i in range(2):
        expected = np.asarray(ImageEnhance.Brightness(pil_image(photos[i])).enhance(factor))
        assert np.abs(out[i].astype(int) - expected.astype(int)).max() <= 1


@pytest.mark.parametrize("factor", [0.4, 1.6])
def test_contrast_equals_pillow(photos, factor):
    from PIL import ImageEnhance

    out = augment_images(photos, params_of(2, contrast=factor))
    for i in range(2):
        expected = np.asarray(ImageEnhance.Contrast(pil_image(photos[i])).enhance(factor))
        # Pillow rounds the grayscale mean to an integer before blending, which moves a
        # pixel by |1 - factor| / 2 levels at most, on top of one level of rounding.
        assert np.abs(out[i].astype(int) - expected.astype(int)).max() <= 1


@pytest.mark.parametrize("factor", [0.0, 0.5, 1.7])
def test_saturation_equals_pillow(photos, factor):
    from PIL import ImageEnhance

    out = augment_images(photos, params_of(2, saturation=factor))
    for i in range(2):
        expected = np.asarray(ImageEnhance.Color(pil_image(photos[i])).enhance(factor))
        diff = np.abs(out[i].astype(int) - expected.astype(int))
        # Pillow's grayscale is itself rounded to uint8 before the blend.
        assert diff.max() <= 2
        assert np.mean(diff <= 1) > 0.99


def test_color_jitter_matches_reference(small):
    n, h, w, _ = small.shape
    params = params_of(n, brightness=1.2, contrast=0.7, saturation=1.4)
    images = small.astype(np.float32) / 255
    out = augment_images(images, params)
    expected = augment(images, params, h, w)
    np.testing.assert_allclose(out, expected, atol=2e-6)
    single = color(images[0].astype(np.float64), 1.2, 0.7, 1.4, 1.0)
    np.testing.assert_allclose(out[0], single, atol=2e-6)


def test_normalization_matches_reference(small):
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    out = augment_images(small, params_of(len(small)), mean=mean, std=std)
    assert out.dtype == np.float32
    expected = (small / 255.0 - np.array(mean)) / np.array(std)
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_normalization_matches_torchvision(small):
    tv = pytest.importorskip("torchvision.transforms.functional", exc_type=ImportError)
    torch = pytest.importorskip("torch")
    mean, std = [0.5, 0.4, 0.3], [0.2, 0.25, 0.3]
    out = augment_images(small, params_of(len(small)), mean=mean, std=std)
    tensor = torch.from_numpy(small).permute(0, 3, 1, 2).float() / 255
    expected = tv.normalize(tensor, mean, std).permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_pipeline_equals_steps_one_by_one(small):
    aug = ImageAugmentation(hflip=0.5, vflip=0.5, crop_size=(80, 112), padding=6, degrees=25,
                            scale=(0.9, 1.2), brightness=0.3, contrast=0.3, saturation=0.3, fill=0.1)
    images = small.astype(np.float32) / 255
    params = aug.sample(images.shape, seed=5)
    fused = augment_images(images, params, crop_size=(80, 112), padding=6, fill=0.1)
    identity = params_of(len(images))
    crop_only = identity.copy()
    crop_only[:, 2:4] = params[:, 2:4]
    step = augment_images(images, crop_only, crop_size=(80, 112), padding=6, fill=0.1)
    flips = identity.copy()
    flips[:, 0:2] = params[:, 0:2]
    step = augment_images(step, flips)
    # Taps outside the crop window read fill, so warping the cropped image is the same as
    # warping inside the fused map.
    warp = identity.copy()
    warp[:, 4:6] = params[:, 4:6]
    step = augment_images(step, warp, fill=0.1)
    jitter = identity.copy()
    jitter[:, 6:9] = params[:, 6:9]
    step = augment_images(step, jitter)
    np.testing.assert_allclose(fused, step, atol=3e-6)
    expected = augment(images, params, 80, 112, padding=6, fill=0.1)
    np.testing.assert_allclose(fused, expected, atol=3e-6)


def test_random_parameters_reproducible_and_in_range(photos):
    aug = ImageAugmentation(hflip=0.5, crop_size=200, padding=8, degrees=10, scale=(0.9, 1.1),
                            brightness=0.2, contrast=0.1, saturation=0.3)
    shape = (1000, 427, 640, 3)
    p = aug.sample(shape, seed=3)
    np.testing.assert_array_equal(p, aug.sample(shape, seed=3))
    assert not np.array_equal(p, aug.sample(shape, seed=4))
    col = {name: p[:, k] for k, name in enumerate(PARAM_NAMES)}
    assert 400 < col["hflip"].sum() < 600
    assert np.all(col["vflip"] == 0)
    assert col["top"].min() >= 0
    assert col["top"].max() <= 427 + 16 - 200
    assert col["left"].max() <= 640 + 16 - 200
    assert np.all(np.abs(col["angle"]) <= 10)
    assert np.all((col["scale"] >= 0.9) & (col["scale"] <= 1.1))
    assert np.all((col["brightness"] >= 0.8) & (col["brightness"] <= 1.2))
    out = aug(photos, seed=1)
    assert out.shape == (2, 200, 200, 3)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, aug(photos, seed=1))


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_same_result_on_any_thread_count(photos, threads):
    aug = ImageAugmentation(hflip=0.5, crop_size=224, padding=4, degrees=30, brightness=0.4,
                            contrast=0.4, saturation=0.4, mean=[0.5] * 3, std=[0.25] * 3)
    batch = np.concatenate([photos] * 3)
    saved = fastopt.get_num_threads()
    try:
        fastopt.set_num_threads(1)
        expected = aug(batch, seed=2)
        fastopt.set_num_threads(threads)
        np.testing.assert_array_equal(aug(batch, seed=2), expected)
    finally:
        fastopt.set_num_threads(saved)


def test_grayscale_batch_supported():
    images = np.random.default_rng(0).integers(0, 256, (3, 20, 30, 1), dtype=np.uint8)
    params = params_of(3, contrast=0.5, angle=10.0)
    out = augment_images(images, params)
    expected = augment(images, params, 20, 30)
    assert np.abs(out.astype(np.float64) - expected).max() <= 0.5 + 1e-3


def test_not_4d_raises():
    with pytest.raises(ValueError, match=r"images: expected a 4-D batch \(N, H, W, C\), got shape \(4, 5, 3\)"):
        augment_images(np.zeros((4, 5, 3), np.uint8), params_of(4))


def test_unsupported_dtype_raises():
    with pytest.raises(ValueError, match="images: unsupported dtype float64"):
        augment_images(np.zeros((1, 4, 4, 3)), params_of(1))


def test_crop_larger_than_padded_image_raises():
    images = np.zeros((1, 10, 10, 3), np.uint8)
    with pytest.raises(ValueError, match=r"crop_size: expected .* padded image 14 x 14, got 15 x 12"):
        augment_images(images, params_of(1), crop_size=(15, 12), padding=2)
    with pytest.raises(ValueError, match="crop_size"):
        ImageAugmentation(crop_size=12)(images, seed=0)


def test_negative_std_raises_before_writing():
    images = np.zeros((1, 4, 4, 3), np.uint8)
    out = np.full((1, 4, 4, 3), 9.0, np.float32)
    with pytest.raises(ValueError, match=r"std\[1\]: expected a finite value > 0, got -0.2"):
        augment_images(images, params_of(1), mean=[0.5] * 3, std=[0.2, -0.2, 0.2], out=out)
    np.testing.assert_array_equal(out, 9.0)
    with pytest.raises(ValueError, match="std"):
        ImageAugmentation(mean=[0.5], std=[-1.0])


def test_bad_parameters_raise():
    with pytest.raises(ValueError, match="hflip: expected a probability in"):
        ImageAugmentation(hflip=1.5)
    with pytest.raises(ValueError, match="scale: expected 0 < low <= high"):
        ImageAugmentation(scale=(0.0, 1.0))
    with pytest.raises(ValueError, match=r"brightness: expected a number in \[0, 1e\+06\)"):
        ImageAugmentation(brightness=-0.1)
    with pytest.raises(ValueError, match="saturation: expected a number in"):
        ImageAugmentation(saturation=1e39)
    with pytest.raises(ValueError, match="padding: expected an integer >= 0, got -1"):
        ImageAugmentation(padding=-1)
    images = np.zeros((2, 4, 4, 3), np.uint8)
    with pytest.raises(ValueError, match=r"params: expected a float64 array of shape \(2, 9\)"):
        augment_images(images, params_of(3))
    bad = params_of(2, top=5)
    with pytest.raises(ValueError, match=r"params\[0\]: crop origin"):
        augment_images(images, bad)
    with pytest.raises(ValueError, match="fill: expected a value in"):
        augment_images(images, params_of(2), fill=300)
    out = np.full((2, 4, 4, 3), 7, np.uint8)
    with pytest.raises(ValueError, match=r"params\[1\]: expected color factors in \[0, 1000001\]"):
        augment_images(images, np.vstack([params_of(1), params_of(1, brightness=4e38)]), out=out)
    np.testing.assert_array_equal(out, 7)
