"""`siaptui bench quality`: the statistics it reports, and one small end-to-end run."""

from __future__ import annotations

import json
import shutil

import numpy as np

from siaptui.bench.quality import error_versus_reject, fnmr_at_fmr1000, spearman
from siaptui.cli import main


def test_spearman_ignores_missing_values() -> None:
    rho, n = spearman([1, 2, 3, 4, None], [10, 20, 30, 40, 5])
    assert n == 4 and abs(rho - 1.0) < 1e-9
    rho, _ = spearman([1, 2, 3, 4], [4, 3, 2, 1])
    assert abs(rho + 1.0) < 1e-9


def _scores(bad: set, images: int = 40, fingers: int = 10):
    """Genuine pairs score high unless they involve a `bad` image; impostors score low."""
    rng = np.random.default_rng(3)
    finger = [i % fingers for i in range(images)]
    genuine, impostor = {}, {}
    for j in range(images):
        for i in range(j):
            if finger[i] == finger[j]:
                genuine[(i, j)] = 5.0 if (i in bad or j in bad) else 50.0 + rng.random()
            else:
                impostor[(i, j)] = 10.0 * rng.random()
    return genuine, impostor


def test_rejecting_the_bad_images_removes_the_errors() -> None:
    bad = {0, 1}
    genuine, impostor = _scores(bad)
    assert fnmr_at_fmr1000(genuine, impostor, set()) > 0
    assert fnmr_at_fmr1000(genuine, impostor, bad) == 0
    quality = [10.0 if i in bad else 80.0 + i for i in range(40)]
    row = error_versus_reject(quality, genuine, impostor)
    assert row["fnmr1000_reject5_quality"] == 0.0
    assert row["fnmr1000_reject5_random"] > row["fnmr1000_reject5_quality"]
    assert row["fnmr1000_reject10_random"] > row["fnmr1000_reject10_quality"]


def test_cli_run_on_a_small_folder(shared, tmp_path, capsys) -> None:
    source = shared / "data" / "fingerprints" / "fvc2002" / "DB4_B"
    for name in ("101_1", "101_2", "102_1", "102_2"):
        shutil.copy(source / f"{name}.tif", tmp_path / f"{name}.tif")
    assert main(["bench", "quality", str(tmp_path), "--json", "--no-nfiq2", "--no-reject"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert lines[0]["images"] == 4 and lines[0]["dpi"] == 500
    assert 0 < lines[0]["quality_mean"] <= 100 and lines[0]["minutiae_mean"] > 10
    assert lines[-1]["dataset"] == "all"
