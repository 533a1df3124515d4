"""The office passphrase typed on a station of an office server, driven by keys (Pilot).

Real PostgreSQL (pgserver, tests/store/conftest.py), the real store and keyring; the app is
`build_app`'s.  A station without the office key asks for the passphrase (a wrong one says
so and lets the clerk try again, Esc leaves with what to do); the first station of an office
sets it, typed twice; SIAPTUI_OFFICE_PASSPHRASE still joins without a question.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from textual.widgets import Input

from siaptui.config import Settings
from siaptui.store.db import open_store
from tests.ui.conftest import SIZE, make_app, screen_text, wait_until

OFFICE = "frase de la oficina"


@pytest.fixture(autouse=True)
def no_office_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SIAPTUI_OFFICE_PASSPHRASE", raising=False)


def station_settings(url: str, folder: Path, name: str) -> Settings:
    settings = Settings()
    settings.general.theme = "default"
    settings.store.url = url
    settings.store.data_dir = str(folder)
    settings.store.station = name
    return settings


def first_station(url: str, folder: Path) -> None:
    """Station caja-1 opened the office with its passphrase and enrolled one template."""
    with open_store(url=url, key_dir=folder, station="caja-1", office_passphrase=OFFICE) as store:
        store.gallery.enroll("12058512349", 2, b"plantilla")


def flat_text(app: Any) -> str:
    """The screen's words on one line (a sentence may wrap anywhere)."""
    return " ".join(screen_text(app).split())


def dialog_id(app: Any) -> str:
    return type(app.screen).__name__


async def test_a_new_station_asks_for_the_office_passphrase_until_it_is_right(pg_url: str, tmp_path: Path) -> None:
    first_station(pg_url, tmp_path / "caja-1")
    app = make_app(station_settings(pg_url, tmp_path / "caja-2", "caja-2"), device="sim")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: dialog_id(app) == "JoinOfficeDialog")
        assert "caja-2" in screen_text(app) and "frase de la oficina" in screen_text(app).lower()
        await pilot.press(*"otra frase", "enter")
        await wait_until(pilot, lambda: "no abre" in screen_text(app))
        assert app.screen.query_one("#office-passphrase", Input).value == ""
        assert "otra frase" not in screen_text(app)  # masked, and cleared for another try
        assert not (tmp_path / "caja-2" / "siaptui-office.key").exists()
        await pilot.press(*OFFICE, "enter")
        await wait_until(pilot, lambda: dialog_id(app) == "LoginScreen")
        key_file = tmp_path / "caja-2" / "siaptui-office.key"
        assert key_file.exists() and key_file.stat().st_mode & 0o777 == 0o600
        assert list(app.services.store().gallery.templates()) == [("12058512349", 2, b"plantilla")]
    # The next start needs no passphrase at all.
    again = make_app(station_settings(pg_url, tmp_path / "caja-2", "caja-2"), device="sim")
    async with again.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: again.services._store is not None)
        await pilot.pause(0.2)
        assert dialog_id(again) == "LoginScreen"


async def test_esc_leaves_with_what_to_do(pg_url: str, tmp_path: Path) -> None:
    first_station(pg_url, tmp_path / "caja-1")
    app = make_app(station_settings(pg_url, tmp_path / "caja-2", "caja-2"), device="sim")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: dialog_id(app) == "JoinOfficeDialog")
        await pilot.press("escape")
        await wait_until(pilot, lambda: dialog_id(app) == "LoginScreen" and "caja-2 no tiene la llave de la oficina"
                         in flat_text(app) and "escriba la frase de la oficina" in flat_text(app)
                         and "la estación guarda su llave en" in flat_text(app))
    assert not (tmp_path / "caja-2" / "siaptui-office.key").exists()


async def test_the_variable_still_joins_without_a_question(pg_url: str, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    first_station(pg_url, tmp_path / "caja-1")
    monkeypatch.setenv("SIAPTUI_OFFICE_PASSPHRASE", OFFICE)
    app = make_app(station_settings(pg_url, tmp_path / "caja-2", "caja-2"), device="sim")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.services._store is not None)
        await pilot.pause(0.2)
        assert dialog_id(app) == "LoginScreen"
    assert (tmp_path / "caja-2" / "siaptui-office.key").exists()


