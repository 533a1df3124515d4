"""The sender against the REAL sandbox portal on a loopback port (no mocks of our own code)."""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

from siaptui.errors import describe
from siaptui.store.db import open_store
from siaptui.store.sender import OutboxSender, classify, portal_client_factory
from tests.store.sandbox_support import enrollment, register_workers, sandbox_modules, synthetic_workers


class Clock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@dataclass
class Portal:
    running: Any
    efirma: Any
    db: Path
    workers: Iterator[dict]

    def factory(self, url: str | None = None, **options: Any):
        options.setdefault("max_attempts", 1)  # the outbox schedules retries; no in-line waits here
        return portal_client_factory(url or self.running.url, str(self.efirma.cer), str(self.efirma.key),
                                     self.efirma.password, timeout=5.0, **options)

    def acknowledged(self) -> dict[str, tuple[str, int]]:
        """idempotency key -> (folio, times) as the sandbox recorded them."""
        conn = sqlite3.connect(self.db)
        rows = conn.execute("SELECT idem_key, MIN(folio), COUNT(*) FROM enrollments GROUP BY idem_key").fetchall()
        conn.close()
        return {key: (folio, count) for key, folio, count in rows}


def set_faults(portal: "Portal", changes: dict) -> None:
    """Switch the sandbox's fault switches (same names as `siaptui sandbox --fault`)."""
    portal.running.set_faults(changes)


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    server = sandbox_modules()
    from siaptui.portal.sandbox.ca import issue_demo_efirma

    folder = tmp_path_factory.mktemp("sandbox")
    workers = synthetic_workers(60)
    register_workers(folder / "sandbox.db", workers)
    running = server.serve_in_thread(db=folder / "sandbox.db")
    try:
        yield Portal(running, issue_demo_efirma(folder / "efirma"), folder / "sandbox.db", iter(workers))
    finally:
        running.stop()


@pytest.fixture()
def clock() -> Clock:
    """Real time plus an offset: the sender runs in a thread and waits on the wall clock."""
    return Clock()


def _enqueue(store, portal: Portal, *, training: bool = True, worker: dict | None = None):
    worker = worker or next(portal.workers)
    request = enrollment(worker["nss"], worker["curp"], seed=hash(worker["nss"]) % 10**6)
    return store.outbox.enqueue(request, worker_nss=worker["nss"], employer_rfc=portal.efirma.rfc, training=training)


def test_sends_and_keeps_the_portals_receipt(store, portal: Portal) -> None:
    items = [_enqueue(store, portal) for _ in range(2)]
    result = OutboxSender(store, portal.factory()).run_once()
    assert (result.sent, result.retry, result.failed, result.error, result.sandbox) == (2, 0, 0, None, True)
    recorded = portal.acknowledged()
    for item in items:
        sent = store.outbox.get(item.id)
        assert sent.state == "sent" and sent.attempts == 1 and not sent.has_payload
        assert recorded[item.idempotency_key] == (sent.folio, 1)


def test_permanent_rejection_is_kept_with_its_reason(store, portal: Portal) -> None:
    from siaptui.portal.sandbox.seed import DEMO_WORKERS

    not_eligible = next(w for w in DEMO_WORKERS if w["case"] == "curp_not_eligible")
    item = _enqueue(store, portal, worker={"nss": not_eligible["nss"], "curp": not_eligible["curp"]})
    result = OutboxSender(store, portal.factory()).run_once()
    failed = store.outbox.get(item.id)
    assert (result.failed, failed.state, failed.retryable, failed.next_attempt_at) == (1, "failed", False, None)
    assert failed.reason == "portal_curp_not_eligible"
    assert OutboxSender(store, portal.factory()).run_once().ids == []  # not retried by itself
    assert item.idempotency_key not in portal.acknowledged()


def _round_after_login(sender: OutboxSender, faults: dict, portal: Portal) -> Any:
    """Log in first, then switch the faults on, then run one round (faults hit the sends)."""
    import asyncio

    async def scenario() -> Any:
        await sender.connect()
        set_faults(portal, faults)
        try:
            return await sender.run_once_async()
        finally:
            await sender.close()

    try:
        return asyncio.run(scenario())
    finally:
        set_faults(portal, {"clear": True})


