"""The scanner loop of Captura as plain Python: open the reader, serve each placement, survive unplugging.

Why it is apart from the screen: the rules that decide when a frame becomes an impression
(minimum quality, blocking flags, "lift and place again", a lifted finger, a reader that went
away) must be testable without a terminal.  `CaptureLoop.run()` blocks; it is meant for one
worker thread.  It reports what happens through a `CaptureEvents` object, the way libfprint's
state machines report enroll progress and "retry" results to their caller; the caller decides
how to show it (the capture screen posts every call to the UI thread through `call`).

The rules, per placement of the finger the enrollment asks for (`Enrollment.current`):

* frames are assessed at most `fps` times a second (on a 2-core PC the assessment is the
  expensive part; frames beyond what is drawn are not assessed);
* a frame is accepted when its score reaches `min_quality` and it raises none of
  `BLOCKING_FLAGS`; the accepted frame is extracted and added to the enrollment under `lock`;
* `EMPTY_FRAMES_LIFTED` empty frames in a row mean the finger left;
* a placement that has not been accepted after `replace_after_s` is rejected: the clerk is asked
  to lift the finger and place it again (a fresh contact usually fixes it);
* rejections are counted per finger; from `ADVICE_AFTER` on, `Rejection.needs_advice` says the
  clerk needs more than "place it again" (clean the glass, moisten a dry finger, another finger,
  or mark the finger missing); an accepted impression resets the count.

Errors are told apart by type: `DeviceGone` (unplugged) and `DeviceNotFound` are retried every
`REOPEN_EVERY_S`, and a `DeviceNotFound` while the reader is away after a `DeviceGone` is still
"gone", not a new error; `DeviceTimeout` is retried as quickly; anything else (`DeviceBusy`,
no permission, a broken driver) every `RETRY_AFTER_ERROR_S`.  The same `Scanner` object is
reopened after a failure: drivers look their device up again on `open()`, so a re-plugged reader
(new USB address) is found by the old object and the enrollment continues where it was.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, FrozenSet, Optional

from siaptui.devices.base import DeviceGone, DeviceNotFound, DeviceTimeout, Frame, Scanner
from siaptui.enrollment.protocol import AddResult, Enrollment
from siaptui.errors import SiaptuiError

if TYPE_CHECKING:  # pragma: no cover
    from siaptui.biometrics.quality import QualityReport

log = logging.getLogger(__name__)

BLOCKING_FLAGS = frozenset({"no_finger", "too_small", "smudged"})
"""Flags that stop automatic acceptance whatever the score (a moving or partial finger)."""

EMPTY_FRAMES_LIFTED = 3
"""Empty frames in a row that mean the finger has left (one empty frame may be a flicker)."""

REOPEN_EVERY_S = 0.5
"""How often a gone or missing reader is retried: resumes well within 2 s of a re-plug."""

RETRY_AFTER_ERROR_S = 2.0
"""How often a reader failing otherwise (busy, no permission) is retried: not a busy loop."""

REPLACE_AFTER_S = 4.0
"""A placement that has not reached the minimum quality in this time is better started over."""

ADVICE_AFTER = 3
"""Rejected placements of one finger after which "place it again" is not enough advice."""

FINGER_WAIT_S = 30.0
"""Longest single wait for a finger; the loop then simply waits again (and sees `stop`)."""

LIFT_WAIT_S = 10.0
"""Longest wait for the finger to leave after an accepted or rejected placement."""


@dataclass(frozen=True)
class Rejection:
    """A placement that gave no impression, and why (libfprint's "retry" results)."""

    position: int
    reason: str
    """"low_quality": never good enough within `replace_after_s`; "extract_failed": the
    accepted frame could not be turned into a template (`error` says why)."""
    quality: int
    """The best score seen during the placement."""
    flags: FrozenSet[str]
    """The quality flags of the best frame (what was wrong with it)."""
    failures: int
    """Rejected placements of this finger since its last accepted impression, this one included."""
    error: Optional[SiaptuiError] = None

    @property
    def needs_advice(self) -> bool:
        return self.failures >= ADVICE_AFTER


class CaptureEvents:
    """What the loop reports, one method per event; every method does nothing by default.

    All methods but `stopped` are called through the loop's `call` (the caller's thread of
    choice); `stopped` is called directly on the loop's thread as its very last act, when the
    caller's UI may already be gone.
    """

    def opening(self) -> None:
        """The loop is about to open the reader for the first time."""

    def ready(self) -> None:
        """The reader is open (first time, or back after a failure)."""

    def frame(self, frame: Frame, report: "QualityReport") -> None:
        """One frame of the finger on the glass and its quality."""

    def finger_placed(self, position: int) -> None:
        """A finger is on the reader for `position`."""

    def finger_lifted(self, position: int, asked: bool) -> None:
        """The finger left; `asked` when the loop had asked for it (after a verdict)."""

    def accepting(self, position: int, quality: int) -> None:
        """A frame was good enough; its template is being extracted."""

    def accepted(self, result: AddResult, quality: int) -> None:
        """The impression was added to the enrollment; `result` says what the protocol decided."""

    def rejected(self, rejection: Rejection) -> None:
        """The placement gave no impression; the finger should be lifted and placed again."""

    def device_gone(self, error: DeviceGone) -> None:
        """The reader was unplugged; the loop reopens it when it comes back."""

    def device_not_found(self, error: DeviceNotFound) -> None:
        """No reader at the first attempt (not after an unplug, which stays `device_gone`)."""

    def timed_out(self, error: DeviceTimeout) -> None:
        """The reader stopped answering; the loop reopens it."""

    def failed(self, error: Exception) -> None:
        """Any other failure (busy, no permission, a broken driver); retried."""

    def stopped(self) -> None:
        """The loop ended and the reader is closed."""


def _call_here(callback: Callable[..., Any], *args: Any) -> Any:
    return callback(*args)


def acceptable(report: "QualityReport", min_quality: int) -> bool:
    """Whether a frame may become an impression without the clerk's say."""
    return int(report.score) >= min_quality and not (BLOCKING_FLAGS & set(report.flags))


class CaptureLoop:
    """One run of the scanner for one enrollment; build a new one for each run."""

    def __init__(
        self,
        open_scanner: Callable[[], Scanner],
        enrollment: Enrollment,
        events: CaptureEvents,
        *,
        lock: Optional[threading.Lock] = None,
        min_quality: int = 40,
        fps: float = 8.0,
        replace_after_s: float = REPLACE_AFTER_S,
        call: Callable[..., Any] = _call_here,
    ) -> None:
        """`open_scanner` builds the (not yet open) scanner; `lock` guards `enrollment` against
        the caller's own changes (keys); `call(callback, *args)` runs each event where the caller
        wants it."""
        self._open_scanner = open_scanner
        self.enrollment = enrollment
        self.events = events
        self.lock = lock or threading.Lock()
        self.min_quality = int(min_quality)
        self.fps = max(float(fps), 0.5)
        self.replace_after_s = float(replace_after_s)
        self._call = call
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._announced = False
        self._away = False
        """True from a `DeviceGone` until the reader opens again."""
        self._failures: dict[int, int] = {}
        """Rejections per finger; written by the loop's thread only."""

    # ------------------------------------------------------------------ control (any thread)
    def stop(self) -> None:
        """End the loop: the scanner's waits poll it (within 100 ms, says the device contract)."""
        self._stop.set()
        self._wake.set()

    def wake(self) -> None:
        """The clerk chose another finger (or restarted one): end the wait for this finger."""
        self._wake.set()

    def failures(self, position: int) -> int:
        """Rejected placements of `position` since its last accepted impression."""
        return self._failures.get(position, 0)

    # ------------------------------------------------------------------ the loop
    def run(self) -> None:
        """Serve placements until `stop()`; never raises for a scanner failure (it reports it)."""
        scanner: Optional[Scanner] = None
        try:
            while not self._stop.is_set():
                if scanner is None or not scanner.is_open:
                    scanner = self._open(scanner)
                    continue
                try:
                    self._serve_finger(scanner)
                except Exception as exc:  # noqa: BLE001 - any failure is reported, never raised
                    self._fail(exc)
                    _close_quietly(scanner)
        finally:
            if scanner is not None:
                _close_quietly(scanner)
            self.events.stopped()

    def _emit(self, callback: Callable[..., Any], *args: Any) -> None:
        if not self._stop.is_set():
            self._call(callback, *args)

    def _open(self, scanner: Optional[Scanner]) -> Optional[Scanner]:
        """Build the scanner once, then (re)open it; on failure report, wait, and return it unopened."""
        if not self._announced:
            self._announced = True
            self._emit(self.events.opening)
        try:
            if scanner is None:
                scanner = self._open_scanner()
            scanner.open()
        except Exception as exc:  # noqa: BLE001 - ScannerError, or a broken driver: reported, retried
            self._fail(exc)
            return scanner
        self._away = False
        self._emit(self.events.ready)
        return scanner

    def _fail(self, exc: Exception) -> None:
        """Report a failure by its type, then wait before the next attempt."""
        log.warning("scanner: %s", getattr(exc, "code", type(exc).__name__))
        delay = REOPEN_EVERY_S
        if isinstance(exc, DeviceGone):
            self._away = True
            self._emit(self.events.device_gone, exc)
        elif isinstance(exc, DeviceNotFound):
            if not self._away:  # still unplugged: the clerk already reads "se desconectó"
                self._emit(self.events.device_not_found, exc)
        elif isinstance(exc, DeviceTimeout):
            self._emit(self.events.timed_out, exc)
        else:
            delay = RETRY_AFTER_ERROR_S
            self._emit(self.events.failed, exc)
        self._stop.wait(delay)

    def _serve_finger(self, scanner: Scanner) -> None:
        """One placement: wait for a finger, stream frames until one is accepted or it leaves."""
        enrollment = self.enrollment
        if not enrollment.pending():
            self._stop.wait(0.2)
            return
        position = enrollment.current
        _present(scanner, enrollment, position)
        self._wake.clear()
        if self._stop.is_set() or enrollment.current != position:
            return
        # Wait as long as the finger takes; a change of finger or `stop()` sets `_wake`.
        if not scanner.wait_finger(timeout=FINGER_WAIT_S, cancel=self._wake):
            return
        self._emit(self.events.finger_placed, position)
        self._stream(scanner, position)

    def _stream(self, scanner: Scanner, position: int) -> None:
        """Frames of one placement until it is accepted, rejected or the finger leaves."""
        from siaptui.biometrics.quality import assess

        stop = self._stop
        empty_frames = 0
        best: Optional[QualityReport] = None
        placed_at = time.monotonic()
        while not stop.is_set():
            started = time.monotonic()
            frame = scanner.capture(timeout=2.0, cancel=stop)
            if stop.is_set():
                return
            report = assess(frame.pixels, dpi=frame.dpi)
            self._emit(self.events.frame, frame, report)
            if stop.is_set() or self.enrollment.current != position:
                return  # the clerk chose another finger meanwhile
            if "no_finger" in report.flags:
                empty_frames += 1
                if empty_frames >= EMPTY_FRAMES_LIFTED:
                    self._emit(self.events.finger_lifted, position, False)
                    return
            else:
                empty_frames = 0
                if best is None or report.score > best.score:
                    best = report
            if acceptable(report, self.min_quality):
                self._accept(scanner, frame, report, position)
                return
            if time.monotonic() - placed_at > self.replace_after_s and not empty_frames:
                self._reject(position, "low_quality", best or report)
                self._lift(scanner, position, LIFT_WAIT_S)
                return
            stop.wait(max(0.0, 1.0 / self.fps - (time.monotonic() - started)))

    def _accept(self, scanner: Scanner, frame: Frame, report: "QualityReport", position: int) -> None:
        from siaptui.biometrics.extract import extract

        quality = int(report.score)
        self._emit(self.events.accepting, position, quality)
        try:
            template = extract(frame.pixels, dpi=frame.dpi)
        except SiaptuiError as exc:
            self._reject(position, "extract_failed", report, exc)
            self._lift(scanner, position, 5.0)
            return
        png = frame.to_png()
        with self.lock:
            if self._stop.is_set() or self.enrollment.current != position:
                return  # the clerk left the screen or chose another finger meanwhile
            result = self.enrollment.add_impression(position, template, quality, png)
        self._failures.pop(position, None)
        self._emit(self.events.accepted, result, quality)
        self._lift(scanner, position, LIFT_WAIT_S)

    def _reject(self, position: int, reason: str, report: "QualityReport",
                error: Optional[SiaptuiError] = None) -> None:
        failures = self._failures[position] = self._failures.get(position, 0) + 1
        self._emit(self.events.rejected, Rejection(position, reason, int(report.score),
                                                   frozenset(report.flags), failures, error))

    def _lift(self, scanner: Scanner, position: int, timeout: float) -> None:
        """Wait for the finger the loop asked to be lifted, then say it left."""
        scanner.wait_finger_off(timeout=timeout, cancel=self._stop)
        self._emit(self.events.finger_lifted, position, True)


def _present(scanner: Scanner, enrollment: Enrollment, position: int) -> None:
    """Tell a simulated reader whose finger is on it (a real reader cannot be told).

    The `sim` scanner and the emulator serve the worker's synthetic hand by NSS
    (`present_worker`), so a practice enrollment shows the right finger for each position.
    """
    present_worker = getattr(scanner, "present_worker", None)
    if callable(present_worker):
        present_worker(enrollment.flow.worker.nss, position)


def _close_quietly(scanner: Scanner) -> None:
    try:
        scanner.close()
    except Exception:  # noqa: BLE001 - an unplugged reader may fail to close; nothing to save
        pass
