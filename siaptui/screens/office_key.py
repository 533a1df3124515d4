"""The office passphrase, typed on a station of an office server (store.url).

Why a dialog at start: a new station has no office key and can read nothing (keyring.py),
and without it the passphrase could only come from SIAPTUI_OFFICE_PASSPHRASE, which
a clerk cannot set.  Two questions, asked by `SiaptuiApp` when the store opens:

- **JoinOfficeDialog**: this station has no key file and the server holds the key wrapped by
  the office passphrase.  The typed passphrase unwraps it and the station writes its own 0600
  key file (`Services.store(office_passphrase=…)`); a wrong one says so and the field is
  cleared for another try.  Esc closes it with `store_station_no_key`'s message.
- **SetOfficePassphraseDialog**: the first station of an office (the server has no wrapped
  copy yet).  The passphrase is typed twice and stored wrapped on the server
  (`keyring.set_office_passphrase`), so further stations can join.  Esc leaves it for later.

The slow part (scrypt, the server) runs in a thread; the dialog stays responsive.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar, Iterable

from textual import on, work
from textual.binding import Binding
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Input, Label, Static

from siaptui.errors import explain
from siaptui.i18n import t
from siaptui.screens.base import FlowModal, Plain
from siaptui.widgets.fitted_footer import FittedFooter


class OfficeKeyDialog(FlowModal):
    """What both questions share: masked fields, an error line, the work off the UI thread."""

    BINDINGS = [
        Binding("escape", "dismiss_none", "key.office_key.later", id="office-key-later"),
        Binding("enter", "submit", "key.continue", id="office-key-continue", show=False),
    ]
    FIELDS: ClassVar[tuple[str, ...]] = ("office-passphrase",)

    def __init__(self, station: str, server: str) -> None:
        super().__init__()
        self.station = station
        self.server = server
        self.busy = False

    def compose_fields(self) -> Iterable[Widget]:  # pragma: no cover - overridden
        return ()

    def compose(self) -> Iterable[Widget]:
        with Vertical(id="dialog"):
            yield from self.compose_fields()
            yield Plain("", id="office-key-error", classes="field-error")
        yield FittedFooter()

    @on(Input.Submitted)
    def _entered(self, event: Input.Submitted) -> None:
        """Enter arrives after the characters typed before it, so the whole value is read."""
        event.stop()
        self.action_submit()

    def action_dismiss_none(self) -> None:
        """Esc, unless the passphrase is being checked (its answer decides what to say)."""
        if not self.busy:
            super().action_dismiss_none()

    def field(self, name: str) -> Input:
        return self.query_one(f"#{name}", Input)

    def say(self, text: str) -> None:
        self.query_one("#office-key-error", Static).update(text)

    def action_submit(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def start_over(self, text: str) -> None:
        """Clear every field and show why, for another try."""
        for name in self.FIELDS:
            self.field(name).value = ""
        self.field(self.FIELDS[0]).focus()
        self.say(text)


class JoinOfficeDialog(OfficeKeyDialog):
    """A new station: the office passphrase unwraps the server's copy of the key."""

    def compose_fields(self) -> Iterable[Widget]:
        yield Plain(t("office_key.join.title"), classes="big")
        yield Plain(t("office_key.join.body", station=self.station, server=self.server), classes="notice")
        yield Label(t("office_key.passphrase"), classes="field-label")
        yield Input(password=True, id="office-passphrase")
        yield Plain(t("office_key.join.hint"), classes="hint")

    def action_submit(self) -> None:
        passphrase = self.field("office-passphrase").value
        if self.busy:
            return
        if not passphrase:
            self.say(t("office_key.empty"))
            return
        self.busy = True
        self.say(t("office_key.working"))
        self._join(passphrase)

    @work(exclusive=True, group="office-key")
    async def _join(self, passphrase: str) -> None:
        services = self.app.services  # type: ignore[attr-defined]  # a SiaptuiApp; Screen.app is typed as App
        try:
            await asyncio.to_thread(services.store, office_passphrase=passphrase)
        except Exception as exc:  # noqa: BLE001 - a wrong passphrase, a lost server: say it, try again
            self.busy = False
            self.start_over(explain(exc))
            return
        self.dismiss(True)


class SetOfficePassphraseDialog(OfficeKeyDialog):
    """The first station of an office: the office passphrase, typed twice, wraps the key on the server."""

    FIELDS = ("office-passphrase", "office-passphrase-again")

    def compose_fields(self) -> Iterable[Widget]:
        from siaptui.store.keyring import MIN_OFFICE_PASSPHRASE

        yield Plain(t("office_key.set.title"), classes="big")
        yield Plain(t("office_key.set.body", server=self.server, minimum=MIN_OFFICE_PASSPHRASE), classes="notice")
        yield Label(t("office_key.passphrase"), classes="field-label")
        yield Input(password=True, id="office-passphrase")
        yield Label(t("office_key.passphrase_again"), classes="field-label")
        yield Input(password=True, id="office-passphrase-again")
        yield Plain(t("office_key.set.hint"), classes="hint")

    def action_submit(self) -> None:
        first, again = self.field("office-passphrase"), self.field("office-passphrase-again")
        if self.busy:
            return
        if first.value != again.value:
            self.start_over(t("office_key.mismatch"))
            return
        self.busy = True
        self.say(t("office_key.working"))
        self._set(first.value)

    @work(exclusive=True, group="office-key")
    async def _set(self, passphrase: str) -> None:
        from siaptui.store.keyring import set_office_passphrase

        services = self.app.services  # type: ignore[attr-defined]  # a SiaptuiApp; Screen.app is typed as App
        try:
            await asyncio.to_thread(set_office_passphrase, services.store(), passphrase)
        except Exception as exc:  # noqa: BLE001 - too short, set meanwhile by another station, server lost
            self.busy = False
            if getattr(exc, "code", "") == "store_office_passphrase_exists":
                self.dismiss(exc)
                return
            self.start_over(explain(exc))
            return
        self.dismiss(True)
