"""Modo práctica: every scenario chosen from the menu by keyboard ends in the right message.

The real app (`build_app`) runs against the real sandbox portal on loopback with the demo
e.firma (the `demo` fixture: exactly what `siaptui demo` starts); the scenarios configure the
sandbox's faults, the sim scanner's practice script, demo e.firmas and the office gallery, and
the trainee's keystrokes do the rest.  Only the sim scanner's timing is shortened.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from textual.widgets import Input

from siaptui import training
from siaptui.devices.sim import Practice
from siaptui.errors import describe
from siaptui.i18n import t
from tests.ui.conftest import SIZE, make_app, screen_text, wait_until

SAMPLE = {"retry_after": 120}


@pytest.fixture(autouse=True)
def _fast_clean_sim():
    saved = Practice.timing
    Practice.reset()
    Practice.timing = (0.05, 5.0, 0.02)
    yield
    Practice.reset()
    Practice.timing = saved


def _app(demo: Any, **settings_changes: Any) -> Any:
    sandbox, efirma, settings = demo
    from pathlib import Path

    settings.general.theme = "default"
    settings.scanner.preview_fps = 30
    for name, value in settings_changes.items():
        section, key = name.split("__")
        setattr(getattr(settings, section), key, value)
    # The real clock: the demo e.firmas are issued relative to now (expired = a month ago).
    return make_app(settings, portal_url=sandbox.url, device="sim", now=time.time,
                    credential_dir=Path(efirma.cer).parent, demo_password=efirma.password)


def _flat(text: str) -> str:
    return " ".join(text.split())


async def see(pilot: Any, key: str, timeout: float = 30.0, **params: Any) -> None:
    """Wait until the clerk can read catalog message `key` on screen (its text up to the first
    unfilled placeholder, at most 40 characters)."""
    wanted = _flat(t(key, **params).split("{")[0])[:40]
    assert len(wanted) >= 10, key
    await wait_until(pilot, lambda: wanted in _flat(screen_text(pilot.app)), timeout=timeout)


async def open_menu(pilot: Any) -> None:
    """F6, the shell's key for the trainer's menu (shown only in Modo práctica)."""
    await wait_until(pilot, lambda: getattr(pilot.app.screen, "SCREEN_ID", "") != "")
    await pilot.press("f6")
    await wait_until(pilot, lambda: getattr(pilot.app.screen, "SCREEN_ID", "") == "training")
    await pilot.pause()


async def choose(pilot: Any, scenario_id: str) -> Any:
    """Move down the menu with ↓ to the scenario and press Intro; wait until it is applied."""
    await open_menu(pilot)
    menu = pilot.app.screen
    index = [s.id for s in training.SCENARIOS].index(scenario_id)
    await pilot.press("home")
    for _ in range(index):
        await pilot.press("down")
    await pilot.press("enter")
    await wait_until(pilot, lambda: menu.active == scenario_id or "error" in menu.query_one("#status").classes,
                     timeout=60)
    assert menu.active == scenario_id, screen_text(pilot.app)
    return menu.last_applied


async def sign_in(pilot: Any) -> None:
    """Intro on the login screen with the pre-filled practice e.firma."""
    app = pilot.app
    await wait_until(pilot, lambda: getattr(app.screen, "SCREEN_ID", "") == "login")
    app.screen.query_one("#password", Input).focus()
    await pilot.press("enter")
    await wait_until(pilot, lambda: app.flow.employer is not None, timeout=30)


async def type_worker(pilot: Any, nss: str, curp: str) -> None:
    app = pilot.app
    await wait_until(pilot, lambda: getattr(app.screen, "SCREEN_ID", "") == "worker")
    app.screen.query_one("#nss", Input).focus()
    await pilot.press(*nss)
    await pilot.press("enter")
    await pilot.press(*curp.lower())
    await pilot.press("enter")


def test_every_scenario_has_its_texts_in_both_languages() -> None:
    from siaptui.i18n import has

    for key in training.catalog_keys():
        assert has(key, "es") and has(key, "en"), key
    assert len({s.id for s in training.SCENARIOS}) == len(training.SCENARIOS)


async def test_efirma_scenarios_end_in_the_efirma_message(demo: Any) -> None:
    app = _app(demo)
    async with app.run_test(size=SIZE) as pilot:
        for scenario_id in ("efirma_expired", "efirma_csd"):
            await choose(pilot, scenario_id)
            await wait_until(pilot, lambda: app.screen.SCREEN_ID == "login")
            assert f"training-efirma/{scenario_id}" in app.screen.query_one("#cer", Input).value
            app.screen.query_one("#password", Input).focus()
            await pilot.press("enter")
            expected = training.scenario(scenario_id).expected
            await see(pilot, expected)
            await see(pilot, expected + ".fix")
            assert app.flow.employer is None
        await choose(pilot, "all_clear")  # back to the valid practice e.firma: signing in works
        assert "training-efirma" not in app.screen.query_one("#cer", Input).value
        await sign_in(pilot)
        assert Practice.trouble is None and not Practice.missing


async def test_worker_scenarios_end_in_the_portal_message(demo: Any) -> None:
    app = _app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        for scenario_id in ("curp_not_eligible", "identity_mismatch", "portal_overloaded"):
            applied = await choose(pilot, scenario_id)
            await type_worker(pilot, applied.worker["nss"], applied.worker["curp"])
            expected = training.scenario(scenario_id).expected
            await see(pilot, expected, **SAMPLE)
            await see(pilot, expected + ".fix")
            assert not app.flow.worker.confirmed
        await pilot.press("enter")  # the overload was one request long: the portal answers again
        await wait_until(pilot, lambda: app.flow.worker.confirmed)


async def test_menu_refuses_outside_training_mode() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: getattr(app.screen, "SCREEN_ID", "") == "login")
        await pilot.press("f6")  # no trainer's menu outside Modo práctica
        await pilot.pause()
        assert app.screen.SCREEN_ID == "login"
        app.goto("training")  # and if something routes there anyway, it refuses
        await wait_until(pilot, lambda: getattr(app.screen, "SCREEN_ID", "") == "training")
        await see(pilot, "error.training_off")
        await pilot.press("enter")
        await see(pilot, "error.training_off.fix")
        assert app.screen.active is None


async def test_session_expired_mid_work_is_renewed_with_the_efirma_in_memory(demo: Any) -> None:
    app = _app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        client = await app.services.client()
        before = client.session.access_token
        applied = await choose(pilot, "session_expired")
        await type_worker(pilot, applied.worker["nss"], applied.worker["curp"])
        await see(pilot, "worker.confirmed")
        assert app.flow.worker.confirmed
        assert client.session.access_token != before  # the portal expired it; a new login happened


async def to_capture(pilot: Any, worker: dict) -> Any:
    """Type the worker, confirm, accept consent (A): the capture screen starts the scanner."""
    app = pilot.app
    await type_worker(pilot, worker["nss"], worker["curp"])
    await wait_until(pilot, lambda: app.flow.worker.confirmed)
    await pilot.press("enter")
    await wait_until(pilot, lambda: getattr(app.screen, "SCREEN_ID", "") == "consent")
    await pilot.press("a")
    await wait_until(pilot, lambda: getattr(app.screen, "SCREEN_ID", "") == "capture")
    return app.screen


async def test_capture_scenarios_device_not_found_then_dry_finger(demo: Any) -> None:
    app = _app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        applied = await choose(pilot, "device_not_found")
        await to_capture(pilot, applied.worker)
        await see(pilot, "error.device_not_found", spec="sim")
        await see(pilot, "error.device_not_found.fix")
        applied = await choose(pilot, "dry_finger")  # another worker: back to Trabajador first
        screen = await to_capture(pilot, applied.worker)
        await see(pilot, "capture.guide.too_light")
        assert screen.accepted_count == 0  # a dry finger is not accepted


async def test_duplicate_worker_is_flagged_at_review(demo: Any) -> None:
    pytest.importorskip("siaptui.biometrics.match", reason="engine matcher not in this build yet")
    pytest.importorskip("siaptui.biometrics.gallery", reason="engine 1:N gallery not in this build yet")
    app = _app(demo, capture__impressions=1)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        applied = await choose(pilot, "duplicate_worker")
        screen = await to_capture(pilot, applied.worker)
        await wait_until(pilot, lambda: not screen.enrollment.pending(), timeout=240)
        await pilot.press("enter")  # to Revisión
        await wait_until(pilot, lambda: getattr(app.screen, "SCREEN_ID", "") == "review")
        review = app.screen
        await wait_until(pilot, lambda: review.gallery_checked, timeout=60)
        await see(pilot, "capture.review.gallery_hits")
        assert applied.gallery_nss == "12058512349" and Practice.impersonate == 1001
        assert {nss for nss, _, _ in app.flow.review.gallery_hits} == {applied.gallery_nss}


def test_scenarios_refuse_a_portal_that_is_not_a_sandbox(tmp_path: Any) -> None:
    with pytest.raises(training.TrainingError) as caught:
        training.apply(training.scenario("all_clear"), training=False, portal_url="http://127.0.0.1:9",
                       workdir=tmp_path)
    assert caught.value.code == "training_off"
    with pytest.raises(training.TrainingError) as caught:
        training.apply(training.scenario("all_clear"), training=True, portal_url="http://127.0.0.1:9",
                       workdir=tmp_path)
    message, fix = describe(caught.value)
    assert caught.value.code == "training_sandbox_unreachable" and "siaptui demo" in fix


async def test_menu_lists_every_scenario_at_80x24_and_describes_the_highlighted_one(demo: Any) -> None:
    app = _app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await open_menu(pilot)
        await see(pilot, "training.menu.intro")
        text = _flat(screen_text(app))
        assert "MODO PRÁCTICA" in text
        for item in training.SCENARIOS:
            assert _flat(t(item.title_key))[:30] in text, item.id
        for item in training.SCENARIOS[1:]:
            await pilot.press("down")
            await see(pilot, item.description_key)
        await pilot.press("escape")
        await wait_until(pilot, lambda: getattr(app.screen, "SCREEN_ID", "") == "login")