def test_overload_with_retry_after_is_respected(store, portal: Portal, clock: Clock) -> None:
    first, second = _enqueue(store, portal), _enqueue(store, portal)
    result = _round_after_login(OutboxSender(store, portal.factory()),
                                {"overload-next": 1, "overload-retry-after": 120}, portal)
    assert classify(result.error) == "retry" and result.error.code == "portal_overloaded"
    assert result.pause_s >= 120
    waiting = store.outbox.get(first.id)
    assert (waiting.state, waiting.retryable, waiting.reason) == ("failed", True, "portal_overloaded")
    assert waiting.next_attempt_at >= clock() + 119
    assert store.outbox.get(second.id).attempts == 0  # the round stopped: no attempt wasted
    message, fix = describe(result.error)
    assert message and fix
    clock.offset += 60  # not yet
    again = OutboxSender(store, portal.factory()).run_once()
    assert first.id not in again.ids and store.outbox.get(second.id).state == "sent"
    clock.offset += 3600
    assert OutboxSender(store, portal.factory()).run_once().sent == 1
    assert store.outbox.get(first.id).state == "sent"


def test_portal_overloaded_at_login_claims_nothing(store, portal: Portal) -> None:
    item = _enqueue(store, portal)
    set_faults(portal, {"overload": 90})
    try:
        result = OutboxSender(store, portal.factory()).run_once()
    finally:
        set_faults(portal, {"clear": True})
    assert result.error.code == "portal_overloaded" and result.pause_s >= 90 and result.ids == []
    assert (store.outbox.get(item.id).state, store.outbox.get(item.id).attempts) == ("pending", 0)
    assert OutboxSender(store, portal.factory()).run_once().sent == 1


def test_connection_dropped_after_commit_is_acknowledged_once(store, portal: Portal, clock: Clock) -> None:
    item = _enqueue(store, portal)
    result = _round_after_login(OutboxSender(store, portal.factory()), {"drop-after-commit": 1}, portal)
    assert result.retry == 1 and store.outbox.get(item.id).state == "failed"
    assert portal.acknowledged()[item.idempotency_key][1] == 1  # the portal did commit it
    clock.offset += 7200
    assert OutboxSender(store, portal.factory()).run_once().sent == 1
    sent = store.outbox.get(item.id)
    assert portal.acknowledged()[item.idempotency_key] == (sent.folio, 1)


def test_server_errors_are_retried_later(store, portal: Portal, clock: Clock) -> None:
    item = _enqueue(store, portal)
    result = _round_after_login(OutboxSender(store, portal.factory()), {"error500-next": 1}, portal)
    failed = store.outbox.get(item.id)
    assert result.retry == 1 and failed.retryable and failed.next_attempt_at > clock()
    clock.offset += 7200
    assert OutboxSender(store, portal.factory()).run_once().sent == 1


def test_expired_session_mid_run_loses_nothing(store, portal: Portal) -> None:
    first = _enqueue(store, portal)
    result = _round_after_login(OutboxSender(store, portal.factory()), {"expire-session": "all"}, portal)
    assert result.sent == 1 and store.outbox.get(first.id).state == "sent"


def test_real_items_go_to_whatever_portal_is_configured(store, portal: Portal) -> None:
    """Real mode sends to the configured base URL, a sandbox included (the office chose it)."""
    real = _enqueue(store, portal, training=False)
    result = OutboxSender(store, portal.factory()).run_once()
    assert result.ids == [real.id] and result.sandbox is True and result.sent == 1
    sent = store.outbox.get(real.id)
    assert sent.state == "sent" and portal.acknowledged()[real.idempotency_key] == (sent.folio, 1)


def test_unreachable_portal_claims_nothing(store, portal: Portal) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    item = _enqueue(store, portal)
    result = OutboxSender(store, portal.factory(f"http://127.0.0.1:{port}")).run_once()
    assert result.error is not None and result.error.code == "portal_unreachable"
    assert (store.outbox.get(item.id).state, store.outbox.get(item.id).attempts) == ("pending", 0)


def test_run_forever_in_a_thread_until_stopped(store, portal: Portal, open_any) -> None:
    sender = OutboxSender(store, portal.factory(), poll_interval=0.2)
    stop = threading.Event()
    thread = threading.Thread(target=sender.run_forever, args=(stop,))
    thread.start()
    try:
        # enqueued from another connection, as the TUI process would
        with open_any() as tui:
            item = _enqueue(tui, portal)
        deadline = time.monotonic() + 30
        while store.outbox.get(item.id).state != "sent" and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert store.outbox.get(item.id).state == "sent"


