"""Snapshot of Revisión at 80×24 with a prepared flow (drawn print, fixed scores, a warning)."""

from __future__ import annotations

import io

import numpy as np

from siaptui.config import Settings
from siaptui.enrollment.flow import FINGERS, Consent, FingerCapture, Impression, WorkerData
from tests.ui.conftest import SIZE, make_app, wait_until


def whorl_png() -> bytes:
    from PIL import Image

    y, x = np.mgrid[0:400, 0:300].astype(np.float32)
    radius = np.hypot((y - 200) * 0.8, x - 150)
    inside = ((x - 150) / 120) ** 2 + ((y - 200) / 170) ** 2 < 1
    pixels = np.where(inside, 128 + 100 * np.cos(2 * np.pi * radius / 9.0), 235).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def test_review_screen(snap_compare) -> None:
    from siaptui.biometrics.template import Minutia, Template

    settings = Settings()
    settings.general.theme = "default"
    app = make_app(settings, device="sim")
    template = Template(300, 400, 500, [Minutia(100 + 7 * i, 120 + 9 * i, 0.3 * i) for i in range(12)], 70).to_bytes()
    png = whorl_png()
    flow = app.flow
    flow.worker = WorkerData(nss="12345678903", name="Prueba", confirmed=True)
    flow.consent = Consent(accepted=True, notice_version="t", recorded_at=1.0, terminal="t")
    flow.fingers = {p: FingerCapture(position=p, missing_reason="amputated") for p in FINGERS}
    for position, quality in ((1, 88), (2, 74)):
        flow.fingers[position] = FingerCapture(
            position=position,
            impressions=[Impression(quality=quality, template=template, image_png=png)] * 3,
            best=0,
            consistency={"pairs": [[0, 1, 61.0], [0, 2, 55.5], [1, 2, 70.0]], "agree": True, "threshold": 30.0},
        )
    flow.review.duplicate_fingers = [(1, 2, 95.0)]

    async def run_before(pilot) -> None:
        pilot.app.goto("review")
        await wait_until(pilot, lambda: getattr(pilot.app.screen, "gallery_checked", False))
        pilot.app.screen.query_one("#chosen").forced_color_system = "standard"
        pilot.app.screen.query_one("#chosen").set_mode("ascii")
        await pilot.pause()

    assert snap_compare(app, run_before=run_before, terminal_size=SIZE)
