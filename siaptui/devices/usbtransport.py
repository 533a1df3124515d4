"""USB access on pyusb: load a libusb backend, open a reader safely, map errors to ours.

Why one module: every USB driver needs the same careful steps and the same translation of
libusb failures into errors a clerk can act on (`ScannerError` subclasses).  Errors are mapped
by exception class and `errno` *names* (the numbers differ between operating systems).

Rules from the field notes (../shared/notes/scanners-usb.md §3):
* use libusb-package's bundled libusb first (no system library needed), then the system's;
* never `set_configuration` on a configured device (it is a lightweight reset that causes
  timeouts later): read `get_active_configuration()` first;
* detach kernel drivers only where the OS supports it (`NotImplementedError` on Windows);
* permission and driver problems only show at the first I/O, so `open()` performs one.
"""

from __future__ import annotations

import errno
from typing import Any, Callable, Optional

from siaptui.devices.base import (
    DeviceBusy,
    DeviceGone,
    DeviceNotFound,
    DeviceTimeout,
    KernelDriverBound,
    NoBackend,
    PermissionDenied,
    ScannerError,
    WrongDriver,
)

CONTROL_TIMEOUT_MS = 5000
VENDOR_CLASS = 0xFF


def load_backend() -> Any:
    """The libusb-1.0 backend: libusb-package's bundled copy, else the system library.

    Raises `NoBackend` when neither loads (pyusb would raise `NoBackendError` at `find()`).
    """
    try:
        import usb.backend.libusb1 as libusb1
    except ImportError as exc:  # pyusb itself missing: same fix (reinstall)
        raise NoBackend(f"pyusb missing: {exc}") from exc
    try:
        import libusb_package

        backend = libusb_package.get_libusb1_backend()
        if backend is not None:
            return backend
    except (ImportError, OSError):
        pass
    backend = libusb1.get_backend()
    if backend is None:
        raise NoBackend("no libusb-1.0 library found (libusb-package or system)")
    return backend


def map_usb_error(exc: BaseException, **params: Any) -> ScannerError:
    """Translate a pyusb/libusb failure into the matching `ScannerError` (never by raw number)."""
    import usb.core

    detail = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, ScannerError):
        return exc
    if isinstance(exc, NotImplementedError):
        return WrongDriver(detail, **params)
    if isinstance(exc, usb.core.NoBackendError):
        return NoBackend(detail, **params)
    if isinstance(exc, usb.core.USBTimeoutError):
        return DeviceTimeout(detail, **params)
    err = getattr(exc, "errno", None)
    if err == errno.EACCES or err == errno.EPERM:
        return PermissionDenied(detail, **params)
    if err == errno.EBUSY:
        return DeviceBusy(detail, **params)
    if err in (errno.ENODEV, errno.ENOENT, errno.ESHUTDOWN):
        return DeviceGone(detail, **params)
    if err in (errno.ETIMEDOUT, errno.EPIPE, errno.EPROTO, errno.EOVERFLOW, errno.EIO):
        return DeviceTimeout(detail, **params)
    return ScannerError(detail, **params)


def find_devices(backend: Any, **match: Any) -> list[Any]:
    """All devices the backend sees (optionally filtered by idVendor/idProduct)."""
    import usb.core

    try:
        return list(usb.core.find(find_all=True, backend=backend, **match))
    except usb.core.NoBackendError as exc:
        raise NoBackend(str(exc)) from exc
    except (usb.core.USBError, OSError) as exc:
        raise map_usb_error(exc) from exc


def usb_id(dev: Any) -> str:
    return f"{dev.idVendor:04x}:{dev.idProduct:04x}"


