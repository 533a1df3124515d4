"""The two hands as the clerk sees them, palms down: which fingers are done, missing, current.

Why a diagram instead of a list: clerks and workers think "the left index", not "position 7";
drawing both hands palms down (left little finger at the far left, right little finger at the
far right) matches what is on the desk.  ISO positions (1 right thumb … 10 left little) are
shown above each mark so the clerk and support talk about the same finger.

Marks: `[ ]` to do, `[+]` captured, `[x]` missing, and the current finger in reverse video
with `*` (ASCII only, so it renders on the Linux console).
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Set

from rich.text import Text
from textual.widget import Widget

from siaptui.enrollment.flow import FingerCapture
from siaptui.i18n import t

LEFT_ROW = (10, 9, 8, 7, 6)
RIGHT_ROW = (1, 2, 3, 4, 5)
CELL = 4
GAP = 2


class HandMap(Widget):
    """Four lines: hand names, ISO numbers, marks, legend."""

    DEFAULT_CSS = """
    HandMap {
        height: 4;
        width: 44;
    }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fingers: Dict[int, FingerCapture] = {}
        self.current: Optional[int] = None
        self.flagged: set = set()

    def update_state(self, fingers: Dict[int, FingerCapture], current: Optional[int],
                     flagged: Optional[Set[int]] = None) -> None:
        """Show the flow's fingers; `flagged` positions (duplicates, gallery hits) get a `!`."""
        self.fingers = dict(fingers)
        self.current = current
        self.flagged = set(flagged or ())
        self.refresh()

    def mark(self, position: int) -> str:
        capture = self.fingers.get(position)
        if position == self.current and not (capture and capture.done):
            inner = "*"
        elif capture is None or not capture.done:
            inner = " "
        elif capture.missing_reason:
            inner = "x"
        else:
            inner = "!" if position in self.flagged else "+"
        return f"[{inner}]"

    def _style(self, position: int) -> str:
        capture = self.fingers.get(position)
        style = ""
        if capture is not None and capture.done:
            style = "yellow" if capture.missing_reason or position in self.flagged else "green"
        if position == self.current:
            style = (style + " reverse").strip()
        return style

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="crop")
        width = CELL * 5
        text.append(t("capture.hand.left")[:width].ljust(width + GAP))
        text.append(t("capture.hand.right")[:width] + "\n")
        for row_kind in ("number", "mark"):
            for index, row in enumerate((LEFT_ROW, RIGHT_ROW)):
                for position in row:
                    if row_kind == "number":
                        text.append(str(position).center(3) + " ")
                    else:
                        text.append(self.mark(position), style=self._style(position))
                        text.append(" ")
                if index == 0:
                    text.append(" " * GAP)
            text.append("\n")
        text.append(t("capture.hand.legend"), style="dim")
        return text
