"""Start-up: the first screen paints without the heavy packages, and `siaptui demo` really
starts (sandbox, demo e.firma, login painted in a pty) and exits cleanly after the first paint."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("numpy", "skimage", "scipy", "usb", "cryptography", "httpx", "starlette", "uvicorn", "PIL")

FIRST_SCREEN = """
import json, os, sys
os.environ["SIAPTUI_EXIT_AFTER_FIRST_PAINT"] = "1"
from siaptui.config import Settings
from siaptui.app import build_app
app = build_app(Settings())
app.run(headless=True, size=(80, 24))
heavy = sorted(m for m in sys.modules if m.split(".")[0] in HEAVY)
print(json.dumps({"first_paint_ms": app.first_paint_ms, "screen": app.screen.SCREEN_ID if app.screen_stack else "",
                  "heavy": heavy}))
"""


def test_first_screen_paints_without_heavy_imports() -> None:
    script = f"HEAVY = {HEAVY!r}\n" + FIRST_SCREEN
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                         env=dict(os.environ))
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["heavy"] == []
    assert result["first_paint_ms"] is None or result["first_paint_ms"] > 0  # None off Linux


@pytest.mark.skipif(shutil.which("script") is None, reason="needs util-linux `script` for a pty")
def test_siaptui_demo_paints_the_spanish_login_in_a_pty(tmp_path: Path) -> None:
    siaptui = Path(sys.executable).with_name("siaptui")
    if not siaptui.exists():
        pytest.skip("the siaptui console script is not installed in this environment")
    typescript = tmp_path / "typescript"
    env = dict(os.environ, SIAPTUI_EXIT_AFTER_FIRST_PAINT="1", TERM="xterm-256color", LANG="C.UTF-8")
    command = f"stty cols 80 rows 24; {siaptui} demo"
    out = subprocess.run(["script", "-qec", command, str(typescript)], capture_output=True, timeout=90, env=env)
    text = typescript.read_bytes().decode("utf-8", "replace")
    assert out.returncode == 0, text[-2000:]
    assert "first_paint_ms=" in text
    assert "Certificado" in text and "MODO PR" in text  # the Spanish login, in training mode
