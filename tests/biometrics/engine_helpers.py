"""Deterministic minutiae sets and their rigid/elastic/partial variants for matcher tests."""

from __future__ import annotations

import math
from typing import Optional

import numpy as np

from siaptui.biometrics.template import Minutia, Template


def random_template(seed: int, count: int = 45, size: int = 320) -> Template:
    """Minutiae spread over a size×size print, at least 12 px apart, with a smooth ridge flow."""
    rng = np.random.default_rng(seed)
    flow = rng.uniform(0, 2 * math.pi, size=3)
    points = []
    while len(points) < count:
        x, y = rng.uniform(20, size - 20, size=2)
        if all((x - px) ** 2 + (y - py) ** 2 >= 144 for px, py in points):
            points.append((x, y))
    minutiae = []
    for x, y in points:
        angle = (flow[0] + math.sin(x / 90 + flow[1]) + math.cos(y / 70 + flow[2])
                 + (math.pi if rng.random() < 0.5 else 0.0) + rng.normal(0, 0.3)) % (2 * math.pi)
        kind = "bifurcation" if rng.random() < 0.4 else "ending"
        minutiae.append(Minutia(float(x), float(y), angle, kind, int(rng.integers(40, 100))))
    return Template(width=size, height=size, dpi=500, minutiae=minutiae, quality=70)


def moved(template: Template, turn: float, shift=(0.0, 0.0), *, seed: int = 0, jitter: float = 0.0,
          elastic: float = 0.0, keep: Optional[tuple] = None, scale: float = 1.0) -> Template:
    """Rotate (counter-clockwise on screen) about the centre, shift, jitter, bend, crop, rescale."""
    rng = np.random.default_rng(seed)
    cx, cy = template.width / 2, template.height / 2
    c, s = math.cos(turn), math.sin(turn)
    out = []
    for m in template.minutiae:
        dx, dy = m.x - cx, m.y - cy
        if elastic:
            # A smooth displacement growing with the distance from the centre (skin stretch).
            dx += elastic * dx * math.sin(dy / 120.0)
            dy += elastic * dy * math.cos(dx / 150.0)
        x = cx + c * dx + s * dy + shift[0] + rng.normal(0, jitter)
        y = cy - s * dx + c * dy + shift[1] + rng.normal(0, jitter)
        if keep is not None and not (keep[0] <= m.x < keep[1]):
            continue
        out.append(Minutia(x * scale, y * scale, (m.angle + turn + rng.normal(0, jitter / 40)) % (2 * math.pi),
                           m.kind, m.quality))
    width, height = int(template.width * scale), int(template.height * scale)
    return Template(width=width, height=height, dpi=int(round(500 * scale)), minutiae=out, quality=template.quality)
