"""The app shell driven by the keyboard: first screen, help, Esc, quit, bad config, themes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from textual.widgets import Input

from siaptui import config, screens as registry, theme as themes
from siaptui.enrollment.flow import Employer, FingerCapture, Impression
from siaptui.shipped import folder
from tests.ui.conftest import SIZE, make_app, screen_text, wait_until


async def test_first_screen_is_spanish_login_with_step_bar_and_keys() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.screen.SCREEN_ID == "login"
        text = screen_text(app)
        assert "Inicio de sesión" in text or "Inicio" in text
        assert "Certificado (.cer)" in text and "Contraseña" in text
        for key in ("Ayuda", "Bandeja", "Salir"):
            assert key in text, key
        if sys.platform.startswith("linux"):  # measured from /proc
            assert app.first_paint_ms is not None and app.first_paint_ms > 0


async def test_f1_help_for_the_screen_and_esc_closes() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        assert "Ayuda — Inicio de sesión" in screen_text(app)
        assert ".cer" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.SCREEN_ID == "login"


def dialog_text(app) -> str:
    """The screen as flowing text, without the dialog's side lines."""
    return " ".join(screen_text(app).replace("│", " ").split())


@pytest.mark.parametrize("screen_id", ["capture", "review", "photo"])
async def test_f1_on_a_flow_step_explains_its_keys_in_the_clerk_s_words(screen_id: str) -> None:
    """The step's own sentences, every key once with its catalog text; no binding ids, no
    Textual key (its "Copy selected text") and nothing in English."""
    from siaptui.i18n import t

    app = make_app(device="sim")
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(app.screen_for(screen_id))
        await pilot.pause(0.2)
        await pilot.press("f1")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "HelpScreen")
        dialog = app.screen.query_one("#dialog")
        text = dialog_text(app)
        dialog.scroll_end(animate=False)
        await pilot.pause()
        text += dialog_text(app)
        assert " ".join(t(f"help.{screen_id}").split()[:12]) in text
        assert t("help.general")[:30] not in text
        assert "[" not in text.replace("[*]", "") and "Copy" not in text and "Focus" not in text
        for description in {t(f"key.{name}") for name in ("back", "help", "outbox", "quit")}:
            assert description in text, description


async def test_f1_on_review_tells_c_from_s() -> None:
    app = make_app(device="sim")
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(app.screen_for("review"))
        await pilot.pause(0.2)
        await pilot.press("f1")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "HelpScreen")
        text = dialog_text(app)
        assert "C continúa al Envío" in text and "S es para cuando la persona coincide con otro NSS" in text


async def test_esc_goes_back_without_losing_what_was_typed() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"/home/patron/fiel.cer")
        await pilot.press("f2")
        await pilot.pause()
        assert app.screen.SCREEN_ID == "outbox"
        await pilot.press("f4")
        await pilot.pause()
        assert app.screen.SCREEN_ID == "settings"
        await pilot.press("escape", "escape")
        await pilot.pause()
        assert app.screen.SCREEN_ID == "login"
        assert app.screen.query_one("#cer", Input).value == "/home/patron/fiel.cer"
        await pilot.press("escape")  # nothing below login: stays
        await pilot.pause()
        assert app.screen.SCREEN_ID == "login"


async def test_login_checks_fields_locally_before_any_network() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")  # empty .cer: Enter moves to the next field
        await pilot.pause()
        assert app.screen.focused.id == "key"
        app.screen.query_one("#cer", Input).value = "/no/existe/fiel.cer"
        app.screen.query_one("#key", Input).value = "/no/existe/fiel.key"
        app.screen.query_one("#password", Input).value = "x"
        await pilot.press("enter")
        await pilot.pause()
        text = screen_text(app)
        assert "No se encontró el archivo /no/existe/fiel.cer" in text
        assert "Revise la ruta" in text
        assert app.screen.SCREEN_ID == "login"


async def test_worker_fields_say_which_character_is_wrong() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.flow.employer = Employer(rfc="AAA010101AAA", name="PATRON DEMO")
        app.goto("worker")
        await pilot.pause()
        await pilot.press(*"12a")
        await pilot.pause()
        assert "carácter 3" in screen_text(app) and "no es un dígito" in screen_text(app)
        await pilot.press("backspace", *"345678901")  # 11 digits, wrong check digit
        await pilot.pause()
        assert "dígito verificador" in screen_text(app)
        await pilot.press("enter")  # to CURP
        await pilot.press(*"pelj850412hjcrpn")
        await pilot.pause()
        curp = app.screen.query_one("#curp", Input).value
        assert curp == "PELJ850412HJCRPN"  # upper-cased as typed
        assert "16 de 18" in screen_text(app)


async def test_ctrl_q_quits_at_once_when_nothing_is_unsent() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code == 0


async def test_ctrl_q_asks_when_a_capture_is_unsent() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.flow.fingers[2] = FingerCapture(position=2, impressions=[Impression(quality=80, template=b"t")], best=0)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert "¿Salir de siaptui?" in screen_text(app)
        await pilot.press("n")
        await pilot.pause()
        assert app.screen.SCREEN_ID == "login" and app.is_running
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
    assert not app.is_running


async def test_bad_config_is_shown_first_with_start_with_defaults(tmp_path: Path) -> None:
    bad = tmp_path / "siaptui.toml"
    bad.write_text("[scanner]\npreview_fps = \"rápido\"\n", encoding="utf-8")
    with pytest.raises(config.ConfigError) as caught:
        config.load(bad, environ={})
    app = make_app(config.load(bad, environ={}, use_file=False), config_error=caught.value)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "archivo de configuración" in text and "scanner.preview_fps" in text
        assert "valores predeterminados" in text
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.SCREEN_ID == "login"


