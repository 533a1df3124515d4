"""The sandbox portal: a real server for contract v1 (portal-api.yaml) with its own SQLite
store (`store`), seed data (`seed`), certificate authority (`ca`), fault switches (`faults`),
ASGI app (`app`), runner (`server`) and command (`cli`).  Used for training (`siaptui demo`),
the demo, and every portal test.  Import the submodules; this file imports nothing heavy."""

from __future__ import annotations
