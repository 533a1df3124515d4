"""Real sandbox portal for the sender tests: extra synthetic workers, valid requests, e.firma.

The sandbox seeds a handful of demo workers and refuses a second enrollment of the same worker,
so tests that need many enrollments register extra synthetic workers (valid NSS/CURP check
digits) on the demo employer's roster, in the sandbox's own SQLite file before serving it.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

_CURP_ALPHABET = "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ"


def curp_with_check(first17: str) -> str:
    total = sum(_CURP_ALPHABET.index(c) * (18 - i) for i, c in enumerate(first17))
    return first17 + str((10 - total % 10) % 10)


def nss_with_check(first10: str) -> str:
    total = 0
    for i, c in enumerate(first10):
        d = int(c) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return first10 + str((10 - total % 10) % 10)


def synthetic_workers(count: int) -> list[dict[str, str]]:
    """Distinct, well-formed (NSS, CURP) pairs not among the sandbox's demo workers (up to 3,360)."""
    workers = []
    for n in range(count):
        digit, rest = divmod(n, 336)
        month, day = 1 + rest // 28, 1 + rest % 28
        curp = curp_with_check(f"ROCA85{month:02d}{day:02d}HJCRPN{digit}")
        nss = nss_with_check(f"459085{n:04d}")
        workers.append({"nss": nss, "curp": curp, "name": f"TRABAJADOR PRUEBA {n}"})
    return workers


def register_workers(sandbox_db: Path, workers: list[dict[str, str]]) -> None:
    """Add workers to the sandbox registry and to the demo employer's roster (their altas),
    in the sandbox's own file before it serves."""
    from siaptui.portal.sandbox import seed
    from siaptui.portal.sandbox.store import SandboxStore

    store = SandboxStore(sandbox_db)
    try:
        for worker in workers:
            store.add_worker(worker["nss"], worker["curp"], worker["name"])
            store.add_alta(seed.DEMO_EMPLOYERS[0]["rfc"], worker["nss"], date.today())
    finally:
        store.close()


def enrollment(nss: str, curp: str, seed: int, fingers: tuple[int, ...] = (2,)) -> dict[str, Any]:
    """An EnrollmentRequest.to_dict() with random-minutiae ISO 19794-2 templates (no two alike)."""
    from siaptui.biometrics.template import Minutia, Template, to_iso19794_2
    from siaptui.portal.models import CaptureDevice, ConsentRecord, EnrollmentRequest, FingerRecord

    rng = random.Random(seed)
    records = []
    for position in fingers:
        minutiae = [Minutia(rng.uniform(20, 280), rng.uniform(20, 380), rng.uniform(0, 6.28),
                            rng.choice(("ending", "bifurcation")), 80) for _ in range(30)]
        template = Template(width=300, height=400, dpi=500, minutiae=minutiae, quality=80)
        records.append(FingerRecord(position=position, template=to_iso19794_2(template, position), quality=80))
    moment = datetime(2026, 1, 5, 10, 0, tzinfo=timezone.utc)
    return EnrollmentRequest(
        nss=nss, curp=curp, fingers=records, device=CaptureDevice(model="sim", driver="sim"),
        consent=ConsentRecord(aviso_version="2025-1", accepted_at=moment, recorded_by="DEPM800101AB2"),
        captured_at=moment).to_dict()


def sandbox_modules() -> Any:
    """The sandbox server module."""
    from siaptui.portal.sandbox import server

    return server
