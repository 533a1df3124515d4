"""`siaptui bench store`: what the local store costs on this PC.

Why measure it: every enrollment waits for `enqueue` (a commit fsync'd by synchronous=FULL)
before the clerk sees "guardado"; the duplicate search decrypts the whole gallery when it
starts; an ARCO cancellation rewrites the file (VACUUM); a passphrase costs one scrypt per
start.  On an old office PC with a slow disk these are the numbers that decide whether the
screen feels instant.

Everything runs in a throw-away folder (`--dir`, default a temp dir in the system temp folder —
note its file system: fsync on tmpfs is free, on a real disk it is not).  Data is synthetic:
enrollment requests with ten ISO-sized templates (random bytes of 250 B each) and gallery
templates of 40 random minutiae in our compact format, which the 1:N search really loads.

`--url postgresql://…` measures an office server too, side by side with the SQLite file: the
same figures, each store in its own throw-away schema of that database (dropped afterwards),
so the bench never touches an office's own tables.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
import uuid
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


class SqliteTarget:
    """Stores in a folder: one database file per name."""

    name = "sqlite"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def open(self, which: str, passphrase: Optional[str] = None) -> Any:
        from siaptui.store.db import open_store

        return open_store(self.folder / which / "siaptui.db", passphrase=passphrase)

    def size(self, store: Any) -> int:
        store.connection().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return int(store.path.stat().st_size)

    def close(self) -> None:
        """The folder is the caller's temporary directory."""


class PostgresTarget:
    """Stores on a PostgreSQL server: one throw-away schema per name, dropped by close()."""

    name = "postgresql"

    def __init__(self, url: str, folder: Path) -> None:
        self.url = url
        self.folder = folder
        self.prefix = f"siaptui_bench_{uuid.uuid4().hex[:8]}"
        self.schemas: List[str] = []

    def _admin(self) -> Any:
        from siaptui.store.postgres import connect

        return connect(self.url)

    def open(self, which: str, passphrase: Optional[str] = None) -> Any:
        from psycopg.conninfo import make_conninfo

        from siaptui.store.db import open_store

        schema = f"{self.prefix}_{which}"
        if schema not in self.schemas:
            admin = self._admin()
            try:
                admin.execute(f"CREATE SCHEMA {schema}")
            finally:
                admin.close()
            self.schemas.append(schema)
        url = make_conninfo(self.url, options=f"-c search_path={schema}")
        return open_store(url=url, key_dir=self.folder / which, passphrase=passphrase)

    def size(self, store: Any) -> int:
        row = store.connection().execute(
            "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r'"
        ).fetchone()
        return int(row[0])

    def close(self) -> None:
        admin = self._admin()
        try:
            for schema in self.schemas:
                admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        finally:
            admin.close()


def _templates(count: int, seed: int = 7) -> List[Any]:
    """`count` synthetic templates of 40 minutiae (different prints, same shape as real ones)."""
    from siaptui.biometrics.template import Minutia, Template

    rng = random.Random(seed)
    return [Template(width=300, height=400, dpi=500, quality=70,
                     minutiae=[Minutia(rng.uniform(20, 280), rng.uniform(20, 380), rng.uniform(0, 6.28),
                                       rng.choice(("ending", "bifurcation")), 80) for _ in range(40)])
            for _ in range(count)]


def run(target: Any, *, items: int = 200, gallery: int = 10000, audit: int = 1000) -> Dict[str, Any]:
    """Measure one backend; returns the figures as a dict."""
    from siaptui.biometrics.person import PersonGallery, search_one

    results: Dict[str, Any] = {}
    results["open_new_ms"] = round(_timed(lambda: target.open("main").close()), 1)
    results["open_existing_ms"] = round(_timed(lambda: target.open("main").close()), 1)
    target.open("wrapped", passphrase="frase de prueba").close()
    results["open_with_passphrase_ms"] = round(
        _timed(lambda: target.open("wrapped", passphrase="frase de prueba").close()), 1)

    store = target.open("main")
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

        prints = _templates(gallery + 1)
        single = [_timed(partial(store.gallery.enroll, f"{n:011d}", 1, prints[n % len(prints)].to_bytes()))
                  for n in range(50)]
        results["gallery_enroll_one_commit"] = _percentiles(single)
        start = time.perf_counter()
        with store.transaction():  # filling a big gallery at once: one commit
            for n in range(gallery):
                store.gallery.enroll(f"{n:011d}", 2, prints[n].to_bytes())
        results["gallery_fill_per_template_ms"] = round((time.perf_counter() - start) * 1000 / gallery, 3)
        start = time.perf_counter()
        count = sum(1 for _ in store.gallery.templates())
        results["gallery_decrypt_all_ms"] = round((time.perf_counter() - start) * 1000, 1)
        results["gallery_templates"] = count
        people = PersonGallery()
        start = time.perf_counter()
        results["gallery_views_loaded"] = store.gallery.load_into(people)[0]
        results["gallery_load_ms"] = round((time.perf_counter() - start) * 1000, 1)
        searches = [_timed(partial(search_one, people, {2: prints[n * 7 % gallery]}, exclude={"nuevo"}))
                    for n in range(10)]
        results["search_1n"] = _percentiles(searches) | {"persons": len(people)}
        results["db_bytes"] = target.size(store)
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


def _flat(figures: Dict[str, Any], prefix: str = "") -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for key, value in figures.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def side_by_side(by_backend: Dict[str, Dict[str, Any]]) -> List[str]:
    """Text rows `figure  sqlite  postgresql` for the terminal."""
    flat = {name: _flat(figures) for name, figures in by_backend.items()}
    names = list(flat)
    keys = list(dict.fromkeys(k for figures in flat.values() for k in figures))
    width = max(len(k) for k in keys)
    rows = [f"{'':<{width}}  " + "  ".join(f"{n:>12}" for n in names)]
    rows += [f"{k:<{width}}  " + "  ".join(f"{str(flat[n].get(k, '-')):>12}" for n in names) for k in keys]
    return rows


def main(args: argparse.Namespace, settings: Any = None) -> int:
    """Handler for `siaptui bench store` (flags: --items, --gallery, --audit, --dir, --url, --json)."""
    items = int(getattr(args, "items", 200) or 200)
    gallery = int(getattr(args, "gallery", 10000) or 10000)
    audit = int(getattr(args, "audit", 1000) or 1000)
    chosen: Optional[str] = getattr(args, "dir", None)
    url: Optional[str] = getattr(args, "url", None)
    by_backend: Dict[str, Dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="siaptui-bench-store-", dir=chosen) as tmp:
        targets: List[Any] = [SqliteTarget(Path(tmp) / "sqlite")]
        if url:
            targets.append(PostgresTarget(url, Path(tmp) / "postgresql"))
        for target in targets:
            try:
                by_backend[target.name] = run(target, items=items, gallery=gallery, audit=audit)
            finally:
                target.close()
        folder = str(Path(tmp).parent)
    import sqlite3

    figures: Dict[str, Any] = dict(by_backend) if url else dict(by_backend["sqlite"])
    figures["folder"] = folder
    figures["machine"] = {**machine(), "sqlite": sqlite3.sqlite_version}
    if url:
        from siaptui.store.postgres import describe

        figures["machine"]["postgresql"] = describe(url)
    if getattr(args, "json", False):
        print(json.dumps(figures, indent=2))
    elif url:
        print("\n".join(side_by_side(by_backend)))
        print(f"folder: {figures['folder']}")
        print(f"machine: {figures['machine']}")
    else:
        for key, value in figures.items():
            print(f"{key}: {value}")
    return 0
