"""Notice readers being plugged in and out, without root.

`watch(callback, stop)` blocks until `stop` (a threading.Event) is set — run it in a thread —
and calls `callback("added" | "removed", DeviceInfo)` for fingerprint readers (any VID in
hw/scanners.toml).  On Linux it listens to udev through pyudev (events arrive after the udev
rules ran, so the node already has its permissions); elsewhere, or when netlink is not
available (containers), or for an emulated/replayed bus, it polls pyusb every `interval`
seconds and compares (bus, address, VID, PID) sets — pyusb has no hotplug API.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Optional

from siaptui.devices import hwdb
from siaptui.devices.base import DeviceInfo

log = logging.getLogger(__name__)

Callback = Callable[[str, DeviceInfo], None]


def _interesting(vid: int, pid: int, all_devices: bool) -> bool:
    return all_devices or hwdb.lookup(vid, pid) is not None or hwdb.vendor_name(vid) is not None


def _info(vid: int, pid: int, serial: str = "") -> DeviceInfo:
    entry = hwdb.lookup(vid, pid)
    return DeviceInfo(spec=f"usb:{vid:04x}:{pid:04x}", vid=vid, pid=pid,
                      model=f"{entry.vendor} {entry.model}" if entry else (hwdb.vendor_name(vid) or ""),
                      serial=serial, driver=entry.driver if entry else "")


def snapshot(backend: Any, all_devices: bool = False) -> dict[tuple[int, int, int, int], DeviceInfo]:
    """Readers on a pyusb backend now, keyed by (bus, address, vid, pid)."""
    from siaptui.devices.usbtransport import find_devices

    found = {}
    for dev in find_devices(backend):
        if _interesting(dev.idVendor, dev.idProduct, all_devices):
            found[(dev.bus or 0, dev.address or 0, dev.idVendor, dev.idProduct)] = _info(dev.idVendor, dev.idProduct)
    return found


def poll(callback: Callback, stop: threading.Event, backend: Any, interval: float = 1.0,
         all_devices: bool = False) -> None:
    """The portable fallback: enumerate every `interval` seconds and report the differences."""
    from siaptui.devices.base import ScannerError

    known = snapshot(backend, all_devices)
    while not stop.wait(interval):
        try:
            now = snapshot(backend, all_devices)
        except ScannerError as exc:  # a flaky enumeration is not the end of watching
            log.info("hotplug: enumeration failed: %s", exc)
            continue
        for key in sorted(set(known) - set(now)):
            callback("removed", known[key])
        for key in sorted(set(now) - set(known)):
            callback("added", now[key])
        known = now


def _udev_monitor() -> Any:
    """A started pyudev monitor for USB devices, or None when unavailable."""
    try:
        import pyudev
    except ImportError:
        return None
    try:
        monitor = pyudev.Monitor.from_netlink(pyudev.Context(), source="udev")
        monitor.filter_by(subsystem="usb", device_type="usb_device")
        monitor.start()
        return monitor
    except (OSError, ValueError, RuntimeError) as exc:  # no netlink in containers / sandboxes
        log.info("hotplug: udev monitor unavailable (%s); polling instead", exc)
        return None


def _udev_ids(device: Any) -> Optional[tuple[int, int]]:
    """VID/PID from a udev event; PRODUCT ("5ba/a/103") survives removal when attributes do not."""
    product = device.properties.get("PRODUCT", "")
    parts = product.split("/")
    if len(parts) >= 2:
        try:
            return int(parts[0], 16), int(parts[1], 16)
        except ValueError:
            return None
    return None


def watch(callback: Callback, stop: threading.Event, backend: Any = None, interval: float = 1.0,
          all_devices: bool = False) -> None:
    """Call `callback(event, DeviceInfo)` on plug/unplug until `stop` is set (blocking)."""
    if backend is None:
        monitor = _udev_monitor()
        if monitor is not None:
            _watch_udev(monitor, callback, stop, all_devices)
            return
        from siaptui.devices.usbtransport import load_backend

        backend = load_backend()
    poll(callback, stop, backend, interval, all_devices)


def _watch_udev(monitor: Any, callback: Callback, stop: threading.Event, all_devices: bool) -> None:
    while not stop.is_set():
        device = monitor.poll(timeout=0.1)  # short, so `stop` is honoured promptly
        if device is None:
            continue
        action = {"add": "added", "remove": "removed"}.get(device.action or "")
        ids = _udev_ids(device)
        if action is None or ids is None or not _interesting(ids[0], ids[1], all_devices):
            continue
        callback(action, _info(ids[0], ids[1], device.properties.get("ID_SERIAL_SHORT", "")))


def watch_spec(spec: str, callback: Callback, stop: threading.Event, interval: float = 1.0) -> None:
    """`watch` for a device spec: the emulator's own bus for `emulator:…`, the real bus otherwise.

    `sim`, `folder:` and `replay:` sources cannot be unplugged; for them this just waits for `stop`.
    """
    from siaptui.devices.registry import split_spec

    prefix, rest = split_spec(spec)
    if prefix == "emulator":
        from siaptui.devices.emulator import bus_for

        poll(callback, stop, bus_for(rest, spec), interval)
    elif prefix == "usb":
        watch(callback, stop, interval=interval)
    else:
        stop.wait()
