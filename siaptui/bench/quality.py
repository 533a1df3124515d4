"""`siaptui bench quality DIR [DIR …] [--dpi N] [--json] [--no-nfiq2] [--no-reject] [--bozorth3]`.

Validates the 0–100 quality score two ways:

1. **Agreement with NIST NFIQ 2** — Spearman rank correlation between our score and NFIQ 2
   (computed by nbis-py 0.1.3, an optional bench dependency) over every image of the folders,
   per folder and pooled.  Ranks, not values, because both are ordinal 0–100 scales.
2. **Error versus reject** — with the calibrated matcher (`siaptui.biometrics.match`) on all
   pairs of a folder, FNMR at FMR 0.1 % after rejecting the lowest-quality 5 % and 10 % of
   images (every comparison that involves a rejected image is dropped), against rejecting the
   same number of images at random (mean of 50 seeded draws).  A useful quality score cuts
   FNMR more than chance does.

3. **Our minutiae under a fixed matcher** (`--bozorth3`) — NIST bozorth3 (nbis-py) scores our
   minutiae and mindtct's on the same pairs, so the extractor is judged apart from our matcher:
   EER of "our extractor + bozorth3" beside "mindtct + bozorth3" (NBIS).

Also reports, per image, the median wall-clock and CPU time of `assess` (the live-preview
budget) and of the whole extraction (`analyse` + `assess_analysis` + `extract_analysis`), and
the mean minutiae count.  CPU time is reported because the benchmark machine may be shared.
"""

from __future__ import annotations

import importlib.util
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

import numpy as np

from siaptui.i18n import t

REJECT_FRACTIONS = (0.05, 0.10)
RANDOM_DRAWS = 50


def _nfiq2_extractor(dpi: int) -> Any:
    import nbis

    settings = nbis.NbisExtractorSettings(min_quality=0, get_center=False, check_fingerprint=False,
                                          compute_nfiq2=True, ppi=float(dpi))
    return nbis.new_nbis_extractor(settings)


def nfiq2_scores(paths: Sequence[Path], dpi: int) -> List[Optional[float]]:
    """NFIQ 2 of each file, None where NFIQ 2 fails (it does on some low-quality prints)."""
    extractor = _nfiq2_extractor(dpi)
    out: List[Optional[float]] = []
    for path in paths:
        try:
            out.append(float(extractor.extract_minutiae(Path(path).read_bytes()).quality().score))
        except Exception:  # noqa: BLE001 - nbis raises its own error family (Nfiq2ComputeFailed, …)
            out.append(None)
    return out


def spearman(a: Sequence[Optional[float]], b: Sequence[Optional[float]]) -> Tuple[float, int]:
    """Spearman's ρ over the positions where both values exist, and how many those are."""
    from scipy.stats import spearmanr

    pairs = [(x, y) for x, y in zip(a, b) if x is not None and y is not None]
    if len(pairs) < 3:
        return float("nan"), len(pairs)
    rho = spearmanr([p[0] for p in pairs], [p[1] for p in pairs]).correlation
    return float(rho), len(pairs)


def fnmr_at_fmr1000(genuine: Dict[Tuple[int, int], float], impostor: Dict[Tuple[int, int], float],
                    rejected: Set[int]) -> float:
    """FNMR at FMR 0.1 % on the pairs whose images were all kept."""
    from siaptui.bench.evaluate import rates

    gen = [s for (i, j), s in genuine.items() if i not in rejected and j not in rejected]
    imp = [s for (i, j), s in impostor.items() if i not in rejected and j not in rejected]
    return float(rates(gen, imp).fmr1000)


