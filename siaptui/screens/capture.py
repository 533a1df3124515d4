"""Captura: the live preview, guidance in words, and the ten-finger protocol, by keyboard.

Why it is built this way:

* The scanner loop (`siaptui.enrollment.capture.CaptureLoop`: open, wait for a finger, assess
  frames, accept, survive unplugging) is plain Python; this screen runs it in one Textual thread
  worker (`@work(thread=True, exclusive=True)`) and draws what it reports.  Every event reaches
  the UI with `call_from_thread`, which also back-pressures the loop when the UI is busy: the UI
  never blocks and never queues stale frames.  The loop paces itself to `scanner.preview_fps`.
* The protocol rules live in `siaptui.enrollment.protocol.Enrollment` (plain Python); this
  screen only turns its results into words.  Mutations of the enrollment happen under one lock,
  from the loop (accepting an impression, which runs the matcher) or from a key (missing,
  restart).
* A reader unplugged mid-enrollment keeps everything captured so far: the screen says it went
  away (no "place the finger" meanwhile) and the loop carries on when it comes back.  Other
  scanner errors are shown with `describe(err)` (what happened + next step) and the D key opens
  Diagnóstico.  After a few placements of one finger without an impression the clerk reads the
  count and the next steps (clean the glass, moisten the finger, another finger, F to mark it).
"""

from __future__ import annotations

import threading
import time
from typing import Any, Optional

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from siaptui.devices.base import DeviceGone, DeviceNotFound, DeviceTimeout, Frame
from siaptui.enrollment.capture import REPLACE_AFTER_S, CaptureEvents, CaptureLoop, Rejection
from siaptui.enrollment.flow import FINGERS, Step
from siaptui.enrollment.protocol import REASONS, AddResult, Enrollment, finger_label, missing_reason_label
from siaptui.errors import SiaptuiError, describe, explain
from siaptui.i18n import t
from siaptui.screens.base import FlowScreen, StatusLine, TitleBar
from siaptui.screens.keys import localize
from siaptui.widgets.fingerprint_view import FingerprintView
from siaptui.widgets.fitted_footer import FittedFooter
from siaptui.widgets.hand_map import HandMap
from siaptui.widgets.quality_meter import QualityMeter
from siaptui.widgets.step_bar import StepBar

GUIDANCE_ORDER = ("no_finger", "too_small", "off_center", "too_light", "too_dark", "smudged")
"""Which flag the clerk hears first when several are raised: the most basic problem first."""

def guidance_for(flags: Any, score: Optional[int], minimum: int) -> str:
    """The one sentence the clerk reads for this frame (flags from the engine's QualityReport)."""
    for flag in GUIDANCE_ORDER:
        if flag in flags:
            return t(f"capture.guide.{flag}")
    if score is not None and score >= minimum:
        return t("capture.guide.good")
    return t("capture.guide.hold")


class MissingFingerScreen(ModalScreen):
    """Why a finger cannot be captured: amputated, bandaged, injured, other (never pre-chosen)."""

    DEFAULT_CSS = """
    MissingFingerScreen { align: center middle; }
    MissingFingerScreen > Vertical {
        width: 50; height: auto; border: round $warning; background: $panel; padding: 0 1;
    }
    MissingFingerScreen OptionList { height: auto; max-height: 8; }
    """
    BINDINGS = [Binding("escape", "cancel", "key.capture.cancel")]

    def __init__(self, position: int) -> None:
        super().__init__()
        localize(self)
        self.position = position

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(t("capture.missing.title", finger=finger_label(self.position)), classes="title")
            yield OptionList(*[Option(t(f"capture.missing.{r}"), id=r) for r in REASONS], id="reasons")
            yield Static(t("capture.missing.hint"), classes="hint")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class _ScreenEvents(CaptureEvents):
    """The loop's reports, drawn by the screen; each runs on the UI thread (the loop's `call`)."""

    def __init__(self, screen: "CaptureScreen") -> None:
        self.screen = screen

    def opening(self) -> None:
        screen = self.screen
        if screen.scanner_state == "idle":
            screen._status(t("capture.status.opening", device=screen.device), "opening")

    def ready(self) -> None:
        self.screen._reader_ready()

    def frame(self, frame: Frame, report: Any) -> None:
        self.screen.show_frame(frame.pixels, report)

    def finger_lifted(self, position: int, asked: bool) -> None:
        self.screen._finger_lifted(say=not asked)

    def accepting(self, position: int, quality: int) -> None:
        self.screen._say(t("capture.guide.working"))

    def accepted(self, result: AddResult, quality: int) -> None:
        self.screen._after_accept(result, quality)

    def rejected(self, rejection: Rejection) -> None:
        self.screen._rejected(rejection)

    def device_gone(self, error: DeviceGone) -> None:
        self.screen._reader_gone()

    def device_not_found(self, error: DeviceNotFound) -> None:
        self.screen._scanner_failed(error, "gone")

    def timed_out(self, error: DeviceTimeout) -> None:
        self.screen._scanner_failed(error, "gone")

    def failed(self, error: Exception) -> None:
        self.screen._scanner_failed(error, "error")


