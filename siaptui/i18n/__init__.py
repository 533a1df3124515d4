"""Message catalogs: every string a clerk sees comes from here.

Catalogs are TOML files, one per domain, under `siaptui/i18n/<lang>/<domain>.toml`, each a flat
table of quoted dotted keys (`"capture.place_finger" = "Coloque el dedo"`), so a translator edits
text without touching code and one domain's owner never edits another's file.  Spanish (es, for
es-MX) is the reference; English (en) must have exactly the same keys and placeholders
(tests/test_i18n.py checks it).

Files are read once, on the first lookup: a few small TOML files cost a millisecond or two.
"""

from __future__ import annotations

import os
import string
from pathlib import Path
from typing import Any, Dict

LANGUAGES = ("es", "en")
DEFAULT_LANGUAGE = "es"
_HERE = Path(__file__).resolve().parent

_language = DEFAULT_LANGUAGE
_catalogs: dict[str, dict[str, str]] = {}


def _load_toml(path: Path) -> dict[str, Any]:
    from siaptui.files import read_toml

    return read_toml(path.read_text(encoding="utf-8"))


def catalog(lang: str) -> dict[str, str]:
    """All messages of one language, merged from its domain files."""
    if lang not in _catalogs:
        merged: dict[str, str] = {}
        folder = _HERE / lang
        for path in sorted(folder.glob("*.toml")):
            for key, value in _load_toml(path).items():
                if not isinstance(value, str):
                    raise ValueError(f"{path}: {key!r} must be a string; use quoted dotted keys")
                if key in merged:
                    raise ValueError(f"{path}: {key!r} is defined twice in the {lang} catalog")
                merged[key] = value
        _catalogs[lang] = merged
    return _catalogs[lang]


def set_language(lang: str | None) -> str:
    """Choose the language for the rest of the process; unknown names fall back to Spanish."""
    global _language
    _language = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
    return _language


def language() -> str:
    return _language


def language_from_environment() -> str:
    """SIAPTUI_GENERAL_LANG, else LANG/LC_ALL starting with 'en', else Spanish."""
    explicit = os.environ.get("SIAPTUI_GENERAL_LANG")
    if explicit in LANGUAGES:
        return explicit
    return DEFAULT_LANGUAGE


def has(key: str, lang: str | None = None) -> bool:
    return key in catalog(lang or _language)


def t(key: str, lang: str | None = None, /, **params: Any) -> str:
    """Translate `key`, filling `{placeholders}` from `params`.

    A missing key returns the key itself (visible, never a crash); a missing placeholder value
    is left as `{name}` rather than raising, because a half-filled message is better than none.
    """
    text = catalog(lang or _language).get(key)
    if text is None and (lang or _language) != DEFAULT_LANGUAGE:
        text = catalog(DEFAULT_LANGUAGE).get(key)
    if text is None:
        return key
    if not params:
        return text
    return string.Formatter().vformat(text, (), _Defaulting(params))


def placeholders(text: str) -> set[str]:
    """The `{names}` a message expects (for the catalog consistency test)."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


class _Defaulting(Dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
