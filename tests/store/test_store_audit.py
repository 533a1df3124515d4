"""The audit log: hash chain catches edits and deletions; no biometrics, CURP/NSS masked."""

from __future__ import annotations

from pathlib import Path

import pytest

from siaptui.store.audit import GENESIS, REMOVED, _chain, mask
from siaptui.store.db import open_store

CURP = "HEGT761003MDFRNN09"
NSS = "92919084431"


def _filled(open_any) -> None:
    with open_any() as store:
        store.audit.record("clerk:ana", "consent.recorded", NSS, aviso="2025-1")
        store.audit.record("clerk:ana", "enrollment.queued", NSS, fingers=[2, 7])
        store.audit.record("clerk:ana", "enrollment.sent", NSS, folio="F-1")
        assert store.audit.verify()


def _tamper(open_any, *statements: str) -> bool:
    """Edit the log as someone with another tool would: triggers dropped, rows changed."""
    with open_any() as store:
        conn = store._open_connection()
    if store.shared:
        conn.execute("DROP TRIGGER audit_no_change ON audit")
    else:
        conn.execute("DROP TRIGGER audit_no_update")
        conn.execute("DROP TRIGGER audit_no_delete")
    for statement in statements:
        conn.execute(statement)
    conn.close()
    with open_any() as store:
        return store.audit.verify()


def test_untouched_log_verifies_and_the_app_cannot_edit_it(open_any) -> None:
    _filled(open_any)
    with open_any() as store:
        with pytest.raises(store.driver_errors):
            store.connection().execute("UPDATE audit SET actor = 'x' WHERE id = 1")
        with pytest.raises(store.driver_errors):
            store.connection().execute("DELETE FROM audit WHERE id = 3")
        assert store.audit.verify()
        assert {e["station"] for e in store.audit.entries()} == {store.station}


@pytest.mark.parametrize("statements", [
    ["UPDATE audit SET actor = 'clerk:bob' WHERE id = 2"],
    ["UPDATE audit SET details = '{\"fingers\":[2]}' WHERE id = 2"],
    ["DELETE FROM audit WHERE id = 2"],
    ["DELETE FROM audit WHERE id = 3"],  # the newest entry: caught by the head in meta
    ["DELETE FROM audit"],
], ids=["edit-actor", "edit-details", "delete-middle", "delete-last", "delete-all"])
def test_tampering_with_the_file_is_detected(open_any, statements: list[str]) -> None:
    _filled(open_any)
    assert _tamper(open_any, *statements) is False


def test_entries_written_before_stations_were_recorded_still_verify(tmp_path: Path) -> None:
    """An entry with no station (written by an older siaptui) hashes as it did then."""
    with open_store(tmp_path / "siaptui.db") as store:
        store.audit.record("clerk", "consent.recorded", NSS)
        older = {k: v for k, v in next(store.audit.entries()).items() if k != "station"}
        conn = store._open_connection()
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit SET station = NULL, hash = ? WHERE id = 1", (_chain(GENESIS, older),))
    row = conn.execute("SELECT id, hash FROM audit").fetchone()
    conn.execute("UPDATE meta SET value = ? WHERE key = 'audit_head'", (f"{row[0]}:{row[1]}",))
    conn.close()
    with open_store(tmp_path / "siaptui.db") as store:
        store.audit.record("clerk", "enrollment.queued", NSS)
        assert [e.get("station") for e in store.audit.entries()] == [None, store.station]
        assert store.audit.verify()


def test_no_biometric_data_and_masked_identity(open_any) -> None:
    numpy = pytest.importorskip("numpy")
    with open_any() as store:
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