class CaptureScreen(FlowScreen):
    """Ten fingers, three agreeing impressions each, with a live preview and guidance."""

    SCREEN_ID = "capture"
    STEP: Optional[Step] = Step.CAPTURE
    AUTO_FOCUS = None

    DEFAULT_CSS = """
    CaptureScreen #heading { height: 1; text-style: bold; padding: 0 1; }
    CaptureScreen #body { height: 1fr; }
    CaptureScreen FingerprintView { width: 1fr; min-width: 20; border: round $primary; }
    CaptureScreen #side { width: 46; padding: 0 1; }
    CaptureScreen HandMap { margin-bottom: 1; }
    CaptureScreen #guide { height: 3; text-style: bold; margin-top: 1; }
    CaptureScreen #notice { height: auto; max-height: 4; color: $warning; }
    CaptureScreen #mode { height: 1; color: $text-muted; }
    """

    # In order of importance: a narrow footer drops the last ones first (widgets/fitted_footer.py).
    BINDINGS = [
        Binding("enter", "review", "key.capture.review", id="capture-review"),
        Binding("right,n", "next_finger", "key.capture.next", id="capture-next"),
        Binding("f", "missing", "key.capture.missing", id="capture-missing"),
        Binding("r", "restart", "key.capture.restart", id="capture-restart"),
        Binding("v", "cycle_mode", "key.capture.mode", id="capture-mode"),
        Binding("left,p", "prev_finger", "key.capture.prev", id="capture-prev", show=False),
        Binding("d", "doctor", "key.capture.doctor", id="capture-doctor", show=False),
    ]

    def __init__(self, *, scan: bool = True, device: Optional[str] = None, device_options: Optional[dict] = None,
                 replace_after_s: float = REPLACE_AFTER_S) -> None:
        """`scan=False` shows the screen without touching a scanner (snapshots, the bench).

        `device`/`device_options` override the app's scanner (tests: a prepared `sim` person);
        `replace_after_s` is the loop's "lift and place again" time (tests shorten it).
        """
        super().__init__()
        self.scan = scan
        self._device = device
        self.device_options = dict(device_options or {})
        self.replace_after_s = float(replace_after_s)
        self._lock = threading.Lock()
        """Guards `enrollment`: the loop adds impressions, keys select, restart and mark fingers."""
        self._loop: Optional[CaptureLoop] = None
        self.enrollment: Optional[Enrollment] = None
        self.last_report: Any = None
        self.last_frame_at: float = 0.0
        self.accepted_count = 0
        """Impressions accepted since the screen was created (for tests)."""
        self._said = t("capture.guide.no_finger")
        self.scanner_state = "idle"
        """idle | opening | ready | gone | error — what the worker is doing (for tests)."""

    # ------------------------------------------------------------------ settings
    @property
    def settings(self) -> Any:
        return self.app.settings  # type: ignore[attr-defined]  # a SiaptuiApp; Screen.app is typed as App

    @property
    def flow(self) -> Any:
        return self.app.flow  # type: ignore[attr-defined]  # a SiaptuiApp; Screen.app is typed as App

    @property
    def device(self) -> str:
        if self._device:
            return self._device
        services = getattr(self.app, "services", None)
        return getattr(services, "scanner_spec", None) or self.settings.scanner.device

    @property
    def min_quality(self) -> int:
        return int(self.settings.capture.min_quality)

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        # The shared frame (title, step bar, status line, footer) around a fixed, non-scrolling
        # body: the preview must keep its size, so FlowScreen's scrolling body is not used.
        yield TitleBar(self.siaptui.services.training)
        yield StepBar(Step.CAPTURE)
        yield Static("", id="heading")
        with Horizontal(id="body"):
            yield FingerprintView(
                mode=self.settings.scanner.preview, max_fps=self.settings.scanner.preview_fps, id="preview"
            )
            with Vertical(id="side"):
                yield HandMap(id="hands")
                yield QualityMeter(minimum=self.min_quality, id="meter")
                yield Static(t("capture.guide.no_finger"), id="guide")
                yield Static("", id="notice")
                yield Static("", id="mode")
        yield StatusLine(classes="-empty", id="status")
        yield FittedFooter()

    def on_mount(self) -> None:
        super().on_mount()
        self._attach_enrollment()

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self._attach_enrollment()
        if self.scan:
            self._start_loop()

    def on_screen_suspend(self) -> None:
        self._stop_loop()

    def on_unmount(self) -> None:
        self._stop_loop()

    def _attach_enrollment(self) -> None:
        """(Re)build the protocol over the flow: Revisión may have restarted fingers meanwhile."""
        with self._lock:
            current = self.enrollment.current if self.enrollment else None
            self.enrollment = self.new_enrollment()
            pending = self.enrollment.pending()
            if current is not None and current in pending:
                self.enrollment.current = current
        self._refresh_panel()

    def new_enrollment(self) -> Enrollment:
        """The protocol this screen drives; Verificación's one-finger capture overrides it."""
        return Enrollment(self.flow, impressions=self.settings.capture.impressions)

    # ------------------------------------------------------------------ panel
    @property
    def view(self) -> FingerprintView:
        return self.query_one(FingerprintView)

    def _refresh_panel(self) -> None:
        enrollment = self.enrollment
        if enrollment is None or not self.is_mounted:
            return
        position = enrollment.current
        capture = self.flow.fingers[position]
        if capture.missing_reason:
            heading = t("capture.heading_missing", finger=finger_label(position),
                        reason=missing_reason_label(capture.missing_reason))
        elif capture.best is not None:
            heading = t("capture.heading_done", finger=finger_label(position))
        else:
            heading = t(
                "capture.heading",
                finger=finger_label(position),
                n=min(len(capture.impressions) + 1, enrollment.impressions),
                total=enrollment.impressions,
            )
        self.query_one("#heading", Static).update(Text(heading, no_wrap=True, overflow="ellipsis"))
        review = self.flow.review
        flagged = {a for a, b, _ in review.duplicate_fingers} | {b for a, b, _ in review.duplicate_fingers}
        flagged |= {finger for _, finger, _ in review.gallery_hits}
        self.query_one(HandMap).update_state(self.flow.fingers, position, flagged)
        self.query_one("#mode", Static).update(t("capture.mode", mode=t(f"capture.mode.{self.view.mode}")))

    def _say(self, text: str) -> None:
        # Same words as the last frame: no repaint (over SSH every repaint costs bytes).
        if text != self._said:
            self._said = text
            self.query_one("#guide", Static).update(Text(text))  # plain: no markup in messages

    def _notice(self, text: str) -> None:
        self.query_one("#notice", Static).update(Text(text))

    def _status(self, text: str, state: Optional[str] = None, kind: str = "info") -> None:
        if state is not None:
            self.scanner_state = state
        self.show_info(Text(text), kind)  # error details may hold "[...]"

    # ------------------------------------------------------------------ frames (UI thread)
    def show_frame(self, pixels: Any, report: Any = None) -> None:
        """Draw one frame and its guidance (UI thread); `report` is a QualityReport or None."""
        self.last_frame_at = time.monotonic()
        self.last_report = report
        if report is None:
            self.view.show(pixels)
            self.query_one(QualityMeter).score = None
            return
        self.view.show(pixels, report.block_map, report.block_size)
        self.query_one(QualityMeter).score = int(report.score)
        self._say(guidance_for(report.flags, int(report.score), self.min_quality))

    def _finger_lifted(self, say: bool = True) -> None:
        """The finger left: empty preview; `say=False` keeps the last verdict on screen."""
        self.view.clear()
        self.query_one(QualityMeter).score = None
        if say and self.enrollment is not None and self.enrollment.pending():
            self._say(t("capture.guide.no_finger"))

    def _after_accept(self, result: AddResult, score: int) -> None:
        """Words for what the protocol decided about an accepted impression (UI thread)."""
        self.accepted_count += 1
        if self.settings.scanner.bell:
            self.app.bell()
        enrollment = self.enrollment
        assert enrollment is not None
        name = finger_label(result.position)
        notices = []
        if result.finger_done:
            nxt = enrollment.next_pending(result.position)
            if nxt is None:
                self._say(t("capture.guide.all_done"))
            else:
                self._say(t("capture.guide.finger_done", finger=name, score=score, next=finger_label(nxt)))
            for a, b, _score in result.duplicates:
                other = b if a == result.position else a
                notices.append(t("capture.guide.duplicate", finger=name, other=finger_label(other)))
        elif result.consistent is False:
            if result.too_many_attempts:
                self._say(t("capture.guide.too_many_attempts", finger=name, attempts=result.attempts))
            else:
                self._say(t("capture.guide.retry"))
        else:
            self._say(t("capture.guide.lift") + "\n"
                      + t("capture.guide.accepted", n=result.count, total=result.needed, score=score))
        self._notice("\n".join(notices))
        self._refresh_panel()

    # ------------------------------------------------------------------ scanner worker
    def _start_loop(self) -> None:
        """A new `CaptureLoop` over the current enrollment, run in the scanner worker."""
        from siaptui.devices.registry import open_scanner

        assert self.enrollment is not None
        device, options = self.device, self.device_options
        self._loop = CaptureLoop(
            lambda: open_scanner(device, **options),
            self.enrollment,
            _ScreenEvents(self),
            lock=self._lock,
            min_quality=self.min_quality,
            fps=float(self.settings.scanner.preview_fps),
            replace_after_s=self.replace_after_s,
            call=self._post,
        )
        self.run_scanner(self._loop)

    def _stop_loop(self) -> None:
        if self._loop is not None:
            self._loop.stop()

    @work(thread=True, exclusive=True, group="capture-scanner")
    def run_scanner(self, loop: CaptureLoop) -> None:
        """The blocking loop on its own thread; it reports through `_ScreenEvents`."""
        loop.run()

    def _post(self, callback: Any, *args: Any) -> Any:
        """Run on the UI thread and wait for it (back-pressure: no stale frames queue up)."""
        try:
            return self.app.call_from_thread(callback, *args)
        except RuntimeError:  # the app stopped between two frames
            self._stop_loop()
            return False

    def _scanner_failed(self, exc: BaseException, state: str) -> None:
        self.view.clear()
        self.query_one(QualityMeter).score = None
        message, fix = describe(exc)
        # The key first: the status line has four rows and a long fix must not push it out.
        text = t("capture.status.doctor_hint") + " " + t("capture.status.error", message=message, fix=fix)
        self._status(text, state, "error")

    def _reader_gone(self) -> None:
        """Unplugged: say so, and no "place the finger" while there is no reader to place it on."""
        self.view.clear()
        self.query_one(QualityMeter).score = None
        self._say(t("capture.guide.gone"))
        self._status(t("capture.status.gone"), "gone", "error")

    def _reader_ready(self) -> None:
        if self._said == t("capture.guide.gone"):
            pending = self.enrollment is not None and self.enrollment.pending()
            self._say(t("capture.guide.no_finger") if pending else t("capture.guide.all_done"))
        self._status(t("capture.status.ready", device=self.device), "ready", "ok")

    def _rejected(self, rejection: Rejection) -> None:
        """Words for a placement that gave no impression; after a few, the count and what to do."""
        if rejection.error is not None:
            message, _fix = describe(rejection.error)
            self._say(t("capture.guide.extract_failed", message=message))
        else:
            self._say(t("capture.guide.replace"))
        if rejection.needs_advice:  # stays until an impression is accepted or the finger changes
            self._notice(t("capture.advice.struggling", finger=finger_label(rejection.position),
                           count=rejection.failures))

    # ------------------------------------------------------------------ keys
    def action_cycle_mode(self) -> None:
        self.view.cycle_mode()
        self._refresh_panel()

    def set_preview_mode(self, mode: str) -> None:
        """Switch the preview drawing (ascii | braille | halfblock) and say so in the panel."""
        self.view.set_mode(mode)
        self._refresh_panel()

    def _step(self, delta: int) -> None:
        assert self.enrollment is not None
        index = FINGERS.index(self.enrollment.current)
        with self._lock:
            self.enrollment.select(FINGERS[(index + delta) % len(FINGERS)])
        self._wake_loop()
        self.view.clear()
        self._notice("")
        self._refresh_panel()

    def _wake_loop(self) -> None:
        """The finger changed under the loop: end its wait for the old one."""
        if self._loop is not None:
            self._loop.wake()

    def action_next_finger(self) -> None:
        self._step(1)

    def action_prev_finger(self) -> None:
        self._step(-1)

    def action_restart(self) -> None:
        assert self.enrollment is not None
        with self._lock:
            self.enrollment.restart(self.enrollment.current)
        self._wake_loop()
        self._notice("")
        self._say(t("capture.guide.no_finger"))
        self._refresh_panel()

    def action_missing(self) -> None:
        assert self.enrollment is not None
        position = self.enrollment.current

        def chosen(reason: Optional[str]) -> None:
            if reason:
                self.mark_missing(position, reason)

        self.app.push_screen(MissingFingerScreen(position), chosen)

    def mark_missing(self, position: int, reason: str) -> None:
        assert self.enrollment is not None
        with self._lock:
            self.enrollment.mark_missing(position, reason)
        self._wake_loop()
        self._notice("")
        if not self.enrollment.pending():
            self._say(t("capture.guide.all_done"))
        self._refresh_panel()

    def action_review(self) -> None:
        assert self.enrollment is not None
        try:
            self.enrollment.require_complete()
        except SiaptuiError as exc:
            self._say(explain(exc))
            return
        self._goto("photo")

    def action_doctor(self) -> None:
        self._goto("doctor")

    def _goto(self, screen_id: str) -> None:
        goto = getattr(self.app, "goto", None)
        if callable(goto):
            goto(screen_id)
