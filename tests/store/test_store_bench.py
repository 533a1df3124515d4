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
