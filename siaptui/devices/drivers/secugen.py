"""SecuGen Hamster readers (VID 1162) through SecuGen's own FDx SDK Pro, loaded with ctypes.

Why the SDK: there is no open Hamster protocol (../shared/notes/scanners-usb.md §2.2), so the
only honest way to drive these readers is the maker's library — `libsgfplib.so` on Linux (it
needs libusb-0.1 and SecuGen's udev rules), `sgfplib.dll` on Windows.  When it is missing we
say exactly what to install (`VendorSdkMissing`).  Image size and resolution are read from the
SDK at open time (`SGDeviceInfoParam`), never assumed.  SDK error codes map to our errors:
55 DEVICE_NOT_FOUND → DeviceNotFound, 59 DEV_ALREADY_OPEN → DeviceBusy, 54 TIME_OUT / 53
LINE_DROPPED / 58 LACK_OF_BANDWIDTH → DeviceTimeout, 57 WRONG_IMAGE → CaptureFailed,
61 UNSUPPORTED_DEV → UnsupportedDevice, 51/52/56 and 501–504 (licence) → VendorSdkMissing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
import threading
import time
from typing import Any, Optional

import numpy as np

from siaptui.devices.base import (
    POLL_S,
    CaptureFailed,
    DeviceBusy,
    DeviceInfo,
    DeviceNotFound,
    DeviceTimeout,
    Frame,
    Scanner,
    ScannerError,
    UnsupportedDevice,
    VendorSdkMissing,
)

SDK_NAME = "SecuGen FDx SDK Pro"
LIBRARY_NAMES = (("sgfplib.dll",) if sys.platform.startswith("win")
                 else ("libsgfplib.so", "libsgfplib.so.4", "libsgfplib.so.3"))

SG_DEV_AUTO = 0xFF
USB_AUTO_DETECT = 0x3BC + 1
ERROR_NONE = 0
FINGER_QUALITY = 50  # GetImageEx quality gate for "a finger is there"
OFF_QUALITY = 20  # below this, the sensor is empty

ERRORS: dict[int, tuple[type[ScannerError], str]] = {
    51: (VendorSdkMissing, "SYSLOAD_FAILED"),
    52: (VendorSdkMissing, "INITIALIZE_FAILED"),
    53: (DeviceTimeout, "LINE_DROPPED"),
    54: (DeviceTimeout, "TIME_OUT"),
    55: (DeviceNotFound, "DEVICE_NOT_FOUND"),
    56: (VendorSdkMissing, "DRVLOAD_FAILED"),
    57: (CaptureFailed, "WRONG_IMAGE"),
    58: (DeviceTimeout, "LACK_OF_BANDWIDTH"),
    59: (DeviceBusy, "DEV_ALREADY_OPEN"),
    60: (ScannerError, "GETSN_FAILED"),
    61: (UnsupportedDevice, "UNSUPPORTED_DEV"),
}
ERRORS.update({code: (VendorSdkMissing, "LICENSE_ERROR") for code in range(501, 505)})


class SGDeviceInfoParam(ctypes.Structure):
    """`SGDeviceInfoParam` of sgfplib.h (DWORD = unsigned long on both Linux and Windows SDKs)."""

    _fields_ = [
        ("DeviceID", ctypes.c_ulong),
        ("DeviceSN", ctypes.c_ubyte * 16),
        ("ComPort", ctypes.c_ulong),
        ("ComSpeed", ctypes.c_ulong),
        ("ImageWidth", ctypes.c_ulong),
        ("ImageHeight", ctypes.c_ulong),
        ("Contrast", ctypes.c_ulong),
        ("Brightness", ctypes.c_ulong),
        ("Gain", ctypes.c_ulong),
        ("ImageDPI", ctypes.c_ulong),
        ("FWVersion", ctypes.c_ulong),
    ]


def sdk_error(code: int, call: str, **params: Any) -> ScannerError:
    kind, name = ERRORS.get(code, (ScannerError, f"ERROR_{code}"))
    params.setdefault("sdk", SDK_NAME)
    params.setdefault("library", LIBRARY_NAMES[0])
    return kind(f"{call}: SecuGen error {code} ({name})", detail=f"SecuGen {name} ({code})", **params)


def load_library(path: Optional[str] = None, model: str = "SecuGen Hamster") -> ctypes.CDLL:
    """The SDK library, or VendorSdkMissing naming what to install."""
    candidates = [path] if path else [ctypes.util.find_library("sgfplib"), *LIBRARY_NAMES]
    problems = []
    for name in candidates:
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
        except OSError as exc:
            problems.append(f"{name}: {exc}")
            continue
        _declare(lib, model)
        return lib
    raise VendorSdkMissing("; ".join(problems) or "SecuGen SDK not found", sdk=SDK_NAME,
                           library=path or LIBRARY_NAMES[0], model=model)


def _declare(lib: ctypes.CDLL, model: str) -> None:
    handle, dword = ctypes.c_void_p, ctypes.c_ulong
    table = {
        "SGFPM_Create": [ctypes.POINTER(handle)],
        "SGFPM_Init": [handle, dword],
        "SGFPM_OpenDevice": [handle, dword],
        "SGFPM_GetDeviceInfo": [handle, ctypes.POINTER(SGDeviceInfoParam)],
        "SGFPM_GetImageEx": [handle, ctypes.POINTER(ctypes.c_ubyte), dword, ctypes.c_void_p, dword],
        "SGFPM_GetImage": [handle, ctypes.POINTER(ctypes.c_ubyte)],
        "SGFPM_GetImageQuality": [handle, dword, dword, ctypes.POINTER(ctypes.c_ubyte), ctypes.POINTER(dword)],
        "SGFPM_CloseDevice": [handle],
        "SGFPM_Terminate": [handle],
    }
    for name, argtypes in table.items():
        try:
            function = getattr(lib, name)
        except AttributeError as exc:
            raise VendorSdkMissing(f"{name} missing from the SecuGen library", sdk=SDK_NAME,
                                   library=LIBRARY_NAMES[0], model=model) from exc
        function.argtypes = argtypes
        function.restype = dword


class SecuGenScanner(Scanner):
    """A SecuGen Hamster driven by the FDx SDK Pro."""

    POLL_MS = 100  # GetImageEx timeout per poll: keeps `cancel` responsive

    def __init__(self, spec: str = "secugen", library: Optional[str] = None, model: str = "SecuGen Hamster",
                 vid: int = 0x1162, pid: int = 0, **_: Any) -> None:
        super().__init__(spec)
        self.library_path = library
        self.model = model
        self.vid, self.pid = vid, pid
        self.lib: Optional[ctypes.CDLL] = None
        self.handle = ctypes.c_void_p()
        self.width = self.height = 0
        self.serial = ""
        self._pending: Optional[np.ndarray] = None

    def _call(self, name: str, *args: Any) -> None:
        assert self.lib is not None
        code = int(getattr(self.lib, name)(*args))
        if code != ERROR_NONE:
            raise sdk_error(code, name, model=self.model, usb_id=self.info.usb_id)

    def _open(self) -> None:
        self.lib = load_library(self.library_path, self.model)
        self._call("SGFPM_Create", ctypes.byref(self.handle))
        try:
            self._call("SGFPM_Init", self.handle, SG_DEV_AUTO)
            self._call("SGFPM_OpenDevice", self.handle, USB_AUTO_DETECT)
            info = SGDeviceInfoParam()
            self._call("SGFPM_GetDeviceInfo", self.handle, ctypes.byref(info))
        except ScannerError:
            self.lib.SGFPM_Terminate(self.handle)
            raise
        if not (0 < info.ImageWidth <= 4096 and 0 < info.ImageHeight <= 4096):
            self._close()
            raise CaptureFailed(f"SDK reported image size {info.ImageWidth}x{info.ImageHeight}",
                                detail=f"tamaño de imagen inválido {info.ImageWidth}×{info.ImageHeight}")
        self.width, self.height = int(info.ImageWidth), int(info.ImageHeight)
        self.dpi = int(info.ImageDPI) or 500
        self.serial = bytes(info.DeviceSN).split(b"\0", 1)[0].decode("ascii", "replace")
        self._pending = None

    def _close(self) -> None:
        if self.lib is not None:
            self.lib.SGFPM_CloseDevice(self.handle)
            self.lib.SGFPM_Terminate(self.handle)
        self._pending = None

    @property
    def info(self) -> DeviceInfo:
        return DeviceInfo(spec=self._spec, vid=self.vid, pid=self.pid, model=self.model, serial=self.serial,
                          driver="secugen")

    def _buffer(self) -> Any:
        return (ctypes.c_ubyte * (self.width * self.height))()

    def _grab(self, timeout_ms: int) -> Optional[np.ndarray]:
        """One GetImageEx with a quality gate: an image, or None when the SDK timed out."""
        assert self.lib is not None
        buf = self._buffer()
        code = int(self.lib.SGFPM_GetImageEx(self.handle, buf, timeout_ms, None, FINGER_QUALITY))
        if code == 54:
            return None
        if code != ERROR_NONE:
            raise sdk_error(code, "SGFPM_GetImageEx", model=self.model, usb_id=self.info.usb_id)
        return np.frombuffer(buf, dtype=np.uint8).reshape(self.height, self.width).copy()

    def _wait_finger(self, timeout: Optional[float], cancel: Optional[threading.Event]) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not (cancel is not None and cancel.is_set()):
            image = self._grab(self.POLL_MS)
            if image is not None:
                self._pending = image
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
        return False

    def _capture(self, timeout: Optional[float], cancel: Optional[threading.Event]) -> Frame:
        started = time.monotonic()
        if self._pending is None and not self._wait_finger(timeout, cancel):
            raise DeviceTimeout("no finger image from the SDK", model=self.model, usb_id=self.info.usb_id)
        image, self._pending = self._pending, None
        assert image is not None
        return self._frame(image, started)

    def _quality_now(self) -> int:
        assert self.lib is not None
        buf = self._buffer()
        self._call("SGFPM_GetImage", self.handle, buf)
        quality = ctypes.c_ulong(0)
        self._call("SGFPM_GetImageQuality", self.handle, self.width, self.height, buf, ctypes.byref(quality))
        return int(quality.value)

    def _wait_finger_off(self, timeout: Optional[float], cancel: Optional[threading.Event]) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        self._pending = None
        while True:
            if self._quality_now() < OFF_QUALITY:
                return True
            if cancel is not None and cancel.wait(POLL_S):
                return False
            if deadline is not None and time.monotonic() >= deadline:
                return False


def create(dev: Any, spec: str, entry: Any = None, **options: Any) -> SecuGenScanner:
    """Factory named by hw/scanners.toml (`driver = "secugen"`); the SDK opens the reader itself."""
    model = f"{entry.vendor} {entry.model}" if entry is not None else "SecuGen Hamster"
    return SecuGenScanner(spec, model=model, vid=dev.idVendor, pid=dev.idProduct, **options)


def open_secugen(rest: str, spec: str, **options: Any) -> SecuGenScanner:
    """`secugen[:LIBRARY]` — the first Hamster the SDK finds, without enumerating USB ourselves."""
    if rest:
        options.setdefault("library", rest)
    return SecuGenScanner(spec, **options)
