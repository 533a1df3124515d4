"""Pure drawing of one fingerprint frame into rows of terminal cells (no Textual, no Rich).

Why a separate module: the live preview must be cheap on a 2-core office PC and over SSH, and
the only way to keep it cheap is to decide *per row* what changed.  This module turns a frame
(uint8, dark ridges on light, docs/architecture.md) plus the engine's quality block map into
`rows`: one tuple of `(text, key)` runs per terminal line, with equal keys already merged.  The
widget (`siaptui.widgets.fingerprint_view`) maps each key to a cached Rich `Style` for the
terminal's colour system and refreshes only the rows whose tuple changed.  Tuples compare
cheaply, so "did this row change?" is one `==`.

Three modes, chosen by `siaptui.widgets.fingerprint_view.choose_mode`:

* ``ascii``  — one sample per cell, a 10-step character ramp (works on every terminal,
  ~1 byte per cell);
* ``braille`` — 2×4 dots per cell (U+2800 block), a dot where the pixel is darker than its
  neighbourhood (the ridge map); blank cells are sent as a plain space (1 byte, not 3);
* ``halfblock`` — two grey pixels per cell (``▀``: top = foreground, bottom = background),
  grey quantised to `levels` steps so styles repeat and runs merge; a cell whose two pixels
  agree is sent as a space on a background colour.

Terminal cells are about twice as tall as wide, so a cell covers `w × 2w` image pixels and the
image keeps its proportions.

Keys (what the widget styles):

* ``None`` — padding outside the image;
* ``("t", klass)`` — ASCII / braille text in quality class `klass`;
* ``("h", top, bottom, klass)`` — a ``▀`` cell, grey levels `top`/`bottom` (0 = black);
* ``("b", level, klass)`` — a space whose background is grey `level`.

`klass` is the quality overlay for the cell: BACKGROUND (no finger there), POOR, FAIR, GOOD
(also used when no quality map is given).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Callable, Hashable, Optional, Tuple

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

# numpy is imported inside the functions: the capture screen then paints before numpy has
# loaded (the first frame needs it anyway, and the scanner worker loads it off the UI thread).

MODES: Tuple[str, ...] = ("ascii", "braille", "halfblock")

ASCII_RAMP = " .:-=+*#%@"
"""Light to dense; a dark (ridge) pixel gets a dense character."""

BACKGROUND, POOR, FAIR, GOOD = 0, 1, 2, 3
POOR_BELOW = 0.4
"""Block quality (0..1) under which a block is marked poor."""
FAIR_BELOW = 0.7
"""Block quality under which a block is marked fair; at or above it is good."""

RIDGE_PERIOD_PX = 9.0
"""Typical ridge period at 500 ppi; the braille threshold window spans about two of them."""



@lru_cache(maxsize=1)
def _braille_tables() -> tuple:
    """(dot bit per (row, column) of a cell, glyph per dot pattern)."""
    import numpy as np

    bits = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]], dtype=np.int32)
    # The empty pattern is a plain space: 1 byte in UTF-8 instead of 3.
    glyphs = np.array([" "] + [chr(0x2800 + code) for code in range(1, 256)])
    return bits, glyphs


Run = Tuple[str, Hashable]
Row = Tuple[Run, ...]

# Sub-samples per cell (horizontal, vertical) for each mode.
_SUB = {"ascii": (1, 1), "braille": (2, 4), "halfblock": (1, 2)}


@dataclass(frozen=True)
class Layout:
    """Where the image lands in a `cols × rows` area and how many pixels a cell covers."""

    cols: int
    rows: int
    used_cols: int
    used_rows: int
    left: int
    top: int
    cell_px: float
    """Image pixels per cell horizontally (a cell covers cell_px × 2·cell_px pixels)."""


def fit(width_px: int, height_px: int, cols: int, rows: int) -> Layout:
    """Largest scale at which the image fits in the area, centred, keeping its proportions."""
    cols = max(int(cols), 0)
    rows = max(int(rows), 0)
    if cols == 0 or rows == 0 or width_px <= 0 or height_px <= 0:
        return Layout(cols, rows, 0, 0, 0, 0, 1.0)
    cell_px = max(width_px / cols, height_px / (2.0 * rows))
    used_cols = min(cols, max(1, int(math.ceil(width_px / cell_px - 1e-9))))
    used_rows = min(rows, max(1, int(math.ceil(height_px / (2.0 * cell_px) - 1e-9))))
    return Layout(cols, rows, used_cols, used_rows, (cols - used_cols) // 2, (rows - used_rows) // 2, cell_px)


def _box_sample(image: np.ndarray, grid_w: int, grid_h: int, step_x: float, step_y: float) -> np.ndarray:
    """Mean of the image over each sample's rectangle (exact box filter via an integral image).

    Area averaging (not point sampling) keeps ridges from aliasing into moiré when a cell
    covers several ridges, and it is a handful of vectorised numpy operations per frame.
    Pixels beyond the image count as background (white).
    """
    import numpy as np

    h, w = image.shape
    need_w = int(math.ceil(grid_w * step_x)) + 1
    need_h = int(math.ceil(grid_h * step_y)) + 1
    img = image.astype(np.float64)
    if need_w > w or need_h > h:
        padded = np.full((max(h, need_h), max(w, need_w)), 255.0)
        padded[:h, :w] = img
        img = padded
    integral = np.zeros((img.shape[0] + 1, img.shape[1] + 1))
    integral[1:, 1:] = img.cumsum(0).cumsum(1)
    xs = np.floor(np.arange(grid_w + 1) * step_x + 1e-9).astype(np.int64)
    ys = np.floor(np.arange(grid_h + 1) * step_y + 1e-9).astype(np.int64)
    x0, x1 = xs[:-1], np.maximum(xs[1:], xs[:-1] + 1)
    y0, y1 = ys[:-1], np.maximum(ys[1:], ys[:-1] + 1)
    total = (
        integral[np.ix_(y1, x1)] - integral[np.ix_(y0, x1)] - integral[np.ix_(y1, x0)] + integral[np.ix_(y0, x0)]
    )
    area = np.outer(y1 - y0, x1 - x0)
    return total / area


def _local_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Box mean over a `window × window` neighbourhood (edges replicated)."""
    import numpy as np

    pad = window // 2
    padded = np.pad(values, pad, mode="edge")
    integral = np.zeros((padded.shape[0] + 1, padded.shape[1] + 1))
    integral[1:, 1:] = padded.cumsum(0).cumsum(1)
    h, w = values.shape
    total = (
        integral[window : window + h, window : window + w]
        - integral[:h, window : window + w]
        - integral[window : window + h, :w]
        + integral[:h, :w]
    )
    return total / float(window * window)


