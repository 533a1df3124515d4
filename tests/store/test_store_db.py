"""Opening, migrating and sharing the SQLite store across threads and processes."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from siaptui.store.db import open_store
from siaptui.store.errors import StoreError
from siaptui.store.schema import SCHEMA_VERSION
from tests.store.helpers import NSS, RFC, request_dict

REPO = Path(__file__).resolve().parents[2]


def test_migrates_an_empty_file_and_reopens_without_migrating_again(tmp_path: Path) -> None:
    path = tmp_path / "siaptui.db"
    path.write_bytes(b"")  # an empty file is a valid, empty SQLite database
    with open_store(path) as store:
        assert store.schema_version() == SCHEMA_VERSION
        tables = {r[0] for r in store.connection().execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"outbox", "gallery", "images", "audit", "meta", "schema_version"} <= tables
        assert store.connection().execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.connection().execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert store.connection().execute("PRAGMA foreign_keys").fetchone()[0] == 1
    with open_store(path) as store:
        rows = store.connection().execute("SELECT version FROM schema_version").fetchall()
        assert rows == [(v,) for v in range(1, SCHEMA_VERSION + 1)]
    assert (tmp_path / "siaptui.key").stat().st_mode & 0o777 == 0o600


def test_default_location_is_the_data_dir(isolated_dirs: Path) -> None:
    with open_store() as store:
        assert store.path == isolated_dirs / "data" / "siaptui.db"


def test_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "siaptui.db"
    open_store(path).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_version VALUES (?, 0)", (SCHEMA_VERSION + 1,))
    conn.commit()
    conn.close()
    with pytest.raises(StoreError) as caught:
        open_store(path)
    assert caught.value.code == "store_schema_newer"


def test_a_file_that_is_not_a_database_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "siaptui.db"
    path.write_bytes(b"this is a text file, not SQLite" * 200)
    with pytest.raises(StoreError) as caught:
        open_store(path)
    assert caught.value.code == "store_damaged"
    from siaptui.errors import describe

    message, fix = describe(caught.value)
    assert message and "siaptui store recover" in fix and fix.endswith(str(path))  # the way out first, the file last


def test_threads_share_one_store(tmp_path: Path) -> None:
    store = open_store(tmp_path / "siaptui.db")
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(10):
                store.outbox.enqueue(request_dict(), worker_nss=NSS, employer_rfc=RFC, training=True)
        except BaseException as exc:  # noqa: BLE001 - any failure in the thread is asserted on below  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    items = store.outbox.items()
    assert len(items) == 40 and len({i.idempotency_key for i in items}) == 40
    store.close()


ENQUEUE = """
import sys
from pathlib import Path
from siaptui.store.db import open_store
from tests.store.helpers import request_dict, RFC
store = open_store(Path(sys.argv[1]))
for n in range(int(sys.argv[2])):
    store.outbox.enqueue(request_dict(), worker_nss=sys.argv[3], employer_rfc=RFC, training=True)
store.close()
"""


def test_concurrent_enqueue_from_two_processes(tmp_path: Path) -> None:
    path = tmp_path / "siaptui.db"
    open_store(path).close()  # key and schema exist; both children open the same files
    procs = [subprocess.Popen([sys.executable, "-c", ENQUEUE, str(path), "25", nss], cwd=REPO)
             for nss in ("11111111111", "22222222222")]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    with open_store(path) as store:
        items = store.outbox.items()
        assert len(items) == 50
        assert len({i.idempotency_key for i in items}) == 50
        assert sorted({i.worker_nss for i in items}) == ["11111111111", "22222222222"]
        for item in items:  # every payload decrypts with the one shared key
            assert store.outbox.request(item.id)["fingers"][0]["position"] == 2


def test_two_processes_creating_a_fresh_store_agree_on_one_key(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    procs = [subprocess.Popen([sys.executable, "-c", ENQUEUE, str(path), "3", nss], cwd=REPO)
             for nss in ("11111111111", "22222222222")]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    with open_store(path) as store:
        assert len(store.outbox.items()) == 6
        for item in store.outbox.items():
            store.outbox.request(item.id)


def test_a_failed_write_is_a_store_error_and_leaves_nothing_half_done(tmp_path: Path) -> None:
    store = open_store(tmp_path / "siaptui.db")
    store.connection().execute("PRAGMA max_page_count = 1")  # this connection's "disk" is now full
    try:
        with pytest.raises(StoreError) as caught:
            store.outbox.enqueue(request_dict(template=bytes(20000)), worker_nss=NSS, employer_rfc=RFC, training=True)
        assert caught.value.code == "store_write_failed"
    finally:
        store.close()
    with open_store(tmp_path / "siaptui.db") as again:
        assert again.outbox.items() == []


def test_a_database_locked_by_a_stuck_process_gives_store_busy(tmp_path: Path, monkeypatch) -> None:
    import siaptui.store.connection as connection_module

    path = tmp_path / "siaptui.db"
    open_store(path).close()
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    monkeypatch.setattr(connection_module, "BUSY_TIMEOUT_MS", 200)
    try:
        with pytest.raises(StoreError) as caught:
            open_store(path)
        assert caught.value.code == "store_busy"
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