async def test_the_first_station_sets_the_office_passphrase_typed_twice(pg_url: str, tmp_path: Path) -> None:
    app = make_app(station_settings(pg_url, tmp_path / "caja-1", "caja-1"), device="sim")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: dialog_id(app) == "SetOfficePassphraseDialog")
        await pilot.press(*"corta", "enter", *"corta", "enter")
        await wait_until(pilot, lambda: "al menos 12" in screen_text(app) and "demasiado corta" in screen_text(app))
        await pilot.press(*OFFICE, "enter", *"frase de la ofizina", "enter")
        await wait_until(pilot, lambda: "no coinciden" in screen_text(app))
        assert app.screen.query_one("#office-passphrase-again", Input).value == ""
        await pilot.press(*OFFICE, "enter", *OFFICE, "enter")
        await wait_until(pilot, lambda: dialog_id(app) == "LoginScreen")
    # A second station joins with it (the same call the join dialog makes).
    with open_store(url=pg_url, key_dir=tmp_path / "caja-2", station="caja-2", office_passphrase=OFFICE) as two:
        assert [e["action"] for e in two.audit.entries()] == ["office.passphrase_set", "station.joined"]


async def test_the_first_station_may_set_it_later(pg_url: str, tmp_path: Path) -> None:
    app = make_app(station_settings(pg_url, tmp_path / "caja-1", "caja-1"), device="sim")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: dialog_id(app) == "SetOfficePassphraseDialog")
        await pilot.press("escape")
        await wait_until(pilot, lambda: dialog_id(app) == "LoginScreen" and "ninguna otra" in screen_text(app))


async def test_no_question_while_no_station_has_set_the_passphrase(pg_url: str, tmp_path: Path) -> None:
    open_store(url=pg_url, key_dir=tmp_path / "caja-1", station="caja-1").close()  # set later, not yet
    app = make_app(station_settings(pg_url, tmp_path / "caja-2", "caja-2"), device="sim")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "aún no guarda la copia" in flat_text(app))
        assert dialog_id(app) == "LoginScreen" and "fije la frase de la oficina; luego" in flat_text(app)


async def test_a_cloned_pc_under_a_live_name_is_told_the_fix_at_start(pg_url: str, tmp_path: Path) -> None:
    with open_store(url=pg_url, key_dir=tmp_path / "pc-a", station="caja-1", office_passphrase=OFFICE):
        app = make_app(station_settings(pg_url, tmp_path / "pc-b", "caja-1"), device="sim")
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: "ya lo usa otra computadora" in screen_text(app))
            assert dialog_id(app) == "LoginScreen" and "caja-1" in screen_text(app)


# -- snapshots ---------------------------------------------------------------------------------
@pytest.fixture()
def office_url(pg_server: Any) -> Iterator[str]:
    """A database named `oficina`, so the server shown in the dialog is the same at every run."""
    import psycopg

    with psycopg.connect(pg_server.get_uri(), autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS oficina WITH (FORCE)")
        admin.execute("CREATE DATABASE oficina")
    yield pg_server.get_uri("oficina")
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS oficina WITH (FORCE)")


def _until_dialog(name: str) -> Any:
    async def run_before(pilot: Any) -> None:
        deadline = time.monotonic() + 20
        while dialog_id(pilot.app) != name and time.monotonic() < deadline:
            await pilot.pause(0.05)
        await pilot.press(*"frase")  # shown masked
        await pilot.pause(0.2)

    return run_before


def test_join_dialog_snapshot(snap_compare: Any, office_url: str, tmp_path: Path) -> None:
    first_station(office_url, tmp_path / "caja-1")
    app = make_app(station_settings(office_url, tmp_path / "caja-2", "caja-2"), device="sim")
    app.ascii_glyphs = False
    assert snap_compare(app, run_before=_until_dialog("JoinOfficeDialog"), terminal_size=SIZE)


def test_set_dialog_snapshot(snap_compare: Any, office_url: str, tmp_path: Path) -> None:
    app = make_app(station_settings(office_url, tmp_path / "caja-1", "caja-1"), device="sim")
    app.ascii_glyphs = False
    assert snap_compare(app, run_before=_until_dialog("SetOfficePassphraseDialog"), terminal_size=SIZE)


def test_join_dialog_english_snapshot(snap_compare: Any, office_url: str, tmp_path: Path) -> None:
    from siaptui import i18n

    first_station(office_url, tmp_path / "caja-1")
    i18n.set_language("en")
    app = make_app(station_settings(office_url, tmp_path / "caja-2", "caja-2"), device="sim")
    app.ascii_glyphs = False
    assert snap_compare(app, run_before=_until_dialog("JoinOfficeDialog"), terminal_size=SIZE)
