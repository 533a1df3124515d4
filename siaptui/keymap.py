"""The [keys] table of siaptui.toml: an office moves a key that its terminal takes for itself.

Why checked here and not left to Textual: Textual's keymap (`App.set_keymap`) replaces the keys
of bindings by id and reports a clash only when the key is pressed, on the screen where it
happens.  A clerk needs the mistake at start and from `siaptui config check`, naming both
bindings.  So every screen's bindings (and the app's, which are active on every screen) are
gathered by scope, the keymap is applied to them, and a key the keymap gives to a binding that
another binding on the same screen already has is an error.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Dict, Iterable, List, Mapping, Tuple

from siaptui.config import ConfigError

#: One binding as the check sees it: its id (or its action, when it has none) and its keys.
Entry = Tuple[str, Tuple[str, ...]]


def _keys(text: str) -> Tuple[str, ...]:
    return tuple(k.strip() for k in text.split(",") if k.strip())


def _declared(cls: type) -> List[Entry]:
    """The bindings a screen class has, its bases' included (as Textual merges them)."""
    from textual.binding import Binding
    from textual.screen import Screen

    entries: List[Entry] = []
    for klass in cls.__mro__:
        if not issubclass(klass, Screen) or klass is Screen:
            continue
        for binding in klass.__dict__.get("BINDINGS", []):
            if isinstance(binding, Binding):
                entries.append((binding.id or binding.action, _keys(binding.key)))
    return entries


def scopes() -> Dict[str, List[Entry]]:
    """Screen class name → every binding active on it: the screen's and the app's."""
    from textual.binding import Binding
    from textual.screen import Screen

    from siaptui.app import SiaptuiApp
    from siaptui.screens import SCREEN_IDS, load

    app_entries = [(b.id or b.action, _keys(b.key)) for b in SiaptuiApp.BINDINGS if isinstance(b, Binding)]
    found: Dict[str, List[Entry]] = {}
    for screen_id in SCREEN_IDS:
        module = importlib.import_module(load(screen_id).__module__)
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Screen) and cls.__module__ == module.__name__:
                found[name] = app_entries + _declared(cls)
    return found


def binding_ids(all_scopes: Mapping[str, Iterable[Entry]]) -> set[str]:
    return {binding_id for entries in all_scopes.values() for binding_id, _ in entries}


def check(keymap: Mapping[str, str], file: str = "siaptui.toml") -> None:
    """ConfigError for an unknown binding id, or a key that two bindings would share."""
    if not keymap:
        return
    all_scopes = scopes()
    known = binding_ids(all_scopes)
    for binding_id in keymap:
        if binding_id not in known:
            raise ConfigError(f"keys.{binding_id}", code="config_key_unknown", file=file, key=f"keys.{binding_id}",
                              known=", ".join(sorted(known)))
    for _screen, entries in sorted(all_scopes.items()):
        holder: Dict[str, str] = {}
        for binding_id, keys in entries:
            for key in _keys(keymap[binding_id]) if binding_id in keymap else keys:
                other = holder.setdefault(key, binding_id)
                # Shared keys the design chose (a screen's key over the app's) are no clash; a
                # key the keymap brought onto another binding's is.
                if other != binding_id and (other in keymap or binding_id in keymap):
                    raise ConfigError(f"{key}: {other} / {binding_id}", code="config_key_clash", file=file,
                                      key=key, first=other, second=binding_id)


def apply(app: object, keymap: Mapping[str, str]) -> None:
    """Hand the checked keymap to Textual (it rebinds by id on every screen)."""
    if keymap:
        app.set_keymap(dict(keymap))  # type: ignore[attr-defined]  # a Textual App; typed loosely to stay importable
