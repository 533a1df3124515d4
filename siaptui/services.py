"""The service handles the screens use.

Why one place: screens never build an HTTP client or open SQLite themselves (DESIGN.md: the TUI
only orchestrates).  `Services` owns the portal client (one per employer session), the local
store, the scanner spec and the clock, and imports each service module only when a step needs
it, so the first screen paints without httpx, cryptography or numpy loaded.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional

from siaptui import config
from siaptui.config import Settings
from siaptui.errors import SiaptuiError

if TYPE_CHECKING:
    from siaptui.portal.client import PortalClient
    from siaptui.store.db import Store


@dataclass
class DemoCredential:
    """Demo e.firma files to pre-fill on the login screen (demo/training only)."""

    cer: str
    key: str
    password: str


class Services:
    """Lazily created handles to the services, shared by all screens of one app."""

    def __init__(
        self,
        settings: Settings,
        *,
        portal_url: Optional[str] = None,
        device: Optional[str] = None,
        demo_credential: Optional[DemoCredential] = None,
        now: Optional[Callable[[], float]] = None,
    ) -> None:
        self.settings = settings
        self.portal_url = portal_url or settings.portal.base_url
        self.scanner_spec = device or settings.scanner.device
        self.demo_credential = demo_credential
        self._now = now or time.time
        self._client: Optional[PortalClient] = None
        self._store: Optional[Store] = None
        self._store_lock = threading.Lock()
        self.portal_is_sandbox: Optional[bool] = None
        self.credential: Any = None
        """The loaded e.firma (memory only, for this session: it signs the submissions)."""

    # -- plain facts -------------------------------------------------------------------------
    def now(self) -> float:
        """Seconds since the epoch (a fixed clock in tests and snapshots)."""
        return self._now()

    @property
    def training(self) -> bool:
        return bool(self.settings.general.training)

    @staticmethod
    def terminal() -> str:
        """Which office PC recorded a consent (the host name; never personal data)."""
        try:
            return socket.gethostname() or "terminal"
        except OSError:  # pragma: no cover - gethostname practically never fails
            return "terminal"

    def data_dir(self) -> Path:
        return config.data_dir(self.settings)

    # -- portal ------------------------------------------------------------------------------
    async def client(self) -> PortalClient:
        """The open PortalClient for this session (created on first use, closed on exit)."""
        if self._client is None:
            from siaptui.portal.client import PortalClient

            ca = self.settings.portal.ca_bundle or None
            client = PortalClient(self.portal_url, ca_bundle=ca, timeout=self.settings.portal.timeout_s)
            await client.__aenter__()
            self._client = client
        return self._client

    async def new_logged_in_client(self) -> PortalClient:
        """A fresh PortalClient signed in with this session's e.firma (the sender owns and closes it)."""
        from siaptui.portal.client import PortalClient

        ca = self.settings.portal.ca_bundle or None
        client = PortalClient(self.portal_url, ca_bundle=ca, timeout=self.settings.portal.timeout_s)
        try:
            await client.login(self.credential)
        except BaseException:
            await client.aclose()
            raise
        return client

    async def portal_info(self) -> Dict[str, Any]:
        """GET /v1/info once; tells whether the portal is a sandbox (test e.firma allowed)."""
        client = await self.client()
        info = await client.info()
        self.portal_is_sandbox = bool(info.get("sandbox", False))
        return info

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                await client.__aexit__(None, None, None)
            except Exception:  # noqa: BLE001 - closing a dead connection must not block quitting
                pass
        store, self._store = self._store, None
        if store is not None:
            store.close()

    # -- local store -------------------------------------------------------------------------
    def store(self, office_passphrase: Optional[str] = None) -> Store:
        """The store (outbox, gallery, audit): the SQLite file in the data dir, or the office server of store.url.

        `office_passphrase` (typed in the office-key dialog, else $SIAPTUI_OFFICE_PASSPHRASE)
        lets a new station of an office server obtain the office key.  Opened once, under a
        lock: the start-up check opens it in a thread while a screen may ask for it too.
        """
        with self._store_lock:
            if self._store is None:
                from siaptui.store.db import open_store

                self._store = open_store(settings=self.settings, clock=self._now, office_passphrase=office_passphrase)
            return self._store

    def audit(self, action: str, subject: str, **details: Any) -> None:
        """Append to the store's hash-chained audit log (never biometric data)."""
        store = self.store()
        employer = details.pop("actor", "") or "clerk"
        store.audit.record(employer, action, subject, **details)


async def send_outbox_item(services: Services, item_id: int, *, wait_s: Optional[float] = None) -> Any:
    """Send this outbox item now and return it as the store has it afterwards.

    Why through `OutboxSender`: it claims the item before sending (no double send with the
    background sender or a cron `--once` run), classifies failures (retry vs. rejected),
    re-logs in when the session expired, and keeps training items away from a real portal.
    The item's permanent Idempotency-Key makes a resend after a timeout or a crash safe.  When
    another sender holds the item right now, this waits (up to `wait_s`) for its outcome
    instead of sending it a second time.  Raises the error that kept the item from being
    acknowledged, so the screen can say why.
    """
    if services.credential is None:
        raise SiaptuiError("not logged in", code="portal_not_logged_in")
    import asyncio

    from siaptui.store.sender import OutboxSender

    store = services.store()
    sender = OutboxSender(store, services.new_logged_in_client)
    try:
        result = await sender.run_once_async(only=item_id)
    finally:
        await sender.close()
    item = store.outbox.get(item_id)
    limit = 2 * float(services.settings.portal.timeout_s) + 5 if wait_s is None else wait_s
    waited = 0.0
    while not result.ids and item.state == "sending" and waited < limit:  # another sender has it
        await asyncio.sleep(0.2)
        waited += 0.2
        item = store.outbox.get(item_id)
    if item.state == "sent":
        return item
    if result.error is not None:
        raise result.error
    failure = item.failure()
    if failure is not None:
        raise failure
    if item.training and result.sandbox is False:
        raise SiaptuiError("training item, real portal", code="submit_training_real_portal")
    raise SiaptuiError("still pending", code="submit_still_pending")
