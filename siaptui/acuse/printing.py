"""Hand a saved acuse to the system's print command, and say only what really happened.

Why no print library: every office PC already has a spooler.  Linux and macOS: `lp` (CUPS),
else `lpr`; Windows: the PDF viewer's "print" verb (`os.startfile(path, "print")`).  When none
exists, the caller shows the file's path instead.  A zero exit status means the spooler took
the job — the message says "sent to the printer", never "printed".
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from siaptui.acuse.record import AcuseError

COMMANDS = ("lp", "lpr")
TIMEOUT_S = 30.0


@dataclass(frozen=True)
class PrintJob:
    command: str
    """The command that took the job (`lp`, `lpr`, `windows`)."""
    answer: str
    """What the spooler said (lp's "request id is …"), possibly empty."""


def print_command() -> Optional[str]:
    """The print command found on this PC, or None (then only the file's path can be shown)."""
    if sys.platform == "win32":
        return "windows" if hasattr(os, "startfile") else None
    for name in COMMANDS:
        found = shutil.which(name)
        if found:
            return found
    return None


def send_to_printer(path: Path) -> PrintJob:
    """Queue `path` on the default printer; AcuseError when there is no command or it refused."""
    command = print_command()
    if command is None:
        raise AcuseError(str(path), code="acuse_no_printer")
    if command == "windows":
        try:
            os.startfile(str(path), "print")  # type: ignore[attr-defined]  # Windows only; typeshed hides it elsewhere
        except OSError as exc:
            raise AcuseError(exc.strerror or str(exc), code="acuse_print_failed",
                             command="startfile") from None
        return PrintJob("windows", "")
    name = Path(command).name
    try:
        done = subprocess.run([command, str(path)], capture_output=True, text=True, timeout=TIMEOUT_S, check=False,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise AcuseError(str(exc), code="acuse_print_failed", command=name) from None
    if done.returncode != 0:
        said = (done.stderr or done.stdout or "").strip().splitlines()
        raise AcuseError(said[-1] if said else f"exit {done.returncode}", code="acuse_print_failed",
                         command=name)
    return PrintJob(name, (done.stdout or "").strip())
