"""Bandeja: every enrollment this terminal committed — pending, sent (with folio), failing
(the sender retries it by itself) or rejected (the clerk must act; the detail says how) — with
"Reintentar", a filter by those four, and an encrypted export and import to finish the sending
from another terminal (the dialogs are in outbox_dialogs).

Why: the portal fails at month-end; the clerk must see at a glance that nothing was lost, what
is still being sent without their help, and what only they can put right.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Iterable, Optional

from textual import on, work
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import DataTable, Static

from siaptui.acuse.record import local_time
from siaptui.errors import SiaptuiError, describe
from siaptui.i18n import has, t
from siaptui.screens.base import FlowScreen, Plain
from siaptui.screens.outbox_dialogs import ArcoDialog, ExportDialog, ImportDialog
from siaptui.screens.worker import masked
from siaptui.services import send_outbox_item
from siaptui.store.outbox import STANDINGS, OutboxItem

FILTERS = (None, *STANDINGS)
"""S cycles: all, then each standing."""


def state_label(item: OutboxItem) -> str:
    """The item's state as the Bandeja and its CSV name it: "rechazado" apart from "con falla"."""
    return t("outbox.state.rejected" if item.rejected else f"outbox.state.{item.state}")


def reason_text(item: OutboxItem) -> str:
    """The failure reason as the clerk reads it (the error's catalog text when there is one)."""
    failure = item.failure()
    if failure is None:
        return ""
    return describe_failure(failure)[0] if has(f"error.{failure.code}") else failure.code


def describe_failure(error: BaseException) -> tuple[str, str]:
    """describe(), with a finger the portal named by its position shown by its name."""
    params = getattr(error, "params", None) or {}
    finger = params.get("finger")
    if isinstance(error, SiaptuiError) and isinstance(finger, int) and 1 <= finger <= 10:
        from siaptui.enrollment.protocol import finger_label

        error = SiaptuiError(error.detail, code=error.code, **{**params, "finger": finger_label(finger)})
    return describe(error)


