"""`siaptui --help` and the CLI parser must not import heavy packages (start fast on old PCs)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("textual", "numpy", "skimage", "scipy", "usb", "cryptography", "httpx", "starlette", "uvicorn")


def _modules_after(code: str) -> set[str]:
    script = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_help_imports_nothing_heavy() -> None:
    loaded = _modules_after(
        "import contextlib, io\nfrom siaptui import cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n        cli.main(['--help'])\n    except SystemExit:\n        pass"
    )
    heavy = {m for m in loaded for h in HEAVY if m == h or m.startswith(h + ".")}
    assert not heavy, f"--help imported {sorted(heavy)}"


def test_config_check_imports_nothing_heavy() -> None:
    loaded = _modules_after(
        "from siaptui import cli\ntry:\n    cli.main(['config', 'check'])\nexcept SystemExit:\n    pass")
    heavy = {m for m in loaded for h in HEAVY if m == h or m.startswith(h + ".")}
    assert not heavy, f"config check imported {sorted(heavy)}"
