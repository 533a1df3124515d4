"""The live fingerprint preview: a Line-API widget that redraws only the rows that changed.

Why this shape (measured in ../shared/notes/textual.md §3): over SSH into an old PC the cost of
a preview is the bytes Textual writes per frame, and Textual writes one SGR sequence per
segment.  So the widget (1) gets rows of already-merged runs from `siaptui.widgets.fingerprint_render`,
(2) maps each run key to a `Style` built once per colour system and cached, (3) compares each
new row with the previous one and calls `refresh(Region)` for the changed rows only, and
(4) draws at most `max_fps` frames per second, always the newest (a slow link skips frames
instead of queueing them).

The quality overlay is colour where the terminal has colour (red = poor block, yellow = fair,
dim = no finger) and attributes in monochrome (reverse = poor, underline = fair), so a clerk on
a `NO_COLOR` terminal still sees where the print is bad.
"""

from __future__ import annotations

import os
import time
from typing import Any, Dict, Hashable, List, Optional, Tuple, cast

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget

from siaptui.widgets import fingerprint_render as pr

MODES = pr.MODES


def color_levels(color_system: Optional[str]) -> int:
    """Grey steps that the terminal can actually show (more only costs bytes and styles)."""
    if color_system == "truecolor":
        return 32
    if color_system in ("256", "eight_bit"):
        return 24
    return 4


def choose_mode(
    setting: str = "auto",
    *,
    term: Optional[str] = None,
    color_system: Optional[str] = None,
    over_ssh: Optional[bool] = None,
) -> str:
    """Pick the preview mode from the `scanner.preview` setting and the terminal.

    `auto`: ASCII on the Linux console (no braille glyphs in its 512-glyph font, 16 colours);
    braille over SSH or with fewer than 256 colours (sharp ridges for ~3 bytes a cell);
    greyscale half-block on a local terminal with ≥ 256 colours.  An explicit choice is honoured
    except half-block without any colour, which cannot show greys and falls back to ASCII.
    """
    term = os.environ.get("TERM", "") if term is None else term
    if over_ssh is None:
        over_ssh = bool(os.environ.get("SSH_CONNECTION") or os.environ.get("SSH_TTY"))
    has_colour = color_system not in (None, "")
    if setting in MODES:
        if setting == "halfblock" and not has_colour:
            return "ascii"
        return setting
    if term == "linux" or term in ("dumb", "unknown", ""):
        return "ascii"
    if over_ssh or color_system not in ("256", "truecolor"):
        return "braille"
    return "halfblock"


def _grey_rgb(level: int, levels: int, color_system: Optional[str]) -> int:
    """0..255 grey for a level; on 256 colours, exactly the xterm grey ramp (8 + 10·i)."""
    if levels == 24 and color_system == "256":
        return 8 + 10 * level
    return pr.level_grey(level, levels)