def quality_classes(
    layout: Layout, block_map: Optional[np.ndarray], block_size: int, width_px: int, height_px: int
) -> np.ndarray:
    """Overlay class (BACKGROUND/POOR/FAIR/GOOD) of every used cell, from the block map."""
    import numpy as np

    shape = (layout.used_rows, layout.used_cols)
    if block_map is None or block_map.size == 0 or block_size <= 0:
        return np.full(shape, GOOD, dtype=np.int8)
    centre_x = (np.arange(layout.used_cols) + 0.5) * layout.cell_px
    centre_y = (np.arange(layout.used_rows) + 0.5) * 2.0 * layout.cell_px
    bx = np.clip((centre_x // block_size).astype(np.int64), 0, block_map.shape[1] - 1)
    by = np.clip((centre_y // block_size).astype(np.int64), 0, block_map.shape[0] - 1)
    q = block_map[np.ix_(by, bx)].astype(np.float32)
    outside = (centre_y[:, None] >= height_px) | (centre_x[None, :] >= width_px)
    classes = np.where(q <= 0.0, BACKGROUND, np.where(q < POOR_BELOW, POOR, np.where(q < FAIR_BELOW, FAIR, GOOD)))
    classes[outside] = BACKGROUND
    return classes.astype(np.int8)


def _runs(chars: list, codes: np.ndarray, key_at: Callable[[int], Hashable]) -> list:
    """Merge a row of characters into (text, key) runs where the integer code stays equal.

    `key_at(i)` builds the key of the run starting at cell `i`; it is called once per run, not
    per cell, which keeps a 100-cell row to a few dozen Python operations.
    """
    import numpy as np

    if not chars:
        return []
    cuts = np.flatnonzero(np.diff(codes)) + 1
    starts = [0] + cuts.tolist()
    ends = cuts.tolist() + [len(chars)]
    return [("".join(chars[a:b]), key_at(a)) for a, b in zip(starts, ends)]


def _assemble(layout: Layout, body: list) -> list:
    """Add the padding around the image so that every row is exactly `cols` cells."""
    blank_row: Row = ((" " * layout.cols, None),) if layout.cols else ()
    rows: list = []
    right = layout.cols - layout.left - layout.used_cols
    for y in range(layout.rows):
        inner = y - layout.top
        if 0 <= inner < len(body):
            runs = list(body[inner])
            if layout.left:
                runs.insert(0, (" " * layout.left, None))
            if right:
                runs.append((" " * right, None))
            rows.append(tuple(runs))
        else:
            rows.append(blank_row)
    return rows


def render(
    image: np.ndarray,
    cols: int,
    rows: int,
    mode: str = "ascii",
    *,
    levels: int = 24,
    block_map: Optional[np.ndarray] = None,
    block_size: int = 32,
) -> list:
    """Draw `image` into `rows` lines of `cols` cells; returns one tuple of runs per line.

    `levels` (2..256) is the number of grey steps in half-block mode (the widget picks 4 for
    16 colours, 24 for 256, 32 for truecolor).  Raises ValueError for an unknown mode or a
    non-2-D image (a driver bug, not a clerk's problem).
    """
    if mode not in _SUB:
        raise ValueError(f"unknown preview mode {mode!r}; expected one of {MODES}")
    if image.ndim != 2:
        raise ValueError(f"expected a 2-D grey image, got shape {image.shape}")
    height_px, width_px = image.shape
    layout = fit(width_px, height_px, cols, rows)
    if layout.used_cols == 0 or layout.used_rows == 0:
        return _assemble(layout, [])
    sub_x, sub_y = _SUB[mode]
    samples = _box_sample(
        image,
        layout.used_cols * sub_x,
        layout.used_rows * sub_y,
        layout.cell_px / sub_x,
        2.0 * layout.cell_px / sub_y,
    )
    classes = quality_classes(layout, block_map, block_size, width_px, height_px)
    if mode == "ascii":
        body = _ascii_body(samples, classes)
    elif mode == "braille":
        body = _braille_body(samples, classes, layout.cell_px / sub_x)
    else:
        body = _halfblock_body(samples, classes, max(2, min(int(levels), 256)))
    return _assemble(layout, body)


_TEXT_KEYS = {k: ("t", k) for k in (BACKGROUND, POOR, FAIR, GOOD)}


def _text_key(row_classes: list, i: int) -> Hashable:
    return _TEXT_KEYS[row_classes[i]]


def _text_rows(chars: np.ndarray, classes: np.ndarray) -> list:
    body = []
    for y in range(classes.shape[0]):
        row_classes = classes[y].tolist()
        body.append(_runs(chars[y].tolist(), classes[y], partial(_text_key, row_classes)))
    return body


def _ascii_body(samples: np.ndarray, classes: np.ndarray) -> list:
    import numpy as np

    ramp = np.array(list(ASCII_RAMP))
    index = ((255.0 - np.clip(samples, 0, 255)) * len(ASCII_RAMP) / 256.0).astype(np.int64)
    chars = ramp[np.clip(index, 0, len(ASCII_RAMP) - 1)]
    return _text_rows(chars, classes)


def _braille_body(samples: np.ndarray, classes: np.ndarray, dot_px: float) -> list:
    import numpy as np

    window = max(3, int(round(2.0 * RIDGE_PERIOD_PX / max(dot_px, 1e-6))))
    window += 1 - window % 2  # odd, centred
    mean = _local_mean(samples, window)
    dots = (samples < mean - 2.0) & (mean < 245.0)
    rows, cols = classes.shape
    cells = dots.reshape(rows, 4, cols, 2).astype(np.int32)
    bits, table = _braille_tables()
    codes = (cells * bits[None, :, None, :]).sum(axis=(1, 3))
    glyphs = table[codes]
    return _text_rows(glyphs, classes)


def _halfblock_body(samples: np.ndarray, classes: np.ndarray, levels: int) -> list:
    import numpy as np

    quant = np.rint(np.clip(samples, 0, 255) * (levels - 1) / 255.0).astype(np.int64)
    top, bottom = quant[0::2], quant[1::2]
    same = top == bottom
    # One integer per distinct key (kind, grey levels, class) so runs are found with np.diff.
    codes = np.where(same, 1 + top, 1 + levels + top * levels + bottom) * 4 + classes
    chars = np.where(same, " ", "\u2580")
    body = []
    for y in range(classes.shape[0]):
        t_row, b_row, k_row, s_row = top[y].tolist(), bottom[y].tolist(), classes[y].tolist(), same[y].tolist()

        def key_at(i: int, t: list = t_row, b: list = b_row, k: list = k_row, s: list = s_row) -> Hashable:
            return ("b", t[i], k[i]) if s[i] else ("h", t[i], b[i], k[i])

        body.append(_runs(chars[y].tolist(), codes[y], key_at))
    return body


def level_grey(level: int, levels: int) -> int:
    """0..255 grey value of quantised `level` (used by the widget to build colours)."""
    if levels <= 1:
        return 255
    return int(round(level * 255.0 / (levels - 1)))