class OutboxScreen(FlowScreen):
    SCREEN_ID = "outbox"
    AUTO_FOCUS = "DataTable"
    BINDINGS = [
        Binding("r", "retry", "key.retry", id="outbox-retry"),
        Binding("a", "open_acuse", "key.open_acuse", id="outbox-acuse"),
        Binding("e", "export", "key.export", id="outbox-export"),
        Binding("c", "export_csv", "key.export_csv", id="outbox-export-csv"),
        Binding("i", "import_bundle", "key.import", id="outbox-import"),
        Binding("s", "cycle_status", "key.outbox.status", id="outbox-status"),  # the counts line names S
        Binding("b", "arco", "key.arco", id="outbox-arco"),
        Binding("f5", "reload", "key.reload", id="outbox-reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.status_filter: Optional[str] = None
        """The standing shown (None: all)."""

    def compose_body(self) -> Iterable[Widget]:
        yield Plain("", id="counts")
        table: DataTable = DataTable(cursor_type="row", zebra_stripes=False, id="items")
        yield table
        yield Plain("", id="detail", classes="hint")

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one(DataTable)
        for key in ("outbox.col.id", "outbox.col.worker", "outbox.col.state", "outbox.col.attempts", "outbox.col.info"):
            table.add_column(t(key), key=key)

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self.action_reload()

    def action_reload(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        try:
            items = self.siaptui.services.store().outbox.items()
        except Exception as exc:  # noqa: BLE001 - a store problem is shown with its fix, never a traceback
            self.show_error(exc)
            return
        tally = Counter(item.standing for item in items)
        shown = t(f"outbox.filter.{self.status_filter}" if self.status_filter else "outbox.filter.all")
        self.query_one("#counts", Static).update("\n".join((
            t("outbox.counts", pending=tally["pending"], sent=tally["sent"], filter=shown),
            t("outbox.counts.retrying_next" if tally["retrying"] else "outbox.counts.retrying",
              count=tally["retrying"]),
            t("outbox.counts.rejected_next" if tally["rejected"] else "outbox.counts.rejected",
              count=tally["rejected"]),
        )))
        listed = [item for item in reversed(items) if self.status_filter in (None, item.standing)]
        for item in listed:
            info = item.folio or reason_text(item) or ""
            state = state_label(item) + (f" ({t('outbox.training')})" if item.training else "")
            table.add_row(str(item.id), masked(item.worker_nss), state, str(item.attempts), info[:40], key=str(item.id))
        if not listed:
            self.query_one("#detail", Static).update(t("outbox.no_match", filter=shown) if items else t("outbox.empty"))

    def action_cycle_status(self) -> None:
        self.status_filter = FILTERS[(FILTERS.index(self.status_filter) + 1) % len(FILTERS)]
        self.action_reload()

    def _selected(self) -> Optional[int]:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        row_key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return int(str(row_key.value))

    def _selected_item(self) -> Optional[OutboxItem]:
        """The item under the cursor, read again from the store (None, and said why, if it cannot be)."""
        item_id = self._selected()
        if item_id is None:
            return None
        try:
            return self.siaptui.services.store().outbox.get(item_id)
        except Exception as exc:  # noqa: BLE001 - message + next step
            self.show_error(exc)
            return None

    @on(DataTable.RowHighlighted)
    def _show_detail(self, event: DataTable.RowHighlighted) -> None:
        try:
            item = self.siaptui.services.store().outbox.get(int(str(event.row_key.value)))
        except Exception:  # noqa: BLE001 - a vanished row just shows nothing
            return
        if item.state == "sent":
            text = t("outbox.detail.sent", folio=item.folio or "-", when=local_time(item.received_at or ""))
        elif item.reason:
            message, fix = describe_failure(item.failure() or SiaptuiError())
            text = (t("outbox.detail.rejected", message=message, fix=fix) if item.rejected else
                    t("outbox.detail.failed", message=message, fix=fix, when=self._when(item.next_attempt_at)))
        else:
            text = t("outbox.detail.pending")
        self.query_one("#detail", Static).update(text)

    def _when(self, moment: Optional[float]) -> str:
        """The next automatic attempt as the clerk's clock shows it ("enseguida" once it is due)."""
        if moment is None or moment <= self.siaptui.services.now():
            return t("outbox.when_now")
        return t("outbox.when_at", time=datetime.fromtimestamp(moment).strftime("%H:%M"))

    def action_open_acuse(self) -> None:
        """The selected item's acuse, to see its QR, save it again or reprint it."""
        item = self._selected_item()
        if item is None:
            return
        if item.state != "sent":
            self.show_info(t("acuse.not_sent"), "error")
            return
        screen = self.siaptui.screen_for("acuse")
        screen.item_id = item.id  # type: ignore[attr-defined]  # the acuse screen's own attribute, set before it opens
        self.siaptui.goto("acuse")

    def action_retry(self) -> None:
        """R: send the selected item now — unless the portal rejected its data, which a resend
        would only repeat (the clerk is told what to do instead)."""
        item = self._selected_item()
        if item is None:
            return
        if item.rejected and item.has_payload:
            _, fix = describe_failure(item.failure() or SiaptuiError())
            self.show_info(t("outbox.rejected_no_retry", id=item.id, fix=fix), "error")
            return
        self._retry(item.id)

    @work(exclusive=True, group="outbox")
    async def _retry(self, item_id: int) -> None:
        services = self.siaptui.services
        self.show_info(t("outbox.retrying", id=item_id))
        try:
            services.store().outbox.retry(item_id)
            item = await send_outbox_item(services, item_id)
        except Exception as exc:  # noqa: BLE001 - a store problem is shown with its fix, never a traceback
            message, fix = describe_failure(exc)
            self.show_info(f"{message}\n{fix}".strip(), "error")
            self.action_reload()
            return
        self.show_info(t("outbox.retried", id=item_id, folio=item.folio or "-"), "ok")
        self.action_reload()

    def action_export(self) -> None:
        """E: the unsent work, encrypted, for another terminal — the same export as `siaptui outbox export`."""
        from siaptui.store.export import default_bundle_path

        services = self.siaptui.services
        try:
            waiting = services.store().outbox.pending()
        except Exception as exc:  # noqa: BLE001 - a store problem is shown with its fix, never a traceback
            self.show_error(exc)
            return
        if not waiting:  # no passphrase asked for a file that would hold nothing
            self.show_info(t("outbox.export.nothing"))
            return

        def done(result: Optional[str]) -> None:
            if result:
                self.show_info(result, "ok")

        self.app.push_screen(ExportDialog(default_bundle_path(services.data_dir(), services.now())), done)

    def action_export_csv(self) -> None:
        """The folios (and what is still unsent) as CSV for the employer's records; NSS masked."""
        from siaptui.files import export_path, write_csv
        from siaptui.identity import mask_nss

        services = self.siaptui.services
        try:
            items = services.store().outbox.items()
            header = [t(f"outbox.csv.{name}") for name in ("id", "folio", "nss", "state", "received", "reason")]
            rows = ([item.id, item.folio or "", mask_nss(item.worker_nss), state_label(item),
                     item.received_at or "", reason_text(item)] for item in items)
            path = write_csv(export_path(services.data_dir(), "folios", services.now()), header, rows)
        except Exception as exc:  # noqa: BLE001 - message + next step, never a traceback
            self.show_error(exc)
            return
        self.show_info(t("outbox.csv.done", count=len(items), path=str(path)), "ok")

    def action_import_bundle(self) -> None:
        def done(result: Optional[str]) -> None:
            if result:
                self.show_info(result, "ok")
                self.action_reload()
                self.siaptui.wake_sender()

        self.app.push_screen(ImportDialog(), done)

    def action_arco(self) -> None:
        def done(result: Optional[tuple[str, str]]) -> None:
            if result:
                self.show_info(*result)
                self.action_reload()

        self.app.push_screen(ArcoDialog(), done)
