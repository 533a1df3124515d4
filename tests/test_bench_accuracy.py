"""`siaptui bench accuracy` end to end on a small real set (3 FVC fingers × 3 impressions)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from siaptui.cli import main as cli

KEYS = {"dataset", "images", "genuine", "impostor", "eer", "fmr100", "fmr1000", "zero_fmr", "eer_fvc45",
        "extract_ms_median", "match_us_mean", "ghost_missed_10k"}


@pytest.fixture(scope="module")
def small_set(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from PIL import Image

    source = shared / "data" / "fingerprints" / "fvc2002" / "DB1_B"
    root = tmp_path_factory.mktemp("sets")
    folder = root / "MINI"
    folder.mkdir()
    for finger in ("101", "102", "103"):
        for impression in ("1", "2", "3"):
            name = f"{finger}_{impression}"
            if impression == "3":  # other formats the protocol accepts
                Image.open(source / f"{name}.tif").save(folder / f"{name}.png")
            else:
                shutil.copy(source / f"{name}.tif", folder / f"{name}.tif")
    (root / "DATASET.toml").write_text("[MINI]\ndpi = 500\n", encoding="utf-8")
    return folder


def test_json_is_one_object_per_dataset_with_the_agreed_keys(small_set: Path, capsys) -> None:
    assert cli(["bench", "accuracy", str(small_set), "--json"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert len(lines) == 1
    row = json.loads(lines[0])
    assert set(row) == KEYS
    assert (row["dataset"], row["images"], row["genuine"], row["impostor"]) == ("MINI", 9, 9, 27)
    for key in ("eer", "fmr100", "fmr1000", "zero_fmr", "eer_fvc45"):
        assert 0.0 <= row[key] <= 1.0
    assert row["eer"] <= 0.25  # three clear FVC fingers: the engine must mostly separate them
    assert row["extract_ms_median"] > 0 and row["match_us_mean"] > 0
    missed = row["ghost_missed_10k"]
    assert set(missed) == {"10", "4", "2"} and all(0.0 <= v <= 1.0 for v in missed.values())
    assert missed["10"] <= missed["4"] <= missed["2"]  # more fingers, more evidence


def test_table_and_bad_folders(small_set: Path, tmp_path: Path, capsys) -> None:
    assert cli(["bench", "accuracy", str(small_set)]) == 0
    out = capsys.readouterr().out
    assert "MINI (9)" in out and "EER" in out
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli(["bench", "accuracy", str(empty)]) == 1
    err = capsys.readouterr().err
    assert "no tiene imágenes" in err and "Traceback" not in err


def test_hard_conditions_are_scored_as_their_own_dataset(small_set: Path, capsys) -> None:
    assert cli(["bench", "accuracy", str(small_set), "--json", "--hard"]) == 0
    row = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (row["dataset"], row["images"], row["genuine"], row["impostor"]) == ("MINI_hard", 9, 9, 27)
    assert 0.0 <= row["eer"] <= 1.0
