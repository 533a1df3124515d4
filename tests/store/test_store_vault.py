"""The key file and AES-GCM blobs: wrong passphrase, corrupt or missing key, swapped rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from siaptui.errors import describe
from siaptui.store.db import open_store
from siaptui.store.errors import StoreError
from tests.store.helpers import NSS, OTHER_NSS


def _code(excinfo: pytest.ExceptionInfo) -> str:
    return excinfo.value.code


def test_templates_round_trip_and_are_not_stored_in_clear(open_any, tmp_path: Path) -> None:
    template = b"MINUTIAE-" + bytes(range(200))
    with open_any() as store:
        store.gallery.enroll(NSS, 2, template)
        assert list(store.gallery.templates()) == [(NSS, 2, template)]
        stored = b"".join(bytes(row[0]) for row in store.connection().execute("SELECT template FROM gallery"))
        store.checkpoint()
    assert b"MINUTIAE-" not in stored and bytes(range(200)) not in stored
    if store.path is not None:
        raw = store.path.read_bytes()
        assert b"MINUTIAE-" not in raw and bytes(range(200)) not in raw


def test_passphrase_wraps_the_key_and_a_wrong_one_is_refused(open_any) -> None:
    with open_any(passphrase="correcto caballo batería") as store:
        store.gallery.enroll(NSS, 1, b"template-1")
        key_file = store.vault.path
    doc = json.loads(key_file.read_text())
    assert doc["wrapped"] is True and "correcto" not in key_file.read_text()
    with pytest.raises(StoreError) as wrong:
        open_any(passphrase="incorrecto")
    assert _code(wrong) == "store_wrong_passphrase"
    message, fix = describe(wrong.value)
    assert "frase de acceso" in message and fix
    with pytest.raises(StoreError) as missing:
        open_any()
    assert _code(missing) == "store_passphrase_required"
    with open_any(passphrase="correcto caballo batería") as store:
        assert list(store.gallery.templates()) == [(NSS, 1, b"template-1")]


def test_corrupt_key_file(tmp_path: Path) -> None:
    path = tmp_path / "siaptui.db"
    open_store(path).close()
    key_file = tmp_path / "siaptui.key"
    doc = json.loads(key_file.read_text())
    key = bytearray(__import__("base64").b64decode(doc["key"]))
    key[0] ^= 0xFF
    doc["key"] = __import__("base64").b64encode(bytes(key)).decode()
    key_file.write_text(json.dumps(doc))
    with pytest.raises(StoreError) as flipped:
        open_store(path)
    assert _code(flipped) == "store_key_corrupt"
    key_file.write_bytes(b"\x00garbage")
    with pytest.raises(StoreError) as garbage:
        open_store(path)
    assert _code(garbage) == "store_key_corrupt"
    message, fix = describe(garbage.value)
    assert "llave original" in message and "respaldo" in fix


def test_missing_key_file_is_never_silently_replaced(tmp_path: Path) -> None:
    path = tmp_path / "siaptui.db"
    with open_store(path) as store:
        store.gallery.enroll(NSS, 1, b"t")
    (tmp_path / "siaptui.key").unlink()
    with pytest.raises(StoreError) as caught:
        open_store(path)
    assert _code(caught) == "store_key_missing"
    assert not (tmp_path / "siaptui.key").exists()


def test_key_file_of_another_database_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    open_store(tmp_path / "a" / "siaptui.db").close()
    open_store(tmp_path / "b" / "siaptui.db").close()
    (tmp_path / "a" / "siaptui.key").replace(tmp_path / "b" / "siaptui.key")
    with pytest.raises(StoreError) as caught:
        open_store(tmp_path / "b" / "siaptui.db")
    assert _code(caught) == "store_key_mismatch"


def test_swapping_ciphertexts_between_rows_is_detected(open_any) -> None:
    with open_any() as store:
        store.gallery.enroll(NSS, 1, b"worker-one")
        store.gallery.enroll(OTHER_NSS, 1, b"worker-two")
        conn = store._open_connection()  # someone with another tool
    (id_a, a), (id_b, b) = conn.execute("SELECT id, template FROM gallery ORDER BY id").fetchall()
    conn.execute("UPDATE gallery SET template = ? WHERE id = ?", (b, id_a))
    conn.execute("UPDATE gallery SET template = ? WHERE id = ?", (a, id_b))
    conn.close()
    with open_any() as store:
        with pytest.raises(StoreError) as caught:
            list(store.gallery.templates())
    assert _code(caught) == "store_data_corrupt"


def test_passphrase_can_be_removed_again(tmp_path: Path) -> None:
    path = tmp_path / "siaptui.db"
    with open_store(path, passphrase="uno") as store:
        store.vault.change_passphrase(None)
    with open_store(path) as store:
        assert not store.vault.wrapped
