"""`siaptui bench synth`: do synthetic fingers behave like real ones under our engine?

Generates a set laid out like the FVC sets (`FINGER_IMPRESSION.png`, `DATASET.toml` with
dpi 500) with `siaptui.synth` — impressions drawn with the "fvc" profile, the deliberately
varied placement/pressure/dryness of the FVC2002 collection, or with `--profile uru` the
U.are.U 4000's window, large displacements and wet and dry extremes (a hard set, never tuned
on) — then runs the engine on it
with the FVC protocol as defined once in `siaptui.bench.evaluate` (sample naming,
genuine/impostor pairs, EER and FMR sweeps) — and, unless `--no-reference`, on the four
FVC2002 B sets of ../shared, so the figures sit side by side from one run of one engine build.

Pairs: genuine = every pair of impressions of one finger; impostor = every pair of different
fingers while that is ≤ 5,000 pairs (the B sets: 2,880), else the FVC impostor set (first
impressions of different fingers; 4,950 for 100 fingers) — the matcher costs milliseconds per
pair, and 316,800 all-pairs impostors would take an hour on the office PC class this targets.
`eer_fvc45` is always the EER against the FVC impostor set.

Timing: `generate_ms_median` is the median per impression including its share of the master
print (master cost / impressions), on one core, cache cleared first; masters and impressions
are also reported apart.  `--nbis` adds NIST mindtct + bozorth3 and NFIQ 2 (nbis-py) on the same
images and pairs, a second opinion that does not depend on our engine.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from siaptui.bench import machine, peak_rss_mb, shared_fingerprints
from siaptui.errors import SiaptuiError

#: Above this many all-pairs impostors, use the FVC impostor set instead.
MAX_ALL_IMPOSTORS = 5000
REFERENCE_SETS = ("DB1_B", "DB2_B", "DB3_B", "DB4_B")


class SynthBenchError(SiaptuiError):
    code = "bench_synth_args"


@dataclass
class SetResult:
    """The engine's figures on one folder (fractions for rates, 0–100 for quality)."""

    dataset: str
    images: int
    genuine: List[float] = field(default_factory=list)
    impostor: List[float] = field(default_factory=list)
    fvc_impostor: List[float] = field(default_factory=list)
    quality: List[int] = field(default_factory=list)
    minutiae: List[int] = field(default_factory=list)
    extract_ms: List[float] = field(default_factory=list)
    match_us: List[float] = field(default_factory=list)
    nbis: Dict[str, Any] = field(default_factory=dict)

    def summary(self) -> Dict[str, Any]:
        from siaptui.bench.evaluate import rates

        main = rates(self.genuine, self.impostor)
        fvc = rates(self.genuine, self.fvc_impostor)
        out: Dict[str, Any] = {
            "dataset": self.dataset,
            "images": self.images,
            "genuine": len(self.genuine),
            "impostor": len(self.impostor),
            "eer": round(main.eer, 5),
            "fmr100": round(main.fmr100, 5),
            "fmr1000": round(main.fmr1000, 5),
            "zero_fmr": round(main.zero_fmr, 5),
            "eer_fvc45": round(fvc.eer, 5),
            "extract_ms_median": round(statistics.median(self.extract_ms), 1),
            "match_us_mean": round(statistics.fmean(self.match_us), 1),
            "quality_median": float(statistics.median(self.quality)),
            "genuine_scores": percentiles(self.genuine),
            "impostor_scores": percentiles(self.impostor),
            "impostor_max": round(max(self.impostor), 2),
            "quality": percentiles(self.quality),
            "minutiae_median": float(statistics.median(self.minutiae)),
        }
        if self.nbis:
            out["nbis"] = self.nbis
        return out


def percentiles(values: Sequence[float]) -> Dict[str, float]:
    """p5, p25, median, p75, p95 — a distribution in five numbers."""
    import numpy as np

    data = np.asarray(list(values), dtype=float)
    points = np.percentile(data, [5, 25, 50, 75, 95])
    return {name: round(float(v), 2) for name, v in zip(("p5", "p25", "p50", "p75", "p95"), points)}


# ----------------------------------------------------------------------------- generation


@dataclass
class Generated:
    folder: Path
    master_ms: List[float]
    impression_ms: List[float]
    per_impression_ms: List[float]