def error_versus_reject(quality: Sequence[float], genuine: Dict[Tuple[int, int], float],
                        impostor: Dict[Tuple[int, int], float], seed: int = 1) -> Dict[str, float]:
    """FNMR@FMR0.1% with no rejection, rejecting by quality and at random, per fraction."""
    count = len(quality)
    order = np.argsort(np.asarray(quality, dtype=float), kind="stable")  # worst first
    rng = np.random.default_rng(seed)
    row: Dict[str, float] = {"fnmr1000_all": fnmr_at_fmr1000(genuine, impostor, set())}
    for fraction in REJECT_FRACTIONS:
        k = int(round(fraction * count))
        key = f"{int(round(fraction * 100))}"
        row[f"fnmr1000_reject{key}_quality"] = fnmr_at_fmr1000(genuine, impostor, set(order[:k].tolist()))
        draws = [fnmr_at_fmr1000(genuine, impostor, set(rng.choice(count, k, replace=False).tolist()))
                 for _ in range(RANDOM_DRAWS)]
        row[f"fnmr1000_reject{key}_random"] = float(np.mean(draws))
    return row


def _bozorth3_minutiae(extractor: Any, template: Any) -> Any:
    """Our template as an nbis-py `Minutiae`, for bozorth3.

    nbis-py 0.1.3 reads only the record layout its own writer produces — an ISO/IEC 19794-2:2005
    header whose finger-view header is 2 bytes (reserved, count) instead of 4 — so the standard
    record from `template.to_iso19794_2` is not accepted; this writes that layout (x, y, angle in
    360/256°, quality as in ISO) for the benchmark only.
    """
    import math
    import struct

    minutiae = template.minutiae[:255]
    body = b"".join(
        struct.pack(">HHBB", ((1 if m.kind == "ending" else 2) << 14) | int(round(m.x)), int(round(m.y)),
                    int(round(math.degrees(m.angle) * 256 / 360)) % 256, max(0, min(100, int(m.quality))))
        for m in minutiae)
    header = b"FMR\x00 20\x00" + struct.pack(">IHHHHHBB", 26 + len(body), 0, template.width, template.height,
                                              0, 0, 0, 0)
    return extractor.load_iso_19794_2_2005(header + bytes([0, len(minutiae)]) + body)


def bozorth3_eers(paths: Sequence[Path], templates: Sequence[Any], protocol: Any, dpi: int) -> Dict[str, float]:
    """EER with bozorth3 of our minutiae and of mindtct's on the same pairs."""
    import nbis

    from siaptui.bench.evaluate import rates

    def extractor(ppi: float) -> Any:
        return nbis.new_nbis_extractor(nbis.NbisExtractorSettings(
            min_quality=0, get_center=False, check_fingerprint=False, compute_nfiq2=False, ppi=ppi))

    ours_x = extractor(500.0)
    theirs_x = extractor(float(dpi))
    ours = [_bozorth3_minutiae(ours_x, tpl) for tpl in templates]
    theirs = [theirs_x.extract_minutiae(Path(p).read_bytes()) for p in paths]
    row = {}
    for name, found in (("ours", ours), ("nbis", theirs)):
        genuine = [float(found[i].compare(found[j])) for i, j in protocol.genuine]
        impostor = [float(found[i].compare(found[j])) for i, j in protocol.impostor]
        result = rates(genuine, impostor)
        row[f"bozorth3_eer_{name}"] = result.eer
        row[f"bozorth3_fmr100_{name}"] = result.fmr100
    return row


