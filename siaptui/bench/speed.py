"""`siaptui bench speed [--gallery 10000] [--json] [--data DIR] [--nbis]`.

What an office PC will feel: extraction ms per image (median, one image at a time), the 1:1
comparison (probe prepared once, as in 1:N and in the capture retry loop; and the cold call
that prepares both templates), and 1:N search speed in comparisons per second *per core* — CPU
time, so threads in BLAS cannot flatter it — on a gallery of `--gallery` templates, plus the
process's peak resident memory.

The gallery is built from real FVC templates: the first two impressions of every finger, each
copied many times under a seeded random rigid transform (any rotation, ±60 px translation) and
with a few minutiae dropped, so every entry is a distinct template of realistic size.  The probes
are the third impressions of the same fingers, so the bench also reports how often the right
finger ranks first among the 10,000.
"""

from __future__ import annotations

import json
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

import numpy as np

from siaptui.bench import machine, peak_rss_mb, shared_fingerprints
from siaptui.bench.evaluate import Sample, dataset_dpi, list_samples
from siaptui.i18n import t

SEED = 20021
SOURCE_IMPRESSIONS = 2
PROBES_PER_FOLDER = 10
PAIRS_1TO1 = 1000
PAIRS_COLD = 100
SEARCHES = 20


def _folders(data: Path) -> List[Path]:
    if list_samples(data):
        return [data]
    return sorted(p for p in data.iterdir() if p.is_dir() and list_samples(p))


def _choose(samples: List[Sample]) -> Tuple[List[Sample], List[Sample]]:
    """(sources, probes): first impressions of each finger, and one later impression as probe."""
    by_finger: Dict[str, List[Sample]] = {}
    for sample in samples:
        by_finger.setdefault(sample.finger, []).append(sample)
    sources: List[Sample] = []
    probes: List[Sample] = []
    for finger_samples in by_finger.values():
        sources.extend(finger_samples[:SOURCE_IMPRESSIONS])
        if len(finger_samples) > SOURCE_IMPRESSIONS and len(probes) < PROBES_PER_FOLDER:
            probes.append(finger_samples[SOURCE_IMPRESSIONS])
    return sources, probes


def transformed(template: Any, rng: np.random.Generator) -> Any:
    """A rigidly moved copy (rotation about the centre, translation) missing ~10 % of minutiae and
    those moved off the frame."""
    from siaptui.biometrics.template import Minutia, Template

    turn = rng.uniform(-math.pi, math.pi)
    shift = rng.uniform(-60, 60, size=2)
    cx, cy = template.width / 2, template.height / 2
    c, s = math.cos(turn), math.sin(turn)
    moved = []
    for m in template.minutiae:
        if rng.random() < 0.1:
            continue
        dx, dy = m.x - cx, m.y - cy
        # y grows downwards and angles turn counter-clockwise on screen: rotate consistently.
        x = cx + c * dx + s * dy + shift[0]
        y = cy - s * dx + c * dy + shift[1]
        if not (0 <= x < template.width and 0 <= y < template.height):
            continue  # slid off the sensor
        moved.append(Minutia(x=x, y=y, angle=(m.angle + turn) % (2 * math.pi), kind=m.kind, quality=m.quality))
    orientation = None if template.orientation is None else template.orientation.moved(turn, tuple(shift), (cx, cy))
    return Template(width=template.width, height=template.height, dpi=template.dpi, minutiae=moved,
                    quality=template.quality, orientation=orientation)


