"""The sandbox portal: a real server for the contract (portal-api.yaml) with its own SQLite
store (`store`), seed data (`seed`), certificate authority (`ca`), fault switches and their
middleware (`faults`), ASGI app (`app`) assembling the per-resource `routes`, runner (`server`)
and command (`cli`).  Used for training (`siaptui demo`), the demo, and every portal test.
Import the submodules; this file imports nothing heavy."""

from __future__ import annotations
