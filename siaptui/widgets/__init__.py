"""Widgets of the TUI: one module per widget (step bar here; capture widgets by their owners)."""

from __future__ import annotations
