"""Captura driven by the keyboard on the simulated scanner and the emulated U.are.U 4500.

The capture screen is pushed on the real app (`build_app`) with a prepared Flow (worker and
consent done), so these tests exercise exactly the production screen, enrollment protocol,
engine (assess/extract/match), scanner drivers and the store's gallery.  Only the scanners'
timings are shortened through their public options.

Test time: every accepted impression runs the real extractor (~0.5–2 s on a loaded 2-core
machine), so the whole-hand runs use 2 impressions per finger (sim) and 1 (emulator); the
three-impression agreement rule itself is covered in tests/test_enrollment.py on the same engine.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from siaptui.config import Settings
from siaptui.enrollment.flow import FINGERS, Consent, WorkerData
from tests.ui.conftest import SIZE, make_app, screen_text, to_review, wait_until

NSS = "12345678903"
FAST_SIM = {"arrive_s": 0.05, "capture_ms": 5.0, "lift_s": 0.02}


def fast_settings(impressions: int = 3) -> Settings:
    settings = Settings()
    settings.general.theme = "default"
    settings.scanner.preview_fps = 30
    settings.capture.impressions = impressions
    return settings


def prepare(app: Any, missing: Optional[dict] = None) -> None:
    """Worker confirmed and consent given, as the previous screens leave the flow."""
    app.flow.worker = WorkerData(nss=NSS, curp="", name="Trabajador de Prueba", confirmed=True)
    app.flow.consent = Consent(accepted=True, notice_version="test", recorded_at=1.0, terminal="t")


def _flat(text: str) -> str:
    return " ".join(text.split())


def side_text(app: Any) -> str:
    """The side panel's words (guide, notices) as one line: the right 46 columns of each row,
    so the preview beside them does not cut a wrapped sentence."""
    return _flat(" ".join(line[-46:] for line in screen_text(app).splitlines()[3:-3]))


async def open_capture(pilot: Any, **kwargs: Any) -> Any:
    from siaptui.screens.capture import CaptureScreen

    screen = CaptureScreen(**kwargs)
    await pilot.app.push_screen(screen)
    await pilot.pause()
    return screen


async def mark_missing_by_keys(pilot: Any, screen: Any, position: int, reason_index: int = 0) -> None:
    """Select `position` with the arrow keys, F, choose the reason from the list, Enter."""
    while screen.enrollment.current != position:
        await pilot.press("right")
    await pilot.press("f")
    await pilot.pause()
    for _ in range(reason_index):
        await pilot.press("down")
    await pilot.press("enter")
    await pilot.pause()


async def test_ten_finger_enrollment_on_the_sim_scanner_with_a_missing_finger() -> None:
    app = make_app(fast_settings(2), device="sim")
    async with app.run_test(size=SIZE) as pilot:
        prepare(app)
        screen = await open_capture(pilot, device="sim", device_options=FAST_SIM)
        await mark_missing_by_keys(pilot, screen, 6)  # left thumb: amputated
        assert app.flow.fingers[6].missing_reason == "amputated"
        await wait_until(pilot, lambda: not screen.enrollment.pending(), timeout=240)
        flow = app.flow
        for position in FINGERS:
            capture = flow.fingers[position]
            if position == 6:
                assert capture.best is None
                continue
            assert capture.best is not None and len(capture.impressions) == 2, position
            assert capture.consistency["agree"]
        assert flow.review.duplicate_fingers == []
        await to_review(pilot)
        review = app.screen
        await wait_until(pilot, lambda: review.gallery_checked)
        text = screen_text(app)
        assert "Falta: amputado" in text and "Revise cada dedo" in text
        assert flow.review.gallery_hits == []


def emulator_images(screen_ref: list, person: int, same_as: Optional[dict] = None) -> Callable[[int], Any]:
    """The emulated sensor shows the finger the screen is asking for (or a scripted other one)."""
    from siaptui import synth

    def image(impression: int) -> Any:
        position = screen_ref[0].enrollment.current if screen_ref else 1
        finger = (same_as or {}).get(position, position)
        return synth.finger_image(person, finger, impression)

    return image


def fvc_images(screen_ref: list, folder: Any) -> Callable[[int], Any]:
    """Real FVC2002 DB1_B prints on the emulated sensor: ISO position p shows FVC finger 100+p."""
    import numpy as np
    from PIL import Image

    def image(impression: int) -> Any:
        position = screen_ref[0].enrollment.current if screen_ref else 1
        path = folder / f"{100 + position}_{1 + impression % 8}.tif"
        with Image.open(path) as img:
            return np.asarray(img.convert("L"), dtype=np.uint8).copy()

    return image


async def test_ten_finger_enrollment_on_the_emulated_4500(shared) -> None:
    app = make_app(fast_settings(1), device="emulator:uru4500")
    ref: list = []
    folder = shared / "data" / "fingerprints" / "fvc2002" / "DB1_B"
    async with app.run_test(size=SIZE) as pilot:
        prepare(app)
        options = {"on": 0.05, "hold": 1.2, "frame_ms": 5, "image": fvc_images(ref, folder)}
        screen = await open_capture(pilot, device="emulator:uru4500", device_options=options)
        ref.append(screen)
        await mark_missing_by_keys(pilot, screen, 10, reason_index=1)  # left little: bandaged
        await wait_until(pilot, lambda: not screen.enrollment.pending(), timeout=240)
        assert app.flow.fingers[10].missing_reason == "bandaged"
        assert all(app.flow.fingers[p].best is not None for p in FINGERS if p != 10)
        assert app.flow.review.duplicate_fingers == []
        assert "Lector listo" in screen_text(app) or screen.scanner_state == "ready"


async def test_the_same_finger_presented_twice_is_flagged() -> None:
    app = make_app(fast_settings(2), device="emulator:uru4500")
    ref: list = []
    async with app.run_test(size=SIZE) as pilot:
        prepare(app)
        options = {"on": 0.05, "hold": 1.2, "frame_ms": 5, "image": emulator_images(ref, 777, same_as={2: 1})}
        screen = await open_capture(pilot, device="emulator:uru4500", device_options=options)
        ref.append(screen)
        for position in range(3, 11):
            screen.mark_missing(position, "other")
        await wait_until(pilot, lambda: not screen.enrollment.pending(), timeout=120)
        assert [(a, b) for a, b, _ in app.flow.review.duplicate_fingers] == [(1, 2)]
        await wait_until(pilot, lambda: "parece el mismo" in screen_text(app))
        await to_review(pilot)
        await wait_until(pilot, lambda: app.screen.gallery_checked)
        assert "Dos dedos parecen el mismo" in screen_text(app)
        await pilot.press("c")  # first C only warns: the duplicate must be resolved or confirmed
        await pilot.pause()
        assert app.screen.SCREEN_ID == "review"
        await pilot.press("r")  # recapture the highlighted finger (row 1: right thumb)
        await wait_until(pilot, lambda: getattr(app.screen, "SCREEN_ID", "") == "capture")
        assert app.flow.fingers[1].best is None and app.flow.review.duplicate_fingers == []


async def test_worker_already_enrolled_under_another_nss_is_flagged_in_review() -> None:
    """The person enrolled here before under another NSS comes back: Revisión flags the person.

    The gallery holds exactly the impressions the sim serves first (placement 0 of the worker's
    right thumb and index), so the hit does not depend on the engine's genuine-score spread; what
    is tested is the path store → PersonGallery → search → flow.review → screen.  Two fingers,
    because one finger alone never raises the alarm at office scale (biometrics/person.py).
    """
    from siaptui import synth
    from siaptui.biometrics.extract import extract
    from siaptui.devices.sim import seed_for_nss

    app = make_app(fast_settings(1), device="sim")
    async with app.run_test(size=SIZE) as pilot:
        prepare(app)
        earlier = {finger: extract(synth.finger_image(seed_for_nss(NSS), finger, 0), dpi=synth.DPI).to_bytes()
                   for finger in (1, 2)}
        app.services.store().gallery.enroll_worker("99887766554", earlier)
        screen = await open_capture(pilot, device="sim", device_options=FAST_SIM)
        for position in range(3, 11):
            screen.mark_missing(position, "injured")
        await wait_until(pilot, lambda: not screen.enrollment.pending(), timeout=180)
        await to_review(pilot)
        await wait_until(pilot, lambda: app.screen.gallery_checked)
        assert [(nss, finger) for nss, finger, _ in app.flow.review.gallery_hits] == [
            ("99887766554", 1), ("99887766554", 2)]
        assert app.flow.review.needs_attention
        await wait_until(pilot, lambda: "99887766554" in screen_text(app))


async def test_scanner_error_is_explained_and_d_opens_diagnostico() -> None:
    app = make_app(fast_settings(1), device="emulator:uru4500")
    async with app.run_test(size=SIZE) as pilot:
        prepare(app)
        screen = await open_capture(pilot, device="emulator:uru4500", device_options={"fault": "eacces"})
        await wait_until(pilot, lambda: screen.scanner_state == "error")
        from siaptui.devices.base import PermissionDenied
        from siaptui.errors import describe

        message, _fix = describe(PermissionDenied("x"))
        text = screen_text(app)
        assert message.split("{")[0][:30] in text.replace("\n", " ") or "permiso" in text.lower()
        assert "[D: Diagnóstico]" in text
        await pilot.press("d")
        await wait_until(pilot, lambda: getattr(app.screen, "SCREEN_ID", "") == "doctor")
        assert app.flow.fingers[1].impressions == []  # nothing was lost or invented


async def test_unplugged_reader_says_so_until_it_is_back_and_resumes_without_losing_the_enrollment() -> None:
    """Unplugged mid-capture and not back yet: "se desconectó" (not "no reader found"), and no
    "Coloque el dedo" while there is no reader; plugged in again, the capture carries on and
    what was recorded meanwhile is kept."""
    from siaptui.devices import emulator
    from siaptui.i18n import t

    app = make_app(fast_settings(2), device="emulator:uru4500")
    ref: list = []
    async with app.run_test(size=SIZE) as pilot:
        prepare(app)
        options = {"on": 0.05, "hold": 1.2, "frame_ms": 5, "fault": "unplug", "replug": 0,
                   "image": emulator_images(ref, 98)}
        screen = await open_capture(pilot, device="emulator:uru4500", device_options=options)
        ref.append(screen)
        await wait_until(pilot, lambda: screen.scanner_state == "gone")
        await pilot.pause(1.3)  # the reader is retried meanwhile and still not on the bus
        text = _flat(screen_text(app))
        assert "El lector se desconectó" in text and "la captura continúa" in text
        assert _flat(t("capture.guide.gone")) in side_text(app)
        assert "Coloque el dedo" not in text and "No se encontró" not in text
        screen.mark_missing(6, "amputated")  # the clerk works on while the reader is away
        emulator.bus_for("uru4500", **options).plug()
        await wait_until(pilot, lambda: screen.scanner_state == "ready")
        await wait_until(pilot, lambda: screen.accepted_count >= 1, timeout=60)
        assert "se desconectó" not in _flat(screen_text(app))
        assert app.flow.fingers[1].impressions  # captured after the re-plug
        assert app.flow.fingers[6].missing_reason == "amputated"


async def test_repeated_failures_on_one_finger_show_the_count_and_the_next_steps() -> None:
    """A dry finger: after a few placements without an impression the clerk reads how many and
    what to do (clean, moisten, another finger, F to mark it); F marks it injured."""
    app = make_app(fast_settings(1), device="sim")
    async with app.run_test(size=SIZE) as pilot:
        prepare(app)
        screen = await open_capture(pilot, device="sim", device_options={**FAST_SIM, "trouble": "dry"},
                                    replace_after_s=0.3)
        await wait_until(pilot, lambda: "3 intentos sin éxito" in side_text(app), timeout=30)
        text = side_text(app)
        assert "Pulgar derecho: 3 intentos sin éxito" in text
        assert "Limpie el cristal" in text and "humedézcalo" in text
        assert "otro dedo (N)" in text and "presione F si está lesionado o falta" in text
        assert screen.accepted_count == 0
        await wait_until(pilot, lambda: "4 intentos sin éxito" in side_text(app), timeout=30)
        await pilot.press("f")
        await pilot.pause()
        await pilot.press("down", "down", "enter")  # Lesionado
        await wait_until(pilot, lambda: app.flow.fingers[1].missing_reason == "injured")
        assert "Pulgar derecho:" not in side_text(app)  # the advice was about the finger now marked
