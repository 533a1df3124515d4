"""Synthetic fingerprints: master prints from a seed, and impressions of them (SFinGe-style).

Why: clerks practise, demos run and tests exercise the engine without touching real people's
biometric data and without a scanner.  For that the fingers must behave like real ones under
the matcher — several impressions of one finger agree, different fingers do not — so they are
built the way SFinGe builds them (../shared/notes/fingerprint-anchors.md §7): a finger shape,
a Henry class drawn with natural frequencies, singular points, a zero-pole orientation field
with the Vizcaya–Gerhardt correction, a ridge-period map, ridges grown by iterative Gabor
filtering (`ridges`), and then per impression: pressure, dryness, elastic distortion,
partial contact, rotation, translation, noise and an optical background (`press`).

Public API (docs/architecture.md):

* `master(seed) -> Master` — cached (LRU): a master costs ~0.5 s, an impression ~50 ms;
* `impression(master, seed, **trouble) -> np.ndarray` — uint8 (400, 300), dark ridges;
* `finger_image(person_seed, finger, impression, trouble=None) -> np.ndarray` — the demo
  worker `person_seed`'s finger (ISO 1–10), impression number `impression`; `trouble` is one
  of `TROUBLES` ("dry", "pressure", "off_center", "light") or None.

Everything is deterministic: the same arguments give the same pixels on every run.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Dict, Optional, Tuple

import numpy as np
from scipy import ndimage

from siaptui.synth import fields as synth_fields, ridges as synth_ridges
from siaptui.synth.press import IMAGE_SHAPE, Pressing, render

#: Resolution of every synthetic image.
DPI = 500
#: Master canvas (rows, columns): the output window plus room for displacement.
MASTER_SHAPE = (448, 352)

#: Scripted trouble for practice (what the sim scanner's `trouble=` option selects).
#: Each names the impression parameters it forces; the rest stay natural.
TROUBLES: Dict[str, Dict[str, float]] = {
    "dry": {"dryness": 1.2, "pressure": -0.8, "contrast": 0.35, "contact": 0.85},
    "pressure": {"pressure": 2.0, "contact": 1.3, "contrast": 1.0, "dryness": 0.0, "brightness": -1.5},
    "off_center": {"dx": 125.0, "dy": 95.0},
    "light": {"contrast": 0.08, "brightness": 1.0, "pressure": -0.4, "dryness": 0.0},
}


@dataclass(frozen=True)
class Master:
    """A synthetic finger: everything an impression needs, plus its description for tests."""

    seed: int
    pattern: str
    cores: Tuple[Tuple[float, float], ...]
    deltas: Tuple[Tuple[float, float], ...]
    orientation: np.ndarray  # radians modulo π, MASTER_SHAPE
    period: np.ndarray  # ridge period in px, MASTER_SHAPE
    ridges: np.ndarray  # [-1, 1], +1 = ridge centre
    mask: np.ndarray  # 0..1 finger shape
    creases: np.ndarray  # 0..1, 1 = a crease or scar: skin that never touches the glass

    @property
    def shape(self) -> Tuple[int, int]:
        height, width = self.ridges.shape
        return height, width


def _rng(*key: int) -> np.random.Generator:
    """A generator keyed by a tuple of non-negative ints (stable across numpy versions)."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(k) for k in key])))


def _finger_mask(rng: np.random.Generator, shape: Tuple[int, int]) -> np.ndarray:
    """Finger-pad silhouette: a rounded tip (super-ellipse) over straighter sides, soft edge."""
    h, w = shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    half_width = rng.uniform(118, 140)
    tip = rng.uniform(150, 185)  # from the centre up to the tip
    cx, cy = w / 2 + rng.normal(0, 4), h / 2 + rng.uniform(0, 15)
    u = np.abs(xs - cx) / half_width
    v = (cy - ys) / tip
    top = u**2.3 + np.clip(v, 0, None) ** 2.0
    # Below the centre the sides narrow slightly toward the first crease.
    narrowing = 1.0 + 0.15 * np.clip((ys - cy) / (h - cy), 0, 1)
    inside = np.where(ys < cy, top, (u * narrowing) ** 2.3)
    mask = np.clip((1.0 - inside) / 0.12, 0.0, 1.0)
    return ndimage.gaussian_filter(mask, 2.0).astype(np.float32)


