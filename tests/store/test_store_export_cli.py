"""`siaptui outbox export`: the Bandeja's export from the command line (SSH, cron), run as the
real command against a real store, and the bundle it writes imported by `siaptui outbox import`."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import time
from pathlib import Path

from siaptui.store.db import open_store
from tests.conftest import REPO
from tests.store.helpers import NSS, OTHER_NSS, RFC, request_dict

PASSPHRASE = "frase del paquete"
PROMPTS = (b"Frase de paso del paquete:", b"Repita la frase de paso:")
"""The command's two prompts (store.import.passphrase_prompt, store.export.passphrase_again_prompt)."""


def siaptui(data_dir: Path, *argv: str, stdin: str = "", passphrase: str = "") -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO), SIAPTUI_STORE_DATA_DIR=str(data_dir))
    if passphrase:
        env["SIAPTUI_BUNDLE_PASSPHRASE"] = passphrase
    return subprocess.run([sys.executable, "-m", "siaptui", *argv], input=stdin, capture_output=True, text=True,
                          env=env, timeout=120)


def office_with_one_of_each(data_dir: Path) -> dict[str, str]:
    """Pending, failing (retried by itself), rejected and sent: the keys of each."""
    with open_store(data_dir / "siaptui.db") as store:
        items = {name: store.outbox.enqueue(request_dict(), worker_nss=NSS if name != "rejected" else OTHER_NSS,
                                            employer_rfc=RFC, training=False)
                 for name in ("pending", "failing", "rejected", "sent")}
        for name in ("failing", "rejected", "sent"):
            store.outbox.claim_due("test", only=items[name].id)
        store.outbox.mark_failed(items["failing"].id, "portal_overloaded", retryable=True, retry_after=3600)
        store.outbox.mark_failed(items["rejected"].id, "portal_duplicate_finger", retryable=False,
                                 params={"finger": 2})
        store.outbox.mark_sent(items["sent"].id, {"folio": "F-1", "acuse": "a", "received_at": "t",
                                                  "enrollment_id": "e"})
        return {name: item.idempotency_key for name, item in items.items()}


def test_export_writes_what_waits_to_be_sent_and_the_import_on_another_terminal_adds_it(tmp_path: Path) -> None:
    keys = office_with_one_of_each(tmp_path / "a")
    bundle = tmp_path / "usb" / "bandeja.siaptui"
    done = siaptui(tmp_path / "a", "outbox", "export", "--out", str(bundle), passphrase=PASSPHRASE)
    assert done.returncode == 0, done.stderr
    assert f"Se exportaron 2 envíos pendientes a {bundle}" in done.stdout
    assert f"siaptui outbox import {bundle}" in done.stdout  # the next step, on the other terminal
    assert bundle.stat().st_mode & 0o777 == 0o600 and NSS.encode() not in bundle.read_bytes()
    assert [p.name for p in bundle.parent.iterdir()] == ["bandeja.siaptui"]  # no temp file left beside it

    imported = siaptui(tmp_path / "b", "outbox", "import", str(bundle), stdin=PASSPHRASE + "\n")
    assert imported.returncode == 0, imported.stderr
    assert "Se importaron 2 enrolamientos; 0 ya estaban" in imported.stdout
    with open_store(tmp_path / "b" / "siaptui.db") as other:
        assert {i.idempotency_key for i in other.outbox.items()} == {keys["pending"], keys["failing"]}
    with open_store(tmp_path / "a" / "siaptui.db") as office:  # the audit log says who exported what
        exported = [e for e in office.audit.entries() if e["action"] == "outbox.exported"]
        assert len(exported) == 1 and exported[0]["actor"] == "cli"


