"""The store bench runs end to end on tiny sizes (its figures go to docs/bench/store.md)."""

from __future__ import annotations

import argparse
import json

from siaptui.bench.store import main


def test_bench_store_reports_every_figure(capsys, tmp_path) -> None:
    args = argparse.Namespace(items=5, gallery=20, audit=5, dir=str(tmp_path), json=True)
    assert main(args, None) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["gallery_templates"] == 20 + 50
    assert figures["audit_entries"] == 6
    for key in ("enqueue", "claim_decrypt_ack", "gallery_enroll_one_commit"):
        assert figures[key]["p50_ms"] > 0
    assert figures["machine"]["nproc"] >= 1


def test_bench_store_puts_a_postgresql_server_beside_sqlite_and_leaves_it_clean(capsys, tmp_path, pg_url) -> None:
    import psycopg

    args = argparse.Namespace(items=3, gallery=10, audit=3, dir=str(tmp_path), json=True, url=pg_url)
    assert main(args, None) == 0
    figures = json.loads(capsys.readouterr().out)
    for backend in ("sqlite", "postgresql"):
        assert figures[backend]["gallery_templates"] == 10 + 50
        assert figures[backend]["gallery_views_loaded"] == 60
        for key in ("enqueue", "claim_decrypt_ack", "search_1n"):
            assert figures[backend][key]["p50_ms"] > 0
    with psycopg.connect(pg_url) as conn:
        left = conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'siaptui_bench%'").fetchall()
    assert left == []
    args.json = False
    assert main(args, None) == 0
    header, *rows = capsys.readouterr().out.splitlines()
    assert header.split() == ["sqlite", "postgresql"]
    assert any(row.startswith("enqueue.p50_ms") for row in rows)
