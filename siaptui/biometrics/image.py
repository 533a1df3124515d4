"""Fingerprint images in, one canonical array out: uint8 grey, dark ridges, 500 ppi.

Every later step (segmentation, orientation, Gabor filters, minutiae distances, quality blocks)
assumes 500 ppi so its constants (ridge period ≈ 9 px, 32-px quality blocks) hold for any
scanner; this module is the one place that turns files and driver frames into that shape, and
the one place that refuses input it cannot make sense of, with a message the clerk can act on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Union

import numpy as np

from siaptui.errors import SiaptuiError

TARGET_DPI = 500
MIN_DPI = 200
MAX_DPI = 2000
MIN_SIDE = 32  # px at 500 ppi: below this there is not even one ridge period per quality block


class ImageError(SiaptuiError):
    """The image cannot be used as a fingerprint (unreadable, empty, wrong shape or type)."""

    code = "image_invalid"


def _fail(what: str, **params: Any) -> ImageError:
    """An ImageError whose `detail` is a translated reason (the catalog fills `{detail}`)."""
    from siaptui.i18n import t

    return ImageError(t(f"biometrics.image.{what}", **params), what=what)


def load_image(path: Union[str, Path]) -> np.ndarray:
    """Read a tif/png/bmp/pgm (or anything Pillow reads) into uint8 (H, W), grey.

    Colour images are converted with the ITU-R 601 luma weights and 16-bit/float images are
    rescaled, because cheap scanners and exported samples come in all of these.
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as img:
            img.load()
            array = _pil_to_array(img)
    except FileNotFoundError:
        raise _fail("missing", file=str(path)) from None
    except IsADirectoryError:
        raise _fail("missing", file=str(path)) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise _fail("unreadable", file=str(path), cause=type(exc).__name__) from None
    return to_uint8(array)


def _pil_to_array(img: Any) -> np.ndarray:
    """Pillow image → numpy array, choosing a mode whose values survive the conversion."""
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return np.asarray(img, dtype=np.uint16)
    if mode in ("I", "F"):
        return np.asarray(img)
    if mode == "1":
        return np.asarray(img.convert("L"))
    if mode not in ("L",):
        img = img.convert("L")  # RGB, RGBA, P, LA, CMYK, YCbCr: luma
    return np.asarray(img)


def to_uint8(image: Any) -> np.ndarray:
    """Any 2-D (or single-/multi-channel 3-D) numeric array → uint8 grey, or ImageError.

    Floats in [0, 1] are taken as fractions; other floats and wide integers are rescaled to their
    own range when they exceed 8 bits.  NaN/inf, bool, complex, object and empty arrays are
    refused rather than guessed.
    """
    try:
        array = np.asarray(image)
    except Exception:  # noqa: BLE001 - anything that is not array-like
        raise _fail("not_array") from None
    if array.dtype == object or array.dtype.kind not in "uif":
        raise _fail("dtype", dtype=str(array.dtype))
    if array.ndim == 3 and array.shape[2] in (1, 2, 3, 4):
        array = _grey_from_channels(array)
    if array.ndim != 2:
        raise _fail("shape", shape="×".join(str(s) for s in array.shape))
    if array.size == 0 or min(array.shape) < 1:
        raise _fail("empty")
    if array.dtype == np.uint8:
        return np.ascontiguousarray(array)
    if array.dtype.kind == "f":
        if not np.all(np.isfinite(array)):
            raise _fail("not_finite")
        lo, hi = float(array.min()), float(array.max())
        if lo >= 0.0 and hi <= 1.0:
            return np.clip(np.rint(array * 255.0), 0, 255).astype(np.uint8)
        if lo >= 0.0 and hi <= 255.0:
            return np.clip(np.rint(array), 0, 255).astype(np.uint8)
        return _stretch(array.astype(np.float64), lo, hi)
    lo, hi = int(array.min()), int(array.max())
    if lo >= 0 and hi <= 255:
        return array.astype(np.uint8)
    if lo >= 0 and hi <= 65535 and array.dtype.itemsize == 2:
        return (array.astype(np.uint32) // 257).astype(np.uint8)
    return _stretch(array.astype(np.float64), float(lo), float(hi))


def _grey_from_channels(array: np.ndarray) -> np.ndarray:
    channels = array.shape[2]
    if channels in (1, 2):  # grey, grey+alpha
        return array[:, :, 0]
    rgb = array[:, :, :3].astype(np.float64)
    grey = rgb @ np.array([0.299, 0.587, 0.114])
    if array.dtype.kind in "ui":
        return np.rint(grey).astype(array.dtype)
    return grey


def _stretch(array: np.ndarray, lo: float, hi: float) -> np.ndarray:
    if hi <= lo:
        return np.zeros(array.shape, dtype=np.uint8)
    return np.clip(np.rint((array - lo) * (255.0 / (hi - lo))), 0, 255).astype(np.uint8)


def normalise(image: Any, dpi: float = TARGET_DPI) -> np.ndarray:
    """uint8 grey image resampled to 500 ppi (area-averaging down, bilinear up).

    Raises ImageError for a resolution outside 200–2000 ppi, a result smaller than 32 px on a
    side, or input `to_uint8` refuses.  A blank or all-black image is returned as is: saying
    "no finger" is the quality assessment's job, not a file error.
    """
    grey = to_uint8(image)
    try:
        dpi_value = float(dpi)
    except (TypeError, ValueError):
        raise _fail("dpi", dpi=str(dpi)) from None
    if not np.isfinite(dpi_value) or not (MIN_DPI <= dpi_value <= MAX_DPI):
        raise _fail("dpi", dpi=str(dpi))
    scale = TARGET_DPI / dpi_value
    height, width = grey.shape
    new_h, new_w = int(round(height * scale)), int(round(width * scale))
    if min(new_h, new_w) < MIN_SIDE:
        raise _fail("tiny", width=width, height=height, minimum=MIN_SIDE)
    if abs(scale - 1.0) < 1e-3:
        return grey
    from PIL import Image

    resample = Image.Resampling.BOX if scale < 1.0 else Image.Resampling.BILINEAR
    resized = Image.fromarray(grey).resize((new_w, new_h), resample=resample)
    return np.asarray(resized, dtype=np.uint8)
