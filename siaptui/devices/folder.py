"""`folder:DIR` — a scanner that serves the images of a folder, one per finger placement.

Why: trainers and tests need a reader that returns *known* images (FVC sets, captures saved by
`siaptui capture`) without hardware.  Each `wait_finger()` "places" the next image in name
order; `capture()` returns it (repeatable, like live preview); `wait_finger_off()` lifts it.
With `loop=True` (default) the folder starts over after the last image.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Optional

from siaptui.devices.base import CaptureFailed, DeviceInfo, DeviceNotFound, Frame, Scanner

EXTENSIONS = (".png", ".tif", ".tiff", ".bmp", ".pgm", ".jpg", ".jpeg")


def open_folder(rest: str, spec: str, **options: Any) -> "FolderScanner":
    return FolderScanner(rest, spec=spec, **options)


def load_gray(path: Path) -> "Any":
    """Read an image as uint8 grayscale; a bad file is a CaptureFailed naming the file."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            return np.asarray(img.convert("L"), dtype=np.uint8).copy()
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise CaptureFailed(f"{path}: {exc}", file=str(path)) from exc


class FolderScanner(Scanner):
    """Images from a folder in sorted order, as if each were a finger placed on a reader."""

    def __init__(self, folder: str, spec: str = "", dpi: int = 500, loop: bool = True, **_: Any) -> None:
        super().__init__(spec or f"folder:{folder}")
        self.folder = Path(folder).expanduser()
        self.dpi = int(dpi)
        self.loop = loop
        self._files: list[Path] = []
        self._index = -1
        self._finger_on = False

    def _open(self) -> None:
        if not self.folder.is_dir():
            raise DeviceNotFound(f"folder {self.folder} does not exist", spec=self._spec, folder=str(self.folder))
        self._files = sorted(p for p in self.folder.iterdir() if p.suffix.lower() in EXTENSIONS and p.is_file())
        if not self._files:
            raise DeviceNotFound(f"no images in {self.folder}", spec=self._spec, folder=str(self.folder))
        self._index = -1
        self._finger_on = False

    @property
    def info(self) -> DeviceInfo:
        return DeviceInfo(spec=self._spec, model="folder", serial=str(self.folder), driver="folder")

    @property
    def current_file(self) -> Optional[Path]:
        return self._files[self._index] if 0 <= self._index < len(self._files) else None

    def _wait_finger(self, timeout: Optional[float], cancel: Optional[threading.Event]) -> bool:
        if cancel is not None and cancel.is_set():
            return False
        if self._finger_on:
            return True
        nxt = self._index + 1
        if nxt >= len(self._files):
            if not self.loop:
                return False
            nxt = 0
        self._index = nxt
        self._finger_on = True
        return True

    def _capture(self, timeout: Optional[float], cancel: Optional[threading.Event]) -> Frame:
        started = time.monotonic()
        if not self._finger_on and not self._wait_finger(timeout, cancel):
            raise CaptureFailed("folder exhausted", spec=self._spec)
        path = self._files[self._index]
        return self._frame(load_gray(path), started)

    def _wait_finger_off(self, timeout: Optional[float], cancel: Optional[threading.Event]) -> bool:
        self._finger_on = False
        return True
