"""An acuse reopened from the Bandeja: the QR on screen, saved as PDF and PNG, printed.

Why a screen of its own (not the Acuse step): the Bandeja shows an acknowledgement of any day,
without touching the enrollment in progress.  The Acuse step (`receipt.py`) is this screen
for the enrollment just sent, with "next worker" added.
"""

from __future__ import annotations

from typing import Iterable, Optional

from textual import work
from textual.binding import Binding
from textual.widget import Widget

from siaptui import config
from siaptui.acuse.record import Acuse, from_item
from siaptui.errors import explain
from siaptui.i18n import t
from siaptui.screens.base import FlowScreen
from siaptui.widgets.acuse_view import AcuseView

CHROME_ROWS = 2
"""Rows outside the body on a screen without a step bar: title and footer."""


class AcuseScreen(FlowScreen):
    SCREEN_ID = "acuse"
    BINDINGS = [
        Binding("g", "save_acuse", "key.save_acuse", id="acuse-save"),
        Binding("i", "print_acuse", "key.print_acuse", id="acuse-print"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.item_id: Optional[int] = None
        """The outbox item shown; the Bandeja sets it before `goto("acuse")`."""
        self.acuse: Optional[Acuse] = None
        self.saved_pdf: Optional[str] = None

    def compose_body(self) -> Iterable[Widget]:
        yield AcuseView(id="acuse-view")

    # -- which acuse --------------------------------------------------------------------------
    def current_item_id(self) -> Optional[int]:
        return self.item_id

    def worker_name(self) -> str:
        return ""

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self.load_acuse()

    def load_acuse(self) -> None:
        """Read the acuse from the store's record of the outbox item (the one source)."""
        self.acuse, self.saved_pdf = None, None
        item_id = self.current_item_id()
        view = self.query_one(AcuseView)
        try:
            if item_id is None:
                raise LookupError("no item")
            self.acuse = from_item(self.siaptui.services.store().outbox.get(item_id))
        except Exception as exc:  # noqa: BLE001 - message + next step, never a traceback
            self.show_error(exc)
            return
        self.clear_status()
        chrome = CHROME_ROWS + (1 if self.STEP is not None else 0)
        view.show(self.acuse, name=self.worker_name(), max_rows=max(1, self.app.size.height - chrome))

    # -- save and print -----------------------------------------------------------------------
    def action_save_acuse(self) -> None:
        if self.acuse is not None:
            self.query_one(AcuseView).report(t("acuse.saving"))
            self._save(print_after=False)

    def action_print_acuse(self) -> None:
        if self.acuse is not None:
            self.query_one(AcuseView).report(t("acuse.printing"))
            self._save(print_after=True)

    @work(thread=True, exclusive=True, group="acuse")
    def _save(self, print_after: bool) -> None:
        """PDF generation and the print command run off the UI thread (an old PC takes a while)."""
        from siaptui.acuse import document, printing

        acuse, services = self.acuse, self.siaptui.services
        assert acuse is not None
        view = self.query_one(AcuseView)
        try:
            saved = document.save(acuse, config.acuse_dir(services.settings), now=services.now)
        except Exception as exc:  # noqa: BLE001 - what happened + the next step
            self.app.call_from_thread(view.report, explain(exc).strip(), "error")
            return
        self.saved_pdf = str(saved.pdf)
        services.audit("acuse_saved", acuse.worker_nss, actor=acuse.employer_rfc, folio=acuse.folio)
        # The folder once and the two names: a whole path twice does not fit beside the code.
        message = t("acuse.saved", folder=str(saved.pdf.parent), pdf=saved.pdf.name, png=saved.png.name)
        if print_after:
            try:
                job = printing.send_to_printer(saved.pdf)
            except Exception as exc:  # noqa: BLE001 - what happened + the next step, and where the file is
                self.app.call_from_thread(view.report, explain(exc).strip() + "\n" + message, "error")
                return
            services.audit("acuse_printed", acuse.worker_nss, actor=acuse.employer_rfc, folio=acuse.folio,
                           command=job.command)
            message = (t("acuse.printed", command=job.command, answer=job.answer) if job.answer
                       else t("acuse.printed_no_answer", command=job.command)) + "\n" + message
        self.app.call_from_thread(view.report, message, "ok")
