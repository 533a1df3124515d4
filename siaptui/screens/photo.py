"""Foto: the worker's photo from the office webcam, after the fingerprints and before Revisión.

Why this shape: the clerk looks at the worker, not at numbers, so the screen shows a live
preview drawn like the fingerprint preview (the same `FingerprintView`: half-block, braille or
ASCII, cheap over SSH), the eight checks of `siaptui.camera.face` as a list, and one sentence
saying what to change first.  When every check holds for `AUTO_HOLD_FRAMES` frames in a row the
photo takes itself (`[camera] auto_capture`); Space takes it at any time.  Only the first time:
after R (the clerk did not like the photo) or Space on a skipped photo the preview waits for
Space, since the same pose would be taken again at once.  S skips at any time before Enter
keeps the photo, and a skip stays a skip when the clerk comes back.  Without a camera —
the `siaptui[camera]` extra missing, no webcam, a webcam held by another program — the step is
skipped with the reason and its fix: the fingerprints never wait for a photo.

The camera is read and each frame analysed in a thread worker; only drawing happens on the UI
thread.  The token JPEG lives in `flow.photo` until the enrollment is committed to the outbox.
"""

from __future__ import annotations

import io
import threading
from typing import Any, Optional

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Static
from textual.worker import get_current_worker

from siaptui.enrollment.flow import Photo, Step
from siaptui.errors import explain
from siaptui.i18n import t
from siaptui.screens.base import FlowScreen, StatusLine, TitleBar
from siaptui.widgets.fingerprint_view import FingerprintView
from siaptui.widgets.fitted_footer import FittedFooter
from siaptui.widgets.step_bar import StepBar

AUTO_HOLD_FRAMES = 3
"""Frames in a row that must pass every check before the automatic capture (one lucky frame
of a worker still turning is not a photo)."""


def luma(frame: Any) -> Any:
    """The grey picture the preview draws (the fingerprint view takes uint8 grey)."""
    import numpy as np

    from siaptui.camera.face import grey

    return np.clip(grey(frame), 0, 255).astype(np.uint8)


def decode_jpeg(data: bytes) -> Any:
    import numpy as np
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        return np.asarray(img.convert("L"), dtype=np.uint8).copy()


