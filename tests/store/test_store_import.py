"""`siaptui outbox import`: a bundle from a terminal without internet finishes on another one,
against the real sandbox on loopback — and nothing is ever sent twice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from siaptui.store.db import open_store
from siaptui.store.export import export_pending
from siaptui.store.sender import OutboxSender
from tests.conftest import REPO
from tests.store.test_store_sender import Portal, _enqueue, portal  # noqa: F401 - the real sandbox fixture, used by name

PASSPHRASE = "frase del paquete"


def _import(data_dir: Path, bundle: Path, *, stdin: str = "", env_passphrase: str = "") -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO), SIAPTUI_STORE_DATA_DIR=str(data_dir))
    if env_passphrase:
        env["SIAPTUI_BUNDLE_PASSPHRASE"] = env_passphrase
    return subprocess.run([sys.executable, "-m", "siaptui", "outbox", "import", str(bundle)], input=stdin,
                          capture_output=True, text=True, env=env, timeout=120)


def test_a_bundle_imports_on_another_terminal_and_nothing_is_sent_twice(
        tmp_path: Path, portal: Portal) -> None:  # noqa: F811 - the fixture imported above
    with open_store(tmp_path / "a" / "siaptui.db") as office:  # this PC has no link to the portal
        items = [_enqueue(office, portal, training=False) for _ in range(2)]
        bundle = tmp_path / "usb" / "bandeja.siaptui"
        assert export_pending(office, bundle, PASSPHRASE) == 2

    done = _import(tmp_path / "b", bundle, stdin=PASSPHRASE + "\n")  # non-interactive: the first stdin line
    assert done.returncode == 0, done.stderr
    assert "Se importaron 2 enrolamientos; 0 ya estaban" in done.stdout
    with open_store(tmp_path / "b" / "siaptui.db") as branch:
        assert OutboxSender(branch, portal.factory()).run_once().sent == 2
        folios = {i.idempotency_key: i.folio for i in branch.outbox.items()}

    again = _import(tmp_path / "b", bundle, env_passphrase=PASSPHRASE)  # the same bundle on the same terminal
    assert again.returncode == 0, again.stderr
    assert "Se importaron 0 enrolamientos; 2 ya estaban" in again.stdout
    with open_store(tmp_path / "b" / "siaptui.db") as branch:
        assert OutboxSender(branch, portal.factory()).run_once().ids == []

    # A third terminal imports it too, and the first one reaches the portal after all: the
    # portal's Idempotency-Key answers each with the receipt it already gave.
    assert _import(tmp_path / "c", bundle, env_passphrase=PASSPHRASE).returncode == 0
    for folder in ("c", "a"):
        with open_store(tmp_path / folder / "siaptui.db") as terminal:
            assert OutboxSender(terminal, portal.factory()).run_once().sent == 2
            assert {i.idempotency_key: i.folio for i in terminal.outbox.items()} == folios
    recorded = portal.acknowledged()
    assert all(recorded[item.idempotency_key] == (folios[item.idempotency_key], 1) for item in items)


def test_a_wrong_passphrase_or_a_missing_file_is_a_clear_message(tmp_path: Path) -> None:
    with open_store(tmp_path / "a" / "siaptui.db") as office:
        from tests.store.helpers import NSS, RFC, request_dict

        office.outbox.enqueue(request_dict(), worker_nss=NSS, employer_rfc=RFC, training=True)
        export_pending(office, tmp_path / "b.siaptui", PASSPHRASE)
    wrong = _import(tmp_path / "b", tmp_path / "b.siaptui", env_passphrase="otra frase")
    assert wrong.returncode == 1 and "Traceback" not in wrong.stderr
    assert "La frase de acceso no abre el paquete" in wrong.stderr
    missing = _import(tmp_path / "b", tmp_path / "no-existe.siaptui", stdin="")
    assert missing.returncode == 1 and "no-existe.siaptui" in missing.stderr and "Traceback" not in missing.stderr
