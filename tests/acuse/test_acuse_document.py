"""The acuse as files: read back from a real store, the PDF's text, the PNG's QR, atomic writes,
the print command and `siaptui acuse FOLIO`."""

from __future__ import annotations

import io
import os
import stat
from datetime import datetime, timezone
from pathlib import Path

import pytest

from siaptui.acuse import document, printing, qr
from siaptui.acuse.record import AcuseError, find, from_item, payload
from siaptui.config import Settings
from siaptui.errors import explain
from siaptui.portal import seal as portal_seal
from siaptui.portal.models import Receipt

NSS, CURP, RFC = "12058512349", "PELJ850412HJCRPN00", "DEPM800101AB2"
FOLIO = "SBX-20260528-000001"
ACUSE_TEXT = "\n".join([
    "ACUSE DE RECIBO DE REGISTRO BIOMÉTRICO — PORTAL DE PRUEBA (sin validez oficial)",
    f"Folio: {FOLIO}",
    "Fecha de recepción: 2026-05-28T20:26:40Z",
    f"Patrón: MARIA DEMO PEREZ (RFC {RFC}), registro patronal Y5412345100",
    f"Trabajador: JUAN PEREZ LOPEZ, NSS {NSS}, CURP {CURP}",
])


def _seal_key():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.generate()


KEY = _seal_key()
SEAL = portal_seal.sign(KEY, FOLIO, ACUSE_TEXT)


@pytest.fixture
def store():
    from siaptui.store.db import open_store

    opened = open_store(settings=Settings())
    yield opened
    opened.close()


def sent(store, folio: str = FOLIO, text: str = ACUSE_TEXT, seal: "str | None" = SEAL):
    outbox = store.outbox
    item = outbox.enqueue({"nss": NSS, "curp": CURP}, worker_nss=NSS, employer_rfc=RFC, training=False)
    return outbox.mark_sent(item.id, Receipt(folio=folio, acuse=text, enrollment_id="enr-1",
                                             received_at=datetime(2026, 5, 28, 20, 26, 40, tzinfo=timezone.utc),
                                             seal=seal))


def decode_png(data: bytes) -> list[str]:
    zxingcpp = pytest.importorskip("zxingcpp", reason="zxing-cpp has no wheel for Python 3.9 here")
    from PIL import Image

    return [found.text for found in zxingcpp.read_barcodes(Image.open(io.BytesIO(data)))]


def test_pdf_reads_back_with_folio_rfc_and_masked_nss_only(store, tmp_path: Path) -> None:
    from pypdf import PdfReader

    sent(store)
    acuse = find(store.outbox.items(), FOLIO.lower())
    saved = document.save(acuse, tmp_path / "acuses")
    assert saved.pdf.name == f"acuse-{FOLIO}.pdf" and saved.png.name == f"acuse-{FOLIO}.png"
    text = "".join(page.extract_text() for page in PdfReader(str(saved.pdf)).pages)
    for expected in (FOLIO, RFC, "1205*****49", "Acuse de registro biométrico", "PELJ8504******00"):
        assert expected in text
    assert SEAL in "".join(text.split())  # the whole seal, wrapped on the page
    assert NSS not in text and CURP not in text  # the paper leaves the office: masked
    assert sorted(p.name for p in saved.pdf.parent.iterdir()) == [saved.pdf.name, saved.png.name]  # no temp files


def test_png_qr_decodes_to_the_payload_with_its_folio(store) -> None:
    acuse = from_item(sent(store))
    decoded = decode_png(document.png_bytes(acuse))
    assert decoded == [payload(acuse)]
    assert decoded[0] == f"FOLIO:{FOLIO} RFC:{RFC} NSS:1205*****49 FECHA:2026-05-28 SELLO:{portal_seal.short(SEAL)}"


def test_the_seal_read_back_from_the_store_verifies_with_the_portal_key(store) -> None:
    """The acuse's seal is the receipt's field kept by the outbox, and it checks against the
    portal's public key with the folio and text the office keeps; another text does not."""
    acuse = from_item(sent(store))
    public = portal_seal.public_key_b64(KEY)
    assert acuse.seal == SEAL and portal_seal.verify(public, acuse.folio, acuse.text, acuse.seal)
    assert not portal_seal.verify(public, acuse.folio, acuse.text.replace("JUAN", "JUANA"), acuse.seal)
    assert not portal_seal.verify(public, "SBX-20260528-000002", acuse.text, acuse.seal)
    assert not portal_seal.verify(public, acuse.folio, acuse.text, "no-es-un-sello")


