"""A USB webcam through OpenCV (the optional `siaptui[camera]` extra), imported only here.

Why the checks before OpenCV: `cv2.VideoCapture` answers every failure with "not opened", which
tells a clerk nothing.  On Linux the device node says more: no `/dev/videoN` is a camera that is
not connected; a node this user may not open is a permission problem (the `video` group); a node
that exists and opens but gives no frame is held by another program (a browser tab with the
portal, a video call), and the processes holding it are named when we may see them.
Elsewhere (DirectShow / Media Foundation on Windows) only "not found" can be told apart.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Union

from siaptui.camera.base import (
    DEFAULT_HEIGHT,
    DEFAULT_WIDTH,
    Camera,
    CameraBusy,
    CameraExtraMissing,
    CameraNotFound,
    CameraPermission,
    CameraReadFailed,
)

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

Target = Union[int, str]
LINUX: bool = sys.platform.startswith("linux")
"""Device nodes (/dev/videoN) tell not found, not permitted and busy apart only on Linux."""


def load_cv2(spec: str) -> Any:
    """The cv2 module, or CameraExtraMissing when the extra is not installed."""
    try:
        import cv2
    except ImportError:
        raise CameraExtraMissing("opencv-python-headless is not installed", spec=spec) from None
    logging = getattr(getattr(cv2, "utils", None), "logging", None)
    if logging is not None:  # OpenCV's own warnings would scribble over the TUI
        logging.setLogLevel(getattr(logging, "LOG_LEVEL_ERROR", 2))
    return cv2


def video_nodes(dev: Path = Path("/dev")) -> list[Path]:
    """`/dev/video0`, `/dev/video1`, … in number order (Linux); empty elsewhere or when none."""
    if not LINUX:
        return []
    try:
        names = [p for p in dev.iterdir() if re.fullmatch(r"video\d+", p.name)]
    except OSError:
        return []
    return sorted(names, key=lambda p: int(p.name[5:]))


def node_for(target: Target) -> Optional[Path]:
    """The device node behind an index or a path (Linux); None where there are no nodes."""
    if isinstance(target, str):
        return Path(target)
    if LINUX:
        return Path(f"/dev/video{target}")
    return None


VIDEO4LINUX_MAJOR = 81


def is_video_node(node: Path) -> bool:
    """A Linux video4linux character device (major 81), not any file that happens to exist."""
    try:
        info = node.stat()
    except OSError:
        return False
    return stat.S_ISCHR(info.st_mode) and os.major(info.st_rdev) == VIDEO4LINUX_MAJOR


def node_problem(node: Optional[Path], spec: str) -> Optional[Exception]:
    """Not found / not permitted, told from the node before OpenCV tries it."""
    if node is None:
        return None
    if not node.exists() or (LINUX and not is_video_node(node)):
        return CameraNotFound(str(node), spec=spec)
    if not os.access(node, os.R_OK | os.W_OK):
        return CameraPermission(str(node), spec=spec, node=str(node))
    return None


def _backend(cv2: Any) -> int:
    if LINUX:
        return int(getattr(cv2, "CAP_V4L2", 0))
    if sys.platform == "win32":
        return int(getattr(cv2, "CAP_MSMF", 0))
    return int(getattr(cv2, "CAP_ANY", 0))


def busy_error(node: Optional[Path], spec: str) -> CameraBusy:
    """The camera exists and may be opened but gives no frame: name who holds it, if we may see."""
    from siaptui.devices.doctor import holders

    held = holders(str(node)) if node is not None else []
    who = ", ".join(f"{cmd} (PID {pid})" for pid, cmd in held)
    return CameraBusy(str(node or spec), spec=spec, holder=f" ({who})" if who else "")


class OpenCvCamera(Camera):
    """A webcam by index or device path; `target=None` is `auto` (the first that gives a frame)."""

    def __init__(self, target: Optional[Target], spec: str, *, width: int = DEFAULT_WIDTH,
                 height: int = DEFAULT_HEIGHT) -> None:
        super().__init__(spec)
        self.target = target
        self.width, self.height = int(width), int(height)
        self._capture: Any = None
        self.opened: Optional[Target] = None

    @property
    def name(self) -> str:
        return f"{self.spec} ({self.opened})" if self.opened is not None and self.spec == "auto" else self.spec

    def _candidates(self) -> list[Target]:
        if self.target is not None:
            return [self.target]
        nodes = video_nodes()
        if nodes:
            return [int(p.name[5:]) for p in nodes]
        if LINUX:
            raise CameraNotFound("no /dev/video* device", spec=self.spec)
        return [0]

    def _open(self) -> None:
        cv2 = load_cv2(self.spec)
        problem: Optional[Exception] = None
        for target in self._candidates():
            node = node_for(target)
            problem = node_problem(node, self.spec)
            if problem is not None:
                continue
            capture = cv2.VideoCapture(target, _backend(cv2))
            if capture.isOpened():
                capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
                capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
                ok, _ = capture.read()
                if ok:
                    self._capture, self.opened = capture, target
                    return
            capture.release()
            problem = busy_error(node, self.spec) if node is not None else CameraNotFound(str(target), spec=self.spec)
        raise problem or CameraNotFound(self.spec, spec=self.spec)

    def _read(self) -> "np.ndarray":
        ok, frame = self._capture.read()
        if not ok or frame is None:
            raise CameraReadFailed(self.spec, spec=self.spec)
        if frame.ndim == 2:
            import numpy as np

            return np.repeat(frame[..., None], 3, axis=2)
        rgb: "np.ndarray" = frame[..., ::-1].copy()  # OpenCV gives BGR
        return rgb

    def _close(self) -> None:
        capture, self._capture = self._capture, None
        if capture is not None:
            capture.release()