def main(args: Any, settings: Any) -> int:
    """Entry point of `siaptui bench speed`."""
    from siaptui.biometrics.extract import extract
    from siaptui.biometrics.gallery import Gallery
    from siaptui.biometrics.image import load_image
    from siaptui.biometrics.match import Matcher, match
    from siaptui.biometrics.match_prepare import prepare

    data = Path(args.data) if args.data else shared_fingerprints()
    if data is None or not data.is_dir():
        print(t("engine.bench.no_data"), file=sys.stderr)
        return 2
    sources: List[Tuple[str, Any]] = []
    probes: List[Tuple[str, Any]] = []
    extract_ms: List[float] = []
    nbis_samples: List[Tuple[Sample, int]] = []
    for folder in _folders(data):
        dpi = dataset_dpi(folder, None)
        chosen_sources, chosen_probes = _choose(list_samples(folder))
        for group, target in ((chosen_sources, sources), (chosen_probes, probes)):
            for sample in group:
                image = load_image(sample.path)
                start = time.perf_counter()
                template = extract(image, dpi=dpi)
                extract_ms.append((time.perf_counter() - start) * 1000)
                target.append((f"{folder.name}/{sample.finger}", template))
                nbis_samples.append((sample, dpi))
    if len(sources) < 2 or not probes:
        print(t("engine.bench.no_data"), file=sys.stderr)
        return 2

    rng = np.random.default_rng(SEED)
    prepared = [prepare(tpl) for _, tpl in sources + probes]
    templates = [tpl for _, tpl in sources + probes]
    picks = rng.integers(0, len(prepared), size=(PAIRS_1TO1, 2))
    matchers = [Matcher(p) for p in prepared]
    start = time.perf_counter()
    for i, j in picks:
        matchers[i].match(prepared[j])
    match_us = (time.perf_counter() - start) / PAIRS_1TO1 * 1e6
    start = time.perf_counter()
    for i, j in picks[:PAIRS_COLD]:
        match(templates[i], templates[j])
    cold_us = (time.perf_counter() - start) / PAIRS_COLD * 1e6

    gallery = Gallery()
    size = max(1, int(args.gallery))
    for k in range(size):
        name, template = sources[k % len(sources)]
        gallery.add(f"{name}#{k}", template if k < len(sources) else transformed(template, rng))
    cpu, wall, found = [], [], 0
    searches = [probes[i % len(probes)] for i in range(max(SEARCHES, len(probes)))]
    gallery.search(searches[0][1], top=5)  # warm-up (first-call costs), not timed
    for name, template in searches:
        c0, w0 = time.process_time(), time.perf_counter()
        result = gallery.search(template, top=5)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
        if result and result[0][0].split("#")[0] == name:
            found += 1
    cpu_s = statistics.mean(cpu)
    report: Dict[str, Any] = {
        "images": len(extract_ms),
        "extract_ms_median": round(statistics.median(extract_ms), 1),
        "match_us_mean": round(match_us, 1),
        "match_cold_us_mean": round(cold_us, 1),
        "gallery": len(gallery),
        "search_ms_cpu": round(cpu_s * 1000, 1),
        "search_ms_wall": round(statistics.mean(wall) * 1000, 1),
        "comparisons_per_s_core": int(len(gallery) / cpu_s) if cpu_s > 0 else None,
        "rank1": f"{found}/{len(searches)}",
        "gallery_mb": round(gallery.nbytes / 1e6, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "machine": machine(),
    }
    if getattr(args, "nbis", False):
        report["nbis"] = _nbis_speed(nbis_samples)
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
        return 0
    print(t("engine.bench.speed_title"))
    print(t("engine.bench.speed_extract", ms=report["extract_ms_median"], count=report["images"]))
    print(t("engine.bench.speed_match", us=report["match_us_mean"], full_us=report["match_cold_us_mean"]))
    print(t("engine.bench.speed_gallery", rate=report["comparisons_per_s_core"], size=report["gallery"],
            ms=report["search_ms_cpu"]))
    print(t("engine.bench.speed_identification", found=found, probes=len(searches)))
    print(t("engine.bench.speed_memory", gallery_mb=report["gallery_mb"], peak_mb=report["peak_rss_mb"]))
    if "nbis" in report:
        print("NBIS:", json.dumps(report["nbis"]))
    return 0


def _nbis_speed(samples: List[Tuple[Sample, int]]) -> Dict[str, Any]:
    """mindtct ms per image and bozorth3 µs per comparison on the same images (nbis-py)."""
    try:
        import nbis
    except ImportError:
        return {"error": t("engine.dataset.no_nbis")}
    extractors: Dict[int, Any] = {}
    found, times = [], []
    for sample, dpi in samples:
        if dpi not in extractors:
            extractors[dpi] = nbis.new_nbis_extractor(nbis.NbisExtractorSettings(
                min_quality=0.0, get_center=False, check_fingerprint=False, compute_nfiq2=False, ppi=float(dpi)))
        start = time.perf_counter()
        found.append(extractors[dpi].extract_minutiae_from_image_file(str(sample.path)))
        times.append((time.perf_counter() - start) * 1000)
    rng = np.random.default_rng(SEED)
    picks = rng.integers(0, len(found), size=(PAIRS_COLD * 3, 2))
    start = time.perf_counter()
    for i, j in picks:
        found[i].compare(found[j])
    return {"extract_ms_median": round(statistics.median(times), 1),
            "match_us_mean": round((time.perf_counter() - start) / len(picks) * 1e6, 1)}
