"""The log file: every part's warnings and errors in one rotating file support can ask for.

Why a file: the TUI owns the terminal, so a warning printed to stderr would either scribble
over the screen or vanish; the background sender runs for a whole session and its failures
must be readable afterwards.  It lives in platformdirs' user log folder (SIAPTUI_LOG_DIR
overrides it), rotates at LOG_MAX_BYTES keeping LOG_BACKUPS old files (an old office PC has
a small disk), and is readable by its owner only.

What never reaches it: passwords, keys, tokens and templates are never passed to a logger by
our code; CURP and NSS may appear in a portal's or a library's message, so `MaskFilter`
masks them in every record (message, arguments and traceback) before any handler writes it.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
from pathlib import Path
from typing import Optional

APP_NAME = "siaptui"
LOG_FILE_NAME = "siaptui.log"
LOG_MAX_BYTES = 1024 * 1024
LOG_BACKUPS = 5
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# A CURP: 4 letters, birth date, sex, state, 3 consonants, homoclave, check digit.
_CURP = re.compile(r"\b[A-ZÑ][AEIOUXÑ][A-ZÑ]{2}\d{6}[HMX][A-Z]{2}[B-DF-HJ-NP-TV-ZÑ]{3}[0-9A-Z]\d\b", re.IGNORECASE)
# An NSS: exactly 11 digits not part of a longer number.
_NSS = re.compile(r"(?<!\d)\d{11}(?!\d)")


def mask(text: str) -> str:
    """CURP and NSS reduced to their last two characters ("*********31")."""
    text = _CURP.sub(lambda m: "*" * 16 + m.group(0)[-2:], text)
    return _NSS.sub(lambda m: "*" * 9 + m.group(0)[-2:], text)


class MaskFilter(logging.Filter):
    """Masks CURP and NSS in a record before it is written anywhere."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        return True


class _Handler(logging.handlers.RotatingFileHandler):
    """Ours, so a second `setup()` in the same process replaces it instead of doubling lines."""


def log_dir() -> Path:
    explicit = os.environ.get("SIAPTUI_LOG_DIR")
    if explicit:
        return Path(explicit).expanduser()
    from platformdirs import user_log_path

    return user_log_path(APP_NAME, appauthor=False)


def log_path() -> Path:
    """Where the log file is (or would be) written."""
    return log_dir() / LOG_FILE_NAME


def setup(debug: bool = False) -> Optional[Path]:
    """Send warnings and errors (everything of ours with `debug`) to the rotating log file.

    Returns the file, or None when it cannot be written (a read-only home): the program still
    runs, and `siaptui doctor` names the path so the reason can be found.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
        old.close()
    path = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handler = _Handler(path, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8")
        path.chmod(0o600)
    except OSError:
        return None
    handler.setLevel(logging.DEBUG if debug else logging.WARNING)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(MaskFilter())
    root.addHandler(handler)
    if root.level > logging.WARNING or root.level == logging.NOTSET:
        root.setLevel(logging.WARNING)
    logging.getLogger(APP_NAME).setLevel(logging.DEBUG if debug else logging.NOTSET)
    logging.captureWarnings(True)
    return path