def generate_set(folder: Path, fingers: int, impressions: int, seed: int, profile: str = "fvc") -> Generated:
    """Write `fingers` × `impressions` PNGs named like FVC (101_1.png …) and DATASET.toml."""
    from PIL import Image

    from siaptui import synth
    from siaptui.files import atomic_write

    folder.mkdir(parents=True, exist_ok=True)
    synth.master.cache_clear()
    masters, singles, shares = [], [], []
    for index in range(fingers):
        # Fingers of consecutive synthetic people, ten per person, like a real enrollment set.
        person, finger = seed * 1_000_000 + index // 10, index % 10 + 1
        started = time.perf_counter()
        finger_master = synth.master(synth.finger_seed(person, finger))
        master_ms = (time.perf_counter() - started) * 1000
        masters.append(master_ms)
        for number in range(impressions):
            started = time.perf_counter()
            pixels = synth.impression(finger_master, number, profile=profile)
            took = (time.perf_counter() - started) * 1000
            singles.append(took)
            shares.append(took + master_ms / impressions)
            buffer = io.BytesIO()
            Image.fromarray(pixels).save(buffer, format="PNG")
            atomic_write(folder / f"{101 + index}_{number + 1}.png", buffer.getvalue())
        synth.master.cache_clear()  # keep memory flat on a 2 GB PC
    toml = (
        "# Synthetic fingerprints (siaptui.synth, SFinGe-style), FVC layout.\n"
        f"# fingers = {fingers}, impressions = {impressions}, seed = {seed}, profile = {profile}\n"
        "sensor = \"synthetic (siaptui synth, optical rendering)\"\n"
        "width = 300\nheight = 400\ndpi = 500\n"
    )
    atomic_write(folder / "DATASET.toml", toml.encode("utf-8"))
    return Generated(folder, masters, singles, shares)


# ----------------------------------------------------------------------------- evaluation


def evaluate_folder(folder: Path, name: str, use_nbis: bool = False) -> SetResult:
    """Our engine on one FVC-style folder, with the protocol of `siaptui.bench.evaluate`."""
    from siaptui.bench import evaluate
    from siaptui.biometrics.extract import extract
    from siaptui.biometrics.image import load_image
    from siaptui.biometrics.match import Matcher
    from siaptui.biometrics.quality import assess

    samples = evaluate.list_samples(folder)
    protocol = evaluate.build_protocol(samples)
    dpi = evaluate.dataset_dpi(folder)
    result = SetResult(dataset=name, images=len(samples))
    templates = []
    for sample in samples:
        image = load_image(sample.path)
        result.quality.append(int(assess(image, dpi=dpi).score))
        started = time.perf_counter()
        template = extract(image, dpi=dpi)
        result.extract_ms.append((time.perf_counter() - started) * 1000)
        result.minutiae.append(len(template.minutiae))
        templates.append(template)
    impostors = protocol.impostor if len(protocol.impostor) <= MAX_ALL_IMPOSTORS else protocol.fvc_impostor
    wanted = {"genuine": protocol.genuine, "impostor": impostors, "fvc_impostor": protocol.fvc_impostor}
    scores: Dict[Tuple[int, int], float] = {}
    by_probe: Dict[int, List[int]] = {}
    for pairs in wanted.values():
        for a, b in pairs:
            by_probe.setdefault(a, []).append(b)
    for a, candidates in by_probe.items():
        matcher = Matcher(templates[a])  # the probe is prepared once, as in 1:N
        for b in sorted(set(candidates)):
            started = time.perf_counter()
            scores[(a, b)] = float(matcher.match(templates[b]))
            result.match_us.append((time.perf_counter() - started) * 1e6)
    result.genuine = [scores[p] for p in protocol.genuine]
    result.impostor = [scores[p] for p in impostors]
    result.fvc_impostor = [scores[p] for p in protocol.fvc_impostor]
    if use_nbis:
        result.nbis = nbis_figures(samples, dpi, protocol.genuine, impostors)
    return result


def nbis_figures(samples: Sequence[Any], dpi: int, genuine: Sequence[Tuple[int, int]],
                 impostor: Sequence[Tuple[int, int]]) -> Dict[str, Any]:
    """mindtct + bozorth3 EER and NFIQ 2 on the same images and pairs (nbis-py 0.1.3)."""
    try:
        import nbis
    except ImportError:
        return {"error": "nbis-py not installed (pip install -e .[bench])"}
    from siaptui.bench.evaluate import rates

    def extractor(nfiq: bool) -> Any:
        return nbis.new_nbis_extractor(nbis.NbisExtractorSettings(
            min_quality=0, get_center=False, check_fingerprint=False, compute_nfiq2=nfiq, ppi=int(dpi)))

    with_nfiq2, plain = extractor(True), extractor(False)
    found, nfiq2, failed = [], [], 0
    for sample in samples:
        # NFIQ 2 fails on some images (anchors §3: 1 of 80 in DB3_B) and then the whole
        # extraction raises; count it and extract that image without NFIQ 2.
        try:
            minutiae = with_nfiq2.extract_minutiae_from_image_file(str(sample.path))
            nfiq2.append(int(minutiae.quality().score))
        except Exception:  # noqa: BLE001 - nbis raises its own error types
            failed += 1
            minutiae = plain.extract_minutiae_from_image_file(str(sample.path))
        found.append(minutiae)
    gen = [float(found[a].compare(found[b])) for a, b in genuine]
    imp = [float(found[a].compare(found[b])) for a, b in impostor]
    figures = rates(gen, imp)
    return {
        "eer": round(figures.eer, 5), "fmr100": round(figures.fmr100, 5), "zero_fmr": round(figures.zero_fmr, 5),
        "genuine_median": float(statistics.median(gen)), "impostor_max": float(max(imp)),
        "minutiae_mean": round(statistics.fmean(len(m.get()) for m in found), 1),
        "nfiq2_mean": round(statistics.fmean(nfiq2), 1) if nfiq2 else None,
        "nfiq2": percentiles(nfiq2) if nfiq2 else {}, "nfiq2_failed": failed,
    }


