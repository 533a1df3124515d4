"""`siaptui bench store`: what the local store costs on this PC.

Why measure it: every enrollment waits for `enqueue` (a commit fsync'd by synchronous=FULL)
before the clerk sees "guardado"; the duplicate search decrypts the whole gallery when it
starts; an ARCO cancellation rewrites the file (VACUUM); a passphrase costs one scrypt per
start.  On an old office PC with a slow disk these are the numbers that decide whether the
screen feels instant.

Everything runs in a throw-away folder (`--dir`, default a temp dir in the system temp folder —
note its file system: fsync on tmpfs is free, on a real disk it is not).  Data is synthetic:
enrollment requests with ten ISO-sized templates (random bytes of 250 B each) and gallery
templates of 332 B (our compact format with 40 minutiae).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from siaptui.bench import machine


def _percentiles(samples_ms: List[float]) -> Dict[str, Any]:
    ordered = sorted(samples_ms)
    return {"p50_ms": round(statistics.median(ordered), 3),
            "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 3),
            "mean_ms": round(statistics.fmean(ordered), 3)}


def _timed(action: Callable[[], Any]) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def _request(n: int) -> Dict[str, Any]:
    import base64

    fingers = [{"position": p, "template": base64.b64encode(os.urandom(250)).decode("ascii"), "quality": 70}
               for p in range(1, 11)]
    return {"nss": f"{n:011d}", "curp": "ROCA850101HJCRPN08", "fingers": fingers,
            "device": {"model": "bench"}, "consent": {"aviso_version": "1"}, "captured_at": "2026-01-01T00:00:00Z"}


def run(folder: Path, *, items: int = 200, gallery: int = 10000, audit: int = 1000) -> Dict[str, Any]:
    """Measure in `folder` (must be empty or absent); returns the figures as a dict."""
    from siaptui.store.db import open_store

    folder.mkdir(parents=True, exist_ok=True)
    results: Dict[str, Any] = {}
    results["open_new_ms"] = round(_timed(lambda: open_store(folder / "siaptui.db").close()), 1)
    results["open_existing_ms"] = round(_timed(lambda: open_store(folder / "siaptui.db").close()), 1)
    wrapped = folder / "wrapped"
    wrapped.mkdir(exist_ok=True)
    open_store(wrapped / "siaptui.db", passphrase="frase de prueba").close()
    results["open_with_passphrase_ms"] = round(
        _timed(lambda: open_store(wrapped / "siaptui.db", passphrase="frase de prueba").close()), 1)

    store = open_store(folder / "siaptui.db")
    try:
        requests = [_request(n) for n in range(items)]
        enqueue = [_timed(partial(store.outbox.enqueue, r, worker_nss=r["nss"], employer_rfc="AAA010101AAA",
                                  training=True)) for r in requests]
        results["enqueue"] = _percentiles(enqueue) | {"items": items, "request_bytes": len(json.dumps(requests[0]))}
        receipt = {"folio": "F", "acuse": "a" * 200, "received_at": "2026-01-01T00:00:00Z", "enrollment_id": "E"}

        def claim_and_ack() -> None:
            item = store.outbox.claim_due("bench")
            if item is None:
                raise RuntimeError("the bench claims no more items than it enqueued")
            store.outbox.request(item.id)
            store.outbox.mark_sent(item.id, receipt)

        cycle = [_timed(claim_and_ack) for _ in range(items)]
        results["claim_decrypt_ack"] = _percentiles(cycle)

        template = os.urandom(332)
        single = [_timed(partial(store.gallery.enroll, f"{n:011d}", 1, template)) for n in range(50)]
        results["gallery_enroll_one_commit"] = _percentiles(single)
        start = time.perf_counter()
        with store.transaction():  # filling a big gallery at once: one commit
            for n in range(gallery):
                store.gallery.enroll(f"{n:011d}", 2, template)
        results["gallery_fill_per_template_ms"] = round((time.perf_counter() - start) * 1000 / gallery, 3)
        start = time.perf_counter()
        count = sum(1 for _ in store.gallery.templates())
        results["gallery_decrypt_all_ms"] = round((time.perf_counter() - start) * 1000, 1)
        results["gallery_templates"] = count
        store.connection().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        results["db_bytes"] = (folder / "siaptui.db").stat().st_size
        results["arco_delete_worker_ms"] = round(_timed(lambda: store.gallery.delete_worker(f"{gallery // 2:011d}")), 1)

        start = time.perf_counter()
        for n in range(audit):
            store.audit.record("clerk", "bench.action", f"{n:011d}", n=n, note="x" * 40)
        results["audit_record_ms"] = round((time.perf_counter() - start) * 1000 / audit, 3)
        results["audit_verify_ms"] = round(_timed(store.audit.verify), 1)
        results["audit_entries"] = audit + 1
    finally:
        store.close()
    return results


def main(args: argparse.Namespace, settings: Any = None) -> int:
    """Handler for `siaptui bench store` (flags: --items, --gallery, --audit, --dir, --json)."""
    items = int(getattr(args, "items", 200) or 200)
    gallery = int(getattr(args, "gallery", 10000) or 10000)
    audit = int(getattr(args, "audit", 1000) or 1000)
    chosen: Optional[str] = getattr(args, "dir", None)
    with tempfile.TemporaryDirectory(prefix="siaptui-bench-store-", dir=chosen) as tmp:
        figures = run(Path(tmp) / "store", items=items, gallery=gallery, audit=audit)
        figures["folder"] = str(Path(tmp).parent)
    import sqlite3

    figures["machine"] = {**machine(), "sqlite": sqlite3.sqlite_version}
    if getattr(args, "json", False):
        print(json.dumps(figures, indent=2))
    else:
        for key, value in figures.items():
            print(f"{key}: {value}")
    return 0
