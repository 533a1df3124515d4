"""The device contract: `Frame`, `DeviceInfo`, the `Scanner` base class and its errors.

Every source of fingerprint images (a USB driver, a recorded USB session, the 4500 emulator,
synthetic fingers, a folder of images) is a `Scanner`.  The TUI calls the blocking methods from a
Textual worker thread, so each wait loop polls a `threading.Event` (`cancel`) at least every
100 ms; the UI never blocks and a "Cancelar" key stops a capture promptly.

Images are uint8 HxW with dark ridges on a light background (docs/architecture.md): drivers
invert and rotate to that before building a `Frame`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional

from siaptui.errors import SiaptuiError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

#: Longest sleep between two looks at `cancel` (the contract says ≤ 100 ms).
POLL_S = 0.05


@dataclass(frozen=True)
class DeviceInfo:
    """Who produced a frame: enough to tell support which reader and driver were used."""

    spec: str
    vid: int = 0
    pid: int = 0
    model: str = ""
    serial: str = ""
    driver: str = ""

    @property
    def usb_id(self) -> str:
        """`05ba:000a` style id (empty for sim/folder sources)."""
        return f"{self.vid:04x}:{self.pid:04x}" if (self.vid or self.pid) else ""


@dataclass
class Frame:
    """One fingerprint image as the scanner delivered it (after driver normalisation)."""

    pixels: "np.ndarray"
    dpi: int
    device: DeviceInfo
    captured_at: float = field(default_factory=time.time)
    capture_ms: float = 0.0

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    def to_png(self) -> bytes:
        """8-bit grayscale PNG of the frame with its dpi recorded (`siaptui capture`, Revisión's
        preview of an impression: kept in memory, the store encrypts it)."""
        import io

        from PIL import Image

        buffer = io.BytesIO()
        Image.fromarray(self.pixels, mode="L").save(buffer, format="PNG", dpi=(self.dpi, self.dpi))
        return buffer.getvalue()


# --------------------------------------------------------------------------- errors


class ScannerError(SiaptuiError):
    """Anything that stops a scanner from delivering a frame.

    Every catalog placeholder the device messages use gets a neutral default here, so a message
    never shows a raw `{usb_id}` when the raiser did not know that value.
    """

    code = "scanner_error"
    _DEFAULTS = {"usb_id": "", "spec": "", "holder": "", "model": "", "sdk": "", "library": "", "file": ""}

    def __init__(self, message: str = "", *, code: Optional[str] = None, **params: Any) -> None:
        # `detail=` may be passed as a catalog parameter (a Spanish explanation for the clerk);
        # the positional `message` stays the technical text for logs and `--debug`.
        shown = params.pop("detail", None)
        for key, value in self._DEFAULTS.items():
            params.setdefault(key, value)
        super().__init__(message, code=code, **params)
        if shown is not None:
            self.params["detail"] = shown


class NoBackend(ScannerError):
    """No libusb library could be loaded (neither libusb-package's nor the system's)."""

    code = "no_backend"


class DeviceNotFound(ScannerError):
    """No matching reader on the USB bus (cable, port, hub power)."""

    code = "device_not_found"


class UnsupportedDevice(ScannerError):
    """A reader we recognise but cannot drive (yet), or a spec we do not understand."""

    code = "device_unsupported"


class PermissionDenied(ScannerError):
    """The OS refused access to the USB node (EACCES): a udev rule is missing."""

    code = "device_permission"


class DeviceBusy(ScannerError):
    """Another process (fprintd, another siaptui) holds the interface (EBUSY)."""

    code = "device_busy"


class KernelDriverBound(ScannerError):
    """A kernel driver owns the interface and this OS cannot detach it."""

    code = "device_kernel_driver"


class WrongDriver(ScannerError):
    """Windows: the reader uses the vendor driver, libusb needs WinUSB (NotImplementedError)."""

    code = "device_wrong_driver"


class DeviceTimeout(ScannerError):
    """The reader stopped answering (timeouts, stalls, the "interrupt of death")."""

    code = "device_timeout"


class DeviceGone(ScannerError):
    """The reader was unplugged (ENODEV) — wait for it to come back, then carry on."""

    code = "device_gone"


class CaptureFailed(ScannerError):
    """The reader answered but the image could not be decoded or assembled."""

    code = "capture_failed"


class VendorSdkMissing(ScannerError):
    """A reader that needs its maker's SDK (e.g. SecuGen FDx Pro) and it is not installed."""

    code = "vendor_sdk_missing"


