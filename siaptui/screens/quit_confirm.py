"""Ctrl+Q with fingerprints captured but not yet in the outbox: ask before losing them.

Why only then: once an enrollment is committed to the outbox it survives quitting (it is sent
later), so quitting is safe and asking would only teach clerks to press "yes" blindly.
"""

from __future__ import annotations

from typing import Iterable

from textual.binding import Binding
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Footer

from siaptui.i18n import t
from siaptui.screens.base import FlowModal, Plain


class QuitConfirmScreen(FlowModal):
    BINDINGS = [
        Binding("s", "answer(True)", "key.quit_yes", id="quit-yes"),
        Binding("y", "answer(True)", "key.quit_yes", id="quit-yes-en", show=False),
        Binding("n", "answer(False)", "key.quit_no", id="quit-no"),
        Binding("escape", "answer(False)", "key.quit_no", id="quit-no-esc", show=False),
    ]

    def compose(self) -> Iterable[Widget]:
        with Vertical(id="dialog"):
            yield Plain(t("quit.title"), classes="big")
            yield Plain(t("quit.unsent"), classes="notice")
            yield Plain(t("quit.question"), classes="warning")
        yield Footer(compact=True)

    def action_answer(self, quit_now: bool) -> None:
        self.dismiss(quit_now)
