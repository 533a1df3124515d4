"""Revisión with a prepared flow: the table, the chosen impression, recapture and the gate."""

from __future__ import annotations

import pytest

from siaptui.config import Settings
from siaptui.enrollment.flow import FINGERS, Consent, FingerCapture, Impression, WorkerData
from tests.ui.conftest import SIZE, make_app, screen_text, wait_until


@pytest.fixture(scope="module")
def thumb_print():
    """One real impression: template from the engine, PNG of the image, its quality."""
    from siaptui import synth
    from siaptui.biometrics.extract import extract
    from siaptui.devices.base import DeviceInfo, Frame

    pixels = synth.finger_image(5150, 1, 1)
    return extract(pixels, dpi=synth.DPI).to_bytes(), Frame(pixels, synth.DPI, DeviceInfo(spec="sim")).to_png()


def prepared_app(thumb_print):
    settings = Settings()
    settings.general.theme = "default"
    app = make_app(settings, device="sim")
    template, png = thumb_print
    flow = app.flow
    flow.worker = WorkerData(nss="12345678903", name="Prueba", confirmed=True)
    flow.consent = Consent(accepted=True, notice_version="t", recorded_at=1.0, terminal="t")
    flow.fingers = {p: FingerCapture(position=p, missing_reason="bandaged") for p in FINGERS}
    flow.fingers[1] = FingerCapture(
        position=1,
        impressions=[Impression(quality=81, template=template, image_png=png)] * 3,
        best=0,
        consistency={"pairs": [[0, 1, 120.0], [0, 2, 118.5], [1, 2, 130.0]], "agree": True, "threshold": 40.0},
    )
    return app


async def test_review_lists_every_finger_with_score_agreement_and_preview(thumb_print) -> None:
    app = prepared_app(thumb_print)
    async with app.run_test(size=SIZE) as pilot:
        app.goto("review")
        await wait_until(pilot, lambda: getattr(app.screen, "gallery_checked", False))
        text = screen_text(app)
        assert "Revise cada dedo" in text
        assert "Pulgar der." in text and "81" in text and "3/3 (118)" in text
        assert text.count("Falta: vendado") >= 5  # the rows that fit at 80×24
        assert "Sin advertencias" in text
        from siaptui.widgets.fingerprint_view import FingerprintView

        assert app.screen.query_one(FingerprintView).has_frame  # the chosen impression is shown


async def test_recapture_clears_the_finger_and_returns_to_capture(thumb_print, monkeypatch) -> None:
    from siaptui.devices.sim import Practice

    monkeypatch.setattr(Practice, "timing", (30.0, 130.0, 0.4))  # no finger arrives while we look
    app = prepared_app(thumb_print)
    async with app.run_test(size=SIZE) as pilot:
        app.goto("review")
        await wait_until(pilot, lambda: getattr(app.screen, "gallery_checked", False))
        await pilot.press("r")  # first row: right thumb
        await wait_until(pilot, lambda: getattr(app.screen, "SCREEN_ID", "") == "capture")
        assert app.flow.fingers[1].best is None and not app.flow.fingers[1].impressions
        assert app.screen.enrollment.current == 1
        assert "Pulgar derecho — impresión 1 de 3" in screen_text(app)


async def test_continue_is_refused_while_a_finger_is_pending(thumb_print) -> None:
    app = prepared_app(thumb_print)
    app.flow.fingers[4] = FingerCapture(position=4)
    async with app.run_test(size=SIZE) as pilot:
        app.goto("review")
        await wait_until(pilot, lambda: getattr(app.screen, "gallery_checked", False))
        await pilot.press("c")
        await pilot.pause()
        assert app.screen.SCREEN_ID == "review"
        assert "Anular derecho" in screen_text(app)


async def test_two_alike_fingers_are_not_promised_a_flagged_send_and_f_is_the_way_out(thumb_print) -> None:
    """The portal cannot carry "two of the worker's fingers look alike": Revisión never offers to
    send it flagged, says the ways out (R, F) every time, and Envío refuses in the same words."""
    from siaptui.i18n import t

    app = prepared_app(thumb_print)
    app.flow.fingers[2] = FingerCapture(position=2, impressions=list(app.flow.fingers[1].impressions), best=0,
                                        consistency=dict(app.flow.fingers[1].consistency))
    app.flow.review.duplicate_fingers = [(1, 2, 500.0)]
    async with app.run_test(size=SIZE) as pilot:
        app.goto("review")
        await wait_until(pilot, lambda: getattr(app.screen, "gallery_checked", False))
        review = app.screen
        assert "Dos dedos parecen el mismo" in screen_text(app)
        for _ in range(2):  # C again is no way past it
            await pilot.press("c")
            await pilot.pause()
            assert app.screen is review
            text = " ".join(screen_text(app).split())
            assert "No se puede enviar: dos dedos parecen el mismo" in text and "F para marcarlo" in text
            assert "C otra vez" not in text
        await pilot.press("s")  # IMSS review is for another person: said, with what to do instead
        await pilot.pause()
        assert t("capture.review.duplicates_not_reviewable")[:40] in " ".join(screen_text(app).split())

        app.goto("submit")  # Envío, however reached, refuses with the same way out
        await wait_until(pilot, lambda: getattr(app.screen, "SCREEN_ID", "") == "submit")
        await pilot.press("enter")
        await pilot.pause()
        assert "Regrese a Revisión (Esc) y recapture uno (R) o márquelo como faltante (F)" in \
            " ".join(screen_text(app).split())
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is review)

        await pilot.press("down")  # the second finger of the pair
        await pilot.press("f")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "MissingFingerScreen")
        await pilot.press("enter")  # the first reason of the list
        await wait_until(pilot, lambda: app.screen is review)
        assert app.flow.fingers[2].missing_reason == "amputated" and not app.flow.review.duplicate_fingers
        assert "Sin advertencias" in screen_text(app)
        await pilot.press("c")
        await wait_until(pilot, lambda: getattr(app.screen, "SCREEN_ID", "") == "submit")


@pytest.mark.parametrize("reason", ["", "gemelos registrados por separado en otra sucursal " * 4])
async def test_a_gallery_match_on_every_finger_is_said_whole_at_80x24(thumb_print, reason: str) -> None:
    """Ten matching fingers and a long reason still leave every sentence readable."""
    from siaptui.i18n import t

    app = prepared_app(thumb_print)
    async with app.run_test(size=SIZE) as pilot:
        app.goto("review")
        await wait_until(pilot, lambda: getattr(app.screen, "gallery_checked", False))
        app.flow.review.gallery_hits = [("34109056787", p, 90.0) for p in FINGERS]
        app.flow.review.review_reason = reason
        app.screen._fill()
        await pilot.pause()
        text = " ".join(screen_text(app).split())
        assert " ".join(t("capture.review.gallery_hits", nss="34109056787", count=10).split()) in text
        if reason:
            assert "Motivo del supervisor: gemelos registrados" in text and text.count("…") == 1
        else:
            assert t("capture.review.gallery_choice") in text
        assert "Coincide con otro NSS" in text  # the table names the matching fingers
        assert text.count("Falta: vendado") == 9  # every row of the table still shows