class FingerprintView(Widget):
    """Draws fingerprint frames (uint8, dark ridges on light) with the quality overlay."""

    DEFAULT_CSS = """
    FingerprintView {
        width: 1fr;
        height: 1fr;
        min-width: 10;
        min-height: 4;
    }
    """

    def __init__(
        self,
        *,
        mode: str = "auto",
        max_fps: float = 8.0,
        name: Optional[str] = None,
        id: Optional[str] = None,
        classes: Optional[str] = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._setting = mode
        self._mode: Optional[str] = mode if mode in MODES else None
        self.max_fps = float(max_fps)
        self._rows: List[tuple] = []
        self._strips: Dict[int, Strip] = {}
        self._styles: Dict[Hashable, Style] = {}
        self._style_basis: Any = None
        self._frame: Optional[tuple] = None
        self._pending: Optional[tuple] = None
        self._timer: Optional[Timer] = None
        self._last_draw = 0.0
        self._drawn_size: Any = None
        self.frames_drawn = 0
        """Frames actually drawn (after the frame-rate cap)."""
        self.rows_refreshed = 0
        """Rows sent for repaint in the last drawn frame (for tests and the bench)."""
        self.forced_color_system: Optional[str] = None
        """Draw as if the terminal had this colour system ("standard" | "256" | "truecolor" |
        "none"); snapshots use it so that the picture does not depend on the test machine's TERM."""

    # ------------------------------------------------------------------ terminal facts
    @property
    def color_system(self) -> Optional[str]:
        """The app console's colour system, or None when colour is off (NO_COLOR)."""
        if self.forced_color_system is not None:
            return None if self.forced_color_system == "none" else self.forced_color_system
        try:
            app = self.app
        except Exception:  # noqa: BLE001 - not mounted yet
            return None
        if getattr(app, "no_color", False):
            return None
        return app.console.color_system

    @property
    def mode(self) -> str:
        if self._mode is None:
            self._mode = choose_mode(self._setting, color_system=self.color_system)
        if self._mode == "halfblock" and self.color_system is None:
            return "ascii"
        return self._mode

    def set_mode(self, mode: str) -> None:
        """Switch the drawing mode; the current frame is redrawn whole."""
        if mode not in MODES:
            raise ValueError(f"unknown preview mode {mode!r}")
        self._mode = mode
        self._invalidate_all()

    def cycle_mode(self) -> str:
        """Next mode (ascii → braille → halfblock → ascii), skipping half-block without colour."""
        order = list(MODES)
        nxt = order[(order.index(self.mode) + 1) % len(order)]
        if nxt == "halfblock" and self.color_system is None:
            nxt = order[(order.index(nxt) + 1) % len(order)]
        self.set_mode(nxt)
        return nxt

    # ------------------------------------------------------------------ frames in
    def show(self, pixels: Any, block_map: Any = None, block_size: int = 32) -> None:
        """Queue a frame for drawing; called on the UI thread for every frame the scanner gives.

        Draws at once if the last draw is older than 1/max_fps, else keeps only the newest frame
        and draws it when the interval has passed.
        """
        self._pending = (pixels, block_map, block_size)
        if self.max_fps <= 0:
            self._draw_pending()
            return
        interval = 1.0 / self.max_fps
        wait = interval - (time.monotonic() - self._last_draw)
        if wait <= 0:
            self._draw_pending()
        elif self._timer is None:
            self._timer = self.set_timer(wait, self._draw_pending)

    def clear(self) -> None:
        """Forget the image (finger lifted, scanner gone): an empty preview."""
        self._pending = None
        self._frame = None
        self._rows = []
        self._strips.clear()
        self.refresh()

    @property
    def has_frame(self) -> bool:
        return self._frame is not None

    def _draw_pending(self) -> None:
        self._timer = None
        if self._pending is None:
            return
        self._frame, self._pending = self._pending, None
        self._last_draw = time.monotonic()
        self._draw(self._frame)

    def _draw(self, frame: tuple, full: bool = False) -> None:
        pixels, block_map, block_size = frame
        width, height = self.size.width, self.size.height
        if width <= 0 or height <= 0:
            return
        levels = color_levels(self.color_system)
        rows = pr.render(pixels, width, height, self.mode, levels=levels, block_map=block_map, block_size=block_size)
        self.frames_drawn += 1
        size = (width, height, self.mode, levels)
        if full or size != self._drawn_size or len(rows) != len(self._rows):
            self._rows = rows
            self._strips.clear()
            self._drawn_size = size
            self.rows_refreshed = len(rows)
            self.refresh()
            return
        changed = 0
        old = self._rows
        self._rows = rows
        for y, row in enumerate(rows):
            if row != old[y]:
                self._strips.pop(y, None)
                self.refresh(Region(0, y, width, 1))
                changed += 1
        self.rows_refreshed = changed

    def _invalidate_all(self) -> None:
        self._styles.clear()
        self._strips.clear()
        if self._frame is not None:
            self._draw(self._frame, full=True)
        else:
            self.refresh()

    def on_resize(self) -> None:
        self._strips.clear()
        if self._frame is not None:
            self._draw(self._frame, full=True)

    # ------------------------------------------------------------------ styles
    def _style(self, key: Hashable, base: Style) -> Style:
        basis = (self.color_system, base)
        if basis != self._style_basis:
            self._styles.clear()
            self._style_basis = basis
        style = self._styles.get(key)
        if style is None:
            style = self._styles[key] = self._build_style(key, base)
        return style

    def _build_style(self, key: Hashable, base: Style) -> Style:
        color_system = self.color_system
        if key is None:
            return base
        parts = cast(Tuple[Any, ...], key)  # the run keys of fingerprint_render: ("t", …), ("b", …), ("h", …)
        kind = parts[0]
        klass = parts[-1]
        if kind == "t":
            if color_system is None:
                extra = {pr.POOR: Style(reverse=True), pr.FAIR: Style(underline=True), pr.BACKGROUND: Style(dim=True)}
            else:
                extra = {pr.POOR: Style(color="red"), pr.FAIR: Style(color="yellow"), pr.BACKGROUND: Style(dim=True)}
            return base + extra.get(klass, Style())
        levels = color_levels(color_system)
        if kind == "b":
            return base + Style(bgcolor=self._tinted(parts[1], klass, levels))
        return base + Style(
            color=self._tinted(parts[1], klass, levels),
            bgcolor=self._tinted(parts[2], klass, levels),
        )

    def _tinted(self, level: int, klass: int, levels: int) -> str:
        grey = _grey_rgb(level, levels, self.color_system)
        if klass == pr.POOR and levels > 4:
            return f"rgb({grey},{grey * 11 // 20},{grey * 11 // 20})"
        if klass == pr.FAIR and levels > 4:
            return f"rgb({grey},{grey},{grey * 11 // 20})"
        return f"rgb({grey},{grey},{grey})"

    # ------------------------------------------------------------------ Line API
    def render_line(self, y: int) -> Strip:
        strip = self._strips.get(y)
        if strip is not None:
            return strip
        width = self.size.width
        base = self.rich_style
        if y >= len(self._rows) or self._drawn_size is None or self._drawn_size[0] != width:
            return Strip.blank(width, base)
        segments = [Segment(text, self._style(key, base)) for text, key in self._rows[y]]
        strip = Strip(segments, width)
        self._strips[y] = strip
        return strip
