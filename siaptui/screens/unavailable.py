"""The honest placeholder for a step whose screen is not in this build yet.

Why: the flow must never pretend.  If a colleague's screen (e.g. capture) is missing, the clerk
sees which step is not available and can go back with Esc; nothing is faked as done.
"""

from __future__ import annotations

from typing import Iterable

from textual.widget import Widget

from siaptui.flow import Step
from siaptui.i18n import t
from siaptui.screens.base import FlowScreen, Plain


class UnavailableScreen(FlowScreen):
    """Shown instead of a registered screen whose module is missing."""

    def __init__(self, screen_id: str) -> None:
        self.SCREEN_ID = screen_id
        try:
            self.STEP = Step(screen_id)
        except ValueError:
            self.STEP = None
        super().__init__()

    def compose_body(self) -> Iterable[Widget]:
        yield Plain(t("app.unavailable", step=t(f"screen.{self.SCREEN_ID}")), classes="notice")
