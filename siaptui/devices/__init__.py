"""Fingerprint scanners: one `Scanner` interface over USB drivers, replay, emulator, sim, folders.

Import-free on purpose: `siaptui --help` must not pay for numpy or pyusb.  Use
`siaptui.devices.registry.open_scanner(spec)` and `siaptui.devices.base` directly.
"""

from __future__ import annotations
