"""Helpers for the UI tests: the real app from `build_app`, a fixed clock, no blinking cursor.

Everything below is the production code path; only the inputs `build_app` accepts are chosen
(portal URL, scanner spec, demo credential folder, clock).  Snapshots need determinism, so the
clock is frozen and animations/blink are off (`low_motion=True`, as over SSH).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Optional

import pytest

from siaptui.config import Settings
from tests.store.conftest import pg_server, pg_url  # noqa: F401 - the real PostgreSQL, for office stations

FIXED_NOW = 1_780_000_000.0  # 2026-05-28 UTC: a stable clock for snapshots
SIZE = (80, 24)


def make_app(settings: Optional[Settings] = None, **kwargs: Any) -> Any:
    from siaptui.app import build_app

    kwargs.setdefault("now", lambda: FIXED_NOW)
    kwargs.setdefault("low_motion", True)
    return build_app(settings or Settings(), **kwargs)


def screen_text(app: Any) -> str:
    """The current screen as plain text (what a clerk would read), for assertions."""
    from rich.console import Console

    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", record=True, legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()


async def wait_until(pilot: Any, predicate: Any, timeout: float = 20.0) -> None:
    """Let the app work (workers, HTTP on loopback) until `predicate()` holds, or fail."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"condition not reached; screen:\n{screen_text(pilot.app)}")
        await pilot.pause(0.05)
    await pilot.pause()  # let the screen paint what the condition changed


async def to_review(pilot: Any, timeout: float = 60) -> None:
    """From the capture screen with every finger settled: Enter to Foto, wait until the photo is
    taken (sim camera) or skipped (no camera), Enter to Revisión."""
    app = pilot.app
    await pilot.press("enter")
    await wait_until(pilot, lambda: getattr(app.screen, "SCREEN_ID", "") == "photo"
                     and app.screen.state in ("taken", "skipped"), timeout)
    await pilot.press("enter")
    await wait_until(pilot, lambda: getattr(app.screen, "SCREEN_ID", "") == "review", timeout)


async def review_send_and_wait_for_receipt(pilot: Any) -> None:
    """From the capture screen with every finger settled: Foto → Revisión → Envío → Acuse, by keys."""
    app = pilot.app
    await to_review(pilot)
    await wait_until(pilot, lambda: getattr(app.screen, "gallery_checked", True), 60)
    await pilot.press("c")
    await wait_until(pilot, lambda: app.screen.SCREEN_ID == "submit", 30)
    await pilot.press("enter")
    await wait_until(pilot, lambda: app.screen.SCREEN_ID == "receipt", 60)


@pytest.fixture
def demo(tmp_path: Path) -> Any:
    """The `siaptui demo` setup: sandbox on loopback, demo e.firma, temp data dir, training on."""
    from siaptui.devices.sim import Practice

    timing = Practice.timing
    Practice.reset()  # a practice scenario chosen by an earlier test (a dry finger) must not leak
    Practice.timing = (0.1, 20.0, 0.1)  # a brisk simulated finger keeps whole-flow tests short
    try:
        from siaptui import demo as demo_mod

        sandbox, efirma, settings, folder = demo_mod.start(Settings(), workdir=tmp_path / "demo")
    except Exception as exc:
        if getattr(exc, "code", "") == "demo_unavailable":
            pytest.skip("the sandbox portal is not in this build yet")
        raise
    try:
        yield sandbox, efirma, settings
    finally:
        sandbox.stop()
        Practice.reset()
        Practice.timing = timing


async def transfer_to_acuse(pilot: Any) -> None:
    """From a confirmed worker registered with another employer: consent, Transferencia, the acuse."""
    app = pilot.app
    await pilot.press("enter")
    await wait_until(pilot, lambda: app.screen.SCREEN_ID == "consent")
    await pilot.press("a")
    await wait_until(pilot, lambda: app.screen.SCREEN_ID == "transfer")
    await pilot.press("enter")
    await wait_until(pilot, lambda: app.screen.SCREEN_ID == "receipt", 60)
