"""Reliability bar: SIGKILL the submission process 50 times at random moments while it sends;
afterwards every enrollment is acknowledged by the sandbox exactly once, none lost or doubled."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from siaptui.store.db import open_store
from tests.store.sandbox_support import enrollment, register_workers, sandbox_modules, synthetic_workers

KILLS = 50
MAX_DELAY_S = 0.2
LATENCY_MS = 30
BACKLOG = 7
"""The sandbox answers every /v1 call after LATENCY_MS and the outbox always holds at least
BACKLOG unsent enrollments when a sender starts, so its work lasts longer than the longest
kill delay on any machine, fast or slow: every kill lands while it logs in or submits."""
WORKERS = KILLS * int(MAX_DELAY_S * 1000 / LATENCY_MS + 1) + BACKLOG  # the most a fast PC could send
HELPER = Path(__file__).with_name("crash_sender.py")

pytestmark = pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "win32",
                                reason="needs fork and SIGKILL (POSIX)")


def _line(proc: subprocess.Popen, *prefixes: str) -> tuple[str, int]:
    while True:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"sender zygote ended early (expected {prefixes!r})")
        word, _, number = line.strip().partition(" ")
        if word in prefixes:
            return word, int(number)


def test_sigkill_50_times_while_submitting_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    server = sandbox_modules()
    from siaptui.portal.sandbox.ca import issue_demo_efirma

    seed = int(os.environ.get("STORE_CRASH_SEED", "20261123"))
    rng = random.Random(seed)
    workers = synthetic_workers(WORKERS)
    register_workers(tmp_path / "sandbox.db", workers)
    running = server.serve_in_thread(db=tmp_path / "sandbox.db", faults={"latency": LATENCY_MS})
    efirma = issue_demo_efirma(tmp_path / "efirma")
    db = tmp_path / "app" / "siaptui.db"
    tui = open_store(db)  # the TUI's side: enqueues while the sender is being killed
    env = dict(os.environ, SIAPTUI_EFIRMA_PASSWORD=efirma.password)
    zygote = subprocess.Popen([sys.executable, str(HELPER), str(db), running.url, str(efirma.cer), str(efirma.key)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    queue = iter(workers)

    def enqueue_up_to(backlog: int) -> None:
        """The clerk keeps enrolling while the sender is being killed."""
        unsent = sum(1 for item in tui.outbox.items() if item.state != "sent")
        for worker in [w for _, w in zip(range(max(0, backlog - unsent)), queue)]:
            request = enrollment(worker["nss"], worker["curp"], seed=int(worker["nss"]) % 9973)
            tui.outbox.enqueue(request, worker_nss=worker["nss"], employer_rfc=efirma.rfc, training=True)

    killed_while_running = killed_while_sending = 0
    try:
        for cycle in range(KILLS):
            enqueue_up_to(BACKLOG)
            zygote.stdin.write("go\n")
            zygote.stdin.flush()
            _, pid = _line(zygote, "pid")
            # Most kills land 0-200 ms into submitting (after login); every fourth lands 0-200 ms
            # after the process started (opening the store, logging in, claiming).
            if cycle % 4:
                word, _ = _line(zygote, "sending", "exit")
                if word == "exit":  # pragma: no cover - the child failed before sending
                    continue
            time.sleep(rng.uniform(0.0, MAX_DELAY_S))
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:  # pragma: no cover - reaped already
                pass
            _, status = _line(zygote, "exit")
            if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
                killed_while_running += 1
                killed_while_sending += bool(cycle % 4)
        running.set_faults({"latency": 0})  # the kills are over: drain at full speed
        for _ in range(5):  # restart without killing until the outbox is drained
            if all(item.state == "sent" for item in tui.outbox.items()):
                break
            zygote.stdin.write("go\n")
            zygote.stdin.flush()
            _line(zygote, "pid")
            _line(zygote, "exit")
        zygote.stdin.write("quit\n")
        zygote.stdin.flush()
        zygote.wait(timeout=30)
        items = tui.outbox.items()
        conn = sqlite3.connect(tmp_path / "sandbox.db")
        acknowledged = conn.execute("SELECT idem_key, folio, nss FROM enrollments").fetchall()
        conn.close()
    finally:
        if zygote.poll() is None:
            zygote.kill()
            zygote.wait()
        tui.close()
        running.stop()

    redone = sum(1 for i in items if i.attempts >= 2)
    print(f"crash test seed {seed}: {len(items)} enrollments; {killed_while_running} kills hit a running sender "
          f"({killed_while_sending} while sending); {redone} enrollments needed more than one attempt; "
          f"max attempts {max(i.attempts for i in items)}")
    sending_cycles = sum(1 for cycle in range(KILLS) if cycle % 4)
    assert killed_while_running >= KILLS * 0.9, f"only {killed_while_running} kills hit a running sender"
    assert killed_while_sending >= sending_cycles * 0.9, f"only {killed_while_sending} kills hit it while sending"
    assert len(items) >= BACKLOG
    assert [i.state for i in items] == ["sent"] * len(items), [(i.id, i.state, i.reason) for i in items]
    keys = [row[0] for row in acknowledged]
    assert len(keys) == len(set(keys)) == len(items)  # each acknowledged exactly once
    assert sorted(keys) == sorted(i.idempotency_key for i in items)  # none lost, none extra
    assert len({row[2] for row in acknowledged}) == len(items)  # no worker enrolled twice
    folios = {row[0]: row[1] for row in acknowledged}
    assert all(folios[i.idempotency_key] == i.folio for i in items)  # our receipt is the portal's
    assert max(i.attempts for i in items) >= 2  # some sends really were interrupted and redone
