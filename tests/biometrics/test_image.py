"""Loading and normalising fingerprint images: every odd input gives a clear ImageError."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from siaptui.biometrics.image import ImageError, load_image, normalise, to_uint8
from siaptui.errors import describe


def _ridges(height: int = 120, width: int = 100) -> np.ndarray:
    yy = np.arange(height)[:, None]
    return np.broadcast_to(128 + 90 * np.cos(2 * np.pi * yy / 9.0), (height, width)).astype(np.uint8)


@pytest.mark.parametrize("suffix", ["png", "bmp", "pgm", "tif"])
def test_load_grey_formats(tmp_path, suffix: str) -> None:
    path = tmp_path / f"finger.{suffix}"
    Image.fromarray(_ridges()).save(path)
    loaded = load_image(path)
    assert loaded.dtype == np.uint8 and loaded.shape == (120, 100)
    assert np.array_equal(loaded, _ridges())


def test_load_rgb_and_16_bit(tmp_path) -> None:
    grey = _ridges()
    rgb = np.stack([grey] * 3, axis=2)
    Image.fromarray(rgb).save(tmp_path / "rgb.png")
    assert np.abs(load_image(tmp_path / "rgb.png").astype(int) - grey).max() <= 1
    wide = grey.astype(np.uint16) * 257
    Image.fromarray(wide).save(tmp_path / "wide.png")
    loaded = load_image(tmp_path / "wide.png")
    assert loaded.dtype == np.uint8 and np.abs(loaded.astype(int) - grey).max() <= 1


def test_unreadable_missing_and_empty_files(tmp_path) -> None:
    (tmp_path / "text.png").write_text("not an image")
    (tmp_path / "empty.tif").write_bytes(b"")
    for path in (tmp_path / "text.png", tmp_path / "empty.tif", tmp_path / "absent.png", tmp_path):
        with pytest.raises(ImageError) as caught:
            load_image(path)
        assert caught.value.code == "image_invalid"
        message, fix = describe(caught.value)
        assert "huella" in message and fix  # Spanish text and a next step


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((50, 50), dtype=bool),
        np.zeros((50, 50), dtype=np.complex64),
        np.array([["a", "b"], ["c", "d"]], dtype=object),
        np.zeros((5, 50, 50), dtype=np.uint8),
        np.zeros((2, 3, 4, 5), dtype=np.uint8),
        np.zeros((0, 40), dtype=np.uint8),
        np.full((50, 50), np.nan, dtype=np.float32),
        np.array([[np.inf, 0.0], [0.0, 0.0]]),
        "not an array",
    ],
)
def test_bad_arrays_raise_image_error(bad) -> None:
    with pytest.raises(ImageError):
        normalise(bad, 500)


def test_dtype_conversions() -> None:
    floats = np.linspace(0.0, 1.0, 64 * 64).reshape(64, 64)
    assert to_uint8(floats).max() == 255 and to_uint8(floats).min() == 0
    wide = np.full((64, 64), 65535, dtype=np.uint16)
    assert to_uint8(wide).max() == 255
    signed = np.arange(-100, 64 * 64 - 100, dtype=np.int32).reshape(64, 64)
    converted = to_uint8(signed)
    assert converted.min() == 0 and converted.max() == 255
    rgb = np.zeros((64, 64, 3), dtype=np.uint8)
    assert to_uint8(rgb).shape == (64, 64)


def test_normalise_resamples_569_ppi() -> None:
    image = _ridges(560, 296)
    out = normalise(image, 569)
    assert out.dtype == np.uint8
    assert out.shape == (round(560 * 500 / 569), round(296 * 500 / 569))
    assert normalise(image, 500).shape == image.shape


@pytest.mark.parametrize("dpi", [0, -5, 100, 5000, float("nan"), "abc", None])
def test_normalise_rejects_bad_resolution(dpi) -> None:
    with pytest.raises(ImageError):
        normalise(_ridges(), dpi)


def test_tiny_image_is_refused_but_blank_is_not() -> None:
    with pytest.raises(ImageError):
        normalise(np.zeros((10, 10), dtype=np.uint8), 500)
    blank = np.full((100, 100), 255, dtype=np.uint8)
    assert np.array_equal(normalise(blank, 500), blank)
