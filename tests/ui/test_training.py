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

from siaptui.devices.sim import Practice
from siaptui.enrollment import training
from siaptui.errors import describe
from siaptui.i18n import catalog, placeholders, t
from tests.ui.conftest import SIZE, make_app, screen_text, to_review, wait_until

SAMPLE = {"retry_after": 120}
OVERLOAD = {"retry_after": t("portal.retry_after.seconds", seconds=training.OVERLOAD_RETRY_AFTER_S)}


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
    unfilled placeholder, at most 40 characters; `t` leaves an unfilled field out, so each is
    filled with a "{" to cut at)."""
    unfilled = {name: "{" for lang in ("es", "en") for name in placeholders(catalog(lang).get(key, ""))
                if name not in params}
    wanted = _flat(t(key, **params, **unfilled).split("{")[0])[:40]
    assert len(wanted) >= 10, key
    await wait_until(pilot, lambda: wanted in _flat(screen_text(pilot.app)), timeout=timeout)


def toast_text(app: Any) -> str:
    """The text of the toasts drawn over the screen (right of their ▌ edge), flattened."""
    return _flat(" ".join(line.rsplit("▌", 1)[1] for line in screen_text(app).splitlines() if "▌" in line))


async def see_toast(pilot: Any, key: str, **params: Any) -> None:
    """Wait until catalog message `key`, filled with `params`, is drawn whole in a toast."""
    wanted = _flat(t(key, **params))
    await wait_until(pilot, lambda: wanted in toast_text(pilot.app), timeout=20)


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
        for scenario_id in ("curp_not_eligible", "identity_mismatch"):
            applied = await choose(pilot, scenario_id)
            await type_worker(pilot, applied.worker["nss"], applied.worker["curp"])
            expected = training.scenario(scenario_id).expected
            await see(pilot, expected, **SAMPLE)
            await see(pilot, expected + ".fix")
            assert not app.flow.worker.confirmed


async def test_worker_of_another_employer_reads_as_not_registered_here(demo: Any) -> None:
    """Contract v2: a worker on another employer's roster reads "not registered with this
    employer — register the alta first" (the portal answers it as for a worker who does not
    exist; tests/portal/test_authorization.py checks that equality)."""
    from siaptui.portal.sandbox import seed

    other = seed.OTHER_WORKERS[0]
    app = _app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        await type_worker(pilot, str(other["nss"]), str(other["curp"]))
        await see(pilot, "error.portal_worker_not_in_roster")
        await see(pilot, "error.portal_worker_not_in_roster.fix")
        assert not app.flow.worker.confirmed
        assert str(other["name"]) not in screen_text(app)


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


async def to_submit(pilot: Any, worker: dict) -> Any:
    """Capture fingers (one impression each) and mark the rest missing as the sim serves them,
    review, go to Envío."""
    app = pilot.app
    capture = await to_capture(pilot, worker)
    first = capture.enrollment.current
    await wait_until(pilot, lambda: getattr(app.flow.fingers.get(first), "best", None) is not None, timeout=60)
    missing_screen = "MissingFingerScreen"
    while capture.enrollment.pending():
        await pilot.press("f")
        await wait_until(pilot, lambda: type(app.screen).__name__ == missing_screen or not capture.enrollment.pending())
        if type(app.screen).__name__ == missing_screen:
            await pilot.press("enter")  # the first reason in the list
            await wait_until(pilot, lambda: type(app.screen).__name__ != missing_screen)
    await to_review(pilot)
    await wait_until(pilot, lambda: getattr(app.screen, "gallery_checked", True), 30)
    await pilot.press("c")
    await wait_until(pilot, lambda: getattr(app.screen, "SCREEN_ID", "") == "submit")
    return app.screen


def portal_copies(sandbox: Any, key: str) -> int:
    return sum(1 for k in sandbox.store.enrollment_keys() if k == key)


async def test_session_expired_mid_submit_is_renewed_and_acknowledged_once(demo: Any) -> None:
    sandbox = demo[0]
    app = _app(demo, capture__impressions=1)
    async with app.run_test(size=SIZE, notifications=True) as pilot:  # toasts drawn, as in use
        await sign_in(pilot)
        applied = await choose(pilot, "session_expired")
        menu = app.screen_for("training")
        await to_submit(pilot, applied.worker)
        assert not sandbox.store.enrollment_keys()
        await pilot.press("enter")  # Envío: the session expires while the POST is at the portal
        await wait_until(pilot, lambda: getattr(app.screen, "SCREEN_ID", "") == "receipt", 60)
        folio = app.flow.receipt["folio"]
        await see_toast(pilot, "training.session_renewed", folio=folio)
        assert folio in screen_text(app)
        report = menu.submit_report
        assert report.renewed and report.state == "sent" and report.folio == folio
        item = app.services.store().outbox.get(app.flow.outbox_id)
        assert item.state == "sent" and item.folio == folio and item.attempts == 1  # renewed in-line
        assert portal_copies(sandbox, item.idempotency_key) == 1 == len(sandbox.store.enrollment_keys())
        assert sandbox.set_faults()["latency_ms"] == 0  # the slow portal ended with the practice


async def test_portal_overloaded_keeps_it_in_the_outbox_then_the_retry_gets_the_acuse(demo: Any) -> None:
    sandbox = demo[0]
    app = _app(demo, capture__impressions=1)
    async with app.run_test(size=SIZE, notifications=True) as pilot:  # toasts drawn, as in use
        await sign_in(pilot)
        applied = await choose(pilot, "portal_overloaded")
        await to_submit(pilot, applied.worker)  # the lookup before Envío is not overloaded
        await pilot.press("enter")  # Envío: committed, then 503 + Retry-After on every try
        await see(pilot, "error.portal_overloaded", **OVERLOAD)
        await see(pilot, "error.portal_overloaded.fix")
        await see(pilot, "submit.not_sent")
        assert "Ya puede cerrar el programa" in screen_text(app)
        outbox = app.services.store().outbox
        item = outbox.get(app.flow.outbox_id)  # committed before the first try

        # The overload passes; the app's background sender retries it and the portal answers:
        # Envío follows the outbox and opens the acuse, with no key pressed and no second send.
        await wait_until(pilot, lambda: outbox.get(item.id).state == "sent", 30)
        sent = outbox.get(item.id)
        await see_toast(pilot, "training.overload_passed", folio=sent.folio)
        assert sandbox.set_faults()["overload_next"] == 0  # every 503 was met by a real try
        await wait_until(pilot, lambda: getattr(app.screen, "SCREEN_ID", "") == "receipt")
        submit = app.screen_for("submit")
        assert t("submit.sent", folio=sent.folio) in str(submit.query_one("#stage-sent").content)
        assert "error" not in submit.query_one("#status").classes
        assert app.flow.receipt["folio"] == sent.folio and sent.folio in screen_text(app)
        assert sent.idempotency_key == item.idempotency_key and len(outbox.items()) == 1
        assert portal_copies(sandbox, item.idempotency_key) == 1 == len(sandbox.store.enrollment_keys())


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
    app = _app(demo, capture__impressions=1)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        applied = await choose(pilot, "duplicate_worker")
        screen = await to_capture(pilot, applied.worker)
        await wait_until(pilot, lambda: not screen.enrollment.pending(), timeout=240)
        await to_review(pilot)
        review = app.screen
        await wait_until(pilot, lambda: review.gallery_checked, timeout=60)
        await see(pilot, "capture.review.gallery_hits")
        assert applied.gallery_nss == "12058512349" and Practice.impersonate == 1001
        assert {nss for nss, _, _ in app.flow.review.gallery_hits} == {applied.gallery_nss}

        # A flag is a question: Envío refuses until a supervisor gives a reason for IMSS review.
        await see(pilot, "capture.review.gallery_choice")
        await pilot.press("s")
        await wait_until(pilot, lambda: app.screen.query("#reason"))
        await pilot.press(*"corto", "enter")
        await see(pilot, "capture.review.reason_short", minimum=10)
        await pilot.press(*" pero gemelos registrados por separado", "enter")
        await wait_until(pilot, lambda: getattr(app.screen, "SCREEN_ID", "") == "review")
        await see(pilot, "capture.review.under_review")
        assert app.flow.review.review_reason == "corto pero gemelos registrados por separado"
        await pilot.press("c")
        await wait_until(pilot, lambda: getattr(app.screen, "SCREEN_ID", "") == "submit")
        await pilot.press("enter")
        await wait_until(pilot, lambda: getattr(app.screen, "SCREEN_ID", "") == "receipt", 60)
        assert "EN REVISIÓN POR EL IMSS" in app.flow.receipt["acuse"]
        kept = demo[0].store.enrollment(app.flow.receipt["enrollment_id"], app.flow.employer.rfc)
        assert (kept["status"], kept["duplicate_check"]) == ("under_review", "under_review")


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


@pytest.mark.parametrize("lang", ["es", "en"])
def test_every_scenario_says_its_final_message_without_blanks(lang: str) -> None:
    """What the run decides reads "…"; what is known beforehand (the pre-enrolled worker's NSS,
    the expired e.firma's date) is said."""
    import re
    from datetime import datetime, timedelta, timezone

    from siaptui import i18n
    from siaptui.screens.training import expected_text

    i18n.set_language(lang)
    try:
        for item in training.SCENARIOS:
            text = expected_text(item)
            assert not re.search(r"\s[),.:;]|\(\s|\s\s", text), (item.id, text)
        duplicate = expected_text(training.scenario("duplicate_worker"))
        assert training.demo_worker(1001)["nss"] in duplicate
        expired = (datetime.now(timezone.utc) - timedelta(days=30)).date().isoformat()
        assert expired in expected_text(training.scenario("efirma_expired"))
        assert "…" in expected_text(training.scenario("efirma_csd"))
    finally:
        i18n.set_language("es")


async def test_the_practice_notice_is_brief_and_keeps_off_the_form(demo: Any) -> None:
    """Over the title and the step bar, not over the NSS and CURP fields, and gone in seconds
    (every practice notice is one `notify` with `TOAST_S`; «Portal saturado» has the longest)."""
    scenario_id = "portal_overloaded"
    from textual.widgets._toast import Toast

    from siaptui.screens.training import TOAST_S

    app = _app(demo)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await sign_in(pilot)
        await choose(pilot, scenario_id)
        await wait_until(pilot, lambda: getattr(app.screen, "SCREEN_ID", "") == "worker"
                         and bool(app.screen.query(Toast)))
        await pilot.pause(0.2)
        toast = app.screen.query(Toast).first()
        assert toast.region.y == 0 and toast.region.width >= SIZE[0] - 2  # the rack keeps a scrollbar gutter
        for field in ("#nss", "#curp"):
            assert toast.region.bottom <= app.screen.query_one(field, Input).region.y, field
        assert TOAST_S <= 10
        await pilot.pause(TOAST_S + 1)
        assert not app.screen.query(Toast)
