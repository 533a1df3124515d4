"""The `siaptui` command line: parsing, config subcommands, language, and bad config files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from siaptui import cli


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
