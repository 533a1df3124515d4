"""Run the sandbox portal with uvicorn: in a background thread (tests, `siaptui demo`) or in the
foreground (`siaptui sandbox`).

Why bind the socket ourselves: with `port=0` the OS picks a free port, and the caller needs the
URL before the first request; uvicorn's own bind would only reveal it after start-up.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Tuple, Union

from siaptui.portal.sandbox.ca import SandboxCA
from siaptui.portal.sandbox.faults import Faults, apply as apply_faults
from siaptui.portal.sandbox.ratelimit import VerifyLimits
from siaptui.portal.sandbox.store import SandboxStore

START_TIMEOUT = 20.0


@dataclass
class RunningSandbox:
    """A sandbox serving in a thread.  `url` is ready to use; `stop()` is idempotent;
    `admin_token` is what the control routes (`/sandbox/...`) want in `Sandbox-Admin-Token`."""

    url: str
    store: SandboxStore
    ca: SandboxCA
    faults: Faults
    ca_bundle: Optional[str]
    admin_token: str
    _server: Any
    _thread: threading.Thread

    def set_faults(self, changes: Optional[Mapping[str, Any]] = None, **named: Any) -> Dict[str, Any]:
        """Change fault switches now (same names as `--fault`; `_` or `-`)."""
        merged: Dict[str, Any] = dict(changes or {})
        merged.update(named)
        for action in apply_faults(self.faults, merged):
            self.store.expire_sessions(action.split(":", 1)[1])
        return self.faults.snapshot()

    def stop(self) -> None:
        self.faults.stop()
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self.store.close()

    def __enter__(self) -> "RunningSandbox":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def _prepare(db: Optional[Union[str, Path]], faults: Optional[Union[Faults, Mapping[str, Any]]],
             ca_dir: Optional[Path]) -> Tuple[SandboxStore, SandboxCA, Faults]:
    store = SandboxStore(Path(db) if db else None)
    ca = SandboxCA.load_or_create(ca_dir)
    if isinstance(faults, Faults):
        fault_state = faults
    else:
        fault_state = Faults()
        for action in apply_faults(fault_state, dict(faults or {})):
            store.expire_sessions(action.split(":", 1)[1])
    return store, ca, fault_state


def _config(app: Any, tls: bool, ca: SandboxCA, host: str) -> Tuple[Any, Optional[str]]:
    import uvicorn

    from siaptui.portal.sandbox.framing import ProblemH11Protocol

    options: Dict[str, Any] = {"log_level": "warning", "access_log": False, "lifespan": "off",
                               "timeout_graceful_shutdown": 2, "http": ProblemH11Protocol}
    bundle = None
    if tls:
        hosts = (host, "localhost") if host != "localhost" else ("localhost", "127.0.0.1")
        cert, key = ca.server_certificate(hosts)
        options.update(ssl_certfile=str(cert), ssl_keyfile=str(key))
        bundle = str(ca.certificate_pem_path)
    return uvicorn.Config(app, **options), bundle


def _listen(db: Optional[Union[str, Path]], faults: Optional[Union[Faults, Mapping[str, Any]]],
            ca_dir: Optional[Path], host: str, port: int, *, allow_test_ca: bool, tls: bool,
            cert_now: Optional[datetime], verify_limits: Optional[VerifyLimits] = None,
            admin_token: Optional[str] = None) -> Tuple[Any, ...]:
    """Everything both ways of serving share: store, CA, faults, the ASGI app (with its admin
    token) and a bound socket."""
    from siaptui.portal.sandbox.app import build_app

    store, ca, fault_state = _prepare(db, faults, ca_dir)
    app = build_app(store, ca, fault_state, allow_test_ca=allow_test_ca,
                    cert_now=(lambda: cert_now) if cert_now is not None else None,
                    verify_limits=verify_limits, admin_token=admin_token)
    config, bundle = _config(app, tls, ca, host)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return store, ca, fault_state, config, bundle, sock, app.portal.admin_token


def serve_in_thread(host: str = "127.0.0.1", port: int = 0, db: Optional[Union[str, Path]] = None,
                    faults: Optional[Union[Faults, Mapping[str, Any]]] = None, allow_test_ca: bool = False, *,
                    tls: bool = False, cert_now: Optional[datetime] = None,
                    ca_dir: Optional[Path] = None, verify_limits: Optional[VerifyLimits] = None) -> RunningSandbox:
    """Start the sandbox on `host:port` (0 = any free port) and return once it accepts requests.

    `db` None keeps the portal's database in memory; `cert_now` freezes the clock used for
    certificate validity (SAT's test FIEL expired in 2021); `tls` serves HTTPS with a
    certificate from the sandbox CA (`.ca_bundle` is the PEM to trust); `verify_limits` replaces
    the documented verification rate limits (tests)."""
    import uvicorn

    store, ca, fault_state, config, bundle, sock, token = _listen(
        db, faults, ca_dir, host, port, allow_test_ca=allow_test_ca, tls=tls, cert_now=cert_now,
        verify_limits=verify_limits)
    bound_port = sock.getsockname()[1]
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="siaptui-sandbox", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError("the sandbox portal did not start")
        time.sleep(0.02)
    shown = f"[{host}]" if ":" in host else host
    url = f"{'https' if tls else 'http'}://{shown}:{bound_port}"
    return RunningSandbox(url=url, store=store, ca=ca, faults=fault_state, ca_bundle=bundle,
                          admin_token=token, _server=server, _thread=thread)


def serve_forever(host: str, port: int, *, db: Optional[Union[str, Path]] = None,
                  faults: Optional[Union[Faults, Mapping[str, Any]]] = None, allow_test_ca: bool = False,
                  tls: bool = False, cert_now: Optional[datetime] = None,
                  on_ready: Any = None, admin_token: Optional[str] = None) -> None:
    """Foreground server for `siaptui sandbox` (Ctrl+C stops it); `on_ready(url, ca_bundle,
    admin_token)` is called once the socket is bound.  `admin_token` None draws a fresh one."""
    import uvicorn

    store, ca, fault_state, config, bundle, sock, token = _listen(
        db, faults, None, host, port, allow_test_ca=allow_test_ca, tls=tls, cert_now=cert_now,
        admin_token=admin_token)
    if on_ready is not None:
        on_ready(f"{'https' if tls else 'http'}://{host}:{sock.getsockname()[1]}", bundle, token)
    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:  # Ctrl+C: answer delayed requests
            fault_state.stop()
            super().handle_exit(sig, frame)

    try:
        Server(config).run(sockets=[sock])
    finally:
        store.close()
