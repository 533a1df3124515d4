"""The audit log: hash chain catches edits and deletions; no biometrics, CURP/NSS masked."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from siaptui.store.audit import REMOVED, mask
from siaptui.store.db import open_store

CURP = "HEGT761003MDFRNN09"
NSS = "92919084431"


def _filled(tmp_path: Path) -> Path:
    path = tmp_path / "siaptui.db"
    with open_store(path) as store:
        store.audit.record("clerk:ana", "consent.recorded", NSS, aviso="2025-1")
        store.audit.record("clerk:ana", "enrollment.queued", NSS, fingers=[2, 7])
        store.audit.record("clerk:ana", "enrollment.sent", NSS, folio="F-1")
        assert store.audit.verify()
    return path


def _tamper(path: Path, *statements: str) -> bool:
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("DROP TRIGGER audit_no_delete")
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()
    with open_store(path) as store:
        return store.audit.verify()


def test_untouched_log_verifies_and_the_app_cannot_edit_it(tmp_path: Path) -> None:
    path = _filled(tmp_path)
    with open_store(path) as store:
        with pytest.raises(sqlite3.DatabaseError):
            store.connection().execute("UPDATE audit SET actor = 'x' WHERE id = 1")
        with pytest.raises(sqlite3.DatabaseError):
            store.connection().execute("DELETE FROM audit WHERE id = 3")
        assert store.audit.verify()


@pytest.mark.parametrize("statements", [
    ["UPDATE audit SET actor = 'clerk:bob' WHERE id = 2"],
    ["UPDATE audit SET details = '{\"fingers\":[2]}' WHERE id = 2"],
    ["DELETE FROM audit WHERE id = 2"],
    ["DELETE FROM audit WHERE id = 3"],  # the newest entry: caught by the head in meta
    ["DELETE FROM audit"],
], ids=["edit-actor", "edit-details", "delete-middle", "delete-last", "delete-all"])
def test_tampering_with_the_file_is_detected(tmp_path: Path, statements: list[str]) -> None:
    assert _tamper(_filled(tmp_path), *statements) is False


def test_no_biometric_data_and_masked_identity(tmp_path: Path) -> None:
    numpy = pytest.importorskip("numpy")
    with open_store(tmp_path / "siaptui.db") as store:
        store.audit.record("clerk", "capture", f"{NSS} / {CURP}", template=b"\x01\x02", raw=b"\x00" * 10,
                           image=numpy.zeros((4, 4), dtype="uint8"), pixels=[1, 2, 3],
                           note=f"CURP {CURP} NSS {NSS}", blob="QUJD" * 100, quality=71)
        entry = list(store.audit.entries())[-1]
        raw = store.connection().execute("SELECT subject || details FROM audit").fetchone()[0]
    assert entry["subject"] == "9291*****31 / HEGT7610******09"
    details = entry["details"]
    assert details["template"] == details["raw"] == details["image"] == details["pixels"] == details["blob"] == REMOVED
    assert details["note"] == "CURP HEGT7610******09 NSS 9291*****31" and details["quality"] == 71
    assert CURP not in raw and NSS not in raw


def test_mask_leaves_other_text_alone() -> None:
    assert mask("folio F-123, 3 dedos") == "folio F-123, 3 dedos"
    assert mask("nss=12345678901;") == "nss=1234*****01;"
