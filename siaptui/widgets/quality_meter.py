"""One-line quality bar: the score of the current frame against the acceptance threshold.

Why a bar and a number: the clerk watches the finger, not the screen; a bar that fills and
turns from red to green is readable from the corner of an eye, and the number plus the minimum
("62/100 (mínimo 40)") tells support exactly what happened.  Plain `#`/`-` on the mono theme or
the Linux console, where block glyphs may be missing.
"""

from __future__ import annotations

from typing import Any, Optional

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from siaptui.i18n import t


class QualityMeter(Widget):
    """`Calidad ██████░░░░ 62/100 (mínimo 40)` — red below the minimum, green at or above."""

    DEFAULT_CSS = """
    QualityMeter {
        height: 1;
        width: 1fr;
    }
    """

    score: reactive[Optional[int]] = reactive(None)
    minimum: reactive[int] = reactive(40)

    def __init__(self, minimum: int = 40, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.set_reactive(QualityMeter.minimum, int(minimum))

    def render(self) -> Text:
        ascii_only = bool(getattr(self.app, "ascii_glyphs", False))
        full, empty = ("#", "-") if ascii_only else ("█", "░")
        label = t("capture.quality")
        if self.score is None:
            value = t("capture.quality.none")
        else:
            value = t("capture.quality.value", score=self.score, minimum=self.minimum)
        width = max(self.size.width - len(label) - len(value) - 4, 5)
        filled = 0 if self.score is None else round(width * max(0, min(100, self.score)) / 100)
        good = self.score is not None and self.score >= self.minimum
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(label + " ")
        text.append("[" if ascii_only else "")
        text.append(full * filled, style="green" if good else "red")
        text.append(empty * (width - filled), style="dim")
        text.append("]" if ascii_only else "")
        text.append(" " + value, style="bold" if good else "")
        return text
