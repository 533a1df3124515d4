"""`siaptui config path|show|check|init`: where the settings are, what they are, whether they are
valid (and, for `check`, whether the store answers: siaptui.store.reach), and a first file to
edit (the documented example, so every key is there with its meaning)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from siaptui import config
from siaptui.config import Settings
from siaptui.errors import explain
from siaptui.files import atomic_write
from siaptui.i18n import t
from siaptui.shipped import EXAMPLE_CONFIG


def main(args: argparse.Namespace, settings: Settings | None) -> int:
    explicit = Path(args.config) if args.config else None
    path = explicit or config.config_path()
    if args.action == "path":
        print(path)
        return 0
    if args.action == "init":
        return _init(path, force=args.force)
    try:
        settings = config.load(explicit, must_exist=explicit is not None)
        if args.action == "check" and settings.keys:
            from siaptui import keymap

            keymap.check(settings.keys, str(path))
    except config.ConfigError as exc:
        print(explain(exc), file=sys.stderr)
        return 2
    if args.action == "check":
        print(t("cli.config_ok", file=path) if path.exists() else t("cli.config_missing", file=path))
        return _check_store(settings)
    import tomli_w

    sys.stdout.write(tomli_w.dumps(settings.to_dict()))
    return 0


def _check_store(settings: Settings) -> int:
    """The office server answers (or the data folder is writable): 0, else the refusal and 1."""
    from siaptui.errors import SiaptuiError
    from siaptui.store.reach import check

    try:
        lines = check(settings)
    except SiaptuiError as exc:
        print(explain(exc).rstrip(), file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


def _init(path: Path, force: bool) -> int:
    """Write the example config; an existing file (maybe the office's tuned one) needs --force."""
    if path.exists() and not force:
        print(t("cli.config_exists", file=path), file=sys.stderr)
        return 1
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, EXAMPLE_CONFIG.read_bytes())
    print(t("cli.config_written", file=path))
    return 0