# --------------------------------------------------------------------------- scanner


def wait_until(
    predicate: Callable[[], bool],
    timeout: Optional[float] = None,
    cancel: Optional[threading.Event] = None,
    poll: float = POLL_S,
) -> bool:
    """Poll `predicate` until it is true (True), or timeout/cancel (False).

    The shared wait loop so that every scanner honours `cancel` within `poll` seconds.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if cancel is not None and cancel.is_set():
            return False
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            step = min(poll, left)
        else:
            step = poll
        if cancel is not None:
            if cancel.wait(step):
                return False
        else:
            time.sleep(step)


class Scanner:
    """Base class of every image source.  Subclasses implement the `_`-prefixed hooks.

    `open()`/`close()` are idempotent; the class is a context manager.  All methods block and
    are meant for a worker thread; none touches Textual.
    """

    dpi: int = 500

    def __init__(self, spec: str = "") -> None:
        self._spec = spec
        self._opened = False
        self._lock = threading.RLock()

    # -- lifecycle
    def open(self) -> "Scanner":
        with self._lock:
            if not self._opened:
                self._open()
                self._opened = True
        return self

    def close(self) -> None:
        with self._lock:
            if self._opened:
                self._opened = False
                self._close()

    @property
    def is_open(self) -> bool:
        return self._opened

    def __enter__(self) -> "Scanner":
        return self.open()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def reconnect(self, timeout: Optional[float] = None, cancel: Optional[threading.Event] = None,
                  poll: float = 0.25) -> bool:
        """After `DeviceGone`: close, then try `open()` until the reader is back (True).

        Why here: re-plugging gives the reader a new bus address, so the only portable recovery
        is to find and open it again; the enrollment in progress lives in the caller and is
        untouched.  Returns False on timeout/cancel; other errors (permission…) propagate.
        """
        self.close()

        def attempt() -> bool:
            try:
                self.open()
                return True
            except (DeviceNotFound, DeviceGone):
                return False

        return wait_until(attempt, timeout, cancel, poll)

    # -- identity
    @property
    def info(self) -> DeviceInfo:
        return DeviceInfo(spec=self._spec, driver=type(self).__name__)

    # -- finger events and capture
    def wait_finger(self, timeout: Optional[float] = None, cancel: Optional[threading.Event] = None) -> bool:
        """Block until a finger is on the sensor (True) or timeout/cancel (False)."""
        self._require_open()
        return self._wait_finger(timeout, cancel)

    def capture(self, timeout: Optional[float] = None, cancel: Optional[threading.Event] = None) -> Frame:
        """One frame of the finger on the sensor now (repeatable while it stays)."""
        self._require_open()
        return self._capture(timeout, cancel)

    def wait_finger_off(self, timeout: Optional[float] = None, cancel: Optional[threading.Event] = None) -> bool:
        """Block until the finger is lifted (True) or timeout/cancel (False)."""
        self._require_open()
        return self._wait_finger_off(timeout, cancel)

    # -- hooks
    def _open(self) -> None:
        """Acquire the device; raise a ScannerError subclass when that is impossible."""

    def _close(self) -> None:
        """Release the device; must not raise for an already unplugged reader."""

    def _wait_finger(self, timeout: Optional[float], cancel: Optional[threading.Event]) -> bool:
        raise NotImplementedError

    def _capture(self, timeout: Optional[float], cancel: Optional[threading.Event]) -> Frame:
        raise NotImplementedError

    def _wait_finger_off(self, timeout: Optional[float], cancel: Optional[threading.Event]) -> bool:
        raise NotImplementedError

    def _require_open(self) -> None:
        if not self._opened:
            self.open()

    def _frame(self, pixels: "np.ndarray", started: float, dpi: Optional[int] = None) -> Frame:
        """Build a Frame stamped now, with the time spent since `started` (time.monotonic())."""
        return Frame(
            pixels=pixels,
            dpi=int(dpi or self.dpi),
            device=self.info,
            captured_at=time.time(),
            capture_ms=(time.monotonic() - started) * 1000.0,
        )
