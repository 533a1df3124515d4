"""The capture loop's rules without a terminal: real scanners (sim, folder, the emulated 4500
beneath pyusb), the real engine (assess, extract) and the real enrollment protocol.

Each test runs `CaptureLoop.run()` on a thread, as the capture screen does, and reads what the
loop reported through a recording `CaptureEvents`.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator, List, Optional, Tuple

import numpy as np
import pytest
from PIL import Image

from siaptui import synth
from siaptui.biometrics.quality import assess
from siaptui.devices import emulator
from siaptui.devices.base import DeviceBusy, DeviceGone, DeviceNotFound, DeviceTimeout, Scanner
from siaptui.devices.folder import FolderScanner
from siaptui.devices.registry import open_scanner
from siaptui.devices.sim import SimScanner, seed_for_nss
from siaptui.enrollment.capture import (
    ADVICE_AFTER,
    EMPTY_FRAMES_LIFTED,
    CaptureEvents,
    CaptureLoop,
    acceptable,
)
from siaptui.enrollment.flow import Flow, WorkerData
from siaptui.enrollment.protocol import Enrollment

NSS = "12345678903"
FAST_SIM = {"arrive_s": 0.05, "capture_ms": 5.0, "lift_s": 0.02}
FAST_EMULATOR = {"on": 0.05, "hold": 1.2, "frame_ms": 5}

Event = Tuple[str, Tuple[Any, ...]]


class Recorder(CaptureEvents):
    """Every report in order, with a way to wait for one (the loop runs on another thread)."""

    def __init__(self) -> None:
        self.events: List[Event] = []
        self._changed = threading.Condition()

    def _add(self, name: str, *args: Any) -> None:
        with self._changed:
            self.events.append((name, args))
            self._changed.notify_all()

    def names(self) -> List[str]:
        with self._changed:
            return [name for name, _ in self.events]

    def of(self, name: str) -> List[Tuple[Any, ...]]:
        with self._changed:
            return [args for event, args in self.events if event == name]

    def wait_for(self, predicate: Callable[["Recorder"], bool], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self):
                left = deadline - time.monotonic()
                assert left > 0, f"not reported in {timeout} s; events: {[n for n, _ in self.events]}"
                self._changed.wait(min(left, 0.1))

    def opening(self) -> None:
        self._add("opening")

    def ready(self) -> None:
        self._add("ready")

    def frame(self, frame: Any, report: Any) -> None:
        self._add("frame", report)

    def finger_placed(self, position: int) -> None:
        self._add("finger_placed", position)

    def finger_lifted(self, position: int, asked: bool) -> None:
        self._add("finger_lifted", position, asked)

    def accepting(self, position: int, quality: int) -> None:
        self._add("accepting", position, quality)

    def accepted(self, result: Any, quality: int) -> None:
        self._add("accepted", result, quality)

    def rejected(self, rejection: Any) -> None:
        self._add("rejected", rejection)

    def device_gone(self, error: DeviceGone) -> None:
        self._add("device_gone", error)

    def device_not_found(self, error: DeviceNotFound) -> None:
        self._add("device_not_found", error)

    def timed_out(self, error: DeviceTimeout) -> None:
        self._add("timed_out", error)

    def failed(self, error: Exception) -> None:
        self._add("failed", error)

    def stopped(self) -> None:
        self._add("stopped")


def enrollment(impressions: int = 1) -> Enrollment:
    flow = Flow()
    flow.worker = WorkerData(nss=NSS, curp="", name="Prueba", confirmed=True)
    return Enrollment(flow, impressions=impressions)


class Running:
    """A loop on its own thread; `stop()` ends it and checks that it ended promptly."""

    def __init__(self, make_scanner: Callable[[], Scanner], **options: Any) -> None:
        self.events = Recorder()
        self.scanners: List[Scanner] = []

        def build() -> Scanner:
            scanner = make_scanner()
            self.scanners.append(scanner)
            return scanner

        self.enrollment = options.pop("enrollment", None) or enrollment()
        options.setdefault("fps", 30.0)
        self.loop = CaptureLoop(build, self.enrollment, self.events, **options)
        self.thread = threading.Thread(target=self.loop.run, name="capture-loop-test", daemon=True)
        self.thread.start()

    def stop(self, within: float = 3.0) -> float:
        started = time.monotonic()
        self.loop.stop()
        self.thread.join(within)
        assert not self.thread.is_alive(), "the loop did not stop"
        return time.monotonic() - started


@pytest.fixture
def running() -> Iterator[Callable[..., Running]]:
    runs: List[Running] = []

    def start(make_scanner: Callable[[], Scanner], **options: Any) -> Running:
        run = Running(make_scanner, **options)
        runs.append(run)
        return run

    yield start
    for run in runs:
        run.stop()


@pytest.fixture(autouse=True)
def _fresh_buses() -> None:
    emulator.reset()


def write_png(path: Path, pixels: np.ndarray) -> None:
    Image.fromarray(pixels).save(path)


def good_print() -> np.ndarray:
    return synth.finger_image(seed_for_nss(NSS), 1, 0)


def small_print() -> np.ndarray:
    """A good print seen only through a small window: scores above a low minimum, yet too small."""
    pixels = good_print()
    out = np.full_like(pixels, 235)
    h, w = pixels.shape
    y0, x0, ch, cw = h // 2 - int(h * 0.15), w // 2 - int(w * 0.15), int(h * 0.3), int(w * 0.3)
    out[y0:y0 + ch, x0:x0 + cw] = pixels[y0:y0 + ch, x0:x0 + cw]
    return out


# ---------------------------------------------------------------------------- acceptance


def test_a_good_finger_becomes_an_impression_of_the_finger_asked_for(running) -> None:
    sim = SimScanner(**FAST_SIM, trouble=None)
    run = running(lambda: sim)
    run.events.wait_for(lambda e: e.of("finger_lifted"))
    names = run.events.names()
    assert names[:3] == ["opening", "ready", "finger_placed"]
    assert names.index("accepting") < names.index("accepted") < names.index("finger_lifted")
    result, quality = run.events.of("accepted")[0]
    assert result.position == 1 and result.finger_done and quality >= 40
    assert run.events.of("finger_lifted")[0] == (1, True)  # the loop asked for the lift
    assert sim.presented[0] == seed_for_nss(NSS)  # the worker's own hand was served
    impression = run.enrollment.flow.fingers[1].impressions[0]
    assert impression.quality == quality and impression.image_png.startswith(b"\x89PNG")
    assert run.enrollment.current == 2  # the protocol moved on


def test_acceptance_needs_the_minimum_and_no_blocking_flag() -> None:
    good, small = assess(good_print()), assess(small_print())
    assert acceptable(good, 40) and not acceptable(good, good.score + 1)
    assert "too_small" in small.flags and small.score >= 10
    assert not acceptable(small, 10)


# ---------------------------------------------------------------------------- rejections


def test_a_dry_finger_is_asked_again_after_replace_after_and_counted_until_advice(running) -> None:
    sim = SimScanner(**FAST_SIM, trouble="dry")
    run = running(lambda: sim, replace_after_s=0.3)
    run.events.wait_for(lambda e: len(e.of("rejected")) >= ADVICE_AFTER)
    rejections = [args[0] for args in run.events.of("rejected")]
    assert [r.failures for r in rejections] == list(range(1, len(rejections) + 1))
    assert [r.needs_advice for r in rejections[:ADVICE_AFTER]] == [False] * (ADVICE_AFTER - 1) + [True]
    first = rejections[0]
    assert first.position == 1 and first.reason == "low_quality" and first.error is None
    assert first.quality < 40 and "too_light" in first.flags
    assert run.loop.failures(1) >= ADVICE_AFTER
    names = run.events.names()
    assert "accepting" not in names
    # Each rejection waits for the finger to leave, then says so (asked: the words stay).
    after = names[names.index("rejected") + 1]
    assert after == "finger_lifted" and run.events.of("finger_lifted")[0] == (1, True)
    # The placement lasted at least replace_after_s: several frames were assessed first.
    assert names.index("rejected") > 3

    sim.set_trouble(None)  # the clerk moistened the finger
    run.events.wait_for(lambda e: e.of("accepted"))
    assert run.loop.failures(1) == 0  # an impression resets the count


def test_empty_frames_mean_the_finger_left_and_are_never_rejected(running, tmp_path: Path) -> None:
    write_png(tmp_path / "blank.png", np.full((400, 300), 235, np.uint8))
    run = running(lambda: FolderScanner(str(tmp_path)), replace_after_s=0.1)
    run.events.wait_for(lambda e: len(e.of("finger_lifted")) >= 3)
    run.stop()
    names = run.events.names()
    assert "rejected" not in names and "accepting" not in names
    # Exactly EMPTY_FRAMES_LIFTED empty frames per placement, then "lifted" (not asked for).
    placement = names[names.index("finger_placed"):names.index("finger_lifted") + 1]
    assert placement == ["finger_placed"] + ["frame"] * EMPTY_FRAMES_LIFTED + ["finger_lifted"]
    assert all(args == (1, False) for args in run.events.of("finger_lifted"))
    assert all("no_finger" in report.flags for (report,) in run.events.of("frame"))


def test_a_blocking_flag_stops_acceptance_whatever_the_score(running, tmp_path: Path) -> None:
    write_png(tmp_path / "1-small.png", small_print())
    write_png(tmp_path / "2-good.png", good_print())
    run = running(lambda: FolderScanner(str(tmp_path)), min_quality=10, replace_after_s=0.3)
    run.events.wait_for(lambda e: e.of("accepted"))
    rejection = run.events.of("rejected")[0][0]
    assert "too_small" in rejection.flags and rejection.quality >= 10  # over the minimum, still refused
    names = run.events.names()
    assert names.index("rejected") < names.index("accepting")  # the small print never got that far
    assert run.enrollment.flow.fingers[1].impressions[0].quality >= 40


# ---------------------------------------------------------------------------- control


def test_stop_ends_a_wait_for_the_finger_promptly_and_closes_the_reader(running) -> None:
    sim = SimScanner(arrive_s=30.0, capture_ms=5.0, lift_s=0.02, trouble=None)
    run = running(lambda: sim)
    run.events.wait_for(lambda e: e.of("ready"))
    time.sleep(0.2)  # inside wait_finger
    assert run.stop() < 1.0  # not the 30 s a finger wait may last
    assert run.events.names()[-1] == "stopped" and not sim.is_open


def test_stop_ends_a_stream_of_frames_promptly(running) -> None:
    sim = SimScanner(**FAST_SIM, trouble="dry")
    run = running(lambda: sim)
    run.events.wait_for(lambda e: len(e.of("frame")) >= 2)
    assert run.stop() < 1.0  # not the 30 s a finger wait may last
    names = run.events.names()
    assert names[-1] == "stopped" and "rejected" not in names and not sim.is_open


def test_another_finger_chosen_while_waiting_is_presented_at_once(running) -> None:
    sim = SimScanner(arrive_s=30.0, capture_ms=5.0, lift_s=0.02, trouble=None)
    run = running(lambda: sim)
    run.events.wait_for(lambda e: e.of("ready"))
    time.sleep(0.2)
    with run.loop.lock:
        run.enrollment.select(7)
    run.loop.wake()
    deadline = time.monotonic() + 2.0
    while sim.presented[1] != 7:
        assert time.monotonic() < deadline, sim.presented
        time.sleep(0.02)


# ---------------------------------------------------------------------------- the reader


def emulator_options(**extra: Any) -> dict:
    return {**FAST_EMULATOR, **extra}


def test_unplugged_mid_capture_is_gone_until_it_comes_back_then_capture_resumes(running) -> None:
    options = emulator_options(fault="unplug", replug=0)
    run = running(lambda: open_scanner("emulator:uru4500", **options))
    run.events.wait_for(lambda e: e.of("device_gone"))
    assert "finger_placed" in run.events.names()  # it went away mid-capture
    bus = emulator.bus_for("uru4500", **options)
    time.sleep(1.3)  # two or more reopen attempts find nothing on the bus
    assert bus.device is None
    assert run.events.of("device_not_found") == []  # still "gone", not a new "not found"
    assert len(run.scanners) == 1  # the same scanner object is reopened
    bus.plug()
    run.events.wait_for(lambda e: e.of("accepted"))
    names = run.events.names()
    assert names[names.index("device_gone"):].count("ready") == 1  # back, and said so once
    assert run.enrollment.flow.fingers[1].impressions  # captured after the re-plug


def test_errors_are_reported_by_their_type(running) -> None:
    missing = running(lambda: SimScanner(missing=True))
    missing.events.wait_for(lambda e: e.of("device_not_found"))
    assert isinstance(missing.events.of("device_not_found")[0][0], DeviceNotFound)

    timeout = running(lambda: open_scanner("emulator:uru4500", **emulator_options(fault="timeout")))
    timeout.events.wait_for(lambda e: e.of("timed_out"))
    assert isinstance(timeout.events.of("timed_out")[0][0], DeviceTimeout)

    busy = running(lambda: open_scanner("emulator:uru4500", **emulator_options(fault="busy")))
    busy.events.wait_for(lambda e: e.of("failed"))
    time.sleep(1.0)
    reports = busy.events.of("failed")
    assert isinstance(reports[0][0], DeviceBusy) and len(reports) == 1  # not a busy loop
    assert "ready" in timeout.events.names()  # it opened; the frames never came
    for run in (missing, timeout, busy):
        assert "device_gone" not in run.events.names()
    for run in (missing, busy):
        assert "ready" not in run.events.names()


def test_a_driver_that_breaks_is_reported_not_raised(running) -> None:
    def broken() -> Scanner:
        raise RuntimeError("driver bug")

    run = running(broken)
    run.events.wait_for(lambda e: e.of("failed"))
    error: Optional[Exception] = run.events.of("failed")[0][0]
    assert isinstance(error, RuntimeError) and run.thread.is_alive()
