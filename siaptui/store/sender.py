"""The background sender: takes due outbox items, submits them, records what the portal said.

Why it is shaped like this:
- **Claim, then send.** Each item is claimed in a write transaction (state -> sending, owner
  recorded) before any network call, so two senders (the TUI's and a `--once` run from cron)
  never send the same item at the same time.  If they ever did — a claim taken over from a
  sender that looked dead — the permanent Idempotency-Key makes the portal answer the same
  receipt.
- **Only the portal's receipt marks an item sent.** Anything else — a crash, a dropped
  connection after the portal committed, a timeout — leaves it pending or failed-retryable, and
  the resend with the same key returns the receipt the portal already issued.
- **Classify failures.** Transient ones (network, timeout, 5xx, 503 + Retry-After, expired
  session) are retried with backoff; permanent ones (the portal rejected the data: "CURP no
  válido para registro biométrico") stop the item with the reason for the Bandeja screen.
  A failure of the portal as a whole (unreachable, overloaded) ends the round: the other items
  wait instead of each burning an attempt.
- **Never stop.** Any failure of one item — the portal's, the network's, the local disk's (a
  full disk refusing the record), a receipt without folio, a bug — is logged, recorded on the
  item with its reason when the store can still write, and followed by backoff for that item;
  the sender goes on with the next one.  A failed round (portal down, login refused, store
  busy) is followed by backoff for the whole sender, never by its end.
- **Training never reaches a real portal.** The sender asks `client.info()["sandbox"]` once per
  client; a real portal gets only real items, a sandbox gets whatever is due (the office chose
  that address in its configuration).

`client_factory()` returns a logged-in `PortalClient` (or an awaitable of one); the sender
closes it with `aclose()`.  Building it is where the e.firma and its password live.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Optional, Union

from siaptui.errors import SiaptuiError
from siaptui.store.errors import StoreError
from siaptui.store.outbox import BACKOFF_BASE_S, backoff_delay, new_owner

if TYPE_CHECKING:  # pragma: no cover
    from siaptui.store.db import Store

log = logging.getLogger("siaptui.store.sender")

POLL_INTERVAL_S = 5.0
"""How often an idle sender looks for items enqueued by another process."""

# PortalError codes that mean "the portal (or the way to it) is down", not "this item is bad".
_PORTAL_WIDE = frozenset({"portal_unreachable", "portal_timeout", "portal_overloaded", "portal_server_error",
                          "portal_tls", "portal_insecure_url", "portal_internal_error"})
# Codes that mean the session is gone: get a fresh client (a new e.firma login) and try again.
_RELOGIN = frozenset({"portal_session_expired", "portal_not_logged_in", "portal_unauthorized"})

ClientFactory = Callable[[], Union[Any, Awaitable[Any]]]


@dataclass
class RoundResult:
    """What one `run_once` did: counts per outcome, and why it stopped early if it did."""

    sent: int = 0
    retry: int = 0
    failed: int = 0
    error: Optional[BaseException] = None
    """A failure that ended the round (portal down, login refused)."""
    pause_s: float = 0.0
    """The portal asked us to wait this long (Retry-After) before the next round."""
    sandbox: Optional[bool] = None
    ids: list[int] = field(default_factory=list)


def classify(error: BaseException) -> str:
    """'relogin', 'retry' or 'permanent' for an exception raised by a submission.

    PortalError subclasses carry `transient`; anything that is not a PortalError and not a
    known data problem is treated as retryable (an unexpected bug must not drop an enrollment).
    """
    code = getattr(error, "code", "")
    if code in _RELOGIN:
        return "relogin"
    transient = getattr(error, "transient", None)
    if transient is True or code in _PORTAL_WIDE:
        return "retry"
    if transient is False:
        return "permanent"
    if isinstance(error, StoreError) and error.code in ("store_data_corrupt", "store_payload_deleted",
                                                         "store_request_invalid"):
        return "permanent"
    return "retry"


class OutboxSender:
    """Sends due outbox items through clients built by `client_factory`."""

    def __init__(self, store: "Store", client_factory: ClientFactory, *, rng: Optional[random.Random] = None,
                 poll_interval: float = POLL_INTERVAL_S, backoff_base: float = BACKOFF_BASE_S,
                 on_sent: Optional[Callable[[int], None]] = None) -> None:
        self.store = store
        self.client_factory = client_factory
        self.on_sent = on_sent
        """Told the id of each item whose receipt was recorded, in the sender's event loop: a
        screen showing that item follows it without asking the store on a timer."""
        self.owner = new_owner(store.station)
        self.poll_interval = poll_interval
        self.backoff_base = backoff_base
        self._failures = 0
        self._held: dict[int, tuple[float, int]] = {}
        """Items whose outcome the store refused to record: id -> (store-clock time to try again, tries)."""
        self._rng = rng or random.Random()
        self._client: Any = None
        self._sandbox: Optional[bool] = None
        self._wake = threading.Event()

    # -- client ---------------------------------------------------------------------------
    async def connect(self) -> Any:
        """The logged-in client, built on first use; also tells sandbox from real portal."""
        if self._client is None:
            made = self.client_factory()
            client = await made if inspect.isawaitable(made) else made
            try:
                info = await client.info()
            except BaseException:
                await _close(client)
                raise
            self._client, self._sandbox = client, bool(info.get("sandbox"))
        return self._client

    async def close(self) -> None:
        """Close the portal client (logs nothing secret; forgets the session)."""
        client, self._client, self._sandbox = self._client, None, None
        if client is not None:
            await _close(client)

    def wake(self) -> None:
        """Ask a sleeping run_forever to look at the outbox now (e.g. right after enqueue)."""
        self._wake.set()

    # -- one round ------------------------------------------------------------------------
    def run_once(self) -> RoundResult:
        """Blocking: send everything due now, then close the client. For `--once` and threads."""

        async def once() -> RoundResult:
            try:
                return await self.run_once_async()
            finally:
                await self.close()

        return asyncio.run(once())

    async def run_once_async(self, stop: Optional[Callable[[], bool]] = None,
                             only: Optional[int] = None) -> RoundResult:
        """Send every due item once (or just item `only`); stops early when the portal as a whole
        is failing or the store cannot hand out work.  Never raises but for cancellation."""
        result = RoundResult()
        tried: set[int] = set()
        stop = stop or (lambda: False)
        while not stop():
            try:
                held, retake = self._held_items()
                skip = tried | held
                if only is not None and only in skip:
                    break
                if only is None and not self._anything_due(skip):
                    break
            except Exception as exc:  # noqa: BLE001 - the store cannot be read (locked, damaged): back off
                self._round_failed(result, exc, "sender cannot read the outbox")
                break
            try:
                client = await self.connect()
            except Exception as exc:  # noqa: BLE001 - login refused, portal down, bad e.firma: nothing claimed
                self._round_failed(result, exc, "sender cannot reach the portal")
                break
            result.sandbox = self._sandbox
            try:
                item = self.store.outbox.claim_due(self.owner, training=None if self._sandbox else False,
                                                   exclude=skip, retake=retake, only=only)
            except Exception as exc:  # noqa: BLE001 - full disk, store busy: the item stays as it was
                self._round_failed(result, exc, "sender cannot claim an outbox item")
                break
            if item is None:
                break
            tried.add(item.id)
            result.ids.append(item.id)
            held_tries = self._held.pop(item.id, (0.0, 0))[1]
            try:
                outcome, error = await self._send(client, item)
            except Exception as exc:  # noqa: BLE001 - the store refused the record, or a bug: logged, backed off
                outcome, error = self._unexpected(item, exc, held_tries), exc
            except BaseException:  # cancelled (the app is closing): give the claim back at once
                self._quietly(self.store.outbox.release, item.id, self.owner)
                raise
            if outcome == "sent":
                result.sent += 1
                if self.on_sent is not None:
                    self.on_sent(item.id)
                continue
            if outcome == "permanent":
                result.failed += 1
                continue
            if outcome == "skipped":
                break
            result.retry += 1
            if getattr(error, "code", "") in _PORTAL_WIDE:
                result.error = error
                result.pause_s = float(getattr(error, "retry_after", 0) or 0)
                break
        return result

    def _round_failed(self, result: RoundResult, exc: BaseException, what: str) -> None:
        result.error = exc
        result.pause_s = float(getattr(exc, "retry_after", 0) or 0)
        if isinstance(exc, SiaptuiError):
            log.warning("%s: %s %s", what, exc.code, exc.detail)
        else:
            log.error("%s: unexpected %s", what, type(exc).__name__, exc_info=exc)

    def _unexpected(self, item: Any, exc: BaseException, held_tries: int = 0) -> str:
        """Record a failure `_send` did not expect on the item, retryable, and back it off.

        When even that record fails (the disk is full), the claim stays with this sender, which
        holds the item in memory until its backoff ends and then takes it again: the same key
        makes the resend safe.
        """
        code = exc.code if isinstance(exc, SiaptuiError) else "store_send_failed"
        detail = (getattr(exc, "detail", "") or type(exc).__name__)[:300]
        if isinstance(exc, SiaptuiError):
            log.error("outbox item %s not recorded: %s %s", item.id, code, detail)
        else:
            log.error("unexpected error sending outbox item %s", item.id, exc_info=exc)
        try:
            self.store.outbox.mark_failed(item.id, code, detail=detail, retryable=True,
                                          params=getattr(exc, "params", None), rng=self._rng)
        except Exception as again:  # noqa: BLE001 - the store cannot write at all: hold it here
            tries = held_tries + 1
            wait = backoff_delay(tries, base=self.backoff_base, rng=self._rng)
            self._held[item.id] = (self.store.clock() + wait, tries)
            log.error("outbox item %s: cannot record its failure either (%s); next try in %.0f s",
                      item.id, getattr(again, "code", type(again).__name__), wait)
        return "retry"

    def _held_items(self) -> tuple[set[int], set[int]]:
        """(ids still backing off, ids of this sender's own stuck claims whose time has come)."""
        now = self.store.clock()
        waiting = {i for i, (until, _) in self._held.items() if until > now}
        return waiting, set(self._held) - waiting

    def _quietly(self, action: Callable[..., Any], *args: Any) -> None:
        try:
            action(*args)
        except Exception:  # noqa: BLE001 - the lease hands the claim to the next sender anyway
            log.warning("could not give back an outbox claim", exc_info=True)

    async def _send(self, client: Any, item: Any) -> tuple[str, Optional[BaseException]]:
        """Submit one claimed item; records the outcome in the store and returns it."""
        from siaptui.store.submissions import submission

        outbox = self.store.outbox
        item_id, key = item.id, item.idempotency_key
        relogged = False
        while True:
            if item.training and not self._sandbox:  # the portal changed under us (re-login)
                outbox.release(item_id, self.owner)
                return "skipped", None
            try:
                send = submission(outbox.request(item_id))
            except (ValueError, TypeError, KeyError) as exc:
                outbox.mark_failed(item_id, "store_request_invalid", detail=str(exc)[:300], retryable=False)
                log.error("outbox item %s cannot be read back: %s", item_id, type(exc).__name__)
                return "permanent", exc
            except StoreError as exc:
                outbox.mark_failed(item_id, exc.code, detail=exc.detail, retryable=False, params=exc.params)
                log.error("outbox item %s cannot be read back: %s", item_id, exc.code)
                return "permanent", exc
            try:
                receipt = await send(client, key)
            except Exception as exc:
                kind = classify(exc)
                if kind == "relogin" and not relogged:
                    relogged = True
                    await self.close()
                    try:
                        client = await self.connect()
                    except Exception as login_exc:  # noqa: BLE001 - recorded on the item as a retry
                        exc = login_exc
                        kind = "retry"
                    else:
                        continue
                code = exc.code if isinstance(exc, SiaptuiError) else "store_send_failed"
                detail = getattr(exc, "detail", "") or type(exc).__name__
                params = getattr(exc, "params", None)
                if kind == "permanent":
                    item = outbox.mark_failed(item_id, code, detail=detail, retryable=False, params=params)
                    self.store.audit.record("sender", "outbox.rejected", item.worker_nss, item=item_id, reason=code)
                    log.warning("outbox item %s rejected by the portal: %s %s", item_id, code, detail)
                    return "permanent", exc
                if not isinstance(exc, SiaptuiError):
                    log.error("unexpected error sending outbox item %s", item_id, exc_info=exc)
                item = outbox.mark_failed(item_id, code, detail=detail, retryable=True, params=params,
                                          retry_after=getattr(exc, "retry_after", None), rng=self._rng)
                log.warning("outbox item %s not sent: %s %s (attempt %s, next in %.0f s)", item_id, code, detail,
                            item.attempts, max(0.0, (item.next_attempt_at or 0) - self.store.clock()))
                return "retry", exc
            try:
                item = outbox.mark_sent(item_id, receipt)
            except StoreError as exc:
                if exc.code != "store_receipt_incomplete":
                    raise  # the disk refused the record: run_once_async backs the item off
                log.warning("outbox item %s: the portal's receipt has no folio (enrollment %s)", item_id,
                            exc.detail or "-")
                outbox.mark_failed(item_id, exc.code, detail=exc.detail, retryable=True, rng=self._rng)
                return "retry", exc
            self.store.audit.record("sender", "outbox.sent", item.worker_nss, item=item_id, folio=item.folio)
            log.info("outbox item %s acknowledged", item_id)
            return "sent", None

    def _anything_due(self, exclude: set[int]) -> bool:
        """Cheap check before logging in: is any item (of either kind) due now?"""
        due = self.next_due(exclude)
        return due is not None and due <= self.store.clock()

    def next_due(self, exclude: Any = ()) -> Optional[float]:
        """When the next item becomes due (now for `sending` rows); None if nothing waits."""
        skip = sorted(int(i) for i in exclude)
        sql = ("SELECT MIN(CASE WHEN state = 'sending' THEN 0 ELSE COALESCE(next_attempt_at, 0) END) FROM outbox "
               "WHERE payload IS NOT NULL "
               "AND (state IN ('pending', 'sending') OR (state = 'failed' AND retryable = 1))")
        if skip:
            sql += f" AND id NOT IN ({','.join('?' * len(skip))})"
        row = self.store.connection().execute(sql, skip).fetchone()
        return None if row[0] is None else float(row[0])

    # -- forever --------------------------------------------------------------------------
    def run_forever(self, stop: Union[threading.Event, asyncio.Event]) -> Any:
        """Send until `stop` is set.

        With a `threading.Event` this blocks the calling thread (run it in a worker thread);
        with an `asyncio.Event` it returns a coroutine to await in the running loop (a Textual
        async worker).
        """
        if isinstance(stop, asyncio.Event):
            return self.arun_forever(stop.is_set)
        return asyncio.run(self.arun_forever(stop.is_set))

    async def arun_forever(self, stopped: Callable[[], bool]) -> None:
        """Rounds until `stopped()`, for the whole session: no error ends it, each one backs off."""
        try:
            while not stopped():
                try:
                    wait = await self._round(stopped)
                except Exception as exc:  # noqa: BLE001 - a bug must not end the session's sending
                    self._failures += 1
                    wait = backoff_delay(self._failures, base=self.backoff_base, rng=self._rng)
                    log.error("sender round failed; next round in %.0f s", wait, exc_info=exc)
                await self._sleep(wait, stopped)
        finally:
            await self.close()

    async def _round(self, stopped: Callable[[], bool]) -> float:
        """One round (after any ARCO scrub another terminal delayed); returns how long to sleep."""
        from siaptui.store.scrub import finish_pending

        try:
            finish_pending(self.store)
        except Exception as exc:  # noqa: BLE001 - the scrub is retried next round; sending goes on
            log.warning("pending ARCO scrub not finished yet: %s", getattr(exc, "code", type(exc).__name__))
        result = await self.run_once_async(stopped)
        if result.error is not None:
            self._failures += 1
            await self.close()  # a fresh client (and login) next round
            wait = backoff_delay(self._failures, result.pause_s or None, base=self.backoff_base, rng=self._rng)
            log.warning("sender round stopped (%s); next round in %.0f s",
                        getattr(result.error, "code", type(result.error).__name__), wait)
            return wait
        self._failures = 0
        now = self.store.clock()
        due = self.next_due()
        held = [until for until, _ in self._held.values()]
        if held:
            due = min(held) if due is None else min(due, min(held))
        if due is None or (not result.ids and due <= now):  # nothing this sender may take now
            return self.poll_interval
        return min(self.poll_interval, max(0.0, due - now))

    async def _sleep(self, seconds: float, stopped: Callable[[], bool]) -> None:
        """Sleep in small steps so stop() and wake() are noticed within ~0.2 s."""
        end = time.monotonic() + seconds
        while not stopped() and not self._wake.is_set():
            left = end - time.monotonic()
            if left <= 0:
                break
            await asyncio.sleep(min(0.2, left))
        self._wake.clear()


async def _close(client: Any) -> None:
    closer = getattr(client, "aclose", None)
    if closer is not None:
        try:
            await closer()
        except Exception:  # closing a broken connection must not hide the real outcome
            log.debug("closing the portal client failed", exc_info=True)


# -- `python -m siaptui.store.sender`: a sender process (cron, a second terminal, the crash test)
def portal_client_factory(base_url: str, cer: str, key: str, password: str, *, ca_bundle: Optional[str] = None,
                          timeout: float = 20.0, **client_options: Any) -> ClientFactory:
    """A factory that builds a PortalClient and logs in with the e.firma files.

    SAT test certificates are accepted only when the portal says it is a sandbox.  The
    password stays in this closure (memory only) so the sender can log in again later.
    """
    from siaptui.efirma import load
    from siaptui.portal.client import PortalClient

    async def make() -> Any:
        client = PortalClient(base_url, ca_bundle=ca_bundle, timeout=timeout, **client_options)
        try:
            info = await client.info()
            credential = load(cer, key, password, allow_test_ca=bool(info.get("sandbox")))
            await client.login(credential)
        except BaseException:
            await client.aclose()
            raise
        return client

    return make


def main(argv: Optional[list[str]] = None) -> int:
    """Send the outbox from the command line; the password comes from an environment variable
    (never a flag: flags show in `ps`)."""
    import argparse
    import os
    import signal
    import sys
    from pathlib import Path

    from siaptui.errors import explain
    from siaptui.i18n import t
    from siaptui.store.db import open_store

    parser = argparse.ArgumentParser(prog="python -m siaptui.store.sender",
                                     description="Enviar la bandeja de salida al portal / send the outbox")
    parser.add_argument("--portal", required=True, metavar="URL")
    parser.add_argument("--cer", required=True, metavar="FILE.cer")
    parser.add_argument("--key", required=True, metavar="FILE.key")
    parser.add_argument("--password-env", default="SIAPTUI_EFIRMA_PASSWORD", metavar="NAME",
                        help="variable de entorno con la contraseña de la e.firma")
    parser.add_argument("--db", metavar="FILE", help="base de datos (por omisión, la de la carpeta de datos)")
    parser.add_argument("--url", metavar="postgresql://…", default=os.environ.get("SIAPTUI_STORE_URL") or None,
                        help="servidor de la oficina (por omisión $SIAPTUI_STORE_URL); gana --db si se dan ambos")
    parser.add_argument("--ca-bundle", metavar="PEM", default=None)
    parser.add_argument("--once", action="store_true", help="enviar lo pendiente y salir")
    parser.add_argument("--store-passphrase-env", default="SIAPTUI_STORE_PASSPHRASE", metavar="NAME")
    args = parser.parse_args(argv)
    from siaptui import logfile

    logfile.setup()
    try:
        store = open_store(Path(args.db) if args.db else None, url=None if args.db else args.url,
                           passphrase=os.environ.get(args.store_passphrase_env) or None)
        factory = portal_client_factory(args.portal, args.cer, args.key, os.environ.get(args.password_env, ""),
                                        ca_bundle=args.ca_bundle)
        sender = OutboxSender(store, factory)
        if args.once:
            result = sender.run_once()
            print(t("store.sender.summary", sent=result.sent, retry=result.retry, failed=result.failed))
            if result.error is not None:
                print(explain(result.error).rstrip(), file=sys.stderr)
                return 1
            return 0
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            sender.run_forever(stop)
        except KeyboardInterrupt:
            stop.set()
        return 0
    except SiaptuiError as exc:
        print(explain(exc).rstrip(), file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