def test_payload_fits_half_blocks_on_an_80x24_screen() -> None:
    """The sandbox's acuse makes a version-5 code at error level M; a folio half as long again
    with a 13-character RFC is still version 5 (level L).  Either is 41×21 cells with a 2-module
    quiet zone, and gets the full 4-module zone when the screen has the rows."""
    from siaptui.acuse.record import Acuse

    usual = Acuse(folio=FOLIO, employer_rfc=RFC, worker_nss=NSS, received_at="2026-05-28T20:26:40Z",
                  text=ACUSE_TEXT, training=False, seal=SEAL)
    assert (qr.symbol(payload(usual)).version, qr.symbol(payload(usual)).error) == (5, "M")
    acuse = Acuse(folio="IMSS-BIO-20261231-0000012345", employer_rfc="PEGJ8001019Q8", worker_nss=NSS,
                  received_at="2026-12-31T23:59:59Z", text=ACUSE_TEXT, training=False, seal=SEAL)
    code = qr.symbol(payload(acuse))
    assert code.version == 5 and code.mode == "alphanumeric"
    rows = qr.terminal_rows(payload(acuse), max_rows=21)
    assert len(rows) <= 21 and len(rows[0]) <= 41
    assert len(qr.terminal_rows(payload(acuse), max_rows=40)[0]) == code.symbol_size(border=qr.QUIET_ZONE)[0]


def test_half_blocks_everywhere_but_old_terminals_and_non_unicode_output() -> None:
    assert qr.can_show_halfblocks({"TERM": "linux"}, "utf-8")
    assert qr.can_show_halfblocks({"TERM": "xterm-256color"}, "UTF-8")
    assert not qr.can_show_halfblocks({"TERM": "vt220"}, "utf-8")
    assert not qr.can_show_halfblocks({"TERM": "xterm"}, "ascii")
    rows = qr.terminal_rows("FOLIO:X", max_rows=100, halfblocks=False)
    assert set("".join(rows)) <= {"#", " "} and len(rows[0]) == 2 * len(rows)


def test_unknown_folio_and_unsent_item_say_so_in_spanish(store) -> None:
    pending = store.outbox.enqueue({"nss": NSS}, worker_nss=NSS, employer_rfc=RFC, training=False)
    with pytest.raises(AcuseError) as unknown:
        find(store.outbox.items(), "SBX-19990101-000009")
    assert unknown.value.code == "acuse_folio_unknown"
    assert "El folio SBX-19990101-000009 no está en la bandeja" in explain(unknown.value)
    with pytest.raises(AcuseError) as not_sent:
        from_item(store.outbox.get(pending.id))
    assert "aún no tiene acuse" in explain(not_sent.value)


def test_an_acuse_without_seal_says_so_instead_of_inventing_one(store) -> None:
    acuse = from_item(sent(store, text="ACUSE DE TRANSFERENCIA\nFolio: SBX-T-1", seal=None))
    assert acuse.seal is None and "SELLO" not in payload(acuse)
    from pypdf import PdfReader

    text = PdfReader(io.BytesIO(document.pdf_bytes(acuse))).pages[0].extract_text()
    assert "no trae sello" in text


def test_write_failure_leaves_no_file_and_names_the_path(store, tmp_path: Path) -> None:
    acuse = from_item(sent(store))
    blocker = tmp_path / "no-es-carpeta"
    blocker.write_text("x")
    with pytest.raises(AcuseError) as failed:
        document.save(acuse, blocker / "acuses")
    assert failed.value.code == "acuse_write_failed" and str(blocker) in explain(failed.value)
    with pytest.raises(AcuseError) as folder:
        document.write_pdf(acuse, tmp_path)
    assert folder.value.code == "acuse_path_is_folder"
    existing = tmp_path / "a.pdf"
    existing.write_bytes(b"old")
    document.write_pdf(acuse, existing)
    assert existing.read_bytes().startswith(b"%PDF") and sorted(os.listdir(tmp_path)) == ["a.pdf", "no-es-carpeta"]


