"""Writing files so that a crash or a full disk never leaves half a file behind."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterable, Sequence

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.9 and 3.10 read TOML with the tomli backport (same API)
    import tomli as tomllib

TOMLDecodeError = tomllib.TOMLDecodeError


def read_toml(text: str) -> dict[str, Any]:
    """Parse TOML text; the one place that knows which TOML reader this Python has."""
    return tomllib.loads(text)


def atomic_write(path: Path, payload: bytes, mode: int = 0o644) -> None:
    """Temp file in the same folder, fsync, rename over the target, fsync the folder.

    Every module that writes a user-visible file (config, captures, exports, demo e.firma)
    goes through here.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=str(path.parent))
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    try:
        dir_fd = os.open(str(path.parent), os.O_RDONLY)
    except OSError:  # pragma: no cover - Windows cannot open directories
        return
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    """A CSV file written atomically (never half-written), UTF-8 with a BOM so that the
    spreadsheet programs of Mexican offices read the accents right; returns the path.
    Raises SiaptuiError `export_csv_failed` (with the path) when it cannot be written."""
    import csv
    import io

    from siaptui.errors import SiaptuiError

    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    try:
        atomic_write(Path(path), text.getvalue().encode("utf-8-sig"), 0o600)
    except OSError as exc:
        raise SiaptuiError(str(exc), code="export_csv_failed", path=str(path)) from None
    return Path(path)


def export_path(folder: Path, stem: str, now: float) -> Path:
    """`<folder>/exportes/<stem>-AAAAMMDD-HHMMSS.csv`: a new file per export, never overwritten."""
    from datetime import datetime

    return Path(folder) / "exportes" / datetime.fromtimestamp(now).strftime(f"{stem}-%Y%m%d-%H%M%S.csv")