class PhotoScreen(FlowScreen):
    """Live preview + checklist + guidance; automatic or manual capture; a clean skip."""

    SCREEN_ID = "photo"
    STEP = Step.CAPTURE
    AUTO_FOCUS = None
    DEFAULT_CSS = """
    PhotoScreen #heading { height: 1; text-style: bold; padding: 0 1; }
    PhotoScreen #photo-body { height: 1fr; }
    PhotoScreen FingerprintView { width: 1fr; min-width: 20; border: round $primary; }
    PhotoScreen #side { width: 34; padding: 0 1; }
    PhotoScreen #checks { height: auto; }
    PhotoScreen #guide { height: auto; max-height: 6; text-style: bold; margin-top: 1; }
    PhotoScreen #camera { height: 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("space", "take", "key.photo.take", id="photo-take"),
        Binding("r", "retake", "key.photo.retake", id="photo-retake"),
        Binding("enter", "next", "key.photo.next", id="photo-next"),
        Binding("s", "skip", "key.photo.skip", id="photo-skip"),
        Binding("v", "cycle_mode", "key.photo.mode", id="photo-mode", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._stop = threading.Event()
        self._held = 0
        self.last: Optional[tuple[Any, Any]] = None
        """(frame, analysis) of the newest frame drawn."""
        self.state = "idle"
        """idle | opening | live | taken | skipped — what the step is doing (for tests)."""
        self.frames_seen = 0
        self.streams_started = 0
        """How many times the camera was opened by this screen (for tests)."""
        self.manual = False
        """True once the clerk retook or asked for a photo after a skip: only Space takes it."""

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        # Like Captura: a fixed body so the preview keeps its size (no scrolling body).
        settings = self.siaptui.settings
        yield TitleBar(self.siaptui.services.training)
        yield StepBar(Step.CAPTURE)
        yield Static(t("photo.title"), id="heading")
        with Horizontal(id="photo-body"):
            yield FingerprintView(mode=settings.scanner.preview, max_fps=settings.scanner.preview_fps, id="preview")
            with Vertical(id="side"):
                yield Static("", id="checks")
                yield Static("", id="guide")
                yield Static("", id="camera")
        yield StatusLine(classes="-empty", id="status")
        yield FittedFooter()

    @property
    def view(self) -> FingerprintView:
        return self.query_one(FingerprintView)

    @property
    def spec(self) -> str:
        return str(self.siaptui.settings.camera.device)

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        # After the first paint, and only if still shown: a new worker's reset pops the screens
        # above Trabajador, and each resumes for a moment on the way down.
        self.call_after_refresh(self._resume)

    def _resume(self) -> None:
        if self.app.screen is not self:
            return
        flow = self.siaptui.flow
        if flow.photo is not None:
            self._show_taken(flow.photo)
        elif flow.photo_skipped:
            self._show_skipped(flow.photo_skipped)
        elif self.state not in ("opening", "live") or self._stop.is_set():
            self._start()

    def on_screen_suspend(self) -> None:
        # Help (F1) or the quit question over the preview: the camera keeps running beneath,
        # so closing them does not reopen a webcam the old stream may still hold.
        if not isinstance(self.app.screen, ModalScreen):
            self._stop.set()

    def on_unmount(self) -> None:
        self._stop.set()

    # ------------------------------------------------------------------ camera
    def _start(self) -> None:
        from siaptui.camera.base import CameraExtraMissing
        from siaptui.camera.registry import camera_extra_installed, needs_opencv

        self.clear_status()
        self._held = 0
        self.last = None
        if needs_opencv(self.spec) and not camera_extra_installed():
            self._skip(CameraExtraMissing("cv2 not importable", spec=self.spec))
            return
        self.state = "opening"
        self._checks(None)
        self._say(t("photo.opening", spec=self.spec))
        self._stop = threading.Event()
        self.streams_started += 1
        camera = self.siaptui.settings.camera
        self._stream(self.spec, int(camera.width), int(camera.height), self._stop)

    @work(thread=True, exclusive=True, group="photo")
    def _stream(self, spec: str, width: int, height: int, stop: threading.Event) -> None:
        from siaptui.camera.base import CameraError
        from siaptui.camera.face import analyse
        from siaptui.camera.registry import open_camera

        worker = get_current_worker()
        try:
            with open_camera(spec, width=width, height=height) as camera:
                self.app.call_from_thread(self._opened, camera.name)
                while not stop.is_set() and not worker.is_cancelled:
                    frame = camera.read()
                    analysis = analyse(frame)
                    if stop.is_set():
                        break
                    self.app.call_from_thread(self._frame, frame, analysis)
        except CameraError as exc:
            if not stop.is_set():
                self.app.call_from_thread(self._skip, exc)

    def _opened(self, name: str) -> None:
        if self.state != "opening":
            return  # skipped (S) while the camera was still opening
        self.state = "live"
        self.query_one("#camera", Static).update(Text(t("photo.camera", name=name), no_wrap=True, overflow="ellipsis"))

    def _frame(self, frame: Any, analysis: Any) -> None:
        """One analysed frame (UI thread): draw, list the checks, say what to change, maybe take."""
        if self.state != "live":
            return
        self.frames_seen += 1
        self.last = (frame, analysis)
        self.view.show(luma(frame))
        self._checks(analysis)
        auto = bool(self.siaptui.settings.camera.auto_capture) and not self.manual
        failing = analysis.failing()
        if failing:
            self._held = 0
            self._say(t(f"photo.guide.{failing[0]}"))
            return
        self._held += 1
        self._say(t("photo.guide.all_ok" if auto else "photo.guide.all_ok_manual"))
        if auto and self._held >= AUTO_HOLD_FRAMES:
            self._take(frame, analysis)

    # ------------------------------------------------------------------ outcomes
    def _take(self, frame: Any, analysis: Any) -> None:
        from siaptui.camera.token import token_image

        try:
            token = token_image(frame, analysis, spec=self.spec)
        except Exception as exc:  # noqa: BLE001 - a SiaptuiError with its fix; the preview goes on
            self.show_error(exc)
            return
        self._stop.set()
        photo = Photo(token.jpeg, token.width, token.height, dict(analysis.checks))
        self.siaptui.flow.photo = photo
        self.siaptui.flow.photo_skipped = ""
        self._show_taken(photo)

    def _show_taken(self, photo: Photo) -> None:
        self.state = "taken"
        self.view.show(decode_jpeg(photo.jpeg))
        failing = [name for name, ok in photo.checks.items() if not ok]
        self._checks(None, photo.checks)
        if failing:
            self._say(t("photo.taken_with_flags", checks=", ".join(t(f"photo.check.{n}") for n in failing)))
        else:
            self._say(t("photo.taken", width=photo.width, height=photo.height, size=round(len(photo.jpeg) / 1024, 1)))

    def _skip(self, reason: Any) -> None:
        text = explain(reason).strip() if isinstance(reason, BaseException) else str(reason)
        self.siaptui.flow.photo = None
        self.siaptui.flow.photo_skipped = text
        self._show_skipped(text)

    def _show_skipped(self, text: str) -> None:
        self._stop.set()
        self.state = "skipped"
        self.view.clear()
        self.query_one("#checks", Static).update("")
        self._say(t("photo.skipped_hint"))
        self.show_info(Text(t("photo.skipped", reason=text)), "warning")

    # ------------------------------------------------------------------ drawing helpers
    def _checks(self, analysis: Any, checks: Optional[dict] = None) -> None:
        from siaptui.camera.face import CHECKS

        verdicts = checks if checks is not None else (analysis.checks if analysis is not None else {})
        lines = [f"{'[x]' if verdicts.get(name) else '[ ]'} {t(f'photo.check.{name}')}" for name in CHECKS]
        self.query_one("#checks", Static).update(Text("\n".join(lines)))

    def _say(self, text: str) -> None:
        self.query_one("#guide", Static).update(Text(text))

    # ------------------------------------------------------------------ keys
    def action_take(self) -> None:
        if self.state == "skipped":  # a photo after all: the preview, then Space again takes it
            self.manual = True
            self.siaptui.flow.photo_skipped = ""
            self._start()
            return
        if self.state != "live":
            return
        if self.last is None or self.last[1].face is None:
            self.show_info(t("photo.no_face_yet"), "warning")
            return
        self._take(*self.last)

    def action_retake(self) -> None:
        if self.state in ("taken", "skipped"):
            self.manual = True
            self.siaptui.flow.photo = None
            self.siaptui.flow.photo_skipped = ""
            self._start()

    def action_skip(self) -> None:
        """S: no photo for this worker — also after one was taken (it is only in memory yet)."""
        if self.state in ("opening", "live", "taken"):
            self._skip(t("photo.skipped_by_clerk"))

    def action_next(self) -> None:
        if self.state in ("taken", "skipped"):
            self.siaptui.goto("review")

    def action_cycle_mode(self) -> None:
        self.view.cycle_mode()
