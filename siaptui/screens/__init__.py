"""The screen registry: screen id -> "module:Class", imported only when first shown.

Why lazy: the first screen (login) must paint fast on an old PC, so the capture screen's numpy
and preview widgets are imported only when the clerk reaches them.  Colleagues add a screen with
one line here; `SiaptuiApp.goto(id)` does the rest (one instance per id, kept while the app runs,
so Esc never loses what was typed).

A screen class takes no constructor arguments and reads `self.app.flow`, `self.app.settings`
and `self.app.services` (see docs/architecture.md, TUI section).
"""

from __future__ import annotations

import importlib
from typing import Dict

SCREENS: Dict[str, str] = {
    "login": "siaptui.screens.login:LoginScreen",
    "worker": "siaptui.screens.worker:WorkerScreen",
    "consent": "siaptui.screens.consent:ConsentScreen",
    "capture": "siaptui.screens.capture:CaptureScreen",
    "review": "siaptui.screens.review:ReviewScreen",
    "submit": "siaptui.screens.submit:SubmitScreen",
    "receipt": "siaptui.screens.receipt:ReceiptScreen",
    "outbox": "siaptui.screens.outbox:OutboxScreen",
    "doctor": "siaptui.screens.doctor:DoctorScreen",
    "settings": "siaptui.screens.settings:SettingsScreen",
    "training": "siaptui.screens.training:TrainingScreen",
    "help": "siaptui.screens.help:HelpScreen",
    "quit_confirm": "siaptui.screens.quit_confirm:QuitConfirmScreen",
}


class ScreenMissing(LookupError):
    """The module of a registered screen is not installed yet (a colleague's part not landed)."""


def load(screen_id: str) -> type:
    """Import and return the screen class registered under `screen_id`.

    Raises KeyError for an unknown id (a programming error) and ScreenMissing when the module
    does not exist yet, so the app can say "no disponible todavía" instead of crashing.
    """
    module_name, _, class_name = SCREENS[screen_id].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        # Our own module (the screen or a service it needs) not there yet: say so on screen.
        # A missing third-party package is a broken installation and must surface as such.
        if exc.name and (exc.name == "siaptui" or exc.name.startswith("siaptui.")):
            raise ScreenMissing(screen_id) from exc
        raise
    try:
        return getattr(module, class_name)
    except AttributeError as exc:
        raise ScreenMissing(screen_id) from exc
