"""`usb`, `usb:VID:PID[:serial]` (and, with their own backends, `replay:` and `emulator:`) specs.

`UsbScanner` finds its device on `open()`, not when constructed: after an unplug the old pyusb
`Device` is dead (the reader comes back at a new address), so reconnecting is simply
`close()` + `open()` — see `Scanner.reconnect`.  The driver for a VID:PID comes from
hw/scanners.toml (`driver = "uru4000"` → `siaptui.devices.drivers.uru4000.create`).
"""

from __future__ import annotations

import importlib
import threading
from typing import Any, Callable, Optional

from siaptui.devices import hwdb
from siaptui.devices.base import DeviceInfo, DeviceNotFound, Frame, Scanner, UnsupportedDevice
from siaptui.devices.usbtransport import find_devices, load_backend


def parse_usb_target(rest: str, spec: str) -> tuple[Optional[int], Optional[int], str]:
    """`"05ba:000a:SERIAL"` -> (0x05ba, 0x000a, "SERIAL"); `""` -> (None, None, "")."""
    if not rest:
        return None, None, ""
    parts = rest.split(":", 2)
    try:
        vid = int(parts[0], 16)
        pid = int(parts[1], 16) if len(parts) > 1 and parts[1] else None
    except ValueError:
        raise UnsupportedDevice(f"bad USB id in {spec!r}", spec=spec) from None
    return vid, pid, parts[2] if len(parts) > 2 else ""


def driver_for(dev: Any, spec: str, **options: Any) -> Scanner:
    """The driver scanner for an enumerated device, as hw/scanners.toml says."""
    entry = hwdb.lookup(dev.idVendor, dev.idProduct)
    usb = f"{dev.idVendor:04x}:{dev.idProduct:04x}"
    if entry is None or not entry.usable:
        model = entry.model if entry else usb
        raise UnsupportedDevice(f"{usb} {model} is not supported", spec=spec, usb_id=usb, model=model)
    module = importlib.import_module(f"siaptui.devices.drivers.{entry.driver}")  # named by hw/scanners.toml
    scanner: Scanner = module.create(dev, spec, entry, **options)
    return scanner


class UsbScanner(Scanner):
    """A USB reader found by VID/PID/serial on a pyusb backend, driven by its hw-table driver."""

    def __init__(self, spec: str, vid: Optional[int] = None, pid: Optional[int] = None, serial: str = "",
                 backend: Any = None, backend_loader: Callable[[], Any] = load_backend, **options: Any) -> None:
        super().__init__(spec)
        self.vid, self.pid, self.serial = vid, pid, serial
        self._backend = backend
        self._backend_loader = backend_loader
        self._options = options
        self.inner: Optional[Scanner] = None

    @property
    def backend(self) -> Any:
        if self._backend is None:
            self._backend = self._backend_loader()
        return self._backend

    def find(self) -> Any:
        """The pyusb Device to drive; DeviceNotFound / UnsupportedDevice say why not."""
        match: dict[str, int] = {}
        if self.vid is not None:
            match["idVendor"] = self.vid
        if self.pid is not None:
            match["idProduct"] = self.pid
        found = find_devices(self.backend, **match)
        if self.serial:
            found = [d for d in found if _serial(d) == self.serial]
        if self.vid is None:
            usable = [d for d in found if (e := hwdb.lookup(d.idVendor, d.idProduct)) is not None and e.usable]
            if usable:
                return usable[0]
            known = [d for d in found if hwdb.lookup(d.idVendor, d.idProduct) is not None]
            if known:
                return known[0]  # driver_for() explains why it cannot be used
            raise DeviceNotFound("no known fingerprint reader on the bus", spec=self._spec)
        if not found:
            raise DeviceNotFound(f"{self._spec}: not on the bus", spec=self._spec)
        return found[0]

    def _open(self) -> None:
        dev = self.find()
        inner = driver_for(dev, self._spec, **self._options)
        inner.open()
        self.inner = inner

    def _close(self) -> None:
        if self.inner is not None:
            inner, self.inner = self.inner, None
            inner.close()

    @property
    def info(self) -> DeviceInfo:
        if self.inner is not None:
            return self.inner.info
        return DeviceInfo(spec=self._spec, vid=self.vid or 0, pid=self.pid or 0, serial=self.serial, driver="usb")

    def _wait_finger(self, timeout: Optional[float], cancel: Optional[threading.Event]) -> bool:
        assert self.inner is not None
        return self.inner.wait_finger(timeout, cancel)

    def _capture(self, timeout: Optional[float], cancel: Optional[threading.Event]) -> Frame:
        assert self.inner is not None
        return self.inner.capture(timeout, cancel)

    def _wait_finger_off(self, timeout: Optional[float], cancel: Optional[threading.Event]) -> bool:
        assert self.inner is not None
        return self.inner.wait_finger_off(timeout, cancel)


def _serial(dev: Any) -> str:
    try:
        return str(dev.serial_number or "")
    except (ValueError, OSError, NotImplementedError):
        return ""


def open_usb(rest: str, spec: str, **options: Any) -> UsbScanner:
    vid, pid, serial = parse_usb_target(rest, spec)
    return UsbScanner(spec, vid, pid, serial, **options)