def fake_command(folder: Path, name: str, script: str) -> Path:
    """A stand-in for the system's spooler command on PATH (the OS boundary, not our code)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


@pytest.mark.skipif(os.name == "nt", reason="lp/lpr are the Linux and macOS print commands")
def test_print_uses_lp_and_reports_only_what_the_spooler_said(tmp_path: Path, monkeypatch) -> None:
    bin_dir = tmp_path / "bin"
    log = tmp_path / "printed.txt"
    fake_command(bin_dir, "lp", f'echo "$@" > "{log}"\necho "request id is Oficina-7 (1 file(s))"\n')
    monkeypatch.setenv("PATH", str(bin_dir))
    job = printing.send_to_printer(tmp_path / "acuse.pdf")
    assert job.command == "lp" and job.answer == "request id is Oficina-7 (1 file(s))"
    assert log.read_text().strip() == str(tmp_path / "acuse.pdf")

    fake_command(bin_dir, "lp", 'echo "lp: Error - No default destination." >&2\nexit 1\n')
    with pytest.raises(AcuseError) as refused:
        printing.send_to_printer(tmp_path / "acuse.pdf")
    assert refused.value.code == "acuse_print_failed" and "No default destination" in explain(refused.value)

    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(AcuseError) as none:
        printing.send_to_printer(tmp_path / "acuse.pdf")
    assert none.value.code == "acuse_no_printer" and "visor de PDF" in explain(none.value)


def test_command_line_writes_the_pdf_and_png_of_a_folio(store, tmp_path: Path, capsys) -> None:
    from pypdf import PdfReader

    from siaptui import cli

    sent(store)
    store.close()
    pdf, png = tmp_path / "out" / "acuse.pdf", tmp_path / "out" / "qr.png"
    assert cli.main(["acuse", FOLIO, "--pdf", str(pdf), "--png", str(png)]) == 0
    assert FOLIO in PdfReader(str(pdf)).pages[0].extract_text()
    assert decode_png(png.read_bytes())[0].startswith(f"FOLIO:{FOLIO} ")
    assert str(pdf) in capsys.readouterr().out

    assert cli.main(["acuse", "SBX-19990101-000009", "--pdf", str(tmp_path / "x.pdf")]) == 1
    err = capsys.readouterr().err
    assert "no está en la bandeja de esta terminal" in err and "Traceback" not in err
    assert not (tmp_path / "x.pdf").exists()


def test_command_line_without_a_store_does_not_create_one(tmp_path: Path, capsys, monkeypatch) -> None:
    from siaptui import cli

    monkeypatch.setenv("SIAPTUI_STORE_DATA_DIR", str(tmp_path / "vacia"))
    assert cli.main(["acuse", FOLIO, "--pdf", str(tmp_path / "x.pdf")]) == 1
    assert "no tiene bandeja" in capsys.readouterr().err
    assert not any((tmp_path / "vacia").glob("*.db"))


def test_acuse_folder_setting_is_checked_like_the_others(tmp_path: Path, monkeypatch) -> None:
    from siaptui import config

    a_file = tmp_path / "acuses.txt"
    a_file.write_text("x")
    path = tmp_path / "siaptui.toml"
    path.write_text(f'[acuse]\nfolder = "{a_file}"\n')
    with pytest.raises(config.ConfigError) as bad:
        config.load(path, environ={})
    assert "acuse.folder" in explain(bad.value) and "una carpeta (no un archivo)" in explain(bad.value)
    path.write_text(f'[acuse]\nfolder = "{tmp_path / "papeles"}"\n')
    settings = config.load(path, environ={})
    assert config.acuse_dir(settings) == tmp_path / "papeles"
    settings.general.training = True
    assert config.acuse_dir(settings) == tmp_path / "papeles" / "practica"
    monkeypatch.delenv("SIAPTUI_ACUSE_FOLDER")
    monkeypatch.setenv("HOME", str(tmp_path / "casa"))
    monkeypatch.setenv("XDG_DOCUMENTS_DIR", str(tmp_path / "casa" / "Documentos"))
    assert config.acuse_dir(Settings()).parts[-2:] == ("siaptui", "acuses")
