"""Pendientes (F8): who on the employer's roster is due, overdue, transferable or done.

Why: new hires must be enrolled within 5 business days of their alta; the portal knows the
roster and computes each deadline with the official holidays, this screen turns it into the
clerk's to-do list (`siaptui.enrollment.roster`: status today, most urgent first).  Enter on a
worker starts their enrollment — or their transfer — on Trabajador, filled in and confirmed by
the portal's lookup.  The list and the Bandeja's folios export as CSV (written atomically, the
path is shown).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Iterable, List, Optional

from textual import on, work
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static

from siaptui.enrollment.roster import STATUSES, RosterLine, fetch_roster, filtered, lines_for, write_roster_csv
from siaptui.errors import SiaptuiError
from siaptui.files import export_path
from siaptui.i18n import t
from siaptui.screens.base import FlowScreen, Plain
from siaptui.screens.worker import masked

FILTERS = (None, *STATUSES)
"""The status filter cycles: all, then each status."""

NAME_WIDTH = 22


def short_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


class PendingScreen(FlowScreen):
    SCREEN_ID = "pending"
    AUTO_FOCUS = "DataTable"
    DEFAULT_CSS = """
    PendingScreen #filter { margin-top: 0; }
    """
    BINDINGS = [
        Binding("slash", "focus_filter", "key.pending.search", id="pending-search"),
        Binding("s", "cycle_status", "key.pending.status", id="pending-status"),
        Binding("e", "export", "key.pending.export", id="pending-export"),
        Binding("f5", "reload", "key.reload", id="pending-reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.lines: List[RosterLine] = []
        """The whole roster, most urgent first (as the portal answered it last)."""
        self.shown: List[RosterLine] = []
        self.status_filter: Optional[str] = None
        self.loaded = False
        self._under_dialog = False

    def compose_body(self) -> Iterable[Widget]:
        yield Plain("", id="counts")
        yield Input(placeholder=t("pending.filter"), id="filter")
        yield DataTable(cursor_type="row", zebra_stripes=False, id="roster")
        yield Plain("", id="detail", classes="hint")

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one(DataTable)
        for key in ("pending.col.name", "pending.col.nss", "pending.col.start", "pending.col.deadline",
                    "pending.col.status"):
            table.add_column(t(key), key=key)

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        if not self._under_dialog:
            self.action_reload()

    def on_screen_suspend(self) -> None:
        # Help or the discard question over the list: closing it keeps the list and what the
        # status line says (a reload would clear the answer to "go back and finish").
        self._under_dialog = isinstance(self.app.screen, ModalScreen)

    def today(self) -> date:
        return date.fromtimestamp(self.siaptui.services.now())

    # -- the roster ----------------------------------------------------------------------------
    def action_reload(self) -> None:
        if self.siaptui.services.credential is None:
            from siaptui.portal.errors import NotLoggedIn

            self.show_error(NotLoggedIn())  # the roster is the employer's: after the e.firma login
            return
        self.show_info(t("pending.loading"))
        self._load()

    @work(exclusive=True, group="pending")
    async def _load(self) -> None:
        try:
            client = await self.siaptui.services.client()
            entries = await fetch_roster(client)
        except Exception as exc:  # noqa: BLE001 - message + next step; the last list stays
            self.show_error(exc)
            return
        self.show_roster(entries)

    def show_roster(self, entries: Iterable[Any]) -> None:
        """Show the portal's `RosterEntry`s, judged against today's date."""
        self.lines = lines_for(entries, self.today())
        self.loaded = True
        self.clear_status()
        self._fill()

    def _fill(self) -> None:
        counts = {status: sum(1 for line in self.lines if line.status == status) for status in STATUSES}
        shown_filter = t(f"pending.status.{self.status_filter}") if self.status_filter else t("pending.all")
        self.query_one("#counts", Static).update(
            t("pending.counts", today=short_date(self.today()), filter=shown_filter, **counts))
        text = self.query_one("#filter", Input).value
        self.shown = filtered(self.lines, self.status_filter, text)
        table = self.query_one(DataTable)
        table.clear()
        for line in self.shown:
            name = line.name if len(line.name) <= NAME_WIDTH else line.name[:NAME_WIDTH - 1] + "…"
            table.add_row(name, masked(line.nss), short_date(line.start_date), short_date(line.deadline),
                          t(f"pending.status.{line.status}"), key=line.nss)
        detail = t("pending.enter_hint") if self.shown else t("pending.none" if not self.lines else "pending.no_match")
        self.query_one("#detail", Static).update(detail)

    @on(Input.Changed, "#filter")
    def _filter_typed(self, event: Input.Changed) -> None:
        if self.loaded:
            self._fill()

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one(DataTable).focus()

    def action_focus_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_cycle_status(self) -> None:
        self.status_filter = FILTERS[(FILTERS.index(self.status_filter) + 1) % len(FILTERS)]
        self._fill()

    # -- Enter: this worker's enrollment or transfer -------------------------------------------
    @on(DataTable.RowSelected, "#roster")
    def _chosen(self, event: DataTable.RowSelected) -> None:
        nss = str(event.row_key.value)
        line = next((line for line in self.shown if line.nss == nss), None)
        if line is None:
            return
        self.siaptui.leave_held_capture(
            lambda: self.siaptui.start_new_worker(prefill=(line.nss, line.curp)),
            lambda: self.show_info(t("pending.capture_in_progress"), "error"))

    # -- CSV -----------------------------------------------------------------------------------
    def action_export(self) -> None:
        services = self.siaptui.services
        header = [t(f"pending.csv.{name}") for name in ("name", "nss", "curp", "start", "deadline", "status")]
        names = {status: t(f"pending.status.{status}") for status in STATUSES}
        try:
            path = write_roster_csv(export_path(services.data_dir(), "pendientes", services.now()),
                                    self.shown, header, names)
        except SiaptuiError as exc:
            self.show_error(exc)
            return
        self.show_info(t("pending.exported", count=len(self.shown), path=str(path)), "ok")
