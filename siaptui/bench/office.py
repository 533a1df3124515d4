"""`siaptui bench office --workers N [--json]`: the ghost check over a synthetic office day.

Why synthetic: a duplicate check is judged on whole persons (ten fingers each) enrolled one after
another, and no public set has hundreds of persons with ten fingers.  So: N workers, ten
synthetic fingers each (`siaptui.synth`, the "office" profile), enrolled in turn with `--views`
fresh impressions a finger; a share (`--reenrolled`) of them comes back later under another NSS
with new impressions, as a ghost employee would.  Every enrollment is searched against the
office enrolled so far with `siaptui.biometrics.person` — the function the capture screen and
the sandbox call — before it joins the gallery.

Reported: `workers, honest, false_alarms, reenrolled, caught, search_ms_median, peak_rss_mb`;
`projected_false_alarm_rate_10k`: the chance that an honest enrollment raises an alarm in an
office of 10,000 workers, projected from the measured impostor tail (the sampled impostor
fingers convolved ten times up to the alarm threshold, scaled by the worst measured ratio of
the day's person-level tail to that convolution); and, with `--timing-gallery`, the search
time and memory with a gallery of that many persons made of moved copies of the day's templates
(timing only: the copies are the same fingers, so their scores are not counted).
"""

from __future__ import annotations

import json
import math
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from siaptui.bench import machine, peak_rss_mb

FINGERS = tuple(range(1, 11))
FIRST_PERSON_SEED = 70_000  # seed 1's first person: far from the demo workers' seeds
OFFICE_SPAN = 1_000_000  # person seeds per office seed (more than --workers allows)
TAIL_LEVELS = (20.0, 30.0)  # person scores where the measured tail is compared with the model
TIMING_SEARCHES = 5
OFFICE = 10_000  # workers the false-alarm rate is projected to
RANDOM_PERSONS = 3  # persons drawn at random per honest search for the unbiased finger sample


@dataclass
class Visit:
    """One enrollment of the day: whose fingers, under which NSS, which impressions."""

    person: int
    nss: str
    impressions: Tuple[int, ...]
    ghost_of: str = ""


def _finger_templates(job: Tuple[int, int, Tuple[int, ...]]) -> List[bytes]:
    """Generated and extracted in a worker process: one finger's impressions as template bytes."""
    from siaptui import synth
    from siaptui.biometrics.extract import extract

    person, finger, impressions = job
    return [extract(synth.finger_image(person, finger, n), dpi=synth.DPI).to_bytes() for n in impressions]


def plan(workers: int, reenrolled: float, views: int, seed: int) -> List[Visit]:
    """The day's visits: every worker once, and the ghosts' second visits at random later times.

    `seed` (≥ 1) picks the office — its people and who comes back — so that a figure can be
    checked on offices it was never looked at on; seed 1 is the office of record."""
    if seed < 1:
        raise ValueError("the office seed starts at 1")
    rng = np.random.default_rng(seed)
    first_person = FIRST_PERSON_SEED + (seed - 1) * OFFICE_SPAN
    visits = [Visit(first_person + i, f"H{i:05d}", tuple(range(views))) for i in range(workers)]
    ghosts: Iterable[int] = rng.choice(workers, size=int(round(workers * reenrolled)), replace=False) if workers else []
    for k, index in enumerate(sorted(int(g) for g in ghosts)):
        first = visits.index(next(v for v in visits if v.person == first_person + index))
        at = int(rng.integers(first + 1, len(visits) + 1))
        visits.insert(at, Visit(first_person + index, f"G{k:05d}", (views,), ghost_of=f"H{index:05d}"))
    return visits


class Captures(Mapping[Tuple[int, int, int], Any]):
    """The day's impressions, (person, finger, impression) → `Template`, kept as template records.

    Why records: as objects, the 4,100 impressions of a 200-worker day hold about 60 MB (minutiae
    as Python objects) that no office holds beside its gallery — the store keeps records too — and
    that would count in the bench's peak memory as if the check needed them."""

    def __init__(self, records: Dict[Tuple[int, int, int], bytes]) -> None:
        self._records = records

    def __getitem__(self, key: Tuple[int, int, int]) -> Any:
        from siaptui.biometrics.template import Template

        return Template.from_bytes(self._records[key])

    def __iter__(self) -> Iterator[Tuple[int, int, int]]:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)


