"""The catalogs: es and en have exactly the same keys and placeholders; errors have fixes."""

from __future__ import annotations

import re
from pathlib import Path

from siaptui import i18n

I18N = Path(i18n.__file__).resolve().parent


def test_same_keys_in_both_languages() -> None:
    es, en = i18n.catalog("es"), i18n.catalog("en")
    assert sorted(set(es) - set(en)) == []
    assert sorted(set(en) - set(es)) == []


def test_same_placeholders() -> None:
    es, en = i18n.catalog("es"), i18n.catalog("en")
    wrong = [key for key in es if i18n.placeholders(es[key]) != i18n.placeholders(en[key])]
    assert wrong == []


def test_same_domain_files() -> None:
    assert sorted(p.name for p in (I18N / "es").glob("*.toml")) == sorted(p.name for p in (I18N / "en").glob("*.toml"))


def test_every_error_has_a_fix() -> None:
    es = i18n.catalog("es")
    missing = [k for k in es if re.fullmatch(r"error\.[a-z0-9_]+", k) and f"{k}.fix" not in es]
    assert missing == []


def test_no_empty_messages() -> None:
    for lang in i18n.LANGUAGES:
        assert [k for k, v in i18n.catalog(lang).items() if not v.strip()] == []


def test_translation_fills_and_falls_back() -> None:
    assert i18n.t("error.config_unknown_key", file="a.toml", key="x.y").endswith("x.y")
    assert i18n.t("no.such.key") == "no.such.key"
    half = i18n.t("error.config_unknown_key", file="a.toml")  # half-filled, never a crash
    assert "a.toml" in half and "{" not in half
    assert "{" not in i18n.t("error.config_unknown_key")  # no fields at all: none shown raw
    i18n.set_language("en")
    try:
        assert i18n.t("step.login") == "Sign in"
    finally:
        i18n.set_language("es")
    assert i18n.t("step.login") == "Inicio de sesión"
    assert i18n.set_language("fr") == "es"


def test_every_placeholder_is_a_name_and_literal_braces_are_doubled() -> None:
    """Every message is formatted, so a literal `{tif,png}` must be written `{{tif,png}}`."""
    import string

    for lang in i18n.LANGUAGES:
        for key, text in i18n.catalog(lang).items():
            names = [name for _, name, _, _ in string.Formatter().parse(text) if name]
            assert all(name.isidentifier() for name in names), (lang, key, names)
