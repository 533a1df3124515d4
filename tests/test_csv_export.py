"""CSV exports: written whole or not at all, readable with accents, a clear error otherwise."""

from __future__ import annotations

import csv
import os

import pytest

from siaptui.errors import SiaptuiError, describe
from siaptui.files import export_path, write_csv


def test_written_whole_with_accents_and_a_new_name_each_time(tmp_path) -> None:
    first = export_path(tmp_path, "pendientes", 1_780_000_000.0)
    second = export_path(tmp_path, "pendientes", 1_780_000_001.0)
    assert first != second and first.parent == tmp_path / "exportes"
    write_csv(first, ["Nombre", "Estado"], [["JOSÉ NÚÑEZ", "VENCIDO"], ["ANA, \"LA\" DÍAZ", "pendiente"]])
    with first.open(encoding="utf-8-sig", newline="") as handle:
        assert list(csv.reader(handle)) == [["Nombre", "Estado"], ["JOSÉ NÚÑEZ", "VENCIDO"],
                                            ["ANA, \"LA\" DÍAZ", "pendiente"]]
    assert first.read_bytes().startswith(b"\xef\xbb\xbf")  # spreadsheet programs read the accents
    assert oct(os.stat(first).st_mode & 0o777) == "0o600"


def test_an_unwritable_folder_is_a_clear_error_and_leaves_no_file(tmp_path) -> None:
    (tmp_path / "exportes").write_text("not a folder", encoding="utf-8")
    target = export_path(tmp_path, "folios", 1_780_000_000.0)
    with pytest.raises(SiaptuiError) as raised:
        write_csv(target, ["Folio"], [["SBX-1"]])
    message, fix = describe(raised.value)
    assert str(target) in message and fix
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exportes"]
