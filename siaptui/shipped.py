"""The files siaptui ships beside its code, found the same way in a checkout and when installed.

hw/ (scanner table, udev rule, setup guides) and themes/ (the stylesheet) are top-level folders of
the repository, where a reader looks for them; setup.py maps them into the package as
siaptui/hw and siaptui/themes, so a wheel (pip, pipx) carries them.  `folder()` answers with the
packaged copy when there is one and with the repository's folder otherwise (a checkout on
PYTHONPATH or an editable install), so every caller reads through this one rule.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent

EXAMPLE_CONFIG = PACKAGE / "siaptui.toml.example"
"""The documented example configuration (`siaptui config init` writes it)."""


def folder(name: str) -> Path:
    """The shipped folder `name` (`hw` or `themes`): inside the installed package, else the checkout's."""
    packaged = PACKAGE / name
    return packaged if packaged.is_dir() else PACKAGE.parent / name


def udev_rule_path() -> Path:
    """The udev rule file (`siaptui doctor --udev-rule` prints it)."""
    return folder("hw") / "udev" / "70-siaptui.rules"
