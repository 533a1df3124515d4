"""Damaged databases: really truncated or overwritten files stop with a Spanish message naming the
file and the way out, and `siaptui store check|recover` tell and save what can be saved."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import pytest

from siaptui import cli
from siaptui.errors import describe
from siaptui.store.db import Store, open_store
from siaptui.store.errors import StoreError
from siaptui.store.recover import recover
from tests.store.helpers import NSS, RFC, request_dict

ITEMS = 60


def _filled(path: Path) -> list[str]:
    """A store with ITEMS outbox items of ~2 KB each (several pages); returns their keys."""
    keys = []
    with open_store(path) as store:
        for _ in range(ITEMS):
            item = store.outbox.enqueue(request_dict(template=os.urandom(1500)), worker_nss=NSS,
                                        employer_rfc=RFC, training=True)
            keys.append(item.idempotency_key)
        store.gallery.enroll(NSS, 2, os.urandom(400))
        store.audit.record("clerk", "test.filled", "", n=ITEMS)
    return keys


def _page_of(path: Path, marker: bytes) -> int:
    """The table leaf page (type 0x0d) holding `marker` — not the index page that repeats it."""
    data = path.read_bytes()
    page_size = int.from_bytes(data[16:18], "big")
    offset = data.find(marker)
    while offset >= 0:
        page = offset // page_size
        if page > 0 and data[page * page_size] == 0x0D:
            return page
        offset = data.find(marker, offset + 1)
    raise AssertionError("marker not in a table leaf page")


def _garble_page(path: Path, page: int) -> None:
    data = bytearray(path.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    data[page * page_size:(page + 1) * page_size] = os.urandom(page_size)
    path.write_bytes(bytes(data))


def _assert_damaged_message(error: StoreError, path: Path) -> None:
    assert error.code == "store_damaged"
    message, fix = describe(error)
    assert str(path) in message + fix and "dañada" in message
    assert "siaptui store check" in fix and "siaptui store recover" in fix
    assert "malformed" not in message + fix and "sqlite" not in (message + fix).lower()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_truncated_database_stops_at_open_and_recover_saves_the_readable_rows(tmp_path: Path, capsys) -> None:
    path = tmp_path / "siaptui.db"
    _filled(path)
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.truncate(size // 2)
    damaged_sha = _sha(path)
    with pytest.raises(StoreError) as caught:
        open_store(path)
    _assert_damaged_message(caught.value, path)

    assert cli.main(["store", "check", "--db", str(path)]) == 1
    out = capsys.readouterr().out
    assert "está dañada" in out and "siaptui store recover" in out

    assert cli.main(["store", "recover", "--db", str(path)]) == 1  # 1: something was lost
    out, err = capsys.readouterr()
    assert not err, err
    assert "rescatados" in out and "se perdieron" in out
    asides = list(tmp_path.glob("siaptui.damaged-*.db"))
    assert len(asides) == 1 and _sha(asides[0]) == damaged_sha  # kept aside, byte for byte
    assert str(asides[0]) in out

    assert cli.main(["store", "check", "--db", str(path)]) == 0
    with open_store(path) as store:  # the recovered file opens with the same key
        items = store.outbox.items()
        assert 0 < len(items) < ITEMS
        assert all(store.outbox.request(item.id)["nss"] == NSS for item in items)
        assert (path.stat().st_mode & 0o777) == 0o600


def test_an_overwritten_page_is_reported_and_only_its_rows_are_lost(tmp_path: Path) -> None:
    path = tmp_path / "siaptui.db"
    keys = _filled(path)
    victim = ITEMS // 2
    _garble_page(path, _page_of(path, keys[victim].encode("ascii")))
    with pytest.raises(StoreError) as caught:
        open_store(path)
    _assert_damaged_message(caught.value, path)

    report = recover(path)
    outbox = next(table for table in report.tables if table.name == "outbox")
    assert not report.complete and outbox.lost_ranges
    assert any(first <= victim + 1 <= last for first, last in outbox.lost_ranges)  # ids are 1-based
    assert ITEMS - 4 <= outbox.saved < ITEMS  # one page holds one or two items
    with open_store(path) as store:
        kept = {item.idempotency_key for item in store.outbox.items()}
        assert keys[victim] not in kept
        assert keys[0] in kept and keys[-1] in kept  # rows after the bad page are not given up
        assert len(store.gallery) == 1
        assert [entry["action"] for entry in store.audit.entries()] == ["test.filled"]


def test_garbage_instead_of_a_database_is_damaged_and_recover_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "siaptui.db"
    _filled(path)
    path.write_bytes(os.urandom(8192))
    with pytest.raises(StoreError) as caught:
        open_store(path)
    _assert_damaged_message(caught.value, path)
    report = recover(path)
    assert all(table.saved == 0 for table in report.tables) and not report.complete
    second = recover(path)  # a second recovery in the same second finds a free name
    assert second.damaged_copy != report.damaged_copy
    assert report.damaged_copy.exists() and second.damaged_copy.exists()


def test_damage_found_while_running_is_a_store_error_not_a_raw_sqlite_error(tmp_path: Path) -> None:
    path = tmp_path / "siaptui.db"
    keys = _filled(path)
    _garble_page(path, _page_of(path, keys[ITEMS // 2].encode("ascii")))
    store = Store(path)  # as a screen holds it: opened before the damage, reading afterwards
    try:
        with pytest.raises(StoreError) as caught:
            store.connection().execute("SELECT id, payload FROM outbox").fetchall()
        _assert_damaged_message(caught.value, path)
        with pytest.raises(StoreError) as caught:
            for _ in store.connection().execute("SELECT payload FROM outbox"):
                pass
        assert caught.value.code == "store_damaged"
        with pytest.raises(StoreError) as caught, store.transaction() as conn:
            conn.execute("UPDATE outbox SET attempts = attempts + 1")
        assert caught.value.code == "store_damaged"
    finally:
        store.close()


def test_store_check_on_a_healthy_and_an_empty_file(tmp_path: Path, capsys) -> None:
    path = tmp_path / "siaptui.db"
    _filled(path)
    assert cli.main(["store", "check", "--db", str(path)]) == 0
    assert "íntegra" in capsys.readouterr().out
    path.write_bytes(b"")
    assert cli.main(["store", "check", "--db", str(path)]) == 1
    assert "vacía" in capsys.readouterr().out
    assert cli.main(["store", "recover", "--db", str(path)]) == 1
    err = capsys.readouterr().err
    assert str(path) in err and "Traceback" not in err
    assert path.stat().st_size == 0 and not list(tmp_path.glob("siaptui.damaged-*"))


def test_recover_refuses_while_another_terminal_has_the_file_open(tmp_path: Path, capsys) -> None:
    path = tmp_path / "siaptui.db"
    _filled(path)
    other = sqlite3.connect(str(path))
    other.execute("BEGIN")
    other.execute("SELECT COUNT(*) FROM outbox").fetchone()  # a read in progress, as a running TUI
    try:
        assert cli.main(["store", "recover", "--db", str(path)]) == 1
        assert "ocupada" in capsys.readouterr().err
        assert not list(tmp_path.glob("siaptui.damaged-*"))
    finally:
        other.close()


def test_the_sender_command_on_a_damaged_database_names_it_without_a_traceback(tmp_path: Path, capsys) -> None:
    from siaptui.store import sender

    path = tmp_path / "siaptui.db"
    _filled(path)
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size // 3)
    code = sender.main(["--once", "--portal", "http://127.0.0.1:9", "--cer", "x.cer", "--key", "x.key",
                        "--db", str(path)])
    err = capsys.readouterr().err
    assert code == 1 and str(path) in err and "siaptui store recover" in err and "Traceback" not in err


def test_recover_keeps_commits_that_were_still_only_in_the_wal(tmp_path: Path) -> None:
    import shutil

    live, crashed = tmp_path / "live", tmp_path / "crashed"
    crashed.mkdir()
    with open_store(live / "siaptui.db") as store:
        keys = [store.outbox.enqueue(request_dict(), worker_nss=NSS, employer_rfc=RFC, training=True).idempotency_key
                for _ in range(5)]
        for name in ("siaptui.db", "siaptui.db-wal", "siaptui.key"):  # the files as a power cut leaves them
            shutil.copyfile(live / name, crashed / name)
    assert (crashed / "siaptui.db-wal").stat().st_size > 0
    report = recover(crashed / "siaptui.db")
    assert report.complete
    with open_store(crashed / "siaptui.db") as store:
        assert [item.idempotency_key for item in store.outbox.items()] == keys
