"""Several capture stations on one PostgreSQL database (issue: an office with several desks).

Real parts only: a PostgreSQL server that pgserver starts (tests/store/conftest.py), the real
sandbox portal on loopback, station processes that are SIGKILLed at random.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from siaptui.store.db import open_store
from siaptui.store.errors import StoreError
from tests.store.helpers import NSS, OTHER_NSS, RFC, Clock, request_dict
from tests.store.sandbox_support import register_workers, sandbox_modules, synthetic_workers

OFFICE = "frase de la oficina"
STATIONS = 4
PER_STATION = 8
KILLS = 10
LATENCY_MS = 40
WORKER = Path(__file__).with_name("station_worker.py")
REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL (POSIX)")


def _station(pg_url: str, tmp_path: Path, number: int, **options: Any):
    return open_store(url=pg_url, key_dir=tmp_path / f"estacion-{number}", station=f"estacion-{number}",
                      **options)


# -- keys -------------------------------------------------------------------------------------
def test_a_station_without_the_office_key_reads_nothing_and_says_so(pg_url: str, tmp_path: Path) -> None:
    from siaptui.errors import explain
    from siaptui.i18n import set_language

    with _station(pg_url, tmp_path, 1, office_passphrase=OFFICE) as first:
        first.gallery.enroll(NSS, 2, b"plantilla")
    with pytest.raises(StoreError) as caught:
        _station(pg_url, tmp_path, 2, office_passphrase=None)
    assert caught.value.code == "store_station_no_key"
    assert not (tmp_path / "estacion-2" / "siaptui-office.key").exists()
    try:
        set_language("es")
        spanish = explain(caught.value)
        set_language("en")
        english = explain(caught.value)
    finally:
        set_language("es")
    assert "estacion-2" in spanish and "llave de la oficina" in spanish and "SIAPTUI_OFFICE_PASSPHRASE" in spanish
    assert "estacion-2" in english and "office key" in english
    with pytest.raises(StoreError) as wrong:
        _station(pg_url, tmp_path, 2, office_passphrase="otra frase")
    assert wrong.value.code == "store_wrong_passphrase"
    # With the office passphrase once, the station keeps its own key and never needs it again.
    with _station(pg_url, tmp_path, 2, office_passphrase=OFFICE) as second:
        assert list(second.gallery.templates()) == [(NSS, 2, b"plantilla")]
    with _station(pg_url, tmp_path, 2, office_passphrase=None) as again:
        assert len(again.gallery) == 1
        assert [e["action"] for e in again.audit.entries()] == ["station.joined"]
        assert [e["station"] for e in again.audit.entries()] == ["estacion-2"]
    # The server holds the key only wrapped by the office passphrase.
    key_file = json.loads((tmp_path / "estacion-1" / "siaptui-office.key").read_text())
    with _station(pg_url, tmp_path, 1) as first:
        office_copy = first.meta("office_key") or ""
    assert key_file["key"] not in office_copy and json.loads(office_copy)["wrapped"] is True


def test_a_key_file_of_another_office_is_refused(pg_url: str, tmp_path: Path) -> None:
    _station(pg_url, tmp_path, 1).close()
    (tmp_path / "estacion-2").mkdir()
    with open_store(tmp_path / "otra" / "siaptui.db") as other_office:  # a key made for another database
        other_key = other_office.vault.path
    (tmp_path / "estacion-2" / "siaptui-office.key").write_bytes(other_key.read_bytes())
    with pytest.raises(StoreError) as caught:
        _station(pg_url, tmp_path, 2)
    assert caught.value.code == "store_key_mismatch"


def test_an_unreachable_server_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    from siaptui.errors import explain

    with pytest.raises(StoreError) as caught:
        open_store(url="postgresql://siaptui:secreto@127.0.0.1:1/oficina", key_dir=tmp_path)
    assert caught.value.code == "store_unreachable"
    text = explain(caught.value)
    assert "postgresql://127.0.0.1:1/oficina" in text and "secreto" not in text and "Traceback" not in text


# -- claims -----------------------------------------------------------------------------------
def test_stations_claiming_at_once_skip_each_others_locked_items(pg_url: str, tmp_path: Path) -> None:
    clock = Clock()
    with _station(pg_url, tmp_path, 1, office_passphrase=OFFICE, clock=clock) as one, \
            _station(pg_url, tmp_path, 2, office_passphrase=OFFICE, clock=clock) as two:
        first = one.outbox.enqueue(request_dict(), worker_nss=NSS, employer_rfc=RFC, training=True)
        second = one.outbox.enqueue(request_dict(nss=OTHER_NSS), worker_nss=OTHER_NSS, employer_rfc=RFC,
                                    training=True)
        with one.transaction():  # station 1 is mid-claim: its row lock is held
            assert one.outbox.claim_due("estacion-1:1:a").id == first.id
            taken: list = []
            thread = threading.Thread(target=lambda: taken.append(two.outbox.claim_due("estacion-2:1:b")))
            thread.start()
            thread.join(timeout=5)
            assert not thread.is_alive(), "station 2 waited for station 1's lock instead of skipping it"
        assert taken[0].id == second.id
        assert two.outbox.claim_due("estacion-2:1:b") is None


def test_a_dead_stations_claim_is_taken_over_when_its_lease_ends(pg_url: str, tmp_path: Path) -> None:
    from siaptui.store.outbox import CLAIM_LEASE_S

    clock = Clock()
    with _station(pg_url, tmp_path, 1, office_passphrase=OFFICE, clock=clock) as one, \
            _station(pg_url, tmp_path, 2, office_passphrase=OFFICE, clock=clock) as two:
        item = one.outbox.enqueue(request_dict(), worker_nss=NSS, employer_rfc=RFC, training=True)
        assert one.outbox.claim_due("otra-pc:4242:a").id == item.id  # a station on another PC, then it died
        clock.now += CLAIM_LEASE_S - 1
        assert two.outbox.claim_due("estacion-2:1:b") is None  # its lease still holds
        clock.now += 2
        taken = two.outbox.claim_due("estacion-2:1:b")
        assert (taken.id, taken.claimed_by, taken.attempts) == (item.id, "estacion-2:1:b", 2)


# -- four stations, random SIGKILLs ---------------------------------------------------------
class Station:
    """A station process and the lines it printed (read by a thread, so the pipe never fills)."""

    def __init__(self, config_path: Path, env: dict) -> None:
        self.proc = subprocess.Popen([sys.executable, str(WORKER), str(config_path)], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, env=env, cwd=REPO)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=lambda: self.lines.extend(self.proc.stdout), daemon=True)
        self.reader.start()

    def enqueued(self) -> int:
        return sum(1 for line in list(self.lines) if line.startswith("enqueued "))

    def wait_for_enqueue(self, timeout: float) -> bool:
        """Until it commits one more enrollment; False if it ends (or stalls) first."""
        before, deadline = self.enqueued(), time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            if self.enqueued() > before:
                return True
            time.sleep(0.01)
        return False

    def finish(self, timeout: float) -> list[str]:
        self.proc.wait(timeout=timeout)
        self.reader.join(timeout=5)
        return [line.split()[1] for line in self.lines if line.startswith("enqueued ")]


def test_four_stations_killed_at_random_send_every_enrollment_once(pg_url: str, tmp_path: Path) -> None:
    from siaptui.biometrics.person import PersonGallery, search_one
    from siaptui.portal.sandbox.ca import issue_demo_efirma
    from tests.biometrics.engine_helpers import moved, random_template
    from tests.store.station_worker import FINGERS

    seed = int(os.environ.get("STORE_STATIONS_SEED", "20261202"))
    rng = random.Random(seed)
    workers = synthetic_workers(STATIONS * PER_STATION)
    register_workers(tmp_path / "sandbox.db", workers)
    running = sandbox_modules().serve_in_thread(db=tmp_path / "sandbox.db", faults={"latency": LATENCY_MS})
    efirma = issue_demo_efirma(tmp_path / "efirma")
    _station(pg_url, tmp_path, 1, office_passphrase=OFFICE).close()  # the office's first station sets the key
    env = dict(os.environ, SIAPTUI_EFIRMA_PASSWORD=efirma.password, SIAPTUI_OFFICE_PASSPHRASE=OFFICE,
               PYTHONPATH=str(REPO))
    configs = []
    for number in range(1, STATIONS + 1):
        mine = workers[(number - 1) * PER_STATION:number * PER_STATION]
        config = {"url": pg_url, "key_dir": str(tmp_path / f"estacion-{number}"), "station": f"estacion-{number}",
                  "portal": running.url, "cer": str(efirma.cer), "key": str(efirma.key), "rfc": efirma.rfc,
                  "workers": [dict(w, seed=1000 + int(w["nss"][-5:])) for w in mine]}
        path = tmp_path / f"estacion-{number}.json"
        path.write_text(json.dumps(config), encoding="utf-8")
        configs.append(path)
    stations = {n: Station(configs[n - 1], env) for n in range(1, STATIONS + 1)}
    reported: list[str] = []
    output: list[str] = []
    killed = 0
    try:
        # Up to KILLS kills within a time budget: on a loaded machine a station may need longer
        # to commit its next enrollment, and a missed chance is tried again, not skipped.
        budget = time.monotonic() + 120
        while killed < KILLS and time.monotonic() < budget:
            busy = [n for n, s in stations.items() if s.proc.poll() is None and "done\n" not in s.lines]
            if not busy:
                break
            number = rng.choice(busy)
            station = stations[number]
            # Kill it 0-150 ms after it committed an enrollment: while it submits, mostly.
            if not station.wait_for_enqueue(timeout=20):
                continue
            time.sleep(rng.uniform(0.0, 0.15))
            if station.proc.poll() is None:
                station.proc.send_signal(signal.SIGKILL)
                killed += 1
            reported.extend(station.finish(timeout=30))
            output.extend(station.lines)
            stations[number] = Station(configs[number - 1], env)
        running.set_faults({"latency": 0})
        for station in stations.values():
            reported.extend(station.finish(timeout=90))
            output.extend(station.lines)
    finally:
        for station in stations.values():
            if station.proc.poll() is None:
                station.proc.kill()
        running.stop()
    assert all(s.proc.returncode == 0 for s in stations.values()), "".join(output)

    with _station(pg_url, tmp_path, 3) as third:
        items = third.outbox.items()
        entries = list(third.audit.entries())
        assert third.audit.verify()
        gallery = PersonGallery()
        third.gallery.load_into(gallery)
    conn = sqlite3.connect(tmp_path / "sandbox.db")
    acknowledged = conn.execute("SELECT idem_key, folio, nss FROM enrollments").fetchall()
    conn.close()
    print(f"stations test seed {seed}: {len(items)} enrollments, {killed} SIGKILLs, "
          f"{sum(1 for i in items if i.attempts >= 2)} needed more than one attempt")

    assert killed >= 3, f"only {killed} SIGKILLs landed: the test did not exercise crashes"
    assert max(i.attempts for i in items) >= 2  # some sends really were cut off and finished elsewhere
    assert len(items) == len(workers) and {i.worker_nss for i in items} == {w["nss"] for w in workers}
    assert [i.state for i in items] == ["sent"] * len(items), [(i.id, i.state, i.reason) for i in items]
    keys = [row[0] for row in acknowledged]
    assert len(keys) == len(set(keys)) == len(items)  # each acknowledged exactly once
    assert sorted(keys) == sorted(i.idempotency_key for i in items)  # none lost, none extra
    assert set(reported) <= set(keys)  # every enqueue a station reported reached the portal
    folios = {row[0]: row[1] for row in acknowledged}
    assert all(folios[i.idempotency_key] == i.folio for i in items)
    sent_by = {e["station"] for e in entries if e["action"] == "outbox.sent"}
    assert len(sent_by) >= 2, sent_by  # stations sent each other's captures

    # The ghost check at station 3 finds a worker enrolled at station 1, under a new NSS.
    at_station_1 = json.loads(configs[0].read_text())["workers"][0]
    probes = {p: moved(random_template(at_station_1["seed"] * 100 + p), 0.1, (8.0, -6.0), seed=p, jitter=1.5)
              for p in FINGERS}
    hit = search_one(gallery, probes, exclude={"NUEVO-NSS"})
    assert hit is not None and hit.person == at_station_1["nss"]


def test_store_check_on_a_station_of_the_office_server_says_what_to_use(tmp_path: Path, monkeypatch,
                                                                         capsys) -> None:
    from siaptui.cli import main

    monkeypatch.setenv("SIAPTUI_CONFIG", str(tmp_path / "siaptui.toml"))
    monkeypatch.setenv("SIAPTUI_STORE_URL", "postgresql://siaptui:secreto@servidor/oficina")
    for action in ("check", "recover"):
        assert main(["store", action]) == 1
        err = capsys.readouterr().err
        assert f"siaptui store {action}" in err and "postgresql://servidor/oficina" in err
        assert "pg_dump" in err and "secreto" not in err and "Traceback" not in err


def test_arco_deletion_on_the_server_rewrites_the_tables_or_stays_pending(pg_url: str, tmp_path: Path) -> None:
    from siaptui.store.scrub import finish_pending, is_pending

    with _station(pg_url, tmp_path, 1, office_passphrase=OFFICE) as one, \
            _station(pg_url, tmp_path, 2, office_passphrase=OFFICE) as two:
        one.gallery.enroll(NSS, 2, b"plantilla")
        one.gallery.enroll(OTHER_NSS, 2, b"otra")
        assert one.gallery.delete_worker(NSS)["scrubbed"] == 1 and not is_pending(two)
        two.gallery.enroll(NSS, 3, b"de nuevo")
        with two.transaction() as conn:  # station 2 is reading the gallery right now
            conn.execute("SELECT COUNT(*) FROM gallery").fetchone()
            counts = one.gallery.delete_worker(NSS)
            assert counts["templates"] == 1 and counts["scrubbed"] == 0 and is_pending(one)
        assert finish_pending(two) and not is_pending(one)  # whichever station comes next finishes it
        assert [nss for nss, _, _ in two.gallery.templates()] == [OTHER_NSS]


def test_a_station_whose_server_dropped_it_says_so_then_carries_on(pg_url: str, tmp_path: Path) -> None:
    import psycopg

    with _station(pg_url, tmp_path, 1) as one:
        one.outbox.enqueue(request_dict(), worker_nss=NSS, employer_rfc=RFC, training=True)
        pid = one.connection().execute("SELECT pg_backend_pid()").fetchone()[0]
        with psycopg.connect(pg_url, autocommit=True) as admin:  # the server restarts, say
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(StoreError) as caught:
            one.outbox.enqueue(request_dict(), worker_nss=OTHER_NSS, employer_rfc=RFC, training=True)
        assert caught.value.code == "store_unreachable"
        assert one.outbox.counts()["pending"] == 1  # nothing half-saved; the next use reconnects
        one.outbox.enqueue(request_dict(), worker_nss=OTHER_NSS, employer_rfc=RFC, training=True)
        assert one.outbox.counts()["pending"] == 2


def test_practice_mode_keeps_to_the_stations_own_file(tmp_path: Path) -> None:
    from siaptui.config import Settings

    settings = Settings()
    settings.store.url = "postgresql://siaptui@127.0.0.1:1/oficina"  # unreachable: would fail if used
    settings.store.data_dir = str(tmp_path)
    settings.general.training = True
    with open_store(settings=settings) as practice:
        assert not practice.shared and practice.path == tmp_path / "practica" / "siaptui.db"
    settings.general.training = False
    with pytest.raises(StoreError) as caught:
        open_store(settings=settings)
    assert caught.value.code == "store_unreachable"


def test_a_claim_names_its_station_and_only_that_station_judges_its_process(pg_url: str, tmp_path: Path) -> None:
    from siaptui.store.outbox import new_owner

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    clock = Clock()
    with _station(pg_url, tmp_path, 1, office_passphrase=OFFICE, clock=clock) as one, \
            _station(pg_url, tmp_path, 2, office_passphrase=OFFICE, clock=clock) as two:
        item = one.outbox.enqueue(request_dict(), worker_nss=NSS, employer_rfc=RFC, training=True)
        owner = new_owner("estacion-1")
        assert owner.startswith("estacion-1:")
        gone = f"estacion-1:{dead.stdout.strip()}:x"  # a sender of station 1 whose process has ended
        assert one.outbox.claim_due(gone).id == item.id
        # Station 2 cannot see station 1's processes (another PC in a real office): the lease decides.
        assert two.outbox.claim_due(new_owner("estacion-2")) is None
        # Station 1 can: it takes its dead sender's claim over at once.
        assert one.outbox.claim_due(owner).claimed_by == owner


def test_two_stations_importing_one_bundle_at_once_add_each_item_once(pg_url: str, tmp_path: Path) -> None:
    from siaptui.store.export import export_pending, import_bundle

    with open_store(tmp_path / "pc-sin-red" / "siaptui.db") as offline:
        for nss in (NSS, OTHER_NSS):
            offline.outbox.enqueue(request_dict(nss=nss), worker_nss=nss, employer_rfc=RFC, training=True)
        export_pending(offline, tmp_path / "usb.siaptui", "frase del usb")
    with _station(pg_url, tmp_path, 1, office_passphrase=OFFICE) as one, \
            _station(pg_url, tmp_path, 2, office_passphrase=OFFICE) as two:
        results: list = []
        threads = [threading.Thread(target=lambda s=s: results.append(import_bundle(s, tmp_path / "usb.siaptui",
                                                                                    "frase del usb")))
                   for s in (one, two)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert len(results) == 2, "an import failed"  # a thread that raised added no result
        assert (sum(r[0] for r in results), sum(r[1] for r in results)) == (2, 2), results
        assert len(one.outbox.items()) == 2
