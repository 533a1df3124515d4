"""Simulated hard conditions for `siaptui bench accuracy --hard`: small overlaps and pressure
extremes, made the same way from any FINGER_IMPRESSION set.

Why: a press sensor such as the U.are.U 4000 gives impressions of one finger that share less
than half their area and swing between wet (dark, merged ridges) and dry (thin, broken ones),
while the sets we can score on come mostly from sensors where the finger lands in the middle.
Rather than tune on the few U.are.U prints we have, any set is turned into a harder one by a
fixed rule that knows nothing of the set:

* **Overlap**: impression k (its rank among its finger's impressions) keeps a window of
  `WINDOW` of the width and the height, at corner k mod 4 (top-left, bottom-right,
  top-right, bottom-left).  Two windows share 57 % of their area at adjacent corners and
  33 % at opposite ones, before the finger's own displacement.
* **Pressure**: impression k is pressed (a grey erosion of `PRESS` px: the dark ridges spread
  into the valleys), dried (a grey dilation: the ridges thin and break) or left as it is, by
  k mod 3.

The harder images are written as PNG under a temporary folder and scored by the unchanged
protocol, so both engines (ours and NBIS) read the same pixels.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict

import numpy as np
from scipy import ndimage as ndi

from siaptui.bench.evaluate import list_samples
from siaptui.biometrics.image import load_image

WINDOW = 0.7
PRESS = 3  # px at the source resolution: about a third of a ridge period at 500 ppi
_CORNERS = ((0, 0), (1, 1), (0, 1), (1, 0))  # (row, column) offsets: 0 = start, 1 = end


def harden(image: np.ndarray, rank: int) -> np.ndarray:
    """The `rank`-th impression of a finger under the hard conditions (see the module doc)."""
    rows, cols = image.shape
    height, width = int(round(rows * WINDOW)), int(round(cols * WINDOW))
    down, across = _CORNERS[rank % len(_CORNERS)]
    top, left = down * (rows - height), across * (cols - width)
    window = image[top:top + height, left:left + width]
    pressure = rank % 3
    if pressure == 0:  # wet or pressed: ridges (dark) grow
        window = ndi.grey_erosion(window, size=(PRESS, PRESS))
    elif pressure == 1:  # dry: ridges shrink
        window = ndi.grey_dilation(window, size=(PRESS, PRESS))
    return np.ascontiguousarray(window)


def harden_folder(source: Path, target: Path) -> Path:
    """Write the hard version of every image of `source` into `target` (same names, PNG)."""
    from PIL import Image

    target.mkdir(parents=True, exist_ok=True)
    ranks: Dict[str, int] = {}
    for sample in list_samples(source):
        rank = ranks.get(sample.finger, 0)
        ranks[sample.finger] = rank + 1
        Image.fromarray(harden(load_image(sample.path), rank)).save(target / f"{sample.path.stem}.png")
    return target
