"""Each station of an office keeps its own name: PCs cloned from one disk image are caught.

Why: the audit log and the outbox claims name the station (`store.station`, else the host
name).  PCs cloned from one image share the host name, so two desks would write as one and
the audit log could not tell them apart.  So, on the office server:

- each station has an **identity**: a hash of a random id kept in its data folder
  (`siaptui-station.id`), the operating system's machine id and the network card's hardware
  address.  Clones of one image may share the first two, not the card, so they differ; the
  same PC keeps its identity from one start to the next;
- the table `stations` (migration v6) holds one row per name and identity, with the host
  name, the address the server saw and when it was first and last seen;
- while its store is open, a station holds a session advisory lock for its (name, identity)
  on a connection of its own, in shared mode, so the TUI and a `siaptui outbox send` cron
  run of one PC hold it together.  A station whose name another identity holds right now is
  refused with `store_station_name_taken`, naming the other computer and the fix; the lock
  ends with that computer's connection (quit, crash or power cut as the server sees it);
- `siaptui config check` lists the stations and warns of a name used by two computers even
  when they never ran at the same time (`rows`).

On SQLite (one PC) nothing is registered: the table stays empty.
"""

from __future__ import annotations

import hashlib
import secrets
import socket
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from siaptui.files import atomic_write
from siaptui.store.errors import StoreError

if TYPE_CHECKING:  # pragma: no cover
    from siaptui.store.connection import Database

STATION_ID_FILE_NAME = "siaptui-station.id"
_MACHINE_ID_FILES = (Path("/etc/machine-id"), Path("/var/lib/dbus/machine-id"))


@dataclass(frozen=True)
class StationRow:
    """One name used by one computer, as the server recorded it."""

    name: str
    machine: str
    host: str
    address: str
    first_seen: float
    last_seen: float
    live: bool
    """Its store is open on that computer right now (it holds its lock)."""


def _folder_id(folder: Path) -> str:
    """The random id of this data folder, created on first use (0600, like the key file)."""
    path = folder / STATION_ID_FILE_NAME
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        text = ""
    if len(text) != 32 or any(c not in "0123456789abcdef" for c in text):
        text = secrets.token_hex(16)
        try:
            atomic_write(path, (text + "\n").encode("ascii"), mode=0o600)
        except OSError as exc:
            raise StoreError(exc.strerror or str(exc), code="store_open_failed", file=str(path)) from None
    return text


def _os_machine_id() -> str:
    """/etc/machine-id on Linux, MachineGuid on Windows; "" where there is none."""
    for candidate in _MACHINE_ID_FILES:
        try:
            return candidate.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            continue
    if sys.platform == "win32":  # pragma: no cover - Windows only
        try:
            import winreg

            with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, r"SOFTWARE\Microsoft\Cryptography") as handle:
                return str(winreg.QueryValueEx(handle, "MachineGuid")[0])
        except OSError:
            return ""
    return ""


def _hardware_address() -> str:
    """The network card's address; "" when uuid only made up a random one (multicast bit set),
    since a random one would change at every start."""
    node = uuid.getnode()
    return "" if node & (1 << 40) else f"{node:012x}"


def identity(folder: Path) -> str:
    """This station's identity: this data folder on this computer (see the module doc)."""
    parts = (_folder_id(folder), _os_machine_id(), _hardware_address())
    return hashlib.sha256(b"siaptui/station/v1\0" + "\0".join(parts).encode()).hexdigest()[:16]


def _lock_key(name: str, machine: str) -> int:
    digest = hashlib.sha256(f"siaptui/station-lock\0{name}\0{machine}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _is_live(conn: Any, name: str, machine: str) -> bool:
    """True when another session holds that station's lock (taking it exclusively fails)."""
    key = _lock_key(name, machine)
    if conn.execute("SELECT pg_try_advisory_lock(?)", (key,)).fetchone()[0]:
        conn.execute("SELECT pg_advisory_unlock(?)", (key,))
        return False
    return True


def register(store: "Database") -> Any:
    """Record this station on the office server and hold its name; refuse a name another
    computer holds now.  Returns the connection that holds the lock (closed with the store)."""
    from siaptui.store import postgres

    assert store.url is not None and store.key_dir is not None
    machine = identity(store.key_dir)
    conn = postgres.connect(store.url)
    try:
        conn.execute("BEGIN")
        store.dialect.lock(conn, "stations")  # two clones starting together: one sees the other
        others = conn.execute("SELECT machine, host, address, last_seen FROM stations WHERE name = ? AND machine <> ?",
                              (store.station, machine)).fetchall()
        for other_machine, host, address, last_seen in others:
            if _is_live(conn, store.station, other_machine):
                raise StoreError(store.station, code="store_station_name_taken", file=store.location,
                                 station=store.station, host=host, address=address or "-",
                                 seen=when(last_seen))
        now = store.clock()
        conn.execute(
            "INSERT INTO stations (name, machine, host, address, first_seen, last_seen) "
            "VALUES (?, ?, ?, host(inet_client_addr()), ?, ?) ON CONFLICT (name, machine) DO UPDATE SET "
            "host = excluded.host, address = excluded.address, last_seen = excluded.last_seen",
            (store.station, machine, socket.gethostname(), now, now))
        conn.execute("SELECT pg_advisory_lock_shared(?)", (_lock_key(store.station, machine),))
        conn.execute("COMMIT")
    except BaseException:
        conn.close()  # ends the transaction and any lock taken in it
        raise
    return conn


def rows(conn: Any) -> list[StationRow]:
    """Every (name, computer) the server has seen, by name then most recent first."""
    found = conn.execute("SELECT name, machine, host, address, first_seen, last_seen FROM stations "
                         "ORDER BY name, last_seen DESC").fetchall()
    return [StationRow(str(name), str(machine), str(host), str(address or ""), float(first), float(last),
                       _is_live(conn, str(name), str(machine)))
            for name, machine, host, address, first, last in found]


def when(timestamp: Optional[float]) -> str:
    """A local date and time for messages (the server stores seconds since the epoch)."""
    import time

    if timestamp is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(float(timestamp)))
