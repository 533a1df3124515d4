"""The footer that fits the terminal: at 80 columns a screen shows the keys that matter there.

Why: Textual's footer cuts the keys that do not fit ("f6 Prá", "^q Sa"), and every screen adds
its own keys to the app's global ones.  So when the keys do not fit, the global keys go first
(the F1 help lists every key, and F1 itself always stays), then the screen's own keys from the
last declared; the screen's first keys and Esc stay.  Bindings in groups are not used here.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import (
    FooterKey,  # the class Footer yields; Textual exports no public alias
)

#: Global actions, the first dropped first (all reachable through F1's list).
DROP_FIRST = ("goto('training')", "goto('settings')", "goto('doctor')", "goto('pending')", "goto('verify')",
              "goto('outbox')", "request_quit")
#: Never dropped: the way to the list of every key, and the way back.
ALWAYS = ("help", "back", "cancel", "dismiss_none")


def key_width(key: FooterKey) -> int:
    """Cells of one compact footer key: "key description" and the gap after it."""
    return cell_len(key.key_display) + 1 + cell_len(key.description) + 1


def fitting(keys: list[FooterKey], budget: int) -> list[FooterKey]:
    """`keys` without the least important ones, until they fit in `budget` cells."""
    total = sum(key_width(k) for k in keys)
    order = [k for action in DROP_FIRST for k in keys if k.action == action]
    order += [k for k in reversed(keys) if k.action not in DROP_FIRST and k.action not in ALWAYS and k not in order]
    dropped: set[int] = set()
    for key in order:
        if total <= budget:
            break
        dropped.add(id(key))
        total -= key_width(key)
    return [k for k in keys if id(k) not in dropped]


class FittedFooter(Footer):
    """A compact Footer that drops keys (see module docstring) instead of cutting them."""

    def __init__(self) -> None:
        super().__init__(compact=True)

    def compose(self) -> ComposeResult:
        keys = list(super().compose())
        budget = self.size.width or self.app.size.width
        yield from fitting([k for k in keys if isinstance(k, FooterKey)], budget)

    def on_resize(self) -> None:
        self.call_after_refresh(self.recompose)
