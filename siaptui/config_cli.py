"""`siaptui config path|show|check`: where the settings are, what they are, whether they are valid."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from siaptui import config
from siaptui.config import Settings
from siaptui.errors import explain
from siaptui.i18n import t


def main(args: argparse.Namespace, settings: Settings | None) -> int:
    explicit = Path(args.config) if args.config else None
    path = explicit or config.config_path()
    if args.action == "path":
        print(path)
        return 0
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
        return 0
    import tomli_w

    sys.stdout.write(tomli_w.dumps(settings.to_dict()))
    return 0