# ----------------------------------------------------------------------------- command


def run(fingers: int, impressions: int, seed: int, out: Optional[Path], reference: bool,
        use_nbis: bool, progress: Any = None, profile: str = "fvc") -> Dict[str, Any]:
    """Generate, evaluate, compare; returns the JSON object `--json` prints."""
    if fingers < 2 or impressions < 2 or fingers > 100_000 or impressions > 100:
        raise SynthBenchError("bad size", fingers=fingers, impressions=impressions)
    say = progress or (lambda text: None)
    temporary = out is None
    folder = Path(tempfile.mkdtemp(prefix="siaptui-synth-")) if out is None else Path(out)
    try:
        say(f"generating {fingers} × {impressions} in {folder} …")
        made = generate_set(folder, fingers, impressions, seed, profile)
        say("evaluating the synthetic set …")
        name = f"synth(seed={seed})" if profile == "fvc" else f"synth-{profile}(seed={seed})"
        synthetic = evaluate_folder(folder, name, use_nbis).summary()
    finally:
        if temporary:
            shutil.rmtree(folder, ignore_errors=True)
    result = dict(synthetic)
    result.update({
        "fingers": fingers,
        "impressions": impressions,
        "seed": seed,
        "profile": profile,
        "generate_ms_median": round(statistics.median(made.per_impression_ms), 1),
        "master_ms_median": round(statistics.median(made.master_ms), 1),
        "impression_ms_median": round(statistics.median(made.impression_ms), 1),
        "machine": machine(),
    })
    fvc = shared_fingerprints() if reference else None
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    if fvc is not None:
        result["reference"] = {}
        for name in REFERENCE_SETS:
            if (fvc / name).is_dir():
                say(f"evaluating FVC2002 {name} …")
                result["reference"][name] = evaluate_folder(fvc / name, f"fvc2002/{name}", use_nbis).summary()
        result["within_fvc_range"] = _within(result, result["reference"])
    return result


def _within(synthetic: Dict[str, Any], reference: Dict[str, Any]) -> Dict[str, bool]:
    """Is each headline figure inside [min, max] over the reference sets?"""
    verdict = {}
    for key in ("eer", "quality_median"):
        values = [r[key] for r in reference.values()]
        if values:
            verdict[key] = min(values) <= synthetic[key] <= max(values)
    return verdict


def render(result: Dict[str, Any]) -> str:
    """A plain table: the synthetic set beside each reference set."""
    header = ("set", "EER", "FMR100", "ZeroFMR", "EER45", "gen p50", "imp p95", "imp max", "Q p50", "Q p5–p95",
              "min.", "ext ms")
    rows: List[Tuple[str, ...]] = [header]

    def row(name: str, r: Dict[str, Any]) -> Tuple[str, ...]:
        q = r["quality"]
        return (name, f"{100 * r['eer']:.2f}%", f"{100 * r['fmr100']:.2f}%", f"{100 * r['zero_fmr']:.2f}%",
                f"{100 * r['eer_fvc45']:.2f}%", f"{r['genuine_scores']['p50']:.1f}",
                f"{r['impostor_scores']['p95']:.1f}", f"{r['impostor_max']:.1f}", f"{r['quality_median']:.0f}",
                f"{q['p5']:.0f}–{q['p95']:.0f}", f"{r['minutiae_median']:.0f}", f"{r['extract_ms_median']:.0f}")

    rows.append(row(f"synth {result['fingers']}×{result['impressions']}", result))
    for name, ref in result.get("reference", {}).items():
        rows.append(row(name, ref))
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)) for r in rows]
    lines.append("")
    lines.append(f"genuine {result['genuine']} pairs, impostor {result['impostor']} pairs; "
                 f"generation median {result['generate_ms_median']} ms/impression "
                 f"(master {result['master_ms_median']} ms, impression {result['impression_ms_median']} ms)")
    if "within_fvc_range" in result:
        lines.append(f"within the FVC2002 range: {result['within_fvc_range']}")
    if "nbis" in result:
        lines.append("NBIS (mindtct+bozorth3, NFIQ 2): synth " + json.dumps(result["nbis"]))
        for name, ref in result.get("reference", {}).items():
            lines.append(f"NBIS {name}: " + json.dumps(ref.get("nbis", {})))
    box = result["machine"]
    lines.append(f"machine: {box['cpu']}, nproc {box['nproc']}, Python {box['python']}; "
                 f"peak RSS {result.get('peak_rss_mb', '?')} MB")
    return "\n".join(lines)


def main(args: argparse.Namespace, settings: Any) -> int:
    result = run(
        fingers=int(args.fingers),
        impressions=int(args.impressions),
        seed=int(args.seed),
        out=Path(args.out) if args.out else None,
        reference=not getattr(args, "no_reference", False),
        use_nbis=bool(getattr(args, "nbis", False)),
        profile=str(getattr(args, "profile", "fvc")),
        progress=None if args.json else (lambda text: print(text, file=sys.stderr, flush=True)),
    )
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(render(result))
    return 0
