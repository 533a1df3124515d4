"""Ctrl+Q with something that quitting would affect: ask, and say exactly what happens.

Why only then: fingerprints captured but not yet in the outbox are lost on quitting; unsent
outbox items stay in the local store and are sent at the next start (in Modo práctica the
practice outbox is discarded).  With nothing of the kind, asking would only teach clerks to
press "yes" blindly.  Starting another worker loses those fingerprints the same way, so it asks
the same question (`DiscardCaptureScreen`, see `SiaptuiApp.leave_held_capture`).
"""

from __future__ import annotations

from typing import Iterable, List, Optional

from textual.binding import Binding
from textual.containers import Vertical
from textual.widget import Widget

from siaptui.i18n import t
from siaptui.screens.base import FlowModal, Plain
from siaptui.screens.worker import masked
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


class DiscardCaptureScreen(FlowModal):
    """Another worker is about to start while one worker's captured fingers are not yet in the
    outbox: discard them (S) or go back to finish that submission (N, Esc)."""

    BINDINGS = [
        Binding("s", "answer(True)", "key.discard_yes", id="discard-yes"),
        Binding("y", "answer(True)", "key.discard_yes", id="discard-yes-en", show=False),
        Binding("n", "answer(False)", "key.discard_no", id="discard-no"),
        Binding("escape", "answer(False)", "key.discard_no", id="discard-no-esc", show=False),
    ]

    def __init__(self, held_nss: Optional[str]) -> None:
        super().__init__()
        self.held_nss = held_nss or ""

    def compose(self) -> Iterable[Widget]:
        with Vertical(id="dialog"):
            yield Plain(t("discard.title"), classes="big")
            yield Plain(t("discard.held", nss=masked(self.held_nss)), classes="notice")
            yield Plain(t("discard.question"), classes="warning")
        yield FittedFooter()

    def action_answer(self, discard: bool) -> None:
        self.dismiss(discard)