def _templates(visits: Sequence[Visit], processes: int) -> Captures:
    jobs = [(v.person, finger, v.impressions) for v in visits for finger in FINGERS]
    with ProcessPoolExecutor(max_workers=max(1, processes)) as pool:
        results = list(pool.map(_finger_templates, jobs, chunksize=4))
    return Captures({(person, finger, n): data for (person, finger, impressions), found in zip(jobs, results)
                      for n, data in zip(impressions, found)})


def run_day(visits: Sequence[Visit], templates: Mapping[Tuple[int, int, int], Any], seed: int = 1) -> Dict[str, Any]:
    """Search every visit against the office so far, then enroll it; count what happened."""
    from siaptui.biometrics.match import as_prepared
    from siaptui.biometrics.person import PersonGallery, alarm_threshold

    rng = np.random.default_rng(seed)
    gallery = PersonGallery()
    false_alarms = caught = missed = 0
    search_ms: List[float] = []
    ranks: List[int] = []
    compared = 0
    tail_counts = {level: 0 for level in TAIL_LEVELS}
    finger_llrs: List[float] = []
    for visit in visits:
        start = time.perf_counter()
        prepared = {f: as_prepared(templates[(visit.person, f, visit.impressions[0])]) for f in FINGERS}
        candidates = gallery.candidates(prepared, exclude={visit.nss})
        search_ms.append((time.perf_counter() - start) * 1000)
        flagged = [c for c in candidates if c.flagged]
        if visit.ghost_of:
            ranks.append(_preselect_rank(gallery, prepared, visit))
            if any(c.person == visit.ghost_of for c in flagged):
                caught += 1
            else:
                missed += 1
        else:
            false_alarms += 1 if flagged else 0
            compared += len(gallery) * 2
            for level in TAIL_LEVELS:
                tail_counts[level] += sum(1 for c in candidates if c.score >= level)
            finger_llrs += _random_impostor_llrs(gallery, prepared, visit.nss, rng)
        for finger in FINGERS:
            for n in visit.impressions:
                gallery.add(visit.nss, finger, templates[(visit.person, finger, n)])
    honest = sum(1 for v in visits if not v.ghost_of)
    return {
        "workers": honest,
        "honest": honest,
        "false_alarms": false_alarms,
        "reenrolled": caught + missed,
        "caught": caught,
        "search_ms_median": round(statistics.median(search_ms), 1) if search_ms else 0.0,
        "ghost_preselect_rank_worst": max(ranks, default=None),
        **tail_projection(tail_counts, compared, finger_llrs, alarm_threshold(OFFICE)),
    }


def _preselect_rank(gallery: Any, probes: Dict[int, Any], visit: Visit) -> int:
    """Rank (1 = first) of the ghost's first identity in the pre-selection, the better hypothesis."""
    ranked = gallery.preselect(probes, {visit.nss}, keep=len(gallery))
    return int(min(names.index(visit.ghost_of) + 1 for names in ranked.values()))


def _random_impostor_llrs(gallery: Any, probes: Dict[int, Any], own: str, rng: np.random.Generator) -> List[float]:
    """Finger evidence against `RANDOM_PERSONS` enrolled persons drawn at random, both
    hypotheses, exactly scored: an unbiased sample of impostor fingers (the candidates the
    pre-selection keeps are the most alike ones, a biased sample)."""
    from siaptui.biometrics.person import HYPOTHESES

    names = [name for name in gallery.persons() if name != own]
    if not names:
        return []
    picked = rng.choice(len(names), size=min(RANDOM_PERSONS, len(names)), replace=False)
    return [f.llr for i in picked for h in HYPOTHESES for f in gallery.compare(names[int(i)], probes, h, 0.0).fingers]