class UsbTransport:
    """One opened reader: the claimed vendor interface plus guarded transfer helpers.

    `dev` is a `usb.core.Device` from any backend (real libusb, replay, emulator).
    """

    def __init__(self, dev: Any, interface_class: int = VENDOR_CLASS) -> None:
        self.dev = dev
        self.interface_class = interface_class
        self.interface: Optional[int] = None
        self.params = {"usb_id": usb_id(dev)}

    def guard(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a pyusb call, re-raising its failure as our ScannerError."""
        try:
            return call(*args, **kwargs)
        except ScannerError:
            raise
        except (NotImplementedError, OSError, ValueError) as exc:
            raise map_usb_error(exc, **self.params) from exc

    def open(self) -> None:
        """Configure only if unconfigured, detach kernel drivers where possible, claim."""
        import usb.core
        import usb.util

        dev = self.dev
        try:
            cfg = dev.get_active_configuration()  # first I/O: EACCES / wrong driver show here
        except usb.core.USBError as exc:
            if getattr(exc, "errno", None) is None and "Configuration not set" in str(exc):
                self.guard(dev.set_configuration)
                cfg = self.guard(dev.get_active_configuration)
            else:
                raise map_usb_error(exc, **self.params) from exc
        except (NotImplementedError, OSError, ValueError) as exc:
            raise map_usb_error(exc, **self.params) from exc
        chosen = None
        for intf in cfg:
            if (intf.bInterfaceClass, intf.bInterfaceSubClass, intf.bInterfaceProtocol) == (
                self.interface_class, self.interface_class, self.interface_class):
                chosen = intf.bInterfaceNumber
                break
        if chosen is None:
            raise DeviceNotFound("no vendor interface (FF/FF/FF) on this device", **self.params)
        for intf in cfg:
            self._detach(intf.bInterfaceNumber)
        try:
            usb.util.claim_interface(dev, chosen)
        except usb.core.USBError as exc:
            if getattr(exc, "errno", None) == errno.EBUSY:
                raise DeviceBusy(str(exc), **self.params) from exc
            raise map_usb_error(exc, **self.params) from exc
        except NotImplementedError as exc:
            raise WrongDriver(str(exc), **self.params) from exc
        self.interface = chosen

    def _detach(self, number: int) -> None:
        import usb.core

        try:
            active = self.dev.is_kernel_driver_active(number)
        except NotImplementedError:
            return  # Windows/macOS: no kernel driver concept in libusb
        except usb.core.USBError as exc:
            raise map_usb_error(exc, **self.params) from exc
        if not active:
            return
        try:
            self.dev.detach_kernel_driver(number)
        except (usb.core.USBError, NotImplementedError) as exc:
            raise KernelDriverBound(str(exc), **self.params) from exc

    def close(self) -> None:
        """Release and dispose; an unplugged device must not make this raise."""
        import usb.util

        try:
            if self.interface is not None:
                usb.util.release_interface(self.dev, self.interface)
        except Exception:  # noqa: BLE001 - best effort on a dead or half-open device
            pass
        try:
            usb.util.dispose_resources(self.dev)
        except Exception:  # noqa: BLE001 - best effort on a dead or half-open device
            pass
        self.interface = None

    # -- transfers
    def control_in(self, request: int, value: int, length: int, timeout: int = CONTROL_TIMEOUT_MS) -> bytes:
        data = self.guard(self.dev.ctrl_transfer, 0xC0, request, value, 0, length, timeout)
        return bytes(data)

    def control_out(self, request: int, value: int, payload: bytes, timeout: int = CONTROL_TIMEOUT_MS) -> None:
        sent = self.guard(self.dev.ctrl_transfer, 0x40, request, value, 0, payload, timeout)
        if sent != len(payload):
            raise DeviceTimeout(f"short control write {sent}/{len(payload)}", **self.params)

    def read(self, endpoint: int, size: int, timeout: int, quiet_timeout: bool = False) -> Optional[bytes]:
        """Read from an IN endpoint; with `quiet_timeout`, a plain timeout returns None.

        The interrupt reader polls with a short timeout so it can stop promptly; for it a
        timeout is "nothing happened", not an error.
        """
        import usb.core

        try:
            return bytes(self.dev.read(endpoint, size, timeout))
        except usb.core.USBTimeoutError as exc:
            if quiet_timeout:
                return None
            raise map_usb_error(exc, **self.params) from exc
        except ScannerError:
            raise
        except (NotImplementedError, OSError, ValueError) as exc:
            raise map_usb_error(exc, **self.params) from exc