async def test_run_forever_with_an_asyncio_event(store, portal: Portal) -> None:
    import asyncio

    item = _enqueue(store, portal)
    sender = OutboxSender(store, portal.factory(), poll_interval=0.2)
    stop = asyncio.Event()
    task = asyncio.ensure_future(sender.run_forever(stop))
    deadline = time.monotonic() + 30
    while store.outbox.get(item.id).state != "sent" and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    stop.set()
    await asyncio.wait_for(task, timeout=10)
    assert store.outbox.get(item.id).state == "sent"


def test_sender_entry_point_once(tmp_path: Path, portal: Portal) -> None:
    import os
    import subprocess
    import sys

    db = tmp_path / "cli" / "siaptui.db"
    with open_store(db) as tui:
        item = _enqueue(tui, portal)
    command = [sys.executable, "-m", "siaptui.store.sender", "--once", "--portal", portal.running.url,
               "--cer", str(portal.efirma.cer), "--key", str(portal.efirma.key), "--db", str(db)]
    env = dict(os.environ, SIAPTUI_EFIRMA_PASSWORD=portal.efirma.password)
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "1 enviados" in done.stdout
    with open_store(db) as tui:
        assert tui.outbox.get(item.id).state == "sent"
    env["SIAPTUI_EFIRMA_PASSWORD"] = "incorrecta"
    with open_store(db) as tui:
        _enqueue(tui, portal)
    refused = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr and refused.stderr.strip()


def test_sender_entry_point_sends_an_office_servers_outbox(tmp_path: Path, portal: Portal, pg_url: str) -> None:
    """`--url` (or $SIAPTUI_STORE_URL): a sender for the office server, with this PC's station key."""
    import os
    import subprocess
    import sys

    station_dir = tmp_path / "estacion"
    with open_store(url=pg_url, key_dir=station_dir) as tui:
        item = _enqueue(tui, portal)
    command = [sys.executable, "-m", "siaptui.store.sender", "--once", "--portal", portal.running.url,
               "--cer", str(portal.efirma.cer), "--key", str(portal.efirma.key)]
    env = dict(os.environ, SIAPTUI_EFIRMA_PASSWORD=portal.efirma.password, SIAPTUI_STORE_DATA_DIR=str(station_dir),
               SIAPTUI_STORE_URL=pg_url)
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    with open_store(url=pg_url, key_dir=station_dir) as tui:
        assert tui.outbox.get(item.id).state == "sent"


async def test_cancelling_the_sender_mid_send_gives_the_item_back(store, portal: Portal) -> None:
    import asyncio

    item = _enqueue(store, portal)
    sender = OutboxSender(store, portal.factory())
    await sender.connect()
    set_faults(portal, {"latency": 1500})
    try:
        task = asyncio.ensure_future(sender.run_once_async())
        deadline = time.monotonic() + 10
        while store.outbox.get(item.id).state != "sending" and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    finally:
        set_faults(portal, {"clear": True})
        await sender.close()
    back = store.outbox.get(item.id)
    assert (back.state, back.attempts, back.claimed_by) == ("pending", 0, None)
    again = OutboxSender(store, portal.factory())
    try:
        assert (await again.run_once_async()).sent == 1
    finally:
        await again.close()


def test_training_items_never_go_to_a_real_portal(store, portal: Portal) -> None:
    """A loopback HTTP server that says it is NOT a sandbox: training items stay home."""
    import json
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[str] = []

    class RealPortal(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # http.server's naming
            seen.append(self.path)
            body = json.dumps({"sandbox": False, "version": "1", "name": "IMSS"}).encode()
            self.send_response(200 if self.path == "/v1/info" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), RealPortal)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        from siaptui.portal.client import PortalClient

        practice = _enqueue(store, portal, training=True)
        url = f"http://127.0.0.1:{server.server_address[1]}"
        result = OutboxSender(store, lambda: PortalClient(url, max_attempts=1)).run_once()
    finally:
        server.shutdown()
        server.server_close()
    assert result.sandbox is False and result.ids == []
    assert seen == ["/v1/info"]  # asked what it is, sent nothing
    assert (store.outbox.get(practice.id).state, store.outbox.get(practice.id).attempts) == ("pending", 0)


