"""The screen registry: screen id -> its class, imported only when first shown.

Why lazy: the first screen (login) must paint fast on an old PC, so the capture screen's numpy
and preview widgets are imported only when the clerk reaches them.  A screen is added with one
branch in `load`; `SiaptuiApp.goto(id)` does the rest (one instance per id, kept while the app
runs, so Esc never loses what was typed).

A screen class takes no constructor arguments and reads `self.app.flow`, `self.app.settings`
and `self.app.services` (see docs/architecture.md, TUI section).
"""

from __future__ import annotations

from textual.screen import Screen

SCREEN_IDS = (
    "login",
    "worker",
    "consent",
    "capture",
    "review",
    "submit",
    "receipt",
    "transfer",
    "verify",
    "verify_capture",
    "pending",
    "acuse",
    "outbox",
    "doctor",
    "settings",
    "training",
    "help",
    "quit_confirm",
)


def load(screen_id: str) -> type[Screen]:
    """The screen class registered under `screen_id` (KeyError for an unknown id)."""
    if screen_id == "login":
        from siaptui.screens.login import LoginScreen

        return LoginScreen
    if screen_id == "worker":
        from siaptui.screens.worker import WorkerScreen

        return WorkerScreen
    if screen_id == "consent":
        from siaptui.screens.consent import ConsentScreen

        return ConsentScreen
    if screen_id == "capture":
        from siaptui.screens.capture import CaptureScreen

        return CaptureScreen
    if screen_id == "review":
        from siaptui.screens.review import ReviewScreen

        return ReviewScreen
    if screen_id == "submit":
        from siaptui.screens.submit import SubmitScreen

        return SubmitScreen
    if screen_id == "receipt":
        from siaptui.screens.receipt import ReceiptScreen

        return ReceiptScreen
    if screen_id == "transfer":
        from siaptui.screens.transfer import TransferScreen

        return TransferScreen
    if screen_id == "verify":
        from siaptui.screens.verify import VerifyScreen

        return VerifyScreen
    if screen_id == "verify_capture":
        from siaptui.screens.verify_capture import VerifyCaptureScreen

        return VerifyCaptureScreen
    if screen_id == "pending":
        from siaptui.screens.pending import PendingScreen

        return PendingScreen
    if screen_id == "acuse":
        from siaptui.screens.acuse import AcuseScreen

        return AcuseScreen
    if screen_id == "outbox":
        from siaptui.screens.outbox import OutboxScreen

        return OutboxScreen
    if screen_id == "doctor":
        from siaptui.screens.doctor import DoctorScreen

        return DoctorScreen
    if screen_id == "settings":
        from siaptui.screens.settings import SettingsScreen

        return SettingsScreen
    if screen_id == "training":
        from siaptui.screens.training import TrainingScreen

        return TrainingScreen
    if screen_id == "help":
        from siaptui.screens.help import HelpScreen

        return HelpScreen
    if screen_id == "quit_confirm":
        from siaptui.screens.quit_confirm import QuitConfirmScreen

        return QuitConfirmScreen
    raise KeyError(screen_id)