def test_without_out_the_bundle_goes_where_the_bandeja_offers_it(tmp_path: Path) -> None:
    office_with_one_of_each(tmp_path / "a")
    done = siaptui(tmp_path / "a", "outbox", "export", "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    assert done.returncode == 0, done.stderr
    written = list((tmp_path / "a").glob("bandeja-*.siaptui"))
    assert len(written) == 1 and str(written[0]) in done.stdout


def test_nothing_to_send_exits_3_and_writes_no_file(tmp_path: Path) -> None:
    with open_store(tmp_path / "a" / "siaptui.db") as store:
        item = store.outbox.enqueue(request_dict(), worker_nss=NSS, employer_rfc=RFC, training=False)
        store.outbox.claim_due("test")
        store.outbox.mark_failed(item.id, "portal_duplicate_finger", retryable=False, params={"finger": 2})
    bundle = tmp_path / "bandeja.siaptui"
    done = siaptui(tmp_path / "a", "outbox", "export", "--out", str(bundle), passphrase=PASSPHRASE)
    assert done.returncode == 3, done.stderr
    assert "no se escribió ningún archivo" in done.stdout and "rechazados no se exportan" in done.stdout
    assert not bundle.exists()


def test_a_short_passphrase_or_an_unwritable_file_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    office_with_one_of_each(tmp_path / "a")
    bundle = tmp_path / "bandeja.siaptui"
    short = siaptui(tmp_path / "a", "outbox", "export", "--out", str(bundle), stdin="corta\n")
    assert short.returncode == 1 and "al menos 8 caracteres" in short.stderr and "Traceback" not in short.stderr
    assert not bundle.exists()

    (tmp_path / "stick").write_text("a file where the folder should be", encoding="utf-8")
    blocked = tmp_path / "stick" / "bandeja.siaptui"
    refused = siaptui(tmp_path / "a", "outbox", "export", "--out", str(blocked), passphrase=PASSPHRASE)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert f"No se pudo escribir el paquete {blocked}" in refused.stderr and "Elija otro archivo" in refused.stderr


def _typed(data_dir: Path, argv: list[str], answers: list[str]) -> tuple[int, str]:
    """Run siaptui on a terminal (a pty) and type `answers` at its prompts; (exit code, screen)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the command on the pty
        os.environ.update(PYTHONPATH=str(REPO), SIAPTUI_STORE_DATA_DIR=str(data_dir))
        os.execv(sys.executable, [sys.executable, "-m", "siaptui", *argv])
    seen = b""
    given = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
        prompts = sum(seen.count(prompt) for prompt in PROMPTS)
        if given < min(prompts, len(answers)):  # a prompt waits: answer it once
            os.write(fd, answers[given].encode("utf-8") + b"\n")
            given += 1
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), seen.decode("utf-8", "replace")


def test_on_a_terminal_the_passphrase_is_typed_twice(tmp_path: Path) -> None:
    office_with_one_of_each(tmp_path / "a")
    bundle = tmp_path / "bandeja.siaptui"
    code, screen = _typed(tmp_path / "a", ["outbox", "export", "--out", str(bundle)],
                          [PASSPHRASE, PASSPHRASE + "x"])
    assert code == 1 and "no coinciden" in screen and not bundle.exists(), screen
    assert PASSPHRASE not in screen  # typed without echo
    code, screen = _typed(tmp_path / "a", ["outbox", "export", "--out", str(bundle)], [PASSPHRASE, PASSPHRASE])
    assert code == 0 and "Se exportaron 2" in screen and bundle.exists(), screen


def test_help_says_what_it_writes_and_its_exit_codes_in_the_chosen_language(tmp_path: Path) -> None:
    spanish = siaptui(tmp_path, "outbox", "export", "--help")
    assert spanish.returncode == 0 and spanish.stdout.startswith("uso: siaptui outbox export")
    text = " ".join(spanish.stdout.split())  # argparse wraps at the terminal's width
    assert "--out ARCHIVO" in text and "Código de salida: 0 paquete escrito, 3 nada por enviar" in text
    english = siaptui(tmp_path, "--lang", "en", "outbox", "export", "--help")
    assert english.returncode == 0 and english.stdout.startswith("usage: siaptui outbox export")
    assert "Exit code: 0 bundle written, 3 nothing to send" in " ".join(english.stdout.split())
    listed = siaptui(tmp_path, "outbox", "--help")
    assert "export" in listed.stdout and "import" in listed.stdout
