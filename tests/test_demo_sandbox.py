"""`siaptui demo` leaves nothing behind and touches nothing of the user's (issue: office day)."""

from __future__ import annotations

import os
import pty
import select
import signal
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and ptys")


def _demo_in_a_pty(tmp_path: Path) -> tuple[int, int]:
    env = dict(os.environ, TMPDIR=str(tmp_path), TERM="xterm", SIAPTUI_CONFIG=str(tmp_path / "user.toml"))
    pid, fd = pty.fork()
    if pid == 0:  # the child: the real command in a real terminal
        os.execvpe(sys.executable, [sys.executable, "-m", "siaptui", "demo"], env)
    return pid, fd


def _wait_for(predicate, timeout: float, fd: int) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        # Keep the pty drained so the app never blocks on output; select's timeout keeps a
        # silent child from blocking this loop past its deadline.
        readable, _, _ = select.select([fd], [], [], 0.1)
        if readable:
            try:
                os.read(fd, 65536)
            except OSError:
                time.sleep(0.1)
    return predicate()


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM])
def test_the_demo_folder_goes_when_the_terminal_closes_or_the_process_is_stopped(tmp_path: Path, sig) -> None:
    pid, fd = _demo_in_a_pty(tmp_path)
    try:
        folders = lambda: [p for p in tmp_path.glob("siaptui-demo-*") if (p / "efirma").is_dir()]  # noqa: E731 - a one-line predicate for _wait_for
        assert _wait_for(lambda: bool(folders()) and any(folders()[0].joinpath("efirma").glob("*.key")), 60, fd)
        time.sleep(1.0)  # let the app reach its first screen
        os.kill(pid, sig)
        done = []
        assert _wait_for(lambda: done.append(os.waitpid(pid, os.WNOHANG)) or done[-1][0] == pid, 30, fd)
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(fd)
    assert not list(tmp_path.glob("siaptui-demo-*")), "the demo's temporary folder (with its .key) stayed behind"
    assert not (tmp_path / "user.toml").exists()


async def test_ajustes_in_the_demo_save_into_the_demo_folder(tmp_path: Path, monkeypatch) -> None:
    from tests.ui.conftest import SIZE, make_app, screen_text, wait_until

    user_config = tmp_path / "user.toml"
    monkeypatch.setenv("SIAPTUI_CONFIG", str(user_config))
    demo_file = tmp_path / "demo" / "siaptui.toml"
    app = make_app(device="sim", settings_file=demo_file)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(app.screen_for("settings"))
        await wait_until(pilot, lambda: "siaptui.toml" in screen_text(app))
        assert "se descartan al salir" in screen_text(app)
        await pilot.press("ctrl+s")
        await wait_until(pilot, demo_file.exists)
        await wait_until(pilot, lambda: "carpeta de la demostración" in screen_text(app))
    assert not user_config.exists()


def test_the_demo_saves_its_acuses_in_its_own_folder_not_the_users_documents(tmp_path: Path) -> None:
    from siaptui import config
    from siaptui.config import Settings
    from siaptui.demo import demo_settings

    mine = Settings()
    mine.acuse.folder = str(tmp_path / "papeles del patron")
    demo = demo_settings(mine, tmp_path / "demo" / "data", None)
    assert tmp_path / "demo" in config.acuse_dir(demo).parents
    assert mine.acuse.folder == str(tmp_path / "papeles del patron")
