"""Bandeja: every enrollment this terminal committed — pending, sent (with folio) or failed
(with the reason; "rechazado" when the portal refused the data) — with "Reintentar", and an
encrypted export and import to finish the sending from another terminal.

Why: the portal fails at month-end; the clerk must see at a glance that nothing was lost and
what still needs sending, and be able to carry unsent work to a PC with a working link.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Iterable, Optional

from textual import on, work
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import DataTable, Input, Label, Static

from siaptui.errors import SiaptuiError, describe, explain
from siaptui.i18n import has, t
from siaptui.screens.base import FlowModal, FlowScreen, Plain
from siaptui.screens.worker import masked
from siaptui.services import send_outbox_item
from siaptui.store.outbox import OutboxItem
from siaptui.widgets.fitted_footer import FittedFooter


class ExportError(SiaptuiError):
    code = "outbox_export_field"


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
        Binding("b", "arco", "key.arco", id="outbox-arco"),
        Binding("f5", "reload", "key.reload", id="outbox-reload"),
    ]

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
            store = self.siaptui.services.store()
            items = store.outbox.items()
            counts = store.outbox.counts()
        except Exception as exc:  # noqa: BLE001
            self.show_error(exc)
            return
        self.query_one("#counts", Static).update(
            t("outbox.counts", pending=counts.get("pending", 0) + counts.get("sending", 0),
              sent=counts.get("sent", 0), failed=counts.get("failed", 0))
        )
        for item in reversed(items):
            info = item.folio or reason_text(item) or ""
            state = t("outbox.state.rejected" if item.rejected else f"outbox.state.{item.state}")
            state += f" ({t('outbox.training')})" if item.training else ""
            table.add_row(str(item.id), masked(item.worker_nss), state, str(item.attempts), info[:40], key=str(item.id))
        if not items:
            self.query_one("#detail", Static).update(t("outbox.empty"))

    def _selected(self) -> Optional[int]:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        row_key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return int(str(row_key.value))

    @on(DataTable.RowHighlighted)
    def _show_detail(self, event: DataTable.RowHighlighted) -> None:
        try:
            item = self.siaptui.services.store().outbox.get(int(str(event.row_key.value)))
        except Exception:  # noqa: BLE001 - a vanished row just shows nothing
            return
        if item.state == "sent":
            text = t("outbox.detail.sent", folio=item.folio or "-", when=item.received_at or "-")
        elif item.reason:
            message, fix = describe_failure(item.failure() or SiaptuiError())
            text = t("outbox.detail.rejected" if item.rejected else "outbox.detail.failed", message=message, fix=fix)
        else:
            text = t("outbox.detail.pending")
        self.query_one("#detail", Static).update(text)

    def action_open_acuse(self) -> None:
        """The selected item's acuse, to see its QR, save it again or reprint it."""
        item_id = self._selected()
        if item_id is None:
            return
        try:
            item = self.siaptui.services.store().outbox.get(item_id)
        except Exception as exc:  # noqa: BLE001
            self.show_error(exc)
            return
        if item.state != "sent":
            self.show_info(t("acuse.not_sent"), "error")
            return
        screen = self.siaptui.screen_for("acuse")
        screen.item_id = item_id  # type: ignore[attr-defined]
        self.siaptui.goto("acuse")

    def action_retry(self) -> None:
        """R: send the selected item now — unless the portal rejected its data, which a resend
        would only repeat (the clerk is told what to do instead)."""
        item_id = self._selected()
        if item_id is None:
            return
        try:
            item = self.siaptui.services.store().outbox.get(item_id)
        except Exception as exc:  # noqa: BLE001
            self.show_error(exc)
            return
        if item.rejected and item.has_payload:
            _, fix = describe_failure(item.failure() or SiaptuiError())
            self.show_info(t("outbox.rejected_no_retry", id=item_id, fix=fix), "error")
            return
        self._retry(item_id)

    @work(exclusive=True, group="outbox")
    async def _retry(self, item_id: int) -> None:
        services = self.siaptui.services
        self.show_info(t("outbox.retrying", id=item_id))
        try:
            services.store().outbox.retry(item_id)
            item = await send_outbox_item(services, item_id)
        except Exception as exc:  # noqa: BLE001
            message, fix = describe_failure(exc)
            self.show_info(f"{message}\n{fix}".strip(), "error")
            self.action_reload()
            return
        self.show_info(t("outbox.retried", id=item_id, folio=item.folio or "-"), "ok")
        self.action_reload()

    def action_export(self) -> None:
        default = self.siaptui.services.data_dir() / datetime.fromtimestamp(self.siaptui.services.now()).strftime(
            "bandeja-%Y%m%d-%H%M.siaptui"
        )

        def done(result: Optional[str]) -> None:
            if result:
                self.show_info(result, "ok")

        self.app.push_screen(ExportDialog(default), done)

    def action_export_csv(self) -> None:
        """The folios (and what is still unsent) as CSV for the employer's records; NSS masked."""
        from siaptui.files import export_path, write_csv
        from siaptui.identity import mask_nss

        services = self.siaptui.services
        try:
            items = services.store().outbox.items()
            header = [t(f"outbox.csv.{name}") for name in ("id", "folio", "nss", "state", "received", "reason")]
            rows = ([item.id, item.folio or "", mask_nss(item.worker_nss), t(f"outbox.state.{item.state}"),
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


class ExportDialog(FlowModal):
    """Where to write the encrypted bundle, and the passphrase the other terminal will need."""

    BINDINGS = [
        Binding("escape", "dismiss_none", "key.cancel", id="export-cancel"),
        Binding("enter", "export", "key.export", id="export-confirm"),
    ]

    def __init__(self, default_path: Path) -> None:
        super().__init__()
        self.default_path = default_path

    def compose(self) -> Iterable[Widget]:
        from textual.containers import Vertical

        with Vertical(id="dialog"):
            yield Plain(t("outbox.export.title"), classes="big")
            yield Label(t("outbox.export.path"), classes="field-label")
            yield Input(value=str(self.default_path), id="path")
            yield Label(t("outbox.export.passphrase"), classes="field-label")
            yield Input(password=True, id="passphrase")
            yield Label(t("outbox.export.passphrase_again"), classes="field-label")
            yield Input(password=True, id="passphrase-again")
            yield Plain(t("outbox.export.hint"), classes="hint")
            yield Plain("", id="export-error", classes="field-error")
        yield FittedFooter()

    @on(Input.Submitted)
    def _entered(self, event: Input.Submitted) -> None:
        """Enter arrives after the characters typed before it, so the whole value is read."""
        event.stop()
        self.action_export()

    def action_export(self) -> None:
        path = self.query_one("#path", Input).value.strip()
        passphrase = self.query_one("#passphrase", Input).value
        error = self.query_one("#export-error", Static)
        if not path:
            error.update(t("outbox.export.need_path"))
            return
        if len(passphrase) < 8:
            self.query_one("#passphrase", Input).focus()
            error.update(t("outbox.export.need_passphrase"))
            return
        if self.query_one("#passphrase-again", Input).value != passphrase:
            self.query_one("#passphrase-again", Input).value = ""
            self.query_one("#passphrase-again", Input).focus()
            error.update(t("outbox.export.passphrase_mismatch"))
            return
        try:
            from siaptui.store import export

            store = self.app.services.store()  # type: ignore[attr-defined]
            count = export.export_pending(store, Path(path).expanduser(), passphrase)
        except Exception as exc:  # noqa: BLE001
            error.update(explain(exc))
            return
        self.dismiss(t("outbox.export.done", count=count, path=path))


class ImportDialog(FlowModal):
    """Which bundle to import and its passphrase; importing is idempotent (keys are kept)."""

    BINDINGS = [
        Binding("escape", "dismiss_none", "key.cancel", id="import-cancel"),
    ]

    def compose(self) -> Iterable[Widget]:
        from textual.containers import Vertical

        with Vertical(id="dialog"):
            yield Plain(t("outbox.import.title"), classes="big")
            yield Label(t("outbox.import.path"), classes="field-label")
            yield Input(id="import-path")
            yield Label(t("outbox.import.passphrase"), classes="field-label")
            yield Input(password=True, id="import-passphrase")
            yield Plain(t("outbox.import.hint"), classes="hint")
            yield Plain("", id="import-error", classes="field-error")
        yield FittedFooter()

    @on(Input.Submitted)
    def _entered(self, event: Input.Submitted) -> None:
        """Enter arrives after the characters typed before it, so the whole value is read."""
        event.stop()
        if event.input.id == "import-path" and not self.query_one("#import-passphrase", Input).value:
            self.query_one("#import-passphrase", Input).focus()
            return
        self.action_import_bundle()

    def action_import_bundle(self) -> None:
        path = self.query_one("#import-path", Input).value.strip()
        passphrase = self.query_one("#import-passphrase", Input).value
        error = self.query_one("#import-error", Static)
        if not path:
            self.query_one("#import-path", Input).focus()
            error.update(t("outbox.import.need_path"))
            return
        if not passphrase:
            self.query_one("#import-passphrase", Input).focus()
            error.update(t("outbox.import.need_passphrase"))
            return
        employer = getattr(getattr(self.app, "flow", None), "employer", None)
        try:
            from siaptui.store import export

            store = self.app.services.store()  # type: ignore[attr-defined]
            imported, skipped = export.import_bundle(store, Path(path).expanduser(), passphrase,
                                                     actor=employer.rfc if employer else "terminal")
        except Exception as exc:  # noqa: BLE001
            self.query_one("#import-passphrase", Input).value = ""
            error.update(explain(exc))
            return
        self.dismiss(t("store.import_done", imported=imported, skipped=skipped))


class ArcoDialog(FlowModal):
    """ARCO cancellation: erase one worker's fingerprints from this terminal, for good.

    Why a typed confirmation word: the deletion cannot be undone and unsent enrollments of that
    worker become unsendable, so a stray key press must never trigger it.
    """

    BINDINGS = [
        Binding("escape", "dismiss_none", "key.cancel", id="arco-cancel"),
        Binding("enter", "erase", "key.arco", id="arco-confirm"),
    ]

    def compose(self) -> Iterable[Widget]:
        from textual.containers import Vertical

        with Vertical(id="dialog"):
            yield Plain(t("outbox.arco.title"), classes="big")
            yield Label(t("outbox.arco.nss"), classes="field-label")
            yield Input(max_length=11, id="arco-nss")
            yield Label(t("outbox.arco.confirm", word=t("outbox.arco.word")), classes="field-label")
            yield Input(id="arco-word")
            yield Plain(t("outbox.arco.hint"), classes="hint")
            yield Plain("", id="arco-error", classes="field-error")
        yield FittedFooter()

    @on(Input.Submitted)
    def _entered(self, event: Input.Submitted) -> None:
        """Enter arrives after the characters typed before it, so the whole value is read."""
        event.stop()
        self.action_erase()

    def action_erase(self) -> None:
        from siaptui.identity import validate_nss

        error = self.query_one("#arco-error", Static)
        try:
            nss = validate_nss(self.query_one("#arco-nss", Input).value.strip())
        except Exception as exc:  # noqa: BLE001 - the identity message says which digit is wrong
            self.query_one("#arco-nss", Input).focus()
            error.update(explain(exc))
            return
        if self.query_one("#arco-word", Input).value.strip().upper() != t("outbox.arco.word").upper():
            self.query_one("#arco-word", Input).focus()
            error.update(t("outbox.arco.need_word", word=t("outbox.arco.word")))
            return
        app = self.app
        employer = getattr(getattr(app, "flow", None), "employer", None)
        try:
            store = app.services.store()  # type: ignore[attr-defined]
            counts = store.gallery.delete_worker(nss, actor=employer.rfc if employer else "terminal")
        except Exception as exc:  # noqa: BLE001
            error.update(explain(exc))
            return
        done = t("outbox.arco.done", nss=masked(nss), templates=counts["templates"],
                 images=counts["images"], photos=counts["photos"], outbox=counts["outbox"])
        if not counts["scrubbed"]:  # another terminal (or station) holds it: say so, it finishes later
            pending = t("outbox.arco.scrub_pending_shared" if store.shared else "outbox.arco.scrub_pending")
            self.dismiss((f"{done} {pending}", "warning"))
            return
        self.dismiss((done, "ok"))
