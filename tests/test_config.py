"""Configuration errors name the file, the key and what was expected; good files load."""

from __future__ import annotations

from pathlib import Path

import pytest

from siaptui import config
from siaptui.errors import describe
from siaptui.shipped import EXAMPLE_CONFIG


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "siaptui.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file(tmp_path: Path) -> None:
    settings = config.load(tmp_path / "absent.toml", environ={})
    assert settings.general.lang == "es"
    assert settings.general.theme == "auto"
    assert settings.scanner.device == "usb"


def test_bad_toml_names_the_file_and_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[general]\nlang = "es\n')
    with pytest.raises(config.ConfigError) as caught:
        config.load(path, environ={})
    assert caught.value.code == "config_syntax"
    message, fix = describe(caught.value)
    assert str(path) in message
    assert "line 2" in message or "línea" in message.lower() or "2" in message
    assert fix


def test_wrong_type_names_key_and_expectation(tmp_path: Path) -> None:
    path = write(tmp_path, "[capture]\nmin_quality = \"alta\"\n")
    with pytest.raises(config.ConfigError) as caught:
        config.load(path, environ={})
    message, fix = describe(caught.value)
    assert caught.value.code == "config_invalid"
    assert str(path) in message and "capture.min_quality" in fix and "entero" in fix


def test_bool_is_not_an_int(tmp_path: Path) -> None:
    path = write(tmp_path, "[sandbox]\nport = true\n")
    with pytest.raises(config.ConfigError):
        config.load(path, environ={})


def test_choice_outside_the_list(tmp_path: Path) -> None:
    path = write(tmp_path, "[general]\ntheme = \"neon\"\n")
    with pytest.raises(config.ConfigError) as caught:
        config.load(path, environ={})
    _, fix = describe(caught.value)
    assert "high-contrast" in fix and "mono" in fix


@pytest.mark.parametrize("text, key", [("[general]\ncolour = 1\n", "general.colour"), ("[nope]\na = 1\n", "nope")])
def test_unknown_keys_and_sections(tmp_path: Path, text: str, key: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(config.ConfigError) as caught:
        config.load(path, environ={})
    assert caught.value.code == "config_unknown_key"
    message, _ = describe(caught.value)
    assert key in message and str(path) in message


def test_precedence_file_env_flags(tmp_path: Path) -> None:
    path = write(tmp_path, "[general]\nlang = \"en\"\n[capture]\nmin_quality = 55\n")
    environ = {"SIAPTUI_CAPTURE_MIN_QUALITY": "60", "SIAPTUI_GENERAL_TRAINING": "sí"}
    settings = config.load(path, environ=environ, overrides={"general": {"lang": "es"}})
    assert settings.general.lang == "es"  # flag beats file
    assert settings.capture.min_quality == 60  # environment beats file
    assert settings.general.training is True


def test_bad_environment_value(tmp_path: Path) -> None:
    with pytest.raises(config.ConfigError) as caught:
        config.load(tmp_path / "absent.toml", environ={"SIAPTUI_SANDBOX_PORT": "ocho"})
    assert "environment" in describe(caught.value)[0]


def test_use_file_false_is_the_start_with_defaults_answer(tmp_path: Path) -> None:
    path = write(tmp_path, "garbage = = =\n")
    settings = config.load(path, environ={}, use_file=False)
    assert settings == config.Settings()


def test_save_round_trip(tmp_path: Path) -> None:
    settings = config.Settings()
    settings.general.theme = "high-contrast"
    settings.capture.min_quality = 70
    path = config.save(settings, tmp_path / "sub" / "siaptui.toml")
    assert config.load(path, environ={}) == settings
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temp file left behind


def test_example_file_documents_every_key() -> None:
    data = config.read_file(EXAMPLE_CONFIG)
    settings = config.Settings()
    for section in config.SECTIONS:
        assert section in data, f"[{section}] missing from siaptui.toml.example"
        if section == "keys":  # a free table: documented by its commented examples
            continue
        for key in getattr(settings, section).__dataclass_fields__:
            assert key in data.get(section, {}), f"{section}.{key} missing from siaptui.toml.example"


def test_practice_mode_keeps_its_data_apart_from_the_office_data(tmp_path) -> None:
    from siaptui import config

    settings = config.Settings()
    settings.store.data_dir = str(tmp_path / "datos")
    real = config.data_dir(settings)
    settings.general.training = True
    practice = config.data_dir(settings)
    assert practice != real and practice.parent == real and practice.is_dir()


@pytest.mark.parametrize(
    "section, key, value",
    [
        ("sandbox", "port", "99999"),
        ("sandbox", "port", "0"),
        ("portal", "timeout_s", "-5"),
        ("portal", "timeout_s", "0"),
        ("scanner", "preview_fps", "0"),
        ("capture", "impressions", "0"),
        ("capture", "min_quality", "1000"),
        ("portal", "base_url", '"not a url"'),
    ],
)
def test_out_of_range_values_name_the_file_the_key_and_the_expectation(
    tmp_path: Path, section: str, key: str, value: str
) -> None:
    path = write(tmp_path, f"[{section}]\n{key} = {value}\n")
    with pytest.raises(config.ConfigError) as caught:
        config.load(path, environ={})
    assert caught.value.code == "config_invalid"
    message, fix = describe(caught.value)
    assert str(path) in message and f"{section}.{key}" in fix


def test_a_data_dir_that_is_a_file_is_rejected(tmp_path: Path) -> None:
    afile = tmp_path / "datos"
    afile.write_text("x", encoding="utf-8")
    path = write(tmp_path, f"[store]\ndata_dir = {str(afile)!r}\n")
    with pytest.raises(config.ConfigError) as caught:
        config.load(path, environ={})
    assert "store.data_dir" in describe(caught.value)[1]


def test_invalid_utf8_is_a_syntax_error_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "siaptui.toml"
    path.write_bytes(b'[general]\nlang = "\xff\xfe"\n')
    with pytest.raises(config.ConfigError) as caught:
        config.load(path, environ={})
    assert caught.value.code == "config_syntax"
    assert str(path) in describe(caught.value)[0]


def test_an_explicit_config_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(config.ConfigError) as caught:
        config.load(tmp_path / "typo.toml", environ={}, must_exist=True)
    assert caught.value.code == "config_not_found"


def test_config_check_reports_bad_values_and_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from siaptui.cli import main

    bad = write(tmp_path, "[sandbox]\nport = 99999\n")
    assert main(["config", "check", "--config", str(bad)]) == 2
    assert "sandbox.port" in capsys.readouterr().err
    assert main(["config", "check", "--config", str(tmp_path / "typo.toml")]) == 2
    assert "typo.toml" in capsys.readouterr().err
