"""The table of known readers (hw/scanners.toml), shipped as package data.

One home for the facts: hw/scanners.toml, which an installed siaptui carries as siaptui/hw
(see siaptui.shipped).  Drivers, `usb` auto-detection and `siaptui doctor` all read the
table through `lookup()` / `entries()`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Optional


@dataclass(frozen=True)
class Entry:
    """One [[scanner]] row."""

    vid: int
    pid: int
    vendor: str
    model: str
    status: str  # supported | sdk | unsupported
    driver: str = ""
    dpi: int = 500
    width: int = 0
    height: int = 0
    notes: str = ""
    sdk_device: str = ""

    @property
    def usb_id(self) -> str:
        return f"{self.vid:04x}:{self.pid:04x}"

    @property
    def usable(self) -> bool:
        return self.status in ("supported", "sdk") and bool(self.driver)


def _parse(data: dict[str, Any]) -> tuple[list[Entry], dict[int, str]]:
    rows = []
    for raw in data.get("scanner", []):
        rows.append(Entry(vid=int(raw["vid"], 16), pid=int(raw["pid"], 16), vendor=raw["vendor"],
                          model=raw["model"], status=raw["status"], driver=raw.get("driver", ""),
                          dpi=int(raw.get("dpi", 500)), width=int(raw.get("width", 0)),
                          height=int(raw.get("height", 0)), notes=raw.get("notes", ""),
                          sdk_device=raw.get("sdk_device", "")))
    vendors = {int(k, 16): v for k, v in data.get("vendors", {}).items()}
    return rows, vendors


@functools.lru_cache(maxsize=1)
def _load() -> tuple[list[Entry], dict[int, str]]:
    from siaptui.files import read_toml
    from siaptui.shipped import folder

    text = (folder("hw") / "scanners.toml").read_text(encoding="utf-8")
    return _parse(read_toml(text))


def entries() -> list[Entry]:
    return list(_load()[0])


def lookup(vid: int, pid: int) -> Optional[Entry]:
    for entry in _load()[0]:
        if entry.vid == vid and entry.pid == pid:
            return entry
    return None


def vendor_name(vid: int) -> Optional[str]:
    """A fingerprint vendor we know, even when its PID is not in the table."""
    return _load()[1].get(vid)
