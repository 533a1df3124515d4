"""Ayuda (F1): what this screen is for and which keys do what, from the catalog.

Why per screen: a clerk stuck on one step needs the two sentences about that step, not a
manual.  The text lives in app.toml as `help.<screen id>` so translators edit it with the rest.
"""

from __future__ import annotations

from typing import Iterable, Sequence, Tuple

from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widget import Widget

from siaptui.i18n import has, t
from siaptui.screens.base import FlowModal, Plain
from siaptui.widgets.fitted_footer import FittedFooter


class HelpScreen(FlowModal):
    BINDINGS = [
        Binding("escape", "close", "key.close", id="help-close"),
        Binding("f1", "close", "key.close", id="help-close-f1", show=False),
    ]

    def __init__(self, screen_id: str, keys: Sequence[Tuple[str, str]] = ()) -> None:
        super().__init__()
        self.screen_id = screen_id
        self.keys = list(keys)
        """(keys as shown, what they do) of every action of the screen beneath: the footer shows
        the few that fit, this lists them all, in the clerk's words."""

    def compose(self) -> Iterable[Widget]:
        key = f"help.{self.screen_id}" if has(f"help.{self.screen_id}") else "help.general"
        with VerticalScroll(id="dialog"):
            screen = t(f"screen.{self.screen_id}") if has(f"screen.{self.screen_id}") else ""
            yield Plain(t("help.title", screen=screen), classes="big")
            yield Plain(t(key), classes="notice")
            if self.keys:
                width = max(len(shown) for shown, _ in self.keys)
                yield Plain("\n".join(f"{shown:<{width}}  {what}" for shown, what in self.keys), classes="hint")
            yield Plain(t("help.keys"), classes="hint")
        yield FittedFooter()

    def action_close(self) -> None:
        self.dismiss(None)
