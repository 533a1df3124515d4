"""The three looks of siaptui and the rule that picks one.

Why three: the office PC may be a modern terminal emulator (default), a clerk with poor eyesight
or a glaring screen (high-contrast), or the Linux text console / an SSH session reporting only 16
colours / a user who set NO_COLOR (mono).  `mono` uses the terminal's own ANSI colours
(`Theme(ansi=True)`), so the 16-colour Linux console shows exactly the colours it has instead of
approximations of 24-bit colours.

This module imports only `textual.theme` (already loaded with the App); the stylesheet lives in
the top-level themes/ folder (shipped in the package, see siaptui.shipped).  The choice itself
(`choose`) is plain Python so it is testable without a terminal.
"""

from __future__ import annotations

import os
from typing import Any, List, Mapping, Optional

from siaptui.shipped import folder

STYLESHEET = folder("themes") / "app.tcss"
"""The one TCSS file of the app (layout and semantic classes; colours only via $variables)."""

SETTING_TO_THEME = {
    "default": "siaptui",
    "high-contrast": "siaptui-high-contrast",
    "mono": "siaptui-mono",
}
"""Values of `general.theme` (besides `auto`) -> registered Textual theme names."""


def terminal_colors(environ: Optional[Mapping[str, str]] = None) -> int:
    """How many colours the terminal offers, by the rule Textual and Rich use.

    `TEXTUAL_COLOR_SYSTEM` wins; `COLORTERM=truecolor|24bit` means 16 million; a TERM ending in
    `-256color` (or kitty) means 256; `dumb`/`unknown` means none; any other TERM — including
    `linux`, and plain `xterm` as OpenSSH forwards it — means 16.
    """
    env = os.environ if environ is None else environ
    forced = env.get("TEXTUAL_COLOR_SYSTEM", "auto").lower()
    if forced in ("truecolor",):
        return 16_777_216
    if forced in ("256",):
        return 256
    if forced in ("standard", "windows"):
        return 16
    if forced in ("none", "no_color", "mono"):
        return 0
    if env.get("COLORTERM", "").lower() in ("truecolor", "24bit"):
        return 16_777_216
    term = env.get("TERM", "").lower()
    if term in ("dumb", "unknown", ""):
        return 0 if term else 16
    if term.endswith("-256color") or term.endswith("256color") or "kitty" in term:
        return 256
    return 16


def choose(setting: str, environ: Optional[Mapping[str, str]] = None) -> str:
    """The Textual theme name for the `general.theme` setting.

    `auto` means mono when NO_COLOR is set (any value, per no-color.org) or the terminal has 16
    colours or fewer; otherwise the default theme.  An explicit choice is always honoured.
    """
    env = os.environ if environ is None else environ
    if setting in SETTING_TO_THEME:
        return SETTING_TO_THEME[setting]
    if "NO_COLOR" in env or terminal_colors(env) <= 16:
        return SETTING_TO_THEME["mono"]
    return SETTING_TO_THEME["default"]


def themes() -> List[Any]:  # textual.theme.Theme, imported lazily
    """The Theme objects to register on the App (imported lazily: Textual is already loaded)."""
    from textual.theme import Theme

    default = Theme(
        name="siaptui",
        primary="#2E7D9A",
        secondary="#5C8F3A",
        accent="#E0A030",
        warning="#E0A030",
        error="#D9534F",
        success="#4CAF50",
        foreground="#E6E6E6",
        background="#14191C",
        surface="#1C2327",
        panel="#26323A",
        dark=True,
        variables={"footer-key-foreground": "#E0A030", "input-cursor-background": "#E6E6E6"},
    )
    high_contrast = Theme(
        name="siaptui-high-contrast",
        primary="#FFFF00",
        secondary="#00FFFF",
        accent="#FFFF00",
        warning="#FFFF00",
        error="#FF5555",
        success="#00FF00",
        foreground="#FFFFFF",
        background="#000000",
        surface="#000000",
        panel="#000000",
        boost="#202020",
        dark=True,
        luminosity_spread=0.0,
        text_alpha=1.0,
        variables={
            "border": "#FFFFFF",
            "border-blurred": "#A0A0A0",
            "footer-key-foreground": "#FFFF00",
            "block-cursor-background": "#FFFF00",
            "block-cursor-foreground": "#000000",
            "input-cursor-background": "#FFFFFF",
            "input-cursor-foreground": "#000000",
        },
    )
    mono = Theme(
        name="siaptui-mono",
        ansi=True,
        primary="ansi_white",
        secondary="ansi_cyan",
        accent="ansi_yellow",
        warning="ansi_yellow",
        error="ansi_red",
        success="ansi_green",
        foreground="ansi_default",
        background="ansi_default",
        surface="ansi_default",
        panel="ansi_default",
        boost="ansi_default",
        dark=True,
        variables={
            "ansi-background": "ansi_black",
            "ansi-foreground": "ansi_white",
            "border": "ansi_white",
            "border-blurred": "ansi_white",
            "block-cursor-foreground": "ansi_black",
            "block-cursor-background": "ansi_white",
            "input-cursor-background": "ansi_white",
            "input-cursor-foreground": "ansi_black",
            "input-cursor-text-style": "none",
            "input-selection-background": "ansi_white",
            "input-selection-foreground": "ansi_black",
            "footer-key-foreground": "ansi_yellow",
            "screen-selection-background": "ansi_white",
            "screen-selection-foreground": "ansi_black",
        },
    )
    return [default, high_contrast, mono]
