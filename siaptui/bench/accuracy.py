"""`siaptui bench accuracy DIR [DIR …] [--dpi N] [--json] [--nbis] [--calibrate] [--hard]`.

The FVC protocol (`siaptui.bench.evaluate`) on each folder: extract every image once (timed
one image at a time in this process, so the per-image figure is what one core of the office PC
would see), score every unordered pair once with the calibrated matcher, and report EER, FMR100,
FMR1000, ZeroFMR, the EER on the 45-style FVC impostor set, the median extraction time and the
mean comparison time.  An image that fails to load counts as a failed enrolment ("ghost"): its
comparisons score 0, as FVC does since 2002.

`--nbis` runs NIST NBIS (mindtct + bozorth3 through nbis-py 0.1.3, an optional bench
dependency) on the same images in the same run, so the ratio compares like with like.
`--calibrate` pools the raw impostor scores of all folders and prints the knots for
`match.CALIBRATION` and, scored again with the orientation maps left out (as a foreign ISO/ANSI
record would be), for `match.CALIBRATION_MINUTIAE` (never per set).
`--hard` scores each folder after the simulated small-overlap and pressure conditions of
`siaptui.bench.hard` (dataset name `<folder>_hard`), a separate evaluation from the plain one.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from siaptui.bench.evaluate import DatasetError, Protocol, build_protocol, dataset_dpi, list_samples, rates
from siaptui.i18n import t

GHOST_FINGERS = (10, 4, 2)  # fingers compared per person in the person-level miss rate


@dataclass
class Scored:
    """All-pairs scores of one engine on one folder, plus its timings."""

    scores: Dict[Tuple[int, int], float]
    extract_ms: List[float]
    match_us: float
    failed: int
    raw_impostor: List[float]
    raw_impostor_minutiae: List[float]  # the same pairs without orientation maps


def _row(name: str, protocol: Protocol, scored: Scored, calibrated: bool) -> Dict[str, Any]:
    genuine = [scored.scores[p] for p in protocol.genuine]
    impostor = [scored.scores[p] for p in protocol.impostor]
    main = rates(genuine, impostor)
    fvc = rates(genuine, [scored.scores[p] for p in protocol.fvc_impostor]) if protocol.fvc_impostor else None
    person = _ghost_missed(genuine) if calibrated else {}
    return {
        "dataset": name,
        "images": len(protocol.samples),
        "genuine": len(genuine),
        "impostor": len(impostor),
        "eer": round(main.eer, 6),
        "fmr100": round(main.fmr100, 6),
        "fmr1000": round(main.fmr1000, 6),
        "zero_fmr": round(main.zero_fmr, 6),
        "eer_fvc45": round(fvc.eer, 6) if fvc else None,
        "extract_ms_median": round(statistics.median(scored.extract_ms), 2) if scored.extract_ms else None,
        "match_us_mean": round(scored.match_us, 1),
        **person,
    }


def _ghost_missed(genuine: Sequence[float]) -> Dict[str, Any]:
    """The person-level check's miss rate at 10,000 enrolled persons had every finger of a
    re-enrolled worker scored like this set's genuine pairs, for a full ten-finger capture and
    for fewer fingers (`person.genuine_missed`; needs calibrated scores, so our engine only)."""
    from siaptui.biometrics.person import genuine_missed

    return {"ghost_missed_10k": {str(n): round(genuine_missed(genuine, n), 6) for n in GHOST_FINGERS}}


def _all_pairs(protocol: Protocol) -> List[Tuple[int, int]]:
    return sorted(set(protocol.genuine) | set(protocol.impostor))


def score_siaptui(protocol: Protocol, dpi: int, calibrating: bool = False) -> Scored:
    """Our extractor and calibrated matcher on every image and pair; with `calibrating`, also the
    raw impostor scores, with and without the orientation maps, for `--calibrate`."""
    from siaptui.biometrics.extract import extract
    from siaptui.biometrics.image import load_image
    from siaptui.biometrics.match import Matcher
    from siaptui.biometrics.match_core import raw_score
    from siaptui.biometrics.match_prepare import prepare
    from siaptui.biometrics.template import Template
    from siaptui.errors import SiaptuiError

    templates, times, failed = [], [], 0
    for sample in protocol.samples:
        try:
            image = load_image(sample.path)
            start = time.perf_counter()
            template = extract(image, dpi=dpi)
            times.append((time.perf_counter() - start) * 1000)
        except SiaptuiError:
            failed += 1
            template = Template(width=1, height=1, minutiae=[])
        templates.append(template)
    prepared = [prepare(tpl) for tpl in templates]
    pairs = _all_pairs(protocol)
    scores: Dict[Tuple[int, int], float] = {}
    # Timed: the calibrated comparison of a prepared probe with a prepared candidate (1:N use).
    matchers = [Matcher(p) for p in prepared]
    start = time.perf_counter()
    for i, j in pairs:
        scores[(i, j)] = matchers[i].match(prepared[j])
    match_us = (time.perf_counter() - start) / max(1, len(pairs)) * 1e6
    if not calibrating:
        return Scored(scores, times, match_us, failed, [], [])
    bare = [replace(p, orientation=None) for p in prepared]
    raw_impostor = [raw_score(prepared[i], prepared[j]) for i, j in protocol.impostor]
    raw_minutiae = [raw_score(bare[i], bare[j]) for i, j in protocol.impostor]
    return Scored(scores, times, match_us, failed, raw_impostor, raw_minutiae)


def score_nbis(protocol: Protocol, dpi: int) -> Scored:
    """NIST mindtct + bozorth3 (nbis-py) on the same images and pairs."""
    try:
        import nbis
    except ImportError:
        raise DatasetError("engine.dataset.no_nbis") from None
    extractor = nbis.new_nbis_extractor(nbis.NbisExtractorSettings(
        min_quality=0.0, get_center=False, check_fingerprint=False, compute_nfiq2=False, ppi=float(dpi)))
    found: List[Any] = []
    times: List[float] = []
    failed = 0
    for sample in protocol.samples:
        start = time.perf_counter()
        try:
            found.append(extractor.extract_minutiae_from_image_file(str(sample.path)))
            times.append((time.perf_counter() - start) * 1000)
        except Exception:  # noqa: BLE001 - nbis raises its own NbisError family for unreadable images
            failed += 1
            found.append(None)
    pairs = _all_pairs(protocol)
    scores: Dict[Tuple[int, int], float] = {}
    start = time.perf_counter()
    for i, j in pairs:
        a, b = found[i], found[j]
        scores[(i, j)] = float(a.compare(b)) if a is not None and b is not None else 0.0
    match_us = (time.perf_counter() - start) / max(1, len(pairs)) * 1e6
    return Scored(scores, times, match_us, failed, [], [])


def run_folder(folder: Path, dpi_flag: Optional[int], engine: Callable[[Protocol, int], Scored],
               calibrated: bool = False) -> Tuple[Dict[str, Any], Scored]:
    """One engine on one folder: (row, raw material); `calibrated`: the engine's scores are on
    our FMR scale, so the person-level figures apply."""
    samples = list_samples(folder)
    if not samples:
        raise DatasetError("engine.dataset.empty", folder=str(folder))
    protocol = build_protocol(samples)
    dpi = dataset_dpi(folder, dpi_flag)
    scored = engine(protocol, dpi)
    return _row(Path(folder).name, protocol, scored, calibrated), scored


def _pct(value: Optional[float]) -> str:
    return "—" if value is None else f"{value * 100:.2f}%"


def _print_table(rows: Sequence[Tuple[str, Dict[str, Any]]]) -> None:
    header = [t("engine.bench.col_engine"), t("engine.bench.col_dataset"), "EER", "FMR100", "FMR1000", "ZeroFMR",
              t("engine.bench.col_fvc45"), t("engine.bench.col_extract"), t("engine.bench.col_match")]
    lines = [header]
    for engine, row in rows:
        lines.append([engine, f"{row['dataset']} ({row['images']})", _pct(row["eer"]), _pct(row["fmr100"]),
                      _pct(row["fmr1000"]), _pct(row["zero_fmr"]), _pct(row["eer_fvc45"]),
                      f"{row['extract_ms_median']}", f"{row['match_us_mean']}"])
    widths = [max(len(str(line[c])) for line in lines) for c in range(len(header))]
    for line in lines:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)).rstrip())


def _measure(folder: Path, dpi: Optional[int], args: Any, calibrating: bool, table: List[Tuple[str, Dict[str, Any]]],
             pooled: List[float], pooled_minutiae: List[float]) -> None:
    """Both engines on one folder: rows into `table`, raw impostors into the pools, JSON out."""
    row, scored = run_folder(folder, dpi, partial(score_siaptui, calibrating=calibrating), calibrated=True)
    pooled.extend(scored.raw_impostor)
    pooled_minutiae.extend(scored.raw_impostor_minutiae)
    if scored.failed:
        print(t("engine.bench.failed_images", count=scored.failed, dataset=row["dataset"]), file=sys.stderr)
    out = dict(row)
    table.append(("siaptui", row))
    if getattr(args, "nbis", False):
        nbis_row, _ = run_folder(folder, dpi, score_nbis)
        ratio = row["eer"] / nbis_row["eer"] if nbis_row["eer"] else None
        nbis_row = dict(nbis_row, eer_ratio=None if ratio is None else round(ratio, 4))
        out["nbis"] = nbis_row
        table.append(("nbis", nbis_row))
    if args.json:
        print(json.dumps(out, ensure_ascii=False), flush=True)


def main(args: Any, settings: Any) -> int:
    """Entry point of `siaptui bench accuracy`."""
    table: List[Tuple[str, Dict[str, Any]]] = []
    calibrating = bool(getattr(args, "calibrate", False))
    pooled: List[float] = []
    pooled_minutiae: List[float] = []
    with tempfile.TemporaryDirectory(prefix="siaptui-hard-") as scratch:
        for folder in args.dir:
            source = Path(folder)
            if getattr(args, "hard", False):
                from siaptui.bench.hard import harden_folder

                dpi: Optional[int] = dataset_dpi(source, args.dpi)
                source = harden_folder(source, Path(scratch) / f"{source.name}_hard")
            else:
                dpi = args.dpi
            _measure(source, dpi, args, calibrating, table, pooled, pooled_minutiae)
    if not args.json:
        _print_table(table)
        if getattr(args, "nbis", False):
            for engine, row in table:
                if engine == "nbis" and row.get("eer_ratio") is not None:
                    print(t("engine.bench.ratio", dataset=row["dataset"], ratio=f"{row['eer_ratio'] * 100:.0f}"))
    if calibrating:
        from siaptui.bench.calibrate import calibration_knots

        def rounded(scores: List[float]) -> List[List[float]]:
            return [[round(r, 5), c] for r, c in calibration_knots(scores)]

        print(json.dumps({"calibration": rounded(pooled), "calibration_minutiae": rounded(pooled_minutiae),
                          "impostors": len(pooled)}))
    return 0