def tail_projection(tail_counts: Dict[float, int], compared: int, finger_llrs: Sequence[float],
                    threshold: float) -> Dict[str, Any]:
    """The measured person-level impostor tail against the model, and what it projects at
    `OFFICE` workers (method: docs/bench/ghost.md, "Projected false alarms").

    Two ratios at each level: measured ÷ model (everything the synthetic office does
    differently from the calibration), and measured ÷ independent (the tail these very fingers
    would give if an impostor's fingers were independent: the dependence between fingers alone).
    """
    from siaptui.biometrics.person import HYPOTHESES, independent_tail

    if not compared:
        return {}
    fingers = len(FINGERS)
    measured = {level: tail_counts[level] / compared for level in TAIL_LEVELS}
    model = {level: 10 ** (-level / 10) for level in TAIL_LEVELS}
    independent = {level: independent_tail(finger_llrs, fingers, level) for level in TAIL_LEVELS}
    to_independent = max(measured[level] / independent[level] if independent[level] > 0 else math.inf
                         for level in TAIL_LEVELS)
    comparisons = OFFICE * len(HYPOTHESES)

    def projected(tail: float) -> Optional[float]:
        if math.isinf(to_independent):
            return None
        return round(1 - (1 - min(1.0, to_independent * tail)) ** comparisons, 6)

    return {
        "tail_ratio": {str(level): round(measured[level] / model[level], 3) for level in TAIL_LEVELS},
        "tail_ratio_to_independent": {str(level): round(measured[level] / independent[level], 3)
                                      if independent[level] > 0 else None for level in TAIL_LEVELS},
        "finger_tail_ratio": _finger_tail_ratio(finger_llrs),
        "impostor_fingers_sampled": len(finger_llrs),
        "projected_false_alarm_rate_10k": projected(independent_tail(finger_llrs, fingers, threshold)),
        "projected_false_alarm_rate_10k_calibrated_fingers": projected(10 ** (-threshold / 10)),
        "alarm_threshold_10k": round(threshold, 1),
    }


def _finger_tail_ratio(finger_llrs: Sequence[float]) -> Dict[str, Optional[float]]:
    """Measured ÷ model share of impostor fingers reaching calibrated scores 20 and 30."""
    from siaptui.biometrics.person import finger_llr

    if not finger_llrs:
        return {}
    values = np.asarray(finger_llrs)
    return {str(s): round(float(np.mean(values >= finger_llr(s) - 1e-9)) / 10 ** (-s / 10), 3) for s in (20.0, 30.0)}


def timing(templates: Mapping[Tuple[int, int, int], Any], visits: Sequence[Visit], persons: int,
           seed: int) -> Dict[str, Any]:
    """Search time and memory with `persons` enrolled — moved copies of the day's enrolled
    fingers — and whether each ghost's fresh fingers still find their own copies among them."""
    from siaptui.bench.speed import transformed
    from siaptui.biometrics.person import PersonGallery

    rng = np.random.default_rng(seed)
    first = {v.person: v.impressions[0] for v in visits if not v.ghost_of}
    sources = list(first.items())
    gallery = PersonGallery()
    owner = {}
    for i in range(persons):
        person, n = sources[i % len(sources)]
        owner[f"T{i}"] = person
        for finger in FINGERS:
            gallery.add(f"T{i}", finger, transformed(templates[(person, finger, n)], rng))
    probes = [{f: templates[(person, f, n)] for f in FINGERS} for person, n in sources[:TIMING_SEARCHES]]
    gallery.search(probes[0])
    cpu = []
    for probe in probes:
        start = time.process_time()
        gallery.search(probe)
        cpu.append((time.process_time() - start) * 1000)
    ghosts = [v for v in visits if v.ghost_of]
    found = 0
    for ghost in ghosts:
        hit = gallery.search({f: templates[(ghost.person, f, ghost.impressions[0])] for f in FINGERS}, top=1)
        found += 1 if hit and hit[0].flagged and owner[hit[0].person] == ghost.person else 0
    return {"timing_persons": persons, "timing_search_cpu_ms_median": round(statistics.median(cpu), 1),
            "timing_ghosts_caught": f"{found}/{len(ghosts)}", "gallery_mb": round(gallery.nbytes / 1e6, 1)}


def main(args: Any, settings: Any) -> int:
    """Entry point of `siaptui bench office`."""
    started = time.perf_counter()
    visits = plan(args.workers, args.reenrolled, args.views, args.seed)
    templates = _templates(visits, args.processes)
    generated_s = time.perf_counter() - started
    result: Dict[str, Any] = {"bench": "office", **run_day(visits, templates, args.seed)}
    if args.timing_gallery:
        result.update(timing(templates, visits, args.timing_gallery, args.seed))
    result.update({"views": args.views, "generate_s": round(generated_s, 1),
                   "seconds": round(time.perf_counter() - started, 1), "peak_rss_mb": round(peak_rss_mb(), 1),
                   "machine": machine()})
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        for key, value in result.items():
            print(f"{key:34} {value}", file=sys.stdout)
    return 0