def test_a_lost_session_makes_the_sender_log_in_again(store, portal: Portal) -> None:
    """The first client has logged out (as if its session were gone for good): the sender
    drops it, builds a fresh one through the factory and sends with the same key."""
    item = _enqueue(store, portal)
    real_factory = portal.factory()
    built: list[Any] = []

    async def factory() -> Any:
        client = await real_factory()
        if not built:
            await client.logout()
        built.append(client)
        return client

    result = OutboxSender(store, factory).run_once()
    assert len(built) == 2 and result.sent == 1
    sent = store.outbox.get(item.id)
    assert sent.state == "sent" and sent.attempts == 1
    assert portal.acknowledged()[item.idempotency_key] == (sent.folio, 1)


# -- a sender that never stops ------------------------------------------------------------------
def _full_disk(store: Any, when: str) -> None:
    """A trigger that refuses the outbox updates matching `when`, as a full disk refuses writes."""
    conn = store._open_connection()  # another connection, as an administrator's tool would use
    if store.shared:
        conn.execute("CREATE FUNCTION full_disk() RETURNS trigger LANGUAGE plpgsql AS "
                     "$fn$ BEGIN RAISE EXCEPTION 'database or disk is full'; END $fn$")
        conn.execute(f"CREATE TRIGGER full_disk BEFORE UPDATE ON outbox FOR EACH ROW WHEN ({when}) "
                     "EXECUTE FUNCTION full_disk()")
    else:
        conn.execute(f"CREATE TRIGGER full_disk BEFORE UPDATE ON outbox WHEN {when} "
                     "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END")
    conn.close()


def _disk_freed(store: Any) -> None:
    conn = store._open_connection()
    conn.execute("DROP TRIGGER full_disk ON outbox" if store.shared else "DROP TRIGGER full_disk")
    conn.close()


def test_a_full_disk_at_the_receipt_is_recorded_and_the_next_item_still_goes(store, portal: Portal,
                                                                            clock: Clock, caplog) -> None:
    import logging

    first, second = _enqueue(store, portal), _enqueue(store, portal)
    _full_disk(store, f"NEW.state = 'sent' AND OLD.id = {first.id}")
    with caplog.at_level(logging.WARNING, logger="siaptui"):
        result = OutboxSender(store, portal.factory()).run_once()
    assert result.ids == [first.id, second.id] and result.sent == 1 and result.retry == 1
    waiting = store.outbox.get(first.id)
    assert (waiting.state, waiting.retryable, waiting.reason) == ("failed", True, "store_write_failed")
    assert waiting.next_attempt_at > clock() and waiting.has_payload
    assert any("store_write_failed" in r.getMessage() for r in caplog.records)
    _disk_freed(store)
    clock.offset += 3600
    assert OutboxSender(store, portal.factory()).run_once().sent == 1
    sent = store.outbox.get(first.id)
    assert portal.acknowledged()[first.idempotency_key] == (sent.folio, 1)  # the same key: once


def test_when_nothing_can_be_recorded_the_sender_keeps_going_all_session(store, portal: Portal,
                                                                         tmp_path: Path, caplog) -> None:
    """Every outcome write fails (the disk is full): the sender logs, holds the items, backs off,
    and once space is back it finishes them — the thread never dies."""
    import logging

    items = [_enqueue(store, portal) for _ in range(2)]
    _full_disk(store, "NEW.state <> 'sending'")
    sender = OutboxSender(store, portal.factory(), poll_interval=0.2, backoff_base=0.4)
    stop = threading.Event()
    thread = threading.Thread(target=sender.run_forever, args=(stop,))
    with caplog.at_level(logging.WARNING, logger="siaptui"):
        thread.start()
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not all(i.idempotency_key in portal.acknowledged() for i in items):
                time.sleep(0.1)
            time.sleep(1.0)  # several backed-off retries while the disk is still full
            assert thread.is_alive()
            assert [store.outbox.get(i.id).state for i in items] == ["sending", "sending"]
            _disk_freed(store)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and any(store.outbox.get(i.id).state != "sent" for i in items):
                time.sleep(0.1)
        finally:
            stop.set()
            thread.join(timeout=10)
    assert not thread.is_alive()
    recorded = portal.acknowledged()
    for item in items:
        sent = store.outbox.get(item.id)
        assert sent.state == "sent" and recorded[item.idempotency_key] == (sent.folio, 1)
    assert any("cannot record" in r.getMessage() for r in caplog.records)


