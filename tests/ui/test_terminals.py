"""The terminals our users have: 80 columns, the Linux console (TERM=linux) and NO_COLOR."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from siaptui import i18n
from siaptui.screens import SCREEN_IDS
from tests.ui.conftest import SIZE, make_app, screen_text, wait_until

#: What the Linux console's fonts draw: Latin-1, light and double box lines, blocks, bullet.
CONSOLE_DRAWS = set(chr(c) for c in range(0x20, 0x7F)) | set(chr(c) for c in range(0xA0, 0x100)) | set(
    "─│┌┐└┘├┤┬┴┼═║╔╗╚╝╠╣╦╩╬▀▄█▌▐░▒▓•\n")
#: Screens shown over the flow that need arguments of their own.
NOT_STANDALONE = ("help", "quit_confirm")


@pytest.fixture
def console_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TERM", "linux")
    yield
    i18n.use_console_glyphs(False)


async def _visit(app: Any, pilot: Any, screen_id: str) -> None:
    app.push_screen(app.screen_for(screen_id))
    await pilot.pause(0.2)


@pytest.mark.parametrize("screen_id", [s for s in SCREEN_IDS if s not in NOT_STANDALONE])
async def test_the_footer_fits_80_columns_and_keeps_f1(screen_id: str) -> None:
    from siaptui.widgets.fitted_footer import FittedFooter, key_width

    app = make_app(device="sim")
    async with app.run_test(size=SIZE) as pilot:
        await _visit(app, pilot, screen_id)
        footer = app.screen.query_one(FittedFooter)
        await wait_until(pilot, lambda: bool(footer.query("FooterKey")))
        keys = list(footer.query("FooterKey"))
        assert sum(key_width(k) for k in keys) <= SIZE[0] + 1  # the last key needs no gap
        assert "help" in {k.action for k in keys}
        assert all(k.description and "key." not in k.description for k in keys)


async def test_the_linux_console_gets_only_glyphs_its_font_has(console_env: None) -> None:
    app = make_app(device="sim")
    async with app.run_test(size=SIZE) as pilot:
        for screen_id in ("login", "worker", "consent", "capture", "outbox", "doctor"):
            await _visit(app, pilot, screen_id)
            text = screen_text(app)
            assert set(text) <= CONSOLE_DRAWS, (screen_id, sorted(set(text) - CONSOLE_DRAWS))


def test_on_the_linux_console_scrollbars_are_drawn_in_whole_cells(monkeypatch: pytest.MonkeyPatch) -> None:
    """The acuse at 80×24 scrolls: its scrollbar's thumb must not end in an eighth block there,
    and keeps Textual's smoother glyphs on other terminals."""
    from textual.scrollbar import ScrollBar, ScrollBarRender

    from siaptui.widgets.console_scrollbar import WholeCellScrollBarRender

    for position in (0.0, 3.3, 7.7, 30.0):
        bar = WholeCellScrollBarRender.render_bar(size=22, virtual_size=53, window_size=22, position=position)
        assert set("".join(segment.text for segment in bar.segments)) <= CONSOLE_DRAWS
    make_app(device="sim")
    assert ScrollBar.renderer is ScrollBarRender
    monkeypatch.setenv("TERM", "linux")
    try:
        make_app(device="sim")
        assert ScrollBar.renderer is WholeCellScrollBarRender
    finally:
        i18n.use_console_glyphs(False)
        monkeypatch.delenv("TERM")
        make_app(device="sim")
    assert ScrollBar.renderer is ScrollBarRender


async def test_no_color_paints_with_the_terminal_s_own_colours(monkeypatch: pytest.MonkeyPatch) -> None:
    """NO_COLOR: Textual strips every colour (its NoColor filter) instead of greying them."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(device="sim")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.no_color and app.native_ansi_color
        assert app.theme == "siaptui-mono"
        assert "Certificado" in screen_text(app)


async def test_on_the_linux_console_the_capture_footer_keeps_revision(console_env: None) -> None:
    """Enter and the arrows are words there, so fewer keys fit: the least important go first."""
    from siaptui.widgets.fitted_footer import FittedFooter

    app = make_app(device="sim")
    async with app.run_test(size=SIZE) as pilot:
        await _visit(app, pilot, "capture")
        footer = app.screen.query_one(FittedFooter)
        await wait_until(pilot, lambda: bool(footer.query("FooterKey")))
        shown = {k.action for k in footer.query("FooterKey")}
        assert {"review", "next_finger", "help", "back"} <= shown


@pytest.mark.parametrize("env", [{"TERM": "linux"}, {"NO_COLOR": "1"}, {"TERM": "linux", "NO_COLOR": "1"}])
async def test_the_settings_fields_show_their_values_on_plain_terminals(
        env: dict, monkeypatch: pytest.MonkeyPatch, console_env: None) -> None:
    """Ajustes' one-row fields keep their row for the text where borders are drawn as lines."""
    from textual.widgets import Input

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app = make_app(device="sim")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f4")
        await pilot.pause()
        app.screen.query_one("#acuse_folder", Input).value = "/srv/acuses"
        for field_id in ("base_url", "device", "camera", "min_quality", "acuse_folder"):
            field = app.screen.query_one(f"#{field_id}", Input)
            field.focus()
            await pilot.pause()
            assert field.content_region.height == 1, field_id
            assert field.value and field.value in screen_text(app), field_id
