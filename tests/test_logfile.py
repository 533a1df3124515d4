"""The log file: rotating, in the log folder, warnings of every part, CURP and NSS masked."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

from siaptui import logfile
from tests.conftest import REPO

NSS, CURP = "92919084431", "KAHO641101HNTLKS06"


def _flush() -> None:
    for handler in logging.getLogger().handlers:
        handler.flush()


def test_the_mask_filter_hides_nss_and_curp_in_messages_arguments_and_tracebacks() -> None:
    record = logging.LogRecord("siaptui.portal.client", logging.WARNING, __file__, 1,
                               "portal said: %s no coincide con %s", (f"CURP {CURP}", f"NSS {NSS}"), None)
    try:
        raise ValueError(f"trabajador {NSS}/{CURP.lower()}")
    except ValueError:
        record.exc_info = sys.exc_info()
    assert logfile.MaskFilter().filter(record)
    text = logging.Formatter("%(message)s").format(record)
    assert NSS not in text and CURP not in text and CURP.lower() not in text
    assert "*********31" in text and "****************06" in text
    assert "ValueError" in text  # the traceback is still there, masked
    assert logfile.mask("folio IMSS-2026-000123456789 a las 12345") == "folio IMSS-2026-000123456789 a las 12345"


def test_setup_writes_warnings_of_every_part_masked_and_owner_only(isolated_dirs: Path) -> None:
    path = logfile.setup()
    try:
        assert path == isolated_dirs / "log" / "siaptui.log"
        logging.getLogger("siaptui.store.sender").warning("outbox item 3 not sent: worker %s", NSS)
        logging.getLogger("siaptui.devices.usbopen").error("reader gone")
        logging.getLogger("siaptui.portal.client").info("login ok")  # below the level: not written
        _flush()
        text = path.read_text(encoding="utf-8")
        assert "outbox item 3 not sent" in text and "reader gone" in text and "login ok" not in text
        assert NSS not in text and "*********31" in text
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert logfile.setup(debug=True) == path  # a second setup replaces the handler
        logging.getLogger("siaptui.portal.client").debug("GET /v1/info -> 200")
        _flush()
        text = path.read_text(encoding="utf-8")
        assert "GET /v1/info" in text and text.count("reader gone") == 1
        handlers = [h for h in logging.getLogger().handlers if isinstance(h, logging.handlers.RotatingFileHandler)]
        assert len(handlers) == 1 and handlers[0].maxBytes == logfile.LOG_MAX_BYTES
    finally:
        logfile.setup()  # back to WARNING for the rest of the session


def test_the_log_rotates(isolated_dirs: Path, monkeypatch) -> None:
    monkeypatch.setattr(logfile, "LOG_MAX_BYTES", 2000)
    path = logfile.setup()
    try:
        for n in range(200):
            logging.getLogger("siaptui.store.sender").warning("line %d of a long session", n)
        _flush()
        assert path.stat().st_size <= 2000 and Path(f"{path}.1").exists()
    finally:
        monkeypatch.setattr(logfile, "LOG_MAX_BYTES", 1024 * 1024)  # (not undo(): that drops SIAPTUI_LOG_DIR too)
        logfile.setup()


def test_doctor_names_the_log_file(isolated_dirs: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-m", "siaptui", "--debug", "doctor", "--device", "sim"],
                          capture_output=True, text=True, env=env, timeout=120)
    expected = str(isolated_dirs / "log" / "siaptui.log")
    assert expected in done.stdout, done.stdout + done.stderr
    assert "Bitácora" in done.stdout
