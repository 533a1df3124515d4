"""Ctrl+Q with fingerprints captured but not yet in the outbox: ask before losing them.

Why only then: once an enrollment is committed to the outbox it survives quitting (it is sent
later), so quitting is safe and asking would only teach clerks to press "yes" blindly.
"""

from __future__ import annotations

from typing import Iterable

from textual.binding import Binding
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Static

from siaptui.i18n import t
from siaptui.screens.base import FlowModal


class QuitConfirmScreen(FlowModal):
    BINDINGS = [
        Binding("s", "answer(True)", "key.quit_yes", id="quit-yes"),
        Binding("y", "answer(True)", "key.quit_yes", id="quit-yes-en", show=False),
        Binding("n", "answer(False)", "key.quit_no", id="quit-no"),
        Binding("escape", "answer(False)", "key.quit_no", id="quit-no-esc", show=False),
    ]

    def compose(self) -> Iterable[Widget]:
        with Vertical(id="dialog"):
            yield Static(t("quit.title"), classes="big")
            yield Static(t("quit.unsent"), classes="notice")
            yield Static(t("quit.question"), classes="warning")

    def action_answer(self, quit_now: bool) -> None:
        self.dismiss(quit_now)
