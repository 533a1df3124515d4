"""Revisión: every finger's chosen impression, score and agreement, and the warnings, before sending.

Why a screen of its own: nothing leaves the office PC until the clerk has seen, per finger, the
impression that will be sent, its quality and whether its impressions agreed, plus two
warnings that protect the worker and the employer — two positions that look like the same
finger, and prints that match *another* worker already enrolled on this PC (1:N against the
local gallery).  A gallery match is flagged in `flow.review.gallery_hits` (the submit step
sends it marked for IMSS review); it is never dropped silently.  Two positions that look like
one finger cannot be sent: the portal's contract has no way to carry that doubt (its review is
for a match with another person), so the screen says the two ways out — recapture one of the
pair (R), or mark one missing (F) — and Envío refuses in the same words.

The 1:N search decrypts the local gallery, so it runs in a thread worker; the table is usable
meanwhile.
"""

from __future__ import annotations

import io
from typing import Any, Optional

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Input, Static

from siaptui.enrollment.flow import FINGERS, Step
from siaptui.enrollment.protocol import (
    Enrollment,
    describe_pairs,
    finger_label,
    missing_reason_label,
)
from siaptui.errors import SiaptuiError, describe
from siaptui.i18n import t
from siaptui.screens.base import FlowModal, FlowScreen, StatusLine, TitleBar
from siaptui.screens.capture import MissingFingerScreen
from siaptui.widgets.fingerprint_view import FingerprintView
from siaptui.widgets.fitted_footer import FittedFooter
from siaptui.widgets.step_bar import StepBar


def decode_png(data: bytes) -> Any:
    """The kept impression as a uint8 array (it lives only in memory until the outbox)."""
    import numpy as np
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        return np.asarray(img.convert("L"), dtype=np.uint8).copy()


REASON_SHOWN = 140
"""Characters of the supervisor's reason shown under the table (two rows at 80 columns); the
request carries it whole."""


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


