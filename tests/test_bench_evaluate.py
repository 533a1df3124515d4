"""The FVC protocol: naming, pairs, resolution lookup and the error-rate definitions."""

from __future__ import annotations

from pathlib import Path

import pytest

from siaptui.bench.evaluate import DatasetError, build_protocol, dataset_dpi, list_samples, rates
from siaptui.errors import describe


def _touch(folder: Path, *names: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"")


def test_samples_in_natural_order_and_finger_before_last_underscore(tmp_path: Path) -> None:
    _touch(tmp_path, "a_b_10.png", "a_b_2.tif", "a_b_1.bmp", "7_1.TIF", "notes.txt", "nounderscore.png")
    samples = list_samples(tmp_path)
    assert [(s.finger, s.impression) for s in samples] == [("7", "1"), ("a_b", "1"), ("a_b", "2"), ("a_b", "10")]


def test_protocol_pairs(tmp_path: Path) -> None:
    _touch(tmp_path, *[f"{f}_{i}.tif" for f in (101, 102, 103) for i in (1, 2, 3)])
    protocol = build_protocol(list_samples(tmp_path))
    assert len(protocol.genuine) == 3 * 3  # C(3,2) per finger
    assert len(protocol.impostor) == 27  # 36 pairs in all, minus genuine
    assert len(protocol.fvc_impostor) == 3  # first impressions only
    names = {(protocol.samples[a].path.name, protocol.samples[b].path.name) for a, b in protocol.fvc_impostor}
    assert names == {("101_1.tif", "102_1.tif"), ("101_1.tif", "103_1.tif"), ("102_1.tif", "103_1.tif")}


def test_one_finger_is_not_a_protocol(tmp_path: Path) -> None:
    _touch(tmp_path, "1_1.png", "1_2.png")
    with pytest.raises(DatasetError) as caught:
        build_protocol(list_samples(tmp_path))
    message, fix = describe(caught.value)
    assert "pares" in message and "dedos" in fix


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError) as caught:
        list_samples(tmp_path / "nope")
    assert caught.value.code == "dataset_invalid"
    assert "no existe" in describe(caught.value)[0]


def test_dpi_from_dataset_toml_then_flag_then_500(tmp_path: Path) -> None:
    folder = tmp_path / "SET_A"
    folder.mkdir()
    assert dataset_dpi(folder) == 500
    assert dataset_dpi(folder, 569) == 569
    (tmp_path / "DATASET.toml").write_text('[SET_A]\ndpi = 569\n[OTHER]\ndpi = 1000\n', encoding="utf-8")
    assert dataset_dpi(folder, 700) == 569
    (folder / "DATASET.toml").write_text("dpi = 512\n", encoding="utf-8")
    assert dataset_dpi(folder) == 512
    (folder / "DATASET.toml").write_text("dpi = 'x'\n", encoding="utf-8")
    with pytest.raises(DatasetError):
        dataset_dpi(folder)
    (folder / "DATASET.toml").write_text("dpi = = 3\n", encoding="utf-8")
    with pytest.raises(DatasetError):
        dataset_dpi(folder)


def test_rates_follow_the_fvc_definitions() -> None:
    genuine = [0.9, 0.8, 0.7, 0.6, 0.2]
    impostor = [0.1, 0.15, 0.3, 0.05, 0.65, 0.0, 0.12, 0.11, 0.13, 0.14]
    r = rates(genuine, impostor)
    # At threshold 0.3: FNMR 1/5 (0.2 below), FMR 2/10 (0.3 and 0.65 at/above): gap 0.
    assert r.eer == pytest.approx(0.2) and r.eer_threshold == pytest.approx(0.3)
    # With 10 impostors FMR <= 1 % means none: threshold 0.7 leaves 0.2 and 0.6 below.
    assert r.fmr100 == pytest.approx(0.4)
    assert r.fmr1000 == pytest.approx(0.4) and r.zero_fmr == pytest.approx(0.4)
    perfect = rates([0.9, 0.8], [0.1, 0.2])
    assert perfect.eer == 0.0 and perfect.zero_fmr == 0.0
    with pytest.raises(DatasetError):
        rates([], [0.1])