def test_registry_ids_cover_the_contract() -> None:
    for screen_id in ("login", "worker", "consent", "capture", "review", "submit", "receipt",
                      "outbox", "doctor", "settings", "training"):
        assert screen_id in registry.SCREEN_IDS
        assert registry.load(screen_id).SCREEN_ID == screen_id


@pytest.mark.parametrize(
    "env, expected",
    [
        ({"TERM": "linux"}, "siaptui-mono"),
        ({"TERM": "xterm-256color", "NO_COLOR": "1"}, "siaptui-mono"),
        ({"TERM": "xterm-256color"}, "siaptui"),
        ({"TERM": "xterm", "COLORTERM": "truecolor"}, "siaptui"),
        ({"TERM": "xterm-256color", "TEXTUAL_COLOR_SYSTEM": "standard"}, "siaptui-mono"),
    ],
)
def test_auto_theme_follows_the_terminal(env: dict, expected: str) -> None:
    assert themes.choose("auto", env) == expected


def test_explicit_theme_wins() -> None:
    assert themes.choose("high-contrast", {"TERM": "linux"}) == "siaptui-high-contrast"
    assert themes.choose("default", {"NO_COLOR": "1"}) == "siaptui"


def test_stylesheet_is_the_shipped_one() -> None:
    assert themes.STYLESHEET.is_file() and themes.STYLESHEET.parent == folder("themes")


async def test_settings_saves_and_applies_the_theme(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from textual.widgets import Select

    path = tmp_path / "conf" / "siaptui.toml"
    monkeypatch.setenv("SIAPTUI_CONFIG", str(path))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f4")
        await pilot.pause()
        app.screen.query_one("#theme", Select).value = "high-contrast"
        app.screen.query_one("#min_quality", Input).value = "abc"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "debe ser un número" in screen_text(app)
        assert not path.exists()
        app.screen.query_one("#min_quality", Input).value = "55"
        app.screen.query_one("#training", Select).value = "yes"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "Guardado en" in screen_text(app) and "al volver a iniciar" in screen_text(app)
        assert app.theme == "siaptui-high-contrast"
    saved = config.load(path, environ={})
    assert saved.general.theme == "high-contrast" and saved.capture.min_quality == 55
    assert saved.general.training is True


async def test_low_motion_turns_off_blink_and_animation() -> None:
    app = make_app(low_motion=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.animation_level == "none"
        assert all(not field.cursor_blink for field in app.screen.query(Input))


async def test_english_login() -> None:
    from siaptui import i18n

    i18n.set_language("en")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "Certificate (.cer)" in text and "Sign in" in text and "Help" in text


async def test_binding_ids_let_a_keymap_remap_keys() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.set_keymap({"outbox": "f9", "back": "ctrl+b"})
        await pilot.press("f9")
        await pilot.pause()
        assert app.screen.SCREEN_ID == "outbox"
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert app.screen.SCREEN_ID == "login"


def test_ssh_sessions_get_low_motion(monkeypatch: pytest.MonkeyPatch) -> None:
    from siaptui.app import _over_ssh

    assert _over_ssh({"SSH_CONNECTION": "10.0.0.5 51000 10.0.0.9 22"})
    assert _over_ssh({"SSH_TTY": "/dev/pts/3"})
    assert not _over_ssh({"TERM": "linux"})
    monkeypatch.setenv("SSH_CONNECTION", "10.0.0.5 51000 10.0.0.9 22")
    assert make_app(low_motion=None).low_motion is True


async def test_keys_typed_in_a_burst_after_tab_land_in_the_next_field() -> None:
    """Over SSH keystrokes arrive in bursts: "NSS<Tab>CURP" must not lose the CURP."""
    from textual import events

    from tests.ui.conftest import SIZE, make_app

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.goto("worker")
        await pilot.pause(0.3)
        burst = [("1", "1")] * 3 + [("tab", "\t")] + [("p", "p"), ("e", "e")]
        for key, char in burst:  # queued at once, as the driver does with one read()
            app.post_message(events.Key(key, char))
        await pilot.pause(0.3)
        assert app.screen.query_one("#nss").value == "111"
        assert app.screen.query_one("#curp").value == "PE"


@pytest.mark.parametrize(("screen", "first", "second"), [("worker", "nss", "curp"), ("login", "cer", "key")])
async def test_keys_typed_in_a_burst_after_enter_land_in_the_next_field(screen: str, first: str, second: str) -> None:
    """A barcode reader or an SSH link delivers "NSS<Enter>CURP" in one read: the CURP must not be
    lost in the field being left (Enter moves the focus at the app level, as Tab does)."""
    from textual import events

    from tests.ui.conftest import SIZE, make_app

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.goto(screen)
        await pilot.pause(0.3)
        app.screen.query_one(f"#{first}").focus()
        await pilot.pause()
        for name in (first, second):
            app.screen.query_one(f"#{name}").value = ""
        burst = [("1", "1")] * 3 + [("enter", "\r")] + [("p", "p"), ("e", "e")]
        for key, char in burst:  # queued at once, as the driver does with one read()
            app.post_message(events.Key(key, char))
        await pilot.pause(0.3)
        assert app.screen.query_one(f"#{first}").value == "111"
        assert app.screen.query_one(f"#{second}").value.upper() == "PE"
        assert app.focused is app.screen.query_one(f"#{second}")
