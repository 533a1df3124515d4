"""Ctrl+Q with something that quitting would affect: ask, and say exactly what happens.

Why only then: fingerprints captured but not yet in the outbox are lost on quitting; unsent
outbox items stay in the local store and are sent at the next start (in Modo práctica the
practice outbox is discarded).  With nothing of the kind, asking would only teach clerks to
press "yes" blindly.
"""

from __future__ import annotations

from typing import Iterable, List

from textual.binding import Binding
from textual.containers import Vertical
from textual.widget import Widget

from siaptui.i18n import t
from siaptui.screens.base import FlowModal, Plain
from siaptui.widgets.fitted_footer import FittedFooter


def consequences(capturing: bool, unsent: int, training: bool) -> List[str]:
    """What quitting now does, one sentence per thing that would be affected."""
    lines = []
    if capturing:
        lines.append(t("quit.unsent"))
    if unsent:
        lines.append(t("quit.outbox_training" if training else "quit.outbox", count=unsent))
    return lines


class QuitConfirmScreen(FlowModal):
    BINDINGS = [
        Binding("s", "answer(True)", "key.quit_yes", id="quit-yes"),
        Binding("y", "answer(True)", "key.quit_yes", id="quit-yes-en", show=False),
        Binding("n", "answer(False)", "key.quit_no", id="quit-no"),
        Binding("escape", "answer(False)", "key.quit_no", id="quit-no-esc", show=False),
    ]

    def __init__(self, capturing: bool, unsent: int, training: bool) -> None:
        super().__init__()
        self.lines = consequences(capturing, unsent, training)

    def compose(self) -> Iterable[Widget]:
        with Vertical(id="dialog"):
            yield Plain(t("quit.title"), classes="big")
            for line in self.lines:
                yield Plain(line, classes="notice")
            yield Plain(t("quit.question"), classes="warning")
        yield FittedFooter()

    def action_answer(self, quit_now: bool) -> None:
        self.dismiss(quit_now)
