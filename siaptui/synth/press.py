"""One impression of a synthetic master print, rendered like an optical scanner would see it.

Why a renderer of its own: what makes two impressions of one finger hard to match — the finger
lands somewhere else, turned, the skin stretches unevenly, pressure thickens or thins the
ridges, dry skin breaks them, only part of the pad touches the glass — is applied here, in the
order SFinGe uses (anchors §7.1): ridge thickness (erosion/dilation) and dryness on the master,
skin distortion, contact region, rendering with noise, global translation and rotation,
contrast and background.  Every random choice comes from the caller's generator, so an
impression is a pure function of (master, seed, parameters).

Coordinates: the output is `IMAGE_SHAPE` = (400, 300) rows × columns at 500 dpi; a point `p`
of the output maps back into the master through the inverse rigid motion plus a displacement
that is zero at the centre of contact and grows toward its rim (Cappelli's plastic-distortion
idea: the pressed core does not slide, the periphery stretches).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Dict, Optional

import numpy as np
from scipy import ndimage

from siaptui.synth.fields import smooth_noise

#: Impression profiles (see `Pressing.natural`).
PROFILES = ("office", "fvc", "uru")

#: Output size (rows, columns) at 500 dpi: 20 × 15 mm, the size of a U.are.U-class window.
IMAGE_SHAPE = (400, 300)


@dataclass(frozen=True)
class Pressing:
    """How one impression was taken.  Units: px at 500 dpi, degrees, 0–1 amounts.

    `pressure` < 0 is a light touch (thin ridges, small contact), > 0 presses hard (thick,
    merging ridges); `dryness` breaks ridges; `contrast` 1 = crisp dark ridges, 0.2 = washed
    out; `contact` scales the contact ellipse; `frame` 1 draws the U.are.U's window (`render`).
    """

    dx: float = 0.0
    dy: float = 0.0
    rotation: float = 0.0
    distortion: float = 0.0
    pressure: float = 0.0
    dryness: float = 0.0
    noise: float = 6.0
    contact: float = 1.0
    contrast: float = 0.9
    brightness: float = 0.0
    blur: float = 0.7
    mottle: float = 0.0
    shift_x: float = 0.0
    shift_y: float = 0.0
    frame: float = 0.0

    @classmethod
    def natural(cls, rng: np.random.Generator, profile: str = "office") -> "Pressing":
        """A random impression drawn for `profile`.

        "office": a cooperative person guided by the capture screen on a clean reader — what the
        sim scanner serves.  "fvc": the FVC2002 collection protocol, whose volunteers were asked
        to vary placement, rotation, pressure, dryness and moistness on purpose — what
        `siaptui bench synth` compares with the FVC2002 sets.  "uru": what the U.are.U 4000
        prints of FVC2004 DB2 look like — the finger lands in very different places
        (two impressions often share less than half their area), a third of them wet (dark,
        merged ridges) and a third dry (broken, dotted ridges), stronger elastic distortion, and
        the sensor's trapezoid window on a light background; a hard set for
        `siaptui bench synth --profile uru`, never tuned on.
        """
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}; one of {', '.join(PROFILES)}")
        if profile == "uru":
            return cls._uru(rng)
        if profile == "fvc":
            # Blur, noise, contrast and the distortion amplitude in `render` stay this narrow:
            # wider, they make two impressions of one synthetic finger differ in measured ridge
            # spacing twice as much as real ones do (docs/bench/synth.md).
            return cls(
                dx=float(np.clip(rng.normal(0, 26), -60, 60)),
                dy=float(np.clip(rng.normal(0, 30), -70, 70)),
                rotation=float(np.clip(rng.normal(0, 9), -20, 20)),
                distortion=float(rng.uniform(0.2, 1.0)),
                pressure=float(np.clip(rng.normal(0, 0.4), -0.9, 0.9)),
                dryness=float(np.clip(abs(rng.normal(0, 0.3)), 0, 0.8)),
                noise=float(rng.uniform(6.0, 16.0)),
                contact=float(rng.uniform(0.7, 1.1)),
                contrast=float(rng.uniform(0.4, 0.9)),
                brightness=float(rng.normal(0, 0.3)),
                blur=float(rng.uniform(0.6, 1.2)),
                mottle=float(rng.uniform(0.1, 0.7)),
                shift_x=float(rng.normal(0, 18)),
                shift_y=float(rng.normal(0, 28)),
            )
        return cls(
            dx=float(np.clip(rng.normal(0, 12), -30, 30)),
            dy=float(np.clip(rng.normal(0, 14), -35, 35)),
            rotation=float(np.clip(rng.normal(0, 6), -15, 15)),
            distortion=float(rng.uniform(0.0, 0.6)),
            pressure=float(np.clip(rng.normal(0, 0.2), -0.5, 0.5)),
            dryness=float(np.clip(abs(rng.normal(0, 0.1)), 0, 0.3)),
            noise=float(rng.uniform(4.0, 12.0)),
            contact=float(rng.uniform(0.9, 1.1)),
            contrast=float(rng.uniform(0.6, 0.95)),
            brightness=float(rng.normal(0, 0.3)),
            blur=float(rng.uniform(0.6, 1.0)),
            mottle=float(rng.uniform(0.05, 0.35)),
            shift_x=float(rng.normal(0, 8)),
            shift_y=float(rng.normal(0, 12)),
        )

    @classmethod
    def _uru(cls, rng: np.random.Generator) -> "Pressing":
        condition = rng.random()
        if condition < 1 / 3:  # wet or pressed hard
            pressure, dryness = float(rng.uniform(0.45, 0.9)), 0.0
        elif condition < 2 / 3:  # dry
            pressure, dryness = float(rng.uniform(-0.6, -0.2)), float(rng.uniform(0.4, 0.8))
        else:
            pressure, dryness = float(np.clip(rng.normal(0, 0.2), -0.4, 0.4)), float(abs(rng.normal(0, 0.1)))
        return cls(
            dx=float(np.clip(rng.normal(0, 30), -70, 70)),
            dy=float(np.clip(rng.normal(0, 45), -100, 100)),
            rotation=float(np.clip(rng.normal(0, 12), -30, 30)),
            distortion=float(rng.uniform(0.4, 1.0)),
            pressure=pressure,
            dryness=dryness,
            noise=float(rng.uniform(6.0, 14.0)),
            contact=float(rng.uniform(0.8, 1.1)),
            contrast=float(rng.uniform(0.45, 0.9)),
            brightness=float(rng.normal(0, 0.3)),
            blur=float(rng.uniform(0.7, 1.3)),
            mottle=float(rng.uniform(0.1, 0.6)),
            shift_x=float(rng.normal(0, 25)),
            shift_y=float(rng.normal(0, 50)),
            frame=1.0,
        )

    def updated(self, overrides: Dict[str, Any]) -> "Pressing":
        """A copy with the given fields replaced; unknown names raise TypeError."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise TypeError(f"unknown impression parameter(s): {', '.join(unknown)}")
        return replace(self, **{k: float(v) for k, v in overrides.items() if v is not None})


