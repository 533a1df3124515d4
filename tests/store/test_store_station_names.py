"""Station names on an office server are one computer's each (siaptui.store.stations).

Two data folders on this machine are two station identities (each keeps its own random id),
which is how two PCs cloned from one disk image look to the server: same name, different
computer.  Real PostgreSQL from pgserver (tests/store/conftest.py).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from siaptui.errors import explain
from siaptui.store.db import Store, open_store
from siaptui.store.errors import StoreError
from siaptui.store.stations import identity, rows


def _open(pg_url: str, folder: Path, name: str) -> Store:
    return open_store(url=pg_url, key_dir=folder, station=name, office_passphrase="frase de la oficina")


def test_a_second_computer_under_a_live_name_is_refused_with_the_fix(pg_url: str, tmp_path: Path) -> None:
    with _open(pg_url, tmp_path / "pc-a", "caja-1") as first:
        with pytest.raises(StoreError) as caught:
            _open(pg_url, tmp_path / "pc-b", "caja-1")
        assert caught.value.code == "store_station_name_taken"
        text = explain(caught.value)
        assert "caja-1" in text and "store.station" not in text  # the fix names the toml key as written
        assert "station = " in text and "siaptui config path" in text and "Traceback" not in text
        assert not (tmp_path / "pc-b" / "siaptui-office.key").exists()  # refused before the key
        # The same computer may open its store twice (the TUI and a cron sender).
        _open(pg_url, tmp_path / "pc-a", "caja-1").close()
        assert len(first.gallery) == 0  # the first station carries on
    # Once the first computer closed its store, the name is free again, and the server remembers both.
    with _open(pg_url, tmp_path / "pc-b", "caja-1") as second:
        seen = rows(second.connection())
        assert [(r.name, r.live) for r in seen] == [("caja-1", True), ("caja-1", False)]
        assert {r.machine for r in seen} == {identity(tmp_path / "pc-a"), identity(tmp_path / "pc-b")}


def test_distinct_names_share_the_server_and_identity_is_stable(pg_url: str, tmp_path: Path) -> None:
    machine = identity(tmp_path / "pc-a")
    assert identity(tmp_path / "pc-a") == machine and identity(tmp_path / "pc-b") != machine
    assert oct((tmp_path / "pc-a" / "siaptui-station.id").stat().st_mode & 0o777) == "0o600"
    with _open(pg_url, tmp_path / "pc-a", "caja-1"), _open(pg_url, tmp_path / "pc-b", "caja-2") as two:
        assert sorted((r.name, r.live) for r in rows(two.connection())) == [("caja-1", True), ("caja-2", True)]


def test_a_killed_station_frees_its_name(pg_url: str, tmp_path: Path) -> None:
    """The lock ends with the connection: a station whose process died does not block a clone's fix-up."""
    store = _open(pg_url, tmp_path / "pc-a", "caja-1")
    for conn in store.held:  # what the server sees when the process is killed: its sockets close
        conn._raw.pgconn.finish()
    deadline = time.monotonic() + 5  # the server's backend ends a moment after the socket closed
    while True:
        try:
            _open(pg_url, tmp_path / "pc-b", "caja-1").close()
            break
        except StoreError as exc:
            assert exc.code == "store_station_name_taken" and time.monotonic() < deadline
            time.sleep(0.05)
    store.close()