def test_a_receipt_without_folio_is_asked_again_with_the_same_key(store, portal: Portal, clock: Clock) -> None:
    item = _enqueue(store, portal)
    result = _round_after_login(OutboxSender(store, portal.factory()), {"bad-answer": "no-folio"}, portal)
    assert result.retry == 1 and result.error is None
    waiting = store.outbox.get(item.id)
    assert (waiting.state, waiting.retryable, waiting.reason) == ("failed", True, "store_receipt_incomplete")
    assert waiting.has_payload and waiting.next_attempt_at > clock()
    clock.offset += 3600
    assert OutboxSender(store, portal.factory()).run_once().sent == 1
    sent = store.outbox.get(item.id)
    assert sent.folio and portal.acknowledged()[item.idempotency_key] == (sent.folio, 1)


def test_an_unexpected_bug_is_recorded_and_the_next_item_goes(store, portal: Portal, clock: Clock) -> None:
    """A client that blows up with a non-portal exception for one worker: recorded, retried later."""
    bad, good = _enqueue(store, portal), _enqueue(store, portal)
    real_factory = portal.factory()

    async def factory() -> Any:
        client = await real_factory()
        submit = client.submit_enrollment

        async def flaky(request: Any, key: str) -> Any:
            if key == bad.idempotency_key:
                raise RuntimeError("a bug")
            return await submit(request, key)

        client.submit_enrollment = flaky
        return client

    result = OutboxSender(store, factory).run_once()
    assert result.ids == [bad.id, good.id] and result.sent == 1
    failed = store.outbox.get(bad.id)
    assert (failed.state, failed.retryable, failed.reason, failed.reason_detail) == (
        "failed", True, "store_send_failed", "RuntimeError")


def test_a_portal_dripping_its_answer_is_cut_at_the_deadline_and_the_outbox_moves_on(store, portal: Portal,
                                                                                     clock: Clock) -> None:
    """One byte per second from the real sandbox: the call ends at the client's timeout, the
    item is recorded as a timeout, and the sender goes on to send the outbox."""
    first, second = _enqueue(store, portal), _enqueue(store, portal)
    sender = OutboxSender(store, portal_client_factory(portal.running.url, str(portal.efirma.cer),
                                                       str(portal.efirma.key), portal.efirma.password,
                                                       timeout=2.0, max_attempts=1),
                          poll_interval=0.2, backoff_base=0.2)
    started = time.monotonic()
    result = _round_after_login(sender, {"bad-answer": "drip"}, portal)
    blocked = time.monotonic() - started
    assert result.error is not None and result.error.code == "portal_timeout"
    assert blocked < 6, blocked  # login + one 2 s deadline, not minutes of dripping
    timed_out = store.outbox.get(first.id)
    assert (timed_out.state, timed_out.reason, timed_out.retryable) == ("failed", "portal_timeout", True)
    clock.offset += 3600  # its backoff is over: the same sender, running on, sends the whole outbox
    stop = threading.Event()
    thread = threading.Thread(target=sender.run_forever, args=(stop,))
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(store.outbox.get(i.id).state != "sent" for i in (first, second)):
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(timeout=10)
    recorded = portal.acknowledged()
    for item in (first, second):
        sent = store.outbox.get(item.id)
        assert sent.state == "sent" and recorded[item.idempotency_key] == (sent.folio, 1)


def test_the_senders_warnings_reach_the_log_file_masked_and_without_secrets(store, portal: Portal,
                                                                            isolated_dirs: Path) -> None:
    from siaptui import logfile
    from siaptui.portal.sandbox.seed import DEMO_WORKERS

    not_eligible = next(w for w in DEMO_WORKERS if w["case"] == "curp_not_eligible")
    _enqueue(store, portal, worker={"nss": not_eligible["nss"], "curp": not_eligible["curp"]})
    path = logfile.setup(debug=True)
    try:
        OutboxSender(store, portal.factory()).run_once()
        for handler in __import__("logging").getLogger().handlers:
            handler.flush()
        text = path.read_text(encoding="utf-8")
    finally:
        logfile.setup()
    assert "rejected by the portal: portal_curp_not_eligible" in text
    assert "login ok" in text  # --debug: the client's own lines too
    assert portal.efirma.password not in text
    assert str(not_eligible["nss"]) not in text and str(not_eligible["curp"]) not in text
