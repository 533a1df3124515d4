"""`siaptui demo`: the whole product with no hardware, no network and no set-up.

Why each piece: the sandbox portal runs on loopback in a thread (real HTTP, the real contract);
a demo e.firma is issued by the sandbox's own CA into a temporary folder and pre-filled on the
login screen, its password shown as demo data; the scanner is the simulated one (or the
emulated U.are.U 4500 with `--device emulator:uru4500`), and so is the camera; the data dir is
a temporary folder so a demo never touches an office's real outbox; and training mode is on, so
every screen carries the MODO PRÁCTICA banner and nothing can reach a real portal.  Ajustes saves into the demo's
folder, never the user's siaptui.toml, and the folder goes when the demo ends, however it ends.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import functools
import shutil
import signal
import tempfile
from pathlib import Path
from typing import Any, Optional, Tuple

from siaptui.config import Settings
from siaptui.errors import SiaptuiError


class DemoUnavailable(SiaptuiError):
    """A part the demo needs (the sandbox portal) is not in this build."""

    code = "demo_unavailable"


def demo_settings(settings: Settings, data_dir: Path, device: Optional[str], admin_token: str = "") -> Settings:
    """A copy of the settings for the demo: training on, temporary data dir and acuse folder (the
    demo writes none of the user's files), simulated scanner, and the control token of the demo's
    own sandbox (training scenarios switch its faults)."""
    demo = copy.deepcopy(settings)
    demo.sandbox.admin_token = admin_token
    demo.general.training = True
    demo.store.data_dir = str(data_dir)
    demo.acuse.folder = str(data_dir.parent / "acuses")
    demo.scanner.device = device or "sim"
    demo.camera.device = "sim"
    demo.portal.allow_test_credentials = True
    return demo


def start(settings: Settings, *, port: int = 0, device: Optional[str] = None,
          workdir: Optional[Path] = None) -> Tuple[Any, Any, Settings, Path]:
    """Start the sandbox and issue the demo e.firma; returns (sandbox, efirma, settings, workdir).

    The caller stops the sandbox and removes `workdir` when the demo ends.
    """
    try:
        from siaptui.portal.sandbox import ca, server
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("siaptui"):
            raise DemoUnavailable(str(exc.name)) from None
        raise
    folder = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="siaptui-demo-"))
    (folder / "efirma").mkdir(parents=True, exist_ok=True)
    (folder / "data").mkdir(parents=True, exist_ok=True)
    efirma = ca.issue_demo_efirma(folder / "efirma")
    sandbox = server.serve_in_thread(port=port or 0, db=folder / "sandbox.db")
    return sandbox, efirma, demo_settings(settings, folder / "data", device, sandbox.admin_token), folder


class _Ended(Exception):
    """SIGHUP (the SSH window closed) or SIGTERM: leave through the `finally` that cleans up."""


class _EndOnSignal:
    """The handler of SIGHUP and SIGTERM: the demo ends, and its `finally` cleans up.

    While the app runs, the signal asks it to exit (`App.exit` through the event loop): its own
    shutdown stops the terminal driver's threads and lets the workers end before the store
    closes.  Raising out of the running loop instead would leave Textual's input and writer
    threads alive wherever the loop is not `asyncio.run`'s (Textual runs the global loop on
    Python 3.9), and the interpreter would wait for them forever at exit.  Before the app's
    loop runs, the signal raises `_Ended` (once the sandbox has started).
    """

    def __init__(self) -> None:
        self.app: Optional[Any] = None
        self.starting = True
        """While the sandbox starts, a signal is only noted: raising inside its start-up would
        leave its server thread running, and the process would never end."""
        self.noted: Optional[int] = None

    def started(self) -> None:
        """The sandbox is up: a signal noted meanwhile ends the demo now."""
        self.starting = False
        if self.noted is not None:
            raise _Ended(self.noted)

    def __call__(self, signum: int, _frame: Any) -> None:
        if self.starting:
            self.noted = signum
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if self.app is None or loop is None:
            raise _Ended(signum)
        loop.call_soon_threadsafe(functools.partial(self.app.exit, return_code=128 + signum))


def main(args: argparse.Namespace, settings: Settings) -> int:
    """Run the demo until the clerk quits; always stop the sandbox and remove the temp folder,
    also when the terminal goes away (SIGHUP) or the process is asked to stop (SIGTERM)."""
    from siaptui.app import build_app, run

    end_on_signal = _EndOnSignal()
    previous = {sig: signal.signal(sig, end_on_signal) for sig in _ENDING_SIGNALS}
    folder = Path(tempfile.mkdtemp(prefix="siaptui-demo-"))
    sandbox = None
    try:
        sandbox, efirma, demo, folder = start(settings, port=getattr(args, "port", 0) or 0,
                                              device=getattr(args, "device", None), workdir=folder)
        end_on_signal.started()
        app = end_on_signal.app = build_app(
            demo,
            portal_url=sandbox.url,
            device=demo.scanner.device,
            credential_dir=Path(efirma.cer).parent,
            demo_password=efirma.password,
            config_error=getattr(args, "config_error", None),
            settings_file=folder / "siaptui.toml",
        )
        return run(app)
    except _Ended as ended:
        return 128 + int(ended.args[0])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if sandbox is not None:
            sandbox.stop()
        shutil.rmtree(folder, ignore_errors=True)


_ENDING_SIGNALS = tuple(getattr(signal, name) for name in ("SIGHUP", "SIGTERM") if hasattr(signal, name))
