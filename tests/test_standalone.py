"""The suite on a fresh clone: what it needs is committed, and missing reference data is said aloud."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
TRACES = TESTS / "data" / "usb-traces"


def test_committed_recordings_carry_their_licence_and_origin() -> None:
    licence = (TRACES / "LICENSE.LGPL-2.1").read_text(encoding="utf-8")
    assert "GNU LESSER GENERAL PUBLIC LICENSE" in licence and "Version 2.1" in licence
    readme = (TRACES / "README.md").read_text(encoding="utf-8")
    for folder in sorted(path for path in TRACES.iterdir() if path.is_dir()):
        assert f"`{folder.name}/`" in readme and (folder / "device").is_file(), folder.name
    assert "libfprint" in readme and "LGPL" in readme
    assert sum(path.stat().st_size for path in TRACES.rglob("*") if path.is_file()) < 600_000


def _run_without_shared(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess:
    # A copy of the conftest in a folder with no ../shared beside it, SIAPTUI_SHARED pointing nowhere.
    tests = tmp_path / "clone" / "tests"
    tests.mkdir(parents=True)
    shutil.copy(TESTS / "conftest.py", tests / "conftest.py")
    (tests / "test_needs_shared.py").write_text("def test_it(shared):\n    assert shared\n", encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    env.update(SIAPTUI_SHARED=str(tmp_path / "nothing"), PYTHONPATH=os.pathsep.join(sys.path))
    if ci is not None:
        env["CI"] = ci
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(tests)],
                          cwd=tmp_path / "clone", env=env, capture_output=True, text=True, timeout=120, check=False)


def test_missing_shared_data_skips_and_names_it_on_a_clone(tmp_path: Path) -> None:
    done = _run_without_shared(tmp_path, ci=None)
    assert done.returncode == 0 and "1 skipped" in done.stdout, done.stdout[-2000:]
    assert str(tmp_path / "nothing") in done.stdout and "SIAPTUI_SHARED" in done.stdout


def test_missing_shared_data_fails_the_run_in_ci(tmp_path: Path) -> None:
    done = _run_without_shared(tmp_path, ci="true")
    assert done.returncode == 1 and "CI=true requires it" in done.stdout, done.stdout[-2000:]
