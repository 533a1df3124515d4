"""Message catalogs: every string a clerk sees comes from here.

Catalogs are TOML files, one per domain, under `siaptui/i18n/<lang>/<domain>.toml`, each a flat
table of quoted dotted keys (`"capture.place_finger" = "Coloque el dedo"`), so a translator edits
text without touching code and one domain's owner never edits another's file.  Spanish (es, for
es-MX) is the reference; English (en) must have exactly the same keys and placeholders
(tests/test_i18n.py checks it).

Files are read once, on the first lookup: a few small TOML files cost a millisecond or two.
"""

from __future__ import annotations

import logging
import os
import string
from pathlib import Path
from typing import Any

LANGUAGES = ("es", "en")
DEFAULT_LANGUAGE = "es"
_HERE = Path(__file__).resolve().parent

_language = DEFAULT_LANGUAGE
_glyphs: dict[int, str] | None = None

#: What the Linux text console's font lacks among the catalog's characters, and what it shows
#: instead (its fonts have Latin-1, the box-drawing lines and the blocks, not these).
CONSOLE_GLYPHS = {"—": "-", "–": "-", "…": "...", "→": "->", "←": "<-", "↑": "^", "↓": "v",
                  "“": '"', "”": '"', "‘": "'", "’": "'", "✓": "+", "›": ">", "⏎": "Enter"}
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


def use_console_glyphs(enabled: bool) -> None:
    """Translate into what the Linux console can draw (TERM=linux); see CONSOLE_GLYPHS."""
    global _glyphs
    _glyphs = str.maketrans(CONSOLE_GLYPHS) if enabled else None


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

    A missing key returns the key itself (visible, never a crash).  A placeholder its caller did
    not fill is left out and logged, never shown as `{name}`: tests/test_catalog_calls.py checks
    every call site, this is the guard for values that arrive at run time (a portal's answer).
    """
    text = catalog(lang or _language).get(key)
    if text is None and (lang or _language) != DEFAULT_LANGUAGE:
        text = catalog(DEFAULT_LANGUAGE).get(key)
    if text is None:
        return key
    if "{" in text:
        text = string.Formatter().vformat(text, (), _Defaulting(key, params))
    return text.translate(_glyphs) if _glyphs is not None else text


def placeholders(text: str) -> set[str]:
    """The `{names}` a message expects (for the catalog consistency test)."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


class _Defaulting(dict):  # type: ignore[type-arg]  # a dict of any values, as str.format takes
    def __init__(self, message_key: str, params: dict[str, Any]) -> None:
        super().__init__(params)
        self.message_key = message_key

    def __missing__(self, name: str) -> str:
        logging.getLogger(__name__).warning("message %s shown without its field %s", self.message_key, name)
        return ""
