"""`open_scanner(spec)`: turn a device spec string into a `Scanner`, importing only what it needs.

Specs (docs/architecture.md):

* `usb` — the first known, supported reader on the bus (hw/scanners.toml decides which);
* `usb:VID:PID[:serial]` — that reader (hex ids, e.g. `usb:05ba:000a`);
* `replay:DIR` — a recorded USB session (usbmon pcapng or umockdev ioctl) run through the real driver;
* `emulator:uru4500[:OPTION=VALUE...]` — the U.are.U 4500 emulator (faults for tests/training,
  see `siaptui.devices.emulator.parse_options`);
* `sim` — synthetic fingers (`siaptui.devices.sim.SimScanner`);
* `folder:DIR` — images from a folder, in name order;
* `secugen[:LIBRARY]` — a SecuGen Hamster through the maker's FDx SDK Pro (also reached via `usb`).

Driver modules are imported lazily so that choosing `sim` never loads pyusb, and a missing
optional piece produces a clear `ScannerError` instead of an ImportError at start-up.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

from siaptui.devices.base import Scanner, UnsupportedDevice

# prefix -> "module:factory"; each factory takes (rest_of_spec, spec, **options) -> Scanner.
FACTORIES: dict[str, str] = {
    "usb": "siaptui.devices.usbopen:open_usb",
    "replay": "siaptui.devices.replay:open_replay",
    "emulator": "siaptui.devices.emulator:open_emulator",
    "folder": "siaptui.devices.folder:open_folder",
    "sim": "siaptui.devices.registry:_open_sim",
    "secugen": "siaptui.devices.drivers.secugen:open_secugen",
}


def split_spec(spec: str) -> tuple[str, str]:
    """`"replay:/x/y"` -> `("replay", "/x/y")`; only the first colon separates (paths may hold more)."""
    text = (spec or "").strip()
    prefix, _, rest = text.partition(":")
    return prefix.strip().lower(), rest.strip()


def _open_sim(rest: str, spec: str, **options: Any) -> Scanner:
    """`sim` has its own option names; we pass them through untouched."""
    from siaptui.devices.sim import SimScanner

    return SimScanner(**options)


def open_scanner(spec: str, **options: Any) -> Scanner:
    """Build (not yet open) the scanner for `spec`; call `.open()` or use it as a context manager.

    Raises `UnsupportedDevice` (code `device_unsupported`) for an unknown or malformed spec, with
    the spec in the message so the clerk can correct the setting.
    """
    prefix, rest = split_spec(spec)
    target = FACTORIES.get(prefix)
    if target is None:
        raise UnsupportedDevice(f"unknown device spec {spec!r}", spec=spec or "(vacío)")
    module_name, _, name = target.partition(":")
    factory: Callable[..., Scanner] = getattr(importlib.import_module(module_name), name)
    return factory(rest, spec.strip(), **options)