def _creases(rng: np.random.Generator, shape: Tuple[int, int]) -> np.ndarray:
    """Flexion creases and small scars: thin lines, mostly across the finger, part of the finger.

    They stay the same on every impression (they are the person's skin), break ridges the way
    real prints show them and keep the flow from being unrealistically clean.
    """
    h, w = shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    out = np.zeros(shape, dtype=np.float32)
    for _ in range(int(rng.poisson(4.0))):
        cx, cy = rng.uniform(0.15 * w, 0.85 * w), rng.uniform(0.2 * h, 0.95 * h)
        angle = rng.normal(0.0, 0.45) if rng.random() < 0.75 else rng.uniform(0, np.pi)
        half = rng.uniform(25, 120)
        width = rng.uniform(1.2, 3.5)
        dx, dy = np.cos(angle), np.sin(angle)
        along = (xs - cx) * dx + (ys - cy) * dy
        across = -(xs - cx) * dy + (ys - cy) * dx
        line = np.exp(-0.5 * (across / width) ** 2) * np.clip((half - np.abs(along)) / 10.0, 0.0, 1.0)
        out = np.maximum(out, line)
    return out


def _readonly(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


@lru_cache(maxsize=24)
def master(seed: int) -> Master:
    """The master print of finger `seed` (cached: the last 24 are kept, ~2.5 MB each)."""
    if int(seed) < 0:
        raise ValueError("seed must be a non-negative integer")
    rng = _rng(0x5F1, int(seed))
    centre = (MASTER_SHAPE[1] / 2.0, MASTER_SHAPE[0] / 2.0)
    pattern = synth_fields.pick_class(rng)
    cores, deltas = synth_fields.singular_points(rng, pattern, centre)
    orientation = synth_fields.orientation_field(rng, MASTER_SHAPE, pattern, cores, deltas)
    period = synth_fields.period_field(rng, MASTER_SHAPE, cores)
    ridges = synth_ridges.grow(rng, orientation, period)
    mask = _finger_mask(rng, MASTER_SHAPE)
    creases = _creases(rng, MASTER_SHAPE)
    return Master(
        seed=int(seed),
        pattern=pattern,
        cores=tuple((float(x), float(y)) for x, y in cores),
        deltas=tuple((float(x), float(y)) for x, y in deltas),
        orientation=_readonly(orientation),
        period=_readonly(period),
        ridges=_readonly(ridges),
        mask=_readonly(mask),
        creases=_readonly(creases),
    )


def impression(master: Master, seed: int, profile: str = "office", **trouble: Any) -> np.ndarray:
    """One impression (uint8 (400, 300), 500 dpi, dark ridges) of `master`.

    `seed` draws the natural variation (placement, rotation, distortion, pressure, noise) of
    `profile` ("office": a guided, cooperative placement, what the sim scanner serves; "fvc":
    the deliberately varied FVC2002 collection, what the realism bench uses); keyword
    arguments force named parameters of `Pressing` (dx, dy, rotation, distortion, pressure,
    dryness, noise, contact, contrast, brightness, blur, mottle, shift_x, shift_y).
    """
    rng = _rng(0x1A7, master.seed, int(seed))
    pressing = Pressing.natural(rng, profile).updated(trouble)
    return render(master.ridges, master.mask, rng, pressing, creases=master.creases)


def finger_seed(person_seed: int, finger: int) -> int:
    """The master seed of one finger (ISO 1–10) of one person."""
    if not 1 <= int(finger) <= 10:
        raise ValueError("finger must be an ISO position 1..10")
    if int(person_seed) < 0:
        raise ValueError("person_seed must be a non-negative integer")
    return int(np.random.SeedSequence([int(person_seed), int(finger)]).generate_state(1, np.uint64)[0] >> 1)


def pressing_for(trouble: Optional[str], impression_seed: int) -> Dict[str, float]:
    """The parameters a named trouble forces (off-centre picks its direction from the seed)."""
    if trouble is None:
        return {}
    if trouble not in TROUBLES:
        raise ValueError(f"unknown trouble {trouble!r}; one of {', '.join(sorted(TROUBLES))}")
    forced = dict(TROUBLES[trouble])
    if trouble == "off_center":
        side = _rng(0x0FC, int(impression_seed)).integers(0, 4)
        forced["dx"] *= 1.0 if side & 1 else -1.0
        forced["dy"] *= 1.0 if side & 2 else -1.0
    return forced


def finger_image(person_seed: int, finger: int, impression: int, trouble: Optional[str] = None) -> np.ndarray:
    """Impression number `impression` of a person's finger, optionally with scripted trouble."""
    if int(impression) < 0:
        raise ValueError("impression must be a non-negative integer")
    finger_master = master(finger_seed(person_seed, finger))
    return _impression(finger_master, int(impression), "office", **pressing_for(trouble, int(impression)))


_impression = impression  # `finger_image`'s argument named `impression` shadows the function

__all__ = ["DPI", "IMAGE_SHAPE", "MASTER_SHAPE", "TROUBLES", "Master", "Pressing", "finger_image",
           "finger_seed", "impression", "master", "pressing_for"]
