"""The camera contract: the `Camera` base class and the errors a clerk can act on.

Why a base class of its own (not the scanner's): a webcam streams frames continuously and has no
"finger placed" event, so its contract is just open / read / close.  Frames are RGB `uint8`
arrays of shape (height, width, 3); every source (a webcam, a still picture, a folder, the
synthetic camera) returns the same kind, so the analysis and the preview never know which it was.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from siaptui.errors import SiaptuiError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

DEFAULT_WIDTH = 640
DEFAULT_HEIGHT = 480
"""640×480: the resolution every office webcam offers and the one users were told to lower to
when the portal's browser capture froze on a resolution mismatch."""


class CameraError(SiaptuiError):
    code = "camera_error"


class CameraSpecInvalid(CameraError):
    code = "camera_spec_invalid"


class CameraExtraMissing(CameraError):
    """A webcam was asked for but OpenCV (`siaptui[camera]`) is not installed."""

    code = "camera_extra_missing"


class CameraNotFound(CameraError):
    code = "camera_not_found"


class CameraBusy(CameraError):
    code = "camera_busy"


class CameraPermission(CameraError):
    code = "camera_permission"


class CameraReadFailed(CameraError):
    code = "camera_read_failed"


class Camera:
    """Base class of every frame source; subclasses implement `_open`, `_read` and `_close`.

    `open()`/`close()` are idempotent and the class is a context manager.  `read()` blocks
    until the next frame (a webcam's frame period; at once for a still).
    """

    def __init__(self, spec: str) -> None:
        self.spec = spec
        self._open_now = False

    @property
    def name(self) -> str:
        """What the doctor and the photo screen call this camera."""
        return self.spec

    def open(self) -> "Camera":
        if not self._open_now:
            self._open()
            self._open_now = True
        return self

    def close(self) -> None:
        if self._open_now:
            self._open_now = False
            self._close()

    def read(self) -> "np.ndarray":
        if not self._open_now:
            self.open()
        return self._read()

    def __enter__(self) -> "Camera":
        return self.open()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _open(self) -> None:
        """Acquire the source; raise a CameraError subclass when that is impossible."""

    def _close(self) -> None:
        """Release the source."""

    def _read(self) -> "np.ndarray":  # pragma: no cover - every subclass implements it
        raise NotImplementedError
