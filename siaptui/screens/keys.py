"""Bindings whose footer texts come from the catalog, resolved when a screen is built.

Why: class-level `BINDINGS` are evaluated at import time, before the language is known (and a
test process switches languages between tests).  We write catalog keys (`"key.back"`) as the
descriptions and translate them per instance, keeping ids so `App.set_keymap` can remap keys.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from textual.binding import BindingsMap
from textual.dom import DOMNode

from siaptui.i18n import t


def localize(node: DOMNode) -> None:
    """Replace `key.*` descriptions/tooltips of the node's bindings by their catalog text."""
    translated: dict = {}
    for key, bindings in node._bindings.key_to_bindings.items():
        out = []
        for binding in bindings:
            changes: dict[str, Any] = {}
            if binding.description.startswith("key."):
                changes["description"] = t(binding.description)
            if binding.tooltip.startswith("key."):
                changes["tooltip"] = t(binding.tooltip)
            out.append(dataclasses.replace(binding, **changes) if changes else binding)
        translated[key] = out
    node._bindings = BindingsMap.from_keys(translated)
