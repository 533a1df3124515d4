"""What a wheel carries and where the code finds it: no symbolic links, one copy of each file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from siaptui import shipped

REPO = Path(__file__).resolve().parent.parent
SOURCES = ("siaptui", "hw", "themes", "docs", "tests", "pyproject.toml", "setup.py", "README.md", "LICENSE")


def test_no_symbolic_links_in_the_repository() -> None:
    # A link becomes a plain text file in a Windows checkout (core.symlinks=false).
    links = []
    for name in SOURCES:
        top = REPO / name
        if top.is_symlink():
            links.append(top)
        for root, dirs, files in os.walk(top):
            links += [Path(root) / entry for entry in dirs + files if (Path(root) / entry).is_symlink()]
    assert links == []


def test_shipped_files_are_found_in_the_checkout() -> None:
    assert (shipped.folder("hw") / "scanners.toml").is_file()
    assert (shipped.folder("hw") / "linux.md").is_file() and (shipped.folder("hw") / "windows.md").is_file()
    assert shipped.udev_rule_path().read_text(encoding="utf-8").count('ATTR{power/control}="on"') >= 7
    assert (shipped.folder("themes") / "app.tcss").is_file()
    assert shipped.EXAMPLE_CONFIG.is_file()


def test_build_carries_guides_rule_table_themes_and_example(tmp_path: Path) -> None:
    # build_py is the step that fills a wheel (or a pipx install) with modules and package data.
    source = tmp_path / "src"
    source.mkdir()
    for name in SOURCES:
        origin = REPO / name
        if origin.is_dir() and name not in ("docs", "tests"):
            shutil.copytree(origin, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif origin.is_file():
            shutil.copy2(origin, source / name)
    out = tmp_path / "lib"
    done = subprocess.run([sys.executable, "setup.py", "-q", "build_py", "--build-lib", str(out)],
                          cwd=source, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    names = {path.relative_to(out).as_posix() for path in out.rglob("*") if path.is_file()}
    for expected in ("siaptui/hw/scanners.toml", "siaptui/hw/linux.md", "siaptui/hw/windows.md",
                     "siaptui/hw/udev/70-siaptui.rules", "siaptui/themes/app.tcss",
                     "siaptui/siaptui.toml.example", "siaptui/portal/portal-api.yaml",
                     "siaptui/i18n/es/general.toml", "siaptui/i18n/en/general.toml", "siaptui/cli.py"):
        assert expected in names, expected
    assert {name.split("/")[0] for name in names} == {"siaptui"}
    where = "from siaptui import shipped, theme; print(shipped.udev_rule_path()); print(theme.STYLESHEET)"
    found = subprocess.run([sys.executable, "-c", where], cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(out)},
                           capture_output=True, text=True, check=False)
    assert found.returncode == 0, found.stderr[-2000:]
    assert found.stdout.split() == [str(out / "siaptui/hw/udev/70-siaptui.rules"), str(out / "siaptui/themes/app.tcss")]
