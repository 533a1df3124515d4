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
    # The app-level key that opens Modo práctica is wired by the shell (see the report);
    # this is what that binding runs.
    pilot.app.action_goto("training")
    await wait_until(pilot, lambda: getattr(pilot.app.screen, "SCREEN_ID", "") == "training")


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


@pytest.mark.parametrize("scenario_id", ["efirma_expired", "efirma_csd"])
async def test_efirma_scenarios_end_in_the_efirma_message(demo: Any, scenario_id: str) -> None:
    app = _app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, scenario_id)
        await wait_until(pilot, lambda: app.screen.SCREEN_ID == "login")
        assert "training-efirma" in app.screen.query_one("#cer", Input).value
        app.screen.query_one("#password", Input).focus()
        await pilot.press("enter")
        expected = training.scenario(scenario_id).expected
        await see(pilot, expected)
        await see(pilot, expected + ".fix")
        assert app.flow.employer is None


@pytest.mark.parametrize("scenario_id", ["curp_not_eligible", "identity_mismatch", "portal_overloaded"])
async def test_worker_scenarios_end_in_the_portal_message(demo: Any, scenario_id: str) -> None:
    app = _app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        applied = await choose(pilot, scenario_id)
        await type_worker(pilot, applied.worker["nss"], applied.worker["curp"])
        expected = training.scenario(scenario_id).expected
        await see(pilot, expected, **SAMPLE)
        await see(pilot, expected + ".fix")
        assert not app.flow.worker.confirmed
        if scenario_id == "portal_overloaded":
            await pilot.press("enter")  # the portal answers again
            await wait_until(pilot, lambda: app.flow.worker.confirmed)


async def test_menu_refuses_outside_training_mode() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_menu(pilot)
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
