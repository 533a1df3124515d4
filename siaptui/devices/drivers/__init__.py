"""USB scanner drivers, one module per driver; hw/scanners.toml names the module for each VID:PID.

Each module exposes `create(dev, spec, entry, **options) -> Scanner` where `dev` is a pyusb
Device (from any backend: real libusb, replay, emulator) and `entry` its scanners.toml row.

Adding another libfprint image device = one new module here plus its `[[scanner]]` entry
(`status = "supported"`, `driver = "<module>"`) in hw/scanners.toml.  Optional:
`replay_options(backend) -> dict` when the host sends random values (uru4000's scramble seed)
that a replay of a recording must reproduce.  Use `siaptui.devices.usbtransport.UsbTransport`
for claiming and error mapping.
"""

from __future__ import annotations
