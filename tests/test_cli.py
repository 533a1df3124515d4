"""The `siaptui` command line: parsing, config subcommands, language, and bad config files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from siaptui import cli
from siaptui.shipped import EXAMPLE_CONFIG


def run(*argv: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full = dict(os.environ)
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "siaptui", *argv], capture_output=True, text=True, env=full,
                          timeout=60)


def test_version_and_help() -> None:
    out = run("--version")
    assert out.returncode == 0 and out.stdout.startswith("siaptui ")
    out = run("--help")
    assert out.returncode == 0
    for command in ("demo", "doctor", "sandbox", "capture", "bench", "config"):
        assert command in out.stdout


def test_help_speaks_spanish_by_default_with_argparse_words_too() -> None:
    out = run("--help")
    assert out.returncode == 0 and out.stdout.startswith("uso: siaptui")
    assert "opciones:" in out.stdout and "mostrar esta ayuda y salir" in out.stdout
    assert "práctica: portal de prueba" in out.stdout and "COMANDO" in out.stdout
    for english in ("usage:", "options:", "show this help", "optional arguments", "positional arguments"):
        assert english not in out.stdout, english
    sub = run("doctor", "--help")
    assert sub.stdout.startswith("uso: siaptui doctor") and "imprimir la regla udev" in sub.stdout


def test_help_in_english_from_the_flag_the_environment_or_the_file(tmp_path: Path) -> None:
    settings = tmp_path / "siaptui.toml"
    settings.write_text("[general]\nlang = \"en\"\n", encoding="utf-8")
    for argv, env in ((["--lang", "en", "--help"], {}), (["--lang=en", "config", "--help"], {}),
                      (["bench", "--help"], {"SIAPTUI_GENERAL_LANG": "en"}),
                      (["doctor", "--help"], {"SIAPTUI_CONFIG": str(settings)})):
        out = run(*argv, env=env)
        assert out.returncode == 0 and out.stdout.startswith("usage: siaptui"), argv
        assert "options:" in out.stdout and "show this help message and exit" in out.stdout, argv
        assert "application language" in out.stdout and "idioma" not in out.stdout, argv


def test_argparse_errors_in_the_chosen_language() -> None:
    es = run("config", "borrar")
    assert es.returncode == 2 and "uso: siaptui config" in es.stderr and "opción no válida: 'borrar'" in es.stderr
    en = run("--lang", "en", "capture")
    assert en.returncode == 2 and "the following arguments are required: --device, --out" in en.stderr


@pytest.mark.parametrize("argv, said", [
    (("bench", "office", "--workers", "-3"), "-3 está fuera del intervalo permitido, de 1 a 100000"),
    (("bench", "office", "--reenrolled", "2"), "2 está fuera del intervalo permitido, de 0.0 a 1.0"),
    (("bench", "office", "--views", "x"), "no es un número: «x»"),
    (("bench", "office-day", "--workers", "0"), "0 está fuera del intervalo permitido, de 1 a 10000"),
    (("bench", "startup", "--runs", "0"), "0 está fuera del intervalo permitido, de 1 a 1000"),
    (("bench", "store", "--items", "-1"), "-1 está fuera del intervalo permitido, de 1 a 10000000"),
    (("sandbox", "--port", "99999"), "99999 está fuera del intervalo permitido, de 0 a 65535"),
    (("demo", "--port", "-1"), "-1 está fuera del intervalo permitido, de 0 a 65535"),
])
def test_numbers_out_of_range_are_refused_before_any_work(argv: tuple, said: str) -> None:
    out = run(*argv)
    assert out.returncode == 2 and said in out.stderr and "Traceback" not in out.stderr


def test_argparse_words_are_restored_after_parsing() -> None:
    # pytest and any other parser in the process keep argparse's own gettext.
    import argparse
    import gettext

    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert argparse._ is gettext.gettext  # type: ignore[attr-defined]  # argparse's hook is not in typeshed


def test_every_handler_is_a_module_function_path() -> None:
    for key, spec in cli.HANDLERS.items():
        module, _, name = spec.partition(":")
        assert module.startswith("siaptui.") and name == "main", key


def test_parser_flags() -> None:
    parser = cli.build_parser()
    args = parser.parse_args(["--lang", "en", "demo", "--port", "9999", "--device", "emulator:uru4500"])
    assert (args.command, args.port, args.device, args.lang) == ("demo", 9999, "emulator:uru4500", "en")
    with pytest.raises(SystemExit):
        parser.parse_args(["--theme", "neon"])
    assert cli._overrides(parser.parse_args(["--theme", "mono", "--portal", "https://x"])) == {
        "general": {"theme": "mono"}, "portal": {"base_url": "https://x"}}


def test_config_path_show_check(tmp_path: Path) -> None:
    path = tmp_path / "siaptui.toml"
    env = {"SIAPTUI_CONFIG": str(path)}
    assert run("config", "path", env=env).stdout.strip() == str(path)
    checked = run("config", "check", env=env)
    assert checked.returncode == 0 and str(path) in checked.stdout
    path.write_text("[general]\nlang = \"en\"\n", encoding="utf-8")
    shown = run("config", "show", env=env)
    assert shown.returncode == 0 and 'lang = "en"' in shown.stdout


def test_config_init_writes_the_example_and_keeps_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "nueva" / "siaptui.toml"
    env = {"SIAPTUI_CONFIG": str(path)}
    written = run("config", "init", env=env)
    assert written.returncode == 0 and str(path) in written.stdout and "siaptui config check" in written.stdout
    assert path.read_bytes() == EXAMPLE_CONFIG.read_bytes()
    assert run("config", "check", env=env).returncode == 0
    path.write_text("[general]\ntheme = \"mono\"\n", encoding="utf-8")
    refused = run("config", "init", env=env)
    assert refused.returncode == 1 and "no se reemplazó" in refused.stderr and "--force" in refused.stderr
    assert path.read_text(encoding="utf-8") == "[general]\ntheme = \"mono\"\n"
    assert run("config", "init", "--force", env=env).returncode == 0
    assert path.read_bytes() == EXAMPLE_CONFIG.read_bytes()
    other = tmp_path / "ejemplo.toml"
    assert run("config", "init", "--config", str(other), env=env).returncode == 0 and other.is_file()


def test_config_check_reports_bad_file_in_spanish(tmp_path: Path) -> None:
    path = tmp_path / "siaptui.toml"
    path.write_text("[general]\nidioma = \"es\"\n", encoding="utf-8")
    out = run("config", "check", env={"SIAPTUI_CONFIG": str(path)})
    assert out.returncode == 2
    assert "clave desconocida" in out.stderr and "general.idioma" in out.stderr


def test_bad_config_stops_non_tui_commands(tmp_path: Path) -> None:
    path = tmp_path / "siaptui.toml"
    path.write_text("[capture]\nmin_quality = \"x\"\n", encoding="utf-8")
    out = run("--lang", "en", "doctor", env={"SIAPTUI_CONFIG": str(path)})
    assert out.returncode == 2
    assert "capture.min_quality" in out.stderr and "Traceback" not in out.stderr


def test_flags_before_the_subcommand_are_kept() -> None:
    args = cli.build_parser().parse_args(["--lang", "en", "--device", "sim", "--theme", "mono", "--debug", "demo"])
    assert (args.lang, args.device, args.theme, args.debug) == ("en", "sim", "mono", True)
    args = cli.build_parser().parse_args(["doctor", "--device", "usb:05ba:000a"])
    assert args.device == "usb:05ba:000a" and args.lang is None