def evaluate_folder(folder: Path, dpi_flag: Optional[int], with_nfiq2: bool, with_reject: bool,
                    with_bozorth3: bool = False) -> Dict[str, Any]:
    """Everything this bench measures on one folder of FINGER_IMPRESSION images."""
    from siaptui.bench.evaluate import build_protocol, dataset_dpi, list_samples
    from siaptui.biometrics.analysis import analyse
    from siaptui.biometrics.extract import extract_analysis
    from siaptui.biometrics.image import load_image
    from siaptui.biometrics.quality import assess, assess_analysis

    samples = list_samples(folder)
    if not samples:
        raise SystemExit(t("biometrics.bench.quality.no_images", folder=str(folder)))
    dpi = dataset_dpi(folder, dpi_flag)
    ours: List[float] = []
    template_quality: List[float] = []
    assess_ms: List[float] = []
    assess_cpu: List[float] = []
    extract_ms: List[float] = []
    extract_cpu: List[float] = []
    templates = []
    for sample in samples:
        image = load_image(sample.path)
        wall, cpu = time.perf_counter(), time.process_time()
        assess(image, dpi)
        assess_ms.append((time.perf_counter() - wall) * 1000)
        assess_cpu.append((time.process_time() - cpu) * 1000)
        wall, cpu = time.perf_counter(), time.process_time()
        analysis = analyse(image, dpi)
        report = assess_analysis(analysis)
        template = extract_analysis(analysis)
        extract_ms.append((time.perf_counter() - wall) * 1000)
        extract_cpu.append((time.process_time() - cpu) * 1000)
        ours.append(float(report.score))
        templates.append(template)
        template_quality.append(float(template.quality))
    row: Dict[str, Any] = {"dataset": Path(folder).name, "images": len(samples), "dpi": dpi,
                           "assess_ms_median": round(statistics.median(assess_ms), 2),
                           "assess_cpu_ms_median": round(statistics.median(assess_cpu), 2),
                           "extract_ms_median": round(statistics.median(extract_ms), 2),
                           "extract_cpu_ms_median": round(statistics.median(extract_cpu), 2),
                           "minutiae_mean": round(float(np.mean([len(tp.minutiae) for tp in templates])), 1),
                           "quality_mean": round(float(np.mean(ours)), 1)}
    if with_nfiq2:
        nfiq = nfiq2_scores([s.path for s in samples], dpi)
        rho, n = spearman(ours, nfiq)
        row.update({"nfiq2_mean": round(float(np.mean([v for v in nfiq if v is not None])), 1),
                    "nfiq2_failed": sum(v is None for v in nfiq), "spearman_nfiq2": round(rho, 4)})
        if template_quality:
            row["spearman_nfiq2_template_quality"] = round(spearman(template_quality, nfiq)[0], 4)
        row["_pairs"] = (ours, nfiq)
    if with_bozorth3:
        row.update({k: round(v, 4) for k, v in bozorth3_eers([s.path for s in samples], templates,
                                                               build_protocol(samples), dpi).items()})
    if with_reject:
        from siaptui.biometrics.match import Matcher
        from siaptui.biometrics.match_prepare import prepare

        protocol = build_protocol(samples)
        prepared = [prepare(tpl) for tpl in templates]
        matchers = [Matcher(p) for p in prepared]
        genuine = {p: matchers[p[0]].match(prepared[p[1]]) for p in protocol.genuine}
        impostor = {p: matchers[p[0]].match(prepared[p[1]]) for p in protocol.impostor}
        row.update({k: round(v, 4) for k, v in error_versus_reject(ours, genuine, impostor).items()})
    return row


def main(args: Any, settings: Any) -> int:
    """Entry point of `siaptui bench quality`."""
    with_nfiq2 = not getattr(args, "no_nfiq2", False)
    with_bozorth3 = bool(getattr(args, "bozorth3", False))
    if with_nfiq2 or with_bozorth3:
        if importlib.util.find_spec("nbis") is None:
            print(t("biometrics.bench.quality.nbis_missing") + "\n" + t("biometrics.bench.quality.nbis_missing.fix"),
                  file=sys.stderr)
            return 2
    rows = [evaluate_folder(Path(folder), args.dpi, with_nfiq2, not getattr(args, "no_reject", False), with_bozorth3)
            for folder in args.dir]
    pooled: Dict[str, Any] = {"dataset": "all", "images": sum(r["images"] for r in rows)}
    if with_nfiq2:
        ours = [v for r in rows for v in r["_pairs"][0]]
        nfiq = [v for r in rows for v in r["_pairs"][1]]
        pooled["spearman_nfiq2"] = round(spearman(ours, nfiq)[0], 4)
    for key in rows[0]:
        if key.startswith(("fnmr1000", "bozorth3_")) or key.endswith("ms_median"):
            pooled[key] = round(float(np.mean([r[key] for r in rows])), 4)
    rows.append(pooled)
    for row in rows:
        row.pop("_pairs", None)
        if args.json:
            print(json.dumps(row, sort_keys=False))
        else:
            print("  ".join(f"{k}={_fmt(v)}" for k, v in row.items()))
    return 0


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
