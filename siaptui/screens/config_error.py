"""The first thing shown when siaptui.toml is bad: what is wrong, and start with defaults.

Why a dialog instead of refusing to start: a clerk cannot fix a TOML file, but can still
enroll workers with the defaults; the technician sees exactly which file and key to fix.
"""

from __future__ import annotations

from typing import Iterable

from textual.binding import Binding
from textual.containers import Vertical
from textual.widget import Widget

from siaptui.errors import describe
from siaptui.i18n import t
from siaptui.screens.base import FlowModal, Plain
from siaptui.widgets.fitted_footer import FittedFooter


class ConfigErrorScreen(FlowModal):
    BINDINGS = [
        Binding("enter", "continue", "key.use_defaults", id="config-defaults", priority=True),
    ]

    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error

    def compose(self) -> Iterable[Widget]:
        message, fix = describe(self.error)
        with Vertical(id="dialog"):
            yield Plain(t("config_error.title"), classes="big")
            yield Plain(message, classes="field-error")
            yield Plain(fix, classes="notice")
            yield Plain(t("config_error.question"), classes="warning")
        yield FittedFooter()

    def action_continue(self) -> None:
        self.dismiss(None)
