"""Local data safety: file permissions and never recreating a database over its key file."""

from __future__ import annotations

from pathlib import Path

import pytest

from siaptui.errors import describe
from siaptui.store.db import open_store
from siaptui.store.errors import StoreError


def test_database_files_are_0600_and_an_existing_0755_folder_becomes_0700(tmp_path: Path) -> None:
    folder = tmp_path / "datos"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    with open_store(folder / "siaptui.db") as store:
        store.connection().execute("SELECT 1")
        assert folder.stat().st_mode & 0o777 == 0o700
        for name in ("siaptui.db", "siaptui.db-wal"):
            assert (folder / name).stat().st_mode & 0o777 == 0o600


def test_an_emptied_database_beside_its_key_file_is_not_recreated(tmp_path: Path) -> None:
    path = tmp_path / "siaptui.db"
    open_store(path).close()
    path.write_bytes(b"")
    for side in ("-wal", "-shm"):
        Path(f"{path}{side}").unlink(missing_ok=True)
    with pytest.raises(StoreError) as caught:
        open_store(path)
    assert caught.value.code == "store_open_failed"
    assert str(path) in describe(caught.value)[0]
    assert path.stat().st_size == 0
