"""The step bar: one line that tells the clerk where they are in the enrollment.

Why a plain one-line Static: at 80×24 every row counts, and over a slow SSH link the bar must
cost a handful of bytes.  It shows the seven steps from `siaptui.enrollment.flow.STEPS`, marks the done
ones with ✓ (or `+` on the mono theme where the console may lack the glyph), the steps this visit
does not take (a transfer has no Captura or Revisión) with – (or `-`), the current one in reverse
video, and abbreviates labels when the width is short.
"""

from __future__ import annotations

from typing import Any, Optional

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from siaptui.enrollment.flow import STEPS, Step
from siaptui.i18n import t


class StepBar(Static):
    """Where the clerk is: Inicio › Trabajador › Consentimiento › … › Acuse."""

    DEFAULT_CSS = """
    StepBar {
        height: 1;
        width: 100%;
        background: $panel;
        color: $text-muted;
    }
    """

    current: reactive[Optional[Step]] = reactive(None)

    def __init__(self, current: Optional[Step] = None, *, skipped: frozenset[Step] = frozenset(),
                 **kwargs: Any) -> None:
        super().__init__("", **kwargs)
        self.skipped = skipped
        self.set_reactive(StepBar.current, current)

    def on_mount(self) -> None:
        self.update(self._build(self.size.width or 80))

    def on_resize(self) -> None:
        self.update(self._build(self.size.width or 80))

    def watch_current(self, _old: Optional[Step], _new: Optional[Step]) -> None:
        if self.is_mounted:
            self.update(self._build(self.size.width or 80))

    def labels(self, short: bool) -> list[str]:
        suffix = ".short" if short else ""
        return [t(f"step.{step.value}{suffix}") for step in STEPS]

    def _build(self, width: int) -> Text:
        ascii_only = getattr(self.app, "ascii_glyphs", False)
        done_mark = "+" if ascii_only else "✓"
        skipped_mark = "-" if ascii_only else "–"
        separator = " > " if ascii_only else " › "
        index = STEPS.index(self.current) if self.current in STEPS else -1
        for short in (False, True):
            text = Text(no_wrap=True, overflow="ellipsis")
            for i, label in enumerate(self.labels(short)):
                if i:
                    text.append(separator, style="dim")
                if STEPS[i] in self.skipped:
                    text.append(f"{skipped_mark}{label}", style="dim")
                elif i < index:
                    text.append(f"{done_mark}{label}", style="")
                elif i == index:
                    text.append(f" {label} ", style="reverse bold")
                else:
                    text.append(label, style="dim")
            if text.cell_len <= width:
                return text
        return text