class ReviewScreen(FlowScreen):
    """Per-finger table + chosen impression preview + duplicate and gallery warnings."""

    SCREEN_ID = "review"
    STEP = Step.REVIEW
    AUTO_FOCUS = "DataTable"
    DEFAULT_CSS = """
    ReviewScreen #intro { height: 1; padding: 0 1; }
    ReviewScreen #review-body { height: 12; }
    ReviewScreen DataTable { width: 62; height: 11; }
    ReviewScreen #thumb { width: 1fr; }
    ReviewScreen #thumb-label { height: 1; color: $text-muted; }
    ReviewScreen FingerprintView { height: 1fr; border: round $primary; }
    ReviewScreen #warnings { height: auto; max-height: 7; padding: 0 1; }
    ReviewScreen #warnings.-attention { color: $warning; text-style: bold; }
    """
    BINDINGS = [
        Binding("r", "recapture", "key.review.recapture", id="review-recapture"),
        Binding("f", "missing", "key.capture.missing", id="review-missing"),
        Binding("c", "continue", "key.review.continue", id="review-continue"),
        Binding("s", "send_for_review", "key.review.send_for_review", id="review-send-for-review"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.gallery_checked = False
        """True once the 1:N search finished for the current fingers (tests wait on it)."""

    def compose(self) -> ComposeResult:
        yield TitleBar(self.siaptui.services.training)
        yield StepBar(Step.REVIEW)
        yield Static(t("capture.review.intro"), id="intro")
        with Horizontal(id="review-body"):
            yield DataTable(cursor_type="row", zebra_stripes=False, id="fingers")
            with Vertical(id="thumb"):
                yield Static("", id="thumb-label")
                yield FingerprintView(mode=self.siaptui.settings.scanner.preview, max_fps=0, id="chosen")
        yield Static("", id="warnings")
        yield StatusLine(classes="-empty", id="status")
        yield FittedFooter()

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one(DataTable)
        table.add_columns(
            t("capture.review.col.finger"),
            t("capture.review.col.quality"),
            t("capture.review.col.consistency"),
            t("capture.review.col.status"),
        )

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self.gallery_checked = False
        self.clear_status()
        self._fill()
        self.search_gallery()

    # ------------------------------------------------------------------ content
    def _status_of(self, position: int) -> str:
        flow = self.siaptui.flow
        capture = flow.fingers.get(position)
        if capture is None or not capture.done:
            return t("capture.review.status.pending")
        if capture.missing_reason:
            return t("capture.review.status.missing", reason=missing_reason_label(capture.missing_reason))
        for a, b, _ in flow.review.duplicate_fingers:
            if position in (a, b):
                return t("capture.review.status.duplicate", other=b if a == position else a)
        if any(finger == position for _, finger, _ in flow.review.gallery_hits):
            return t("capture.review.status.gallery")
        return t("capture.review.status.ok")

    def _consistency_of(self, position: int) -> str:
        capture = self.siaptui.flow.fingers.get(position)
        if capture is None or capture.best is None or not capture.consistency:
            return "-"
        pairs = capture.consistency.get("pairs", [])
        threshold = float(capture.consistency.get("threshold", 0.0))
        agree = sum(1 for _i, _j, score in pairs if score >= threshold)
        low = min((score for _i, _j, score in pairs), default=0.0)
        return t("capture.review.consistency", agree=agree, pairs=len(pairs), score=f"{low:.0f}")

    def _fill(self) -> None:
        table = self.query_one(DataTable)
        selected = table.cursor_row
        table.clear()
        flow = self.siaptui.flow
        for position in FINGERS:
            capture = flow.fingers.get(position)
            quality = "-"
            if capture is not None and capture.best is not None:
                quality = str(capture.impressions[capture.best].quality)
            table.add_row(
                f"{position:>2} {t(f'capture.finger_short.{position}')}",
                quality,
                self._consistency_of(position),
                self._status_of(position),
                key=str(position),
            )
        if 0 <= selected < len(FINGERS):
            table.move_cursor(row=selected)
        self._show_warnings()
        self._show_thumb(FINGERS[max(table.cursor_row, 0)])

    def _show_warnings(self) -> None:
        review = self.siaptui.flow.review
        lines = []
        if review.duplicate_fingers:
            lines.append(t("capture.review.duplicates", pairs=describe_pairs(review.duplicate_fingers)))
        if review.gallery_hits:
            # The count, not the names: the table's Estado column names every matching finger,
            # and ten names would push the next line off an 80×24 screen.
            count = len({finger for _, finger, _ in review.gallery_hits})
            lines.append(t("capture.review.gallery_hits", nss=review.gallery_hits[0][0], count=count))
            lines.append(t("capture.review.under_review", reason=shorten(review.review_reason, REASON_SHOWN))
                         if review.review_reason else t("capture.review.gallery_choice"))
        widget = self.query_one("#warnings", Static)
        widget.set_class(bool(lines), "-attention")
        widget.update(Text("\n".join(lines) if lines else t("capture.review.all_ok")))

    def _show_thumb(self, position: int) -> None:
        view = self.query_one(FingerprintView)
        label = self.query_one("#thumb-label", Static)
        capture = self.siaptui.flow.fingers.get(position)
        label.update(Text(t("capture.review.preview", finger=finger_label(position))))
        if capture is None or capture.best is None or not capture.impressions[capture.best].image_png:
            view.clear()
            return
        try:
            view.show(decode_png(capture.impressions[capture.best].image_png))
        except (OSError, ValueError):
            view.clear()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None and event.row_key.value:
            self._show_thumb(int(event.row_key.value))

    def selected_finger(self) -> int:
        row = self.query_one(DataTable).cursor_row
        return FINGERS[row] if 0 <= row < len(FINGERS) else FINGERS[0]

    # ------------------------------------------------------------------ 1:N
    @work(thread=True, exclusive=True, group="review-gallery")
    def search_gallery(self) -> None:
        """Search the worker's fingers in the office gallery (decrypts templates: off the UI)."""
        app = self.siaptui
        try:
            enrollment = Enrollment(app.flow, impressions=app.settings.capture.impressions)
            enrollment.search_store(app.services.store())
        except Exception as exc:  # noqa: BLE001 - store/engine failure: shown, the review goes on
            self.app.call_from_thread(self._gallery_failed, exc)
            return
        self.app.call_from_thread(self._gallery_done)

    def _gallery_done(self) -> None:
        self.gallery_checked = True
        self._fill()

    def _gallery_failed(self, exc: BaseException) -> None:
        message, _fix = describe(exc)
        self.gallery_checked = True
        self.show_info(Text(t("capture.review.gallery_unavailable", message=message)), "error")

    # ------------------------------------------------------------------ keys
    def action_recapture(self) -> None:
        """Forget the highlighted finger and go back to Captura for it."""
        app = self.siaptui
        enrollment = Enrollment(app.flow, impressions=app.settings.capture.impressions)
        enrollment.restart(self.selected_finger())
        app.goto("capture")

    def action_missing(self) -> None:
        """Mark the highlighted finger missing, with its reason: the way out when two fingers keep
        looking alike after recapturing (or a finger cannot be taken well at all)."""
        position = self.selected_finger()

        def chosen(reason: Optional[str]) -> None:
            if reason:
                app = self.siaptui
                Enrollment(app.flow, impressions=app.settings.capture.impressions).mark_missing(position, reason)
                self.clear_status()
                self._fill()

        self.app.push_screen(MissingFingerScreen(position), chosen)

    def action_send_for_review(self) -> None:
        """A flagged person is a question, not a dead end: a supervisor may send the enrollment
        for IMSS review, with the reason, instead of recapturing."""
        review = self.siaptui.flow.review
        if not review.gallery_hits:
            if review.duplicate_fingers:  # not for IMSS review (see the module docstring): say what is
                self.show_info(t("capture.review.duplicates_not_reviewable"), "error")
            else:
                self.show_info(t("capture.review.nothing_to_review"), "info")
            return

        def given(reason: Optional[str]) -> None:
            if reason:  # shown in the warnings once the screen resumes (capture.review.under_review)
                review.review_reason = reason

        self.app.push_screen(ReviewReasonDialog(review.gallery_hits[0][0]), given)

    def action_continue(self) -> None:
        app = self.siaptui
        enrollment = Enrollment(app.flow, impressions=app.settings.capture.impressions)
        try:
            enrollment.require_complete()
        except SiaptuiError as exc:
            self.show_error(exc)
            return
        if app.flow.review.duplicate_fingers:
            self.show_info(t("capture.review.blocked", pairs=describe_pairs(app.flow.review.duplicate_fingers)),
                           "error")
            return
        app.goto("submit")


class ReviewReasonDialog(FlowModal):
    """The supervisor's reason to send a flagged person for IMSS review (kept in the request)."""

    BINDINGS = [
        Binding("escape", "dismiss_none", "key.cancel", id="review-reason-cancel"),
    ]
    MINIMUM = 10

    def __init__(self, candidate: str) -> None:
        super().__init__()
        self.candidate = candidate

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(t("capture.review.reason_title", nss=self.candidate), classes="big")
            yield Static(t("capture.review.reason_hint"), classes="hint")
            yield Input(id="reason", max_length=500)
            yield Static("", id="reason-error", classes="field-error")
        yield FittedFooter()

    @on(Input.Submitted)
    def _entered(self, event: Input.Submitted) -> None:
        event.stop()
        reason = " ".join(event.value.split())
        if len(reason) < self.MINIMUM:
            self.query_one("#reason-error", Static).update(t("capture.review.reason_short", minimum=self.MINIMUM))
            return
        self.dismiss(reason)