def render(
    ridges: np.ndarray,
    mask: np.ndarray,
    rng: np.random.Generator,
    pressing: Pressing,
    creases: Optional[np.ndarray] = None,
) -> np.ndarray:
    """uint8 (400, 300) impression of a master given by its ridge map and finger mask."""
    h_out, w_out = IMAGE_SHAPE
    h_m, w_m = ridges.shape
    # Which part of the pad touches the glass (a lower or higher, left or right part of the finger).
    cx = w_m / 2.0 + pressing.shift_x
    cy = h_m / 2.0 + pressing.shift_y

    # Output pixel -> master coordinates: inverse rotation and translation, then distortion.
    ys, xs = np.mgrid[0:h_out, 0:w_out].astype(np.float32)
    px = xs - w_out / 2.0 - pressing.dx
    py = ys - h_out / 2.0 - pressing.dy
    angle = np.deg2rad(pressing.rotation)
    c, s = np.cos(angle), np.sin(angle)
    qx = c * px + s * py
    qy = -s * px + c * py
    radius = np.hypot(qx, qy)
    ramp = np.clip((radius - 45.0) / 150.0, 0.0, 1.0) ** 1.5
    amplitude = 10.0 * pressing.distortion
    qx = qx + amplitude * ramp * smooth_noise(rng, IMAGE_SHAPE, 110.0)
    qy = qy + amplitude * ramp * smooth_noise(rng, IMAGE_SHAPE, 110.0)
    mx, my = qx + cx, qy + cy

    ridge = ndimage.map_coordinates(ridges, [my, mx], order=1, cval=-1.0)
    finger = ndimage.map_coordinates(mask, [my, mx], order=1, cval=0.0)
    if creases is not None:
        finger = finger * (1.0 - ndimage.map_coordinates(creases, [my, mx], order=1, cval=0.0))

    # Contact: an ellipse around the pressed centre, larger when pressing hard, soft-edged.
    size = pressing.contact * (1.0 + 0.18 * pressing.pressure)
    a, b = 118.0 * size, 165.0 * size
    # The rim of contact is irregular (skin folds, uneven pressure) and fairly sharp, as on glass.
    rim = np.hypot(qx / a, qy / b) * (1.0 + 0.06 * smooth_noise(rng, IMAGE_SHAPE, 60.0))
    contact = finger * np.clip((1.04 - rim) / 0.06, 0.0, 1.0)
    if pressing.dryness > 0:
        # Dry skin touches in patches: large gaps in contact.
        patches = smooth_noise(rng, IMAGE_SHAPE, 45.0)
        contact *= np.clip(1.0 - pressing.dryness * np.clip(patches - 0.3, 0, None) * 1.6, 0, 1)

    # Ridge thickness (erosion/dilation of the ridge map by moving its threshold).
    # Skin is not uniform: ridge width wanders a little from place to place.
    threshold = -0.42 * pressing.pressure + 0.25 * pressing.dryness + 0.18 * smooth_noise(rng, IMAGE_SHAPE, 8.0)
    ink = 1.0 / (1.0 + np.exp(-(ridge - threshold) / 0.14))
    if pressing.dryness > 0:
        # Broken ridges: small pores and breaks along the ridges.
        pores = smooth_noise(rng, IMAGE_SHAPE, 4.0)
        cut = 2.2 - 2.0 * pressing.dryness
        ink *= np.clip((cut - pores) / 0.35, 0.0, 1.0)
    if pressing.pressure > 0:
        # Too much pressure: valleys fill in, ridges run together.
        ink = np.maximum(ink, 0.55 * pressing.pressure * ndimage.gaussian_filter(ink, 2.0))

    # Optical rendering: light, slightly uneven background; dark ridges where skin touches.
    background = 238.0 + 10.0 * pressing.brightness + 5.0 * smooth_noise(rng, IMAGE_SHAPE, 150.0)
    vignette = ((xs - w_out / 2) / w_out) ** 2 + ((ys - h_out / 2) / h_out) ** 2
    background = background - 28.0 * vignette
    depth = np.clip(pressing.contrast, 0.05, 1.0) * (background - 25.0)
    # Uneven inking of the glass: patches of weaker ridges (sweat, grease, skin texture).
    depth = depth * np.clip(1.0 - pressing.mottle * np.clip(smooth_noise(rng, IMAGE_SHAPE, 30.0), 0, None), 0.15, 1.0)
    image = background - depth * ink * contact
    image = ndimage.gaussian_filter(image, max(pressing.blur, 0.0))
    image = image + rng.normal(0.0, pressing.noise, IMAGE_SHAPE)
    if pressing.frame > 0:
        image = _window(image, rng, pressing.frame)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def _window(image: np.ndarray, rng: np.random.Generator, frame: float) -> np.ndarray:
    """The U.are.U's active area: a trapezoid narrower at the top (its prism's keystone), a
    darker grey inside it, and the nearly white, ridge-free frame around it, edged softly."""
    rows, cols = image.shape
    ys, xs = np.mgrid[0:rows, 0:cols].astype(np.float32)
    inset = 0.13 * cols * frame * (1.0 - ys / rows)  # at the top; none at the bottom
    edge = np.minimum(xs - inset, (cols - 1 - inset) - xs)
    inside = np.clip((edge + 1.5) / 3.0, 0.0, 1.0)
    outside = 250.0 + rng.normal(0.0, 1.5, image.shape)
    return inside * (image - 12.0 * frame) + (1.0 - inside) * outside
