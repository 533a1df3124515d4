"""USB scanner drivers, one module per driver; hw/scanners.toml names the module for each VID:PID.

Each module exposes `create(dev, spec, entry, **options) -> Scanner` where `dev` is a pyusb
Device (from any backend) and `entry` is the matching row of scanners.toml.
"""

from __future__ import annotations
