"""[keys] in siaptui.toml: an office moves a key; a clash or an unknown id is named at start."""

from __future__ import annotations

import re

import pytest

from siaptui import keymap
from siaptui.config import ConfigError, Settings, load
from tests.ui.conftest import SIZE, make_app, screen_text, wait_until


def test_the_defaults_have_no_clash_and_every_id_is_known() -> None:
    ids = keymap.binding_ids(keymap.scopes())
    assert {"help", "outbox", "quit", "capture-review", "outbox-retry"} <= ids
    keymap.check({})
    keymap.check({"outbox": "f9"})


def test_a_clash_names_both_bindings_and_an_unknown_id_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError) as clash:
        keymap.check({"outbox": "f3"})
    assert clash.value.code == "config_key_clash"
    assert {clash.value.params["first"], clash.value.params["second"]} == {"outbox", "doctor"}
    with pytest.raises(ConfigError) as unknown:
        keymap.check({"bandeja": "f9"})
    assert unknown.value.code == "config_key_unknown" and "outbox" in unknown.value.params["known"]


def test_the_table_is_read_from_the_file_and_bad_key_names_are_refused(tmp_path) -> None:
    path = tmp_path / "siaptui.toml"
    path.write_text('[keys]\noutbox = "F9"\n', encoding="utf-8")
    assert load(path).keys == {"outbox": "f9"}
    path.write_text('[keys]\noutbox = "ctrl q"\n', encoding="utf-8")
    assert load(path).keys == {"outbox": "ctrlq"}  # spaces dropped: still one key name
    path.write_text('[keys]\noutbox = 9\n', encoding="utf-8")
    with pytest.raises(ConfigError):
        load(path)


async def test_a_remapped_key_opens_the_bandeja_and_the_old_one_no_longer_does() -> None:
    settings = Settings()
    settings.keys = {"outbox": "f9"}
    app = make_app(settings, device="sim")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("f2")
        await pilot.pause(0.2)
        assert getattr(app.screen, "SCREEN_ID", "") == "login"
        await pilot.press("f9")
        await wait_until(pilot, lambda: getattr(app.screen, "SCREEN_ID", "") == "outbox")
        await pilot.press("f1")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "HelpScreen")
        app.screen.query_one("#dialog").scroll_end(animate=False)  # the global keys come last
        await wait_until(pilot, lambda: re.search(r"^ *│ *f9 +Bandeja", screen_text(app), re.M) is not None)


async def test_a_clash_in_the_file_is_shown_at_start() -> None:
    settings = Settings()
    settings.keys = {"outbox": "f3"}
    app = make_app(settings, device="sim")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "outbox" in screen_text(app) and "doctor" in screen_text(app))
