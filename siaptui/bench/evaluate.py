"""The FVC verification protocol on any folder of `FINGER_IMPRESSION.{tif,png,bmp}` images.

Why it lives in the library (not only in the bench): the same protocol measures our engine,
calibrates the matcher's thresholds and runs NBIS side by side, so there is exactly one
definition of "genuine", "impostor" and "EER" in the project.

* finger id = the file name before the last `_` (`101_3.tif` → finger `101`);
* genuine = every unordered pair of impressions of the same finger;
* impostor = every unordered pair of impressions of different fingers;
* FVC impostors = pairs of the *first* impressions of different fingers (45 pairs for a B set);
* EER: sweep the threshold over every observed score; take the point where |FNMR − FMR| is
  smallest and report the midpoint (FNMR + FMR) / 2;
* FMR100 / FMR1000 / ZeroFMR: the lowest FNMR at a threshold with FMR ≤ 1 %, ≤ 0.1 %, = 0.

A score ≥ threshold is a "match".  The resolution comes from a DATASET.toml in the folder or its
parent (a table named after the folder with a `dpi` key), else the caller's flag, else 500.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from siaptui.errors import SiaptuiError
from siaptui.files import TOMLDecodeError, read_toml

IMAGE_SUFFIXES = (".tif", ".tiff", ".png", ".bmp")
_NAME = re.compile(r"^(?P<finger>.+)_(?P<impression>[^_]+)$")


class DatasetError(SiaptuiError):
    """A folder that cannot be evaluated (missing, empty, no pairs, bad DATASET.toml)."""

    code = "dataset_invalid"

    def __init__(self, reason_key: str, **params: Any) -> None:
        from siaptui.i18n import t

        detail = t(reason_key, **params)
        super().__init__(detail, reason=reason_key, **params)


@dataclass(frozen=True)
class Sample:
    """One image file of the set."""

    finger: str
    impression: str
    path: Path


@dataclass
class Protocol:
    """Index pairs into `samples` for each comparison set of the FVC protocol."""

    samples: List[Sample]
    genuine: List[Tuple[int, int]] = field(default_factory=list)
    impostor: List[Tuple[int, int]] = field(default_factory=list)
    fvc_impostor: List[Tuple[int, int]] = field(default_factory=list)


def _natural(text: str) -> Tuple[Any, ...]:
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text))


def list_samples(folder: Path) -> List[Sample]:
    """Every `FINGER_IMPRESSION` image in `folder`, in natural order (101_2 before 101_10)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError("engine.dataset.missing", folder=str(folder))
    found = []
    for path in folder.iterdir():
        if path.suffix.lower() not in IMAGE_SUFFIXES or not path.is_file():
            continue
        parsed = _NAME.match(path.stem)
        if parsed:
            found.append(Sample(parsed["finger"], parsed["impression"], path))
    found.sort(key=lambda s: (_natural(s.finger), _natural(s.impression)))
    return found


def build_protocol(samples: Sequence[Sample]) -> Protocol:
    """Genuine, impostor and FVC-impostor pairs; raises DatasetError if a set would be empty."""
    protocol = Protocol(list(samples))
    first: Dict[str, int] = {}
    for i, s in enumerate(samples):
        first.setdefault(s.finger, i)
        for j in range(i):
            (protocol.genuine if samples[j].finger == s.finger else protocol.impostor).append((j, i))
    heads = sorted(first.values())
    protocol.fvc_impostor = [(heads[a], heads[b]) for b in range(len(heads)) for a in range(b)]
    if not protocol.genuine or not protocol.impostor:
        raise DatasetError("engine.dataset.no_pairs", folder=str(samples[0].path.parent) if samples else "",
                           images=len(samples), fingers=len(first))
    return protocol


def dataset_dpi(folder: Path, flag: Optional[int] = None) -> int:
    """DATASET.toml in the folder or its parent ([<folder name>] dpi = N), else flag, else 500."""
    folder = Path(folder)
    for candidate in (folder / "DATASET.toml", folder.parent / "DATASET.toml"):
        if not candidate.is_file():
            continue
        try:
            data = read_toml(candidate.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, TOMLDecodeError) as exc:
            raise DatasetError("engine.dataset.bad_toml", folder=str(candidate), problem=str(exc)) from None
        section = data.get(folder.name)
        if candidate.parent == folder and not isinstance(section, dict):
            section = data if "dpi" in data else None
        if isinstance(section, dict) and "dpi" in section:
            dpi = section["dpi"]
            if not isinstance(dpi, int) or not 100 <= dpi <= 5000:
                raise DatasetError("engine.dataset.bad_dpi", folder=str(candidate), value=str(dpi))
            return dpi
    return int(flag) if flag else 500


@dataclass
class Rates:
    """The FVC error figures (fractions) for one set of genuine and impostor scores."""

    eer: float
    eer_threshold: float
    fmr100: float
    fmr1000: float
    zero_fmr: float


def rates(genuine: Iterable[float], impostor: Iterable[float]) -> Rates:
    """EER, FMR100, FMR1000 and ZeroFMR by sweeping the threshold over every observed score."""
    gen = np.sort(np.asarray(list(genuine), dtype=np.float64))
    imp = np.sort(np.asarray(list(impostor), dtype=np.float64))
    if gen.size == 0 or imp.size == 0:
        raise DatasetError("engine.dataset.no_scores")
    thresholds = np.unique(np.concatenate([gen, imp, [np.inf]]))
    fnmr = np.searchsorted(gen, thresholds, side="left") / gen.size  # genuine below threshold
    fmr = 1.0 - np.searchsorted(imp, thresholds, side="left") / imp.size  # impostors at/above
    gap = np.abs(fnmr - fmr)
    k = int(np.argmin(gap))
    eer = float((fnmr[k] + fmr[k]) / 2)

    def best_fnmr(limit: float) -> float:
        ok = fmr <= limit + 1e-12
        return float(fnmr[ok].min())

    return Rates(eer, float(thresholds[k]), best_fnmr(0.01), best_fnmr(0.001), best_fnmr(0.0))
